"""Rows whose group key is null (Anthropic's default workspace, usage without an API key) are a group, not lost money.

Every helper that groups by a key adds up to the frame's own total, for both providers' samples and several keys.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

import usage_frames as uf
from usage_frames import ops, plot
from usage_frames.analysis.frame import fields_of, values_of

START, END = "2026-10-01", "2026-10-21"
BEFORE = ("2026-09-10", "2026-09-30")

# (provider, endpoint, group key): the first of each provider's pair has null keys in the sample.
CASES = [
    ("anthropic", "costs", "workspace_id"),
    ("anthropic", "messages", "workspace_id"),
    ("anthropic", "messages", "api_key_id"),
    ("anthropic", "costs", "model"),
    ("openai", "costs", "api_key_id"),
    ("openai", "costs", "project_id"),
    ("openai", "completions", "model"),
]


def _sample(provider: str) -> uf.Client:
    return uf.Client.sample(provider=provider)


def _fetch(provider: str, endpoint: str, key: str, start: str = START, end: str = END) -> pd.DataFrame:
    group_by = "description" if (provider, key) == ("anthropic", "model") else key
    return getattr(_sample(provider), endpoint)(start, end, group_by=group_by)


@pytest.mark.parametrize(("provider", "endpoint", "key"), CASES)
def test_every_grouping_helper__adds_up_to_the_frames_own_total(provider, endpoint, key):
    df = _fetch(provider, endpoint, key)
    previous = _fetch(provider, endpoint, key, *BEFORE)
    measure = values_of(df, None)
    whole = float(df[measure].sum())
    assert whole > 0
    sums = {
        "totals": ops.totals(df, by=key)[measure].sum(),
        "share": ops.share(df, by=key)[measure].sum(),
        "pivot": ops.pivot(df, key).to_numpy().sum(),
        "compare": ops.compare(df, previous, by=key)["current"].sum(),
        "compare previous": ops.compare(df, previous, by=key)["previous"].sum() - previous[measure].sum() + whole,
        "top_n": ops.top_n(df, 2, by=key)[measure].sum(),
        "resample": ops.resample(df, "W-MON")[measure].sum(),
        "complete": ops.complete(df)[measure].sum(),
    }
    wrong = {name: float(value) for name, value in sums.items() if not math.isclose(value, whole, rel_tol=1e-12)}
    assert not wrong, f"{whole=}"
    counts = ops.totals(df, by=key)
    for column in fields_of(df, "additive"):
        if pd.api.types.is_integer_dtype(df[column].dtype):
            assert counts[column].sum() == df[column].sum(), column  # exact integers for counts


def test_default_workspace__is_its_own_row_labelled_like_label_does():
    a = _sample("anthropic")
    costs = a.costs(START, END, group_by="workspace_id")
    default = float(costs.loc[costs["workspace_id"].isna(), "amount"].sum())
    assert round(default, 2) == 645.12  # the default workspace's own dollars (null in the API's rows)
    out = ops.share(costs, by="workspace_id")
    assert out.index.isna().sum() == 1  # a null label, as pandas' groupby(dropna=False) gives
    assert math.isclose(float(out.loc[out.index.isna(), "amount"].iloc[0]), default)
    labelled = ops.label(costs, names=uf.providers.PACKAGES["anthropic"].names(a))
    named = ops.totals(labelled, by="workspace_name")
    assert math.isclose(float(named.loc["Default Workspace", "amount"]), default)


def test_top_n__keeps_a_null_group_among_the_largest_and_never_calls_it_other():
    costs = _sample("anthropic").costs(START, END, group_by="workspace_id")
    folded = ops.top_n(costs, 3, by="workspace_id")  # the default workspace ($645) is not among the top 3
    assert math.isclose(float(folded["amount"].sum()), float(costs["amount"].sum()))
    everything = ops.top_n(costs, 4, by="workspace_id")
    assert "other" not in set(everything["workspace_id"].dropna())
    assert everything["workspace_id"].isna().any()


def test_plots__draw_the_null_group_with_a_readable_name_and_every_dollar():
    costs = _sample("anthropic").costs(START, END, group_by="workspace_id")
    ax = plot.spend(costs, by="workspace_id", n=4)
    names = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "(none)" in names and "other" not in names and "nan" not in names
    assert math.isclose(sum(p.get_height() for p in ax.patches), float(costs["amount"].sum()))
    ax = plot.top(costs, by="workspace_id", n=4)
    assert "(none)" in [t.get_text() for t in ax.get_yticklabels()]
    assert math.isclose(sum(p.get_width() for p in ax.patches), float(costs["amount"].sum()))


def test_join_costs__keeps_usage_and_dollars_without_a_project():
    c = _sample("openai")
    usage = c.completions(START, END, group_by="project_id")
    costs = c.costs(START, END, group_by="project_id")
    usage, costs = (f.assign(project_id=f["project_id"].where(f["project_id"] != "proj_lab")) for f in (usage, costs))
    joined = ops.join_costs(usage, costs)
    assert math.isclose(float(joined["amount"].sum()), float(costs["amount"].sum()))


def test_anomalies__find_a_spike_of_the_null_group():
    costs = _sample("anthropic").costs("2026-09-01", END, group_by="workspace_id")
    day = pd.Timestamp("2026-10-14", tz="UTC")
    spiked = costs.copy()
    spiked.loc[(spiked.index == day) & spiked["workspace_id"].isna().to_numpy(), "amount"] *= 20
    found = ops.anomalies(spiked, by="workspace_id", direction="up")
    assert found.loc[found.index == day, "workspace_id"].isna().any()
