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

import contextlib
import email.utils
import hashlib
import http.client
import logging
import math
import os
import random
import re
import socket
import sqlite3
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, overload
from urllib.parse import urlsplit

import msgspec
import pandas as pd
import platformdirs
import requests
import requests.adapters
import urllib3
import urllib3.connection
from requests_cache import NEVER_EXPIRE, CachedSession
from requests_cache.backends.base import BaseCache
from requests_cache.backends.sqlite import SQLiteCache, SQLiteDict
from requests_cache.cache_keys import create_key
from requests_cache.serializers import pickle_serializer

from usage_frames.endpoints import ENDPOINTS, BucketWidth, EndpointName
from usage_frames.errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    CacheError,
    CacheMissError,
    InvalidParameterError,
    MissingAPIKeyError,
    UnexpectedResponseError,
    UsageFramesWarning,
    status_error_class,
)
from usage_frames.frames import Page, check_coverage, check_page, decode_page, to_frame
from usage_frames.params import (
    FilterValue,
    Query,
    TimeLike,
    bucket_count,
    build_query,
    earliest_start,
    to_clock,
    unix,
    windows,
)

if TYPE_CHECKING:
    from usage_frames.fake import FakeOrganization

try:
    __version__ = version("usage-frames")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

log = logging.getLogger("usage_frames")
T = TypeVar("T")

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
LOOKBACK_CODE = "reporting_lookback_exceeded"
LOOKBACK_HELP = (
    "The API keeps one year of usage and costs: start at or after that date; uf.sync (usage-frames sync) "
    "backfills from it."
)
# Six windows in flight: a year of hourly data in ~9 round trips (benchmarks/: 4 workers 14x, 8 workers 18x the
# cookbook loop); a 429 closes a gate shared by all of them, so the API's rate limit slows every worker down.
DEFAULT_WORKERS = 6
# A window is cached forever once it closed this long ago: usage buckets fill within hours, costs lag about a day.
USAGE_SETTLE = pd.Timedelta(hours=6)
COSTS_SETTLE = pd.Timedelta(hours=48)
OPEN_WINDOW_TTL = 300  # seconds; the window that contains "now" is refetched after this
CLOCK_SLACK = 300  # seconds the last bucket of a window that ends now may fall short (the server's clock)
CACHE_DIR_ENV = "USAGE_FRAMES_CACHE_DIR"
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
    except (ValueError, TypeError, OverflowError, IndexError):
        server = None
    if server is not None and math.isfinite(server):  # "nan" or "inf" is no delay at all: back off instead
        return min(max(server, 0.0), MAX_RETRY_AFTER_DELAY)
    backoff = min(INITIAL_RETRY_DELAY * 2.0 ** min(attempt, 32), MAX_RETRY_DELAY)
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
    if isinstance(body, dict) and isinstance(body.get("error"), dict) and body["error"].get("code") == LOOKBACK_CODE:
        message += " " + LOOKBACK_HELP
    if status_code in (401, 403):
        message += " " + ADMIN_KEY_HELP
    request_id = lower.get("x-request-id")
    return status_error_class(status_code)(message, status_code=status_code, request_id=request_id, body=body)


def default_cache_dir() -> Path:
    """Where the HTTP cache lives: ``USAGE_FRAMES_CACHE_DIR``, else the platform's user cache directory.

    Examples:
        >>> default_cache_dir().name
        'usage-frames'
    """
    configured = os.environ.get(CACHE_DIR_ENV)
    return Path(configured) if configured else Path(platformdirs.user_cache_dir("usage-frames"))


def cache_key(request: Any, **kwargs: Any) -> str:
    """requests-cache's key, plus a one-way tag of the credential: each key (organization) has its own answers.

    requests-cache leaves ``Authorization`` out of its keys, so two organizations' admin keys against the same base
    URL would share cache entries. The tag is a keyed 8-byte BLAKE2 digest of the header: it separates the
    entries and reveals nothing of the key.

    Examples:
        >>> from requests import Request
        >>> url = "https://api.openai.com/v1/organization/costs?start_time=1"
        >>> a = Request("GET", url, headers={"Authorization": "Bearer sk-admin-a"}).prepare()
        >>> b = Request("GET", url, headers={"Authorization": "Bearer sk-admin-b"}).prepare()
        >>> cache_key(a) != cache_key(b), "sk-admin-a" in cache_key(a)
        (True, False)
    """
    credential = request.headers.get("Authorization", "").encode()
    tag = hashlib.blake2b(credential, key=b"usage-frames cache", digest_size=8).hexdigest()
    return f"{create_key(request, **kwargs)}-{tag}"


# Another process's write lock may delay a cache read or write this long; then the cache is skipped for that
# request (with a warning), never the fetch.
CACHE_LOCK_WAIT = 2.0
# After such a wait, the cache is left alone this long, so that a locked file costs one wait, not one per request.
CACHE_BUSY_PAUSE = 30.0
CACHE_FILE = "http_cache.sqlite"


@dataclass
class _CacheFile:
    """What the tables of one SQLite file share: a lock held while the file is replaced, and how often it was."""

    generation: int = 0
    lock: threading.RLock = field(default_factory=threading.RLock)


class _SQLiteStore(SQLiteDict):
    """requests-cache's SQLite table with a connection per thread, bounded lock waits, optionally read-only.

    requests-cache shares one connection between threads and waits for a write lock without limit; a full disk
    then fails fetches with ``SystemError`` from the shared connection, and another process's lock blocks
    ``Client()``. Here each thread opens its own connection, writes are serialized in-process, and SQLite's busy
    timeout bounds every wait.
    """

    def __init__(self, db_path: str, *, read_only: bool, file: _CacheFile, **kwargs: Any) -> None:
        self.read_only = read_only
        self._file = file
        self._local = threading.local()
        self._open: dict[threading.Thread, sqlite3.Connection] = {}
        super().__init__(db_path, **kwargs)

    def init_db(self) -> None:
        """Create the table unless it exists (a read needs no write lock, so a busy file does not block)."""
        with self.connection() as con:
            found = con.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (self.table_name,)
            ).fetchone()
        if found or self.read_only:
            return
        with self.connection(commit=True) as con:
            con.execute(
                f"CREATE TABLE IF NOT EXISTS {self.table_name} (key TEXT PRIMARY KEY, value BLOB, expires INTEGER)"
            )
            con.execute(f"CREATE INDEX IF NOT EXISTS {self.table_name}_expires ON {self.table_name}(expires)")

    @contextmanager
    def connection(self, commit: bool = False) -> Iterator[sqlite3.Connection]:
        """This thread's connection; with ``commit``, inside one immediate transaction."""
        con: sqlite3.Connection | None = getattr(self._local, "con", None)
        if con is None or self._local.generation != self._file.generation:
            if con is not None:
                con.close()
            path = Path(self.db_path)
            target = f"{path.resolve().as_uri()}?mode=ro" if self.read_only else str(path)
            with self._file.lock:  # never open a file that is being replaced
                con = sqlite3.connect(
                    target, timeout=CACHE_LOCK_WAIT, isolation_level=None, check_same_thread=False, uri=self.read_only
                )
                self._local.con, self._local.generation = con, self._file.generation
            with self._lock:  # close the connections of finished threads (workers live for one fetch)
                for thread in [t for t in self._open if not t.is_alive()]:
                    self._open.pop(thread).close()
                self._open[threading.current_thread()] = con
        if not commit:
            yield con
            return
        with self._lock:  # one writer at a time in this process; SQLite's busy timeout bounds the rest
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
                con.execute("COMMIT")
            except BaseException:
                if con.in_transaction:
                    con.execute("ROLLBACK")
                raise

    def close(self) -> None:
        """Close every thread's connection."""
        with self._lock:
            for con in getattr(self, "_open", {}).values():
                con.close()
            getattr(self, "_open", {}).clear()
        if hasattr(self, "_file"):
            self._file.generation += 1


class SafeSQLiteCache(SQLiteCache):
    """requests-cache's SQLite backend made harmless: damage is rebuilt, a failed read or write is a warning.

    A damaged file is moved aside and rebuilt; a failed read or write (a full disk, a lock held too long, a
    read-only file) costs a cache miss and one warning, never a fetch.

    Args:
        db_path: The SQLite file.
        read_only: Open the file read-only (its folder cannot be written); nothing new is saved.
    """

    def __init__(self, db_path: str | os.PathLike[str], *, read_only: bool = False) -> None:
        BaseCache.__init__(self, cache_name=str(db_path))
        self.read_only = read_only
        self._warned: set[str] = set()
        self._file = _CacheFile()
        self._paused_until = 0.0
        self._tables(str(db_path))

    def _tables(self, path: str) -> None:
        common: dict[str, Any] = {"read_only": self.read_only, "file": self._file}
        self.responses = _SQLiteStore(path, table_name="responses", serializer=pickle_serializer, **common)
        self.redirects = _SQLiteStore(
            path, table_name="redirects", serializer=None, lock=self.responses._lock, **common
        )

    @property
    def paused(self) -> bool:
        """Whether the cache is skipped for now, after a lock held too long by another process."""
        return time.monotonic() < self._paused_until

    def warn(self, kind: str, message: str) -> None:
        """Warn once per kind of trouble (a fetch of a year must not print 365 warnings)."""
        if kind not in self._warned:
            self._warned.add(kind)
            warnings.warn(f"HTTP cache {self.db_path}: {message}", UsageFramesWarning, stacklevel=4)

    def trouble(self, exc: BaseException, doing: str) -> None:
        """Handle a failed cache operation: rebuild a damaged file, warn about anything else."""
        name = getattr(exc, "sqlite_errorname", "")
        if _damaged(exc) and not self.read_only:
            self.rebuild(exc)
        elif name in ("SQLITE_BUSY", "SQLITE_LOCKED"):
            self._paused_until = time.monotonic() + CACHE_BUSY_PAUSE
            self.warn(
                "busy",
                f"locked by another process for more than {CACHE_LOCK_WAIT:g} s; not used for the next "
                f"{CACHE_BUSY_PAUSE:g} s",
            )
        else:
            self.warn(doing, f"{doing} failed ({type(exc).__name__}: {exc}); fetching without it")

    def rebuild(self, exc: BaseException) -> None:
        """Move a damaged file aside (``*.damaged-<time>``) and start an empty cache in its place."""
        seen = getattr(getattr(self.responses, "_local", None), "generation", None)
        with self._file.lock:
            if seen is not None and seen != self._file.generation:
                return  # another thread rebuilt it already
            aside = _quarantined(Path(self.db_path))
            # Each thread reopens its connection on its next use; closing them here could break a read in flight.
            self._file.generation += 1
            self.responses.init_db()  # type: ignore[no-untyped-call]
            self.redirects.init_db()  # type: ignore[no-untyped-call]
        self.warn("damaged", f"was damaged ({exc}); moved aside to {aside.name} and rebuilt empty")

    def get_response(self, key: str, default: Any = None) -> Any:
        """The cached response, or ``default`` when the cache cannot answer (damaged, locked, unreadable)."""
        if self.paused:
            return default
        try:
            return super().get_response(key, default)
        except Exception as exc:  # a damaged row can fail anywhere in SQLite or unpickling; it is only a miss
            self.trouble(exc, "reading")
            return default

    def save_response(self, response: requests.Response, cache_key: str | None = None, expires: Any = None) -> None:
        """Store a response; a failure (full disk, lock, read-only) is a warning, never a failed fetch."""
        if self.read_only or self.paused:
            return
        try:
            super().save_response(response, cache_key, expires)
        except (sqlite3.Error, OSError) as exc:
            self.trouble(exc, "saving")

    def contains(
        self, key: str | None = None, request: Any = None, url: str | None = None, verify: bool = True
    ) -> bool:
        """Whether the cache holds an answer (``False`` when it cannot tell)."""
        if self.paused:
            return False
        try:
            return bool(super().contains(key, request, url, verify))
        except sqlite3.Error as exc:
            self.trouble(exc, "reading")
            return False

    def delete(self, *keys: str, expired: bool = False, vacuum: bool = True, **kwargs: Any) -> None:
        """Delete answers; a failure is a warning (the answer was unusable anyway)."""
        if self.read_only or self.paused:
            return
        try:
            super().delete(*keys, expired=expired, vacuum=vacuum, **kwargs)
        except sqlite3.Error as exc:
            self.trouble(exc, "deleting")


def cached_session(
    directory: str | os.PathLike[str], *, readable: bool = False, offline: bool = False
) -> CachedSession:
    """A requests-cache session under ``directory`` (created owner-only).

    By default one SQLite file with pickled responses: the fastest store (a JSON serializer re-encodes every
    body and costs more than the request itself, see benchmarks/). ``readable=True`` stores one JSON file per
    response instead, for data meant to be read and diffed (the sample data).

    The ``Authorization`` header is one of requests-cache's ignored parameters: it is neither part of the cache
    keys nor stored with the responses (it is written as ``REDACTED``), so the admin key never reaches the disk.

    A damaged SQLite file is moved aside and rebuilt; a folder that cannot be written but holds a cache is read
    (nothing new is saved); failed reads and writes are warnings (see :class:`SafeSQLiteCache`).

    Args:
        directory: The cache folder.
        readable: One JSON file per response instead of one SQLite file.
        offline: The session will only read, so a read-only folder needs no warning.

    Raises:
        CacheError: If the folder can neither hold a cache nor be read as one, naming the path and why.

    Examples:
        >>> import tempfile
        >>> cached_session(tempfile.mkdtemp()).cache.db_path.name
        'http_cache.sqlite'
    """
    path = Path(directory)
    backend: Any = "filesystem"
    if readable:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    else:
        backend = _sqlite_backend(path, offline)
    session = CachedSession(
        str(path / "http") if readable else "http_cache",  # the default name: ignored with a backend instance
        backend=backend,
        serializer="json" if readable else "pickle",
        expire_after=NEVER_EXPIRE,
        allowable_codes=(200,),
        allowable_methods=("GET",),
        stale_if_error=False,
        key_fn=cache_key,
    )
    _mount_deadline(session)
    return session


def _sqlite_backend(path: Path, offline: bool) -> SafeSQLiteCache:
    """The SQLite cache in ``path``: writable if possible, else read-only if it holds a cache, else an error."""
    db = path / CACHE_FILE
    why = ""
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Create the database owner-only; SQLite gives its journal files the same mode.
        os.close(os.open(db, os.O_CREAT | os.O_WRONLY, 0o600))
        if not os.access(path, os.W_OK):  # the journal goes next to the file
            raise PermissionError(f"the folder {path} is not writable")
    except (OSError, ValueError) as exc:
        why = f"{type(exc).__name__}: {getattr(exc, 'strerror', None) or exc}"
    read_only = bool(why)
    if read_only and not (db.is_file() and os.access(db, os.R_OK)):
        raise CacheError(f"cannot use {path} as the HTTP cache folder ({why}); pass cache=<another folder> or False")
    try:
        try:
            cache = SafeSQLiteCache(db, read_only=read_only)
        except sqlite3.DatabaseError as exc:
            if read_only or not _damaged(exc):
                raise
            aside = _quarantined(db)
            cache = SafeSQLiteCache(db)
            cache.warn("damaged", f"was damaged ({exc}); moved aside to {aside.name} and rebuilt empty")
    except sqlite3.Error as exc:
        raise CacheError(
            f"cannot open the HTTP cache {db} ({type(exc).__name__}: {exc}); pass cache=<another folder> or False"
        ) from None
    if read_only and not offline:
        cache.warn("read-only", f"cannot be written ({why}); answering from it, saving nothing new")
    return cache


def _damaged(exc: BaseException) -> bool:
    return getattr(exc, "sqlite_errorname", "") in ("SQLITE_CORRUPT", "SQLITE_NOTADB")


def _quarantined(db: Path) -> Path:
    """Move a damaged database (and its journals) aside, start an empty one in its place; return where it went."""
    aside = db.with_name(f"{db.name}.damaged-{time.time_ns()}")
    for suffix in ("", "-journal", "-wal", "-shm"):
        if Path(f"{db}{suffix}").exists():
            Path(f"{db}{suffix}").replace(f"{aside}{suffix}")
    os.close(os.open(db, os.O_CREAT | os.O_WRONLY, 0o600))
    return aside


def settled(window: Query, now: pd.Timestamp) -> bool:
    """Whether a window closed long enough ago that its answer will not change (then it is cached forever).

    Examples:
        >>> from usage_frames.params import build_query
        >>> now = pd.Timestamp("2026-11-28 12:00", tz="UTC")
        >>> q = build_query("completions", "2026-11-27", "2026-11-28", now=now)
        >>> settled(q, now), settled(build_query("costs", "2026-11-27", "2026-11-28", now=now), now)
        (True, False)
    """
    delay = COSTS_SETTLE if window.endpoint.name == "costs" else USAGE_SETTLE
    return bool(window.end + delay <= now)


@dataclass(frozen=True, slots=True)
class Plan:
    """What a query will cost, before it is sent (see :meth:`Client.plan`).

    Attributes:
        query: The validated query.
        windows: Calendar windows it is cut into (one request each at the largest page size).
        requests: Requests a cold fetch sends (one page per window at the largest page size).
        cached: Windows the cache already answers (they cost no request).
        buckets: Time buckets in the window.
        max_rows: Upper bound of rows, from ``buckets`` and the assumed cardinality of each group key.
        warnings: Why the query may be too large, with the coarser width that would answer it.
    """

    query: Query
    windows: int
    requests: int
    cached: int
    buckets: int
    max_rows: int
    warnings: tuple[str, ...] = ()

    def __str__(self) -> str:
        q = self.query
        keys = f" by {', '.join(q.group_by)}" if q.group_by else ""
        lines = [
            f"{q.endpoint.name} {q.start:%Y-%m-%d %H:%M} .. {q.end:%Y-%m-%d %H:%M} UTC at {q.bucket_width}{keys}:",
            f"  {self.requests} request(s) in {self.windows} window(s), {self.cached} already cached; "
            f"{self.buckets:,} buckets, at most ~{self.max_rows:,} rows",
        ]
        return "\n".join(lines + [f"  warning: {w}" for w in self.warnings])


# Assumed distinct values per group key for the row estimate (a filter on the key replaces it by its length).
KEY_CARDINALITY: Mapping[str, int] = {
    "project_id": 10, "user_id": 25, "api_key_id": 25, "model": 15, "batch": 2, "service_tier": 4, "api_source": 2,
    "size": 6, "source": 3, "vector_store_id": 10, "context_level": 3, "line_item": 60,
}  # fmt: skip
ROWS_WARNING = 1_000_000
REQUESTS_WARNING = 400


def plan_query(query: Query, cached: int = 0, now: pd.Timestamp | None = None) -> Plan:
    """Estimate requests and rows of a query, with warnings for queries likely to explode (pure).

    With ``now``, it also warns when the start is older than the API's one-year look-back (the server would
    answer HTTP 400 ``reporting_lookback_exceeded``).

    Examples:
        >>> from usage_frames.params import build_query
        >>> q = build_query("completions", "2026-01-01", "2026-11-01", bucket_width="1m",
        ...                 group_by=["project_id", "model"], now=pd.Timestamp("2026-11-28", tz="UTC"))
        >>> p = plan_query(q)
        >>> p.requests, p.max_rows > 10**7
        (304, True)
        >>> print(p.warnings[0])
        ~65,664,000 rows expected at 1m over 304 days: bucket_width='1h' answers the same totals with ~60x fewer rows
    """
    parts = windows(query)
    buckets = bucket_count(query)
    filters = {f.key: f.name for f in query.endpoint.filters}
    cardinality = 1
    for key in query.group_by:
        chosen = query.filters.get(filters.get(key, ""))
        cardinality *= len(chosen) if isinstance(chosen, tuple) else KEY_CARDINALITY.get(key, 10)
    rows = buckets * cardinality
    warnings = []
    days = (query.end - query.start) / pd.Timedelta(days=1)
    coarser = {"1m": ("1h", 60), "1h": ("1d", 24)}.get(query.bucket_width)
    if coarser and (rows > ROWS_WARNING or len(parts) > REQUESTS_WARNING):
        width, factor = coarser
        warnings.append(
            f"~{rows:,} rows expected at {query.bucket_width} over {days:.0f} days: bucket_width={width!r} answers "
            f"the same totals with ~{factor}x fewer rows"
        )
    if now is not None and query.start < (earliest := earliest_start(now)):
        warnings.append(
            f"start {query.start:%Y-%m-%d} is more than a year back: the API refuses starts before "
            f"{earliest:%Y-%m-%d} ({LOOKBACK_CODE}); start there, or let uf.sync backfill from it"
        )
    return Plan(query, len(parts), len(parts), cached, buckets, rows, tuple(warnings))


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


def _plain_session() -> requests.Session:
    """A ``requests.Session`` whose requests have a total deadline."""
    session = requests.Session()
    _mount_deadline(session)
    return session


def _mount_deadline(session: requests.Session) -> None:
    adapter = DeadlineAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)


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
        workers: Windows fetched at once (1 fetches sequentially).
        progress: Show a progress bar (tqdm) for fetches of more than 4 windows; ``None`` means "when
            interactive" (a terminal or a notebook).
        timeout: Seconds, or ``(connect, read)`` seconds, per request.
        max_retries: Retries after the first attempt, for 408/409/429/5xx and connection errors.
        sleep: How to wait between retries (tests pass a recorder).
        allow_http: Allow a plain ``http://`` base URL on a non-loopback host (the key would travel in clear).
        max_requests: The most requests one fetch may send (a year of ``1m`` buckets is 365); larger queries are
            refused before anything is sent, with the coarser width that would answer them.
        now: The client's clock, for recorded data (:meth:`sample`); defaults to the real time.
        snap: Widen the first and last window to whole calendar windows and trim the frame back to the query,
            so that recorded data answers any query inside its range (at bucket granularity).

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
        workers: int = DEFAULT_WORKERS,
        progress: bool | None = None,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        sleep: Callable[[float], None] = time.sleep,
        allow_http: bool = False,
        max_requests: int = 1000,
        now: pd.Timestamp | None = None,
        snap: bool = False,
    ) -> None:
        self._key = _admin_key(api_key)
        self.base_url = _base_url(base_url, allow_http)
        self.timeout = _timeout(timeout)
        for name, value, low, high in (
            ("max_retries", max_retries, 0, 100),
            ("workers", workers, 1, 64),
            ("max_requests", max_requests, 1, 10**6),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise InvalidParameterError(name, value, reason=f"must be an int >= {low} and <= {high}")
        for name, flag in (("offline", offline), ("allow_http", allow_http), ("snap", snap)):
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
        self.now = None if now is None else to_clock(now)
        if session is None:
            if isinstance(cache, CachedSession):
                session = cache
            elif cache is False or cache is None:
                session = _plain_session()
            else:
                folder = default_cache_dir() if cache is True else Path(cache)
                try:
                    session = cached_session(folder, offline=offline)
                except CacheError as exc:
                    if offline:
                        raise
                    warnings.warn(f"{exc}; fetching without a cache", UsageFramesWarning, stacklevel=2)
                    session = _plain_session()
        if offline and not isinstance(session, CachedSession):
            raise InvalidParameterError("offline", offline, reason="needs a cache (cache=True, a path or a session)")
        self.session = session
        self.offline = offline
        self.workers = workers
        self.progress = progress
        self.max_retries = max_retries
        self.sleep = sleep
        self._fake = False
        self.snap = snap
        self.max_requests = max_requests
        self.miss_hint = "run the query once online to fill the cache"
        self._gate = threading.Lock()
        self._not_before = 0.0

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
        from usage_frames.fake import FakeOrganization

        if organization is not None and not isinstance(organization, FakeOrganization):
            raise InvalidParameterError("organization", organization, reason="must be a FakeOrganization or None")
        # One clock for both sides: a client pretending to be at now= talks to an organization at that time
        # (its one-year look-back and its "future" both follow it).
        if kwargs.get("now") is not None:
            kwargs["now"] = to_clock(kwargs["now"])
        org = organization or FakeOrganization(now=kwargs.get("now"))
        session = kwargs.pop("session", None) or requests.Session()
        base_url = kwargs.pop("base_url", DEFAULT_BASE_URL)
        org.mount(session, base_url)
        client = cls(kwargs.pop("api_key", "sk-admin-fake"), base_url, session=session, **kwargs)
        client._fake = True
        return client

    @classmethod
    def sample(cls, path: str | os.PathLike[str] | None = None) -> Client:
        """A client answered offline from the embedded sample data (see :mod:`usage_frames.sample`).

        Examples:
            >>> Client.sample().clock()
            Timestamp('2026-10-21 00:00:00+0000', tz='UTC')
        """
        from usage_frames.sample import sample_client

        return sample_client(path)

    def __repr__(self) -> str:
        extra = ", fake=True" if self._fake else ""
        if isinstance(self.session, CachedSession):
            store = self.session.cache
            extra += f", cache={str(getattr(store, 'db_path', '') or getattr(store, 'cache_dir', ''))!r}"
            extra += ", offline=True" if self.offline else ""
        return f"Client(base_url={self.base_url!r}, api_key=<set>{extra})"

    # --- one request --------------------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self._key}",
            "Accept": "application/json",
            "User-Agent": f"usage-frames/{__version__} python-requests/{requests.__version__}",
        }

    def _wait_for_gate(self) -> None:
        """Wait while a 429 told every worker to hold off (the backoff is shared, not per thread)."""
        with self._gate:
            wait = self._not_before - time.monotonic()
        if wait > 0:
            self.sleep(wait)

    def _close_gate(self, seconds: float) -> None:
        with self._gate:
            self._not_before = max(self._not_before, time.monotonic() + seconds)

    def _forget(self, response: requests.Response) -> None:
        """Drop an unusable answer from the cache, so that a retry (or the next run) asks the server again."""
        key = getattr(response, "cache_key", None)
        if isinstance(self.session, CachedSession) and key:
            self.session.cache.delete(key)

    def get(
        self,
        path: str,
        params: Sequence[tuple[str, str]],
        *,
        decode: Callable[[bytes], T] = msgspec.json.decode,
        expire_after: int | None = None,
    ) -> tuple[T, requests.Response]:
        """GET one JSON document, with retries; the only place that sends requests.

        Args:
            path: The path below the base URL.
            params: The query string pairs.
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
        url = self.base_url + path
        headers = self._headers()
        extra: dict[str, Any] = {}
        if isinstance(self.session, CachedSession):
            extra = {"expire_after": expire_after, "only_if_cached": self.offline}
        for attempt in range(self.max_retries + 1):
            error: APIError
            response: requests.Response | None = None
            self._wait_for_gate()
            try:
                # The API never redirects, and a redirect would carry the key elsewhere: a 3xx is an error.
                response = self.session.get(
                    url, params=params, headers=headers, timeout=self.timeout, allow_redirects=False, **extra
                )
            except requests.Timeout as exc:
                error = APITimeoutError(f"GET {path} timed out after {self.timeout} s: {_scrub(exc, self._key)}")
            except (
                requests.ConnectionError,
                requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError,
            ) as exc:
                error = APIConnectionError(f"GET {path} failed: {type(exc).__name__}: {_scrub(exc, self._key)}")
            except (requests.RequestException, ValueError, http.client.HTTPException) as exc:
                raise APIConnectionError(
                    f"GET {path} failed: {type(exc).__name__}: {_scrub(exc, self._key)}"
                ) from None
            else:
                request_id = response.headers.get("x-request-id")
                log.debug("GET %s %s -> %s (%s)", path, _loggable(params), response.status_code, request_id)
                if self.offline and response.status_code == 504:
                    raise CacheMissError(f"GET {path} {_loggable(params)} is not in the cache")
                if response.status_code == 200:
                    try:
                        return decode(response.content), response
                    except UnexpectedResponseError as exc:
                        self._forget(response)
                        raise UnexpectedResponseError(f"GET {path}: {exc.message}", request_id=request_id) from None
                    except msgspec.DecodeError:
                        self._forget(response)
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
            if response is not None and response.status_code == 429:
                self._close_gate(delay)  # every worker holds off, not just this one
            else:
                self.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    # --- pages and windows --------------------------------------------------------------------------------

    def pages(self, query: Query, *, expire_after: int | None = None) -> Iterator[Page]:
        """Yield every page of a query, following ``next_page`` until ``has_more`` is false.

        Each page is checked before it is yielded. A repeated cursor, or ``has_more`` without a cursor, raises
        instead of looping or stopping early, and so does an answer whose buckets do not tile the window (a
        skipped bucket, or buckets of another time window): an incomplete answer is never passed off as complete.
        A page without buckets that says ``has_more`` is followed (costs pages can be empty and carry a cursor).

        Args:
            query: The validated query.
            expire_after: Cache lifetime of the answers in seconds (``-1``: forever).

        Raises:
            UnexpectedResponseError: For a broken page or cursor, with the request id.
        """
        path = query.endpoint.path
        seen: set[str] = set()
        cursor: str | None = None
        after: int | None = None
        first: tuple[int, int] | None = None
        # A window that ends now may end a little short: the server's clock can be behind ours.
        slack = CLOCK_SLACK if query.end + pd.Timedelta(seconds=CLOCK_SLACK) >= self.clock() else 0
        while True:
            decode = partial(decode_page, endpoint=query.endpoint)
            page, response = self.get(path, query.params(cursor), decode=decode, expire_after=expire_after)
            request_id = response.headers.get("x-request-id")
            try:
                after = check_page(page, query.endpoint, after)
                if first is None and page.data:
                    first = (page.data[0].start_time, page.data[0].end_time)
                if page.has_more:
                    cursor = _next_cursor(page, seen)
                else:
                    check_coverage(first, after, query, slack=slack)
            except UnexpectedResponseError as exc:
                self._forget(response)
                raise UnexpectedResponseError(f"GET {path}: {exc.message}", request_id=request_id) from None
            yield page
            if not page.has_more:
                return

    def _window_pages(self, window: Query, now: pd.Timestamp) -> list[Page]:
        pages = list(self.pages(window, expire_after=NEVER_EXPIRE if settled(window, now) else OPEN_WINDOW_TTL))
        # A server that ignores end_time answers past the window; those buckets belong to the next window.
        end = unix(window.end)
        for page in pages:
            if page.data and page.data[-1].start_time >= end:
                page.data = [bucket for bucket in page.data if bucket.start_time < end]
        return pages

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
        parts = self.check_size(query)
        if self.snap:
            parts = _snapped(parts, query, self.now)
        now = self.clock()
        bar = _progress_bar(len(parts), query.endpoint.name, self.progress)
        results: list[list[Page] | None] = [None] * len(parts)
        missing: list[str] = []

        def run(i: int) -> None:
            try:
                results[i] = self._window_pages(parts[i], now)
            except CacheMissError:
                missing.append(f"{parts[i].start:%Y-%m-%d %H:%M}..{parts[i].end:%Y-%m-%d %H:%M}")
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
            raise CacheMissError(
                f"{query.endpoint.name}: {len(missing)} of {len(parts)} window(s) are not in the cache: "
                + ", ".join(sorted(missing))
                + f" ({self.miss_hint})"
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
        """Fetch a validated query (see :func:`usage_frames.params.build_query`) as a tidy frame."""
        parts = self.window_pages(query)
        try:
            frame = to_frame((page for window in parts for page in window), query)
        except UnexpectedResponseError as exc:  # an impossible value: say which request brought it
            window = f"{query.start:%Y-%m-%d %H:%M}..{query.end:%Y-%m-%d %H:%M} UTC"
            raise UnexpectedResponseError(
                f"GET {query.endpoint.path} ({window}): {exc.message}", request_id=exc.request_id
            ) from None
        frame.attrs["as_of"] = self.clock().isoformat()  # the data's "as of" time, for forecasts (ops.as_of)
        if self.snap:  # keep the buckets that overlap the query
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
        objects: list[dict[str, Any]] = []
        after: str | None = None
        seen: set[str] = set()
        while True:
            params = [("limit", "100")] + ([("after", after)] if after else [])
            page, response = self.get(path, params, decode=_json, expire_after=OPEN_WINDOW_TTL)
            if not isinstance(page, dict) or not isinstance(page.get("data"), list):
                raise UnexpectedResponseError(
                    f"GET {path}: not a list", request_id=response.headers.get("x-request-id")
                )
            if not all(isinstance(o, dict) for o in page["data"]):
                raise UnexpectedResponseError(
                    f"GET {path}: a list item is not an object", request_id=response.headers.get("x-request-id")
                )
            objects += page["data"]
            after = page.get("last_id")
            if page.get("has_more") is not True:
                return objects
            if not isinstance(after, str) or not after or after in seen:
                raise UnexpectedResponseError(f"GET {path}: has_more without a new last_id ({after!r})")
            seen.add(after)

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


def _next_cursor(page: Page, seen: set[str]) -> str:
    """The cursor of a page that says ``has_more``; a missing or repeated one is an error, not a loop."""
    cursor = page.next_page
    if not isinstance(cursor, str) or not cursor:
        raise UnexpectedResponseError(f"has_more is true but next_page is {cursor!r}; the answer would be incomplete")
    if cursor in seen:
        raise UnexpectedResponseError(f"the server repeated the cursor {cursor!r}; stopping instead of looping")
    seen.add(cursor)
    return cursor


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


def _check_path(path: object) -> None:
    if not isinstance(path, str) or not path.startswith("/") or not _KEY_CHARS.fullmatch(path):
        raise InvalidParameterError("path", path, reason="must be an API path such as '/organization/projects'")


def _loggable(params: Sequence[tuple[str, str]]) -> str:
    return "&".join(f"{k}={v}" for k, v in params if k != "page")


def _json(content: bytes) -> Any:
    return msgspec.json.decode(content)
