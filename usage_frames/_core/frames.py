"""Pure: parsed response pages to the tidy frame of the public contract.

The frame has one row per (bucket x result), a UTC ``DatetimeIndex`` named ``start_time``, an ``end_time``
column, one column per requested group key (table order) and every value field of the endpoint (table order).
The schema comes from the endpoint table, never from the data: an empty answer, or an answer from an older API
version that lacks some fields, has the same columns and dtypes, with ``<NA>`` where a field was absent.

Columns are built from the decoded pages (:mod:`usage_frames._core.pages`) in C where the values are clean
(:func:`to_frame`); pages that did not fit the strict types are read the careful way, and an impossible value
raises naming its field.

Examples:
    >>> from usage_frames._core.query import build_query
    >>> from usage_frames.providers import DEFAULT
    >>> q = build_query(DEFAULT.endpoint("embeddings"), "2024-11-01", "2024-11-02",
    ...                 now=pd.Timestamp("2026-01-01", tz="UTC"))
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

import itertools
import math
import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec
import numpy as np
import pandas as pd

from usage_frames._core.pages import ABSENT, INT64_MAX, INT64_MIN, Page, as_page, impossible, page_types
from usage_frames._core.query import Query
from usage_frames._core.usage_frame import UsageFrame


def empty_frame(query: Query) -> pd.DataFrame:
    """The frame of a query that found nothing: the full schema, no rows.

    Examples:
        >>> from usage_frames._core.query import build_query
        >>> from usage_frames.providers import DEFAULT
        >>> q = build_query(DEFAULT.endpoint("costs"), "2026-10-01", "2026-10-02", group_by="line_item",
        ...                 now=pd.Timestamp("2026-11-01", tz="UTC"))
        >>> frame = empty_frame(q)
        >>> len(frame), list(frame.columns)
        (0, ['end_time', 'line_item', 'amount', 'currency', 'quantity', 'quantity_unit'])
    """
    return to_frame([], query)


def _number(value: Any, dtype: str, name: str, scale: int = 1) -> int | float:
    """One JSON value as an exact int (``Int64`` fields) or a finite float (``Float64``), else an error.

    Strings are read as decimals (``"12.50"``, ``"0E-6176"``, 39 decimals: all seen live) in ASCII digits only
    (Python would read ``"1_000"`` and Arabic-Indic digits too: guesses, not numbers an API sends); booleans, lists,
    ``"NaN"``, infinities, negative counts and counts outside int64 are impossible values and raise. With a
    ``scale`` (an amount in cents shown in dollars), the decimal is divided before it becomes a float: ``"123.45"``
    is 1.2345 exactly as a float can hold it, never 123.45 and never 1.2344999.

    Examples:
        >>> _number("123.45", "Float64", "amount", scale=100), _number(0.07, "Float64", "amount", scale=100)
        (1.2345, 0.0007)
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise impossible(name, value, "not a number")
    number: int | float | Decimal
    if isinstance(value, str) and (not value.isascii() or "_" in value):
        raise impossible(name, value, "not a number")
    try:
        number = Decimal(value.strip()) if isinstance(value, str) else value
    except InvalidOperation:
        raise impossible(name, value, "not a number") from None
    if (isinstance(number, float) and not math.isfinite(number)) or (
        isinstance(number, Decimal) and not number.is_finite()
    ):
        raise impossible(name, value, "not a finite number")
    if dtype == "Int64":
        if not INT64_MIN <= number <= INT64_MAX:  # before int(): "1e999999999" would take all memory
            raise impossible(name, value, "a count outside the int64 range")
        if number < 0:
            raise impossible(name, value, "a negative count")
        if number != int(number):
            raise impossible(name, value, "a fraction where the API sends a count")
        return int(number)
    if scale != 1:
        number = (Decimal(repr(number)) if isinstance(number, float) else Decimal(number)) / scale
    try:
        as_float = float(number)
    except OverflowError:
        as_float = math.inf
    if not math.isfinite(as_float):
        raise impossible(name, value, "beyond the range of a float")
    return as_float


def _numbers(values: Sequence[Any], dtype: str, name: str, scale: int = 1) -> Any:
    """A nullable numeric array from JSON values (``None`` where absent), the careful way.

    Integers are kept exact (no detour through floats); string amounts are read as decimals. Anything that is
    not a finite number in range raises :class:`UnexpectedResponseError` naming the field and the value: never
    a silent ``<NA>``, infinity or wrapped count.
    """
    mask = np.fromiter((v is None for v in values), dtype=bool, count=len(values))
    clean = [0 if v is None else _number(v, dtype, name, scale) for v in values]
    if dtype == "Int64":
        return _integers(np.array(clean, dtype=np.int64), mask)
    return pd.arrays.FloatingArray(np.array(clean, dtype=np.float64), mask)


def _integers(data: np.ndarray, mask: np.ndarray | None = None) -> Any:
    """A nullable ``Int64`` array (no mask: nothing absent)."""
    mask = np.zeros(len(data), dtype=bool) if mask is None else mask
    return pd.arrays.IntegerArray(data.astype(np.int64, copy=False), mask)


def _labels(values: list[Any], name: str, dtype: str) -> list[Any]:
    """Group-key or text values of a leniently decoded page: ``str`` (``bool`` for ``batch``) or ``None``."""
    kind = bool if dtype == "boolean" else str
    for v in values:
        if v is not None and type(v) is not kind:
            raise impossible(name, v, f"not a {kind.__name__} or null")
    return values


def _integer_block(results: list[Any], names: list[str]) -> dict[str, Any] | None:
    """All integer fields of clean results at once: one C call per result, one conversion for the block.

    Absent counts hold :data:`ABSENT` (the strict structs' default), an explicit ``null`` is read as absent too
    (a second pass, in Python); both become ``<NA>``. Returns ``None`` if a value is not an int at all.
    """
    if not names or not results:
        return None

    def values() -> Iterable[Any]:
        rows = (
            map(operator.attrgetter(*names), results)
            if len(names) > 1
            else ((v,) for v in map(operator.attrgetter(names[0]), results))
        )
        return itertools.chain.from_iterable(rows)

    size = len(results) * len(names)
    try:  # one pass in C over every value, no intermediate list of tuples
        flat = np.fromiter(values(), np.int64, size)
    except TypeError:  # an explicit null
        try:
            flat = np.fromiter((ABSENT if v is None else v for v in values()), np.int64, size)
        except (TypeError, ValueError, OverflowError):
            return None
    except (ValueError, OverflowError):
        return None
    columns = np.ascontiguousarray(flat.reshape(len(results), len(names)).T)
    masks = columns == ABSENT
    return {name: _integers(columns[i], masks[i]) for i, name in enumerate(names)}


@dataclass(frozen=True, slots=True)
class Labels:
    """The values of one categorical key in a window: ``codes`` into ``labels`` (first-seen order), ``-1`` absent.

    Windows keep these plain arrays; :func:`assemble` makes one categorical of all windows, so that a year's 53
    windows do not each pay for a pandas ``Categorical`` (and its dtype validation).
    """

    codes: np.ndarray
    labels: list[Any]

    @classmethod
    def of(cls, values: Sequence[Any]) -> Labels:
        """The codes of hashable labels (``None`` is absent): one dictionary lookup per value."""
        codes_of = _Codes({None: -1})
        codes = np.fromiter(map(codes_of.__getitem__, values), np.int64, len(values))
        return cls(codes, list(codes_of)[1:])


def _categorical(parts: Sequence[Labels]) -> Any:
    """One categorical of consecutive parts, its categories sorted (the union of theirs).

    Examples:
        >>> _categorical([Labels.of(["b", None]), Labels.of(["a", "b"])]).tolist()
        ['b', nan, 'a', 'b']
    """
    labels = sorted(set().union(*(part.labels for part in parts)))
    position = {label: i for i, label in enumerate(labels)}
    codes = [np.array([*map(position.__getitem__, p.labels), -1], dtype=np.int64)[p.codes] for p in parts]
    categories = pd.Index(labels) if labels else pd.Categorical([]).categories
    joined = np.concatenate(codes) if codes else np.empty(0, dtype=np.int64)
    return pd.Categorical.from_codes(joined, dtype=pd.CategoricalDtype(categories))


class _Codes(dict[Any, int]):
    """Label -> code, a new code for each new label."""

    def __missing__(self, key: Any) -> int:
        code = self[key] = len(self) - 1
        return code


def _value_column(
    results: list[Any], name: str, dtype: str, fast: bool, scale: int = 1, strict: Sequence[bool] = ()
) -> Any:
    """One value column; from strictly typed structs it converts in C (``np.fromiter``) when nothing is absent.

    From strict structs an absent count is :data:`ABSENT` (a value strict decoding refuses), so it reads as ``<NA>``:
    every result when ``fast``, else those that ``strict`` marks (a window whose other pages were read leniently).
    A scaled amount (cents) always goes the careful, exact way.
    """
    getter = operator.attrgetter(name)
    if fast and dtype in ("Int64", "Float64") and scale == 1:
        try:
            data: Any = np.fromiter(map(getter, results), np.int64 if dtype == "Int64" else np.float64, len(results))
        except (TypeError, ValueError, OverflowError):  # a None, a string amount, a huge count: the careful way
            pass
        else:
            if dtype == "Int64":
                return _integers(data, data == ABSENT)
            if np.isfinite(data).all():  # NumPy reads None as NaN: anything not finite goes the careful way
                return pd.arrays.FloatingArray(data, np.zeros(len(data), dtype=bool))
    values = list(map(getter, results))
    if dtype in ("Int64", "Float64"):
        if fast and dtype == "Int64":
            values = [None if v == ABSENT else v for v in values]
        elif dtype == "Int64":
            values = [None if s and v == ABSENT else v for v, s in zip(values, strict, strict=True)]
        return _numbers(values, dtype, name, scale)
    return pd.array(values if fast else _labels(values, name, "string"), dtype=dtype)  # type: ignore[call-overload]


def _nested(results: list[Any], path: tuple[str, ...]) -> list[Any]:
    out = []
    for value in map(operator.attrgetter(path[0]), results):
        for depth, key in enumerate(path[1:], 1):
            if isinstance(value, dict):
                value = value.get(key)
            elif isinstance(value, msgspec.Struct):
                value = getattr(value, key, None)
            elif value is not None:
                raise impossible(".".join(path[:depth]), value, "not an object")
        out.append(value)
    return out


Columns = dict[str, Any]
"""The columns of a part of a frame by name, see :func:`columns_of`: pandas arrays of values, :class:`Labels` of
categorical keys, and NumPy Unix seconds of ``start_time`` and ``end_time``; :func:`assemble` makes the frame."""


def columns_of(pages: Iterable[Page], query: Query) -> Columns:
    """The columns of the pages of one window (or any run of pages), to be joined by :func:`assemble`.

    The client builds them in the worker that fetched the window, so that the window's decoded structs are freed
    there and only the (much smaller) columns wait for the others.

    Examples:
        >>> from usage_frames._core.query import build_query
        >>> from usage_frames.providers import DEFAULT
        >>> q = build_query(DEFAULT.endpoint("moderations"), "2024-11-01", "2024-11-02",
        ...                 now=pd.Timestamp("2026-01-01", tz="UTC"))
        >>> sorted(columns_of([], q))
        ['end_time', 'input_tokens', 'num_model_requests', 'start_time']
    """
    endpoint = query.endpoint
    strict_type = page_types(endpoint)[0]
    results: list[Any] = []
    starts: list[int] = []
    ends: list[int] = []
    counts: list[int] = []
    fast = True
    strict_buckets: list[bool] = []  # per bucket: from a strict page, where an absent count holds ABSENT
    for raw in pages:
        page = as_page(raw, endpoint)
        is_strict = type(page) is strict_type
        fast = fast and is_strict
        for bucket in page.data:
            found = bucket.results
            results += found
            strict_buckets.append(is_strict)
            starts.append(bucket.start_time)
            ends.append(bucket.end_time)
            counts.append(len(found))
    repeat = np.asarray(counts, dtype=np.int64)
    # Per result, only where pages of both kinds meet (the fast path never reads it).
    strict = () if fast else np.repeat(np.asarray(strict_buckets, dtype=bool), repeat).tolist()
    columns: Columns = {
        "start_time": np.repeat(np.asarray(starts, dtype=np.int64), repeat),
        "end_time": np.repeat(np.asarray(ends, dtype=np.int64), repeat),
    }
    for key in endpoint.key_columns(query.group_by):
        dtype = endpoint.key_dtype(key)
        values = list(map(operator.attrgetter(key), results))
        values = values if fast else _labels(values, key, dtype)
        columns[key] = Labels.of(values) if dtype == "category" else pd.array(values, dtype=dtype)  # type: ignore[call-overload]
    flat_ints = [f.name for f in endpoint.fields if f.dtype == "Int64" and len(f.json_path) == 1 and f.scale == 1]
    block = _integer_block(results, flat_ints) if fast else None
    for f in endpoint.fields:
        if block is not None and f.name in block:
            columns[f.name] = block[f.name]
        elif len(f.json_path) == 1:
            columns[f.name] = _value_column(results, f.name, f.dtype, fast, f.scale, strict)
        elif f.dtype in ("Int64", "Float64"):
            columns[f.name] = _numbers(_nested(results, f.json_path), f.dtype, ".".join(f.json_path), f.scale)
        else:
            values = _labels(_nested(results, f.json_path), ".".join(f.json_path), f.dtype)
            columns[f.name] = pd.array(values, dtype=f.dtype)  # type: ignore[call-overload]
    return columns


def _times(seconds: np.ndarray) -> Any:
    """UTC times from Unix seconds (the resolution pandas gives them: ``us`` from pandas 3)."""
    return pd.to_datetime(seconds, unit="s", utc=True).array


def assemble(parts: Sequence[Columns], query: Query) -> pd.DataFrame:
    """The tidy frame of the public contract from the columns of consecutive windows (:func:`columns_of`).

    Categorical keys are joined over the union of their categories (sorted, as one window's would be).

    Examples:
        >>> from usage_frames._core.query import build_query
        >>> from usage_frames.providers import DEFAULT
        >>> q = build_query(DEFAULT.endpoint("moderations"), "2024-11-01", "2024-11-02", group_by="model",
        ...                 now=pd.Timestamp("2026-01-01", tz="UTC"))
        >>> def page(model):
        ...     return {"object": "page", "has_more": False, "next_page": None, "data": [
        ...         {"object": "bucket", "start_time": 1730419200, "end_time": 1730505600, "results": [
        ...             {"object": "organization.usage.moderations.result", "input_tokens": 3, "model": model}]}]}
        >>> frame = assemble([columns_of([page(m)], q) for m in ("b", "a")], q)
        >>> frame["model"].tolist(), frame["model"].cat.categories.tolist()
        (['b', 'a'], ['a', 'b'])
    """
    if not parts:
        parts = [columns_of([], query)]
    joined: dict[str, Any] = {}
    for name, first in parts[0].items():
        arrays = [part[name] for part in parts]
        if isinstance(first, Labels):
            joined[name] = _categorical(arrays)
        elif isinstance(first, np.ndarray):  # bucket times, in Unix seconds
            joined[name] = _times(np.concatenate(arrays))
        else:
            joined[name] = arrays[0] if len(arrays) == 1 else type(first)._concat_same_type(arrays)
    index = pd.DatetimeIndex(joined.pop("start_time"), name="start_time")
    frame = UsageFrame(joined, index=index, copy=False)  # df.plot() leaves end_time out (usage_frame.py)
    frame.attrs.update(query.attrs())
    return frame


def to_frame(pages: Iterable[Page], query: Query) -> pd.DataFrame:
    """Build the tidy frame of the public contract from response pages.

    Args:
        pages: Decoded pages in order (structs from :func:`decode_page`, or dicts), already checked with
            :func:`usage_frames.paging.check_page` by the client.
        query: The query that produced them; gives the schema and ``attrs``.

    Returns:
        One row per (bucket x result), indexed by UTC ``start_time``; ``attrs`` holds the query.
    """
    return assemble([columns_of(pages, query)], query)
