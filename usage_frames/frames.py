"""Pure: parsed response pages to the tidy frame of the public contract.

The frame has one row per (bucket x result), a UTC ``DatetimeIndex`` named ``start_time``, an ``end_time``
column, one column per requested group key (table order) and every value field of the endpoint (table order).
The schema comes from the endpoint table, never from the data: an empty answer, or an answer from an older API
version that lacks some fields, has the same columns and dtypes, with ``<NA>`` where a field was absent.

Pages are decoded from the response bytes straight into per-endpoint msgspec structs (no dicts, no key strings)
and columns are built from them in C where the values are clean (:func:`decode_page`, :func:`to_frame`). Pages
that do not fit the strict types (a float where the spec says integer) are decoded leniently and coerced.

Examples:
    >>> from usage_frames.params import build_query
    >>> q = build_query("embeddings", "2024-11-01", "2024-11-02", now=pd.Timestamp("2026-01-01", tz="UTC"))
    >>> page = {"object": "page", "has_more": False, "next_page": None, "data": [
    ...     {"object": "bucket", "start_time": 1730419200, "end_time": 1730505600, "results": [
    ...         {"object": "organization.usage.embeddings.result", "input_tokens": 16,
    ...          "num_model_requests": 2, "project_id": None}]}]}
    >>> to_frame([page], q)[["input_tokens", "num_model_requests"]]
                               input_tokens  num_model_requests
    start_time
    2024-11-01 00:00:00+00:00            16                   2
"""

from __future__ import annotations

import functools
import itertools
import operator
import warnings
from collections.abc import Iterable, Sequence
from typing import Any, Literal

import msgspec
import numpy as np
import pandas as pd

from usage_frames.endpoints import ENDPOINTS, KEY_DTYPES, RESULT_OBJECTS, Endpoint, EndpointName
from usage_frames.errors import UnexpectedResponseError, UsageFramesWarning
from usage_frames.params import Query

Page = Any
"""A decoded page: a msgspec struct with ``data``, ``has_more`` and ``next_page`` (see :func:`page_types`)."""


@functools.cache
def page_types(name: EndpointName) -> tuple[type[msgspec.Struct], type[msgspec.Struct]]:
    """The strict and the lenient page struct of an endpoint, made from the table.

    Strict: the spec's types (integers as ``int | None``, ``amount.value`` as number or string), so clean pages
    decode fast and their columns convert in C. Lenient: the same shapes with ``Any`` values, for anything else;
    :func:`check_page` and the careful column path deal with what they hold. Unknown fields are ignored;
    absent fields are ``None``.
    """
    endpoint = ENDPOINTS[name]
    kinds: dict[str, Any] = {"Int64": int, "Float64": float | str, "string": str}
    types = []
    for strict in (True, False):

        def typed(t: Any, strict: bool = strict) -> Any:
            return (t | None) if strict else Any

        amount = msgspec.defstruct("Amount", [("value", typed(float | str), None), ("currency", typed(str), None)])
        # Strict pages can only hold this endpoint's results: msgspec checks the object string in C.
        fields: list[tuple[str, Any, Any]] = [("object", typed(Literal[endpoint.result_object]), None)]
        fields += [(k, typed(bool if KEY_DTYPES.get(k) == "boolean" else str), None) for k in endpoint.group_by]
        for f in endpoint.fields:
            top = f.json_path[0]
            if len(f.json_path) == 1:
                fields.append((f.name, typed(kinds[f.dtype]), None))
            elif top not in {n for n, _, _ in fields}:
                fields.append((top, typed(amount), None))
        result: Any = msgspec.defstruct(f"{name}_result", fields, gc=False)
        bucket: Any = msgspec.defstruct(
            f"{name}_bucket",
            [
                ("results", list[result]),
                ("start_time", typed(int), None),
                ("end_time", typed(int), None),
                ("object", typed(str), None),
            ],
            gc=False,
        )
        page = msgspec.defstruct(
            f"{name}_page",
            [
                ("data", list[bucket]),
                ("has_more", typed(bool), None),
                ("next_page", typed(str), None),
                ("object", typed(str), None),
            ],
        )
        types.append(page)
    return types[0], types[1]


@functools.cache
def _decoders(name: EndpointName) -> tuple[msgspec.json.Decoder[Any], msgspec.json.Decoder[Any]]:
    strict, lenient = page_types(name)
    return msgspec.json.Decoder(strict), msgspec.json.Decoder(lenient)


def decode_page(content: bytes, endpoint: Endpoint) -> Page:
    """Decode a response body into the endpoint's page struct.

    Raises:
        msgspec.DecodeError: If the body is not JSON at all (the client retries that).
        UnexpectedResponseError: If it is JSON but not a page (no ``data`` list, no ``has_more``).

    Examples:
        >>> page = decode_page(b'{"object": "page", "data": [], "has_more": false, "next_page": null}',
        ...                    ENDPOINTS["costs"])
        >>> page.has_more, page.data
        (False, [])
    """
    strict, lenient = _decoders(endpoint.name)
    try:
        return strict.decode(content)
    except msgspec.ValidationError:
        pass
    try:
        return lenient.decode(content)
    except msgspec.ValidationError as exc:
        raise UnexpectedResponseError(f"the answer is not a page: {exc}") from None


def as_page(obj: Any, endpoint: Endpoint) -> Page:
    """A page struct from an already decoded page (a dict from the spec's examples or a test)."""
    if isinstance(obj, msgspec.Struct):
        return obj
    if not isinstance(obj, dict) or not isinstance(obj.get("data"), list):
        raise UnexpectedResponseError("the answer is not a page: no 'data' list")
    return decode_page(msgspec.json.encode(obj), endpoint)


def check_page(page: Page, endpoint: Endpoint, after: int | None = None) -> int | None:
    """Check that a decoded page is a usable page of this endpoint, before anything is kept.

    Args:
        page: The decoded page (struct, or a dict as in the spec's examples).
        endpoint: The endpoint that was asked.
        after: The ``end_time`` of the last bucket of the previous page, if any.

    Returns:
        The ``end_time`` of this page's last bucket (``after`` when the page has none), for the next call.

    Raises:
        UnexpectedResponseError: If buckets lack times, are out of order or overlap, or the results belong to
            another endpoint. The message names the problem; the client adds the request id.

    Examples:
        >>> check_page({"object": "page", "data": [], "has_more": False, "next_page": None}, ENDPOINTS["costs"])
        >>> check_page({"error": "nope"}, ENDPOINTS["costs"])
        Traceback (most recent call last):
        ...
        usage_frames.errors.UnexpectedResponseError: the answer is not a page: no 'data' list
    """
    page = as_page(page, endpoint)
    if not isinstance(page.has_more, bool):
        raise UnexpectedResponseError("the answer is not a page: 'has_more' is not a boolean")
    strict = type(page) is page_types(endpoint.name)[0]
    for bucket in page.data:
        start, end, results = bucket.start_time, bucket.end_time, bucket.results
        if type(start) is not int or type(end) is not int:
            raise UnexpectedResponseError(f"a bucket lacks integer start_time/end_time: {msgspec.to_builtins(bucket)}")
        if end <= start:
            raise UnexpectedResponseError(f"a bucket ends before it starts: {start}..{end}")
        if after is not None and start < after:
            raise UnexpectedResponseError(
                f"buckets are out of order or overlap: one starts at {start}, before the previous end {after}"
            )
        after = end
        if strict:
            continue  # the strict decoder already refused results of another endpoint
        objects = {getattr(r, "object", None) for r in results} if results else set()
        # Unknown result types (a newer API) are read leniently; another endpoint's results are not ours.
        for obj in objects - {endpoint.result_object}:
            if isinstance(obj, str) and obj in RESULT_OBJECTS:
                raise UnexpectedResponseError(
                    f"the answer holds {RESULT_OBJECTS[obj]} results, not {endpoint.name}: "
                    "is the base URL or a proxy routing to the wrong path?"
                )
    return after


def empty_frame(query: Query) -> pd.DataFrame:
    """The frame of a query that found nothing: the full schema, no rows.

    Examples:
        >>> from usage_frames.params import build_query
        >>> q = build_query("costs", "2026-10-01", "2026-10-02", group_by="line_item",
        ...                 now=pd.Timestamp("2026-11-01", tz="UTC"))
        >>> frame = empty_frame(q)
        >>> len(frame), list(frame.columns)
        (0, ['end_time', 'line_item', 'amount', 'currency', 'quantity', 'quantity_unit'])
    """
    return to_frame([], query)


def _numbers(values: Sequence[Any], dtype: str, name: str) -> Any:
    """A nullable numeric array from JSON values (``None`` where absent), the careful way.

    Integers are kept exact (no detour through floats). Strings such as ``"12.50"`` for ``amount.value`` (seen
    live) are coerced; what cannot be read becomes ``<NA>`` with a warning, never a silent zero.
    """
    mask = np.fromiter((v is None for v in values), dtype=bool, count=len(values))
    present = [v for v in values if v is not None]
    if dtype == "Int64" and all(type(v) is int for v in present):
        return _integers(np.array([0 if v is None else v for v in values], dtype=np.int64), mask)
    if dtype == "Float64" and all(type(v) in (int, float) for v in present):
        return pd.arrays.FloatingArray(np.array([0.0 if v is None else v for v in values], dtype=np.float64), mask)
    numbers = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce")
    missing = numbers.isna().to_numpy()
    bad = int(missing.sum() - mask.sum())
    if bad:
        warnings.warn(
            f"{bad} value(s) of {name!r} are not numbers and were read as <NA>", UsageFramesWarning, stacklevel=3
        )
    data = numbers.to_numpy(dtype=np.float64, na_value=0.0)
    if dtype == "Int64" and (data % 1 == 0).all():
        return _integers(data.astype(np.int64), missing)
    if dtype == "Int64":
        warnings.warn(f"{name!r} has fractional values; kept as floats", UsageFramesWarning, stacklevel=3)
    return pd.arrays.FloatingArray(data, missing)


# Counts below 2**30 are stored as Int32: any two of them still add up without overflow, and pandas sums,
# groupby and resample accumulate in Int64 anyway. Larger counts stay Int64.
NARROW_LIMIT = 2**30


def _integers(data: np.ndarray, mask: np.ndarray | None = None) -> Any:
    """A nullable integer array in the narrowest safe dtype (Int32 below :data:`NARROW_LIMIT`, else Int64)."""
    mask = np.zeros(len(data), dtype=bool) if mask is None else mask
    values = data[~mask] if mask.any() else data
    if values.size == 0 or (values.max() < NARROW_LIMIT and values.min() > -NARROW_LIMIT):
        return pd.arrays.IntegerArray(data.astype(np.int32), mask)
    return pd.arrays.IntegerArray(data.astype(np.int64, copy=False), mask)


def _integer_block(results: list[Any], names: list[str]) -> dict[str, Any] | None:
    """All integer fields of clean results at once: one C call per result, one conversion for the block.

    Returns ``None`` when a value is absent (``None``), so that the caller goes column by column.
    """
    if not names or not results:
        return None
    rows = (
        map(operator.attrgetter(*names), results)
        if len(names) > 1
        else ((v,) for v in map(operator.attrgetter(names[0]), results))
    )
    try:  # one pass in C over every value, no intermediate list of tuples
        flat = np.fromiter(itertools.chain.from_iterable(rows), np.int64, len(results) * len(names))
    except (TypeError, ValueError, OverflowError):
        return None
    block = flat.reshape(len(results), len(names))
    columns = np.ascontiguousarray(block.T)
    return {name: _integers(columns[i]) for i, name in enumerate(names)}


def _value_column(results: list[Any], name: str, dtype: str, fast: bool) -> Any:
    """One value column; from strictly typed structs it converts in C (``np.fromiter``) when nothing is absent."""
    getter = operator.attrgetter(name)
    if fast and dtype in ("Int64", "Float64"):
        try:
            data: Any = np.fromiter(map(getter, results), np.int64 if dtype == "Int64" else np.float64, len(results))
        except (TypeError, ValueError, OverflowError):  # a None, a string amount, a huge count: the careful way
            pass
        else:
            if dtype == "Int64":
                return _integers(data)
            # NumPy reads None as NaN; JSON has no NaN, so NaN here means absent.
            return pd.arrays.FloatingArray(data, np.isnan(data))
    values = list(map(getter, results))
    if dtype in ("Int64", "Float64"):
        return _numbers(values, dtype, name)
    return pd.array(values, dtype=dtype)  # type: ignore[call-overload]


def _nested(results: list[Any], path: tuple[str, ...]) -> list[Any]:
    out = []
    for value in map(operator.attrgetter(path[0]), results):
        for key in path[1:]:
            value = value.get(key) if isinstance(value, dict) else getattr(value, key, None)
        out.append(value)
    return out


def to_frame(pages: Iterable[Page], query: Query) -> pd.DataFrame:
    """Build the tidy frame of the public contract from response pages.

    Args:
        pages: Decoded pages in order (structs from :func:`decode_page`, or dicts), already checked with
            :func:`check_page` by the client.
        query: The query that produced them; gives the schema and ``attrs``.

    Returns:
        One row per (bucket x result), indexed by UTC ``start_time``; ``attrs`` holds the query.
    """
    endpoint = query.endpoint
    strict_type = page_types(endpoint.name)[0]
    results: list[Any] = []
    starts: list[int] = []
    ends: list[int] = []
    counts: list[int] = []
    fast = True
    for raw in pages:
        page = as_page(raw, endpoint)
        fast = fast and type(page) is strict_type
        for bucket in page.data:
            found = bucket.results
            results += found
            starts.append(bucket.start_time)
            ends.append(bucket.end_time)
            counts.append(len(found))
    repeat = np.asarray(counts, dtype=np.int64)
    index = pd.DatetimeIndex(
        pd.to_datetime(np.repeat(np.asarray(starts, dtype=np.int64), repeat), unit="s", utc=True), name="start_time"
    )
    columns: dict[str, Any] = {
        "end_time": pd.to_datetime(np.repeat(np.asarray(ends, dtype=np.int64), repeat), unit="s", utc=True)
    }
    for key in query.group_by:
        values = list(map(operator.attrgetter(key), results))
        dtype = KEY_DTYPES.get(key, "category")
        columns[key] = pd.Categorical(values) if dtype == "category" else pd.array(values, dtype=dtype)  # type: ignore[call-overload]
    flat_ints = [f.name for f in endpoint.fields if f.dtype == "Int64" and len(f.json_path) == 1]
    block = _integer_block(results, flat_ints) if fast else None
    for f in endpoint.fields:
        if block is not None and f.name in block:
            columns[f.name] = block[f.name]
        elif len(f.json_path) == 1:
            columns[f.name] = _value_column(results, f.name, f.dtype, fast)
        elif f.dtype in ("Int64", "Float64"):
            columns[f.name] = _numbers(_nested(results, f.json_path), f.dtype, f.name)
        else:
            columns[f.name] = pd.array(_nested(results, f.json_path), dtype=f.dtype)  # type: ignore[call-overload]
    frame = pd.DataFrame(columns, index=index, copy=False)
    frame.attrs.update(query.attrs())
    return frame
