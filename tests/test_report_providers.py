"""The spend report of any provider, and of several at once: Anthropic's figures are the fake's ground truth, two
providers add up to the cent, each keeps its own report, the command writes it with no key in sight."""

from __future__ import annotations

import json
import re
import secrets
from decimal import Decimal

import pandas as pd
import pytest
from cli.test_cli import run
from conftest import NOW, pinned_env
from test_report import cells, dollars, tables_of
from test_report_data import check_says, report_json

import usage_frames as uf
from usage_frames import ops, plot
from usage_frames.analysis.money import exact_total, total_cents
from usage_frames.cli import main
from usage_frames.fake import FakeAPI, FakeServer
from usage_frames.providers import fake_organization
from usage_frames.providers.anthropic.fake import FakeOrganization
from usage_frames.providers.anthropic.fake.streams import BATCH, RESEARCH, SUPPORT
from usage_frames.providers.openai.fake import FakeOrganization as OpenAIOrganization
from usage_frames.report import spend_report
from usage_frames.report_data import report_data

MONTH, DAY = "2026-11-01", "2026-11-28"  # NOW is 2026-11-28 12:00: November's whole days, and today apart
WORKSPACES = {SUPPORT: "Support agent", RESEARCH: "Research lab", BATCH: "Nightly batch", None: "Default Workspace"}
CACHE_WRITES = ["cache_creation.ephemeral_5m_input_tokens", "cache_creation.ephemeral_1h_input_tokens"]


def cents(value: float | Decimal) -> int:
    return round(Decimal(str(value)) * 100)


def clients() -> list[uf.Client]:
    return [uf.Client.fake(), uf.Client.fake(provider="anthropic")]


@pytest.fixture(scope="module")
def truth() -> FakeOrganization:
    return FakeOrganization(now=NOW)


@pytest.fixture(scope="module")
def anthropic() -> dict:
    return report_data(uf.Client.fake(provider="anthropic"))


@pytest.fixture(scope="module")
def both() -> dict:
    return report_data(clients())


def card(data: dict, name: str) -> dict:
    return {c["name"]: c for c in data["cards"]}[name]


# --- one provider: Anthropic -------------------------------------------------------------------------------------


def test_anthropic__the_cards_are_the_fake_s_ground_truth_in_dollars(anthropic, truth):
    assert anthropic["title"] == "Anthropic spend report: November 2026" and anthropic["provider"] == "anthropic"
    assert anthropic["period"] == {"start": "2026-11-01T00:00:00Z", "end": "2026-11-28T00:00:00Z", "days": 27}
    # Dollars, not the report's cents (the 100x trap): each card is the exact total, rounded once.
    assert cents(card(anthropic, "spend")["value"]) == cents(truth.total("costs", "amount", MONTH, DAY))
    assert cents(card(anthropic, "previous")["value"]) == cents(truth.total("costs", "amount", "2026-10-01",
                                                                            "2026-10-28"))  # fmt: skip
    spend = truth.total("costs", "amount", MONTH, DAY)
    so_far = truth.total("costs", "amount", DAY, NOW)
    assert cents(card(anthropic, "today")["value"]) == cents(spend + so_far) - cents(spend)
    forecast = card(anthropic, "forecast")
    assert forecast["label"] == "Projected November 2026" and forecast["value"] > card(anthropic, "spend")["value"]
    assert cents(forecast["month_to_date"]) == cents(spend + so_far)


def test_anthropic__spend_by_workspace_is_the_ground_truth_with_the_default_workspace_named(anthropic, truth):
    rows = {row["project_id"]: row for row in anthropic["tables"]["by_project"]}
    assert set(rows) == {SUPPORT, RESEARCH, BATCH, "default"}  # the null workspace, as ops.combine names it
    for workspace, name in WORKSPACES.items():
        row = rows[workspace or "default"]
        assert row["project"] == name
        # Whole cents that add up to the headline: each within a cent of its exact total.
        spent = truth.total("costs", "amount", MONTH, DAY, workspace_id=workspace)
        assert abs(cents(row["amount"]) - cents(spent)) <= 1
        before = truth.total("costs", "amount", "2026-10-01", "2026-10-28", workspace_id=workspace)
        assert abs(cents(row["previous"]) - cents(before)) <= 1
    assert sum(cents(r["amount"]) for r in rows.values()) == cents(card(anthropic, "spend")["value"])


def test_anthropic__the_bill_tables_read_its_descriptions_and_add_up_to_the_headline(anthropic, truth):
    tables, headline = anthropic["tables"], cents(card(anthropic, "spend")["value"])
    for name in ("by_line_item", "by_model", "by_token_kind"):
        assert sum(cents(r["amount"]) for r in tables[name]) == headline, name
    models = {r["model"]: r["amount"] for r in tables["by_model"]}
    for model in ("claude-sonnet-4-5-20250929", "claude-opus-4-6", "claude-haiku-4-5-20251001"):
        assert abs(cents(models[model]) - cents(truth.total("costs", "amount", MONTH, DAY, model=model))) <= 1
    tools = truth.total("costs", "amount", MONTH, DAY, cost_type=["web_search", "code_execution"])
    assert abs(cents(models["Tools and storage (no model)"]) - cents(tools)) <= 1
    kinds = {r["billed_as"]: r["amount"] for r in tables["by_token_kind"]}
    writes = truth.total("costs", "amount", MONTH, DAY, token_type=CACHE_WRITES, context_window="0-200k")
    long_writes = truth.total("costs", "amount", MONTH, DAY, token_type=CACHE_WRITES, context_window="200k-1M")
    assert abs(cents(kinds["text cache writes"]) - cents(writes)) <= 1
    assert abs(cents(kinds["text cache writes, long context"]) - cents(long_writes)) <= 1
    items = {r["line_item"]: r["amount"] for r in tables["by_line_item"]}
    assert "Web Search Usage" in items and items["Web Search Usage"] == pytest.approx(
        float(truth.total("costs", "amount", MONTH, DAY, description="Web Search Usage")), abs=0.01)


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_bill_tables__a_row_for_the_rest_is_its_rows_total_rounded_once(provider):
    """The Anthropic sample's rows of no model showed $344.56 by model and $344.55 by token kind (exact 344.557)."""
    client = uf.Client.sample(provider=provider)
    data = report_data(client)
    period = data["period"]["start"], data["period"]["end"]
    items = ops.split_line_items(client.costs(*period, group_by=client.provider.bill.key))
    tokens = items["kind"].isin(["input", "cached input", "cache writes", "output"]).fillna(False).astype(bool)
    models = {r["model"]: r["amount"] for r in data["tables"]["by_model"]}
    kinds = {r["billed_as"]: r["amount"] for r in data["tables"]["by_token_kind"]}
    none = items["model"].isna().to_numpy(bool)
    no_model, not_tokens = items.loc[none, "amount"], items.loc[~tokens, "amount"]
    assert cents(models["Tools and storage (no model)"]) == total_cents(no_model)
    assert cents(kinds["Other line items (not tokens)"]) == total_cents(not_tokens)
    if provider == "anthropic":  # the same rows: the same amount in both tables
        assert (none == ~tokens).all() and total_cents(no_model) == 34456
    headline = cents(card(data, "spend")["value"])
    for name in ("by_line_item", "by_model", "by_token_kind"):
        assert sum(cents(r["amount"]) for r in data["tables"][name]) == headline, name


def test_anthropic__the_page_is_the_provider_s_with_its_tokens_and_no_spend_guards():
    page = spend_report(uf.Client.fake(provider="anthropic"))
    assert "<title>Anthropic spend report: November 2026</title>" in page
    for heading in ("Month to date and forecast", "Spend by project", "Spend by line item and model", "Tokens"):
        assert f"<h2>{heading}</h2>" in page
    assert "Messages input, by how it was served, and output, per day." in page
    assert "<td>Default Workspace</td>" in page and "<td>Support agent</td>" in page
    assert page.count("<img") == 4


def test_token_mix__draws_anthropic_messages_by_how_input_was_served():
    usage = uf.Client.fake(provider="anthropic").messages("2026-10-01", "2026-10-15")
    with plot.off_screen():
        ax = plot.token_mix(usage)  # refused as "a messages frame" before
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "input, uncached", "input, cached", "input, cache write", "output"]  # fmt: skip
    top = ax.collections[-1].get_paths()[0].vertices[:, 1].max()  # the stack's top: every token of a day
    cats = ops.token_categories(usage).sum(axis=1).groupby(level=0).sum()
    assert top == pytest.approx(float(cats.max()))


# --- several providers -------------------------------------------------------------------------------------------


def exact(start: str, end: object) -> Decimal:
    """Both fake organizations' bill of ``[start, end)``, summed exactly (the decimals each API sent)."""
    costs = uf.Client.fake().costs(start, end, group_by="project_id")
    return exact_total(costs["amount"]) + FakeOrganization(now=NOW).total("costs", "amount", start, end)


def test_both__the_total_is_the_providers_bill_rounded_once(both):
    openai, anthropic = report_data(uf.Client.fake()), report_data(uf.Client.fake(provider="anthropic"))
    assert both["title"] == "AI spend report: November 2026"
    assert both["period"] == openai["period"] == anthropic["period"]
    # Rounded once, not the sum of the providers' rounded cards (which said $6,465.05 for $6,465.0579).
    spend, before = exact(MONTH, DAY), exact("2026-10-01", "2026-10-28")
    assert cents(card(both, "spend")["value"]) == cents(spend)
    assert cents(card(both, "previous")["value"]) == cents(before)
    assert cents(card(both, "today")["value"]) == cents(spend + exact(DAY, NOW)) - cents(spend)
    for name in ("spend", "previous", "today"):  # within a cent of the providers' own cards
        assert abs(cents(card(both, name)["value"]) - cents(card(openai, name)["value"]) - cents(
            card(anthropic, name)["value"])) <= 1, name  # fmt: skip
    forecast = card(both, "forecast")  # the forecast of the one bill: check's (not the sum of two forecasts)
    assert forecast["label"] == "Projected November 2026" and forecast["value"] > card(both, "spend")["value"]
    assert forecast["note"].startswith("the whole month of the providers' bill together (as check --provider all "
                                       "gives it), from a fit on the settled days ")
    spend, previous = card(both, "spend")["value"], card(both, "previous")["value"]
    assert card(both, "change_pct")["value"] == round((spend / previous - 1) * 100, 1)
    rows = both["tables"]["by_provider"]
    assert [r["provider"] for r in rows] == ["anthropic", "openai"]  # the larger spend first
    assert sum(cents(r["amount"]) for r in rows) == cents(spend)
    assert sum(cents(r["previous"]) for r in rows) == cents(previous)
    for row in rows:  # each within a cent of its provider's card
        own = {"openai": openai, "anthropic": anthropic}[row["provider"]]
        assert abs(cents(row["amount"]) - cents(card(own, "spend")["value"])) <= 1


def test_both__each_provider_s_section_is_its_one_client_report(both):
    assert both["providers"] == {"openai": report_data(uf.Client.fake()),
                                 "anthropic": report_data(uf.Client.fake(provider="anthropic"))}  # fmt: skip


def test_both__by_project_spans_projects_and_workspaces(both):
    rows = both["tables"]["by_project"]
    assert {(r["provider"], r["project_id"]) for r in rows} == {
        *(("openai", p) for p in ("proj_chat", "proj_search", "proj_lab", "proj_batch")),
        *(("anthropic", w or "default") for w in WORKSPACES)}  # fmt: skip
    assert sum(cents(r["amount"]) for r in rows) == cents(card(both, "spend")["value"])
    assert [r["amount"] for r in rows] == sorted((r["amount"] for r in rows), reverse=True)
    assert sum(r["share_pct"] for r in rows) == pytest.approx(100, abs=0.05 * len(rows))
    assert sum(r["share_of_change_pct"] for r in rows) == pytest.approx(100, abs=0.05 * len(rows))
    for name, section in both["providers"].items():  # each provider's rows, as its own report has them
        own = {r["project_id"]: r for r in section["tables"]["by_project"]}
        for row in (r for r in rows if r["provider"] == name):
            mine = own[row["project_id"]]
            assert (row["project"], row["change_pct"]) == (mine["project"], mine["change_pct"])
            for column in ("amount", "previous"):  # whole cents of the combined bill: within a cent of its own
                assert abs(cents(row[column]) - cents(mine[column])) <= 1, (row, column)
            assert cents(row["change"]) == cents(row["amount"]) - cents(row["previous"])


@pytest.mark.parametrize("source", ["sample", "fake"])
def test_both__each_provider_s_projects_add_up_to_its_row_and_match_its_section_where_that_row_does(source):
    """by_project splits each provider's by_provider cents among its projects (a provider's rows disagreed with its
    row by a cent, and an OpenAI project with its own section, when the combined bill's cents were split at once)."""
    both = report_data([getattr(uf.Client, source)(provider=name) for name in ("openai", "anthropic")])
    for row in both["tables"]["by_provider"]:
        mine = [r for r in both["tables"]["by_project"] if r["provider"] == row["provider"]]
        for column in ("amount", "previous"):
            assert sum(cents(r[column]) for r in mine) == cents(row[column]), (row["provider"], column)
        section = both["providers"][row["provider"]]
        if cents(row["amount"]) == cents(card(section, "spend")["value"]):
            own = {r["project_id"]: r["amount"] for r in section["tables"]["by_project"]}
            assert {r["project_id"]: r["amount"] for r in mine} == own, row["provider"]


def test_both__one_period_as_of_the_last_midnight_both_reached_when_their_clocks_differ():
    late = uf.Client.fake(provider="anthropic", now="2026-12-02 09:00")
    data = report_data([uf.Client.fake(), late])  # OpenAI's clock: NOW, 2026-11-28 12:00
    assert data["as_of"] == "2026-11-28T00:00:00Z" and data["period"]["end"] == "2026-11-28T00:00:00Z"
    assert data["rule"].startswith("The providers' data are as of different times (OpenAI 2026-11-28 12:00 UTC, "
                                   "Anthropic 2026-12-02 09:00 UTC): every figure is as of 2026-11-28 00:00 UTC")
    assert "today" not in {c["name"] for c in data["cards"]}  # no day cut where one provider's data stop
    # Each section is its provider's report as of that time: the figures of a client whose clock is then.
    for name in ("openai", "anthropic"):
        assert data["providers"][name] == report_data(uf.Client.fake(provider=name, now="2026-11-28")), name
    assert "different times" not in report_data(clients())["rule"]


def test_both__a_provider_without_a_forecast_of_its_own_adds_nothing_to_the_bill_s():
    idle = uf.Client.fake(FakeOrganization(streams=()), provider="anthropic")  # no traffic: nothing to fit
    data, openai = report_data([uf.Client.fake(), idle]), report_data(uf.Client.fake())
    assert card(data["providers"]["anthropic"], "forecast") == {**card(data["providers"]["anthropic"], "forecast"),
        "value": None, "note": "Too few settled days for a forecast: 0 (it needs 7)."}  # fmt: skip
    for name in ("spend", "forecast"):  # the bill of both is OpenAI's: its figures
        assert card(data, name)["value"] == card(openai, name)["value"], name
    assert [r["amount"] for r in data["tables"]["by_provider"]][-1] == 0.0
    page = spend_report([uf.Client.fake(), idle])  # a provider with no spend has its section all the same
    assert '<h2 id="provider-anthropic">Anthropic</h2>' in page and "Too few settled days for a forecast" in page


def test_both__no_forecast_of_the_bill_says_why():
    data = report_data([uf.Client.fake(OpenAIOrganization(streams=())),
                        uf.Client.fake(FakeOrganization(streams=()), provider="anthropic")])  # fmt: skip
    forecast = card(data, "forecast")
    assert forecast["value"] is None and forecast["note"].startswith("Too few settled days for a forecast: ")


def test_both__one_client_per_provider():
    with pytest.raises(uf.InvalidParameterError, match="'openai, openai' must be of different providers"):
        report_data([uf.Client.fake(), uf.Client.fake()])
    with pytest.raises(uf.InvalidParameterError, match="must be a Client or a sequence of Clients"):
        report_data([])


def test_both__the_page_has_the_overview_then_each_provider_s_section():
    page = spend_report(clients())
    text = re.sub(r"<img[^>]*>", "", page)
    assert "<title>AI spend report: November 2026</title>" in page
    headings = re.findall(r"<h2[^>]*>(.*?)</h2>", text)
    assert headings == ["All providers", "OpenAI", "Anthropic"]
    assert '<h2 id="provider-openai">OpenAI</h2>' in page and '<h2 id="provider-anthropic">Anthropic</h2>' in page
    assert text.count("<h3>Spend by project</h3>") == 2 and text.count("<h3>Tokens</h3>") == 2
    assert 'alt="Spend per day by provider"' in page
    overview = text.split('<h2 id="provider-openai">')[0]
    headline = dollars(re.search(r'<div class="label">Spend</div><div class="value">([^<]+)</div>', overview)[1])
    assert headline == cents(card(report_data(clients()), "spend")["value"])
    money = tables_of(overview)
    assert len(money) == 2 and "<th>Provider</th>" in money[0] and "<th>Project</th>" in money[1]
    for table in money:  # by provider, by project across providers: rows and total are the headline
        column = re.findall(r"<th>(.*?)</th>", table).index("Spend")
        (total,) = cells(table, ' class="total"')
        assert total[0] == "Total" and dollars(total[column]) == headline
        assert sum(dollars(row[column]) for row in cells(table) if row) == headline
    assert "<td>Anthropic</td>" in overview and "<td>Default Workspace</td>" in overview


def test_top_n__keeps_the_rows_of_a_combined_bill_whose_other_keys_are_empty():
    bill = ops.combine(uf.Client.fake().costs("2026-10-01", "2026-10-08", group_by="project_id"),
                       uf.Client.fake(provider="anthropic").costs("2026-10-01", "2026-10-08", group_by="workspace_id"))
    folded = ops.top_n(bill, 6, by="provider")  # its project names and models are empty: dropped, every dollar
    assert cents(folded["amount"].sum()) == cents(bill["amount"].sum()) > 0
    with plot.off_screen():
        assert len(plot.spend(bill, by="provider").patches) == 14  # 7 days, 2 providers


# --- the command ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("source", ["--sample", "--fake"])
def test_cli__all_providers_one_headline_and_one_forecast_as_focus_allocate_and_check_say(source, tmp_path, capsys):
    """The report that said $6,465.05 (each provider rounded first) and a forecast of $9,939.43 (the sum of two
    forecasts) where FOCUS, allocate and check said $6,465.06 and $9,938.72."""
    data = report_json(tmp_path, source, "--provider", "all")
    cards = {c["name"]: c for c in data["cards"]}
    spend = cents(cards["spend"]["value"])
    start, end = data["period"]["start"][:10], data["period"]["end"][:10]
    window = [source, "--provider", "all", "--start", start, "--end", end]
    focus, statement, rules = tmp_path / "focus.csv", tmp_path / "statement.csv", tmp_path / "rules.toml"
    assert main(["export", "focus", *window, "-o", str(focus)]) == 0
    rules.write_text('[[team]]\nname = "search"\nproject_ids = ["proj_search"]\n')
    assert main(["allocate", *window, "--rules", str(rules), "-o", str(statement)]) == 0
    billed = exact_total(pd.read_csv(focus, dtype=str)["BilledCost"])
    assert spend == cents(billed) == total_cents(pd.read_csv(statement, dtype=str)["amount"])
    for name in ("by_provider", "by_project"):  # every table of the overview adds up to that headline
        assert sum(cents(r["amount"]) for r in data["tables"][name]) == spend, name
    previous = cents(cards["previous"]["value"])
    assert sum(cents(r["previous"]) for r in data["tables"]["by_project"]) == previous
    assert all(cents(r["change"]) == cents(r["amount"]) - cents(r["previous"]) for r in data["tables"]["by_project"])
    month_to_date, forecast = check_says(tmp_path, capsys, source, "--provider", "all")  # an org-wide budget
    assert data["period"]["start"][8:10] == "01"  # a month to date: check counts the same days
    today = cents(cards["today"]["value"]) if "today" in cards else 0
    assert spend + today == cents(month_to_date)  # the period is the month to date, and today apart
    assert cards["forecast"]["value"] == forecast and cards["forecast"]["month_to_date"] == month_to_date


def test_cli__report_fake_all_as_json_in_a_subprocess_with_stdin_closed(tmp_path):
    result = run("report", "--fake", "--provider", "all", "-o", "x.json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "wrote the spend report's figures (OpenAI, Anthropic) to x.json\n"
    data = json.loads((tmp_path / "x.json").read_text())
    assert data == report_data(clients())  # on the suite's clock, as the subprocess is
    default = run("report", "--fake", "-o", "y.json", cwd=tmp_path)  # every provider, as with --provider all
    assert default.returncode == 0 and json.loads((tmp_path / "y.json").read_text()) == data
    one = run("report", "--fake", "--provider", "anthropic", "-o", "z.json", cwd=tmp_path, env=pinned_env())
    assert one.returncode == 0 and one.stdout == "wrote the spend report's figures to z.json\n"
    assert json.loads((tmp_path / "z.json").read_text()) == report_data(uf.Client.fake(provider="anthropic"))


@pytest.fixture
def live_both(secret_key, server, monkeypatch):
    """Both providers live, each on a fake server over HTTP, their admin keys in the environment."""
    anthropic_key = "sk-ant-admin01-" + secrets.token_urlsafe(32)
    with FakeServer(FakeAPI(fake_organization("anthropic"))) as other:
        monkeypatch.setenv("OPENAI_ADMIN_KEY", secret_key)
        monkeypatch.setenv("OPENAI_BASE_URL", server.url)
        monkeypatch.setenv("ANTHROPIC_ADMIN_KEY", anthropic_key)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", other.url)
        yield secret_key, anthropic_key


@pytest.mark.parametrize("suffix", [".json", ".html"])
def test_cli__with_both_keys_reports_both_and_shows_neither_key(live_both, tmp_path, capsys, suffix):
    path = tmp_path / f"r{suffix}"
    assert main(["report", "-o", str(path)]) == 0
    written, said = path.read_text(), capsys.readouterr()
    for key in live_both:
        assert key not in written and key not in said.out + said.err
    assert not re.search(r"sk-(ant-)?admin", written)
    if suffix == ".json":
        data = json.loads(written)
        assert list(data["providers"]) == ["openai", "anthropic"] and data["source"] == "live"
    else:
        assert '<h2 id="provider-anthropic">Anthropic</h2>' in written and "live organization at http" in written


def test_cli__one_base_url_for_several_providers_is_refused(live_both, tmp_path, capsys):
    assert main(["report", "--base-url", "http://127.0.0.1:9", "-o", str(tmp_path / "r.json")]) == 2
    assert "--base-url is one API root: name its provider with --provider" in capsys.readouterr().err
