"""Pure: parsed response pages to the tidy frame of the public contract.

The frame has one row per (bucket x result), a UTC ``DatetimeIndex`` named ``start_time``, an ``end_time``
column, one column per requested group key (table order) and every value field of the endpoint (table order).
The schema comes from the endpoint table, never from the data: an empty answer, or an answer from an older API
version that lacks some fields, has the same columns and dtypes, with ``<NA>`` where a field was absent.

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

import warnings
from collections.abc import Iterable, Mapping
from typing import Any, TypedDict

import numpy as np
import pandas as pd

from usage_frames.endpoints import KEY_DTYPES, RESULT_OBJECTS, Endpoint
from usage_frames.errors import UnexpectedResponseError, UsageFramesWarning
from usage_frames.params import Query


class Bucket(TypedDict):
    """One time bucket of a page (spec ``UsageTimeBucket``)."""

    object: str
    start_time: int
    end_time: int
    results: list[dict[str, Any]]


class Page(TypedDict):
    """One response page (spec ``UsageResponse``)."""

    object: str
    data: list[Bucket]
    has_more: bool
    next_page: str | None


def check_page(page: object, endpoint: Endpoint, after: int | None = None) -> int | None:
    """Check that a decoded answer is a usable page of this endpoint, before anything is kept.

    Args:
        page: The decoded JSON.
        endpoint: The endpoint that was asked.
        after: The ``end_time`` of the last bucket of the previous page, if any.

    Returns:
        The ``end_time`` of this page's last bucket (``after`` when the page has none), for the next call.

    Raises:
        UnexpectedResponseError: If the envelope is wrong, buckets are out of order or overlap, or the results
            belong to another endpoint. The message names the problem; the client adds the request id.

    Examples:
        >>> from usage_frames.endpoints import ENDPOINTS
        >>> check_page({"object": "page", "data": [], "has_more": False, "next_page": None},
        ...            ENDPOINTS["costs"])
        >>> check_page({"error": "nope"}, ENDPOINTS["costs"])
        Traceback (most recent call last):
        ...
        usage_frames.errors.UnexpectedResponseError: the answer is not a page: no 'data' list
    """
    if not isinstance(page, dict) or not isinstance(page.get("data"), list):
        raise UnexpectedResponseError("the answer is not a page: no 'data' list")
    if not isinstance(page.get("has_more"), bool):
        raise UnexpectedResponseError("the answer is not a page: 'has_more' is not a boolean")
    for bucket in page["data"]:
        if not isinstance(bucket, dict):
            raise UnexpectedResponseError("a bucket is not an object")
        start, end, results = bucket.get("start_time"), bucket.get("end_time"), bucket.get("results")
        if not isinstance(start, int) or not isinstance(end, int) or not isinstance(results, list):
            raise UnexpectedResponseError(f"a bucket lacks integer start_time/end_time or a results list: {bucket}")
        if end <= start:
            raise UnexpectedResponseError(f"a bucket ends before it starts: {start}..{end}")
        if after is not None and start < after:
            raise UnexpectedResponseError(
                f"buckets are out of order or overlap: one starts at {start}, before the previous end {after}"
            )
        after = end
        for result in results:
            obj = result.get("object") if isinstance(result, dict) else None
            if not isinstance(result, dict):
                raise UnexpectedResponseError("a result is not an object")
            # Unknown result types (a newer API) are read leniently; another endpoint's results are not ours.
            if isinstance(obj, str) and obj != endpoint.result_object and obj in RESULT_OBJECTS:
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


def _column(values: list[Any], dtype: str, name: str) -> Any:
    """One typed column (a pandas array) from raw JSON values (``None`` for absent)."""
    if dtype == "category":
        return pd.Categorical(values, categories=sorted({v for v in values if v is not None}, key=str))
    try:
        return pd.array(values, dtype=dtype)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        # Strings such as "12.50" for amount.value (seen live); anything unreadable becomes <NA>, loudly.
        numbers = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce")
        bad = int(numbers.isna().sum()) - sum(v is None for v in values)
        if bad:
            warnings.warn(
                f"{bad} value(s) of {name!r} are not numbers and were read as <NA>",
                UsageFramesWarning,
                stacklevel=3,
            )
        return pd.array(numbers.astype(dtype).to_numpy(), dtype=dtype)  # type: ignore[call-overload]


def _get(result: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = result
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def to_frame(pages: Iterable[Page], query: Query) -> pd.DataFrame:
    """Build the tidy frame of the public contract from response pages.

    Args:
        pages: Decoded pages, in order (already checked with :func:`check_page` by the client).
        query: The query that produced them; gives the schema and ``attrs``.

    Returns:
        One row per (bucket x result), indexed by UTC ``start_time``; ``attrs`` holds the query.
    """
    endpoint = query.endpoint
    keys = query.group_by
    starts: list[int] = []
    ends: list[int] = []
    key_values: dict[str, list[Any]] = {k: [] for k in keys}
    field_values: dict[str, list[Any]] = {f.name: [] for f in endpoint.fields}
    paths = [(f.name, f.json_path) for f in endpoint.fields]
    for page in pages:
        for bucket in page["data"]:
            start, end = bucket["start_time"], bucket["end_time"]
            for result in bucket["results"]:
                starts.append(start)
                ends.append(end)
                for k in keys:
                    key_values[k].append(result.get(k))
                for name, path in paths:
                    field_values[name].append(result.get(name) if len(path) == 1 else _get(result, path))

    index = pd.DatetimeIndex(pd.to_datetime(np.asarray(starts, dtype="int64"), unit="s", utc=True), name="start_time")
    columns: dict[str, Any] = {"end_time": pd.to_datetime(np.asarray(ends, dtype="int64"), unit="s", utc=True)}
    for k in keys:
        columns[k] = _column(key_values[k], KEY_DTYPES.get(k, "category"), k)
    for f in endpoint.fields:
        columns[f.name] = _column(field_values[f.name], f.dtype, f.name)
    frame = pd.DataFrame(columns, index=index)
    frame.attrs.update(query.attrs())
    return frame
