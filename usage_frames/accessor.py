"""``df.usage``: the helpers of :mod:`usage_frames.ops` and the plots of :mod:`usage_frames.plot` on any frame.

The accessor only delegates: ``df.usage.resample("W-MON")`` is ``ops.resample(df, "W-MON")``, and
``df.usage.plot.spend(by="project_id")`` is ``plot.spend(df, by="project_id")``. Importing usage_frames
registers it.

Examples:
    >>> import usage_frames as uf
    >>> costs = uf.Client.fake().costs("2026-10-01", "2026-11-01", group_by="project_id")
    >>> costs.usage.totals(by="project_id").index[0]
    'proj_chat'
    >>> costs.usage.plot.spend(by="project_id").get_ylabel()
    'Spend (USD)'
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import pandas as pd

from usage_frames import ops
from usage_frames._core.errors import InvalidParameterError
from usage_frames.providers import PACKAGES


def _plot(name: str) -> Any:
    """A plot method that imports matplotlib (via :mod:`usage_frames.plot`) only when a plot is drawn."""

    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        from usage_frames import plot

        return getattr(plot, name)(self._df, *args, **kwargs)

    method.__name__ = method.__qualname__ = name
    return method


def _delegate(function: Callable[..., Any]) -> Any:
    @functools.wraps(function)
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        return function(self._df, *args, **kwargs)

    return method


class PlotAccessor:
    """``df.usage.plot.<kind>(...)``: the plots of :mod:`usage_frames.plot`, each returning an ``Axes``."""

    def __init__(self, df: pd.DataFrame) -> None:
        self._df = df

    spend = _plot("spend")
    top = _plot("top")
    token_mix = _plot("token_mix")
    heatmap = _plot("heatmap")
    month_to_date = _plot("month_to_date")
    unit_cost = _plot("unit_cost")


@pd.api.extensions.register_dataframe_accessor("usage")
class UsageAccessor:
    """``df.usage.<helper>(...)``: pure helpers that return new frames and keep ``start_time`` UTC."""

    def __init__(self, df: pd.DataFrame) -> None:
        self._df = df

    @property
    def plot(self) -> PlotAccessor:
        """The plots, as ``df.usage.plot.spend(...)``."""
        return PlotAccessor(self._df)

    def label(self, client: Any = None, **names: pd.DataFrame) -> pd.DataFrame:
        """Add names next to IDs; pass ``projects=``/``users=``/``api_keys=`` frames, or a client to fetch them.

        With a client, its provider's directory names every key it can (workspaces, keys, users...). See
        :func:`usage_frames.ops.label`.
        """
        if client is not None and not names:
            mine = ops.provider_of(self._df)
            if mine.name != client.provider.name:
                reason = (f"cannot name the IDs of {mine.title}'s frame: pass a client of {mine.title}"
                          if mine.name in PACKAGES else "cannot name a combined frame's IDs: label each provider's "
                          "frame before ops.combine")  # fmt: skip
                raise InvalidParameterError("client", f"a client of {client.provider.title}", reason=reason)
            return ops.label(self._df, names=PACKAGES[mine.name].names(client))
        return ops.label(self._df, names.get("projects"), names.get("users"), names.get("api_keys"))

    def combine(self, *others: pd.DataFrame) -> pd.DataFrame:
        """This frame and ``others`` (of any providers) in one: see :func:`usage_frames.ops.combine`."""
        return ops.combine(self._df, *others)

    restore_attrs = _delegate(ops.restore_attrs)
    as_of = _delegate(ops.as_of)
    complete = _delegate(ops.complete)
    resample = _delegate(ops.resample)
    gib_days = _delegate(ops.gib_days)
    provisional = _delegate(ops.provisional)
    pivot = _delegate(ops.pivot)
    top_n = _delegate(ops.top_n)
    totals = _delegate(ops.totals)
    share = _delegate(ops.share)
    compare = _delegate(ops.compare)
    join_costs = _delegate(ops.join_costs)
    split_line_items = _delegate(ops.split_line_items)
    unit_prices = _delegate(ops.unit_prices)
    unit_costs = _delegate(ops.unit_costs)
    reconcile = _delegate(ops.reconcile)
    batch_savings = _delegate(ops.batch_savings)
    tier_savings = _delegate(ops.tier_savings)
    cache_efficiency = _delegate(ops.cache_efficiency)
    token_categories = _delegate(ops.token_categories)
    per_million = _delegate(ops.per_million)
    daily_spend = _delegate(ops.daily_spend)
    forecast = _delegate(ops.forecast)
    anomalies = _delegate(ops.anomalies)
    to_focus = _delegate(ops.to_focus)
    allocate = _delegate(ops.allocate)
    check_budgets = _delegate(ops.check_budgets)
