"""The report's figures as data (``report -o report.json``): one rule for the days of every figure, at any hour of
any day, on the fake in-process, over HTTP from ``serve-fake``, and on the sample; the forecast is ``check``'s."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import warnings

import pandas as pd
import pytest

import usage_frames as uf
import usage_frames._core.query
from usage_frames import ops
from usage_frames.cli import main
from usage_frames.providers.openai.fake import FakeOrganization
from usage_frames.report_data import period, report_data

DAYS = {"the 1st": "2026-11-01", "the 2nd": "2026-11-02", "the last day": "2026-10-31", "a day": "2026-12-07"}
HOURS = ("00:00:30", "14:53", "23:59:30")
MOMENTS = [f"{day} {hour}" for day in DAYS.values() for hour in HOURS]
BUDGETS = '[[budget]]\nname = "org"\nmonthly = 1000000.0\n'  # never over: check exits 0


@pytest.fixture
def clock(monkeypatch):
    """Set the one clock of clients and fake organizations (``usage_frames._core.query.wall_clock``) to a moment."""

    def at(moment: str) -> pd.Timestamp:
        when = pd.Timestamp(moment, tz="UTC")
        monkeypatch.setattr(usage_frames._core.query, "wall_clock", lambda: when)
        return when

    return at


def report_json(tmp_path, *argv: str) -> dict:
    path = tmp_path / "out" / "report.json"
    assert main(["report", *argv, "-o", str(path)]) == 0
    return json.loads(path.read_text())


def check_says(tmp_path, capsys, *argv: str) -> tuple[float, float]:
    """What ``usage-frames check`` says for the whole organization: month to date and the month-end forecast."""
    budgets = tmp_path / "budgets.toml"
    budgets.write_text(BUDGETS)
    capsys.readouterr()
    assert main(["check", *argv, "--budgets", str(budgets)]) == 0
    line = capsys.readouterr().out.splitlines()[0]
    found = re.fullmatch(r"org: ok: \$([\d,.]+) of .*; forecast \$([\d,.]+) \(.*\) by month end", line)
    assert found, line
    return float(found[1].replace(",", "")), float(found[2].replace(",", ""))


def cents(value: float) -> int:
    return round(value * 100)


def assert_one_rule(data: dict, now: pd.Timestamp) -> dict:
    """The figures of one report cover the same whole days, and add up; returns the cards by name."""
    cards = {card["name"]: card for card in data["cards"]}
    assert {"spend", "previous", "change_pct", "forecast"} <= set(cards)
    start, end = (pd.Timestamp(data["period"][k]) for k in ("start", "end"))
    assert start == start.normalize() and end == end.normalize() and start < end <= now
    assert data["period"]["days"] == (end - start).days
    for name in ("spend", "change_pct"):
        assert (cards[name]["start"], cards[name]["end"]) == (data["period"]["start"], data["period"]["end"]), name
    before, after = pd.Timestamp(cards["previous"]["start"]), pd.Timestamp(cards["previous"]["end"])
    assert after - before == end - start and after <= start  # as many days, before the period
    rows = data["tables"]["by_project"]
    assert sum(cents(r["amount"]) for r in rows) == cents(cards["spend"]["value"])  # the headline, to the cent
    assert sum(cents(r["previous"]) for r in rows) == cents(cards["previous"]["value"])
    assert all(cents(r["change"]) == cents(r["amount"]) - cents(r["previous"]) for r in rows)
    for name in ("by_line_item", "by_model", "by_token_kind"):  # every money table adds up to the headline
        assert sum(cents(r["amount"]) for r in data["tables"][name]) == cents(cards["spend"]["value"]), name
    if cards["previous"]["value"]:
        change = (cards["spend"]["value"] / cards["previous"]["value"] - 1) * 100
        assert cards["change_pct"]["value"] == pytest.approx(change, abs=0.05)
    shares = [r["share_of_change_pct"] for r in rows if r["share_of_change_pct"] is not None]
    assert not shares or sum(shares) == pytest.approx(100, abs=0.05 * len(shares))
    if now == now.normalize():  # no day in progress
        assert "today" not in cards and end == now
    else:  # the day in progress: apart, and in no other figure
        today = cards["today"]
        assert (today["start"], today["end"]) == (f"{now.normalize():%Y-%m-%dT%H:%M:%SZ}", f"{now:%Y-%m-%dT%H:%M:%SZ}")
        assert end == now.normalize()
    for day in data["tables"]["unusual_days"]:
        assert start <= pd.Timestamp(day["day"]) < end
    return cards


@pytest.mark.parametrize("moment", MOMENTS)
def test_report_json__one_rule_at_any_hour_and_the_forecast_check_gives(moment, clock, tmp_path, capsys):
    now = clock(moment)
    data = report_json(tmp_path, "--fake", "--provider", "openai")
    cards = assert_one_rule(data, now)
    org = FakeOrganization(now=now)
    assert cards["spend"]["value"] == round(org.total("costs", "amount", data["period"]["start"],
                                                      data["period"]["end"]), 2)  # fmt: skip
    month_to_date, forecast = check_says(tmp_path, capsys, "--fake")
    assert cards["forecast"]["value"] == forecast  # one question, one number
    assert cards["forecast"]["month_to_date"] == month_to_date
    month = pd.Timestamp(cards["forecast"]["start"])
    assert month == now.normalize().replace(day=1) and pd.Timestamp(cards["forecast"]["end"]) == month + pd.DateOffset(
        months=1)  # fmt: skip
    # The period so far and today so far add up to check's month to date, to the cent.
    so_far = cards["spend"]["value"] if pd.Timestamp(data["period"]["start"]) == month else 0.0
    assert cents(so_far) + cents(cards["today"]["value"]) == cents(month_to_date)


def test_report_json__at_14_53_the_headline_is_whole_days_and_today_is_apart(clock, tmp_path, org):
    """The report that said $463.23 (Dec 1-7), $463.66 (Nov 1-6) and -12.0% (Dec 1-6) over a table of $407.80."""
    now = clock("2026-12-07 14:53")
    cards = {c["name"]: c for c in report_json(tmp_path, "--fake", "--provider", "openai")["cards"]}
    assert cards["spend"]["value"] == round(org.total("costs", "amount", "2026-12-01", "2026-12-07"), 2) == 407.80
    assert cards["previous"]["value"] == round(org.total("costs", "amount", "2026-11-01", "2026-11-07"), 2)
    assert cards["previous"]["label"] == "Same days last month" and cards["previous"]["note"] == "Nov 01 to Nov 06 2026"
    assert cards["today"]["value"] == pytest.approx(org.total("costs", "amount", "2026-12-07", now), abs=0.01)


def test_report_json__over_http_from_serve_fake_in_a_subprocess(clock, tmp_path, capsys, monkeypatch, secret_key):
    moment = "2026-12-07 14:53"
    code = (  # the server's fake organization on the same clock as the client
        "import pandas as pd, usage_frames._core.query as q\n"
        f"q.wall_clock = lambda: pd.Timestamp({moment!r}, tz='UTC')\n"
        "from usage_frames.cli import main\n"
        "raise SystemExit(main(['serve-fake', '--port', '0']))\n"
    )
    with subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as server:  # fmt: skip
        try:
            url = re.search(r"http://127\.0\.0\.1:\d+\S*", server.stdout.readline())
            assert url, "serve-fake printed no URL"
            monkeypatch.setenv("OPENAI_ADMIN_KEY", secret_key)
            now = clock(moment)
            data = report_json(tmp_path, "--base-url", url[0])
            cards = assert_one_rule(data, now)
            assert data["source"] == "live" and cards["spend"]["value"] == 407.80
            assert cards["forecast"]["value"] == check_says(tmp_path, capsys, "--base-url", url[0])[1]
        finally:
            server.terminate()
            server.communicate(timeout=60)
    assert server.returncode == 0  # stopped by SIGTERM, cleanly


def test_report_json__on_the_sample_forecast_is_check_s_and_the_readme_s(tmp_path, capsys):
    data = report_json(tmp_path, "--sample", "--provider", "openai")
    cards = assert_one_rule(data, pd.Timestamp("2026-10-21", tz="UTC"))
    assert cards["forecast"]["value"] == check_says(tmp_path, capsys, "--sample")[1] == 2189.01
    client = uf.Client.sample()
    history = client.costs(ops.forecast_start(client.clock()), group_by="project_id")  # the README's example
    assert round(history.usage.forecast().attrs["projected_total"], 2) == 2189.01
    assert data == report_data(client)  # the command writes the Python entry point's object


def test_report_json__is_plain_json_numbers_and_utc_times(tmp_path):
    text = json.dumps(report_json(tmp_path, "--sample"))
    assert "NaN" not in text and "Infinity" not in text

    def walk(value):
        if isinstance(value, dict):
            for key, item in value.items():
                if key in ("start", "end", "as_of", "day", "fit_start", "fit_end"):
                    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", item), (key, item)
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        else:
            assert value is None or isinstance(value, str | int | float), value
            if isinstance(value, float) and value == value:
                assert round(value, 2) == value  # dollars to the cent, percentages to 0.1

    walk(json.loads(text))


def test_forecast__from_costs_that_start_too_late_warns_and_says_from_when():
    client = uf.Client.sample()
    october = client.costs("2026-10-01", group_by="project_id")
    with pytest.warns(uf.UsageFramesWarning, match=r"19 settled days instead of 28; fetch them from 2026-09-22"):
        late = october.usage.forecast().attrs["projected_total"]
    assert round(late, 2) == 2213.24  # the README's old figure, now named as a different question
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        attrs = client.costs(ops.forecast_start(client.clock())).usage.forecast().attrs
    assert attrs["fit_days"] == 28 and attrs["fit_from"].startswith("2026-09-22")


@pytest.mark.parametrize("moment", ["2026-11-01 06:00", "2026-10-31 23:59:30", "2026-12-07 14:53"])
def test_forecast__check_fetches_the_history_the_forecast_reads(moment, clock):
    """On the 1st, check fitted 27 days (from 28 days before the month) and the report 28: $2,197.09 vs $2,343.17."""
    now = clock(moment)
    client = uf.Client.fake()
    costs = client.costs(ops.forecast_start(now), now)
    status = ops.check_budgets(costs, {"budget": [{"name": "org", "monthly": 1e6}]}, now=now)
    longer = client.costs(now - pd.Timedelta(days=90), now)
    assert status.loc[0, "projected"] == round(ops.forecast(longer, now=now).attrs["projected_total"], 2)


def test_period__every_hour_of_a_year_has_whole_days_and_a_comparison_as_long():
    for now in pd.date_range("2026-01-01 00:00:30", "2027-01-01", freq="7h", tz="UTC"):
        when = period(None, None, now)
        assert when.start == when.start.normalize() and when.end == now.normalize()
        assert when.days >= 1 and when.previous_end - when.previous_start == when.end - when.start
        assert when.previous_end <= when.start and when.end <= now
        assert (when.today is None) == (now == now.normalize())
        if when.note:  # the first day of a month: the month before, complete
            assert now.day == 1 and when.end == now.normalize() and when.start.day == 1


def test_period__refuses_a_period_without_a_whole_day():
    with pytest.raises(uf.InvalidParameterError, match="no whole UTC day before 2026-12-07 14:53 UTC"):
        period("2026-12-07", None, "2026-12-07 14:53")
    with pytest.raises(uf.InvalidParameterError, match="is not after the start"):
        period("2026-10-10", "2026-10-10", "2026-12-07")


def test_report_json__a_figure_that_needs_history_the_sample_lacks_says_why(tmp_path, capsys, secret_key):
    argv = ["report", "--sample", "--start", "2026-04-10", "--end", "2026-04-20", "-o", str(tmp_path / "r.json")]
    assert main(argv) == 1
    error = capsys.readouterr().err
    assert "the report of Apr 10 to Apr 19 2026 needs costs from 2026-03-06, before its period" in error
    assert "the comparison with the previous 10 days (from 2026-03-31)" in error
    assert "the unusual days compare each day with the four weeks before it (from 2026-03-06)" in error
    assert not (tmp_path / "r.json").exists()
    offline = uf.Client(secret_key, offline=True)  # an empty cache, as of the suite's NOW (2026-11-28 12:00)
    with pytest.raises(uf.CacheMissError, match=r"the forecast fits the 28 settled days .* \(from 2026-10-30\)"):
        report_data(offline, "2026-11-20")
