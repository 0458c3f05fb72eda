"""ops.combine and ops.per_million: both providers' bills and tokens in one frame, each provider's sums its own.

Each figure is checked against the frames it was made from (and those against the fakes' ground truth elsewhere):
dollars exactly as each provider's frame adds them up, tokens to the token, Anthropic's cache writes (nested in the
API, two columns in the frame) counted as cache writes, the default workspace a project of its own.
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest

import usage_frames as uf
from usage_frames import ops
from usage_frames.analysis.money import exact_total

WINDOWS = [("2026-10-01", "2026-10-08"), ("2026-10-14", "2026-10-15"), ("2026-09-28", "2026-10-21")]
COST_KEYS = {"openai": [[], ["project_id"], ["project_id", "line_item"]],
             "anthropic": [[], ["workspace_id"], ["workspace_id", "description"]]}  # fmt: skip


@pytest.fixture(scope="module")
def clients() -> dict[str, uf.Client]:
    return {"openai": uf.Client.sample(), "anthropic": uf.Client.sample(provider="anthropic")}


@pytest.mark.parametrize("window", WINDOWS)
@pytest.mark.parametrize("grouping", [0, 1, 2])
def test_combine__costs_keep_each_providers_dollars_to_the_last_digit(clients, window, grouping):
    frames = {name: c.costs(*window, group_by=COST_KEYS[name][grouping]) for name, c in clients.items()}
    bill = ops.combine(*frames.values())
    assert list(bill.columns) == ["end_time", "provider", "project_id", "project_name", "model", "amount", "currency"]
    assert str(bill.index.dtype) == "datetime64[us, UTC]" and bill.index.name == "start_time"
    for name, frame in frames.items():
        mine = bill[bill["provider"] == name]
        assert len(mine) == len(frame)
        assert exact_total(mine["amount"]) == exact_total(frame["amount"]) > Decimal(0), name
    assert bill.attrs["providers"] == ["openai", "anthropic"] and bill.attrs["endpoint"] == "costs"


def test_combine__the_default_workspace_is_a_project_and_models_come_from_line_items_and_descriptions(clients):
    openai = clients["openai"].costs("2026-10-01", "2026-10-08", group_by=["project_id", "line_item"])
    anthropic = clients["anthropic"].costs("2026-10-01", "2026-10-08", group_by=["workspace_id", "description"])
    bill = ops.combine(openai, anthropic)
    default = bill[bill["project_id"] == "default"]
    assert set(default["provider"]) == {"anthropic"}
    assert exact_total(default["amount"]) == exact_total(anthropic.loc[anthropic["workspace_id"].isna(), "amount"])
    mine = bill[bill["provider"] == "anthropic"]
    assert mine["model"].astype("string").tolist() == anthropic["model"].astype("string").tolist()
    assert {"gpt-4o-2024-08-06", "gpt-4o-mini-2024-07-18"} <= set(bill.loc[bill["provider"] == "openai", "model"])


@pytest.mark.parametrize("window", WINDOWS)
def test_combine__tokens_by_category_are_each_frames_own_columns(clients, window):
    openai = clients["openai"].completions(*window, group_by="model")
    anthropic = clients["anthropic"].messages(*window, group_by="model")
    tokens = ops.combine(openai, anthropic)
    assert list(tokens.columns) == ["end_time", "provider", "project_id", "model", "token_direction",
                                    "token_category", "tokens"]  # fmt: skip
    assert str(tokens["tokens"].dtype) == "Int64"
    got = tokens.groupby(["provider", "token_category"], observed=True)["tokens"].sum()
    written = ["cache_creation_ephemeral_5m_input_tokens", "cache_creation_ephemeral_1h_input_tokens"]
    writes = anthropic[written].sum(axis=1)
    assert got["anthropic"].to_dict() == {
        "cache read": anthropic["cache_read_input_tokens"].sum(), "cache write": writes.sum(),
        "output": anthropic["output_tokens"].sum(), "uncached": anthropic["uncached_input_tokens"].sum(),
    }  # fmt: skip
    direction = tokens.groupby(["provider", "token_direction"], observed=True)["tokens"].sum()
    assert direction["openai", "input"] == openai["input_tokens"].sum()  # uncached + cache read + cache write
    assert direction["openai", "output"] == openai["output_tokens"].sum()
    assert got["openai", "cache read"] == openai["input_cached_tokens"].sum()


def test_label__a_client_of_another_provider_is_refused_not_ignored(clients):
    """df.usage.label(client) with the wrong provider's client added no names and said nothing."""
    anthropic = clients["anthropic"].costs("2026-10-01", "2026-10-02", group_by="workspace_id")
    with pytest.raises(uf.InvalidParameterError, match="cannot name the IDs of Anthropic's frame"):
        anthropic.usage.label(clients["openai"])
    bill = ops.combine(anthropic, clients["openai"].costs("2026-10-01", "2026-10-02"))
    with pytest.raises(uf.InvalidParameterError, match=r"label each provider's frame before ops\.combine"):
        bill.usage.label(clients["openai"])
    assert "workspace_name" in anthropic.usage.label(clients["anthropic"]).columns


def test_combine__the_accessor_is_the_function(clients):
    a, b = clients["openai"].costs("2026-10-01", "2026-10-08"), clients["anthropic"].costs("2026-10-01", "2026-10-08")
    pd.testing.assert_frame_equal(a.usage.combine(b), ops.combine(a, b))


def test_combine__refuses_what_it_cannot_add_up(clients):
    costs = clients["openai"].costs("2026-10-01", "2026-10-11")
    with pytest.raises(uf.InvalidParameterError, match=r"frames: .* must be one frame or more"):
        ops.combine()
    with pytest.raises(uf.InvalidParameterError, match="must all be costs, or all usage"):
        ops.combine(costs, clients["anthropic"].messages("2026-10-01", "2026-10-11"))
    with pytest.raises(uf.InvalidParameterError, match=r"overlap from 2026-10-05 00:00 to 2026-10-11 00:00 UTC"):
        ops.combine(costs, clients["openai"].costs("2026-10-05", "2026-10-15"))  # the same days twice
    later = clients["openai"].costs("2026-10-11", "2026-10-21")  # windows that meet do not overlap
    assert exact_total(ops.combine(costs, later)["amount"]) == exact_total(pd.concat([costs, later])["amount"])


def test_per_million__is_each_models_dollars_over_its_tokens(clients):
    window = ("2026-10-01", "2026-10-15")
    bill = ops.combine(clients["openai"].costs(*window, group_by="line_item"),
                       clients["anthropic"].costs(*window, group_by="description"))  # fmt: skip
    used = ops.combine(clients["openai"].completions(*window, group_by="model"),
                       clients["anthropic"].messages(*window, group_by="model"))  # fmt: skip
    table = ops.per_million(bill, used)
    row = table.loc[("anthropic", "claude-sonnet-4-5-20250929")]
    sonnet = "claude-sonnet-4-5-20250929"
    tokens = used[(used["provider"] == "anthropic") & (used["model"] == sonnet)]
    dollars = bill[(bill["provider"] == "anthropic") & (bill["model"] == sonnet)]["amount"].sum()
    assert row["amount"] == pytest.approx(dollars)
    assert row["input_tokens"] + row["output_tokens"] == tokens["tokens"].sum()
    assert row["usd_per_1m_tokens"] == pytest.approx(dollars / tokens["tokens"].sum() * 1e6)
    with pytest.raises(uf.InvalidParameterError, match="must be a combined costs frame"):
        ops.per_million(clients["openai"].costs(*window), used)
