"""Money rounds once: allocation statements, the FOCUS export and the costs frame give the same total to the cent,
for a whole month and for any window (several months, windows starting mid-day), from numbers or decimal strings.

The reference is ``round(costs["amount"].sum(), 2)``, what a pandas user computes; ``total_cents`` (the package's
one rounding of money) is checked against it and against ``Decimal`` sums of the fake's ground truth."""

from __future__ import annotations

import re
from decimal import Decimal

import pandas as pd
import pytest
from conftest import NOW
from hypothesis import given, settings
from hypothesis import strategies as st

import usage_frames as uf
from usage_frames import ops
from usage_frames.analysis.money import exact_total, total_cents
from usage_frames.cli import main
from usage_frames.providers.openai.fake import FakeOrganization

RULES = {"team": [{"name": "search", "project_ids": ["proj_search"]},
                  {"name": "chat", "project_ids": ["proj_chat", "proj_batch"]}]}  # fmt: skip
SPLIT = {**RULES, "split": ["unallocated"]}
BY = ["project_id", "line_item"]


def pandas_cents(amounts: pd.Series) -> int:
    """What a pandas user reads: the float sum rounded to the cent."""
    return int(Decimal(repr(round(float(amounts.sum()), 2))) * 100)


def totals(costs: pd.DataFrame) -> dict[str, int]:
    """Each way of totalling the window, in cents."""
    return {
        "pandas": pandas_cents(costs["amount"]),
        "costs": total_cents(costs["amount"]),
        "allocation": total_cents(ops.allocate(costs, RULES)["amount"]),
        "split allocation": total_cents(ops.allocate(costs, SPLIT)["amount"]),
        "focus": total_cents(ops.to_focus(costs, billing_account_id="org-test")["BilledCost"]),
    }


def test_total_cents__adds_the_decimals_the_api_sent_and_rounds_once():
    assert total_cents(["0.1"] * 3) == 30 and total_cents([2.675]) == 268  # round(2.675, 2) == 2.67 in floats
    assert total_cents(["0E-6176", "0.000004500000000000000000000000000000000", "12.50", None]) == 1250
    assert total_cents([0.004] * 3) == 1  # rounded once: three rows of 0.4 cent are 1.2 cents, not 0
    assert total_cents(pd.Series([0.015, 0.01], dtype="Float64")) == 2  # half a cent: to even
    assert exact_total(pd.Series([pd.NA, 1.5], dtype="Float64")) == Decimal("1.5")


@pytest.mark.parametrize(
    ("client", "window"),
    [
        (uf.Client.sample(), ("2026-10-01", "2026-10-21")),
        (uf.Client.fake(), ("2026-10-01", "2026-11-01")),
        (uf.Client.fake(FakeOrganization(amount_as_string=True)), ("2026-09-01", "2026-10-01")),
    ],
    ids=["sample", "fake", "fake-strings"],
)
def test_finops_totals__agree_to_the_cent_over_a_whole_month(client, window):
    costs = client.costs(*window, group_by=BY)
    got = totals(costs)
    truth = FakeOrganization(now=client.clock()).total("costs", "amount", *window)
    assert set(got.values()) == {int((Decimal(repr(truth)) * 100).quantize(Decimal(1)))}, got


@settings(max_examples=10, deadline=None)  # each example fetches, exports and allocates months
@given(
    start=st.datetimes(pd.Timestamp("2026-05-01").to_pydatetime(), pd.Timestamp("2026-11-20").to_pydatetime()),
    days=st.integers(1, 120),
    strings=st.booleans(),
)
def test_finops_totals__agree_to_the_cent_over_any_window(start, days, strings):
    end = min(pd.Timestamp(start, tz="UTC") + pd.Timedelta(days=days, minutes=start.minute), NOW)
    client = uf.Client.fake(FakeOrganization(amount_as_string=strings))
    costs = client.costs(start, end, group_by=BY)
    got = totals(costs)
    assert len(set(got.values())) == 1, got
    statement = ops.allocate(costs, SPLIT)
    for _, month in statement.groupby("period"):  # every month within a cent of its own bill
        first, last = month["period_start"].iloc[0], month["period_end"].iloc[0]
        own = costs[(costs.index >= first) & (costs.index < last)]["amount"]
        assert abs(total_cents(month["amount"]) - total_cents(own)) <= 1
        assert (month["direct"] + month["shared"] - month["amount"]).abs().max() < 1e-9


def test_cli__allocate_and_export_focus_say_the_same_total_over_the_default_window(tmp_path, capsys):
    rules = tmp_path / "rules.toml"
    rules.write_text('[[team]]\nname = "search"\nproject_ids = ["proj_search"]\n')
    assert main(["allocate", "--sample", "--rules", str(rules), "-o", str(tmp_path / "s.csv")]) == 0
    assert main(["export", "focus", "--sample", "-o", str(tmp_path / "f.csv")]) == 0
    out = capsys.readouterr().out
    allocated = re.search(r"wrote the statement \(\d+ rows, ([\d,.]+)\)", out)
    billed = re.search(r"BilledCost ([\d,.]+) USD", out)
    assert allocated and billed, out
    costs = uf.Client.sample().costs(group_by="project_id")  # the same default window: 30 days to the clock
    assert allocated.group(1) == billed.group(1) == f"{pandas_cents(costs['amount']) / 100:,.2f}"
    statement = pd.read_csv(tmp_path / "s.csv")
    assert total_cents(statement["amount"]) == total_cents(pd.read_csv(tmp_path / "f.csv")["BilledCost"])
