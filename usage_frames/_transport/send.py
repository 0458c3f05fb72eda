"""The only socket I/O of the package (besides the fake's server): one GET with retries, deadlines and error mapping.

:func:`send` sends one request through a ``requests`` session (cached or not), retries what
:func:`~usage_frames._transport.retry.should_retry` allows after
:func:`~usage_frames._transport.retry.retry_delay`, and maps every failure to a typed
:class:`~usage_frames._core.errors.UsageFramesError` with the admin key scrubbed. :class:`DeadlineAdapter` gives each
request a total deadline, so that a server dripping one byte a second cannot hold a fetch forever.
"""

from __future__ import annotations

import contextlib
import http.client
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import msgspec
import requests
import requests.adapters
import urllib3
import urllib3.connection
from requests_cache import CachedSession

from usage_frames._core.errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    CacheMissError,
    UnexpectedResponseError,
    status_error_class,
)
from usage_frames._core.provider import Provider
from usage_frames._transport import retry
from usage_frames._transport.retry import RateGate, retry_delay, should_retry

log = logging.getLogger("usage_frames")
T = TypeVar("T")

DEFAULT_TIMEOUT = (10.0, 120.0)  # (connect, read) seconds; a 1440-bucket page can take a while to build


def status_error(
    status_code: int,
    headers: Mapping[str, str],
    content: bytes,
    *,
    path: str,
    provider: Provider,
    secret: str = "",
) -> APIStatusError:
    """The typed error for an HTTP error response (pure).

    The message is the server's (``error.message`` of the JSON envelope both known providers use, else the text),
    the request id its header (the provider's :attr:`~usage_frames._core.schema.Wire.request_id`) or the body's
    ``request_id``; a 401 or 403 adds how to get an admin key, a refused look-back what to do.

    Args:
        status_code: The HTTP status.
        headers: The response headers.
        content: The response body.
        path: The request path, for the message.
        provider: Whose answer it is (its request-id header, key help and look-back code).
        secret: A string to scrub from the message (the admin key), in case a server echoes it.

    Examples:
        >>> from usage_frames.providers import DEFAULT
        >>> body = b'{"error": {"message": "Invalid group_by", "type": "invalid_request_error"}}'
        >>> err = status_error(400, {"x-request-id": "req_1"}, body, path="/organization/costs", provider=DEFAULT)
        >>> str(err)
        '400 Bad Request: Invalid group_by [GET /organization/costs] (request_id: req_1)'
    """
    # A server (or a proxy) may echo the Authorization header anywhere: redact before anything is cut short.
    body: Any
    try:
        body = _redact(msgspec.json.decode(content), secret)
        error = body.get("error") if isinstance(body, dict) else None
        message = str(error.get("message") if isinstance(error, dict) else error or body)
    except msgspec.DecodeError:
        body = _redact(content.decode("utf-8", "replace"), secret)
        message = " ".join(body.split())[:300] or "(empty body)"
    lower = {k.lower(): _redact(v, secret) for k, v in headers.items()}
    if 300 <= status_code < 400:
        message += f" (a redirect to {lower.get('location', '')[:200]!r}: the API does not redirect; check base_url)"
    message = message[:1000] + f" [GET {path}]"
    code = body["error"].get("code") if isinstance(body, dict) and isinstance(body.get("error"), dict) else None
    if code is not None and code == provider.lookback_code:
        message += " " + provider.lookback_help
    if status_code in (401, 403):
        message += " " + provider.credentials.help
    request_id = lower.get(provider.wire.request_id.lower())
    if request_id is None and isinstance(body, dict) and isinstance(body.get("request_id"), str):
        request_id = body["request_id"][:200]
    return status_error_class(status_code)(message, status_code=status_code, request_id=request_id, body=body)


def deadline(timeout: float | tuple[float, float]) -> float:
    """The most seconds one request may take in all (connect, headers and body): the connect plus the read timeout.

    A read timeout alone bounds each wait for a byte, so a server that drips one byte a second never times out.

    Examples:
        >>> deadline(2), deadline((10, 120))
        (4.0, 130.0)
    """
    connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
    return float(connect) + float(read)


_deadline = threading.local()  # when the request in flight on this thread must be done (time.monotonic())

# How many bytes of large answers (over retry.LARGE_BODY) the workers of a client hold at once. An hourly page of
# 1,000 users is 108 MB, and its decoded results about half again: without a budget six such windows peak together.
BODY_BUDGET = 128 * 2**20
# The most workers a client may have; a connection for each is kept idle between windows (urllib3 keeps 10 a host
# by default and drops the rest, so an adaptive fetch growing again would pay new TLS handshakes).
MAX_CONNECTIONS = 64


class BodyBudget:
    """The bytes of large answers that the workers of one client hold at once (read, decoded, not yet columns).

    A worker runs each window inside :meth:`held`; before it reads the body of an answer over
    :data:`usage_frames._transport.retry.LARGE_BODY` bytes, it takes that many bytes (at most the whole budget),
    and gives them back when the window is done. A worker that holds nothing waits for the bytes; one that already
    holds some (a later page of its window) never waits, so that two workers cannot wait for each other.

    Attributes:
        limit: The budget in bytes (default :data:`BODY_BUDGET`).
        peak: The most bytes held at once so far.

    Examples:
        >>> budget = BodyBudget(limit=100)
        >>> with budget.held():
        ...     budget.take(250)
        100
        >>> budget.peak, budget.free
        (100, 100)
    """

    def __init__(self, limit: int | None = None) -> None:
        self.limit = BODY_BUDGET if limit is None else limit
        self.free = self.limit
        self.peak = 0
        self._changed = threading.Condition()
        self._held = threading.local()

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Run one window's requests: the bytes they take are given back at the end."""
        self._held.taken = 0
        _budget.current = self
        try:
            yield
        finally:
            _budget.current = None
            with self._changed:
                self.free += self._held.taken
                self._changed.notify_all()

    def take(self, size: int) -> int:
        """Take ``size`` bytes (at most the budget) for this thread's window, waiting if it holds none yet."""
        size = min(size, self.limit)
        with self._changed:
            if not self._held.taken:
                while self.free < size:
                    self._changed.wait()
            self.free -= size
            self.peak = max(self.peak, self.limit - self.free)
        self._held.taken += size
        return size


_budget = threading.local()  # the BodyBudget of the window this thread is fetching, if any


def _cut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)  # the blocked read returns at once


class _WatchedConnection:
    """A connection whose wait for the status line and headers ends at the request's deadline."""

    sock: socket.socket | None

    def getresponse(self) -> Any:
        at, sock = getattr(_deadline, "at", None), self.sock
        if at is None or sock is None:
            return super().getresponse()  # type: ignore[misc]
        watchdog = threading.Timer(max(at - time.monotonic(), 0.0), _cut, (sock,))
        watchdog.daemon = True
        watchdog.start()
        try:
            return super().getresponse()  # type: ignore[misc]
        finally:
            watchdog.cancel()


class _HTTPConnection(_WatchedConnection, urllib3.connection.HTTPConnection):
    pass


class _HTTPSConnection(_WatchedConnection, urllib3.connection.HTTPSConnection):
    pass


class _HTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class DeadlineAdapter(requests.adapters.HTTPAdapter):
    """An HTTP adapter that gives each request a total deadline (see :func:`deadline`), not only one per read.

    A watchdog ends the wait for the status line and headers at the deadline; the body is read in pieces and
    the deadline checked after each.
    """

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        """Pools whose connections watch the deadline."""
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, stream: bool = False, **kwargs: Any
    ) -> requests.Response:
        """Send, then read the whole body before the deadline or raise ``requests.Timeout``."""
        timeout = kwargs.get("timeout")
        limit = deadline(timeout) if isinstance(timeout, int | float | tuple) else None
        started = time.monotonic()
        _deadline.at = None if limit is None else started + limit
        try:
            response = super().send(request, stream=True, **kwargs)
        except requests.ConnectionError:
            if limit is not None and time.monotonic() - started >= limit:
                raise requests.Timeout(f"no answer within {limit:g} s in all (a slow or dripping server)") from None
            raise
        finally:
            _deadline.at = None
        if limit is not None and time.monotonic() - started >= limit:  # the watchdog cut it: the headers are partial
            response.close()
            raise requests.Timeout(f"no answer within {limit:g} s in all (a slow or dripping server)")
        if stream:
            return response
        budget: BodyBudget | None = getattr(_budget, "current", None)
        length = response.headers.get("content-length", "")
        if budget is not None and length.isdigit() and int(length) > retry.LARGE_BODY:
            waited = time.monotonic()
            budget.take(int(length))
            started += time.monotonic() - waited  # waiting for other windows is not this answer's slowness
        chunks: list[bytes] = []
        try:
            while chunk := response.raw.read1(65536, decode_content=True):
                chunks.append(chunk)
                if limit is not None and time.monotonic() - started > limit:
                    raise requests.Timeout(f"no answer within {limit:g} s in all (a slow or dripping server)")
        except BaseException as exc:
            response.close()  # the connection is mid-body: never give it back to the pool
            if isinstance(exc, requests.RequestException):
                raise
            if isinstance(exc, urllib3.exceptions.DecodeError):
                raise requests.exceptions.ContentDecodingError(exc) from None
            if isinstance(exc, urllib3.exceptions.ReadTimeoutError | TimeoutError):
                raise requests.exceptions.ReadTimeout(exc) from None
            if isinstance(exc, urllib3.exceptions.HTTPError | OSError | http.client.HTTPException):
                raise requests.exceptions.ChunkedEncodingError(exc) from None
            raise
        response._content = b"".join(chunks)
        response._content_consumed = True  # type: ignore[attr-defined]
        return response


def plain_session() -> requests.Session:
    """A ``requests.Session`` whose requests have a total deadline."""
    session = requests.Session()
    mount_deadline(session)
    return session


def mount_deadline(session: requests.Session) -> None:
    """Send every request of ``session`` through a :class:`DeadlineAdapter`."""
    adapter = DeadlineAdapter(pool_maxsize=MAX_CONNECTIONS)
    session.mount("http://", adapter)
    session.mount("https://", adapter)


def forget(session: requests.Session, response: requests.Response) -> None:
    """Drop an unusable answer from the cache, so that a retry (or the next run) asks the server again."""
    key = getattr(response, "cache_key", None)
    if isinstance(session, CachedSession) and key:
        session.cache.delete(key)


def rejecter(
    session: requests.Session, path: str, request_id: str
) -> Callable[[requests.Response, UnexpectedResponseError], Exception]:
    """How a page that fails a check is refused (:func:`usage_frames._core.paging.paginate`): forgotten, named.

    Args:
        session: The session whose cache may hold the answer.
        path: The request path, for the message.
        request_id: The response header with the request's id.
    """

    def reject(response: requests.Response, exc: UnexpectedResponseError) -> Exception:
        forget(session, response)
        return UnexpectedResponseError(f"GET {path}: {exc.message}", request_id=response.headers.get(request_id))

    return reject


def send(
    session: requests.Session,
    url: str,
    path: str,
    params: Sequence[tuple[str, str]],
    *,
    headers: Mapping[str, str],
    timeout: float | tuple[float, float],
    max_retries: int,
    sleep: Callable[[float], None],
    gate: RateGate,
    secret: str,
    provider: Provider,
    offline: bool = False,
    decode: Callable[[bytes], T] = msgspec.json.decode,
    expire_after: int | None = None,
) -> tuple[T, requests.Response]:
    """GET one JSON document, with retries; the only place that sends requests.

    Args:
        session: The session to send with.
        url: The full URL (base URL and path).
        path: The path, for messages.
        params: The query string pairs.
        headers: The request headers (the admin key among them).
        timeout: Seconds, or ``(connect, read)`` seconds.
        max_retries: Retries after the first attempt.
        sleep: How to wait between retries.
        gate: The client's shared 429 gate.
        secret: The admin key, scrubbed from every message.
        provider: Whose API it is (how its errors and request ids read).
        offline: Answer only from the cache.
        decode: Turns the body into a value; ``msgspec.DecodeError`` (not JSON) is retried, an
            :class:`UnexpectedResponseError` (JSON of the wrong shape) is raised at once.
        expire_after: Seconds the cache may keep the answer (``-1``: forever); ignored without a cache.

    Returns:
        The decoded JSON and the response.

    Raises:
        APIStatusError: A subclass per status, after retries where retrying helps.
        APIConnectionError: If the server cannot be reached after every retry.
        UnexpectedResponseError: If a 200 answer is not JSON after every retry.
        CacheMissError: Offline, if the cache cannot answer.
    """
    extra: dict[str, Any] = {}
    if isinstance(session, CachedSession):
        extra = {"expire_after": expire_after, "only_if_cached": offline}
    for attempt in range(max_retries + 1):
        error: APIError
        response: requests.Response | None = None
        gate.wait(sleep)
        try:
            # The API never redirects, and a redirect would carry the key elsewhere: a 3xx is an error.
            with gate.slot():
                response = session.get(
                    url, params=params, headers=dict(headers), timeout=timeout, allow_redirects=False, **extra
                )
        except requests.Timeout as exc:
            error = APITimeoutError(f"GET {path} timed out after {timeout} s: {_scrub(exc, secret)}")
        except (
            requests.ConnectionError,
            requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ContentDecodingError,
        ) as exc:
            error = APIConnectionError(f"GET {path} failed: {type(exc).__name__}: {_scrub(exc, secret)}")
        except (requests.RequestException, ValueError, http.client.HTTPException) as exc:
            raise APIConnectionError(f"GET {path} failed: {type(exc).__name__}: {_scrub(exc, secret)}") from None
        else:
            request_id = response.headers.get(provider.wire.request_id)
            log.debug("GET %s %s -> %s (%s)", path, loggable(params), response.status_code, request_id)
            if offline and response.status_code == 504:
                raise CacheMissError(f"GET {path} {loggable(params)} is not in the cache")
            if response.status_code == 200:
                gate.clean(len(response.content))
                try:
                    return decode(response.content), response
                except UnexpectedResponseError as exc:
                    forget(session, response)
                    message = _redact(exc.message, secret)  # it may quote the server (an error envelope with a 200)
                    raise UnexpectedResponseError(f"GET {path}: {message}", request_id=request_id) from None
                except msgspec.DecodeError:
                    forget(session, response)
                    kind = response.headers.get("content-type", "no content type")
                    error = UnexpectedResponseError(
                        f"GET {path} answered 200 with a body that is not JSON ({kind}, "
                        f"{len(response.content)} bytes): a proxy error page or a cut connection?",
                        request_id=request_id,
                    )
            else:
                error = status_error(
                    response.status_code, response.headers, response.content, path=path, provider=provider,
                    secret=secret,
                )  # fmt: skip
                if not should_retry(response.status_code):
                    raise error
        if attempt == max_retries:
            raise error
        delay = retry_delay(attempt, response.headers if response is not None else None)
        log.info("retrying GET %s in %.2f s after: %s", path, delay, error)
        if response is not None and response.status_code == 429:
            gate.close(delay)  # every worker holds off, not just this one
        else:
            sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


def _scrub(exc: BaseException, secret: str) -> str:
    return str(_redact(f"{exc}", secret))[:500]


def _redact(value: Any, secret: str) -> Any:
    """``value`` (text, or JSON made of dicts, lists and text) with every occurrence of ``secret`` replaced."""
    if not secret:
        return value
    if isinstance(value, str):
        return value.replace(secret, "<redacted>")
    if isinstance(value, dict):
        return {_redact(k, secret): _redact(v, secret) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v, secret) for v in value]
    return value


def loggable(params: Sequence[tuple[str, str]]) -> str:
    """The query string for logs (without the opaque page cursor)."""
    return "&".join(f"{k}={v}" for k, v in params if k != "page")
