"""Keep a partitioned Parquet dataset of usage up to date: ``PATH/endpoint=NAME/month=YYYY-MM/part-0.parquet``.

The first run backfills from ``start``; later runs fetch only the months that were still open (not yet settled)
and rewrite just those. Every month file is written to a hidden temporary name and renamed into place, and the
state file ``_sync.json`` is updated after each month, so an interrupted run leaves a readable dataset and the
next run resumes. Re-running is idempotent. DuckDB, Polars and Spark read the layout directly (hive partitions).

Examples:
    >>> import tempfile
    >>> from usage_frames.client import Client
    >>> path = tempfile.mkdtemp()
    >>> result = sync(path, ["costs"], start="2026-08-01", end="2026-10-01", client=Client.fake())
    >>> result["costs"].written
    ['2026-08', '2026-09']
    >>> pd.read_parquet(f"{path}/endpoint=costs")["amount"].sum().round(2)
    np.float64(4136.51)
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from usage_frames.client import COSTS_SETTLE, USAGE_SETTLE, Client
from usage_frames.endpoints import ENDPOINTS, KEY_DTYPES, Endpoint
from usage_frames.errors import InvalidParameterError, UsageFramesWarning
from usage_frames.params import FilterValue, TimeLike, build_query, earliest_start

STATE_FILE = "_sync.json"


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


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    tmp.chmod(0o600)
    os.replace(tmp, path)


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
        >>> from usage_frames.endpoints import ENDPOINTS
        >>> schema = parquet_schema(ENDPOINTS["embeddings"], ["model"])
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
            *((k, pa.bool_() if KEY_DTYPES.get(k) == "boolean" else category) for k in keys),
            *((f.name, arrow[f.dtype]) for f in endpoint.fields),
            ("start_time", time),  # the index, stored last as pandas does
        ]
    )


def _to_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Write a frame with its endpoint's fixed schema (and pandas' metadata, so it reads back as written)."""
    pa = _pyarrow()
    table = pa.Table.from_pandas(frame)
    schema = parquet_schema(ENDPOINTS[frame.attrs["endpoint"]], frame.attrs["group_by"])
    metadata = {**table.schema.metadata, b"PANDAS_ATTRS": json.dumps(frame.attrs).encode()}
    pa.parquet.write_table(table.select(schema.names).cast(schema.with_metadata(metadata)), path)


def _write_month(frame: pd.DataFrame, directory: Path) -> None:
    """Write one month's file so that readers see either the old file or the new one, never half of one."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    target = directory / "part-0.parquet"
    tmp = directory / ".part-0.parquet.tmp"  # hidden: dataset readers skip names starting with a dot
    _to_parquet(frame, tmp)
    tmp.chmod(0o600)  # usage data is the organization's business: owner only
    os.replace(tmp, target)


def sync(
    path: str | os.PathLike[str],
    endpoints: Sequence[str] = ("completions", "costs"),
    *,
    group_by: Sequence[str] | Mapping[str, Sequence[str]] | None = None,
    start: TimeLike | None = None,
    end: TimeLike | None = None,
    bucket_width: str = "1d",
    client: Client | None = None,
    **filters: FilterValue | None,
) -> dict[str, SyncResult]:
    """Bring a Parquet dataset of one or more endpoints up to date.

    Args:
        path: The dataset's root directory (created if needed).
        endpoints: Endpoint names to keep.
        group_by: Group keys for every endpoint, or a mapping from endpoint to its keys.
        start: Where the backfill starts; needed on the first run only (later runs continue from the dataset).
        end: Where to stop (default now); months after it are left alone.
        bucket_width: The bucket width (fixed for the life of a dataset).
        client: The client; defaults to ``Client()``.
        **filters: Filters applied to every endpoint (fixed for the life of a dataset).

    Returns:
        One :class:`SyncResult` per endpoint.

    Raises:
        InvalidParameterError: For bad arguments, a first run without ``start``, or a dataset that was built
            with other group keys, width or filters.
    """
    root = Path(path)
    client = client or Client()
    results: dict[str, SyncResult] = {}
    for name in endpoints:
        keys = group_by.get(name) if isinstance(group_by, Mapping) else group_by
        results[name] = _sync_endpoint(root, name, keys, start, end, bucket_width, client, filters)
    return results


def _sync_endpoint(
    root: Path,
    name: str,
    group_by: Sequence[str] | None,
    start: TimeLike | None,
    end: TimeLike | None,
    bucket_width: str,
    client: Client,
    filters: Mapping[str, FilterValue | None],
) -> SyncResult:
    folder = root / f"endpoint={name}"
    for directory in (root, folder):
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    state_path = folder / STATE_FILE
    state: dict[str, Any] = json.loads(state_path.read_text()) if state_path.exists() else {}
    months: dict[str, dict[str, Any]] = state.get("months", {})
    if start is None:
        if not months:
            raise InvalidParameterError("start", None, reason=f"is needed for the first sync of {name} into {root}")
        start = min(months) + "-01"
    query = build_query(name, start, end, bucket_width=bucket_width, group_by=group_by, filters=filters)
    shape = {"bucket_width": query.bucket_width, "group_by": list(query.group_by), "filters": query.attrs()["filters"]}
    if state.get("query", shape) != shape:
        raise InvalidParameterError(
            "group_by", shape, reason=f"differs from the dataset at {folder} ({state['query']}); sync into another path"
        )
    result = SyncResult(name)
    month_starts = pd.date_range(query.start.floor("D").replace(day=1), query.end, freq="MS", inclusive="left")
    # The API refuses starts more than a year back; a day's margin, as its exact cut-off is its own business.
    earliest = earliest_start(client.clock()) + pd.Timedelta(days=1)
    todo = [m for m in month_starts if not months.get(f"{m:%Y-%m}", {}).get("settled")]
    result.skipped = [f"{m:%Y-%m}" for m in month_starts if m not in todo]
    result.unavailable = [f"{m:%Y-%m}" for m in todo if m + pd.offsets.MonthBegin(1) <= earliest]
    todo = [m for m in todo if f"{m:%Y-%m}" not in result.unavailable]
    if not todo:
        return result
    fetch_start = max(query.start, todo[0])
    if fetch_start < earliest:
        warnings.warn(
            f"sync {name}: the API keeps one year of data, so the backfill starts at {earliest:%Y-%m-%d} instead "
            f"of {fetch_start:%Y-%m-%d}"
            + (f" (months {', '.join(result.unavailable)} left out)" if result.unavailable else ""),
            UsageFramesWarning,
            stacklevel=3,
        )
        fetch_start = earliest
    frame = client.frame(replace(query, start=fetch_start))
    now = pd.Timestamp.now(tz="UTC")
    settle = COSTS_SETTLE if query.endpoint.name == "costs" else USAGE_SETTLE
    for month in todo:
        month_end = month + pd.offsets.MonthBegin(1)
        part = frame[(frame.index >= month) & (frame.index < month_end)]
        part.attrs = {
            **frame.attrs,
            "start": max(month, fetch_start).isoformat(),
            "end": min(month_end, query.end).isoformat(),
        }
        _write_month(part, folder / f"month={month:%Y-%m}")
        complete = bool(month_end <= query.end and month_end + settle <= now)
        months[f"{month:%Y-%m}"] = {"settled": complete, "rows": len(part), "written_at": now.isoformat()}
        _atomic_write_text(state_path, json.dumps({"query": shape, "months": months}, indent=1, sort_keys=True))
        result.written.append(f"{month:%Y-%m}")
        result.rows += len(part)
    return result
