"""Unit economics: unit costs, the bill reconciled, batch and tier savings.

Part of :mod:`usage_frames.ops`, which re-exports every public name here.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
import pandas as pd

from usage_frames._core.errors import InvalidParameterError
from usage_frames.analysis.frame import by_keys, endpoint_of, finish, keys_of, meta_of, times_of
from usage_frames.analysis.money import MODALITIES, PARTS, split_line_items, unit_prices
from usage_frames.analysis.reshape import resample
from usage_frames.analysis.tokens import token_categories

_TOKEN_PARTS = tuple(
    [(f"input_{m}_tokens", m, "input") for m in MODALITIES]
    + [("input_cache_write_tokens", "text", "cache writes")]
    + [(f"input_cached_{m}_tokens", m, "cached input") for m in MODALITIES]
    + [(f"output_{m}_tokens", m, "output") for m in MODALITIES]
)


_PART_COLUMNS = [c for c, _, _ in _TOKEN_PARTS]


def _column(usage: pd.DataFrame, name: str) -> pd.Series:
    if name in usage.columns:
        return usage[name].astype("Int64")
    return pd.Series(pd.NA, index=usage.index, dtype="Int64")


def _token_parts(usage: pd.DataFrame) -> pd.DataFrame:
    """Per row, the tokens of each (modality, kind) of :data:`_TOKEN_PARTS`, and ``requests``.

    Where the frame breaks tokens down by modality (the explicit breakdown fields, used where the server sent
    them; older answers lack them, and their text tokens are then the total minus the other parts), each part is
    its own; elsewhere every token is text, by cache state (:func:`~usage_frames.analysis.tokens.token_categories`).
    """
    endpoint = endpoint_of(usage)
    if endpoint.tokens is None or not endpoint.tokens.output:
        raise InvalidParameterError("usage", endpoint.name, reason="does not count input and output tokens")
    out = pd.DataFrame(index=usage.index)
    get = functools.partial(_column, usage)
    if set(_PART_COLUMNS) <= set(usage.columns):
        write = get("input_cache_write_tokens").fillna(0)
        cached = get("input_cached_tokens").fillna(0)
        uncached = get("input_uncached_tokens").fillna(get("input_tokens") - cached - write)
        for total, prefix in ((uncached, "input_"), (cached, "input_cached_"), (get("output_tokens"), "output_")):
            others = [get(f"{prefix}{m}_tokens").fillna(0) for m in ("audio", "image")]
            out[f"{prefix}text_tokens"] = get(f"{prefix}text_tokens").fillna(total - others[0] - others[1])
            out[f"{prefix}audio_tokens"], out[f"{prefix}image_tokens"] = others
        out["input_cache_write_tokens"] = write
    else:
        cats = token_categories(usage).fillna(0)
        out = pd.DataFrame(0, index=usage.index, columns=_PART_COLUMNS, dtype="Int64")
        out["input_text_tokens"], out["input_cached_text_tokens"] = cats["uncached"], cats["cache read"]
        out["input_cache_write_tokens"], out["output_text_tokens"] = cats["cache write"], cats["output"]
    out = out[_PART_COLUMNS]
    out["requests"] = get(endpoint.tokens.requests) if endpoint.tokens.requests else get("")
    return out


def _token_sides(usage: pd.DataFrame) -> pd.DataFrame:
    """Per row: fresh input (uncached + cache writes), cached input, output tokens and requests."""
    parts = _token_parts(usage)
    side = {"input": "fresh_input_tokens", "cache writes": "fresh_input_tokens",
            "cached input": "cached_input_tokens", "output": "output_tokens"}  # fmt: skip
    out = pd.DataFrame(index=usage.index)
    for name in ("fresh_input_tokens", "cached_input_tokens", "output_tokens"):
        out[name] = sum(parts[c] for c, _, kind in _TOKEN_PARTS if side[kind] == name)
    out["requests"] = parts["requests"]
    return out


def _bill(costs: pd.DataFrame, keys: list[str], standard_only: bool) -> pd.DataFrame:
    """Dollars per ``keys`` (which include ``model``) and token kind: ``usd_input``, ``usd_cached_input``..."""
    items = split_line_items(costs)
    items = items[items["model"].notna() & items["kind"].isin(["input", "cache writes", "cached input", "output"])]
    if standard_only:
        items = items[items["product"].isna()]
    others = [k for k in keys if k != "model"]
    by_keys(costs, others)
    items = items.astype({k: object for k in [*others, "model", "kind"]})
    # Cache writes are fresh input billed apart; every modality and context adds to its side.
    items["side"] = items["kind"].map({"input": "usd_input", "cache writes": "usd_input",
                                       "cached input": "usd_cached_input", "output": "usd_output"})  # fmt: skip
    bill = items.groupby([*keys, "side"], dropna=False)["amount"].sum().unstack("side").fillna(0.0)
    return bill.reindex(columns=["usd_input", "usd_cached_input", "usd_output"], fill_value=0.0)


def unit_costs(
    usage: pd.DataFrame, costs: pd.DataFrame, by: str | Sequence[str] = "model", standard_only: bool = False
) -> pd.DataFrame:
    """Unit economics: $ per 1M input and output tokens and $ per request, per model (and project).

    The bill is matched to usage through the model named in each line item (``"gpt-4o, input"``). ``by`` must
    include ``model``; add ``project_id`` when both frames are grouped by it.

    Args:
        usage: Completions usage grouped by ``by``.
        costs: Costs grouped by ``line_item`` (and ``project_id`` when ``by`` has it).
        by: The dimensions.
        standard_only: Only line items without a product prefix (no ``batch |``, ``flex |``...): list prices.

    Returns:
        Tokens, requests and dollars per group, with ``usd_per_1m_input`` (all input, cached included),
        ``usd_per_1m_fresh_input``, ``usd_per_1m_cached_input``, ``usd_per_1m_output`` and ``usd_per_request``.

    Examples:
        >>> from usage_frames import Client
        >>> c = Client.fake()
        >>> u = c.completions("2026-10-01", "2026-10-08", group_by="model")
        >>> k = c.costs("2026-10-01", "2026-10-08", group_by="line_item")
        >>> round(float(unit_costs(u, k).loc["o3-2025-04-16", "usd_per_1m_output"]), 4)
        8.0
    """
    keys = by_keys(usage, by)
    if "model" not in keys:
        raise InvalidParameterError("by", list(keys), reason="must include 'model' to match line items")
    # Counts stay whole (Int64); a count the usage frame lacks (Anthropic reports no requests) stays <NA>, not 0.
    sides = pd.concat([usage[keys].astype(object), _token_sides(usage)], axis=1)
    tokens = sides.groupby(keys, dropna=False).sum(min_count=1)
    bill = _bill(costs, keys, standard_only).astype("Float64")
    out = tokens.join(bill, how="inner")
    out["usd"] = out["usd_input"] + out["usd_cached_input"] + out["usd_output"]
    input_tokens = out["fresh_input_tokens"] + out["cached_input_tokens"]

    def per_1m(usd: pd.Series, count: pd.Series) -> pd.Series:
        return usd / count.where(count > 0) * 1e6

    out["usd_per_1m_input"] = per_1m(out["usd_input"] + out["usd_cached_input"], input_tokens)
    out["usd_per_1m_fresh_input"] = per_1m(out["usd_input"], out["fresh_input_tokens"])
    out["usd_per_1m_cached_input"] = per_1m(out["usd_cached_input"], out["cached_input_tokens"])
    out["usd_per_1m_output"] = per_1m(out["usd_output"], out["output_tokens"])
    out["usd_per_request"] = out["usd"] / out["requests"].where(out["requests"] > 0)
    return finish(out, usage)


def reconcile(usage: pd.DataFrame, costs: pd.DataFrame) -> pd.DataFrame:
    """Usage priced at the bill's own list prices, next to the billed dollars, per day and model (and project).

    ``unexplained_usd`` is what the list prices do not explain: discounts (Batch, flex), surcharges (priority,
    long context), price changes, or usage the Usage API did not report (the Costs API is the one that matches
    the invoice). Each token part is priced at its own line item's list price (``"<model> audio, input"``,
    ``"<model>, cache writes"``), else at the model's price for that kind. Where the bill has no list price for
    tokens that were used (a model run only on flex), ``priced_usd`` and ``unexplained_usd`` are ``<NA>``: the
    saving cannot be measured from the bill, and it is not "unexplained" spend either.

    Examples:
        >>> from usage_frames import Client
        >>> c = Client.fake()
        >>> u = c.completions("2026-10-01", "2026-10-03", group_by=["model", "batch"])
        >>> k = c.costs("2026-10-01", "2026-10-03", group_by="line_item")
        >>> r = reconcile(u, k)
        >>> r.columns.tolist()
        ['billed_usd', 'priced_usd', 'unexplained_usd']
        >>> bool(r.xs("o3-2025-04-16", level="model")["unexplained_usd"].abs().max() < 1e-9)  # list price only
        True
        >>> bool((r.xs("gpt-4o-mini-2024-07-18", level="model")["unexplained_usd"] < 0).all())  # Batch discount
        True
    """
    keys = [k for k in ("project_id", "model") if k in keys_of(usage)]
    if "model" not in keys:
        raise InvalidParameterError("usage", keys_of(usage), reason="must be grouped by model")
    daily = resample(usage, "D") if meta_of(usage).get("bucket_width") != "1d" else usage
    table = _rate_table(costs)
    parts = _token_parts(daily)[_PART_COLUMNS].astype("Float64")
    rows = daily[keys].astype(object)
    rates = pd.DataFrame([_rates(table, "list", m) for m in rows["model"]], index=daily.index).astype("Float64")
    # A part with tokens but no list price in the bill leaves the row unpriced (<NA>), never priced at $0.
    contributions = (parts * rates).where(parts > 0, 0.0)
    priced = contributions.sum(axis=1, skipna=False) / 1e6
    day = times_of(daily).floor("D").rename("day")
    priced_usd = pd.Series(priced.to_numpy(), index=pd.MultiIndex.from_arrays([day, *(rows[k] for k in keys)]))
    priced_usd = priced_usd.groupby(level=list(range(len(keys) + 1)), dropna=False).sum(min_count=1)
    whole = priced.groupby([day, *(rows[k] for k in keys)], dropna=False).apply(lambda x: x.notna().all())
    priced_usd = priced_usd.where(whole)
    items = split_line_items(costs)
    models = set(rows["model"])
    items = items[items["model"].isin(models)].astype({"model": object, **{k: object for k in keys if k != "model"}})
    billed_usd = items.groupby([times_of(items).floor("D").rename("day"), *keys], dropna=False)["amount"].sum()
    out = pd.concat({"billed_usd": billed_usd, "priced_usd": priced_usd}, axis=1).astype("Float64")
    out["billed_usd"] = out["billed_usd"].fillna(0.0)  # no line item: nothing billed
    out["unexplained_usd"] = out["billed_usd"] - out["priced_usd"]
    return finish(out, usage)


def batch_savings(usage: pd.DataFrame, costs: pd.DataFrame) -> pd.DataFrame:
    """What Batch saved, and what it would save if the rest of the traffic ran as Batch, at the bill's prices.

    Needs usage grouped by ``model`` and ``batch`` and costs grouped by ``line_item`` with both list
    (``"<model>, input"``) and Batch (``"batch | <model>, input"``) line items; a model without both prices gets
    ``<NA>``, not a guess.

    Examples:
        >>> from usage_frames import Client
        >>> c = Client.fake()
        >>> u = c.completions("2026-10-01", "2026-10-08", group_by=["model", "batch"])
        >>> k = c.costs("2026-10-01", "2026-10-08", group_by="line_item")
        >>> s = batch_savings(u, k)
        >>> bool(s.loc["gpt-4o-mini-2024-07-18", "saved_usd"] > 0)
        True
        >>> bool(pd.isna(s.loc["o3-2025-04-16", "could_save_usd"]))  # no Batch price for o3 in the bill
        True
    """
    rates = _rate_table(costs)  # first: a bill without quantities is refused with what to use instead
    for key in ("model", "batch"):
        by_keys(usage, key)
    sides = pd.concat([usage[["model", "batch"]].astype(object), _token_parts(usage)], axis=1)
    per = sides.groupby(["model", "batch"], dropna=False)[_PART_COLUMNS].sum()
    rows = []
    for model in sorted(set(sides["model"])):
        list_rate, batch_rate = _rates(rates, "list", model), _rates(rates, "batch", model)

        def saving(batch: bool, model: str = model, a: pd.Series = list_rate, b: pd.Series = batch_rate) -> float:
            if (model, batch) not in per.index:
                return 0.0
            tokens = pd.Series(per.loc[(model, batch)])
            return _priced(tokens, a) - _priced(tokens, b)

        tokens_by_kind = per.loc[model].to_numpy()
        batch_tokens = per.loc[(model, True)].sum() if (model, True) in per.index else 0
        rows.append({"model": model,
                     "batch_share_pct": 100 * batch_tokens / tokens_by_kind.sum() if tokens_by_kind.sum() else np.nan,
                     "saved_usd": saving(True), "could_save_usd": saving(False)})  # fmt: skip
    out = pd.DataFrame(rows).set_index("model").astype("Float64")
    return finish(out, usage)


def tier_savings(usage: pd.DataFrame, costs: pd.DataFrame) -> pd.DataFrame:
    """Per model and tier (batch, flex, priority, default): the traffic at list price and at the tier's price.

    Both prices are learned from the bill; ``saved_usd`` is their difference, negative for a surcharge.

    Needs usage grouped by ``model``, ``batch`` and ``service_tier`` and costs grouped by ``line_item``; a tier's
    price is read from its line items (``"flex | <model>, input"``), ``<NA>`` where the bill has none.

    Examples:
        >>> from usage_frames import Client
        >>> c = Client.fake()
        >>> u = c.completions("2026-10-01", "2026-10-08", group_by=["model", "batch", "service_tier"])
        >>> t = tier_savings(u, c.costs("2026-10-01", "2026-10-08", group_by="line_item"))
        >>> gpt4o = t.xs("gpt-4o-2024-08-06", level="model")["saved_usd"]
        >>> bool(gpt4o["priority"] < 0 < gpt4o["batch"])  # a surcharge, and a saving
        True
    """
    rates = _rate_table(costs)
    for key in ("model", "batch", "service_tier"):
        by_keys(usage, key)
    batch = usage["batch"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    tier = np.where(batch, "batch", usage["service_tier"].astype(object).fillna("default").to_numpy())
    sides = pd.concat([usage[["model"]].astype(object), _token_parts(usage)], axis=1).assign(tier=tier)
    per = sides.groupby(["model", "tier"], dropna=False)[_PART_COLUMNS].sum()
    rows = []
    for index, tokens in per.iterrows():
        model, label = str(index[0]), str(index[1])  # type: ignore[index]
        at_list = _priced(tokens, _rates(rates, "list", model))
        own = _rates(rates, "list" if label in ("default", "auto") else label, model)
        actual = _priced(tokens, own)
        rows.append({"model": model, "tier": label, "tokens": int(tokens.sum()), "list_usd": at_list,
                     "actual_usd": actual, "saved_usd": at_list - actual})  # fmt: skip
    out = pd.DataFrame(rows).set_index(["model", "tier"]).astype("Float64")
    return finish(out, usage)




def _rate_table(costs: pd.DataFrame) -> pd.DataFrame:
    """$ per 1M tokens by (product or "list", model) and ``"<modality>/<kind>"`` (modality "" if unnamed).

    Long-context line items are left out: they price the same tokens at a surcharge, not a different part.
    """
    prices = unit_prices(costs)
    kinds = [k for _, _, k in _TOKEN_PARTS]
    prices = prices[prices["model"].notna() & prices["kind"].isin(kinds) & prices["context"].ne("long").fillna(True)]
    prices = prices.astype({k: object for k in PARTS})
    prices["product"] = prices["product"].fillna("list")
    prices["part"] = prices["modality"].fillna("") + "/" + prices["kind"]
    return prices.pivot_table(index=["product", "model"], columns="part", values="usd_per_1m")


def _rates(table: pd.DataFrame, product: str, model: str) -> pd.Series:
    """The rate of each token part: its own line item, else the model's line item without a modality.

    Cache writes fall back to the input price: bills that do not list cache writes apart bill them as input.
    """
    row = pd.Series(table.loc[(product, model)]) if (product, model) in table.index else pd.Series(dtype=float)
    known: dict[str, float] = {str(k): float(v) for k, v in row.dropna().astype(float).items()}
    rates = {}
    for column, modality, kind in _TOKEN_PARTS:
        chain = [f"{modality}/{kind}", f"/{kind}"] + (["text/input", "/input"] if kind == "cache writes" else [])
        found = [known[c] for c in chain if c in known]
        rates[column] = found[0] if found else np.nan
    return pd.Series(rates)


def _priced(tokens: pd.Series, rates: pd.Series) -> float:
    """Dollars for token counts at $ per 1M rates (NaN where a part with tokens has no price: no guessing).

    A part with no tokens costs nothing, even where its price is unknown (0/0 in the bill).
    """
    usd = sum(float(tokens[column]) * rates[column] for column in _PART_COLUMNS if tokens[column] > 0) / 1e6
    return float(usd) if pd.notna(usd) else np.nan
