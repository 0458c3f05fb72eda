"""Pure DataFrame helpers: frame in, new frame out, ``start_time`` kept UTC, ``attrs`` carried forward.

Every helper reads what it needs from the frame's ``attrs`` (endpoint, width, window, group keys), so that
additive counts are summed, point-in-time levels (vector store bytes) are never summed over time, and labels
(currency, unit) are kept. ``df.usage.<name>(...)`` calls the same functions (see
:mod:`usage_frames.accessor`). The helpers live in :mod:`usage_frames.analysis` by subject, the FinOps
outputs in :mod:`usage_frames.finops`; this is their one namespace.

Examples:
    >>> from usage_frames import Client
    >>> df = Client.fake().completions("2026-10-05", "2026-10-19", group_by="model")
    >>> weekly = resample(df, "W-SUN")  # pandas' weeks ending Sunday: Monday to Sunday, labelled by the Monday
    >>> len(weekly), weekly.index[0]
    (8, Timestamp('2026-10-05 00:00:00+0000', tz='UTC'))
    >>> totals(df, by="model")["input_tokens"].idxmax()
    'gpt-4o-mini-2024-07-18'
"""

from __future__ import annotations

from usage_frames.analysis.combine import combine, per_million
from usage_frames.analysis.forecast import anomalies, daily_spend, forecast, forecast_start
from usage_frames.analysis.frame import (
    RESTORE_HINT,
    TOKEN_UNITS,
    as_of,
    endpoint_of,
    keys_of,
    label,
    provider_of,
    restore_attrs,
)
from usage_frames.analysis.money import join_costs, split_line_items, unit_prices
from usage_frames.analysis.reshape import complete, gib_days, pivot, provisional, resample, top_n
from usage_frames.analysis.savings import batch_savings, reconcile, tier_savings, unit_costs
from usage_frames.analysis.summary import compare, share, totals
from usage_frames.analysis.tokens import cache_efficiency, token_categories
from usage_frames.finops.allocation import allocate
from usage_frames.finops.budgets import check_budgets
from usage_frames.finops.focus import to_focus

__all__ = [
    "RESTORE_HINT",
    "TOKEN_UNITS",
    "allocate",
    "anomalies",
    "as_of",
    "batch_savings",
    "cache_efficiency",
    "check_budgets",
    "combine",
    "compare",
    "complete",
    "daily_spend",
    "endpoint_of",
    "forecast",
    "forecast_start",
    "gib_days",
    "join_costs",
    "keys_of",
    "label",
    "per_million",
    "pivot",
    "provider_of",
    "provisional",
    "reconcile",
    "resample",
    "restore_attrs",
    "share",
    "split_line_items",
    "tier_savings",
    "to_focus",
    "token_categories",
    "top_n",
    "totals",
    "unit_costs",
    "unit_prices",
]
