"""``check``, ``allocate`` and ``export focus`` at any hour: the clock at 00:00:30, 14:53 and 23:59:30 on the 1st,
2nd and last day of a month, against the fake (the CLI's ``--fake`` follows ``usage_frames._core.query.wall_clock``,
pinned here per instant) and once over ``serve-fake`` in a subprocess with stdin closed.

At every instant the three commands and the costs frame give the same totals to the cent (the window's, the
month's, a team's), and nothing shows a placeholder: no ``<NA>``, NaN or NaT, and a forecast from real history."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import usage_frames as uf
import usage_frames._core.query
from usage_frames.analysis.money import total_cents
from usage_frames.cli import main

DAYS = ["2026-11-01", "2026-11-02", "2026-10-31"]  # the 1st, the 2nd and the last day of a month
HOURS = ["00:00:30", "14:53", "23:59:30"]
INSTANTS = [pd.Timestamp(f"{day} {hour}", tz="UTC") for day in DAYS for hour in HOURS]
RULES = (
    '[[team]]\nname = "search"\nproject_ids = ["proj_search"]\n[[team]]\nname = "chat"\nproject_ids = ["proj_chat"]\n'
)
BUDGETS = RULES + (
    '[[budget]]\nname = "org"\nmonthly = 1e6\n'
    '[[budget]]\nname = "search"\nproject_ids = ["proj_search"]\nmonthly = 1e6\n'
    '[[budget]]\nname = "chat team"\nteam = "chat"\nmonthly = 1e6\n'
)
LINE = re.compile(r"^(?P<name>[^:]+): [a-z ]+: \$(?P<spent>[\d,.]+) of .* forecast \$(?P<forecast>[\d,.]+) ")
PLACEHOLDERS = ("<NA>", "nan", "NaN", "NaT", "None")


def cents(text: str) -> int:
    """Cents of a printed amount (``2,172.20``)."""
    return round(float(text.replace(",", "")) * 100)


def commands(run, folder: Path, source: list[str], now: pd.Timestamp) -> dict[str, object]:
    """Run allocate (default window, and this month), export focus and check at ``now``; their figures in cents."""
    (folder / "rules.toml").write_text(RULES)
    (folder / "budgets.toml").write_text(BUDGETS)
    rules = ["--rules", str(folder / "rules.toml")]
    outputs = [
        run("allocate", *source, *rules, "-o", str(folder / "window.csv")),
        run("allocate", *source, *rules, "--start", f"{now:%Y-%m}-01", "-o", str(folder / "month.csv")),
        run("export", "focus", *source, "--focus-version", "1.0", "-o", str(folder / "focus.csv")),
        run("check", *source, "--budgets", str(folder / "budgets.toml")),
    ]
    assert [code for code, _ in outputs][:3] == [0, 0, 0] and outputs[3][0] in (0, 1), outputs
    window, month, focus = (pd.read_csv(folder / name) for name in ("window.csv", "month.csv", "focus.csv"))
    texts = [out for _, out in outputs] + [window.to_csv(), month.to_csv(), focus[["BilledCost"]].to_csv()]
    assert not any(p in text for p in PLACEHOLDERS for text in texts), texts
    checked = {m["name"]: m for m in map(LINE.match, outputs[3][1].splitlines()) if m}
    assert set(checked) == {"org", "search", "chat team"}, outputs[3]
    assert all(cents(m["forecast"]) > 0 for m in checked.values()), outputs[3]  # weeks of history: never $0.00
    return {
        "window": {
            "statement": total_cents(window["amount"]),
            "statement printed": cents(re.search(r"rows, ([\d,.]+)\)", outputs[0][1])[1]),
            "focus": total_cents(focus["BilledCost"]),
            "focus printed": cents(re.search(r"BilledCost ([\d,.]+) USD", outputs[2][1])[1]),
        },
        "month": {"statement": total_cents(month["amount"]), "check": cents(checked["org"]["spent"])},
        "teams": {team: round(amount * 100) for team, amount in zip(month["team"], month["amount"], strict=True)},
        "budgets": {"search": cents(checked["search"]["spent"]), "chat": cents(checked["chat team"]["spent"])},
    }


def pandas_cents(amounts: pd.Series) -> int:
    return round(round(float(amounts.sum()), 2) * 100)


def agree(got: dict[str, dict[str, int]], costs: pd.DataFrame, now: pd.Timestamp) -> None:
    """The commands' figures against the costs frame of the same window (what a pandas user computes)."""
    month = costs[costs.index >= now.floor("D") - pd.Timedelta(days=now.day - 1)]
    assert set(got["window"].values()) == {pandas_cents(costs["amount"])}, got
    assert set(got["month"].values()) == {pandas_cents(month["amount"])}, got
    for team in ("search", "chat"):
        own = pandas_cents(month.loc[month["project_id"] == f"proj_{team}", "amount"])
        assert got["budgets"][team] == own, (team, got)  # a budget is its own total, rounded once
        assert abs(got["teams"][team] - own) <= 1, (team, got)  # a statement row: within the cent it may be given


@pytest.fixture
def run_at(monkeypatch, capsys):
    def at(now: pd.Timestamp):
        monkeypatch.setattr(usage_frames._core.query, "wall_clock", lambda: now)

        def run(*argv: str) -> tuple[int, str]:
            code = main(list(argv))
            captured = capsys.readouterr()
            assert captured.err == "", captured.err
            return code, captured.out

        return run

    return at


@pytest.mark.parametrize("now", INSTANTS, ids=[f"{t:%m-%d_%H%M%S}" for t in INSTANTS])
def test_finops_commands__agree_to_the_cent_with_the_costs_frame_at_any_hour(now, run_at, tmp_path):
    got = commands(run_at(now), tmp_path, ["--fake"], now)
    agree(got, uf.Client.fake(now=now).costs(group_by="project_id"), now)  # the commands' default window


SERVE = """
import sys
import pandas as pd
import usage_frames._core.query
usage_frames._core.query.wall_clock = lambda: pd.Timestamp(sys.argv[1])  # the fake organization's clock
from usage_frames.cli import main
sys.exit(main(["serve-fake", "--port", "0"]))
"""


def test_finops_commands__agree_over_serve_fake_in_a_subprocess_with_stdin_closed(run_at, tmp_path, monkeypatch):
    now = pd.Timestamp("2026-11-30 23:59:30", tz="UTC")
    monkeypatch.setenv("OPENAI_ADMIN_KEY", "sk-admin-fake")
    monkeypatch.setenv("OPENAI_ORG_ID", "org-fake")
    command = [sys.executable, "-c", SERVE, str(now)]
    with subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True) as server:  # fmt: skip
        try:
            assert server.stdout is not None
            url = re.search(r"http://127\.0\.0\.1:\d+/v1", server.stdout.readline())
            assert url, server.stderr.read() if server.stderr else ""
            got = commands(run_at(now), tmp_path, ["--base-url", url[0], "--no-cache"], now)
            agree(got, uf.Client("sk-admin-fake", url[0], cache=False).costs(group_by="project_id"), now)
        finally:
            server.terminate()
            assert server.wait(timeout=10) == 0
