"""Pure: what a fetch costs before it is sent: requests, windows, cached windows, buckets, rows and warnings.

What does a fetch cost? One request per calendar window (:func:`usage_frames._core.query.windows`) at the largest
page size; rows are buckets times the assumed cardinality of each group key (the endpoint's ``cardinality``).
:meth:`usage_frames.Client.plan` adds what the cache already holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from usage_frames._core.errors import InvalidParameterError
from usage_frames._core.query import Query, bucket_count, windows

if TYPE_CHECKING:
    from usage_frames._core.provider import Provider

ROWS_WARNING = 1_000_000
REQUESTS_WARNING = 400


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



def plan_query(
    query: Query, cached: int = 0, now: pd.Timestamp | None = None, provider: Provider | None = None
) -> Plan:
    """Estimate requests and rows of a query, with warnings for queries likely to explode (pure).

    With ``now`` and the ``provider``, it also warns when the start is older than the provider's look-back (the
    server would refuse it with its look-back error).

    Examples:
        >>> from usage_frames._core.query import build_query
        >>> from usage_frames.providers import DEFAULT
        >>> q = build_query(DEFAULT.endpoint("completions"), "2026-01-01", "2026-11-01", bucket_width="1m",
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
        cardinality *= len(chosen) if isinstance(chosen, tuple) else query.endpoint.cardinality.get(key, 10)
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
    earliest = provider.earliest_start(now) if now is not None and provider is not None else None
    if provider is not None and earliest is not None and query.start < earliest:
        back = "a year" if provider.lookback == pd.DateOffset(years=1) else "the look-back"
        warnings.append(
            f"start {query.start:%Y-%m-%d} is more than {back} back: the API refuses starts before "
            f"{earliest:%Y-%m-%d} ({provider.lookback_code}); start there, or let uf.sync backfill from it"
        )
    return Plan(query, len(parts), len(parts), cached, buckets, rows, tuple(warnings))


def check_size(query: Query, max_requests: int) -> list[Query]:
    """The calendar windows of a query, or an argument error if they are more than ``max_requests``.

    Raises:
        InvalidParameterError: Naming ``start`` and the coarser width that would answer the query.

    Examples:
        >>> from usage_frames._core.query import build_query
        >>> from usage_frames.providers import DEFAULT
        >>> q = build_query(DEFAULT.endpoint("completions"), "2026-10-01", "2026-10-08", bucket_width="1m",
        ...                 now=pd.Timestamp("2026-11-28", tz="UTC"))
        >>> len(check_size(q, 7))
        7
    """
    parts = windows(query)
    if len(parts) > max_requests:
        days = (query.end - query.start) / pd.Timedelta(days=1)
        coarser = {"1m": "'1h'", "1h": "'1d'"}.get(query.bucket_width, "a shorter window")
        raise InvalidParameterError(
            "start",
            query.start.isoformat(),
            reason=f"makes a window too long for bucket_width={query.bucket_width!r}: {days:.0f} days need "
            f"{len(parts)} requests, more than max_requests={max_requests}; use {coarser} or split it",
        )
    return parts
