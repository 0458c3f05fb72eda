"""Allocation to teams: first match wins, an unallocated row, proportional splits, and cents that add up to the
organization's bill (exact figures from the fake's ground truth, summed as Decimal)."""

from __future__ import annotations

import re
import tomllib
from decimal import Decimal

import pandas as pd
import pytest

import usage_frames as uf
from usage_frames import ops
from usage_frames.finops.allocation import Rules

OCTOBER = ("2026-10-01", "2026-11-01")
RULES = """
[[team]]
name = "search"
project_ids = ["proj_search"]
[[team]]
name = "chat"
project_ids = ["proj_chat", "proj_batch"]
"""
CENT = Decimal("0.01")


def cents(value: float) -> Decimal:
    return Decimal(repr(float(value))).quantize(CENT)


@pytest.fixture(scope="module")
def by_project():
    return uf.Client.fake().costs(*OCTOBER, group_by="project_id")


def amounts(statement):
    return dict(zip(statement["team"], statement["amount"], strict=True))


def test_allocate__adds_up_to_the_organizations_total_to_the_cent(org, by_project, tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text(RULES)
    statement = ops.allocate(by_project, path)
    assert statement["team"].tolist() == ["search", "chat", "unallocated"]
    assert sum(Decimal(repr(a)) for a in statement["amount"]) == cents(org.total("costs", "amount", *OCTOBER))
    truth = {
        "search": org.total("costs", "amount", *OCTOBER, project_id="proj_search"),
        "chat": org.total("costs", "amount", *OCTOBER, project_id=["proj_chat", "proj_batch"]),
        "unallocated": org.total("costs", "amount", *OCTOBER, project_id="proj_lab"),
    }
    for team, amount in amounts(statement).items():
        assert abs(Decimal(repr(amount)) - cents(truth[team])) <= CENT, team  # largest remainders move one cent
    assert statement["share_pct"].sum() == pytest.approx(100, abs=0.05)
    assert set(statement["period"]) == {"2026-10"} and set(statement["currency"]) == {"USD"}


def test_allocate__first_match_wins(org):
    costs = uf.Client.fake().costs(*OCTOBER, group_by=["project_id", "api_key_id"])
    rules = {"team": [{"name": "chat-prod", "api_key_ids": ["key_chat_prod"]},
                      {"name": "chat", "project_ids": ["proj_chat"]}]}  # fmt: skip
    got = amounts(ops.allocate(costs, rules))
    prod = org.total("costs", "amount", *OCTOBER, api_key_id="key_chat_prod")
    rest = org.total("costs", "amount", *OCTOBER, project_id="proj_chat") - prod
    assert abs(Decimal(repr(got["chat-prod"])) - cents(prod)) <= CENT
    assert abs(Decimal(repr(got["chat"])) - cents(rest)) <= CENT


def test_allocate__splits_unallocated_in_proportion_to_direct_spend(org, by_project):
    statement = ops.allocate(by_project, Rules.from_toml('split = ["unallocated"]\n' + RULES))
    got = amounts(statement)
    search = org.total("costs", "amount", *OCTOBER, project_id="proj_search")
    chat = org.total("costs", "amount", *OCTOBER, project_id=["proj_chat", "proj_batch"])
    lab = org.total("costs", "amount", *OCTOBER, project_id="proj_lab")
    assert got["unallocated"] == 0
    assert abs(Decimal(repr(got["search"])) - cents(search + lab * search / (search + chat))) <= CENT
    assert sum(Decimal(repr(a)) for a in statement["amount"]) == cents(search + chat + lab)
    row = statement.set_index("team").loc["unallocated"]
    assert row["shared"] == -row["direct"] == pytest.approx(-round(lab, 2), abs=0.01)


def test_allocate__a_shared_team_is_split_over_the_others(org, by_project):
    platform = {"name": "platform", "project_ids": ["proj_lab"]}
    rules = {"team": [platform, *tomllib.loads(RULES)["team"]], "split": ["platform"]}
    got = amounts(ops.allocate(by_project, rules))
    assert got["platform"] == 0 and got["unallocated"] == 0
    assert sum(Decimal(repr(a)) for a in got.values()) == cents(org.total("costs", "amount", *OCTOBER))


def test_allocate__matches_names_through_the_organizations_lists(org, by_project):
    rules = {"team": [{"name": "search", "project_names": ["Search & RAG"]}]}
    got = amounts(ops.allocate(by_project, rules, projects=uf.projects(uf.Client.fake())))
    assert (
        abs(Decimal(repr(got["search"])) - cents(org.total("costs", "amount", *OCTOBER, project_id="proj_search")))
        <= CENT
    )
    with pytest.raises(uf.InvalidParameterError, match="projects="):
        ops.allocate(by_project, rules)


def test_allocate__by_user(org):
    costs = uf.Client.fake().costs(*OCTOBER, group_by="user_id")
    got = amounts(costs.usage.allocate({"team": [{"name": "search", "user_ids": ["user-chen"]}]}))
    assert (
        abs(Decimal(repr(got["search"])) - cents(org.total("costs", "amount", *OCTOBER, user_id="user-chen"))) <= CENT
    )


def test_allocate__one_statement_per_month_that_adds_up_to_the_window_rounded_once(org):
    window = ("2026-09-15", "2026-10-10")  # September and October both end in more than half a cent
    statement = ops.allocate(uf.Client.fake().costs(*window, group_by="project_id"), Rules.from_toml(RULES))
    assert statement["period"].unique().tolist() == ["2026-09", "2026-10"]
    # Rounding each month on its own would give a cent more than the window's bill: one month gives it back.
    assert sum(Decimal(repr(a)) for a in statement["amount"]) == cents(org.total("costs", "amount", *window))
    for period, start, end in (("2026-09", window[0], "2026-10-01"), ("2026-10", "2026-10-01", window[1])):
        month = statement[statement["period"] == period]
        own = cents(org.total("costs", "amount", start, end))
        assert abs(sum(Decimal(repr(a)) for a in month["amount"]) - own) <= CENT
        assert str(month["period_start"].iloc[0].date()) == start and str(month["period_end"].iloc[0].date()) == end


@pytest.mark.parametrize(
    ("now", "window", "ends"),
    [  # costs come in whole UTC days: a period ends where the last day it sums ends, or at the data's clock
        ("2026-11-28 12:00", ("2026-09-30T23:00", "2026-10-01T01:00"), ["2026-10-01 00:00", "2026-10-02 00:00"]),
        ("2026-10-01 14:53", ("2026-09-30T23:00", None), ["2026-10-01 00:00", "2026-10-01 14:53"]),
        ("2026-10-01 14:53", ("2026-09-30T23:00", "2026-10-01T01:00"), ["2026-10-01 00:00", "2026-10-01 14:53"]),
    ],
)
def test_allocate__a_period_ends_with_the_last_day_it_sums(now, window, ends):
    costs = uf.Client.fake(now=now).costs(*window, group_by="project_id")
    statement = ops.allocate(costs, Rules.from_toml(RULES)).drop_duplicates("period")
    assert statement["period_start"].tolist() == [pd.Timestamp(d, tz="UTC") for d in ("2026-09-30", "2026-10-01")]
    assert statement["period_end"].tolist() == [pd.Timestamp(e, tz="UTC") for e in ends]


def test_allocate__says_which_grouping_the_rules_need(by_project):
    rules = Rules.from_dict({"team": [{"name": "search", "user_ids": ["user-chen"]}]})
    assert rules.group_by == ["user_id"]
    with pytest.raises(uf.InvalidParameterError, match=r"group_by=\['user_id'\]"):
        ops.allocate(by_project, rules)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("[[team]]\nname = 'a'\nprojects = ['p']", "projects"),  # a misspelt key is refused, not ignored
        ("[[team]]\nname = 'a'", "matches nothing"),
        ("[[team]]\nproject_ids = ['p']", "name"),
        ("[[team]]\nname = 'a'\nproject_ids = [1]", "list of strings"),
        ("split = ['nobody']\n[[team]]\nname = 'a'\nproject_ids = ['p']", "split"),
        ("[[team]\nname = 'a'", "does not parse"),
        ("", r"\[\[team\]\]"),
    ],
)
def test_rules__bad_input_names_the_problem(text, named):
    with pytest.raises(uf.InvalidParameterError, match=named):
        Rules.from_toml(text)


def test_rules__a_missing_file_is_bad_input(tmp_path):
    with pytest.raises(uf.InvalidParameterError, match="cannot be read"):
        Rules.load(tmp_path / "nope.toml")


def test_allocate__does_not_mutate_its_input(by_project):
    before = by_project.copy()
    ops.allocate(by_project, Rules.from_toml(RULES))
    assert by_project.equals(before) and by_project.attrs == before.attrs


def test_allocate__a_rule_value_without_costs_is_named_with_the_closest_known_one(by_project):
    rules = {"team": [{"name": "search", "project_ids": ["proj_serch"]}]}
    message = "team 'search': project_ids 'proj_serch' matches no cost in 2026-10 (did you mean 'proj_search'?)"
    with pytest.warns(uf.UsageFramesWarning, match=re.escape(message)):
        statement = ops.allocate(by_project, rules)
    assert amounts(statement)["search"] == 0


def test_allocate__a_misspelt_name_gets_the_closest_name_of_the_directory(by_project):
    rules = {"team": [{"name": "search", "project_names": ["Search and RAG"]}]}
    with pytest.warns(uf.UsageFramesWarning, match=re.escape("project_names 'Search and RAG' matches no cost in "
                                                             "2026-10 (did you mean 'Search & RAG'?)")):  # fmt: skip
        ops.allocate(by_project, rules, projects=uf.projects(uf.Client.fake()))


def test_allocate__a_value_the_directory_knows_is_idle_not_a_typo(by_project):
    rules = {"team": [{"name": "new", "project_ids": ["proj_new"]}, {"name": "keys", "api_key_ids": ["key_nobody"]}]}
    projects = pd.DataFrame({"id": ["proj_chat", "proj_new"], "name": ["Customer chat", "New"]})
    with pytest.warns(uf.UsageFramesWarning) as caught:  # only what neither the costs nor the lists know
        ops.allocate(uf.Client.fake().costs(*OCTOBER, group_by=["project_id", "api_key_id"]), rules, projects=projects)
    assert [str(w.message) for w in caught] == ["team 'keys': api_key_ids 'key_nobody' matches no cost in 2026-10"]
