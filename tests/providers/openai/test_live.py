"""Opt-in checks against the real API: run only when OPENAI_ADMIN_KEY is set (``pytest -m live``).

They assert shapes and invariants, not numbers: the contract's columns, UTC buckets, and that costs grouped by
line item add up to the ungrouped total.
"""

from __future__ import annotations

import os

import pandas as pd
import pytest

import usage_frames as uf

pytestmark = pytest.mark.live


@pytest.fixture
def live_client(monkeypatch, tmp_path):
    monkeypatch.setenv("USAGE_FRAMES_CACHE_DIR", str(tmp_path))
    return uf.Client(os.environ["OPENAI_ADMIN_KEY"])


def test_live__completions_have_the_contract_schema(live_client):
    frame = live_client.completions(group_by=["project_id", "model"])
    assert list(frame.columns[:3]) == ["end_time", "project_id", "model"]
    assert str(frame.index.tz) == "UTC"


def test_live__costs_by_line_item_add_up_to_the_total(live_client):
    start = pd.Timestamp.now(tz="UTC").floor("D") - pd.Timedelta(days=14)
    end = start + pd.Timedelta(days=7)
    total = live_client.costs(start, end)["amount"].sum()
    by_item = live_client.costs(start, end, group_by="line_item")["amount"].sum()
    assert by_item == pytest.approx(total, rel=1e-6, abs=0.01)
