"""Pure: response bytes to typed pages, as each provider spells them.

Pages are decoded from the response bytes straight into per-endpoint msgspec structs (no dicts, no key strings),
made from the endpoint's row and its provider's wire format (:func:`page_types`): bucket times read as Unix seconds
whatever the wire sends (integers or RFC 3339), results typed by the row's fields. Pages that do not fit the strict
types (a float where the API says integer) are decoded leniently; :mod:`usage_frames._core.paging` checks them and
:mod:`usage_frames._core.frames` turns them into columns.

Examples:
    >>> from usage_frames.providers import DEFAULT
    >>> page = decode_page(b'{"data": [{"start_time": 0, "end_time": 60, "results": []}], "has_more": false}',
    ...                    DEFAULT.endpoint("costs"))
    >>> page.data[0].end_time, page.has_more
    (60, False)
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
import re
import threading
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Literal

import msgspec
import pandas as pd

from usage_frames._core.errors import UnexpectedResponseError
from usage_frames._core.schema import BUCKET_SECONDS, Endpoint, unix

if TYPE_CHECKING:
    from usage_frames._core.query import Query

Page = Any
"""A decoded page: a msgspec struct with ``data``, ``has_more`` and ``next_page`` (see :func:`page_types`)."""

# Counts are Int64, never narrower: users multiply them (tokens x 1000 overflows Int32 long before a bill does).
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
ABSENT = INT64_MIN
"""What an absent count decodes to in a strict struct; strict decoding refuses the value itself in an answer."""


# Page types by (provider, endpoint): rows hold mappings, so they are not hashable for functools.cache.
_TYPES: dict[tuple[str, str], tuple[Any, Any, msgspec.json.Decoder[Any], msgspec.json.Decoder[Any]]] = {}
_TYPES_LOCK = threading.Lock()


def page_types(endpoint: Endpoint) -> tuple[type[msgspec.Struct], type[msgspec.Struct]]:
    """The strict and the lenient page struct of an endpoint, made from its row and its provider's wire format.

    Strict: the API's types (integers as ``int | None``, amounts as number or string), so clean pages decode fast
    and their columns convert in C. Lenient: the same shapes with ``Any`` values, for anything else;
    :func:`usage_frames._core.paging.check_page` and the careful column path deal with what they hold. Unknown
    fields are ignored; absent fields are ``None``. Buckets keep the provider's field names on the wire
    (``starting_at``...) and are read as ``start_time``/``end_time`` here; RFC 3339 times become Unix seconds in
    :func:`decode_page`.
    """
    return _types(endpoint)[:2]


def _types(endpoint: Endpoint) -> tuple[Any, Any, msgspec.json.Decoder[Any], msgspec.json.Decoder[Any]]:
    key = (endpoint.provider, endpoint.name)
    found = _TYPES.get(key)
    if found is None:
        with _TYPES_LOCK:
            found = _TYPES.get(key) or _make_types(endpoint)
            _TYPES[key] = found
    return found


def _make_types(endpoint: Endpoint) -> tuple[Any, Any, msgspec.json.Decoder[Any], msgspec.json.Decoder[Any]]:
    # Strict counts are the non-negative int64 (msgspec checks the range in C; anything else goes lenient, where a
    # negative count is refused by name), and an absent count decodes to the sentinel, so a whole block of counts
    # converts in one C pass even when older answers leave fields out; the NA mask comes from the sentinel.
    count = Annotated[int, msgspec.Meta(ge=0, le=INT64_MAX)]
    kinds: dict[str, Any] = {"Int64": count, "Float64": float | str, "string": str}
    wire, name = endpoint.wire, f"{endpoint.provider}_{endpoint.name}"
    times: Any = int if wire.times == "unix" else dt.datetime
    types = []
    for strict in (True, False):

        def typed(t: Any, strict: bool = strict) -> Any:
            return (t | None) if strict else Any

        fields: list[tuple[str, Any, Any]] = []
        if endpoint.result_object is not None:
            # Strict pages can only hold this endpoint's results: msgspec checks the object string in C.
            fields.append(("object", typed(Literal[endpoint.result_object]), None))
        keys = endpoint.key_columns(endpoint.group_by)
        fields += [(k, typed(bool if k in endpoint.boolean_keys else str), None) for k in keys]
        nested: dict[str, list[tuple[str, Any, Any]]] = {}
        for f in endpoint.fields:
            if len(f.json_path) == 1:
                absent = ABSENT if strict and f.dtype == "Int64" and f.scale == 1 else None
                fields.append((f.name, typed(kinds[f.dtype] if f.scale == 1 else str | float), absent))
            elif len(f.json_path) == 2:
                inner = kinds[f.dtype] if f.dtype != "Int64" else int
                nested.setdefault(f.json_path[0], []).append((f.json_path[1], typed(inner), None))
            else:  # deeper objects are read leniently
                nested.setdefault(f.json_path[0], [])
        for top, inner_fields in nested.items():
            kind: Any = msgspec.defstruct(f"{name}_{top}", inner_fields, gc=False) if inner_fields else Any
            fields.append((top, typed(kind), None))
        result: Any = msgspec.defstruct(f"{name}_result", fields, gc=False)
        bucket: Any = msgspec.defstruct(
            f"{name}_bucket",
            [
                ("results", list[result]),
                ("start_time", typed(times), None),
                ("end_time", typed(times), None),
                ("object", typed(str), None),
            ],
            rename={"start_time": wire.bucket_start, "end_time": wire.bucket_end},
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
    return types[0], types[1], msgspec.json.Decoder(types[0]), msgspec.json.Decoder(types[1])


def _seconds(value: Any) -> Any:
    """A bucket time as Unix seconds: a datetime or an RFC 3339 string; anything else is left for the checks."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:  # an RFC 3339 time always carries its offset; a naive one is not one
            return value.isoformat()
        stamp = value.timestamp()
        return int(stamp) if stamp == int(stamp) else stamp
    return value


def _unix_times(page: Page, endpoint: Endpoint) -> Page:
    """The page with its bucket times as Unix seconds (a provider that sends RFC 3339 times)."""
    if endpoint.wire.times != "unix":
        for bucket in page.data:
            bucket.start_time = _seconds(bucket.start_time)
            bucket.end_time = _seconds(bucket.end_time)
    return page


def decode_page(content: bytes, endpoint: Endpoint) -> Page:
    """Decode a response body into the endpoint's page struct.

    Raises:
        msgspec.DecodeError: If the body is not JSON at all (the client retries that).
        UnexpectedResponseError: If it is JSON but not a page (no ``data`` list, no ``has_more``).

    Examples:
        >>> from usage_frames.providers import DEFAULT
        >>> page = decode_page(b'{"object": "page", "data": [], "has_more": false, "next_page": null}',
        ...                    DEFAULT.endpoint("costs"))
        >>> page.has_more, page.data
        (False, [])
    """
    _, _, strict, lenient = _types(endpoint)
    try:
        return _unix_times(strict.decode(content), endpoint)
    except msgspec.ValidationError:
        pass
    try:
        return _unix_times(lenient.decode(content), endpoint)
    except msgspec.ValidationError as exc:
        if str(exc).startswith("Number out of range"):
            raise _out_of_range(content, str(exc)) from None
        raise UnexpectedResponseError(f"the answer is not a page: {_error_of(content) or exc}") from None


def _error_of(content: bytes) -> str | None:
    """What an error envelope sent with a 200 says (``{"error": {"type", "message"}}``, both known providers' shape).

    Examples:
        >>> _error_of(b'{"type": "error", "error": {"type": "not_found_error", "message": "Not found"}}')
        "it is an error: 'not_found_error: Not found'"
        >>> _error_of(b'{"data": 1}') is None
        True
    """
    try:
        body = json.loads(content)
    except ValueError:  # more digits than Python reads: not an envelope
        return None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None
    said = ": ".join(str(error[k]) for k in ("type", "message") if error.get(k) is not None)
    return f"it is an error: {said[:300]!r}"


def _out_of_range(content: bytes, message: str) -> UnexpectedResponseError:
    """Name the field and the number that msgspec found beyond a float's range (``1e309``)."""
    where = message.partition("at `")[2].rstrip("`")
    try:
        value: Any = json.loads(content, parse_float=str, parse_int=str)
        steps = re.findall(r"\.(\w+)|\[(\d+)\]", where.removeprefix("$"))
        for name, index in steps:
            value = value[int(index)] if index else value[name]
        names = [name for name, _ in steps[4:] if name]  # the field's path below $.data[i].results[j]
        if isinstance(value, dict):  # msgspec stops at a leniently typed object ("amount[...]"): find the number
            key, value = next((k, v) for k, v in value.items() if isinstance(v, str) and math.isinf(float(v)))
            names.append(key)
    except (ValueError, LookupError, TypeError, StopIteration):
        return UnexpectedResponseError(f"the answer holds a number beyond the range of a float ({message})")
    return impossible(".".join(names) or where, value, "beyond the range of a float")


def as_page(obj: Any, endpoint: Endpoint) -> Page:
    """A page struct from an already decoded page (a dict from the spec's examples or a test)."""
    if isinstance(obj, msgspec.Struct):
        return obj
    if not isinstance(obj, dict) or not isinstance(obj.get("data"), list):
        raise UnexpectedResponseError("the answer is not a page: no 'data' list")
    strict, lenient = page_types(endpoint)
    try:  # convert, not encode: JSON has no infinity, so encoding would turn float("inf") into null
        return _unix_times(msgspec.convert(obj, strict), endpoint)
    except msgspec.ValidationError:
        pass
    try:
        return _unix_times(msgspec.convert(obj, lenient), endpoint)
    except msgspec.ValidationError as exc:
        raise UnexpectedResponseError(f"the answer is not a page: {exc}") from None


def impossible(name: str, value: Any, why: str) -> UnexpectedResponseError:
    """The error for an impossible value of a field: its name, the value (cut short) and why."""
    shown = repr(value)
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    return UnexpectedResponseError(f"{name!r} holds {shown}, {why}")


def grid(start: pd.Timestamp, end: pd.Timestamp, seconds: int, whole: bool) -> list[tuple[int, int]]:
    """The buckets an API answers for a window, as Unix seconds: every one of them, idle ones too.

    Whole buckets of the UTC grid (``whole``), or the grid cut at the window's edges (a partial first and last
    bucket, as usage answers have).

    Examples:
        >>> t = pd.Timestamp("2026-10-01 06:00", tz="UTC")
        >>> grid(t, t + pd.Timedelta(days=1), 86400, whole=False)
        [(1790834400, 1790899200), (1790899200, 1790920800)]
        >>> len(grid(t, t + pd.Timedelta(days=1), 86400, whole=True))
        2
    """
    first, last = unix(start), unix(end)
    if whole:
        first, last = first - first % seconds, -(-last // seconds) * seconds
    cuts = [first, *range(first - first % seconds + seconds, last, seconds), last]
    return [(a, b) for a, b in itertools.pairwise(cuts) if a < b]


def encode_page(frame: pd.DataFrame, query: Query) -> bytes:
    """A frame's rows as the one page that answers ``query``, spelled as the endpoint's provider spells it.

    The inverse of :func:`decode_page` and the frame: every bucket of the window (:func:`grid`), idle ones with no
    results, each row a result with its keys and fields where the API puts them (nested paths, amounts scaled
    back to the API's unit as exact decimal strings). A recording answers the queries it can add up this way.

    Raises:
        UnexpectedResponseError: If a row does not start at a bucket of the window.

    Examples:
        >>> from usage_frames._core.query import build_query
        >>> from usage_frames.providers import DEFAULT
        >>> q = build_query(DEFAULT.endpoint("embeddings"), "2026-10-01", "2026-10-03",
        ...                 now=pd.Timestamp("2026-11-01", tz="UTC"))
        >>> frame = pd.DataFrame({"input_tokens": [5], "num_model_requests": [1]},
        ...                      index=pd.DatetimeIndex(["2026-10-02"], tz="UTC", name="start_time"))
        >>> [len(b.results) for b in decode_page(encode_page(frame, q), q.endpoint).data]
        [0, 1]
    """
    endpoint, wire = query.endpoint, query.endpoint.wire
    seconds = BUCKET_SECONDS[query.bucket_width]
    buckets = grid(query.start, query.end, seconds, endpoint.whole_buckets)
    results: dict[int, list[dict[str, Any]]] = {start: [] for start, _ in buckets}
    keys = [k for k in endpoint.key_columns(query.group_by) if k in frame.columns]
    starts = [unix(t) for t in pd.DatetimeIndex(frame.index)]
    for start, row in zip(starts, frame.to_dict("records"), strict=True):
        if start not in results:
            raise UnexpectedResponseError(f"a row starts at {start}, at no bucket of the window")
        result: dict[str, Any] = {"object": endpoint.result_object} if endpoint.result_object else {}
        result.update({k: _plain(row[k]) for k in keys})
        for f in endpoint.fields:
            if f.name not in row:
                continue
            target = result
            for part in f.json_path[:-1]:
                target = target.setdefault(part, {})
            value = _plain(row[f.name])
            if value is not None and f.scale != 1:
                value = format(Decimal(repr(float(value))) * f.scale, "f")
            target[f.json_path[-1]] = value
        results[start].append(result)
    tag = {"object": "bucket"} if endpoint.result_object else {}
    data = [{**tag, wire.bucket_start: wire.stamp(_at(a)), wire.bucket_end: wire.stamp(_at(b)), "results": results[a]}
            for a, b in buckets]  # fmt: skip
    page = {**({"object": "page"} if endpoint.result_object else {}), "data": data, "has_more": False,
            "next_page": None}  # fmt: skip
    return msgspec.json.encode(page)


def _at(seconds: int) -> pd.Timestamp:
    return pd.Timestamp(seconds, unit="s", tz="UTC")


def _plain(value: Any) -> Any:
    """A JSON value from a pandas scalar (``<NA>`` and NaN are null)."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    return value.item() if hasattr(value, "item") else value
