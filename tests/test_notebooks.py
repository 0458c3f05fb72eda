"""The notebooks run top to bottom offline (nbclient, a real kernel), and their key figures match the fake's truth."""

from __future__ import annotations

import ast
import json
import secrets
from decimal import Decimal
from pathlib import Path

import nbformat
import pytest
from conftest import pinned_env
from nbclient import NotebookClient

from usage_frames.fake import FakeAPI, FakeServer
from usage_frames.providers.anthropic import fake as anthropic_fake
from usage_frames.providers.openai.fake import TOKEN_PRICES
from usage_frames.providers.openai.sample import SAMPLE_NOW

NOTEBOOKS = Path(__file__).parent.parent / "notebooks"
NAMES = [
    "01_spend_overview",
    "02_tokens_and_caching",
    "03_unit_economics",
    "04_beyond_completions",
    "05_finops",
    "06_providers",
]
MONTH = ("2026-10-01", SAMPLE_NOW)


def run(name: str) -> nbformat.NotebookNode:
    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    ).execute()
    return notebook


def key_figures(notebook: nbformat.NotebookNode) -> dict:
    return ast.literal_eval(notebook.cells[-1].outputs[0]["data"]["text/plain"])


def all_output(notebook: nbformat.NotebookNode) -> str:
    return json.dumps([cell.get("outputs", []) for cell in notebook.cells])


@pytest.fixture(scope="module")
def executed():
    return {name: run(name) for name in NAMES}


def test_notebooks__are_committed_without_outputs():
    for name in NAMES:
        notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
        code = [c for c in notebook.cells if c.cell_type == "code"]
        assert all(not c.outputs and c.execution_count is None for c in code), name
        assert "parameters" in code[0].metadata.get("tags", []), name


def test_notebooks__say_which_data_they_use(executed):
    for name, notebook in executed.items():
        printed = notebook.cells[2].outputs[0]["text"]
        assert printed.startswith("Data: embedded sample data"), name
        assert "Period: 2026-10-01 to 2026-10-21 00:00 UTC" in printed, name


def test_01_spend_overview__month_to_date_matches_the_truth(executed, org):
    figures = key_figures(executed["01_spend_overview"])
    assert figures["month_to_date"] == pytest.approx(org.total("costs", "amount", *MONTH))
    assert figures["top_project"] == "proj_chat"
    assert figures["projected_total"] > figures["month_to_date"]


def test_02_tokens_and_caching__token_totals_match_the_truth(executed, org):
    figures = key_figures(executed["02_tokens_and_caching"])
    assert figures["input_tokens"] == org.total("completions", "input_tokens", *MONTH)
    assert figures["output_tokens"] == org.total("completions", "output_tokens", *MONTH)
    cached = org.total("completions", "input_cached_tokens", *MONTH)
    assert figures["cached_share_pct"] == pytest.approx(cached / figures["input_tokens"] * 100)


def test_03_unit_economics__recovers_list_prices_where_traffic_is_list_price(executed):
    figures = key_figures(executed["03_unit_economics"])["usd_per_1m_output"]
    assert figures["o3-2025-04-16"] == pytest.approx(TOKEN_PRICES["o3-2025-04-16"][2], rel=0.005)


def test_03_unit_economics__flex_only_spend_is_not_called_unexplained(executed):
    """The text says Batch shows as savings and a flex-only model cannot be priced: the numbers agree."""
    figures = key_figures(executed["03_unit_economics"])["unexplained_usd"]
    text = " ".join(c.source for c in executed["03_unit_economics"].cells if c.cell_type == "markdown")
    assert "flex" in text and "`<NA>`" in text
    assert figures["gpt-4.1-mini-2025-04-14"] is None  # flex only: no list price, not $3.95 "unexplained"
    assert figures["gpt-4o-mini-2024-07-18"] < 0  # Batch: a saving
    assert figures["o3-2025-04-16"] == pytest.approx(0, abs=0.01)  # list price only: fully explained


def test_04_beyond_completions__counts_match_the_truth(executed, org):
    figures = key_figures(executed["04_beyond_completions"])
    assert figures["images"] == org.total("images", "images", *MONTH)
    assert figures["characters"] == org.total("audio_speeches", "characters", *MONTH)
    assert figures["web_search_calls"] == org.total("web_search_calls", "num_requests", *MONTH)


def test_05_finops__statement_budgets_and_export_match_the_truth(executed, org):
    figures = key_figures(executed["05_finops"])
    total = org.total("costs", "amount", *MONTH)
    assert Decimal(repr(figures["allocated_total"])) == Decimal(repr(total)).quantize(Decimal("0.01"))
    search = org.total("costs", "amount", *MONTH, project_id="proj_search")
    assert figures["search_direct"] == pytest.approx(round(search, 2), abs=0.005)
    assert figures["org_month_to_date"] == pytest.approx(total, abs=0.005)
    assert figures["focus_billed"] == pytest.approx(total)
    assert figures["statuses"]["search"] == "over"  # $300 against the search project's month to date
    assert figures["statuses"]["org"] != "over" and search > 300 and total < 2000


def test_06_providers__each_providers_bill_is_its_ground_truth_and_the_sum_is_both(executed, org):
    figures = key_figures(executed["06_providers"])
    anthropic = anthropic_fake.FakeOrganization(now=MONTH[1])
    truth = {"openai": Decimal(repr(org.total("costs", "amount", *MONTH))),
             "anthropic": anthropic.total("costs", "amount", *MONTH)}  # Decimal dollars: the report's cents / 100
    assert truth["openai"] > 0 and truth["anthropic"] > 0
    for name, dollars in truth.items():
        assert Decimal(repr(figures["own_totals"][name])) == dollars.quantize(Decimal("0.01")), name
        assert figures["by_provider"][name] == figures["own_totals"][name], name  # combine keeps each provider's sum
    assert Decimal(repr(figures["total"])) == (truth["openai"] + truth["anthropic"]).quantize(Decimal("0.01"))
    assert figures["output_tokens"] == {"openai": org.total("completions", "output_tokens", *MONTH),
                                        "anthropic": anthropic.total("messages", "output_tokens", *MONTH)}
    read = anthropic.total("messages", "cache_read_input_tokens", *MONTH)
    written = ("cache_creation_ephemeral_5m_input_tokens", "cache_creation_ephemeral_1h_input_tokens")
    inputs = read + sum(anthropic.total("messages", name, *MONTH) for name in ("uncached_input_tokens", *written))
    assert figures["cache_read_pct"]["anthropic"] == round(read / inputs * 100, 1)
    assert figures["top_project"][0] in truth and figures["top_model"][0] in truth


def test_notebooks__live_mode_with_a_key_never_shows_it(secret_key, server, monkeypatch):
    for name, value in pinned_env(OPENAI_ADMIN_KEY=secret_key, OPENAI_BASE_URL=server.url).items():
        monkeypatch.setenv(name, value)  # the kernel is another process: on the suite's clock, as the server is
    anthropic_key = "sk-ant-admin01-" + secrets.token_urlsafe(32)
    with FakeServer(FakeAPI(anthropic_fake.FakeOrganization())) as other:
        for name, value in {"ANTHROPIC_ADMIN_KEY": anthropic_key, "ANTHROPIC_BASE_URL": other.url}.items():
            monkeypatch.setenv(name, value)
        for name in ("01_spend_overview", "03_unit_economics", "05_finops", "06_providers"):
            notebook = run(name)
            text = all_output(notebook)
            assert "Data: live organization" in text
            assert secret_key not in text and anthropic_key not in text
