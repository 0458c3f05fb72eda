"""The client: session, admin key, base URL, the one pagination loop, retries and error mapping.

This is the only module that does network I/O. Retry policy is a few named constants, one predicate
(:func:`should_retry`) and one pure delay function (:func:`retry_delay`); the sleep is injectable so tests never
wait.

Examples:
    >>> client = Client.fake()
    >>> df = client.completions("2026-10-01", "2026-10-03", group_by="model")
    >>> sorted(df["model"].unique())
    ['gpt-4.1-mini-2025-04-14', 'gpt-4o-2024-08-06', 'gpt-4o-mini-2024-07-18', 'o3-2025-04-16']
    >>> client
    Client(base_url='https://api.openai.com/v1', api_key=<set>, fake=True)
"""

from __future__ import annotations

import email.utils
import logging
import os
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any, Protocol, overload
from urllib.parse import urlsplit

import orjson
import pandas as pd
import requests

from usage_frames.endpoints import ENDPOINTS, BucketWidth, EndpointName
from usage_frames.errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    InvalidParameterError,
    MissingAPIKeyError,
    UnexpectedResponseError,
    status_error_class,
)
from usage_frames.frames import Page, check_page, to_frame
from usage_frames.params import FilterValue, Query, TimeLike, build_query

if TYPE_CHECKING:
    from usage_frames.fake import FakeOrganization

try:
    __version__ = version("usage-frames")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

log = logging.getLogger("usage_frames")

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_TIMEOUT = (10.0, 120.0)  # (connect, read) seconds; a 1440-bucket page can take a while to build
DEFAULT_MAX_RETRIES = 4
INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
# Honour server-directed delays up to two minutes; beyond that, waiting in a notebook helps nobody.
MAX_RETRY_AFTER_DELAY = 120.0
RETRY_STATUSES = frozenset({408, 409, 429})
ADMIN_KEY_HELP = (
    "The Usage and Costs API needs an organization admin key (it starts with 'sk-admin-'); project and user "
    "keys are refused. An organization owner creates one at "
    "https://platform.openai.com/settings/organization/admin-keys; pass it as Client(api_key=...) or set the "
    "OPENAI_ADMIN_KEY environment variable."
)
NON_ADMIN_PREFIXES = ("sk-proj-", "sk-svcacct-")
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


def should_retry(status_code: int) -> bool:
    """Whether an HTTP status is worth another attempt (408, 409, 429 and every 5xx).

    Examples:
        >>> [should_retry(s) for s in (400, 401, 429, 500, 503)]
        [False, False, True, True, True]
    """
    return status_code in RETRY_STATUSES or status_code >= 500


def retry_delay(
    attempt: int, headers: Mapping[str, str] | None = None, *, jitter: Callable[[], float] = random.random
) -> float:
    """Seconds to wait before retry number ``attempt + 1``.

    ``Retry-After`` (seconds or an HTTP date) or ``retry-after-ms`` wins, capped at
    :data:`MAX_RETRY_AFTER_DELAY`; otherwise exponential backoff from :data:`INITIAL_RETRY_DELAY`, capped at
    :data:`MAX_RETRY_DELAY`, with up to 25 % jitter taken off so that workers do not retry in step.

    Args:
        attempt: How many attempts have failed so far, minus one (0 after the first failure).
        headers: The failed response's headers (any case-insensitive mapping), if there was a response.
        jitter: A source of numbers in ``[0, 1)``.

    Examples:
        >>> retry_delay(0, {"Retry-After": "3"})
        3.0
        >>> retry_delay(0, {"retry-after-ms": "250"})
        0.25
        >>> [retry_delay(a, jitter=lambda: 0.0) for a in range(6)]
        [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    """
    lower = {k.lower(): v for k, v in (headers or {}).items()}
    server: float | None = None
    try:
        if "retry-after-ms" in lower:
            server = float(lower["retry-after-ms"]) / 1000
        elif "retry-after" in lower:
            value = lower["retry-after"]
            try:
                server = float(value)
            except ValueError:
                when = email.utils.parsedate_to_datetime(value)
                server = when.timestamp() - time.time()
    except (ValueError, TypeError):
        server = None
    if server is not None:
        return min(max(server, 0.0), MAX_RETRY_AFTER_DELAY)
    backoff = min(INITIAL_RETRY_DELAY * 2.0**attempt, MAX_RETRY_DELAY)
    return backoff * (1 - 0.25 * jitter())


def status_error(
    status_code: int, headers: Mapping[str, str], content: bytes, *, path: str, secret: str = ""
) -> APIStatusError:
    """The typed error for an HTTP error response (pure).

    Args:
        status_code: The HTTP status.
        headers: The response headers.
        content: The response body.
        path: The request path, for the message.
        secret: A string to scrub from the message (the admin key), in case a server echoes it.

    Examples:
        >>> body = b'{"error": {"message": "Invalid group_by", "type": "invalid_request_error"}}'
        >>> err = status_error(400, {"x-request-id": "req_1"}, body, path="/organization/costs")
        >>> str(err)
        '400 Bad Request: Invalid group_by [GET /organization/costs] (request_id: req_1)'
    """
    body: Any
    try:
        body = orjson.loads(content)
        error = body.get("error") if isinstance(body, dict) else None
        message = str(error.get("message") if isinstance(error, dict) else error or body)
    except orjson.JSONDecodeError:
        body = content.decode("utf-8", "replace")
        message = " ".join(body.split())[:300] or "(empty body)"
    if secret:
        message = message.replace(secret, "<redacted>")
    message += f" [GET {path}]"
    if status_code in (401, 403):
        message += " " + ADMIN_KEY_HELP
    request_id = {k.lower(): v for k, v in headers.items()}.get("x-request-id")
    return status_error_class(status_code)(message, status_code=status_code, request_id=request_id, body=body)


class EndpointFunction(Protocol):
    """The signature shared by the twelve endpoint functions (``uf.completions``, ``Client.costs``, ...)."""

    def __call__(
        self,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        *,
        bucket_width: BucketWidth = "1d",
        group_by: str | Sequence[str] | None = None,
        limit: int | None = None,
        **filters: FilterValue | None,
    ) -> pd.DataFrame:
        """Fetch one endpoint as a tidy frame."""
        ...


def describe(name: EndpointName) -> str:
    """The docstring of an endpoint function, generated from the table.

    Examples:
        >>> print(describe("vector_stores").splitlines()[0])
        Fetch /organization/usage/vector_stores as a tidy frame (one row per bucket and group).
    """
    ep = ENDPOINTS[name]
    return (
        f"Fetch {ep.path} as a tidy frame (one row per bucket and group).\n\n"
        "Args:\n"
        "    start: Inclusive start (datetime, date, Timestamp, ISO string or Unix seconds; naive is UTC).\n"
        "        Defaults to 30 days before end.\n"
        "    end: Exclusive end; defaults to now and is clamped to now.\n"
        f"    bucket_width: One of {', '.join(ep.bucket_widths)} (default 1d).\n"
        f"    group_by: Any of {', '.join(ep.group_by)}.\n"
        "    limit: Buckets per page; the default is the largest the API allows.\n"
        f"    **filters: {', '.join(f.name for f in ep.filters)} (a str is a one-item list).\n\n"
        f"Returns:\n    Columns end_time, the group keys, then {', '.join(f.name for f in ep.fields)}.\n"
    )


class _EndpointMethod:
    """A descriptor that makes ``client.<endpoint>(...)`` call ``client.fetch("<endpoint>", ...)``."""

    def __init__(self, name: EndpointName) -> None:
        self.name = name
        self.__doc__ = describe(name)

    @overload
    def __get__(self, client: None, owner: type[Client]) -> _EndpointMethod: ...
    @overload
    def __get__(self, client: Client, owner: type[Client]) -> EndpointFunction: ...
    def __get__(self, client: Client | None, owner: type[Client]) -> _EndpointMethod | EndpointFunction:
        if client is None:
            return self
        name, bound = self.name, client

        def fetch_endpoint(start: TimeLike | None = None, end: TimeLike | None = None, **kwargs: Any) -> pd.DataFrame:
            return bound.fetch(name, start, end, **kwargs)

        fetch_endpoint.__name__ = fetch_endpoint.__qualname__ = name
        fetch_endpoint.__doc__ = self.__doc__
        return fetch_endpoint


class Client:
    """A connection to the Usage and Costs API of one organization.

    Args:
        api_key: The organization admin key; defaults to ``OPENAI_ADMIN_KEY``.
        base_url: The API root; defaults to ``OPENAI_BASE_URL``, then ``https://api.openai.com/v1``.
        session: A ``requests.Session`` to send with (any subclass, e.g. a requests-cache ``CachedSession``).
        timeout: Seconds, or ``(connect, read)`` seconds, per request.
        max_retries: Retries after the first attempt, for 408/409/429/5xx and connection errors.
        sleep: How to wait between retries (tests pass ``lambda s: None``).
        allow_http: Allow a plain ``http://`` base URL on a non-loopback host (the key would travel in clear).

    Raises:
        MissingAPIKeyError: If there is no key, with instructions to create and set one.
        InvalidParameterError: If the key is a project key, or the base URL is unusable.
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        session: requests.Session | None = None,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        sleep: Callable[[float], None] = time.sleep,
        allow_http: bool = False,
    ) -> None:
        key = api_key if api_key is not None else os.environ.get("OPENAI_ADMIN_KEY", "")
        if not key.strip():
            raise MissingAPIKeyError("No admin key. " + ADMIN_KEY_HELP)
        if key.startswith(NON_ADMIN_PREFIXES):
            prefix = key.split("-")[1]
            raise InvalidParameterError("api_key", f"sk-{prefix}-...", reason="is not an admin key. " + ADMIN_KEY_HELP)
        self._key = key.strip()
        url = (base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidParameterError("base_url", url, reason="must be an http(s) URL such as " + DEFAULT_BASE_URL)
        if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS and not allow_http:
            raise InvalidParameterError(
                "base_url",
                url,
                reason="is plain http on a non-loopback host; use https or pass allow_http=True",
            )
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise InvalidParameterError("max_retries", max_retries, reason="must be an int >= 0")
        self.base_url = url
        self.session = session if session is not None else requests.Session()
        self.timeout = timeout
        self.max_retries = max_retries
        self.sleep = sleep
        self._fake = False

    @classmethod
    def fake(cls, organization: FakeOrganization | None = None, **kwargs: Any) -> Client:
        """A client answered in-process by the built-in fake organization (no key, no network).

        Args:
            organization: The fake organization; defaults to the standard seeded one.
            **kwargs: Passed on to :class:`Client`.

        Examples:
            >>> Client.fake().costs("2026-10-01", "2026-10-02")["amount"].round(2).tolist()
            [76.4]
        """
        from usage_frames.fake import FakeOrganization

        org = organization or FakeOrganization()
        session = kwargs.pop("session", None) or requests.Session()
        base_url = kwargs.pop("base_url", DEFAULT_BASE_URL)
        org.mount(session, base_url)
        client = cls(kwargs.pop("api_key", "sk-admin-fake"), base_url, session=session, **kwargs)
        client._fake = True
        return client

    def __repr__(self) -> str:
        fake = ", fake=True" if self._fake else ""
        return f"Client(base_url={self.base_url!r}, api_key=<set>{fake})"

    def get(self, path: str, params: Sequence[tuple[str, str]]) -> tuple[Any, requests.Response]:
        """GET one JSON document, with retries; the only place that sends requests.

        Returns:
            The decoded JSON and the response.

        Raises:
            APIStatusError: A subclass per status, after retries where retrying helps.
            APIConnectionError: If the server cannot be reached after every retry.
            UnexpectedResponseError: If a 200 answer is not JSON after every retry.
        """
        url = self.base_url + path
        headers = {
            "Authorization": f"Bearer {self._key}",
            "Accept": "application/json",
            "User-Agent": f"usage-frames/{__version__} python-requests/{requests.__version__}",
        }
        for attempt in range(self.max_retries + 1):
            error: APIError
            response: requests.Response | None = None
            try:
                response = self.session.get(url, params=params, headers=headers, timeout=self.timeout)
            except requests.Timeout as exc:
                error = APITimeoutError(f"GET {path} timed out after {self.timeout} s: {type(exc).__name__}")
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
                error = APIConnectionError(f"GET {path} failed: {type(exc).__name__}: {_scrub(exc, self._key)}")
            else:
                request_id = response.headers.get("x-request-id")
                log.debug("GET %s %s -> %s (%s)", path, _loggable(params), response.status_code, request_id)
                if response.status_code == 200:
                    try:
                        return orjson.loads(response.content), response
                    except orjson.JSONDecodeError:
                        kind = response.headers.get("content-type", "no content type")
                        error = UnexpectedResponseError(
                            f"GET {path} answered 200 with a body that is not JSON ({kind}, "
                            f"{len(response.content)} bytes): a proxy error page or a cut connection?",
                            request_id=request_id,
                        )
                else:
                    error = status_error(
                        response.status_code, response.headers, response.content, path=path, secret=self._key
                    )
                    if not should_retry(response.status_code):
                        raise error
            if attempt == self.max_retries:
                raise error
            delay = retry_delay(attempt, response.headers if response is not None else None)
            log.info("retrying GET %s in %.2f s after: %s", path, delay, error)
            self.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def pages(self, query: Query) -> Iterator[Page]:
        """Yield every page of a query, following ``next_page`` until ``has_more`` is false.

        Each page is checked before it is yielded. A repeated cursor, or ``has_more`` without a cursor, raises
        instead of looping or stopping early: an incomplete answer is never passed off as complete.

        Raises:
            UnexpectedResponseError: For a broken page or cursor, with the request id.
        """
        path = query.endpoint.path
        seen: set[str] = set()
        cursor: str | None = None
        after: int | None = None
        while True:
            page, response = self.get(path, query.params(cursor))
            request_id = response.headers.get("x-request-id")
            try:
                after = check_page(page, query.endpoint, after)
            except UnexpectedResponseError as exc:
                raise UnexpectedResponseError(f"GET {path}: {exc.message}", request_id=request_id) from None
            yield page
            if not page["has_more"]:
                return
            cursor = page.get("next_page")
            if not isinstance(cursor, str) or not cursor:
                raise UnexpectedResponseError(
                    f"GET {path}: has_more is true but next_page is {cursor!r}; the answer would be incomplete",
                    request_id=request_id,
                )
            if cursor in seen:
                raise UnexpectedResponseError(
                    f"GET {path}: the server repeated the cursor {cursor!r}; stopping instead of looping",
                    request_id=request_id,
                )
            seen.add(cursor)

    def fetch(
        self,
        endpoint: EndpointName | str,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        *,
        bucket_width: BucketWidth | str = "1d",
        group_by: str | Sequence[str] | None = None,
        limit: int | None = None,
        **filters: FilterValue | None,
    ) -> pd.DataFrame:
        """Fetch any endpoint by name as a tidy frame; the twelve endpoint methods call this.

        Args:
            endpoint: An endpoint name (see ``usage_frames.ENDPOINTS``).
            start: Inclusive start; defaults to 30 days before ``end``.
            end: Exclusive end; defaults to now, clamped to now.
            bucket_width: ``"1m"``, ``"1h"`` or ``"1d"``.
            group_by: Group keys of that endpoint.
            limit: Buckets per page (default: the maximum).
            **filters: Filters of that endpoint by their spec names.

        Returns:
            The tidy frame of the public contract.

        Examples:
            >>> df = Client.fake().fetch("images", "2026-10-01", "2026-10-02", group_by=["size"])
            >>> list(df.columns)
            ['end_time', 'size', 'images', 'num_model_requests']
        """
        query = build_query(
            endpoint, start, end, bucket_width=bucket_width, group_by=group_by, limit=limit, filters=filters
        )
        return to_frame(list(self.pages(query)), query)

    completions = _EndpointMethod("completions")
    decisions = _EndpointMethod("decisions")
    embeddings = _EndpointMethod("embeddings")
    moderations = _EndpointMethod("moderations")
    images = _EndpointMethod("images")
    audio_speeches = _EndpointMethod("audio_speeches")
    audio_transcriptions = _EndpointMethod("audio_transcriptions")
    vector_stores = _EndpointMethod("vector_stores")
    code_interpreter_sessions = _EndpointMethod("code_interpreter_sessions")
    file_search_calls = _EndpointMethod("file_search_calls")
    web_search_calls = _EndpointMethod("web_search_calls")
    costs = _EndpointMethod("costs")


def _scrub(exc: BaseException, secret: str) -> str:
    return str(exc).replace(secret, "<redacted>")


def _loggable(params: Sequence[tuple[str, str]]) -> str:
    return "&".join(f"{k}={v}" for k, v in params if k != "page")
