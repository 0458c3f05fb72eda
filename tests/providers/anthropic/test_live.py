"""Opt-in checks against Anthropic's real Admin API: run only when ANTHROPIC_ADMIN_KEY is set (``pytest -m live``).

They assert shapes and invariants, not numbers: the contract's columns and dtypes, UTC buckets, the flattened
nested counts, dollars (not cents), and that costs grouped by workspace and description add up to the total.
"""

from __future__ import annotations

import os

import pandas as pd
import pytest

import usage_frames as uf

pytestmark = pytest.mark.live("anthropic")


@pytest.fixture
def live_client(monkeypatch, tmp_path):
    monkeypatch.setenv("USAGE_FRAMES_CACHE_DIR", str(tmp_path))
    return uf.Client(os.environ["ANTHROPIC_ADMIN_KEY"], provider="anthropic")


def _last_week() -> tuple[pd.Timestamp, pd.Timestamp]:
    end = pd.Timestamp.now(tz="UTC").floor("D")
    return end - pd.Timedelta(days=7), end


def test_live__messages_have_the_contract_schema(live_client):
    frame = live_client.messages(*_last_week(), group_by=["workspace_id", "model"])
    assert list(frame.columns[:3]) == ["end_time", "workspace_id", "model"]
    assert str(frame.index.tz) == "UTC"
    nested = ["cache_creation_ephemeral_5m_input_tokens", "cache_creation_ephemeral_1h_input_tokens",
              "web_search_requests"]  # fmt: skip
    assert all(str(frame[name].dtype) == "Int64" for name in nested)


def test_live__costs_by_workspace_and_description_add_up_to_the_total(live_client):
    start, end = _last_week()
    total = live_client.costs(start, end)
    detail = live_client.costs(start, end, group_by=["workspace_id", "description"])
    assert detail["amount"].sum() == pytest.approx(total["amount"].sum(), abs=0.01)
    assert set(total["currency"].dropna()) <= {"USD"}
    assert {"cost_type", "model", "token_type"} <= set(detail.columns)


def test_live__costs_are_dollars_like_the_workspaces_usage(live_client):
    """A month of an organization in use costs dollars, not hundreds of times more (the cents trap): the cost per
    million tokens lies within the list prices' range."""
    start, end = pd.Timestamp.now(tz="UTC").floor("D") - pd.Timedelta(days=28), pd.Timestamp.now(tz="UTC").floor("D")
    tokens = uf.ops.combine(live_client.messages(start, end))["tokens"].sum()
    dollars = live_client.costs(start, end)["amount"].sum()
    if tokens < 1_000_000:
        pytest.skip("too little usage in the last four weeks to compare")
    assert 0.01 <= dollars / tokens * 1_000_000 <= 200


def test_live__the_directory_names_the_workspaces(live_client):
    names = uf.anthropic.names(live_client)
    assert names["workspace_id"]["id"].isna().sum() == 1  # the default workspace
    assert {"id", "name"} <= set(names["api_key_id"].columns)
