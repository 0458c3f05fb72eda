"""The client: configuration and wiring, fetch/frame/plan, and the calendar windows of a query.

Each concern has its own module: argument checks and windows in :mod:`usage_frames.query`, what a fetch costs in
:mod:`usage_frames.plan`, retries in :mod:`usage_frames.transport.retry`, the cache in
:mod:`usage_frames.transport.cache`, the only socket I/O in :mod:`usage_frames.transport.send`, the pagination
loop and every completeness check in :mod:`usage_frames.paging`, pages to frames in :mod:`usage_frames.frames`,
running windows at once in :mod:`usage_frames.fanout`, the endpoint methods in :mod:`usage_frames.surface`.
Data sources (:mod:`usage_frames.fake`, :mod:`usage_frames.sample`) hand the client its constructor arguments, a
:class:`~usage_frames.source.Recording` among them for recorded data.

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
import time
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import msgspec
import pandas as pd
import requests
from requests_cache import CachedSession

import usage_frames.query
from usage_frames.errors import ADMIN_KEY_HELP, CacheMissError, InvalidParameterError, UnexpectedResponseError
from usage_frames.fanout import AUTO_WORKERS_CEILING, DEFAULT_WORKERS, fan_out, progress_bar
from usage_frames.frames import Page, assemble, columns_of, decode_page
from usage_frames.paging import WindowCheck, list_objects, paginate, trim
from usage_frames.plan import Plan, check_size, plan_query
from usage_frames.query import Query, snapped, to_clock
from usage_frames.source import MISS_HINT, Recording, Source
from usage_frames.surface import EndpointFunction, Endpoints, describe
from usage_frames.transport import config
from usage_frames.transport.cache import (
    CACHE_LOCK_WAIT,
    OPEN_WINDOW_TTL,
    cached_session,
    default_cache_dir,
    expire_after,
)
from usage_frames.transport.retry import (
    DEFAULT_MAX_RETRIES,
    MAX_RETRY_AFTER_DELAY,
    MAX_RETRY_DELAY,
    RateGate,
    retry_delay,
    should_retry,
)
from usage_frames.transport.send import (
    DEFAULT_BASE_URL,
    DEFAULT_TIMEOUT,
    BodyBudget,
    deadline,
    rejecter,
    send,
    status_error,
)

if TYPE_CHECKING:
    from usage_frames.fake import FakeOrganization

__all__ = [  # what this module offers; the names that moved out (transport/, fanout, source) stay importable here
    "ADMIN_KEY_HELP", "AUTO_WORKERS_CEILING", "CACHE_LOCK_WAIT", "DEFAULT_BASE_URL", "DEFAULT_WORKERS",
    "MAX_RETRY_AFTER_DELAY", "MAX_RETRY_DELAY", "OPEN_WINDOW_TTL", "Client", "EndpointFunction", "Plan", "Recording",
    "Source", "__version__", "cached_session", "deadline", "default_cache_dir", "describe", "plan_query",
    "retry_delay", "should_retry", "status_error",
]  # fmt: skip

try:
    __version__ = version("usage-frames")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

T = TypeVar("T")


class Client(Endpoints):
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
        workers: ``"auto"`` (default): start with :data:`DEFAULT_WORKERS` windows in flight, grow while answers
            come back clean (and small), halve on a 429 (the rate limit), never more than
            :data:`AUTO_WORKERS_CEILING`; or a fixed number of windows fetched at once (1 fetches sequentially).
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
        workers: int | Literal["auto"] = "auto",
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
        self._key = config.admin_key(api_key)
        self.base_url = config.base_url(base_url, allow_http)
        self.timeout = config.timeout(timeout)
        adaptive = workers == "auto"
        config.check_options(
            max_retries=max_retries, workers=AUTO_WORKERS_CEILING if adaptive else workers, max_requests=max_requests,
            offline=offline, allow_http=allow_http, progress=progress, sleep=sleep, session=session, cache=cache,
            source=source,
        )  # fmt: skip
        if recording is not None and not isinstance(recording, Recording):
            raise InvalidParameterError("recording", recording, reason="must be a usage_frames.client.Recording")
        self.now = recording.now if recording is not None else None if now is None else to_clock(now)
        self.session = config.session(session, cache, offline)
        if session is None and not isinstance(cache, CachedSession):
            config.merge_environment_once(self.session, self.base_url)
        self.offline = offline
        self.workers: int = AUTO_WORKERS_CEILING if adaptive else workers  # type: ignore[assignment]
        self.progress = progress
        self.max_retries = max_retries
        self.sleep = sleep
        self.source: Source = source
        self.recording = recording
        self.max_requests = max_requests
        self._gate = RateGate(DEFAULT_WORKERS, AUTO_WORKERS_CEILING) if adaptive else RateGate()
        self.body_budget = BodyBudget()  # large answers held at once by the workers (memory, not rate)

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

        return paginate(fetch, WindowCheck(query, self.clock()), rejecter(self.session, path))

    def check_size(self, query: Query) -> list[Query]:
        """The calendar windows of a query, or an argument error beyond ``max_requests`` (see :func:`check_size`)."""
        return check_size(query, self.max_requests)

    def _windows(self, query: Query, build: Callable[[list[Page], Query], T]) -> list[T]:
        """Fetch the windows of a query and ``build`` each from its pages in the worker that fetched it.

        The frame's columns are built there (:func:`usage_frames.frames.columns_of`), so that a window's decoded
        structs are freed as soon as its columns exist and the main thread only joins columns.
        """
        parts = self.check_size(query)
        if self.recording is not None:
            parts = snapped(parts, query, self.now)
        now = self.clock()
        bar = progress_bar(len(parts), query.endpoint.name, self.progress)
        results: list[T | None] = [None] * len(parts)
        missing: list[tuple[pd.Timestamp, pd.Timestamp]] = []

        def fetch(window: Query) -> T:
            pages = trim(list(self.pages(window, expire_after=expire_after(window, now))), window)
            try:
                return build(pages, window)
            except UnexpectedResponseError as exc:  # an impossible value: say which request brought it
                span = f"{window.start:%Y-%m-%d %H:%M}..{window.end:%Y-%m-%d %H:%M} UTC"
                raise UnexpectedResponseError(
                    f"GET {query.endpoint.path} ({span}): {exc.message}", request_id=exc.request_id
                ) from None

        def run(i: int) -> None:
            window = parts[i]
            try:
                with self.body_budget.held():  # the window's pages are gone when fetch returns
                    results[i] = fetch(window)
            except CacheMissError:
                missing.append((window.start, window.end))
            bar.update(1)

        try:
            fan_out(run, len(parts), self.workers)
        finally:
            bar.close()
        if missing:
            hint = self.recording.hint if self.recording is not None else MISS_HINT
            raise CacheMissError.missing(query.endpoint.name, missing, of=len(parts), hint=hint)
        # Each window's buckets tile it (checked in pages()), so windows cannot overlap: no check across them.
        return [r for r in results if r is not None]

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
        return usage_frames.query.wall_clock() if self.now is None else self.now

    def list_objects(self, path: str) -> list[dict[str, Any]]:
        """Every object of a list endpoint (``/organization/projects``...), following ``after``/``has_more``.

        Examples:
            >>> [p["name"] for p in Client.fake().list_objects("/organization/projects")][:2]
            ['Customer chat', 'Search & RAG']
        """
        config.check_path(path)
        get = partial(self.get, path, decode=msgspec.json.decode, expire_after=OPEN_WINDOW_TTL)
        return list_objects(get, path, rejecter(self.session, path))

    def get_object(self, path: str) -> dict[str, Any]:
        """One JSON object, such as ``/organization/spend_limit``.

        Examples:
            >>> Client.fake().get_object("/organization/spend_limit")["threshold_amount"]
            400000
        """
        config.check_path(path)
        value, _ = self.get(path, [], decode=msgspec.json.decode, expire_after=OPEN_WINDOW_TTL)
        if not isinstance(value, dict):
            raise UnexpectedResponseError(f"GET {path}: not an object")
        return value
