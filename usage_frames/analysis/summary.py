"""Summaries: totals, shares and period-over-period comparisons.

Part of :mod:`usage_frames.ops`, which re-exports every public name here.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from usage_frames.analysis.frame import by_keys, combine_values, finish, values_of

# --- summaries -------------------------------------------------------------------------------------------------


def totals(df: pd.DataFrame, by: str | Sequence[str] | None = None) -> pd.DataFrame:
    """Totals per dimension, largest first (levels: the mean over time of the per-bucket total).

    Rows whose key is null (Anthropic's default workspace, usage without an API key) are a group of their own,
    labelled ``NaN`` as by pandas' ``groupby(dropna=False)``: the totals add up to the frame's.

    Examples:
        >>> from usage_frames import Client
        >>> t = totals(Client.fake().costs("2026-10-01", "2026-11-01", group_by="project_id"), by="project_id")
        >>> t.index.tolist()
        ['proj_chat', 'proj_search', 'proj_lab', 'proj_batch']
        >>> totals(Client.fake().costs("2026-10-01", "2026-11-01")).index
        RangeIndex(start=0, stop=1, step=1)
    """
    keys = by_keys(df, by)
    # A null key (Anthropic's default workspace, usage without a key) is a group: every total adds up to the frame's.
    buckets = df.drop(columns="end_time").groupby([df.index, *keys], observed=True, dropna=False)
    per_bucket = combine_values(buckets, df, False)
    groups = per_bucket.groupby(level=keys, observed=True, dropna=False) if keys else per_bucket.groupby(lambda _: 0)
    out = combine_values(groups, df, True)
    first = values_of(df, None)
    # Without ``by``, one row as ``df.sum().to_frame().T`` gives (index 0), not a ``start_time`` of 0.
    return finish(out.sort_values(first, ascending=False) if keys else out.reset_index(drop=True), df)


def share(df: pd.DataFrame, by: str, values: str | None = None) -> pd.DataFrame:
    """Totals of ``values`` per ``by`` with their percentage of the whole.

    Examples:
        >>> from usage_frames import Client
        >>> s = share(Client.fake().costs("2026-10-01", "2026-11-01", group_by="project_id"), by="project_id")
        >>> round(float(s["share_pct"].sum()), 6)
        100.0
    """
    name = values_of(df, values)
    out = totals(df, by)[[name]].copy()
    out["share_pct"] = out[name] / out[name].sum() * 100
    return out


def compare(
    df: pd.DataFrame, previous: pd.DataFrame, by: str | Sequence[str], values: str | None = None
) -> pd.DataFrame:
    """What drove the change between two periods: per dimension, the change and its share of the total change.

    Args:
        df: The current period.
        previous: The period to compare with (same endpoint and group keys).
        by: The dimension(s) to explain the change by.
        values: The measure (default: ``amount`` for costs, else the first count).

    Returns:
        ``previous``, ``current``, ``change`` (current minus previous), ``change_pct`` (the change in percent of
        ``previous``; ``<NA>`` where there was nothing before) and ``contribution_pct``: each row's share of the
        total change, in percent of it, so that the column adds up to 100 whatever the total's sign. A row that
        moved the same way as the total has a positive share (a project that lost $24.50 of a $55.86 decrease:
        +43.9), one that moved against it a negative share. Largest absolute change first.

    Examples:
        >>> from usage_frames import Client
        >>> c = Client.fake()
        >>> now = c.costs("2026-10-12", "2026-10-19", group_by="project_id")
        >>> before = c.costs("2026-10-05", "2026-10-12", group_by="project_id")
        >>> moved = compare(now, before, by="project_id")
        >>> moved.index[0]  # the spike week of Search & RAG
        'proj_search'
        >>> round(float(moved["contribution_pct"].sum()), 6)  # shares of the total change
        100.0
    """
    name = values_of(df, values)
    keys = by_keys(df, by)
    by_keys(previous, keys)
    current = df.groupby(keys, observed=True, dropna=False)[name].sum()
    before = previous.groupby(keys, observed=True, dropna=False)[name].sum()
    out = pd.concat({"previous": before, "current": current}, axis=1).fillna(0).astype("Float64")
    out["change"] = out["current"] - out["previous"]
    out["change_pct"] = (out["change"] / out["previous"].replace(0, np.nan) * 100).astype("Float64")
    total = out["change"].sum()
    out["contribution_pct"] = out["change"] / total * 100 if total else np.nan
    return finish(out.reindex(out["change"].abs().sort_values(ascending=False).index), df, values=name)
