"""The client: configuration and wiring, fetch/frame/plan, and the fan-out of a query's calendar windows.

Each concern has its own module: argument checks and windows in :mod:`usage_frames.query`, what a fetch costs in
:mod:`usage_frames.plan`, retries in :mod:`usage_frames.transport.retry`, the cache in
:mod:`usage_frames.transport.cache`, the only socket I/O in :mod:`usage_frames.transport.send`, the pagination
loop and every completeness check in :mod:`usage_frames.paging`, pages to frames in :mod:`usage_frames.frames`.
Data sources (:mod:`usage_frames.fake`, :mod:`usage_frames.sample`) hand the client its constructor arguments.

Examples:
    >>> client = Client.fake()
    >>> df = client.completions("2026-10-01", "2026-10-03", group_by="model")
    >>> sorted(df["model"].unique())
    ['gpt-4.1-mini-2025-04-14', 'gpt-4o-2024-08-06', 'gpt-4o-mini-2024-07-18', 'o3-2025-04-16']
    >>> client
    Client(base_url='https://api.openai.com/v1', api_key=<set>, fake=True)
    >>> client.source
    'fake'
"""

from __future__ import annotations

import os
import re
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from functools import partial
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar, overload
from urllib.parse import urlsplit

import msgspec
import pandas as pd
import requests
from requests_cache import CachedSession

from usage_frames.endpoints import ENDPOINTS, BucketWidth, EndpointName
from usage_frames.errors import (
    ADMIN_KEY_HELP,
    LOOKBACK_CODE,
    LOOKBACK_HELP,
    CacheError,
    CacheMissError,
    InvalidParameterError,
    MissingAPIKeyError,
    UnexpectedResponseError,
    UsageFramesWarning,
)
from usage_frames.frames import Page, assemble, columns_of, decode_page
from usage_frames.paging import CLOCK_SLACK, ListCheck, WindowCheck, paginate, trim
from usage_frames.plan import Plan, plan_query
from usage_frames.query import FilterValue, Query, TimeLike, build_query, to_clock, windows
from usage_frames.transport.cache import (
    CACHE_DIR_ENV,
    CACHE_LOCK_WAIT,
    OPEN_WINDOW_TTL,
    SafeSQLiteCache,
    cache_key,
    cached_session,
    default_cache_dir,
    expire_after,
    settled,
)
from usage_frames.transport.retry import (
    DEFAULT_MAX_RETRIES,
    INITIAL_RETRY_DELAY,
    MAX_RETRY_AFTER_DELAY,
    MAX_RETRY_DELAY,
    RETRY_STATUSES,
    RateGate,
    retry_delay,
    should_retry,
)
from usage_frames.transport.send import (
    DEFAULT_BASE_URL,
    DEFAULT_TIMEOUT,
    DeadlineAdapter,
    deadline,
    forget,
    plain_session,
    send,
    status_error,
)

if TYPE_CHECKING:
    from usage_frames.fake import FakeOrganization

__all__ = [  # the names this module has always offered, wherever they live now
    "ADMIN_KEY_HELP", "AUTO_WORKERS_CEILING", "CACHE_DIR_ENV", "CACHE_LOCK_WAIT", "CLOCK_SLACK", "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RETRIES", "DEFAULT_TIMEOUT", "DEFAULT_WORKERS", "INITIAL_RETRY_DELAY", "LOOKBACK_CODE",
    "LOOKBACK_HELP", "MAX_RETRY_AFTER_DELAY", "MAX_RETRY_DELAY", "OPEN_WINDOW_TTL", "RETRY_STATUSES", "Client",
    "DeadlineAdapter", "EndpointFunction", "Plan", "Recording", "SafeSQLiteCache", "Source", "__version__", "cache_key",
    "cached_session", "client_or_default", "deadline", "default_cache_dir", "describe", "plan_query",
    "retry_delay", "settled", "should_retry", "status_error",
]  # fmt: skip

try:
    __version__ = version("usage-frames")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

T = TypeVar("T")
Source = Literal["live", "fake", "sample"]
"""Who answers a client: the API (or a server at ``base_url``), the in-process fake, or the recorded sample."""

NON_ADMIN_PREFIXES = ("sk-proj-", "sk-svcacct-")
# Six windows in flight: a year of hourly data in ~9 round trips (benchmarks/: 4 workers 14x, 8 workers 18x the
# cookbook loop); a 429 closes a gate shared by all of them, so the API's rate limit slows every worker down.
DEFAULT_WORKERS = 6
# workers="auto" starts at DEFAULT_WORKERS, grows while answers are clean and halves on a 429, never above this.
AUTO_WORKERS_CEILING = 32
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


MISS_HINT = "run the query once online to fill the cache"


@dataclass(frozen=True, slots=True)
class Recording:
    """Recorded data a client answers from (the sample): its fixed clock, and what it holds.

    With a recording, the first and last window of a query widen to whole calendar windows and the frame is
    trimmed back to the query, so that recorded data answers any query inside its range (at bucket granularity).

    Attributes:
        now: The recording's clock (the client's "now").
        hint: What a cache miss says the recording holds.
        answer: Answers a query given the client's own :meth:`Client.frame` (the sample adds up recorded
            results); ``None`` reads the recording as it is.
    """

    now: pd.Timestamp
    hint: str = MISS_HINT
    answer: Callable[[Query, Callable[[Query], pd.DataFrame]], pd.DataFrame] | None = None


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



# An admin key is printable ASCII (letters, digits, "-" and "_" in practice); anything else was pasted by mistake.
_KEY_CHARS = re.compile(r"[\x21-\x7e]+")


def _key_shape(key: str) -> str:
    """What an error may show of a key: its ``sk-<kind>-`` prefix, never a character more."""
    parts = key.split("-")
    return f"sk-{parts[1]}-..." if len(parts) > 2 and parts[0] == "sk" and parts[1].isalnum() else "..."


def _admin_key(api_key: object) -> str:
    """The admin key from the argument or ``OPENAI_ADMIN_KEY``, checked; errors show only its prefix."""
    key = api_key if api_key is not None else os.environ.get("OPENAI_ADMIN_KEY", "")
    if not isinstance(key, str):
        raise InvalidParameterError("api_key", f"<{type(key).__name__}>", reason="must be a str. " + ADMIN_KEY_HELP)
    key = key.strip()  # a trailing newline from a file or a copy is harmless
    if not key:
        raise MissingAPIKeyError("No admin key. " + ADMIN_KEY_HELP)
    if not _KEY_CHARS.fullmatch(key):
        bad = next(c for c in key if not _KEY_CHARS.fullmatch(c))
        raise InvalidParameterError(
            "api_key",
            _key_shape(key),
            reason=f"contains '{bad.encode('unicode_escape').decode()}' (a line break, a space or an invisible or "
            "non-ASCII character, pasted with the key?); copy the key again",
        )
    if key.startswith(NON_ADMIN_PREFIXES):
        raise InvalidParameterError("api_key", _key_shape(key), reason="is not an admin key. " + ADMIN_KEY_HELP)
    return key


def _base_url(base_url: object, allow_http: bool) -> str:
    """The API root from the argument, ``OPENAI_BASE_URL`` or the default, checked."""
    url = base_url if base_url is not None else os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL
    if not isinstance(url, str):
        raise InvalidParameterError("base_url", url, reason="must be a str such as " + DEFAULT_BASE_URL)
    url = url.strip().rstrip("/") or DEFAULT_BASE_URL
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as exc:
        raise InvalidParameterError("base_url", url, reason=f"is not a URL ({exc})") from None
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or not _KEY_CHARS.fullmatch(url)
        or parts.query
        or parts.fragment
    ):
        raise InvalidParameterError("base_url", url, reason="must be an http(s) URL such as " + DEFAULT_BASE_URL)
    if parts.username is not None or parts.password is not None:  # a secret in the URL would show in every repr
        raise InvalidParameterError(
            "base_url", "<a URL with a user or password>", reason="must not carry credentials; the key is enough"
        )
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS and allow_http is not True:
        raise InvalidParameterError(
            "base_url", url, reason="is plain http on a non-loopback host; use https or pass allow_http=True"
        )
    return url


def _seconds(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 10**6 and value == value


def _timeout(timeout: object) -> float | tuple[float, float]:
    """A positive, finite timeout in seconds, or a ``(connect, read)`` pair of them."""
    if isinstance(timeout, tuple) and len(timeout) == 2 and all(_seconds(t) for t in timeout):
        return float(timeout[0]), float(timeout[1])
    if _seconds(timeout):
        return float(timeout)  # type: ignore[arg-type]
    raise InvalidParameterError(
        "timeout", timeout, reason="must be seconds > 0 (an int or float), or a (connect, read) pair of them"
    )


class Client:
    """A connection to the Usage and Costs API of one organization.

    Args:
        api_key: The organization admin key; defaults to ``OPENAI_ADMIN_KEY``.
        base_url: The API root; defaults to ``OPENAI_BASE_URL``, then ``https://api.openai.com/v1``.
        session: A ``requests.Session`` to send with (any subclass); when given, ``cache`` is ignored.
        cache: ``True`` (default) caches answers under :func:`default_cache_dir`; a path caches there; a
            requests-cache ``CachedSession`` is used as it is; ``False`` disables caching. Settled windows are
            cached forever, the window that contains now for :data:`OPEN_WINDOW_TTL` seconds.
        offline: Answer only from the cache; a query the cache cannot answer raises :class:`CacheMissError`
            listing the missing windows.
        workers: Windows fetched at once (1 fetches sequentially), or ``"auto"``: start at
            :data:`DEFAULT_WORKERS`, grow while answers come back clean, halve on a 429 (the rate limit), never
            more than :data:`AUTO_WORKERS_CEILING` requests in flight.
        progress: Show a progress bar (tqdm) for fetches of more than 4 windows; ``None`` means "when
            interactive" (a terminal or a notebook).
        timeout: Seconds, or ``(connect, read)`` seconds, per request.
        max_retries: Retries after the first attempt, for 408/409/429/5xx and connection errors.
        sleep: How to wait between retries (tests pass a recorder).
        allow_http: Allow a plain ``http://`` base URL on a non-loopback host (the key would travel in clear).
        max_requests: The most requests one fetch may send (a year of ``1m`` buckets is 365); larger queries are
            refused before anything is sent, with the coarser width that would answer them.
        now: The client's clock (a fixed time, for tests and replays); defaults to the real time.
        recording: Recorded data to answer from (:meth:`sample`): its clock, what it holds, how it answers.
        source: Who answers (``"live"``, ``"fake"``, ``"sample"``); set by :meth:`fake` and :meth:`sample`.

    Raises:
        MissingAPIKeyError: If there is no key, with instructions to create and set one.
        InvalidParameterError: If the key is a project key, or another argument is unusable.
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        session: requests.Session | None = None,
        cache: bool | str | os.PathLike[str] | CachedSession = True,
        offline: bool = False,
        workers: int | Literal["auto"] = DEFAULT_WORKERS,
        progress: bool | None = None,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        sleep: Callable[[float], None] = time.sleep,
        allow_http: bool = False,
        max_requests: int = 1000,
        now: pd.Timestamp | None = None,
        recording: Recording | None = None,
        source: Source = "live",
    ) -> None:
        self._key = _admin_key(api_key)
        self.base_url = _base_url(base_url, allow_http)
        self.timeout = _timeout(timeout)
        adaptive = workers == "auto"
        for name, value, low, high in (
            ("max_retries", max_retries, 0, 100),
            ("workers", AUTO_WORKERS_CEILING if adaptive else workers, 1, 64),
            ("max_requests", max_requests, 1, 10**6),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise InvalidParameterError(name, value, reason=f"must be an int >= {low} and <= {high}")
        for name, flag in (("offline", offline), ("allow_http", allow_http)):
            if not isinstance(flag, bool):
                raise InvalidParameterError(name, flag, (True, False), reason="must be a bool")
        if progress is not None and not isinstance(progress, bool):
            raise InvalidParameterError("progress", progress, (True, False, None), reason="must be a bool or None")
        if not callable(sleep):
            raise InvalidParameterError("sleep", sleep, reason="must be a callable taking seconds, like time.sleep")
        if session is not None and not isinstance(session, requests.Session):
            raise InvalidParameterError("session", session, reason="must be a requests.Session (or None)")
        if not isinstance(cache, bool | str | os.PathLike | CachedSession) and cache is not None:
            raise InvalidParameterError(
                "cache", cache, reason="must be True, False, a folder path or a requests-cache CachedSession"
            )
        if isinstance(cache, str | os.PathLike) and (not os.fspath(cache) or "\x00" in os.fspath(cache)):
            raise InvalidParameterError("cache", cache, reason="is not a usable folder path (empty, or a NUL in it)")
        if recording is not None and not isinstance(recording, Recording):
            raise InvalidParameterError("recording", recording, reason="must be a usage_frames.client.Recording")
        if source not in ("live", "fake", "sample"):
            raise InvalidParameterError("source", source, ("live", "fake", "sample"))
        self.now = recording.now if recording is not None else None if now is None else to_clock(now)
        self.session = _session(session, cache, offline)
        if session is None and not isinstance(cache, CachedSession):
            _merge_environment_once(self.session, self.base_url)
        self.offline = offline
        self.workers: int = AUTO_WORKERS_CEILING if adaptive else workers  # type: ignore[assignment]
        self.progress = progress
        self.max_retries = max_retries
        self.sleep = sleep
        self.source: Source = source
        self.recording = recording
        self.max_requests = max_requests
        self._gate = RateGate(DEFAULT_WORKERS, AUTO_WORKERS_CEILING) if adaptive else RateGate()

    @classmethod
    def fake(cls, organization: FakeOrganization | None = None, **kwargs: Any) -> Client:
        """A client answered in-process by the built-in fake organization (no key, no network, no cache).

        Args:
            organization: The fake organization; defaults to the standard one, on the client's clock (``now=``).
            **kwargs: Passed on to :class:`Client`.

        Examples:
            >>> Client.fake().costs("2026-10-01", "2026-10-02")["amount"].round(2).tolist()
            [76.3]
        """
        from usage_frames.fake import client_arguments

        return cls(**client_arguments(organization, **kwargs))

    @classmethod
    def sample(cls, path: str | os.PathLike[str] | None = None) -> Client:
        """A client answered offline from the embedded sample data (see :mod:`usage_frames.sample`).

        Examples:
            >>> Client.sample().clock()
            Timestamp('2026-10-21 00:00:00+0000', tz='UTC')
        """
        from usage_frames.sample import client_arguments

        return cls(**client_arguments(path))

    def __repr__(self) -> str:
        extra = ", fake=True" if self.source == "fake" else ""
        if isinstance(self.session, CachedSession):
            store = self.session.cache
            extra += f", cache={str(getattr(store, 'db_path', '') or getattr(store, 'cache_dir', ''))!r}"
            extra += ", offline=True" if self.offline else ""
        return f"Client(base_url={self.base_url!r}, api_key=<set>{extra})"

    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self._key}",
            "Accept": "application/json",
            "User-Agent": f"usage-frames/{__version__} python-requests/{requests.__version__}",
        }

    def get(
        self,
        path: str,
        params: Sequence[tuple[str, str]],
        *,
        decode: Callable[[bytes], T] = msgspec.json.decode,
        expire_after: int | None = None,
    ) -> tuple[T, requests.Response]:
        """GET one JSON document with retries (see :func:`usage_frames.transport.send.send`)."""
        return send(
            self.session, self.base_url + path, path, params, headers=self._headers(), timeout=self.timeout,
            max_retries=self.max_retries, sleep=self.sleep, gate=self._gate, secret=self._key, offline=self.offline,
            decode=decode, expire_after=expire_after,
        )  # fmt: skip

    def _reject(self, path: str) -> Callable[[requests.Response, UnexpectedResponseError], Exception]:
        """How a page that fails a check is refused: dropped from the cache, the request named."""

        def reject(response: requests.Response, exc: UnexpectedResponseError) -> Exception:
            forget(self.session, response)
            request_id = response.headers.get("x-request-id")
            return UnexpectedResponseError(f"GET {path}: {exc.message}", request_id=request_id)

        return reject

    def pages(self, query: Query, *, expire_after: int | None = None) -> Iterator[Page]:
        """Yield every page of a query, each checked before it is yielded (see :mod:`usage_frames.paging`).

        Args:
            query: The validated query.
            expire_after: Cache lifetime of the answers in seconds (``-1``: forever).

        Raises:
            UnexpectedResponseError: For a broken page or cursor, or buckets that do not tile the window.
        """
        path = query.endpoint.path
        decode = partial(decode_page, endpoint=query.endpoint)

        def fetch(cursor: str | None) -> tuple[Page, requests.Response]:
            page, response = self.get(path, query.params(cursor), decode=decode, expire_after=expire_after)
            # The page holds all of it now (and the cache has stored it): a body of a 1h page of 1,000 users is
            # 100 MB, not to be kept alive next to its structs until the window is done.
            response._content = b""
            return page, response

        return paginate(fetch, WindowCheck(query, self.clock()), self._reject(path))

    def check_size(self, query: Query) -> list[Query]:
        """The calendar windows of a query, or an argument error if they are more than ``max_requests``.

        Raises:
            InvalidParameterError: Naming ``start`` and the coarser width that would answer the query.
        """
        parts = windows(query)
        if len(parts) > self.max_requests:
            days = (query.end - query.start) / pd.Timedelta(days=1)
            coarser = {"1m": "'1h'", "1h": "'1d'"}.get(query.bucket_width, "a shorter window")
            raise InvalidParameterError(
                "start",
                query.start.isoformat(),
                reason=f"makes a window too long for bucket_width={query.bucket_width!r}: {days:.0f} days need "
                f"{len(parts)} requests, more than max_requests={self.max_requests}; use {coarser} or split it",
            )
        return parts

    def window_pages(self, query: Query) -> list[list[Page]]:
        """Fetch the calendar windows of a query, ``workers`` at a time, in order.

        Raises:
            CacheMissError: Offline, listing every window the cache cannot answer.
        """
        return self._windows(query, lambda pages, window: pages)

    def _windows(self, query: Query, build: Callable[[list[Page], Query], T]) -> list[T]:
        """Fetch the windows of a query and ``build`` each from its pages in the worker that fetched it.

        The frame's columns are built there (:func:`usage_frames.frames.columns_of`), so that a window's decoded
        structs are freed as soon as its columns exist and the main thread only joins columns.
        """
        parts = self.check_size(query)
        if self.recording is not None:
            parts = _snapped(parts, query, self.now)
        now = self.clock()
        bar = _progress_bar(len(parts), query.endpoint.name, self.progress)
        results: list[T | None] = [None] * len(parts)
        missing: list[str] = []

        def run(i: int) -> None:
            window = parts[i]
            try:
                pages = trim(list(self.pages(window, expire_after=expire_after(window, now))), window)
            except CacheMissError:
                missing.append(f"{window.start:%Y-%m-%d %H:%M}..{window.end:%Y-%m-%d %H:%M}")
            else:
                try:
                    results[i] = build(pages, window)
                except UnexpectedResponseError as exc:  # an impossible value: say which request brought it
                    span = f"{window.start:%Y-%m-%d %H:%M}..{window.end:%Y-%m-%d %H:%M} UTC"
                    raise UnexpectedResponseError(
                        f"GET {query.endpoint.path} ({span}): {exc.message}", request_id=exc.request_id
                    ) from None
            bar.update(1)

        try:
            if self.workers == 1 or len(parts) == 1:
                for i in range(len(parts)):
                    run(i)
            else:
                with ThreadPoolExecutor(min(self.workers, len(parts)), thread_name_prefix="usage-frames") as pool:
                    futures: list[Future[None]] = [pool.submit(run, i) for i in range(len(parts))]
                    try:
                        for future in as_completed(futures):
                            future.result()
                    except BaseException:
                        for future in futures:
                            future.cancel()  # stop what has not started; never return a partial frame
                        raise
        finally:
            bar.close()
        if missing:
            hint = self.recording.hint if self.recording is not None else MISS_HINT
            raise CacheMissError(
                f"{query.endpoint.name}: {len(missing)} of {len(parts)} window(s) are not in the cache: "
                + ", ".join(sorted(missing))
                + f" ({hint})"
            )
        # Each window's buckets tile it (checked in pages()), so windows cannot overlap: no check across them.
        return [r for r in results if r is not None]

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
        query = self._query(endpoint, start, end, bucket_width, group_by, limit, filters)
        return self.frame(query)

    def _query(
        self,
        endpoint: str,
        start: TimeLike | None,
        end: TimeLike | None,
        bucket_width: str,
        group_by: str | Sequence[str] | None,
        limit: int | None,
        filters: Mapping[str, FilterValue | None],
    ) -> Query:
        return build_query(
            endpoint,
            start,
            end,
            bucket_width=bucket_width,
            group_by=group_by,
            limit=limit,
            filters=filters,
            now=self.now,
        )


    def frame(self, query: Query) -> pd.DataFrame:
        """Fetch a validated query (see :func:`usage_frames.query.build_query`) as a tidy frame.

        A :class:`Recording` answers in its own way (the sample adds up recorded results) and says it is
        ``as_of`` its own clock.
        """
        if self.recording is not None and self.recording.answer is not None:
            frame = self.recording.answer(query, self._frame)
            frame.attrs["as_of"] = self.clock().isoformat()
            return frame
        return self._frame(query)

    def _frame(self, query: Query) -> pd.DataFrame:
        frame = assemble(self._windows(query, lambda pages, window: columns_of(pages, query)), query)
        frame.attrs["as_of"] = self.clock().isoformat()  # the data's "as of" time, for forecasts (ops.as_of)
        if self.recording is not None:  # keep the buckets that overlap the query
            frame = frame[(frame["end_time"] > query.start) & (frame.index < query.end)]
        return frame

    def clock(self) -> pd.Timestamp:
        """The client's "now": the real time, or the fixed time of recorded data."""
        return pd.Timestamp.now(tz="UTC") if self.now is None else self.now

    def list_objects(self, path: str) -> list[dict[str, Any]]:
        """Every object of a list endpoint (``/organization/projects``...), following ``after``/``has_more``.

        Examples:
            >>> [p["name"] for p in Client.fake().list_objects("/organization/projects")][:2]
            ['Customer chat', 'Search & RAG']
        """
        _check_path(path)

        def fetch(after: str | None) -> tuple[Any, requests.Response]:
            params = [("limit", "100")] + ([("after", after)] if after else [])
            return self.get(path, params, decode=_json, expire_after=OPEN_WINDOW_TTL)

        return [o for page in paginate(fetch, ListCheck(path), self._reject(path)) for o in page["data"]]

    def get_object(self, path: str) -> dict[str, Any]:
        """One JSON object, such as ``/organization/spend_limit``.

        Examples:
            >>> Client.fake().get_object("/organization/spend_limit")["threshold_amount"]
            400000
        """
        _check_path(path)
        value, _ = self.get(path, [], decode=_json, expire_after=OPEN_WINDOW_TTL)
        if not isinstance(value, dict):
            raise UnexpectedResponseError(f"GET {path}: not an object")
        return value

    def plan(
        self,
        endpoint: EndpointName | str,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        *,
        bucket_width: BucketWidth | str = "1d",
        group_by: str | Sequence[str] | None = None,
        limit: int | None = None,
        **filters: FilterValue | None,
    ) -> Plan:
        """Say what a fetch would cost (requests, cached windows, rows) without sending anything.

        Examples:
            >>> client = Client.fake(now=pd.Timestamp("2026-11-28", tz="UTC"))
            >>> print(client.plan("completions", "2025-11-01", "2026-11-01", bucket_width="1h",
            ...                   group_by=["project_id", "model"]))
            completions 2025-11-01 00:00 .. 2026-11-01 00:00 UTC at 1h by project_id, model:
              53 request(s) in 53 window(s), 0 already cached; 8,760 buckets, at most ~1,314,000 rows
              warning: ~1,314,000 rows expected at 1h over 365 days: bucket_width='1d' answers the same totals ...
              warning: start 2025-11-01 is more than a year back: the API refuses starts before 2025-11-28 ...
        """
        query = self._query(endpoint, start, end, bucket_width, group_by, limit, filters)
        cached = 0
        if isinstance(self.session, CachedSession):
            for window in windows(query):
                request = requests.Request(
                    "GET", self.base_url + query.endpoint.path, params=window.params(), headers=self._headers()
                )
                cached += bool(self.session.cache.contains(request=request.prepare()))
        return plan_query(query, cached, self.clock())

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


def client_or_default(client: object) -> Client:
    """``client`` itself, or ``Client()`` (key from ``OPENAI_ADMIN_KEY``) when it is ``None``.

    Raises:
        InvalidParameterError: If ``client`` is something else than a :class:`Client`.

    Examples:
        >>> client_or_default("sk-admin-...")
        Traceback (most recent call last):
        ...
        usage_frames.errors.InvalidParameterError: client: 'sk-admin-...' must be a usage_frames.Client or None
    """
    if client is None:
        return Client()
    if not isinstance(client, Client):
        shown = _key_shape(client) if isinstance(client, str) and client.startswith("sk-") else client
        raise InvalidParameterError("client", shown, reason="must be a usage_frames.Client or None")
    return client


def _session(
    session: requests.Session | None, cache: bool | str | os.PathLike[str] | CachedSession | None, offline: bool
) -> requests.Session:
    """The session to send with: the one given, else a cached one (see ``Client(cache=)``), else a plain one."""
    if session is None:
        if isinstance(cache, CachedSession):
            session = cache
        elif cache is False or cache is None:
            session = plain_session()
        else:
            folder = default_cache_dir() if cache is True else Path(cache)
            try:
                session = cached_session(folder, offline=offline)
            except CacheError as exc:
                if offline:
                    raise
                warnings.warn(f"{exc}; fetching without a cache", UsageFramesWarning, stacklevel=3)
                session = plain_session()
    if offline and not isinstance(session, CachedSession):
        raise InvalidParameterError("offline", offline, reason="needs a cache (cache=True, a path or a session)")
    return session


def _merge_environment_once(session: requests.Session, base_url: str) -> None:
    """Read the environment's proxy and CA bundle settings for ``base_url`` once, for every request of a session.

    requests merges them on every request (proxy bypass rules and all: 6.5 ms a request in benchmarks/); a
    session the user passed is left as it is.
    """
    settings = session.merge_environment_settings(base_url, {}, None, None, None)
    session.proxies.update(settings["proxies"])
    session.verify = settings["verify"] if settings["verify"] is not None else session.verify
    session.trust_env = False


def _snapped(parts: list[Query], query: Query, now: pd.Timestamp | None) -> list[Query]:
    """The windows of a query widened to whole calendar windows at both ends (the last one ends at ``now``)."""
    whole = windows(replace(query, start=query.start.floor("D") - pd.Timedelta(days=40), end=query.end))
    first = next(w for w in whole if w.start <= query.start < w.end)
    stop = query.end if now is None else now
    tail = windows(replace(query, start=parts[-1].start, end=max(stop, query.end)))[0]
    return (
        [replace(parts[0], start=first.start), *parts[1:-1], replace(parts[-1], end=tail.end)]
        if len(parts) > 1
        else [replace(parts[0], start=first.start, end=tail.end)]
    )



class _NoBar:
    def update(self, n: int) -> None:
        """Nothing to show."""

    def close(self) -> None:
        """Nothing to close."""


def _progress_bar(total: int, name: str, enabled: bool | None) -> Any:
    """A tqdm bar (notebook-aware) over windows, or a no-op when off, short, or not interactive."""
    if enabled is None:
        enabled = sys.stderr.isatty() or "ipykernel" in sys.modules
    if not enabled or total <= 4:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=f"usage-frames {name}", unit="window", leave=False)


def _check_path(path: object) -> None:
    if not isinstance(path, str) or not path.startswith("/") or not _KEY_CHARS.fullmatch(path):
        raise InvalidParameterError("path", path, reason="must be an API path such as '/organization/projects'")


def _loggable(params: Sequence[tuple[str, str]]) -> str:
    return "&".join(f"{k}={v}" for k, v in params if k != "page")


def _json(content: bytes) -> Any:
    return msgspec.json.decode(content)
