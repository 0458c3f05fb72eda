"""Money: usage joined to costs, line items parsed and split, unit prices.

Part of :mod:`usage_frames.ops`, which re-exports every public name here.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import numpy as np
import pandas as pd

from usage_frames._core.errors import InvalidParameterError, UsageFramesWarning
from usage_frames.analysis.frame import (
    TOKEN_UNITS,
    endpoint_of,
    fields_of,
    finish,
    keys_of,
    meta_of,
    provider_of,
    times_of,
)
from usage_frames.analysis.reshape import resample

# --- money -----------------------------------------------------------------------------------------------------

MODALITIES = ("text", "audio", "image")
_CENT = Decimal("0.01")


def exact_total(amounts: Iterable[object]) -> Decimal:
    """The sum of amounts, each read as the decimal it was sent as; missing values (``<NA>``, NaN) skipped.

    The frame keeps ``amount`` as floats (the frame contract); the shortest text of a float is the decimal the API
    sent (``"12.50"``, ``0.06``), so adding those decimals gives the bill's own total (to 28 significant digits,
    far below a cent), which adding floats only approaches. Decimals and decimal strings are taken as they are.

    Examples:
        >>> exact_total([0.1, 0.2]), 0.1 + 0.2
        (Decimal('0.3'), 0.30000000000000004)
        >>> exact_total(pd.Series([2.675, None, "0.000004500000000000000000000000000000000"], dtype=object))
        Decimal('2.675004500000000000000000000')
    """
    values: Iterable[Any] = amounts.tolist() if isinstance(amounts, pd.Series | pd.Index | np.ndarray) else amounts
    return sum((Decimal(str(v)) for v in values if v is not None and not pd.isna(v)), Decimal(0))


def total_cents(amounts: Iterable[object]) -> int:
    """The total of these amounts in whole cents: summed exactly (:func:`exact_total`), rounded once, half to even.

    Every money total of the package that is shown or compared to the cent (allocation statements, budgets, the
    FOCUS export's total) is this function, so that they agree with each other and with
    ``round(costs["amount"].sum(), 2)`` (which differs only when the exact total is a half cent to within float
    error: there the decimal total is the right one).

    Examples:
        >>> total_cents([2.675]), round(2.675, 2)  # the float 2.675 is a little below 2.675
        (268, 2.67)
        >>> total_cents(pd.Series([0.004, 0.004, pd.NA], dtype="Float64"))
        1
    """
    return int((exact_total(amounts) / _CENT).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def join_costs(usage: pd.DataFrame, costs: pd.DataFrame) -> pd.DataFrame:
    """Usage and billed dollars side by side per UTC day (and per project when both frames have ``project_id``).

    Hourly or minute usage is summed to days first; costs are daily only, so usage cannot be joined finer.
    A :class:`~usage_frames.UsageFramesWarning` says when the frames cover different days, when only one is
    grouped by ``project_id``, or when a project has usage but no costs.

    Returns:
        The usage counts, ``amount`` (USD) and, for token endpoints, ``usd_per_1m_tokens``.

    Raises:
        InvalidParameterError: If the frames cannot be aligned (costs not daily, usage re-bucketed coarser than
            days, or the wrong endpoints).

    Examples:
        >>> from usage_frames import Client
        >>> c = Client.sample()
        >>> u = c.completions("2026-10-01", "2026-10-03", bucket_width="1h", group_by="project_id")
        >>> j = join_costs(u, c.costs("2026-10-01", "2026-10-03", group_by="project_id"))
        >>> day = j.loc["2026-10-01"].set_index("project_id")
        >>> day.loc["proj_chat", ["amount", "usd_per_1m_tokens"]].round(2).tolist()
        [44.57, 2.83]
    """
    if not endpoint_of(costs).priced:
        raise InvalidParameterError("costs", endpoint_of(costs).name, ("costs",), reason="is not a costs frame")
    if endpoint_of(usage).priced:
        raise InvalidParameterError("usage", "costs", reason="must be a usage frame (completions, images...)")
    if meta_of(costs).get("bucket_width") not in ("1d", "D"):
        raise InvalidParameterError(
            "costs", meta_of(costs).get("bucket_width"), ("1d",), reason="must be daily: the bill is only known per day"
        )
    width = meta_of(usage).get("bucket_width")
    if width not in ("1m", "1h", "1d", "D"):
        raise InvalidParameterError(
            "usage", width, ("1m", "1h", "1d"), reason="is coarser than the bill's days; join first, then resample"
        )
    daily = resample(usage, "D") if width in ("1m", "1h") else usage
    keys = [k for k in ("project_id",) if k in keys_of(daily) and k in keys_of(costs)]
    _check_alignment(usage, costs, keys)
    counts = fields_of(daily, "additive")
    used = daily[[*keys, *counts]].astype({k: object for k in keys})
    # A row of no project (an organization-level cost) is a group of its own, not dropped dollars.
    per_day = used.groupby([times_of(daily).floor("D").rename("day"), *(used[k] for k in keys)], dropna=False)
    used = per_day.sum(numeric_only=True)
    bill = costs[[*keys, "amount"]].astype({k: object for k in keys})
    day = times_of(costs).floor("D").rename("day")
    billed = bill.groupby([day, *(bill[k] for k in keys)], dropna=False)["amount"].sum()
    out = used.join(billed, how="outer")
    out["amount"] = out["amount"].fillna(0.0)
    if {"input_tokens", "output_tokens"} <= set(out.columns):
        tokens = (out["input_tokens"] + out["output_tokens"]).astype("Float64")
        out["usd_per_1m_tokens"] = out["amount"] / tokens.where(tokens > 0) * 1e6
    out = out.reset_index(keys) if keys else out
    return finish(out, usage, bucket_width="1d", joined="costs")


def _days(df: pd.DataFrame) -> tuple[pd.Timestamp, pd.Timestamp]:
    meta = meta_of(df)
    start = pd.Timestamp(meta["start"]) if "start" in meta else times_of(df).min()
    end = pd.Timestamp(meta["end"]) if "end" in meta else pd.Timestamp(df["end_time"].max())
    return start.floor("D"), end.ceil("D")


def _check_alignment(usage: pd.DataFrame, costs: pd.DataFrame, keys: list[str]) -> None:
    """Warn when a join would compare different things: other periods, or a key only one side has."""
    if len(usage) and len(costs) and _days(usage) != _days(costs):
        (a, b), (c, d) = _days(usage), _days(costs)
        warnings.warn(
            f"join_costs: usage covers {a:%Y-%m-%d}..{b:%Y-%m-%d} but costs {c:%Y-%m-%d}..{d:%Y-%m-%d}; days outside "
            "the other frame show no tokens or $0 (fetch both for the same start and end)",
            UsageFramesWarning,
            stacklevel=3,
        )
    for name, one, other in (("usage", usage, costs), ("costs", costs, usage)):
        lone = [k for k in ("project_id",) if k in keys_of(one) and k not in keys_of(other)]
        if lone:
            warnings.warn(
                f"join_costs: only {name} is grouped by {lone[0]}; the join is per day only (group both by it)",
                UsageFramesWarning,
                stacklevel=3,
            )
    if keys:
        missing = sorted(set(usage[keys[0]].dropna().astype(str)) - set(costs[keys[0]].dropna().astype(str)))
        if missing:
            warnings.warn(
                f"join_costs: {keys[0]} {', '.join(missing)} has usage but no costs in the costs frame "
                "(filtered out, or another organization)",
                UsageFramesWarning,
                stacklevel=3,
            )


PARTS = ("product", "model", "modality", "kind", "context")


def split_line_items(costs: pd.DataFrame) -> pd.DataFrame:
    """The costs frame with ``product``, ``model``, ``modality``, ``kind`` and ``context`` of each row's item.

    What each row bills, read as its provider names it (:attr:`~usage_frames._core.provider.Provider.bill`): a
    product or tier (``batch``), the model, the modality, the token kind (``input``, ``cached input``, ``cache
    writes``, ``output``) and the context (``long``). Each distinct item is read once (a bill has a few dozen,
    over thousands of rows).

    Raises:
        InvalidParameterError: If the frame is not costs grouped by the key that names its items (``line_item``,
            ``description``).

    Examples:
        >>> from usage_frames import Client
        >>> items = split_line_items(Client.fake().costs("2026-10-01", "2026-10-02", group_by="line_item"))
        >>> items.groupby("model")["amount"].sum().idxmax()
        'gpt-4o-2024-08-06'
        >>> sorted(items["modality"].dropna().unique())
        ['audio', 'image']
    """
    endpoint, bill = endpoint_of(costs), provider_of(costs).bill
    if not endpoint.priced or bill is None or bill.key not in costs.columns:
        key = bill.key if bill is not None else "the key that names its items"
        raise InvalidParameterError("costs", endpoint.name, reason=f"must be costs fetched with group_by={key!r}")
    parts = bill.parts(costs)
    out = costs.copy()
    for part in PARTS:
        out[part] = pd.array([None if pd.isna(v) else v for v in parts[part]], dtype="string")
    return finish(out, costs)


def require_quantities(costs: pd.DataFrame) -> None:
    """Refuse costs whose rows carry no quantities (no unit price can be read from them), saying what to use instead.

    Examples:
        >>> from usage_frames import Client
        >>> bill = Client.fake(provider="anthropic").costs("2026-10-01", "2026-10-02", group_by="description")
        >>> require_quantities(bill)
        Traceback (most recent call last):
        ...
        usage_frames.InvalidParameterError: costs: 'anthropic' has no quantities: this provider's cost rows carry \
dollars only, so no price per token can be read from the bill alone; use ops.unit_costs(usage, costs) (the \
dollars over the usage frame's tokens) or ops.per_million(ops.combine(costs), ops.combine(usage))
    """
    if "quantity" not in costs.columns or "quantity_unit" not in costs.columns:
        raise InvalidParameterError(
            "costs", provider_of(costs).name,
            reason="has no quantities: this provider's cost rows carry dollars only, so no price per token can be "
            "read from the bill alone; use ops.unit_costs(usage, costs) (the dollars over the usage frame's tokens) "
            "or ops.per_million(ops.combine(costs), ops.combine(usage))",
        )  # fmt: skip


def unit_prices(costs: pd.DataFrame, by_day: bool = False) -> pd.DataFrame:
    """Effective unit prices learned from the bill: ``amount / quantity`` per line item (and unit).

    With ``by_day=True`` one row per day and line item, which shows price changes and discounts over time.

    Returns:
        ``amount``, ``quantity``, ``quantity_unit``, ``unit_price``, ``usd_per_1m`` (token units only), and the
        parsed ``product``, ``model``, ``modality``, ``kind``, ``context``.

    Raises:
        InvalidParameterError: For costs of a provider whose cost rows carry no quantities (Anthropic's cost report
            gives dollars only): per-token prices are then dollars over the usage's tokens, :func:`unit_costs`.

    Examples:
        >>> from usage_frames import Client
        >>> p = unit_prices(Client.fake().costs("2026-10-01", "2026-10-08", group_by="line_item"))
        >>> round(float(p.loc["gpt-4o-2024-08-06, output", "usd_per_1m"]), 6)
        10.0
    """
    items = split_line_items(costs)
    require_quantities(costs)
    key = provider_of(costs).bill.key  # type: ignore[union-attr]  # split_line_items refused a frame without one
    keys = [key, "quantity_unit", *PARTS]
    groups = [times_of(items).floor("D").rename("day"), *keys] if by_day else keys
    items = items.astype({k: object for k in keys})
    out = items.groupby(groups, dropna=False, observed=True)[["amount", "quantity"]].sum()
    out = out.reset_index([k for k in keys if k != key])
    out["unit_price"] = out["amount"] / out["quantity"].replace(0, np.nan)
    per_1m = out["quantity_unit"].map(TOKEN_UNITS).astype(float)
    out["usd_per_1m"] = out["unit_price"] * per_1m
    return finish(out, costs)


# Each billable token count of a completions row: (column, modality, kind); the columns add up to all tokens.
