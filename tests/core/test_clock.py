"""The suite's clock is pinned (conftest ``NOW``): results do not depend on the date of the machine's clock."""

from __future__ import annotations

import time

import pandas as pd
import pytest
from conftest import NOW

import usage_frames as uf
import usage_frames._core.query
from usage_frames.fake import FakeAPI, FakeServer
from usage_frames.providers.openai.fake import FakeOrganization

LATER = pd.Timestamp("2028-06-01", tz="UTC")  # long after the one-year look-back of October 2026


@pytest.fixture
def machine_in_2028(monkeypatch):
    """The machine's clock moved forward to 2028, as seen by ``time.time`` and ``pd.Timestamp.now``."""
    monkeypatch.setattr(time, "time", lambda: LATER.timestamp())
    monkeypatch.setattr(pd.Timestamp, "now", classmethod(lambda cls, tz=None: LATER if tz else LATER.tz_localize(None)))
    return LATER


@pytest.mark.real_clock
def test_clock__machine_in_2028_really_reaches_the_package(machine_in_2028):
    """Without the pin the October window is beyond the fake's look-back: the 2028 clock is really seen."""
    assert usage_frames._core.query.wall_clock() == LATER
    with pytest.raises(uf.UsageFramesError, match=r"reporting_lookback_exceeded|year"):
        uf.Client.fake().costs("2026-10-01", "2026-11-01")


def test_clock__fake_client_answers_october_the_same_in_2028(machine_in_2028):
    costs = uf.Client.fake().costs("2026-10-01", "2026-11-01")
    expected = FakeOrganization(now=NOW).total("costs", "amount", "2026-10-01", "2026-11-01")
    assert costs["amount"].sum() == pytest.approx(expected)
    assert costs.attrs["as_of"] == NOW.isoformat()


def test_clock__http_client_answers_october_the_same_in_2028(machine_in_2028, secret_key):
    with FakeServer(FakeAPI(FakeOrganization())) as server:
        client = uf.Client(secret_key, server.url, cache=False)
        df = client.completions("2026-10-01", "2026-10-08", group_by="model")
    expected = FakeOrganization(now=NOW).total("completions", "input_tokens", "2026-10-01", "2026-10-08")
    assert int(df["input_tokens"].sum()) == expected
