"""Helpers on Anthropic frames and on labelled frames: label columns as ``by=``, a bill without quantities."""

from __future__ import annotations

import math

import pandas as pd
import pytest

import usage_frames as uf
from usage_frames import ops
from usage_frames.providers import PACKAGES

START, END = "2026-10-01", "2026-10-21"


@pytest.fixture(scope="module")
def anthropic() -> uf.Client:
    return uf.Client.sample(provider="anthropic")


@pytest.mark.parametrize(("provider", "key"), [("openai", "project_id"), ("anthropic", "workspace_id")])
def test_top_n_and_plot_spend__take_a_label_column(provider, key):
    client = uf.Client.sample(provider=provider)
    costs = client.costs(START, END, group_by=key)
    labelled = ops.label(costs, names=PACKAGES[provider].names(client))
    name = key.removesuffix("_id") + "_name"
    folded = labelled.usage.top_n(2, by=name)
    assert math.isclose(float(folded["amount"].sum()), float(costs["amount"].sum()))
    assert list(folded[name].cat.categories) == [*ops.totals(labelled, by=name).index[:2], "other"]
    assert set(folded.loc[folded[name] == "other", key]) == {"other"}  # the key folds with its label
    assert set(folded[name].dropna()) == {*ops.totals(labelled, by=name).index[:2], "other"}
    ax = labelled.usage.plot.spend(by=name, n=2)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == [*ops.totals(labelled, by=name).index[:2], "other"]
    assert math.isclose(sum(p.get_height() for p in ax.patches), float(costs["amount"].sum()))


def test_top_n__refuses_a_column_that_is_no_key_naming_the_allowed_ones(anthropic):
    costs = anthropic.costs(START, END, group_by="workspace_id")
    with pytest.raises(uf.InvalidParameterError, match=r"by: 'currency' .*allowed: 'workspace_id'"):
        ops.top_n(costs, 2, by="currency")


def test_unit_prices__anthropic_bill_has_no_quantities_and_says_what_to_use(anthropic):
    costs = anthropic.costs(START, END, group_by="description")
    with pytest.raises(uf.InvalidParameterError, match=r"costs: 'anthropic' has no quantities.*unit_costs"):
        costs.usage.unit_prices()
    usage = anthropic.messages(START, END, group_by=["model", "service_tier"])
    with pytest.raises(uf.InvalidParameterError, match=r"costs: 'anthropic' has no quantities"):
        usage.usage.batch_savings(costs)


def test_unit_costs__anthropic_counts_stay_whole_and_requests_unknown(anthropic):
    usage = anthropic.messages(START, END, group_by="model")
    costs = anthropic.costs(START, END, group_by="description")
    out = ops.unit_costs(usage, costs)
    for column in ("fresh_input_tokens", "cached_input_tokens", "output_tokens", "requests"):
        assert str(out[column].dtype) == "Int64", column
    assert out["requests"].isna().all() and out["usd_per_request"].isna().all()  # not 0: the report has no count
    fresh = usage["uncached_input_tokens"] + usage["cache_creation_ephemeral_5m_input_tokens"] \
        + usage["cache_creation_ephemeral_1h_input_tokens"]
    assert int(out["fresh_input_tokens"].sum()) == int(fresh.sum())


def test_unit_costs__openai_requests_still_counted():
    c = uf.Client.sample()
    out = ops.unit_costs(c.completions(START, END, group_by="model"), c.costs(START, END, group_by="line_item"))
    assert str(out["requests"].dtype) == "Int64" and (out["requests"] > 0).all()


def test_totals__without_by_is_one_row_not_a_start_time_of_zero(anthropic):
    costs = anthropic.costs(START, END)
    out = ops.totals(costs)
    assert out.index.equals(pd.RangeIndex(1)) and out.index.name is None
    assert math.isclose(float(out["amount"].iloc[0]), float(costs["amount"].sum()))
