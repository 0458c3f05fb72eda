"""What a Parquet sync fetches: the months of a query that are not settled yet, and those beyond the look-back.

Pure functions of a query, the dataset's months (its ``_sync.json``) and the API's earliest start, so that
:func:`usage_frames.dataset.sync` can tell before it creates anything that a window has nothing to fetch, and
say in one warning which months the API's one-year look-back leaves out, from which start and why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from usage_frames._core.provider import Provider
from usage_frames._core.query import EPOCH, Query


@dataclass(frozen=True, slots=True)
class MonthPlan:
    """What a sync does with the months of one endpoint's query.

    Attributes:
        todo: The first days of the months to fetch (and rewrite), in order.
        skipped: Months (``YYYY-MM``) settled in the dataset already, kept as they are.
        unavailable: Months to fetch that end before the API's earliest start: left out.
        warning: What the look-back changes, for a ``UsageFramesWarning`` (``""`` when it changes nothing).
    """

    todo: list[pd.Timestamp]
    skipped: list[str]
    unavailable: list[str]
    warning: str


def earliest_sync_start(now: pd.Timestamp, provider: Provider) -> pd.Timestamp:
    """The earliest start a sync asks for at ``now``: a day after the API's (its exact cut-off is its own business).

    A provider without a look-back answers from the start of Unix time.

    Examples:
        >>> from usage_frames.providers import DEFAULT
        >>> earliest_sync_start(pd.Timestamp("2026-11-28 12:00", tz="UTC"), DEFAULT)
        Timestamp('2025-11-29 00:00:00+0000', tz='UTC')
    """
    earliest = provider.earliest_start(now)
    return EPOCH if earliest is None else earliest + pd.Timedelta(days=1)


def plan_months(query: Query, months: Mapping[str, Mapping[str, Any]], earliest: pd.Timestamp) -> MonthPlan:
    """The months of ``query`` to fetch, given the dataset's ``months`` and the earliest start the API answers.

    Examples:
        >>> from usage_frames._core.query import build_query
        >>> from usage_frames.providers import DEFAULT
        >>> q = build_query(DEFAULT.endpoint("costs"), "2025-01-15", "2025-12-10",
        ...                 now=pd.Timestamp("2026-11-28 12:00", tz="UTC"))
        >>> plan = plan_months(q, {}, pd.Timestamp("2025-11-29", tz="UTC"))
        >>> plan.unavailable[-1], [f"{m:%Y-%m}" for m in plan.todo]
        ('2025-10', ['2025-11', '2025-12'])
        >>> print(plan.warning)
        sync costs: the API keeps one year of data, so the backfill starts at 2025-11-29 instead of 2025-01-15; months
        2025-01 to 2025-10 are left out
    """
    month_starts = pd.date_range(query.start.floor("D").replace(day=1), query.end, freq="MS", inclusive="left")
    todo = [m for m in month_starts if not settled(months.get(f"{m:%Y-%m}", {}), max(m, query.start))]
    skipped = [f"{m:%Y-%m}" for m in month_starts if m not in todo]
    unavailable = [f"{m:%Y-%m}" for m in todo if m + pd.offsets.MonthBegin(1) <= earliest]
    wanted = max(query.start, todo[0]) if todo else earliest  # the start asked for, where months are to fetch
    todo = [m for m in todo if f"{m:%Y-%m}" not in unavailable]
    if wanted >= earliest:
        return MonthPlan(todo, skipped, unavailable, "")
    name = query.endpoint.name
    left_out = f"; {named_months(unavailable)} {'is' if len(unavailable) == 1 else 'are'} left out"
    if not todo:
        warning = (
            f"sync {name}: the API keeps one year of data (from {earliest:%Y-%m-%d}), so nothing from "
            f"{wanted:%Y-%m-%d} to {query.end:%Y-%m-%d} can be fetched{left_out}"
        )
    else:
        warning = (
            f"sync {name}: the API keeps one year of data, so the backfill starts at {earliest:%Y-%m-%d} instead of "
            f"{wanted:%Y-%m-%d}" + (left_out if unavailable else "")
        )
    return MonthPlan(todo, skipped, unavailable, warning)


def named_months(months: Sequence[str]) -> str:
    """Months (``YYYY-MM``, in order) for a message: one, a run of them, or a list.

    Examples:
        >>> named_months(["2025-01"]), named_months(["2025-01", "2025-02", "2025-03"])
        ('month 2025-01', 'months 2025-01 to 2025-03')
        >>> named_months(["2025-01", "2025-03"])
        'months 2025-01, 2025-03'
    """
    if len(months) == 1:
        return f"month {months[0]}"
    if len(months) > 2 and len(pd.period_range(months[0], months[-1], freq="M")) == len(months):
        return f"months {months[0]} to {months[-1]}"
    return "months " + ", ".join(months)


def settled(entry: Mapping[str, Any], wanted_from: pd.Timestamp) -> bool:
    """Whether a month in the dataset is final and covers the days wanted (a start moved earlier refetches it).

    Examples:
        >>> settled({"settled": True, "from": "2026-09-10T00:00:00+00:00"}, pd.Timestamp("2026-09-01", tz="UTC"))
        False
    """
    covered = entry.get("from")
    return bool(entry.get("settled")) and (not isinstance(covered, str) or pd.Timestamp(covered) <= wanted_from)
