"""Pure DataFrame helpers: frame in, new frame out, ``start_time`` kept UTC, ``attrs`` carried forward.

Every helper reads what it needs from the frame's ``attrs`` (endpoint, width, window, group keys), so that
additive counts are summed, point-in-time levels (vector store bytes) are never summed over time, and labels
(currency, unit) are kept. ``df.usage.<name>(...)`` calls the same functions (see :mod:`usage_frames.accessor`).

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

from typing import TYPE_CHECKING, Any

from usage_frames.analysis.forecast import anomalies as anomalies
from usage_frames.analysis.forecast import daily_spend as daily_spend
from usage_frames.analysis.forecast import forecast as forecast
from usage_frames.analysis.forecast import forecast_start as forecast_start
from usage_frames.analysis.frame import RESTORE_HINT as RESTORE_HINT
from usage_frames.analysis.frame import TOKEN_UNITS as TOKEN_UNITS
from usage_frames.analysis.frame import _values as _values
from usage_frames.analysis.frame import as_of as as_of
from usage_frames.analysis.frame import endpoint_of as endpoint_of
from usage_frames.analysis.frame import keys_of as keys_of
from usage_frames.analysis.frame import label as label
from usage_frames.analysis.frame import restore_attrs as restore_attrs
from usage_frames.analysis.money import join_costs as join_costs
from usage_frames.analysis.money import parse_line_item as parse_line_item
from usage_frames.analysis.money import split_line_items as split_line_items
from usage_frames.analysis.money import unit_prices as unit_prices
from usage_frames.analysis.reshape import complete as complete
from usage_frames.analysis.reshape import gib_days as gib_days
from usage_frames.analysis.reshape import pivot as pivot
from usage_frames.analysis.reshape import provisional as provisional
from usage_frames.analysis.reshape import resample as resample
from usage_frames.analysis.reshape import top_n as top_n
from usage_frames.analysis.savings import batch_savings as batch_savings
from usage_frames.analysis.savings import cache_efficiency as cache_efficiency
from usage_frames.analysis.savings import reconcile as reconcile
from usage_frames.analysis.savings import tier_savings as tier_savings
from usage_frames.analysis.savings import unit_costs as unit_costs
from usage_frames.analysis.summary import compare as compare
from usage_frames.analysis.summary import share as share
from usage_frames.analysis.summary import totals as totals

# FinOps: FOCUS export, allocation to teams, budgets. Modules of their own that use the helpers above: imported on
# first use (PEP 562), so that ops and they do not import each other at module level.
_FINOPS = {
    "allocate": "usage_frames.allocation", "check_budgets": "usage_frames.budgets", "to_focus": "usage_frames.focus",
}  # fmt: skip

if TYPE_CHECKING:
    from usage_frames.allocation import allocate as allocate
    from usage_frames.budgets import check_budgets as check_budgets
    from usage_frames.focus import to_focus as to_focus


def __getattr__(name: str) -> Any:
    """``ops.allocate``, ``ops.check_budgets`` and ``ops.to_focus``, from their modules."""
    if name in _FINOPS:
        import importlib

        return getattr(importlib.import_module(_FINOPS[name]), name)
    raise AttributeError(f"module 'usage_frames.ops' has no attribute {name!r}")
