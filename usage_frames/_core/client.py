"""The client: configuration and wiring, fetch/frame/plan, and the calendar windows of a query.

Provider-neutral: a client takes a :class:`~usage_frames._core.provider.Provider` (its endpoints, wire format and
credentials) and sends nothing it did not read there. Each concern has its own module: argument checks and windows
in :mod:`usage_frames._core.query`, what a fetch costs in :mod:`usage_frames._core.plan`, retries in
:mod:`usage_frames._transport.retry`, the cache in :mod:`usage_frames._transport.cache`, the only socket I/O in
:mod:`usage_frames._transport.send`, the pagination loop and every completeness check in
:mod:`usage_frames._core.paging`, pages to frames in :mod:`usage_frames._core.frames`, running windows at once in
:mod:`usage_frames._core.fanout`, fetch and plan by name in :mod:`usage_frames._core.surface`. The public
``usage_frames.Client`` adds every provider's endpoint methods and picks the provider by name.

Examples:
    >>> import usage_frames as uf
    >>> client = uf.Client.fake()
    >>> df = client.completions("2026-10-01", "2026-10-03", group_by="model")
    >>> sorted(df["model"].unique())
    ['gpt-4.1-mini-2025-04-14', 'gpt-4o-2024-08-06', 'gpt-4o-mini-2024-07-18', 'o3-2025-04-16']
    >>> client
    Client(provider='...', base_url='...', api_key=<set>, fake=True)
    >>> client.source
    'fake'
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import partial
from importlib.metadata import PackageNotFoundError, version
from typing import Any, ClassVar, Literal, TypeVar

import msgspec
import pandas as pd
import requests
from requests_cache import CachedSession

from usage_frames._core import query as queries
from usage_frames._core.errors import CacheMissError, InvalidParameterError, UnexpectedResponseError
from usage_frames._core.fanout import AUTO_WORKERS_CEILING, DEFAULT_WORKERS, fan_out, progress_bar
from usage_frames._core.frames import assemble, columns_of
from usage_frames._core.pages import Page, decode_page
from usage_frames._core.paging import WindowCheck, list_objects, paginate, trim
from usage_frames._core.plan import check_size
from usage_frames._core.provider import Provider
from usage_frames._core.query import Query, to_clock
from usage_frames._core.surface import Endpoints
from usage_frames._transport import config
from usage_frames._transport.cache import OPEN_WINDOW_TTL, expire_after
from usage_frames._transport.retry import DEFAULT_MAX_RETRIES, RateGate
from usage_frames._transport.send import DEFAULT_TIMEOUT, BodyBudget, rejecter, send

try:
    __version__ = version("usage-frames")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

T = TypeVar("T")
MISS_HINT = "run the query once online to fill the cache"


class BaseClient(Endpoints):
    """A connection to the usage and cost reports of one organization of one provider.

    Args:
        api_key: The organization admin key; defaults to the provider's environment variable
            (``Credentials.env``).
        base_url: The API root; defaults to the provider's environment variable (``Credentials.base_url_env``),
            then its public API.
        provider: The provider: a :class:`~usage_frames._core.provider.Provider`, or its name among
            :attr:`providers`; empty for the first of them.
        session: A ``requests.Session`` to send with (any subclass); when given, ``cache`` is ignored.
        cache: ``True`` (default) caches answers under :func:`~usage_frames._transport.cache.default_cache_dir`; a
            path caches there; a requests-cache ``CachedSession`` is used as it is; ``False`` disables caching.
            Settled windows are cached forever, the window that contains now for
            :data:`~usage_frames._transport.cache.OPEN_WINDOW_TTL` seconds.
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
        transport: Who answers instead of the API: a ``requests`` transport adapter mounted on the client's session
            for its base URL (the fake organization's :class:`~usage_frames.fake.FakeAdapter`, a recorded sample's
            :class:`~usage_frames.fake.recording.RecordedAPI`); ``None`` sends to the API. ``Client.fake()`` and
            ``Client.sample()`` pass theirs.

    Raises:
        MissingAPIKeyError: If there is no key, with instructions to create and set one.
        InvalidParameterError: If the key is not an admin key, or another argument is unusable.
    """

    providers: ClassVar[Mapping[str, Provider]] = {}
    """The providers a client may be made for by name (the public ``Client`` knows every registered one)."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        provider: str | Provider = "",
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
        transport: requests.adapters.BaseAdapter | None = None,
    ) -> None:
        self.provider: Provider = self.resolve(provider)
        credentials = self.provider.credentials
        others = {p.name: p.credentials for p in self.providers.values() if p.name != self.provider.name}
        self._key = config.admin_key(api_key, credentials, others)
        self.base_url = config.base_url(base_url, allow_http, credentials)
        self.timeout = config.timeout(timeout)
        adaptive = workers == "auto"
        config.check_options(
            max_retries=max_retries, workers=AUTO_WORKERS_CEILING if adaptive else workers, max_requests=max_requests,
            offline=offline, allow_http=allow_http, progress=progress, sleep=sleep, session=session, cache=cache,
            transport=transport,
        )  # fmt: skip
        self.now = None if now is None else to_clock(now)
        self.session = config.session(session, cache, offline, credentials.header, self.provider.cache_namespace)
        if session is None and not isinstance(cache, CachedSession):
            config.merge_environment_once(self.session, self.base_url)
        self.offline = offline
        self.workers: int = AUTO_WORKERS_CEILING if adaptive else workers  # type: ignore[assignment]
        self.progress = progress
        self.max_retries = max_retries
        self.sleep = sleep
        if transport is not None:
            self.session.mount(config.origin(self.base_url), transport)
        # Who answers: "live" (the API, or a server at base_url), else the transport's own ("fake", "sample").
        self.source: str = getattr(transport, "source", "live") if transport is not None else "live"
        self.max_requests = max_requests
        self._gate = RateGate(DEFAULT_WORKERS, AUTO_WORKERS_CEILING) if adaptive else RateGate()
        self.body_budget = BodyBudget()  # large answers held at once by the workers (memory, not rate)

    @classmethod
    def resolve(cls, provider: object) -> Provider:
        """The provider named ``provider`` among :attr:`providers` (empty: the first), or the one given.

        Raises:
            InvalidParameterError: If there is no such provider, listing the known ones.
        """
        if isinstance(provider, Provider):
            return provider
        if isinstance(provider, str) and provider in cls.providers:
            return cls.providers[provider]
        if isinstance(provider, str) and not provider and cls.providers:
            return next(iter(cls.providers.values()))
        raise InvalidParameterError("provider", provider, tuple(cls.providers))

    def __repr__(self) -> str:
        extra = f", {self.source}=True" if self.source != "live" else ""
        if isinstance(self.session, CachedSession):
            store = self.session.cache
            extra += f", cache={str(getattr(store, 'db_path', '') or getattr(store, 'cache_dir', ''))!r}"
            extra += ", offline=True" if self.offline else ""
        return f"Client(provider={self.provider.name!r}, base_url={self.base_url!r}, api_key=<set>{extra})"

    def headers(self) -> dict[str, str]:
        """The headers of every request: the provider's credential header and its other headers."""
        credentials = self.provider.credentials
        return {
            credentials.header: credentials.scheme + self._key,
            **dict(credentials.headers),
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
        """GET one JSON document with retries (see :func:`usage_frames._transport.send.send`)."""
        return send(
            self.session, self.base_url + path, path, params, headers=self.headers(), timeout=self.timeout,
            max_retries=self.max_retries, sleep=self.sleep, gate=self._gate, secret=self._key,
            provider=self.provider, offline=self.offline, decode=decode, expire_after=expire_after,
        )  # fmt: skip

    def pages(self, query: Query, *, expire_after: int | None = None) -> Iterator[Page]:
        """Yield every page of a query, each checked before it is yielded (see :mod:`usage_frames._core.paging`).

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

        check = WindowCheck(query, self.clock(), self.provider.result_objects)
        return paginate(fetch, check, rejecter(self.session, path, self.provider.wire.request_id))

    def check_size(self, query: Query) -> list[Query]:
        """The calendar windows of a query, or an argument error beyond ``max_requests`` (see :func:`check_size`)."""
        return check_size(query, self.max_requests)

    def _windows(self, query: Query, build: Callable[[list[Page], Query], T]) -> list[T]:
        """Fetch the windows of a query and ``build`` each from its pages in the worker that fetched it.

        The frame's columns are built there (:func:`usage_frames._core.frames.columns_of`), so that a window's decoded
        structs are freed as soon as its columns exist and the main thread only joins columns.
        """
        parts = self.check_size(query)
        now = self.clock()
        bar = progress_bar(len(parts), query.endpoint.name, self.progress)
        results: list[T | None] = [None] * len(parts)
        missing: list[tuple[pd.Timestamp, pd.Timestamp]] = []
        misses: list[CacheMissError] = []

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
            except CacheMissError as exc:
                missing.append((window.start, window.end))
                misses.append(exc)
            bar.update(1)

        try:
            fan_out(run, len(parts), self.workers)
        finally:
            bar.close()
        if missing:
            first = misses[0]  # what answers (the cache, a recorded sample) says where it looked, and what to do
            raise CacheMissError.missing(
                query.describe(), missing, of=len(parts), hint=first.hint or MISS_HINT, where=first.where,
                endpoint=query.endpoint.name,
            )  # fmt: skip
        # Each window's buckets tile it (checked in pages()), so windows cannot overlap: no check across them.
        return [r for r in results if r is not None]

    def frame(self, query: Query) -> pd.DataFrame:
        """Fetch a validated query (see :func:`usage_frames._core.query.build_query`) as a tidy frame.

        The frame says what time its data is "as of" (``attrs["as_of"]``): the client's clock.
        """
        frame = assemble(self._windows(query, lambda pages, window: columns_of(pages, query)), query)
        frame.attrs["as_of"] = self.clock().isoformat()  # the data's "as of" time, for forecasts (ops.as_of)
        return frame

    def clock(self) -> pd.Timestamp:
        """The client's "now": the real time, or the fixed time of recorded data."""
        return queries.wall_clock() if self.now is None else self.now

    def list_objects(self, path: str, params: Sequence[tuple[str, str]] = ()) -> list[dict[str, Any]]:
        """Every object of a list endpoint (projects, workspaces, keys...), following its cursor to the end.

        Args:
            path: The list endpoint's path.
            params: Other query parameters, sent with every page (``include_default=true``).

        Examples:
            >>> import usage_frames as uf
            >>> [p["name"] for p in uf.Client.fake().list_objects("/organization/projects")][:2]
            ['Customer chat', 'Search & RAG']
        """
        config.check_path(path)
        wire = self.provider.wire
        def get(page: Sequence[tuple[str, str]]) -> tuple[Any, requests.Response]:
            return self.get(path, [*params, *page], decode=msgspec.json.decode, expire_after=OPEN_WINDOW_TTL)

        reject = rejecter(self.session, path, wire.request_id)
        return list_objects(get, path, reject, after=wire.list_after, limit=wire.list_limit)

    def get_object(self, path: str) -> dict[str, Any]:
        """One JSON object, such as ``/organization/spend_limit``.

        Examples:
            >>> import usage_frames as uf
            >>> uf.Client.fake().get_object("/organization/spend_limit")["threshold_amount"]
            400000
        """
        config.check_path(path)
        value, _ = self.get(path, [], decode=msgspec.json.decode, expire_after=OPEN_WINDOW_TTL)
        if not isinstance(value, dict):
            raise UnexpectedResponseError(f"GET {path}: not an object")
        return value
