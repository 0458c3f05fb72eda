"""usage-frames export focus / allocate / check: files, statements and exit codes from the fake's truth, alerts to
a real receiver on 127.0.0.1, and the admin key in none of them."""

from __future__ import annotations

import socket
import sys
from decimal import Decimal

import pandas as pd
import pytest
from finops.test_budgets import Receiver
from finops.test_focus import validate

from usage_frames.cli import main
from usage_frames.fake import FakeAPI, FakeServer
from usage_frames.finops.focus import COLUMNS_1_0
from usage_frames.providers.openai.fake import FakeOrganization, default_streams
from usage_frames.providers.openai.sample import SAMPLE_NOW

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


TYPO = '[[budget]]\nname = "search"\nproject_ids = ["proj_serch"]\nmonthly = 100.0\n'
WARNING = ("budget 'search': project_ids 'proj_serch' matches no cost from 2026-09-22 to 2026-10-21 "
           "(did you mean 'proj_search'?)")  # the window check reads: ops.forecast_start, to the clock


def test_check__a_budget_that_matches_nothing_is_one_warning_line(capsys, write):
    assert main(["check", "--sample", "--budgets", write("b.toml", TYPO)]) == 0
    captured = capsys.readouterr()
    assert captured.err == f"usage-frames: warning: {WARNING}\n"
    assert captured.out.startswith("search: ok: $0.00 of $100.00")


def test_check__strict_makes_it_exit_2_before_any_alert(capsys, write):
    with Receiver() as receiver:
        args = ["check", "--sample", "--budgets", write("b.toml", OVER + TYPO.replace('"search"', '"serch"', 1))]
        assert main([*args, "--notify", receiver.url, "--strict"]) == 2
    assert receiver.requests == []
    captured = capsys.readouterr()
    assert captured.out == "" and "budget 'serch': project_ids 'proj_serch'" in captured.err
    assert captured.err.splitlines()[-1].startswith("usage-frames: error: --strict: 1 warning")


def test_allocate__a_rule_that_matches_nothing_is_one_warning_line_and_strict_writes_nothing(tmp_path, capsys, write):
    rules = write("r.toml", RULES.replace('"proj_chat"', '"proj_caht"'))
    out = tmp_path / "statement.csv"
    assert main(["allocate", "--sample", "--start", "2026-10-01", "--rules", rules, "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert err == ("usage-frames: warning: team 'chat': project_ids 'proj_caht' matches no cost in 2026-10 "
                   "(did you mean 'proj_chat'?)\n")  # fmt: skip
    out.unlink()
    assert main(["allocate", "--sample", "--start", "2026-10-01", "--rules", rules, "-o", str(out), "--strict"]) == 2
    assert not out.exists() and "--strict" in capsys.readouterr().err


def test_check__an_idle_project_of_the_directory_is_not_warned_a_typo_gets_its_name(capsys, write, monkeypatch):
    idle_lab = FakeOrganization(streams=[s for s in default_streams() if s.keys.get("project_id") != "proj_lab"])
    monkeypatch.setenv("OPENAI_ADMIN_KEY", "sk-admin-test")
    with FakeServer(FakeAPI(idle_lab)) as server:
        args = ["check", "--base-url", server.url, "--no-cache", "--budgets"]
        lab = '[[budget]]\nname = "lab"\nproject_ids = ["proj_lab"]\nmonthly = 10.0\n'
        assert main([*args, write("lab.toml", lab), "--strict"]) == 0
        assert capsys.readouterr().err == ""
        assert main([*args, write("typo.toml", lab.replace("proj_lab", "proj_lba"))]) == 0
    err = capsys.readouterr().err  # no cost, and not a project: the closest name comes from the directory
    assert "project_ids 'proj_lba' matches no cost" in err and "(did you mean 'proj_lab'?)" in err


def closed_port() -> int:
    with socket.socket() as probe:  # bound, never listening, then closed: nobody answers there
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_check__an_alert_nobody_receives_exits_3_naming_host_port_and_reason(capsys, write):
    port = closed_port()
    url = f"json://ops:hunter22@127.0.0.1:{port}/hook/s3cr3t-token"
    assert main(["check", "--sample", "--budgets", write("b.toml", OVER), "--notify", url]) == 3
    captured = capsys.readouterr()
    assert captured.out.startswith("org: projected over")
    assert captured.err == (f"usage-frames: error: the budget alert could not be delivered to 127.0.0.1:{port} "
                            "(json://): Connection refused\n")  # fmt: skip
    assert not any(secret in captured.err for secret in ("hunter22", "s3cr3t", "ops:", "log above"))


def test_check__an_alert_the_receiver_refuses_exits_3_with_its_status(capsys, write):
    with Receiver(status=500) as receiver:
        assert main(["check", "--sample", "--budgets", write("b.toml", OVER), "--notify", receiver.url]) == 3
        assert len(receiver.requests) == 1
    assert f"127.0.0.1:{receiver.server.server_address[1]} (json://): HTTP 500" in capsys.readouterr().err


def test_check__costs_that_cannot_be_read_exit_4_not_1(capsys, write, server, secret_key, monkeypatch):
    monkeypatch.setenv("OPENAI_ADMIN_KEY", secret_key)
    args = ["check", "--base-url", server.url, "--offline", "--budgets", write("b.toml", OK)]
    assert main(args) == 4  # an empty cache answers nothing: not "over budget"
    err = capsys.readouterr().err
    assert err.startswith("usage-frames: error: ") and "cache" in err and len(err.strip().splitlines()) == 1
