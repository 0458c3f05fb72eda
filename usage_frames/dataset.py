"""Keep a partitioned Parquet dataset of usage up to date: ``PATH/endpoint=NAME/month=YYYY-MM/part-0.parquet``.

The first run backfills from ``start``; later runs fetch only the months that were still open (not yet settled)
and rewrite just those. Every month file is written to a hidden temporary name and renamed into place, and the
state file ``_sync.json`` is updated after each month, so an interrupted run leaves a readable dataset and the
next run resumes. Re-running is idempotent. DuckDB, Polars and Spark read the layout directly (hive partitions).

``path`` may also be a URL of any pyarrow filesystem (``s3://bucket/usage``, ``gs://...``, ``hdfs://...``,
``file:///srv/usage``), or a path on a ``filesystem=`` you made. ``file://`` URLs are local paths. Elsewhere a
month file is still written under a hidden temporary name and moved into place: on HDFS that is a rename; on
object stores (S3, GCS) it is a copy, and an object appears whole or not at all, so readers still never see half
a file. The lock there holds within this process only (object stores have no file locks): run one sync per
remote dataset at a time.

Examples:
    >>> import tempfile
    >>> from usage_frames import Client
    >>> path = tempfile.mkdtemp()
    >>> result = sync(path, ["costs"], start="2026-08-01", end="2026-10-01", client=Client.sample())
    >>> result["costs"].written
    ['2026-08', '2026-09']
    >>> pd.read_parquet(f"{path}/endpoint=costs")["amount"].sum().round(2)
    np.float64(4136.51)
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from usage_frames._core.client import BaseClient as Client
from usage_frames._core.default import client_or_default
from usage_frames._core.errors import DatasetError, InvalidParameterError, UsageFramesWarning
from usage_frames._core.provider import Provider
from usage_frames._core.query import FilterValue, Query, TimeLike, build_query
from usage_frames._core.schema import Endpoint
from usage_frames.analysis.frame import endpoint_of
from usage_frames.providers import DEFAULT
from usage_frames.sync_plan import earliest_sync_start, plan_months

STATE_FILE = "_sync.json"
LOCK_FILE = ".sync.lock"  # hidden: dataset readers skip names starting with a dot
# A second sync of the same dataset waits this long for the first one, then fails with a clear message.
LOCK_WAIT = 60.0


@dataclass
class SyncResult:
    """What one sync run did for one endpoint.

    Attributes:
        endpoint: The endpoint.
        written: Months (``YYYY-MM``) written in this run.
        skipped: Months already settled in the dataset, left as they were.
        rows: Rows written in this run.
        unavailable: Months older than the API's one-year look-back, which it no longer answers.
    """

    endpoint: str
    written: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    rows: int = 0
    unavailable: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Location:
    """A file or folder of a dataset: a local path, or a path on a pyarrow filesystem (``fs``).

    Examples:
        >>> str(Location.of("/srv/usage") / "endpoint=costs"), str(Location.of("file:///srv/usage"))
        ('/srv/usage/endpoint=costs', '/srv/usage')
    """

    path: str
    fs: Any = None
    """The pyarrow filesystem; ``None`` for the local one (with owner-only files, file locks and atomic renames)."""

    @classmethod
    def of(cls, path: str | os.PathLike[str], filesystem: Any = None) -> Location:
        """The root of a dataset from a local path or a filesystem URL (``s3://``, ``gs://``, ``file://``...)."""
        text = os.fspath(path)
        if filesystem is not None:
            return cls(text.rstrip("/") or "/", filesystem)
        if "://" not in text:
            return cls(str(Path(text)))
        fs, inner = _pyarrow().fs.FileSystem.from_uri(text)
        if type(fs).__name__ == "LocalFileSystem":
            return cls(str(Path(inner)))
        return cls(inner.rstrip("/"), fs)

    def __truediv__(self, name: str) -> Location:
        return Location(f"{self.path}/{name}" if self.fs is not None else str(Path(self.path) / name), self.fs)

    def __str__(self) -> str:
        return self.path if self.fs is None else f"{self.fs.type_name}://{self.path}"

    @property
    def name(self) -> str:
        """The last part of the path."""
        return self.path.rstrip("/").rpartition("/")[2] if self.fs is not None else Path(self.path).name

    @property
    def parent(self) -> Location:
        """The folder that holds this one."""
        if self.fs is None:
            return Location(str(Path(self.path).parent))
        return Location(self.path.rstrip("/").rpartition("/")[0], self.fs)

    def mkdir(self) -> None:
        """Create the folder (and its parents), owner-only where the filesystem has modes."""
        try:
            if self.fs is None:
                Path(self.path).mkdir(parents=True, exist_ok=True, mode=0o700)
            else:
                self.fs.create_dir(self.path, recursive=True)
        except OSError as exc:
            raise DatasetError(f"cannot create {self} ({type(exc).__name__}: {exc.strerror or exc})") from None

    def read_text(self) -> str | None:
        """The file's text, ``None`` if there is no file."""
        if self.fs is None:
            path = Path(self.path)
            return path.read_text() if path.exists() else None
        if self.fs.get_file_info(self.path).type == _pyarrow().fs.FileType.NotFound:
            return None
        with self.fs.open_input_stream(self.path) as stream:
            text: str = stream.read().decode()
            return text

    def remove_temporaries(self) -> None:
        """Delete the hidden temporary files a killed run left below this folder."""
        try:
            if self.fs is None:
                for stale in Path(self.path).rglob(".*.tmp"):
                    stale.unlink()
                return
            pafs = _pyarrow().fs
            for info in self.fs.get_file_info(pafs.FileSelector(self.path, recursive=True, allow_not_found=True)):
                if info.type == pafs.FileType.File and info.base_name.startswith(".") and info.path.endswith(".tmp"):
                    self.fs.delete_file(info.path)
        except OSError as exc:
            raise DatasetError(f"cannot clean {self} ({type(exc).__name__}: {exc.strerror or exc})") from None

    def write(self, write: Callable[[Any], object]) -> None:
        """Write the file under a unique hidden temporary name, then move it into place.

        ``write`` gets a binary file object. Readers see the old file or the new one, never half of one; a failed
        write (full disk, read-only folder) leaves nothing behind.
        """
        if self.fs is None:
            return _atomic_write(Path(self.path), write)
        tmp = (self.parent / f".{self.name}.{uuid.uuid4().hex}.tmp").path
        try:
            with self.fs.open_output_stream(tmp) as stream:
                write(stream)
            self.fs.move(tmp, self.path)
        except OSError as exc:
            raise DatasetError(f"cannot write {self} ({type(exc).__name__}: {exc})") from None
        finally:
            with contextlib.suppress(OSError):
                self.fs.delete_file(tmp)
        return None


def _atomic_write(path: Path, write: Callable[[Any], object]) -> None:
    """:meth:`Location.write` on the local filesystem: owner-only, an atomic rename."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)  # mkstemp makes it owner-only (usage data is the organization's business)
    tmp = Path(name)
    try:
        with tmp.open("wb") as file:
            write(file)
        tmp.chmod(0o600)
        os.replace(tmp, path)
    except OSError as exc:
        raise DatasetError(f"cannot write {path} ({type(exc).__name__}: {exc.strerror or exc})") from None
    finally:
        tmp.unlink(missing_ok=True)


def _atomic_write_text(path: Location, text: str) -> None:
    path.write(lambda file: file.write(text.encode()))


def _pyarrow() -> Any:
    try:
        import pyarrow as pa  # type: ignore[import-untyped]
        import pyarrow.parquet  # type: ignore[import-untyped]  # makes pa.parquet available
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError('Parquet needs pyarrow: pip install "usage-frames[parquet]"') from None
    return pa


def parquet_schema(endpoint: Endpoint, group_by: Sequence[str]) -> Any:
    """The one Arrow schema of an endpoint's files, from the table, whatever a month holds.

    Every month file of a dataset has the same column types (counts ``int64``, keys dictionary-encoded
    strings), so that the dataset reads as one table: a month with huge counts, no rows or fewer categories
    cannot make its file's types differ from the others'.

    Examples:
        >>> from usage_frames.providers import DEFAULT
        >>> schema = parquet_schema(DEFAULT.endpoint("embeddings"), ["model"])
        >>> [f"{f.name}: {f.type}" for f in schema]  # doctest: +NORMALIZE_WHITESPACE
        ['end_time: timestamp[us, tz=UTC]', 'model: dictionary<values=string, indices=int32, ordered=0>',
         'input_tokens: int64', 'num_model_requests: int64', 'start_time: timestamp[us, tz=UTC]']
    """
    pa = _pyarrow()
    arrow = {"Int64": pa.int64(), "Float64": pa.float64(), "string": pa.string()}
    time = pa.timestamp("us", tz="UTC")
    category = pa.dictionary(pa.int32(), pa.string())
    keys = [k for k in endpoint.group_by if k in group_by]
    return pa.schema(
        [
            ("end_time", time),
            *((k, pa.bool_() if endpoint.key_dtype(k) == "boolean" else category) for k in keys),
            *((f.name, arrow[f.dtype]) for f in endpoint.fields),
            ("start_time", time),  # the index, stored last as pandas does
        ]
    )


def _to_parquet(frame: pd.DataFrame, path: Any) -> None:
    """Write a frame with its endpoint's fixed schema (and pandas' metadata, so it reads back as written)."""
    pa = _pyarrow()
    table = pa.Table.from_pandas(frame)
    schema = parquet_schema(endpoint_of(frame), frame.attrs["group_by"])
    metadata = {**table.schema.metadata, b"PANDAS_ATTRS": json.dumps(frame.attrs).encode()}
    pa.parquet.write_table(table.select(schema.names).cast(schema.with_metadata(metadata)), path)


def _write_month(frame: pd.DataFrame, directory: Location) -> None:
    """Write one month's file so that readers see either the old file or the new one, never half of one."""
    directory.mkdir()
    (directory / "part-0.parquet").write(partial(_to_parquet, frame))


_REMOTE_LOCKS: dict[str, threading.Lock] = {}
_REMOTE_LOCKS_GUARD = threading.Lock()


@contextlib.contextmanager
def _locked(where: Location, wait: float | None = None) -> Iterator[None]:
    """Hold the dataset's lock: one sync at a time per dataset.

    Across threads and processes on local files (a lock file); across the threads of this process elsewhere
    (object stores have no file locks).
    """
    wait = LOCK_WAIT if wait is None else wait
    if where.fs is not None:
        where.mkdir()
        with _REMOTE_LOCKS_GUARD:
            lock = _REMOTE_LOCKS.setdefault(str(where), threading.Lock())
        if not lock.acquire(timeout=wait):
            raise DatasetError(
                f"another sync has been writing {where} for more than {wait:g} s; try again when it is done"
            )
        try:
            yield
        finally:
            lock.release()
        return
    root = Path(where.path)
    try:
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(root / LOCK_FILE, os.O_CREAT | os.O_RDWR, 0o600)
    except OSError as exc:
        raise DatasetError(f"cannot use {root} as a dataset ({type(exc).__name__}: {exc.strerror or exc})") from None
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                _try_lock(fd)
                break
            except (BlockingIOError, PermissionError):
                if time.monotonic() > deadline:
                    raise DatasetError(
                        f"another sync has been writing {root} for more than {wait:g} s; try again when it is done"
                    ) from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _try_lock(fd: int) -> None:
    """Take an exclusive lock on an open file without waiting (``BlockingIOError`` if another holds it)."""
    if sys.platform == "win32":
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # raises PermissionError when held
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _read_state(path: Location) -> dict[str, Any]:
    """The dataset's state file, checked: a damaged one is an error that says how to recover."""
    try:
        text = path.read_text()
        if text is None:
            return {}
        state = json.loads(text)
        if not isinstance(state, dict) or not isinstance(state.get("months", {}), dict):
            raise ValueError("not an object with a 'months' object")
        for month, entry in state.get("months", {}).items():
            pd.Timestamp(month + "-01")
            if not isinstance(entry, dict):
                raise ValueError(f"month {month!r} is not an object")
            if "from" in entry and pd.Timestamp(entry["from"]).tzinfo is None:
                raise ValueError(f"month {month!r} has a 'from' that is not a UTC time")
        if not isinstance(state.get("query", {}), dict):
            raise ValueError("'query' is not an object")
        if "start" in state and pd.Timestamp(state["start"]).tzinfo is None:
            raise ValueError("'start' is not a UTC time")
    except (OSError, ValueError, TypeError) as exc:
        raise DatasetError(
            f"the dataset state {path} is damaged ({exc}); delete it (and the folder's month= folders) to rebuild "
            "them with start=, or restore it"
        ) from None
    return state


def sync(
    path: str | os.PathLike[str],
    endpoints: str | Sequence[str] = ("completions", "costs"),
    *,
    group_by: Sequence[str] | Mapping[str, Sequence[str]] | None = None,
    start: TimeLike | None = None,
    end: TimeLike | None = None,
    bucket_width: str = "1d",
    client: Client | None = None,
    filesystem: Any = None,
    **filters: FilterValue | None,
) -> dict[str, SyncResult]:
    """Bring a Parquet dataset of one or more endpoints up to date.

    Args:
        path: The dataset's root directory (created if needed): a local path, or a URL of a pyarrow filesystem
            (``s3://bucket/usage``, ``gs://...``, ``file:///...``; see the module docstring for what atomic means
            there).
        endpoints: An endpoint name, or several, to keep.
        group_by: Group keys for every endpoint, or a mapping from endpoint to its keys.
        start: Where the backfill starts; needed on the first run only (later runs continue from the dataset).
        end: Where to stop (default now); months after it are left alone.
        bucket_width: The bucket width (fixed for the life of a dataset).
        client: The client; defaults to ``Client()``.
        filesystem: A ``pyarrow.fs.FileSystem`` that ``path`` is on (credentials, endpoints of your own).
        **filters: Filters applied to every endpoint (fixed for the life of a dataset).

    Returns:
        One :class:`SyncResult` per endpoint.

    Raises:
        InvalidParameterError: For bad arguments, a first run without ``start``, or a dataset that was built
            with other group keys, width or filters.
    """
    if not isinstance(path, str | os.PathLike) or not os.fspath(path) or "\x00" in os.fspath(path):
        raise InvalidParameterError("path", path, reason="must be a folder path or URL (a str or a Path)")
    client = client_or_default(client, client.provider if isinstance(client, Client) else DEFAULT)
    names = _endpoint_names(endpoints, client.provider)
    if group_by is not None and isinstance(group_by, Mapping):
        unknown = [k for k in group_by if k not in names]
        if unknown:
            raise InvalidParameterError("group_by", unknown[0], names, reason="is not one of the endpoints synced")
    root = Location.of(path, filesystem)
    # Every argument is checked before anything is created, so that a typo leaves no endpoint=... folder behind.
    for name in names:
        client.check_size(_query(name, group_by, start, end, bucket_width, filters, client))
        if start is None and not _read_state(root / f"endpoint={name}" / STATE_FILE).get("months"):
            raise InvalidParameterError("start", None, reason=f"is needed for the first sync of {name} into {root}")
    if root.fs is None and not Path(root.path).exists():
        # A first run that can fetch nothing (its window is all beyond the look-back) says so and creates nothing.
        earliest = earliest_sync_start(client.clock(), client.provider)
        plans = {n: plan_months(_query(n, group_by, start, end, bucket_width, filters, client), {}, earliest)
                 for n in names}  # fmt: skip
        if not any(plan.todo for plan in plans.values()):
            for plan in plans.values():
                if plan.warning:
                    warnings.warn(plan.warning, UsageFramesWarning, stacklevel=2)
            return {n: SyncResult(n, unavailable=plan.unavailable) for n, plan in plans.items()}
    results: dict[str, SyncResult] = {}
    with _locked(root):
        for name in names:
            keys = group_by.get(name) if isinstance(group_by, Mapping) else group_by
            results[name] = _sync_endpoint(root, name, keys, start, end, bucket_width, client, filters)
    return results


def _query(
    name: str,
    group_by: Sequence[str] | Mapping[str, Sequence[str]] | None,
    start: TimeLike | None,
    end: TimeLike | None,
    bucket_width: str,
    filters: Mapping[str, FilterValue | None],
    client: Client,
) -> Query:
    """The query of one endpoint of a sync, with its own group keys."""
    keys = group_by.get(name) if isinstance(group_by, Mapping) else group_by
    return build_query(client.provider.endpoint(name), start, end, bucket_width=bucket_width, group_by=keys,
                       filters=filters, now=client.now)  # fmt: skip


def _endpoint_names(endpoints: object, provider: Provider) -> list[str]:
    """One endpoint name or several of the provider's, checked, deduplicated in order."""
    names = [endpoints] if isinstance(endpoints, str) else endpoints
    if not isinstance(names, Sequence | set | frozenset) or isinstance(names, bytes) or not names:
        reason = "must be an endpoint name or a non-empty list of them"
        raise InvalidParameterError("endpoints", endpoints, tuple(provider.endpoints), reason=reason)
    for name in names:
        if not isinstance(name, str) or name not in provider.endpoints:
            raise InvalidParameterError("endpoints", name, tuple(provider.endpoints))
    return list(dict.fromkeys(names))


def _sync_endpoint(
    root: Location,
    name: str,
    group_by: Sequence[str] | None,
    start: TimeLike | None,
    end: TimeLike | None,
    bucket_width: str,
    client: Client,
    filters: Mapping[str, FilterValue | None],
) -> SyncResult:
    folder = root / f"endpoint={name}"
    state_path = folder / STATE_FILE
    state = _read_state(state_path)
    months: dict[str, dict[str, Any]] = state.get("months", {})
    if start is None:
        if not months:
            raise InvalidParameterError("start", None, reason=f"is needed for the first sync of {name} into {root}")
        # Continue from where the user's first sync started, not from the start of its month.
        start = state.get("start") if isinstance(state.get("start"), str) else min(months) + "-01"
    query = _query(name, group_by, start, end, bucket_width, filters, client)
    first = min(query.start, pd.Timestamp(state.get("start") or query.start))
    folder.remove_temporaries()  # left by a run that was killed; the lock says none is being written
    shape = {"bucket_width": query.bucket_width, "group_by": list(query.group_by), "filters": query.attrs()["filters"]}
    if state.get("query", shape) != shape:
        raise InvalidParameterError(
            "group_by", shape, reason=f"differs from the dataset at {folder} ({state['query']}); sync into another path"
        )
    earliest = earliest_sync_start(client.clock(), client.provider)
    plan = plan_months(query, months, earliest)
    if plan.warning:
        warnings.warn(plan.warning, UsageFramesWarning, stacklevel=3)
    result = SyncResult(name, skipped=plan.skipped, unavailable=plan.unavailable)
    if not plan.todo:
        return result  # and no folder is made for an endpoint that gets no file
    folder.mkdir()
    fetch_start = max(query.start, plan.todo[0], earliest)
    now = client.clock()  # before the fetch: a month is settled only if it was when its data was read
    frame = client.frame(replace(query, start=fetch_start))
    settle = query.endpoint.settle
    for month in plan.todo:
        month_end = month + pd.offsets.MonthBegin(1)
        part = frame[(frame.index >= month) & (frame.index < month_end)]
        part.attrs = {
            **frame.attrs,
            "start": max(month, fetch_start).isoformat(),
            "end": min(month_end, query.end).isoformat(),
        }
        _write_month(part, folder / f"month={month:%Y-%m}")
        complete = bool(month_end <= query.end and month_end + settle <= now)
        months[f"{month:%Y-%m}"] = {
            "settled": complete,
            "rows": len(part),
            "written_at": now.isoformat(),
            "from": max(month, fetch_start).isoformat(),  # a later sync that starts earlier refetches the month
        }
        saved = {"query": shape, "start": first.isoformat(), "months": months}
        _atomic_write_text(state_path, json.dumps(saved, indent=1, sort_keys=True))
        result.written.append(f"{month:%Y-%m}")
        result.rows += len(part)
    return result
