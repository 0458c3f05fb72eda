"""How does the fake Anthropic Admin API answer a request?

HTTP semantics only: the ``x-api-key`` and ``anthropic-version`` headers, query parsing (``name[]=value`` arrays, plain
repeated names too), the 400 answers, the bucket grid, ``next_page`` cursors bound to their query, list pages
(``after_id``/``before_id``/``limit``), Anthropic's error envelope and the ``request-id`` header on every answer. What
the answers hold comes from the organization (:mod:`.organization`).

The grid follows the live API: buckets are whole buckets of the width's UTC grid that start at or after
``starting_at`` (an unaligned start loses the partial first bucket) and end at or before ``ending_at``; ``ending_at``
defaults to, and may be at most, the end of the bucket that contains now (answered with the usage so far); every
bucket of the window is sent, idle ones with ``results: []``. Whether the live API also refuses unknown parameters
is not documented; the fake does, so that a client's typo is a 400 and not a silent full answer.

Examples:
    >>> body = error(401, "invalid x-api-key", request_id="req_1").json()
    >>> body["type"], body["error"]["type"], body["request_id"]
    ('error', 'authentication_error', 'req_1')
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, Protocol

import msgspec
import numpy as np
import pandas as pd

from usage_frames._core.schema import BUCKET_SECONDS, Endpoint
from usage_frames.fake.reply import Reply
from usage_frames.providers.anthropic.endpoints import ENDPOINTS
from usage_frames.providers.anthropic.fake.listing import API_KEY_STATUSES, ROLES
from usage_frames.providers.anthropic.fake.streams import DEFAULT_WORKSPACE_ID

ADMIN_PREFIX = "sk-ant-admin"
VERSIONS = ("2023-01-01", "2023-06-01", "2026-10-21")
ORGANIZATION_ID = "6d1c4a3e-8b2f-4f0e-9c57-2a9e1b7d4c10"
ORGANIZATION = {"id": ORGANIZATION_ID, "name": "Fake Organization", "type": "organization"}  # /v1/organizations/me
ERROR_TYPES: Mapping[int, str] = {
    400: "invalid_request_error", 401: "authentication_error", 402: "billing_error", 403: "permission_error",
    404: "not_found_error", 409: "conflict_error", 413: "request_too_large", 429: "rate_limit_error",
    500: "api_error", 504: "timeout_error", 529: "overloaded_error",
}  # fmt: skip
LIST_PATHS: Mapping[str, Mapping[str, str]] = {  # each list's filters: name -> kind
    "/v1/organizations/workspaces": {"include_archived": "bool", "include_default": "bool"},
    "/v1/organizations/api_keys": {"status": "status", "workspace_id": "str", "created_by_user_id": "str"},
    "/v1/organizations/users": {"email": "str", "roles": "roles"},
}
LIST_LIMIT = (20, 1000)  # default, most
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


class World(Protocol):
    """What the API reads of an organization (:class:`~.organization.FakeOrganization`)."""

    list_page_size: int

    def clock(self) -> int:
        """Now, in Unix seconds."""
        ...

    def buckets(
        self, endpoint: Endpoint, bounds: np.ndarray, group_by: tuple[str, ...], where: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        """The buckets between consecutive bounds."""
        ...

    def directory(self, path: str, query: Mapping[str, Any]) -> list[dict[str, Any]] | dict[str, Any] | None:
        """The objects of a list path, or one object."""
        ...


class RefusedError(Exception):
    """A request the API refuses: its status and message (the envelope's type follows the status)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def error(
    status: int, message: str, *, headers: Mapping[str, str] | None = None, request_id: str | None = None
) -> Reply:
    """An error answer in Anthropic's envelope: ``{"type": "error", "error": {"type", "message"}, "request_id"}``.

    The error type follows the status (``overloaded_error`` for 529, ``api_error`` for other 5xx); ``request_id``
    is left out when not given, as the reference's own 4XX example leaves it out.
    """
    kind = ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
    if status == 529 and message == "The server had an error":  # the neutral faults' generic 5xx text
        message = "Overloaded"
    body: dict[str, Any] = {"type": "error", "error": {"type": kind, "message": message}}
    if request_id is not None:
        body["request_id"] = request_id
    return Reply(status, {"Content-Type": "application/json", **(headers or {})}, msgspec.json.encode(body))


def request_id(method: str, path: str, query: Mapping[str, Sequence[str]]) -> str:
    """A request id shaped as the live ones (``req_011C`` and 20 more characters), the same for the same request."""
    digest = hashlib.blake2b(repr((method, path, sorted(query.items()))).encode(), digest_size=15).digest()
    return "req_011C" + base64.b32encode(digest).decode().lower()[:20]


def respond(
    org: World, method: str, path: str, query: Mapping[str, Sequence[str]], headers: Mapping[str, str]
) -> Reply:
    """Answer one request as the Admin API would (pure but for the organization's clock).

    Args:
        org: The organization whose answers these are.
        method: The HTTP method.
        path: The path below the API root, e.g. ``/v1/organizations/cost_report``.
        query: The parsed query string (``parse_qs`` shape).
        headers: The request headers (any case).

    Returns:
        Status, headers (``request-id`` always) and body, in Anthropic's error envelope for errors.
    """
    rid = request_id(method, path, query)
    try:
        reply = _respond(org, method, path.rstrip("/"), query, {k.lower(): v for k, v in headers.items()})
    except RefusedError as exc:
        reply = error(exc.status, str(exc), request_id=rid)
    return replace(reply, headers={**reply.headers, "request-id": rid, "anthropic-organization-id": ORGANIZATION_ID})


def _respond(
    org: World, method: str, path: str, query: Mapping[str, Sequence[str]], headers: Mapping[str, str]
) -> Reply:
    key = headers.get("x-api-key", "").strip()
    if not key:
        raise RefusedError("x-api-key header is required", 401)
    if not key.startswith(ADMIN_PREFIX):  # an ordinary API key too: the live API answers 401, not 403
        raise RefusedError("invalid x-api-key", 401)
    version = headers.get("anthropic-version")
    if version is None:
        raise RefusedError("anthropic-version: header is required")
    if version not in VERSIONS:
        raise RefusedError(f'anthropic-version: "{version}" is not a valid version')
    if method != "GET":
        raise RefusedError(f"Method {method} is not allowed for {path}", 405)
    params = _params(query)
    endpoint = next((e for e in ENDPOINTS.values() if e.path == path), None)
    if endpoint is not None:
        return _report(org, endpoint, params, query)
    if path in LIST_PATHS:
        return _list(org, path, params)
    if path == "/v1/organizations/me" and not params:
        return _json(ORGANIZATION)
    head, _, tail = path.rpartition("/")
    if head in LIST_PATHS and tail:
        if params:
            raise RefusedError(f"{next(iter(params))}: Extra inputs are not permitted")
        found = org.directory(path, {})
        if found is None:
            raise RefusedError(f"No object found with id '{tail}'", 404)
        return _json(found)
    raise RefusedError("Not found", 404)


def _json(body: Any) -> Reply:
    return Reply(200, {"Content-Type": "application/json"}, msgspec.json.encode(body))


def _params(query: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """Query values by parameter name: ``group_by[]`` and ``group_by`` are one parameter."""
    params: dict[str, list[str]] = {}
    for name, values in query.items():
        params.setdefault(name.removesuffix("[]"), []).extend(values)
    return params


def _one(params: Mapping[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise RefusedError(f"{name}: Input should be a single value, not a list")
    return values[0]


def _time(params: Mapping[str, list[str]], name: str) -> int | None:
    """An RFC 3339 time parameter in Unix nanoseconds."""
    value = _one(params, name)
    if value is None:
        return None
    if not RFC3339.fullmatch(value):
        raise RefusedError(f"{name}: Input should be a valid RFC 3339 datetime, got {value!r}")
    return int(pd.Timestamp(value.upper()).value)


def _choice(name: str, value: str, allowed: Sequence[str]) -> str:
    if value not in allowed:
        raise RefusedError(f"{name}: Input should be " + " or ".join(map(repr, allowed)) + f", got {value!r}")
    return value


def _int(params: Mapping[str, list[str]], name: str, low: int, high: int, default: int, hint: str = "") -> int:
    value = _one(params, name)
    if value is None:
        return default
    if not value.lstrip("-").isdigit():
        raise RefusedError(f"{name}: Input should be a valid integer, got {value!r}")
    number = int(value)
    if not low <= number <= high:
        raise RefusedError(f"{name}: Input should be between {low} and {high}{hint}, got {number}")
    return number


def _report(org: World, endpoint: Endpoint, params: dict[str, list[str]], query: Mapping[str, Sequence[str]]) -> Reply:
    """A page of the usage or cost report: validation, the bucket grid, the cursor."""
    allowed = {"starting_at", "ending_at", "bucket_width", "limit", "page", "group_by", *endpoint.filter_names}
    for name in params:
        if name not in allowed:
            raise RefusedError(f"{name}: Extra inputs are not permitted")
    start = _time(params, "starting_at")
    if start is None:
        raise RefusedError("starting_at: Field required")
    width = _choice("bucket_width", _one(params, "bucket_width") or "1d", endpoint.bucket_widths[::-1])
    step = BUCKET_SECONDS[width]  # type: ignore[index]
    limits = endpoint.limits[width]  # type: ignore[index]
    limit = _int(params, "limit", 1, limits.max, limits.default, f" for bucket_width {width}")
    horizon = (org.clock() // step + 1) * step  # the end of the bucket that contains now
    end = _time(params, "ending_at")
    end = horizon * 10**9 if end is None else end
    if end > horizon * 10**9:
        raise RefusedError(f"ending_at: must not be after the end of the current {width} bucket")
    if end <= start:
        raise RefusedError("ending_at: must be after starting_at")
    group_by = params.get("group_by", [])
    for key in group_by:
        _choice("group_by[]", key, endpoint.group_by)
    where: dict[str, list[Any]] = {}
    for flt in endpoint.filters:
        values: list[Any] = params.get(flt.name, [])
        for value in values:
            if flt.choices is not None:
                _choice(f"{flt.name}[]", value, flt.choices)
        if flt.key == "workspace_id":  # the default workspace by its real id: its rows say null
            values = [None if v == DEFAULT_WORKSPACE_ID else v for v in values]
        if values:
            where[flt.key] = values
    nanos = step * 10**9
    first = -(-start // nanos) * step  # buckets that start at or after starting_at ...
    last = end // nanos * step  # ... and end at or before ending_at
    count = max(0, (last - first) // step)
    bound = _fingerprint(query)
    offset = 0
    cursor = _one(params, "page")
    if cursor is not None:
        offset = _offset(cursor, bound)
        if offset >= count:
            raise RefusedError("page: Invalid page token for this query")
    stop = min(offset + limit, count)
    bounds = first + step * np.arange(offset, stop + 1, dtype=np.int64)
    keys = tuple(k for k in endpoint.group_by if k in group_by)
    data = org.buckets(endpoint, bounds, keys, where) if stop > offset else []
    more = stop < count
    return _json({"data": data, "has_more": more, "next_page": _cursor(stop, bound) if more else None})


def _fingerprint(query: Mapping[str, Sequence[str]]) -> str:
    """What a cursor is bound to: the query without its page (another filter or width makes it invalid)."""
    items = sorted((k.removesuffix("[]"), sorted(v)) for k, v in query.items() if k.removesuffix("[]") != "page")
    return hashlib.blake2b(repr(items).encode(), digest_size=6).hexdigest()


def _cursor(offset: int, bound: str) -> str:
    return "page_" + base64.urlsafe_b64encode(f"{offset}:{bound}".encode()).decode()


def _offset(cursor: str, bound: str) -> int:
    try:
        offset, origin = base64.urlsafe_b64decode(cursor.removeprefix("page_").encode()).decode().split(":")
        if origin != bound or not offset.isdigit():
            raise ValueError
        return int(offset)
    except (ValueError, UnicodeDecodeError):
        raise RefusedError("page: Invalid page token for this query") from None


def _list(org: World, path: str, params: dict[str, list[str]]) -> Reply:
    """One page of a list endpoint: ``limit`` objects after ``after_id`` (or before ``before_id``)."""
    kinds = LIST_PATHS[path]
    for name in params:
        if name not in {"after_id", "before_id", "limit", *kinds}:
            raise RefusedError(f"{name}: Extra inputs are not permitted")
    filters: dict[str, Any] = {}
    for name, kind in kinds.items():
        if kind == "roles":
            if name in params:
                filters[name] = [_choice("roles[]", role, ROLES) for role in params[name]]
            continue
        value = _one(params, name)
        if value is None:
            continue
        if kind == "bool":
            filters[name] = _choice(name, value.lower(), ("true", "false", "1", "0")) in ("true", "1")
        else:
            filters[name] = _choice(name, value, API_KEY_STATUSES) if kind == "status" else value
    limit = min(_int(params, "limit", 1, LIST_LIMIT[1], LIST_LIMIT[0]), org.list_page_size)
    after, before = _one(params, "after_id"), _one(params, "before_id")
    if after is not None and before is not None:
        raise RefusedError("after_id and before_id cannot both be given")
    found = org.directory(path, filters)
    items = found if isinstance(found, list) else []
    ids = [item["id"] for item in items]
    for name, cursor in (("after_id", after), ("before_id", before)):
        if cursor is not None and cursor not in ids:
            raise RefusedError(f"{name}: no object with id {cursor!r} in this list")
    if before is not None:
        end = ids.index(before)
        begin = max(0, end - limit)
        data, more = items[begin:end], begin > 0
    else:
        begin = ids.index(after) + 1 if after is not None else 0
        data, more = items[begin : begin + limit], begin + limit < len(items)
    first, last = (data[0]["id"], data[-1]["id"]) if data else (None, None)
    return _json({"data": data, "has_more": more, "first_id": first, "last_id": last})
