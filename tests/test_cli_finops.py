"""usage-frames export focus / allocate / check: files, statements and exit codes from the fake's truth, alerts to
a real receiver on 127.0.0.1, and the admin key in none of them."""

from __future__ import annotations

import sys
from decimal import Decimal

import pandas as pd
import pytest
from test_budgets import Receiver
from test_focus import validate

from usage_frames.cli import main
from usage_frames.focus import COLUMNS_1_0
from usage_frames.providers.openai.fake import FakeOrganization
from usage_frames.sample import SAMPLE_NOW

RULES = (
    '[[team]]\nname = "search"\nproject_ids = ["proj_search"]\n[[team]]\nname = "chat"\nproject_ids = ["proj_chat"]\n'
)
OVER = (
    '[[budget]]\nname = "org"\nmonthly = 2000.0\n'  # above October 1-20 ($1,412.95), below the whole month
    '[[budget]]\nname = "search"\nproject_ids = ["proj_search"]\nmonthly = 1e6\n'
)
OK = '[[budget]]\nname = "org"\nmonthly = 1e9\n'


@pytest.fixture
def write(tmp_path):
    def write(name: str, text: str) -> str:
        path = tmp_path / name
        path.write_text(text)
        return str(path)

    return write


def test_export_focus__1_0_file_passes_the_validator_and_adds_up(tmp_path, capsys, org):
    path = tmp_path / "focus.csv"
    args = ["export", "focus", "--fake", "--start", "2026-10-01", "--end", "2026-10-04", "--focus-version", "1.0"]
    assert main([*args, "-o", str(path)]) == 0
    assert capsys.readouterr().out.startswith("wrote ")
    table = pd.read_csv(path)
    assert [c for c in table.columns if not c.startswith("x_")] == list(COLUMNS_1_0)
    assert table["BilledCost"].sum() == pytest.approx(org.total("costs", "amount", "2026-10-01", "2026-10-04"))
    assert set(table["BillingAccountId"]) == {"org-fake"} and table["SubAccountName"].notna().all()
    assert validate(path, tmp_path) == []


def test_export_focus__parquet_from_the_sample(tmp_path):
    path = tmp_path / "focus.parquet"
    assert main(["export", "focus", "--sample", "--start", "2026-10-01", "--end", "2026-10-21", "-o", str(path)]) == 0
    table = pd.read_parquet(path)
    truth = FakeOrganization(now=SAMPLE_NOW).total("costs", "amount", "2026-10-01", "2026-10-21")
    assert table["BilledCost"].sum() == pytest.approx(truth)
    assert "ServiceSubcategory" in table.columns  # FOCUS 1.2 by default


def test_export_focus__bad_suffix_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["export", "focus", "--fake", "--start", "2026-10-01", "--end", "2026-10-02", "-o", "f.xlsx"]) == 2
    err = capsys.readouterr().err
    assert ".xlsx" in err and ".parquet" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_allocate__statement_adds_up_to_the_bill(tmp_path, capsys, org, write):
    out = tmp_path / "statement.csv"
    args = ["allocate", "--fake", "--start", "2026-10-01", "--end", "2026-11-01", "--rules", write("r.toml", RULES)]
    assert main([*args, "-o", str(out)]) == 0
    statement = pd.read_csv(out)
    assert statement["team"].tolist() == ["search", "chat", "unallocated"]
    total = Decimal(repr(org.total("costs", "amount", "2026-10-01", "2026-11-01"))).quantize(Decimal("0.01"))
    assert sum(Decimal(str(a)) for a in statement["amount"]) == total


def test_allocate__bad_rules_exit_2(capsys, write):
    assert main(["allocate", "--fake", "--rules", write("r.toml", "[[team]]\nname = 'a'\n")]) == 2
    assert "matches nothing" in capsys.readouterr().err


@pytest.mark.parametrize(("budgets", "code", "statuses"), [(OK, 0, ["ok"]), (OVER, 1, ["projected over", "ok"])])
def test_check__one_line_per_budget_and_the_exit_code(capsys, write, budgets, code, statuses):
    assert main(["check", "--sample", "--budgets", write("b.toml", budgets)]) == code
    out = capsys.readouterr().out.strip().splitlines()
    assert [line.split(": ")[1] for line in out] == statuses
    spent = FakeOrganization(now=SAMPLE_NOW).total("costs", "amount", "2026-10-01", SAMPLE_NOW)
    assert out[0].startswith(f"org: {statuses[0]}: ${spent:,.2f} of ")


def test_check__bad_budgets_exit_2(capsys, write):
    assert main(["check", "--sample", "--budgets", write("b.toml", "[[budget]]\nname = 'x'\n")]) == 2
    assert "monthly" in capsys.readouterr().err


def test_check__notifies_a_real_receiver_once_and_never_with_the_key(secret_key, server, monkeypatch, capsys, write):
    monkeypatch.setenv("OPENAI_ADMIN_KEY", secret_key)
    with Receiver() as receiver:
        args = ["check", "--base-url", server.url, "--no-cache", "--notify", receiver.url]
        assert main([*args, "--budgets", write("over.toml", OVER)]) == 1
        assert len(receiver.requests) == 1
        sent = receiver.requests[0]
        assert "org: " in sent["body"] and "search" not in sent["body"]  # only the budget that needs attention
        assert main([*args, "--budgets", write("ok.toml", OK)]) == 0
        assert len(receiver.requests) == 1  # nothing is sent when all budgets are ok
    captured = capsys.readouterr()
    assert all(secret_key not in str(r) for r in receiver.requests)
    assert secret_key not in captured.out + captured.err


def test_check__dry_run_prints_the_message_and_sends_nothing(capsys, write):
    with Receiver() as receiver:
        args = ["check", "--sample", "--budgets", write("b.toml", OVER), "--notify", receiver.url, "--dry-run"]
        assert main(args) == 1
    assert receiver.requests == []
    out = capsys.readouterr().out
    assert "would send:\nusage-frames: 1 of 2 budgets over or projected over\norg: projected over" in out


def test_check__a_bad_notify_url_is_refused_before_any_request(secret_key, capsys, write, faults, server, monkeypatch):
    monkeypatch.setenv("OPENAI_ADMIN_KEY", secret_key)
    args = ["check", "--base-url", server.url, "--budgets", write("b.toml", OVER), "--notify", "nonsense://x"]
    assert main(args) == 2
    assert "notify" in capsys.readouterr().err and faults.requests == []


def test_check__notify_without_the_alerts_extra_names_the_install_command(capsys, write, monkeypatch):
    monkeypatch.setitem(sys.modules, "apprise", None)  # what Python does when the package is not installed
    assert main(["check", "--sample", "--budgets", write("b.toml", OVER), "--notify", "json://127.0.0.1/x"]) == 2
    assert "pip install 'usage-frames[alerts]'" in capsys.readouterr().err
