"""The spend report: one self-contained HTML file from the sample data, right numbers, no key."""

from __future__ import annotations

import re

import pytest
from conftest import SECRET_KEY

from usage_frames.cli import main
from usage_frames.sample import SAMPLE_NOW


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "r.html"
    assert main(["report", "--sample", "-o", str(path)]) == 0
    return path.read_text()


def test_report__is_self_contained_with_plots_and_tables(report):
    assert report.startswith("<!DOCTYPE html>")
    images = re.findall(r'<img alt="[^"]*" src="data:image/png;base64,[A-Za-z0-9+/=]{1000,}">', report)
    assert len(images) >= 4
    assert report.count("<table") >= 4
    assert not re.search(r'(src|href)="https?://', report)  # nothing loaded from elsewhere


def test_report__says_what_it_shows(report):
    assert "<title>OpenAI spend report: October 2026</title>" in report
    assert "Period 2026-10-01 00:00 to 2026-10-21 00:00 UTC" in report
    assert "embedded sample data" in report and "generated 20" in report
    for heading in ("Month to date and forecast", "Spend by project", "Spend by line item and model", "Unusual days"):
        assert f"<h2>{heading}</h2>" in report


def test_report__spend_matches_the_fake_organization(report, org):
    truth = org.total("costs", "amount", "2026-10-01", SAMPLE_NOW)
    assert f"${truth:,.2f}" in report
    assert "Search &amp; RAG" in report  # project names from the organization's list


def test_report__live_with_a_key_never_contains_it(server, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("OPENAI_ADMIN_KEY", SECRET_KEY)
    path = tmp_path / "live.html"
    assert main(["report", "--base-url", server.url, "-o", str(path)]) == 0
    text = path.read_text()
    assert "live organization" in text and SECRET_KEY not in text
    assert SECRET_KEY not in capsys.readouterr().out
