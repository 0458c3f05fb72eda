"""The spend report: one self-contained HTML file from the sample data, right numbers, no key."""

from __future__ import annotations

import re

import pandas as pd
import pytest

import usage_frames as uf
from usage_frames.cli import main
from usage_frames.report import spend_report
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


def test_report__live_with_a_key_never_contains_it(secret_key, server, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("OPENAI_ADMIN_KEY", secret_key)
    path = tmp_path / "live.html"
    assert main(["report", "--base-url", server.url, "-o", str(path)]) == 0
    text = path.read_text()
    assert "live organization" in text and secret_key not in text
    assert secret_key not in capsys.readouterr().out


# --- issue 10: every section follows --start/--end; early in a month, words instead of placeholders ------------


def visible(page: str) -> str:
    """The report's text without its embedded pictures (base64 can contain any letters)."""
    return re.sub(r"<img[^>]*>", "", page)


def assert_no_placeholders(page: str) -> None:
    text = visible(page)
    for placeholder in ("&lt;NA&gt;", "<NA>", "NaN", ">nan<", "$0.00"):
        assert placeholder not in text, placeholder


def test_report__a_past_month_shows_that_month_only(tmp_path, org):
    path = tmp_path / "september.html"
    assert main(["report", "--sample", "--start", "2026-09-01", "--end", "2026-10-01", "-o", str(path)]) == 0
    page = path.read_text()
    assert "<title>OpenAI spend report: September 2026</title>" in page
    assert "October 2026" not in visible(page)  # no October chart, no October projection
    assert "Projected" not in page and "month to date and forecast" not in page
    assert f"${org.total('costs', 'amount', '2026-09-01', '2026-10-01'):,.2f}" in page
    assert f"${org.total('costs', 'amount', '2026-08-01', '2026-09-01'):,.2f}" in page  # the previous month
    assert "Aug 01 to Aug 31 2026" in page  # ... with its dates
    assert_no_placeholders(page)


def test_report__a_month_in_progress_compares_the_same_days_and_projects_the_month(org):
    page = spend_report(uf.Client.sample())
    assert f"${org.total('costs', 'amount', '2026-09-01', '2026-09-21'):,.2f}" in page  # Sep 1-20, same days
    assert "Sep 01 to Sep 20 2026" in page
    assert f"${org.total('costs', 'amount', '2026-09-01', '2026-10-01'):,.2f}" in page  # September complete
    assert "Projected October 2026" in page and 'alt="October 2026: month to date and forecast"' in page
    for billed in ("text cache writes", "audio input", "image cached input"):  # line items as bills name them
        assert f"<th>{billed}</th>" in page
    assert_no_placeholders(page)


def test_report__on_the_first_of_a_month_shows_the_previous_month_and_says_why_no_change(org):
    client = uf.Client.fake(now=pd.Timestamp("2026-11-01 06:00", tz="UTC"))
    page = spend_report(client)
    assert "<title>OpenAI spend report: November 2026</title>" in page
    assert "the month&#x27;s first day is still in progress" in page or "first day is still in progress" in page
    assert f"${org.total('costs', 'amount', '2026-10-01', '2026-11-01'):,.2f}" in page  # October, complete
    assert "Oct 01 to Oct 31 2026" in page
    assert "Daily spend from October 01" in page  # the charts show October next to the month so far
    assert_no_placeholders(page)


def test_report__too_few_settled_days_is_said_in_words():
    client = uf.Client.fake(now=pd.Timestamp("2025-06-05 12:00", tz="UTC"))  # the fake organization began June 1
    page = spend_report(client)
    assert "Too few settled days for a forecast: 3 (it needs 7)." in page
    assert "Projected" not in page
    assert_no_placeholders(page)


def test_report__a_one_day_period_draws_tokens_per_hour():
    page = spend_report(uf.Client.sample(), "2026-10-14", "2026-10-15")
    assert "<title>OpenAI spend report: October 2026</title>" in page
    assert "output, per hour." in page and 'alt="Token mix' in page
    assert_no_placeholders(page)


def test_report__each_figure_is_drawn_once(monkeypatch):
    from matplotlib.figure import Figure

    draws: list[Figure] = []
    original = Figure.draw

    def counted(self, renderer):
        draws.append(self)
        return original(self, renderer)

    monkeypatch.setattr(Figure, "draw", counted)
    html = spend_report(uf.Client.sample())
    images = html.count("<img")
    assert images >= 4
    assert len(draws) == images == len(set(map(id, draws)))  # bbox_inches="tight" drew each figure twice


def test_report__a_figure_is_the_picture_bbox_inches_tight_makes():
    import io

    import numpy as np
    from matplotlib.image import imread

    from usage_frames import plot
    from usage_frames.report import _save

    costs = uf.Client.sample().costs("2026-09-01", "2026-10-21", group_by="project_id")
    ours, tight = io.BytesIO(), io.BytesIO()
    _save(plot.spend(costs, by="project_id").figure, ours, dpi=110)
    plot.spend(costs, by="project_id").figure.savefig(tight, format="png", dpi=110, bbox_inches="tight")
    a, b = (imread(io.BytesIO(png.getvalue()))[..., :3] for png in (ours, tight))
    assert abs(a.shape[0] - b.shape[0]) <= 3 and abs(a.shape[1] - b.shape[1]) <= 3  # cropped the same way
    # The same picture, up to where a pixel edge falls: the same colours, seen at 1/16 of the size.
    rows, cols = (min(a.shape[i], b.shape[i]) // 16 * 16 for i in (0, 1))

    def coarse(image):
        return image[:rows, :cols].reshape(rows // 16, 16, cols // 16, 16, 3).mean(axis=(1, 3))

    assert np.abs(coarse(a) - coarse(b)).mean() < 0.01
    assert np.abs(coarse(a) - coarse(np.ones_like(a))).mean() > 0.1  # and not a blank one
