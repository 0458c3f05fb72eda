"""usage-frames export focus / allocate / check with --provider anthropic and all: the console script as cron runs it
(stdin closed, the suite's clock), its figures against both fakes' ground truth in exact cents, each provider's
billing account (its variable, or its API's own organization), one-line errors naming what is missing."""

from __future__ import annotations

import re
import socket
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import pandas as pd
import pytest
from conftest import NOW, pinned_env
from finops.test_focus import validate

import usage_frames as uf
from cli.test_cli import run
from usage_frames.analysis.money import exact_total
from usage_frames.providers.anthropic.fake import FakeOrganization
from usage_frames.providers.anthropic.fake.api import ORGANIZATION
from usage_frames.providers.anthropic.fake.streams import BATCH, DEFAULT_WORKSPACE_ID, RESEARCH, SUPPORT

WINDOW = ("2026-10-01", "2026-11-01")
MONTH = (NOW.floor("D") - pd.Timedelta(days=NOW.day - 1), NOW)  # what check counts: this month to date
RULES = """
[[team]]
name = "support"
workspace_names = ["Support agent"]
[[team]]
name = "default"
workspace_names = ["Default Workspace"]
[[team]]
name = "research"
workspace_ids = ["wrkspc_01ResearchLab3pN7vRtZc"]
[[team]]
name = "search"
project_ids = ["proj_search"]
"""
BUDGETS = """
[[budget]]
name = "org"
monthly = 1e9
[[budget]]
name = "batch"
workspace_ids = ["wrkspc_01NightlyBatch5cH1yJdQ"]
monthly = 100.0
[[budget]]
name = "default"
workspace_names = ["Default Workspace"]
monthly = 1e9
"""
ANTHROPIC_RULES = "\n".join(RULES.split("[[team]]\nname = \"search\"")[:1])  # the rules on workspaces only


def anthropic(*window: object, **where: object) -> Decimal:
    """The fake Anthropic organization's exact bill (US dollars) on the suite's clock."""
    return FakeOrganization(now=NOW).total("costs", "amount", *(window or WINDOW), **where)


def openai(*window: object, group_by: str | list[str] = "project_id", **where: object) -> Decimal:
    """The fake OpenAI organization's bill as it sends it, summed exactly (its amounts are the decimals sent)."""
    costs = uf.Client.fake().costs(*(window or WINDOW), group_by=group_by)
    for key, value in where.items():
        costs = costs[costs[key] == value]
    return exact_total(costs["amount"])


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)


def amounts(text: str) -> dict[str, Decimal]:
    """The month to date of each budget line of check (``name: status: $1,234.56 of ...``)."""
    found = re.findall(r"^([^:\n]+): [a-z ]+: \$([\d,.]+) of ", text, flags=re.M)
    return {name: Decimal(spent.replace(",", "")) for name, spent in found}


@pytest.fixture
def files(tmp_path):
    (tmp_path / "rules.toml").write_text(RULES)
    (tmp_path / "anthropic.toml").write_text(ANTHROPIC_RULES)
    (tmp_path / "budgets.toml").write_text(BUDGETS)
    return tmp_path


def test_export_focus__anthropic_rows_and_its_organization_from_its_api(tmp_path):
    path = tmp_path / "focus.csv"
    result = run("export", "focus", "--fake", "--provider", "anthropic", "--start", WINDOW[0], "--end", WINDOW[1],
                 "-o", str(path))  # fmt: skip
    assert result.returncode == 0 and result.stderr == "", result.stderr
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert exact_total(table["BilledCost"]) == anthropic() > 0  # every cent of the cents sent, as sent
    assert result.stdout == f"wrote {len(table)} FOCUS 1.2 rows (BilledCost {cents(anthropic()):,} USD) to {path}\n"
    assert set(zip(table["BillingAccountId"], table["BillingAccountName"], table["ProviderName"], strict=True)) == {
        (ORGANIZATION["id"], ORGANIZATION["name"], "Anthropic")}  # fmt: skip
    default = table[table["SubAccountId"] == "default"]
    assert set(default["SubAccountName"]) == {"Default Workspace"}
    assert exact_total(default["BilledCost"]) == anthropic(workspace_id=None) > 0


def test_export_focus__all_is_both_providers_in_one_file_that_passes_the_validator(tmp_path):
    path = tmp_path / "focus.csv"
    result = run("export", "focus", "--fake", "--provider", "all", "--focus-version", "1.0", "--start", WINDOW[0],
                 "--end", WINDOW[1], "-o", str(path))  # fmt: skip
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    mine = table["ProviderName"] == "Anthropic"
    assert set(table["ProviderName"]) == {"OpenAI", "Anthropic"}
    assert exact_total(table.loc[mine, "BilledCost"]) == anthropic()  # each provider's sum unchanged
    assert exact_total(table.loc[~mine, "BilledCost"]) == openai(group_by=["project_id", "line_item"])
    assert set(table.loc[~mine, "BillingAccountId"]) == {"org-fake"}
    assert set(table.loc[mine, "BillingAccountId"]) == {ORGANIZATION["id"]}
    assert f"(BilledCost {cents(anthropic() + openai()):,} USD)" in result.stdout
    assert validate(path, tmp_path) == []


def closed_port() -> int:
    with socket.socket() as probe:  # bound, never listening: a request there would fail, not exit 2
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_export_focus__all_names_the_provider_whose_account_is_missing_before_any_request(tmp_path):
    nowhere = f"http://127.0.0.1:{closed_port()}"
    env = pinned_env(OPENAI_ADMIN_KEY="sk-admin-x", ANTHROPIC_ADMIN_KEY="sk-ant-admin01-x", OPENAI_BASE_URL=nowhere,
                     ANTHROPIC_BASE_URL=nowhere)  # fmt: skip
    env.pop("OPENAI_ORG_ID", None)
    out = str(tmp_path / "f.csv")
    missing = run("export", "focus", "--provider", "all", "--no-cache", "-o", out, env=env)
    assert missing.returncode == 2 and missing.stdout == ""
    assert missing.stderr == ("usage-frames: error: no billing account for OpenAI (FOCUS BillingAccountId): set "
                              "OPENAI_ORG_ID (org-...)\n")  # fmt: skip
    one = run("export", "focus", "--provider", "all", "--billing-account-id", "org-x", "-o", out, env=env)
    assert one.returncode == 2 and "OPENAI_ORG_ID for OpenAI, its API for Anthropic" in one.stderr
    assert one.stderr.count("\n") == 1
    default = run("export", "focus", "--no-cache", "-o", out, env=env)  # the first provider: as it always said
    assert default.returncode == 2 and default.stderr == (
        "usage-frames: error: --billing-account-id org-... is needed (FOCUS BillingAccountId), or set OPENAI_ORG_ID\n")
    assert not Path(out).exists()


def statement(result, path: Path) -> dict[str, Decimal]:
    assert result.returncode == 0 and result.stderr == "", result.stderr
    rows = pd.read_csv(path, dtype=str)
    return {team: Decimal(amount) for team, amount in zip(rows["team"], rows["amount"], strict=True)}


def test_allocate__anthropic_rules_on_workspace_names_and_ids_are_the_fakes_cents(files):
    out = files / "statement.csv"
    result = run("allocate", "--fake", "--provider", "anthropic", "--start", WINDOW[0], "--end", WINDOW[1],
                 "--rules", str(files / "anthropic.toml"), "-o", str(out))  # fmt: skip
    teams = statement(result, out)
    assert teams["support"] == cents(anthropic(workspace_id=SUPPORT)) > 0
    assert teams["default"] == cents(anthropic(workspace_id=None)) > 0  # the null workspace, by its name
    assert teams["research"] == cents(anthropic(workspace_id=RESEARCH)) > 0
    assert teams["unallocated"] == cents(anthropic(workspace_id=BATCH))  # within the cent the statement gives it
    assert sum(teams.values()) == cents(anthropic())


def test_allocate__all_allocates_the_combined_bill_with_both_providers_sums(files):
    out = files / "statement.csv"
    result = run("allocate", "--fake", "--provider", "all", "--start", WINDOW[0], "--end", WINDOW[1],
                 "--rules", str(files / "rules.toml"), "-o", str(out))  # fmt: skip
    teams = statement(result, out)
    assert teams["search"] == cents(openai(project_id="proj_search")) > 0  # an OpenAI project
    assert teams["support"] == cents(anthropic(workspace_id=SUPPORT)) > 0  # an Anthropic workspace
    assert teams["default"] == cents(anthropic(workspace_id=None))
    assert sum(teams.values()) == cents(anthropic() + openai())
    assert f" rows, {cents(anthropic() + openai()):,}) to " in result.stdout


def test_allocate__all_refuses_rules_the_combined_bill_cannot_match(files):
    (files / "keys.toml").write_text('[[team]]\nname = "lab"\napi_key_ids = ["key_lab"]\n')
    result = run("allocate", "--fake", "--provider", "all", "--rules", str(files / "keys.toml"))
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "api_key_ids need one --provider" in result.stderr


def test_allocate__a_provider_that_cannot_group_by_a_rules_key_says_which_keys_it_has(files):
    result = run("allocate", "--fake", "--provider", "anthropic", "--rules", str(files / "rules.toml"))
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    rules = files / "rules.toml"
    assert result.stderr == (
        f"usage-frames: error: {rules} matches project_ids, by project_id, which Anthropic's costs do not have (they "
        "have workspace_id, description): give the --provider whose bill it is, or --provider all for projects and "
        "workspaces\n"
    )
    (files / "spaces.toml").write_text('[[budget]]\nname = "lab"\nmonthly = 10.0\nworkspace_names = ["Lab"]\n')
    budgets = run("check", "--fake", "--budgets", str(files / "spaces.toml"))  # OpenAI's bill, a workspace budget
    assert budgets.returncode == 2
    assert "spaces.toml matches workspace_names, by workspace_id, which OpenAI's" in budgets.stderr


def test_check__a_budget_on_the_default_workspace_s_listed_id_says_to_name_it(files):
    """The list gives the default workspace an id that its cost rows never carry: $0.00 and 'ok' said nothing why."""
    budget = f'[[budget]]\nname = "d"\nmonthly = 1.0\nworkspace_ids = ["{DEFAULT_WORKSPACE_ID}"]\n'
    (files / "default.toml").write_text(budget)
    result = run("check", "--fake", "--provider", "anthropic", "--budgets", str(files / "default.toml"))
    assert result.stderr.count("\n") == 1 and "matches no cost" in result.stderr
    assert "(it is 'Default Workspace', whose costs carry no workspace_id: match it by name, workspace_names = " \
        "['Default Workspace'])" in result.stderr  # fmt: skip
    strict = run("check", "--fake", "--provider", "anthropic", "--strict", "--budgets", str(files / "default.toml"))
    assert strict.returncode == 2


def test_check__anthropic_budgets_on_workspaces_exit_1_with_the_fakes_cents(files):
    result = run("check", "--fake", "--provider", "anthropic", "--budgets", str(files / "budgets.toml"))
    assert result.returncode == 1 and result.stderr == "", result.stderr
    spent = amounts(result.stdout)
    assert spent == {"org": cents(anthropic(*MONTH)), "batch": cents(anthropic(*MONTH, workspace_id=BATCH)),
                     "default": cents(anthropic(*MONTH, workspace_id=None))}  # fmt: skip
    assert result.stdout.splitlines()[1].startswith("batch: over: ")


def test_check__all_totals_across_providers(files):
    (files / "ok.toml").write_text(BUDGETS.replace("monthly = 100.0", "monthly = 1e9"))
    result = run("check", "--fake", "--provider", "all", "--budgets", str(files / "ok.toml"))
    assert result.returncode == 0 and result.stderr == "", result.stderr
    spent = amounts(result.stdout)
    assert spent["org"] == cents(anthropic(*MONTH) + openai(*MONTH)) > cents(anthropic(*MONTH))
    assert spent["batch"] == cents(anthropic(*MONTH, workspace_id=BATCH))
    assert spent["default"] == cents(anthropic(*MONTH, workspace_id=None))
