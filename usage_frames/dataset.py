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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from usage_frames.client import COSTS_SETTLE, USAGE_SETTLE, Client
from usage_frames.errors import InvalidParameterError
from usage_frames.params import FilterValue, TimeLike, build_query

STATE_FILE = "_sync.json"


@dataclass
class SyncResult:
    """What one sync run did for one endpoint.

    Attributes:
        endpoint: The endpoint.
        written: Months (``YYYY-MM``) written in this run.
        skipped: Months already settled in the dataset, left as they were.
        rows: Rows written in this run.
    """

    endpoint: str
    written: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    rows: int = 0


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    tmp.chmod(0o600)
    os.replace(tmp, path)


def _write_month(frame: pd.DataFrame, directory: Path) -> None:
    """Write one month's file so that readers see either the old file or the new one, never half of one."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    target = directory / "part-0.parquet"
    tmp = directory / ".part-0.parquet.tmp"  # hidden: dataset readers skip names starting with a dot
    frame.to_parquet(tmp)
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
    todo = [m for m in month_starts if not months.get(f"{m:%Y-%m}", {}).get("settled")]
    result.skipped = [f"{m:%Y-%m}" for m in month_starts if m not in todo]
    if not todo:
        return result
    fetch_start = max(query.start, todo[0])
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
