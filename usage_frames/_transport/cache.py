"""The HTTP cache: where it lives, what its keys are, a SQLite backend that never fails a fetch, and expiry per window.

Why is this cached forever? Because its window closed at least the endpoint's settle delay ago
(:attr:`~usage_frames._core.schema.Endpoint.settle`: 6 h for usage, 48 h for costs): its answer will not change
(:func:`settled`). The window that contains now is kept for :data:`OPEN_WINDOW_TTL` seconds (:func:`expire_after`).
The admin key never reaches the disk (``Authorization`` is redacted); each key has its own entries
(:func:`cache_key`).
"""

from __future__ import annotations

import functools
import hashlib
import os
import sqlite3
import threading
import time
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import platformdirs
import requests
from requests_cache import NEVER_EXPIRE, CachedSession
from requests_cache.backends.base import BaseCache
from requests_cache.backends.sqlite import SQLiteCache, SQLiteDict
from requests_cache.cache_keys import create_key
from requests_cache.serializers import pickle_serializer

from usage_frames._core.errors import CacheError, UsageFramesWarning
from usage_frames._core.query import Query
from usage_frames._transport.send import mount_deadline

OPEN_WINDOW_TTL = 300  # seconds; the window that contains "now" is refetched after this
CACHE_DIR_ENV = "USAGE_FRAMES_CACHE_DIR"


def default_cache_dir() -> Path:
    """Where the HTTP cache lives: ``USAGE_FRAMES_CACHE_DIR``, else the platform's user cache directory.

    Examples:
        >>> default_cache_dir().name
        'usage-frames'
    """
    configured = os.environ.get(CACHE_DIR_ENV)
    return Path(configured) if configured else Path(platformdirs.user_cache_dir("usage-frames"))


def cache_key(request: Any, *, credential: str = "Authorization", namespace: str = "", **kwargs: Any) -> str:
    """requests-cache's key, plus a one-way tag of the provider and its credential: each organization has its own.

    requests-cache leaves credential headers (``Authorization``, ``X-API-Key``...) out of its keys, so two
    organizations' admin keys against the same base URL would share cache entries. The tag is a keyed 8-byte
    BLAKE2 digest of the provider's ``namespace`` and its ``credential`` header: it separates the entries of two
    keys, and of two providers, and reveals nothing of the key.

    Args:
        request: The prepared request.
        credential: The header that carries the provider's key.
        namespace: The provider's :attr:`~usage_frames._core.provider.Provider.cache_namespace`.
        **kwargs: Passed on to requests-cache's ``create_key``.

    Examples:
        >>> from requests import Request
        >>> url = "https://api.example.com/v1/costs?start_time=1"
        >>> a = Request("GET", url, headers={"Authorization": "Bearer key-of-org-a"}).prepare()
        >>> b = Request("GET", url, headers={"Authorization": "Bearer key-of-org-b"}).prepare()
        >>> cache_key(a) != cache_key(b), "key-of-org-a" in cache_key(a)
        (True, False)
        >>> cache_key(a) != cache_key(a, namespace="another provider")
        True
    """
    value = namespace.encode() + request.headers.get(credential, "").encode()
    tag = hashlib.blake2b(value, key=b"usage-frames cache", digest_size=8).hexdigest()
    return f"{create_key(request, **kwargs)}-{tag}"


def keep_out(session: CachedSession, credential: str, namespace: str = "") -> CachedSession:
    """Make ``session`` key its entries by the provider's credential and never store that header.

    requests-cache redacts a fixed list of credential headers (``Authorization``, ``X-API-Key``...); a provider
    whose key travels in another header has it added, so that its key never reaches the disk either. A session
    the user passed keeps its own key function.

    Examples:
        >>> import tempfile
        >>> session = keep_out(cached_session(tempfile.mkdtemp()), "X-Toy-Key", "toy")
        >>> "X-Toy-Key" in session.settings.ignored_parameters
        True
    """
    ignored = tuple(session.settings.ignored_parameters or ())
    if credential not in ignored:  # requests-cache matches the name as written: x-api-key is not its X-API-Key
        session.settings.ignored_parameters = (*ignored, credential)
    if session.settings.key_fn in (None, cache_key) or getattr(session.settings.key_fn, "func", None) is cache_key:
        session.settings.key_fn = functools.partial(cache_key, credential=credential, namespace=namespace)
    return session


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
                # No fsync per commit (requests-cache's fast_save): a cache lost to a power cut is refetched, and
                # a file it damaged is rebuilt (SafeSQLiteCache). With it, a year's 53 writes cost ~0.05 s, not ~1 s.
                con.execute("PRAGMA synchronous=OFF")
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
    directory: str | os.PathLike[str],
    *,
    readable: bool = False,
    offline: bool = False,
    credential: str = "Authorization",
    namespace: str = "",
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
        credential: The header that carries the provider's key: left out of the stored requests, and its one-way
            tag in every key (:func:`cache_key`).
        namespace: The provider's cache namespace (:func:`cache_key`).

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
    keep_out(session, credential, namespace)
    mount_deadline(session)
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
        >>> from usage_frames._core.query import build_query
        >>> from usage_frames.providers import DEFAULT
        >>> now = pd.Timestamp("2026-11-28 12:00", tz="UTC")
        >>> day = lambda name: build_query(DEFAULT.endpoint(name), "2026-11-27", "2026-11-28", now=now)
        >>> settled(day("completions"), now), settled(day("costs"), now)
        (True, False)
    """
    return bool(window.end + window.endpoint.settle <= now)



def expire_after(window: Query, now: pd.Timestamp) -> int:
    """How long the cache keeps a window's answer: forever once :func:`settled`, else :data:`OPEN_WINDOW_TTL` s.

    Examples:
        >>> from usage_frames._core.query import build_query
        >>> from usage_frames.providers import DEFAULT
        >>> now = pd.Timestamp("2026-11-28 12:00", tz="UTC")
        >>> expire_after(build_query(DEFAULT.endpoint("costs"), "2026-11-27", "2026-11-28", now=now), now)
        300
    """
    return NEVER_EXPIRE if settled(window, now) else OPEN_WINDOW_TTL


def cached_windows(session: requests.Session, url: str, parts: list[Query], headers: Mapping[str, str]) -> int:
    """How many of a query's windows the cache of ``session`` answers already (0 without a cache)."""
    if not isinstance(session, CachedSession):
        return 0
    requests_ = (requests.Request("GET", url, params=w.params(), headers=dict(headers)).prepare() for w in parts)
    return sum(bool(session.cache.contains(request=r)) for r in requests_)
