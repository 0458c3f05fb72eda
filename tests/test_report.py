"""The spend report: one self-contained HTML file from the sample data, right numbers, no key."""

from __future__ import annotations

import base64
import gc
import io
import re
import subprocess
import sys

import matplotlib
import numpy as np
import pandas as pd
import pytest

import usage_frames as uf
from usage_frames.cli import main
from usage_frames.providers.openai.sample import SAMPLE_NOW
from usage_frames.report import spend_report


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "r.html"
    assert main(["report", "--sample", "--provider", "openai", "-o", str(path)]) == 0
    return path.read_text()


def test_report__is_self_contained_with_plots_and_tables(report):
    assert report.startswith("<!DOCTYPE html>")
    images = re.findall(r'<img alt="([^"]*)" src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]{1000,})">', report)
    assert len(images) >= 4
    for alt, data in images:  # each picture is an SVG that shows the title its alt text gives
        picture = base64.b64decode(data).decode()
        assert picture.startswith("<?xml") and "<svg" in picture and picture.rstrip().endswith("</svg>")
        assert f">{alt}</text>" in picture.replace("&amp;", "&")
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
    argv = ["report", "--sample", "--provider", "openai", "--start", "2026-09-01", "--end", "2026-10-01"]
    assert main([*argv, "-o", str(path)]) == 0
    page = path.read_text()
    assert "<title>OpenAI spend report: September 2026</title>" in page
    assert "October 2026" not in visible(page)  # no October chart, no October projection
    assert "Projected" not in page and "month to date and forecast" not in page
    assert f"${org.total('costs', 'amount', '2026-09-01', '2026-10-01'):,.2f}" in page
    # Compared with as many days: September's 30 against August 1 to 30, with their dates.
    assert f"${org.total('costs', 'amount', '2026-08-01', '2026-08-31'):,.2f}" in page
    assert "Same days last month" in page and "Aug 01 to Aug 30 2026" in page
    assert_no_placeholders(page)


def test_report__a_month_in_progress_compares_the_same_days_and_projects_the_month(org):
    page = spend_report(uf.Client.sample())
    assert f"${org.total('costs', 'amount', '2026-09-01', '2026-09-21'):,.2f}" in page  # Sep 1-20, same days
    assert "Sep 01 to Sep 20 2026" in page
    assert "Projected October 2026" in page and 'alt="October 2026: month to date and forecast"' in page
    for billed in ("text cache writes", "audio input", "image cached input"):  # line items as bills name them
        assert f"<td>{billed}</td>" in page
    assert_no_placeholders(page)


def test_report__on_the_first_of_a_month_shows_the_previous_month_and_today_apart(org):
    client = uf.Client.fake(now=pd.Timestamp("2026-11-01 06:00", tz="UTC"))
    page = spend_report(client)
    assert "<title>OpenAI spend report: October 2026</title>" in page
    assert "November 2026 has no whole day yet: the period is October 2026, complete." in page
    assert f"${org.total('costs', 'amount', '2026-10-01', '2026-11-01'):,.2f}" in page  # October, complete
    assert "Oct 01 to Oct 31 2026" in page
    assert "Today so far" in page and "Nov 01, to 06:00 UTC: in no other figure" in page
    assert "Projected November 2026" in page
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


def report_figures():
    """The report's four plots of the sample month, drawn as the report draws them (off screen)."""
    from usage_frames import plot

    client = uf.Client.sample()
    history = client.costs("2026-09-01", SAMPLE_NOW, group_by="project_id")
    with plot.off_screen():
        return [
            plot.month_to_date(history, alerts=[1500, 2500], limit=4000, now=SAMPLE_NOW),
            plot.spend(history[history.index >= "2026-10-01"], by="project_id"),
            plot.top(client.costs("2026-10-01", SAMPLE_NOW, group_by="line_item"), by="line_item", n=10),
            plot.token_mix(client.completions("2026-10-01", SAMPLE_NOW, group_by=["project_id", "model"])),
        ]


def test_report__a_figure_is_drawn_once_into_its_picture():
    from usage_frames.report import _figure

    for ax in report_figures():
        draws: list[object] = []
        ax.figure.canvas.mpl_connect("draw_event", draws.append)  # matplotlib's own signal, once per drawing
        tag = _figure(ax)
        assert len(draws) == 1, ax.get_title()
        assert tag.startswith(f'<img alt="{ax.get_title()}" src="data:image/svg+xml;base64,')


def svg_frame(picture: bytes) -> tuple[float, float, int]:
    """Width and height in points of an SVG matplotlib wrote, and how many texts it shows."""
    root = re.search(rb'<svg [^>]*width="([\d.]+)(pt|px)" height="([\d.]+)(pt|px)"', picture)
    assert root is not None
    points = 1.0 if root[2] == b"pt" else 72 / 110  # the report gives its pictures' size in pixels at 110 dpi
    return float(root[1]) * points, float(root[3]) * points, picture.count(b"<text")


def test_report__a_picture_is_cropped_where_bbox_inches_tight_crops():
    from usage_frames.report import _svg

    for ax in report_figures():
        tight = io.BytesIO()
        with matplotlib.rc_context({"svg.fonttype": "none"}):  # texts as text, as in ours
            ax.figure.savefig(tight, format="svg", bbox_inches="tight")  # draws twice: the reference
        ours = _svg(ax.figure)
        (width, height, texts), (tight_width, tight_height, tight_texts) = svg_frame(ours), svg_frame(tight.getvalue())
        # The top chart's long line item names stick out of the figure: kept, as bbox_inches="tight" keeps them.
        assert abs(width - tight_width) <= 1 and abs(height - tight_height) <= 1, ax.get_title()
        assert texts == tight_texts > 10


def test_report__a_png_is_the_picture_bbox_inches_tight_makes():
    from matplotlib.image import imread

    from usage_frames import plot
    from usage_frames.report import _save

    costs = uf.Client.sample().costs("2026-09-01", "2026-10-21", group_by="project_id")
    ours, tight = io.BytesIO(), io.BytesIO()
    with plot.off_screen():
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


def test_report__the_command_never_imports_pyplot(tmp_path):
    code = (
        "import gc, sys\n"
        "from usage_frames.cli import main\n"
        "sys.argv = ['usage-frames', 'report', '--sample', '-o', sys.argv[1]]\n"
        "assert main() == 0\n"  # as the console script calls it
        "print(sorted(m for m in sys.modules if m.startswith('matplotlib.pyplot')), gc.get_freeze_count() > 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path / "r.html")], capture_output=True, text=True,
                            check=True)  # fmt: skip
    # No pyplot: no global figure list, no backend chosen; the command's process froze what its imports made.
    assert result.stdout.strip().splitlines()[-1] == "[] True"
    assert "<img" in (tmp_path / "r.html").read_text()


def test_report__pictures_are_written_as_png_off_screen(tmp_path):
    import matplotlib.pyplot as plt

    from usage_frames.report import save_pictures

    before = plt.get_fignums()
    names = save_pictures(uf.Client.sample(), tmp_path)
    assert names and all((tmp_path / n).read_bytes().startswith(b"\x89PNG") for n in names)
    assert plt.get_fignums() == before  # nothing left open in pyplot


def test_cli__a_call_with_arguments_leaves_the_garbage_collector_alone(tmp_path):
    # Only the command's own process (main() without arguments) freezes what its imports made; a caller's does not.
    frozen = gc.get_freeze_count()
    assert main(["report", "--sample", "-o", str(tmp_path / "r.html")]) == 0
    assert gc.get_freeze_count() == frozen


# --- issue 19: tables for finance readers; the page is drawn from report_data; every figure the same days ----------


def tables_of(page: str) -> list[str]:
    return re.findall(r"<table>.*?</table>", visible(page), flags=re.S)


def cells(table: str, css: str = "") -> list[list[str]]:
    rows = re.findall(rf"<tr{css}>(.*?)</tr>", table.split("<tbody>")[1], flags=re.S)
    return [re.findall(r"<td>(.*?)</td>", row) for row in rows]


def dollars(text: str) -> int:
    """'$1,412.95' or '-$0.96' in cents."""
    return round(float(text.replace("$", "").replace(",", "")) * 100)


def test_report__tables_speak_to_finance_readers(report):
    text = visible(report)
    for raw in ("change_pct", "contribution_pct", "share_pct", "<th>z</th>", "<th>amount</th>", "<th>spend</th>"):
        assert raw not in text, raw  # column names of code, not of people
    heads = re.findall(r"<thead>(.*?)</thead>", text, flags=re.S)
    assert heads and all(head.count("<tr>") == 1 for head in heads)  # no stray row holding only the index name
    for label in ("<th>Change</th>", "<th>Share of change</th>", "<th>Share</th>", "<th>Same days last month</th>"):
        assert label in text, label
    assert "display: grid" in report  # the cards as a grid


def test_report__every_money_table_has_a_total_that_is_the_headline(report):
    headline = dollars(re.search(r'<div class="label">Spend</div><div class="value">([^<]+)</div>', report)[1])
    money = [t for t in tables_of(report) if "<th>Spend</th>" in t and "Robust z-score" not in t]
    assert len(money) == 4  # by project, line item, model, token kind
    for table in money:
        column = re.findall(r"<th>(.*?)</th>", table).index("Spend")
        (total,) = cells(table, ' class="total"')
        assert total[0] == "Total" and dollars(total[column]) == headline
        assert sum(dollars(row[column]) for row in cells(table) if row) == headline  # the rows shown add up


def test_report__a_table_cut_to_the_top_10_has_an_other_row_and_its_chart_the_same_n(report):
    (items,) = [t for t in tables_of(report) if "<th>Line item</th>" in t]
    rows = [row for row in cells(items) if row]
    assert "<caption>The top 10 line items, and the others in one row</caption>" in items
    assert len(rows) == 11 and rows[-1][0] == "Other (35 line items)"  # 12 shares summed to 81.6 % before
    assert sum(float(row[2].rstrip("%")) for row in rows) == pytest.approx(100, abs=0.1)
    assert 'alt="Top 10 line_item by amount, and Other (35 line items)"' in report  # not "Top 10" over 12 rows
    (models,) = [t for t in tables_of(report) if "<th>Model</th>" in t]
    assert "<td>Tools and storage (no model)</td>" in models  # the model table summed to $886.69 of $1,412.95


def test_report__at_14_53_every_card_is_drawn_from_the_data_and_the_change_is_explained(monkeypatch):
    client = uf.Client.fake(now=pd.Timestamp("2026-12-07 14:53", tz="UTC"))
    page = spend_report(client)
    cards = re.findall(r'<div class="card"><div class="label">([^<]*)</div><div class="value">([^<]*)</div>', page)
    assert cards == [("Spend", "$407.80"), ("Same days last month", "$463.66"), ("Change", "-12.0%"),
                     ("Today so far", "$55.33"), ("Projected December 2026", "$2,363.10")]  # fmt: skip
    assert "Today (Dec 07) is in progress: its spend to 14:53 UTC is shown apart and counted in no other figure" in page
    (projects,) = [t for t in tables_of(page) if "<th>Share of change</th>" in t]
    assert "Customer chat" in projects and "-$24.50" in projects and "<td>43.9%</td>" in projects
    assert "each project&#x27;s part of the total change, a decrease of $55.86; the column adds up to 100 %" in page
    assert_no_placeholders(page)
