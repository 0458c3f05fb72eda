"""How does the fake API answer a request?

HTTP semantics only: authentication, query parsing, the 400 answers (``reporting_lookback_exceeded`` included),
bucket bounds, page cursors and list pages. What the answers hold comes from the organization.

Examples:
    >>> _decode_cursor(_encode_cursor(3, 100), 100)
    3
"""

from __future__ import annotations

import base64
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, Protocol

import msgspec
import numpy as np
import pandas as pd

from usage_frames._core.schema import BUCKET_SECONDS, Endpoint, unix
from usage_frames.fake.reply import Reply
from usage_frames.providers.openai.endpoints import ENDPOINTS
from usage_frames.providers.openai.provider import PROVIDER


class FakeOrganization(Protocol):
    """What the API reads of an organization (:class:`~.organization.FakeOrganization`)."""

    list_page_size: int

    def clock(self) -> int:
        """Now, in Unix seconds."""
        ...

    def buckets(
        self, endpoint: Endpoint, bounds: np.ndarray, now: int, group_by: tuple[str, ...], where: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        """The buckets between consecutive bounds, as the API writes them."""
        ...

    def directory(self, path: str) -> dict[str, Any] | list[dict[str, Any]] | None:
        """The directory objects at ``path``, or ``None`` for an unknown path."""
        ...


def error(
    status: int,
    message: str,
    kind: str = "invalid_request_error",
    param: str | None = None,
    code: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Reply:
    """An error answer in OpenAI's envelope: ``{"error": {"message", "type", "param", "code"}}``."""
    body = {"error": {"message": message, "type": kind, "param": param, "code": code}}
    return Reply(status, {"Content-Type": "application/json", **(headers or {})}, msgspec.json.encode(body))


class _BadRequestError(Exception):
    def __init__(self, param: str, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.param = param
        self.code = code


def respond(
    org: FakeOrganization, method: str, path: str, query: Mapping[str, Sequence[str]], headers: Mapping[str, str]
) -> Reply:
    """Answer one request as the API would (pure but for the clock).

    Args:
        org: The organization whose answers these are.
        method: The HTTP method.
        path: The path below the base URL, e.g. ``/organization/costs``.
        query: Parsed query string (``parse_qs`` shape); ``group_by`` and ``group_by[]`` both work.
        headers: The request headers.

    Returns:
        Status, headers and body, with the OpenAI error envelope for errors.
    """
    request_id = "req_" + format(zlib.crc32(repr((path, sorted(query.items()))).encode()), "08x")
    reply = _respond(org, method, path, query, headers)
    return replace(reply, headers={**reply.headers, "x-request-id": request_id})


def _respond(
    org: FakeOrganization, method: str, path: str, query: Mapping[str, Sequence[str]], headers: Mapping[str, str]
) -> Reply:
    auth = {k.lower(): v for k, v in headers.items()}.get("authorization", "")
    key = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else ""
    if not key:
        return error(
            401,
            "You didn't provide an API key. You need to provide your API key in an "
            "Authorization header using Bearer auth.",
            code="missing_api_key",
        )
    if not key.startswith("sk-admin-"):
        return error(
            401,
            "You have insufficient permissions for this operation. Missing scopes: "
            "api.usage.read. Check that you have the correct role in your organization.",
            code="insufficient_permissions",
        )
    if method != "GET":
        return error(405, f"Method {method} not allowed on {path}")
    endpoint = next((e for e in ENDPOINTS.values() if e.path == path.rstrip("/")), None)
    try:
        if endpoint is not None:
            return _usage(org, endpoint, {k.removesuffix("[]"): list(v) for k, v in query.items()})
        return _directory(org, path.rstrip("/"), query)
    except _BadRequestError as exc:
        return error(400, str(exc), param=exc.param, code=exc.code)


def _directory(org: FakeOrganization, path: str, query: Mapping[str, Sequence[str]]) -> Reply:
    """The organization's lists (projects, users, project keys, spend alerts) and its spend limit."""
    try:
        objects = org.directory(path)
    except LookupError as exc:
        return error(404, str(exc.args[0]), code="not_found")
    if objects is None:
        return error(404, f"Invalid URL (GET {path})", code="unknown_url")
    if isinstance(objects, dict):
        return Reply(200, {"Content-Type": "application/json"}, msgspec.json.encode(objects))
    return _list_page(objects, query, org.list_page_size)


def _usage(org: FakeOrganization, endpoint: Endpoint, query: dict[str, list[str]]) -> Reply:
    allowed = {
        "start_time",
        "end_time",
        "bucket_width",
        "limit",
        "page",
        "group_by",
        *endpoint.filter_names,
    }
    for name in query:
        if name not in allowed:
            raise _BadRequestError(name, f"Unrecognized request argument supplied: {name}")
    now = org.clock()
    start = _int(query, "start_time", required=True)
    end = _int(query, "end_time") or now
    if end > now + 60:
        raise _BadRequestError("end_time", "end_time must not be in the future")
    if end <= start:
        raise _BadRequestError("end_time", "end_time must be after start_time")
    earliest = PROVIDER.earliest_start(pd.Timestamp(now, unit="s", tz="UTC"))
    if earliest is not None and start < unix(earliest):  # the live API's answer, word for word but the date
        raise _BadRequestError(
            "start_time",
            "Usage and cost data are available for the past year. Earliest supported start date: "
            f"{earliest:%Y-%m-%d} (UTC).",
            code="reporting_lookback_exceeded",
        )
    width = _one(query, "bucket_width") or "1d"
    if width not in endpoint.limits:
        raise _BadRequestError(
            "bucket_width",
            f"Invalid bucket_width '{width}'; supported: " + ", ".join(endpoint.bucket_widths),
        )
    limits = endpoint.limits[width]  # type: ignore[index]
    limit = _int(query, "limit") or limits.default
    if not 1 <= limit <= limits.max:
        raise _BadRequestError("limit", f"limit must be between 1 and {limits.max} for bucket_width={width}")
    group_by = query.get("group_by", [])
    for key in group_by:
        if key not in endpoint.group_by:
            raise _BadRequestError(
                "group_by", f"Invalid group_by value '{key}'; supported: " + ", ".join(endpoint.group_by)
            )
    # SDK 3.57: costs grouped by user_id together with project_id (grouping or filter) may be refused.
    if endpoint.refused_pair is not None:
        key, other = endpoint.refused_pair
        filtered = any(f.key == other and f.name in query for f in endpoint.filters)
        if key in group_by and (other in group_by or filtered):
            raise _BadRequestError(
                "group_by",
                f"Grouping {endpoint.name} by {key} together with {other} is not supported "
                "for this organization and time range",
            )
    where: dict[str, Any] = {}
    for flt in endpoint.filters:
        values = query.get(flt.name)
        if not values:
            continue
        if flt.kind == "bool":
            if values[0] not in ("true", "false"):
                raise _BadRequestError(flt.name, f"{flt.name} must be true or false")
            where[flt.key] = values[0] == "true"
        else:
            for v in values:
                if flt.choices is not None and not flt.open and v not in flt.choices:
                    raise _BadRequestError(flt.name, f"Invalid value '{v}' for {flt.name}")
            where[flt.key] = values

    seconds = BUCKET_SECONDS[width]  # type: ignore[index]
    whole = endpoint.whole_buckets
    first = start - start % seconds if whole else start
    last = -(-end // seconds) * seconds if whole else end
    inner = np.arange((first // seconds + 1) * seconds, last, seconds, dtype=np.int64)
    bounds = np.concatenate([[first], inner, [last]]).astype(np.int64)

    offset = 0
    cursor = _one(query, "page")
    if cursor:
        offset = _decode_cursor(cursor, start)
    n_buckets = len(bounds) - 1
    if offset >= n_buckets:
        raise _BadRequestError("page", "Invalid page cursor for this query")
    page_bounds = bounds[offset : offset + limit + 1]
    has_more = offset + limit < n_buckets
    buckets = org.buckets(
        endpoint,
        page_bounds,
        min(now, end) if not whole else now,
        tuple(k for k in endpoint.group_by if k in group_by),
        where,
    )
    page = {
        "object": "page",
        "data": buckets,
        "has_more": has_more,
        "next_page": _encode_cursor(offset + limit, start) if has_more else None,
    }
    return Reply(200, {"Content-Type": "application/json"}, msgspec.json.encode(page))


def _list_page(items: list[dict[str, Any]], query: Mapping[str, Sequence[str]], cap: int) -> Reply:
    """One page of a list endpoint: ``limit`` (default 20, at most ``cap``) items after the ``after`` id."""
    limit = min(int((query.get("limit") or ["20"])[0]), cap)
    afters = query.get("after")
    after = afters[0] if afters else None
    ids = [item["id"] for item in items]
    if after is not None and after not in ids:
        raise _BadRequestError("after", f"Invalid 'after': no object with id '{after}'")
    start = ids.index(after) + 1 if after is not None else 0
    data = items[start : start + limit]
    page = {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": start + limit < len(items),
    }
    return Reply(200, {"Content-Type": "application/json"}, msgspec.json.encode(page))


def _one(query: Mapping[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise _BadRequestError(name, f"{name} must be given once")
    return values[0]


def _int(query: Mapping[str, list[str]], name: str, required: bool = False) -> int:
    value = _one(query, name)
    if value is None:
        if required:
            raise _BadRequestError(name, f"Missing required parameter: '{name}'.")
        return 0
    try:
        return int(value)
    except ValueError:
        raise _BadRequestError(name, f"Invalid integer for {name}: '{value}'") from None


def _encode_cursor(offset: int, start: int) -> str:
    return "page_" + base64.urlsafe_b64encode(f"{offset}:{start}".encode()).decode()


def _decode_cursor(cursor: str, start: int) -> int:
    try:
        offset, origin = base64.urlsafe_b64decode(cursor.removeprefix("page_")).decode().split(":")
        if int(origin) != start:
            raise ValueError
        return int(offset)
    except ValueError:
        raise _BadRequestError("page", "Invalid page cursor for this query") from None
