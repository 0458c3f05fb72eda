"""The ready-made spend report: one self-contained HTML page (plots embedded, no code shown).

The page is drawn from :func:`usage_frames.report_data.report_data`, the report's figures as data (which
``usage-frames report -o report.json`` writes), and its charts from the same frames. It reads one provider, or
several: then an overview (spend by provider, by project across providers) comes first, then each provider's section.
``usage-frames report --sample -o report.html`` runs it on the embedded sample data; without ``--sample`` on the
organizations whose admin keys are set. The same analysis, step by step, is ``notebooks/01_spend_overview.ipynb``.

Examples:
    >>> from usage_frames.providers import Client
    >>> html = spend_report(Client.sample())
    >>> "October 2026" in html, html.count("<img") >= 4, "sk-admin" in html
    (True, True, False)
"""

from __future__ import annotations

import base64
import html
import io
import math
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd

from usage_frames import ops, plot
from usage_frames._core.errors import UsageFramesError
from usage_frames._core.query import TimeLike
from usage_frames.providers import PACKAGES, Client
from usage_frames.report_data import LINE_ITEMS, Frames, Period, compute_all, optional, span
from usage_frames.report_data import report_data as report_data
from usage_frames.report_overview import clients_of

STYLE = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2rem auto; max-width: 1080px;
       color: #1f2933; padding: 0 1rem; }
h1 { margin-bottom: .2rem; } .meta { color: #52606d; margin-top: 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 1rem; margin: 1.5rem 0; }
.card { border: 1px solid #d9e2ec; border-radius: 8px; padding: .8rem 1rem; }
.card .label { color: #52606d; font-size: .85rem; } .card .value { font-size: 1.6rem; font-weight: 600; }
table { border-collapse: collapse; margin: .5rem 0 1.5rem; font-size: .9rem; }
caption { text-align: left; color: #52606d; font-size: .85rem; padding-bottom: .3rem; }
th, td { border-bottom: 1px solid #e4e7eb; padding: .3rem .7rem; text-align: right; }
th:first-child, td:first-child { text-align: left; } img { max-width: 100%; }
tr.total td { font-weight: 600; border-top: 2px solid #9aa5b1; }
.note { color: #52606d; font-size: .85rem; }
"""


def _crop(figure: Any, renderer: Any) -> Any:
    """Where ``savefig(bbox_inches="tight")`` would cut the figure drawn by ``renderer``, in inches."""
    return figure.get_tightbbox(renderer).padded(matplotlib.rcParams["savefig.pad_inches"])


def _save(figure: Any, target: Any, dpi: int) -> None:
    """Save a figure as PNG, drawn once and cropped to its content.

    The same picture as ``savefig(bbox_inches="tight")``, which draws the figure twice (once to measure where its
    content ends).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.image import imsave

    figure.set_dpi(dpi)
    canvas: Any = FigureCanvasAgg(figure)
    canvas.draw()
    box = _crop(figure, canvas.get_renderer())
    pixels = np.asarray(canvas.buffer_rgba())
    height, width = pixels.shape[:2]
    left, right = max(0, int(box.x0 * dpi)), min(width, math.ceil(box.x1 * dpi))
    bottom, top = max(0, int(box.y0 * dpi)), min(height, math.ceil(box.y1 * dpi))
    imsave(target, pixels[height - top : height - bottom, left:right], format="png", dpi=dpi)


_PAGE_DPI = 110  # pixels per inch of a figure on the page (the size its PNG had)
_SIZE = re.compile(rb'width="[\d.]+pt" height="[\d.]+pt" viewBox="0 0 [\d.]+ [\d.]+"')


def _svg(figure: Any) -> bytes:
    """The figure as SVG, drawn once and cropped to its content, as ``savefig(bbox_inches="tight")`` crops it.

    Cropping a vector picture is choosing its view box, measured while it is drawn: no second drawing. Text stays
    text (``svg.fonttype: none``): the browser draws it, and a picture takes less than half a PNG's bytes and time.
    """
    from matplotlib.backends.backend_svg import FigureCanvasSVG

    canvas: Any = FigureCanvasSVG(figure)
    boxes: list[Any] = []
    watch = canvas.mpl_connect("draw_event", lambda event: boxes.append(_crop(figure, event.renderer)))
    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        canvas.print_svg(buffer, metadata={"Date": None})
    canvas.mpl_disconnect(watch)
    box = boxes[-1]  # in inches, y upwards; SVG units are points, y downwards
    left, top = box.x0 * 72, (figure.bbox_inches.height - box.y1) * 72
    size = f'width="{box.width * _PAGE_DPI:.0f}px" height="{box.height * _PAGE_DPI:.0f}px" '
    view = f'viewBox="{left:.2f} {top:.2f} {box.width * 72:.2f} {box.height * 72:.2f}"'
    picture, found = _SIZE.subn((size + view).encode(), buffer.getvalue(), count=1)
    if not found:  # pragma: no cover - a matplotlib that writes its <svg> element otherwise
        raise UsageFramesError("matplotlib wrote an SVG without the size attributes the report crops")
    return picture


def _figure(ax: Any) -> str:
    data = base64.b64encode(_svg(ax.figure)).decode()
    return f'<img alt="{html.escape(ax.get_title())}" src="data:image/svg+xml;base64,{data}">'


def _usd(value: float | None) -> str:
    if value is None or pd.isna(value):
        return ""
    if 0 < abs(value) < 0.005:  # real spend below a cent: never shown as a placeholder-like $0.00
        return "-<$0.01" if value < 0 else "<$0.01"
    return f"-${-value:,.2f}" if value < 0 else f"${value:,.2f}"


def _signed(value: Any) -> str:
    return value if isinstance(value, str) else f"{value:+.1f}%"


_FORMATS: dict[str, Callable[[Any], str]] = {
    "usd": _usd, "pct": _signed, "share": "{:.1f}%".format, "text": str, "z": "{:.1f}".format,
    "day": lambda day: f"{pd.Timestamp(day):%Y-%m-%d (%a)}",
}  # fmt: skip


def _table(rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str, str]],
           total: dict[str, Any] | None = None, caption: str = "") -> str:  # fmt: skip
    """An HTML table of row dicts: ``columns`` are (key, label, format); ``total`` is a last row, in bold."""
    head = "".join(f"<th>{html.escape(label)}</th>" for _, label, _ in columns)
    body = []
    for row, css in [*((r, "") for r in rows), *([(total, ' class="total"')] if total else [])]:
        cells = (html.escape(_FORMATS[kind](row[key])) if row.get(key) is not None else "" for key, _, kind in columns)
        body.append(f"<tr{css}>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
    title = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f"<table>{title}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _sum(rows: Sequence[dict[str, Any]], key: str) -> float:
    """The total of a money column in whole cents: exactly the rows shown."""
    return sum(round(float(row[key]) * 100) for row in rows) / 100


def _money_table(rows: list[dict[str, Any]], key: str, label: str, caption: str = "") -> str:
    total = {key: "Total", "amount": _sum(rows, "amount"), "share_pct": 100.0 if rows else None}
    return _table(rows, [(key, label, "text"), ("amount", "Spend", "usd"), ("share_pct", "Share", "share")], total,
                  caption)  # fmt: skip


PROJECT_COLUMNS = (("project", "Project", "text"), ("project_id", "Project ID", "text"))
MOVES = ("previous", "change", "change_pct", "share_of_change_pct")  # columns of a comparison: gone when none


def _project_table(rows: list[dict[str, Any]], cards: dict[str, dict[str, Any]],
                   names: Sequence[tuple[str, str, str]] = PROJECT_COLUMNS, what: str = "project") -> str:  # fmt: skip
    """Spend by ``what`` against the comparison period, a totals row, and what "Share of change" means.

    ``names`` are the columns that name a row; "Share of change" is shown when the rows have that column.
    """
    previous, change = cards["previous"], _sum(rows, "change")
    total = {names[0][0]: "Total", "previous": _sum(rows, "previous"), "amount": _sum(rows, "amount"),
             "change": change, "change_pct": cards["change_pct"]["value"], "share_pct": 100.0 if rows else None,
             "share_of_change_pct": 100.0 if change else None}  # fmt: skip
    new = [{**row, "change_pct": "new"} if row["change_pct"] is None and row["amount"] else row for row in rows]
    columns = [*names, ("previous", previous["label"], "usd"), ("amount", "Spend", "usd"),
               ("change", "Change", "usd"), ("change_pct", "Change %", "pct"), ("share_pct", "Share", "share"),
               ("share_of_change_pct", "Share of change", "share")]  # fmt: skip
    shares = all("share_of_change_pct" in row for row in rows)
    columns = columns if shares else columns[:-1]
    note = f"{previous['label']}: {previous['note']}."
    if not previous["value"]:  # nothing to compare with: no columns of zeros and dashes
        columns = [c for c in columns if c[0] not in MOVES]
        note = f"{previous['label']} ({previous['note']}): no spend."
    elif change and shares:
        way = "an increase" if change > 0 else "a decrease"
        note += (f" Share of change: each {what}'s part of the total change, {way} of {_usd(abs(change))}; the "
                 f"column adds up to 100 %, and a negative share is a {what} that moved the other way.")  # fmt: skip
    return _table(new, columns, total) + f'<p class="note">{html.escape(note)}</p>'


def _card(card: dict[str, Any]) -> str:
    value, name = card["value"], card["name"]
    if name == "change_pct":
        shown = "no spend before" if value is None else _signed(value)
    else:
        shown = _usd(value) if value else "no spend yet" if name == "today" else "no spend"
    note = f'<div class="label">{html.escape(card["note"])}</div>' if card["note"] else ""
    return (f'<div class="card"><div class="label">{html.escape(card["label"])}</div>'
            f'<div class="value">{html.escape(shown)}</div>{note}</div>')  # fmt: skip


Section = tuple[str, str, list[str]]  # a heading, a note under it, and its parts (HTML)


@plot.off_screen()  # no pyplot: no global figure list, nothing to close
def spend_report(
    client: Client | Sequence[Client], start: TimeLike | None = None, end: TimeLike | None = None
) -> str:
    """Build the spend overview of ``[start, end)`` (default: this month to date) as one HTML page.

    Every figure, table and total is :func:`~usage_frames.report_data.report_data`'s (the same days for all, see
    :func:`~usage_frames.report_data.period`), the charts are drawn from the same frames. The month-end forecast
    is shown when the period reaches the data's as-of time, and says in words when there are too few settled days
    for one. Early in a month, the daily chart shows the previous month next to the month so far. Of several
    clients (one per provider): the overview of all (spend by provider, by project across providers), then each
    provider's section.

    Args:
        client: Where the data comes from (``Client()``, ``Client.sample()``...), or several clients.
        start: First day of the period (default: the first of this month).
        end: End of the period (default: now).

    Returns:
        A self-contained HTML document.

    Raises:
        InvalidParameterError: If the period has no whole day, or for clients that are not one per provider.
    """
    clients = clients_of(client)
    data, parts = compute_all(clients, start, end)
    if len(parts) == 1:
        ((section, frames),) = parts
        return _page(data, clients, _render(_sections(section, frames, clients[0]), 2))
    body = _render([_overview(data, [frames for _, frames in parts])], 2)
    for one, (section, frames) in zip(clients, parts, strict=True):
        name = one.provider.name
        body.append(f'<h2 id="provider-{html.escape(name)}">{html.escape(section["provider_title"])}</h2>')
        body += _render(_sections(section, frames, one), 3)
    return _page(data, clients, body)


def _sections(data: dict[str, Any], frames: Frames, client: Client) -> list[Section]:
    """One provider's report: its cards and forecast, spend by project, its bill, its tokens, its unusual days."""
    when, history, tables = frames.when, frames.history, data["tables"]
    cards = {card["name"]: card for card in data["cards"]}
    parts = [_cards(data)]
    forecast = cards["forecast"]
    if frames.outlook is not None:
        fitted = span(pd.Timestamp(forecast["fit_start"]), pd.Timestamp(forecast["fit_end"]))
        parts.append(
            f'<p class="note">{html.escape(forecast["label"])}: 95 % range {_usd(forecast["lower"])} to '
            f"{_usd(forecast['upper'])}, from a trend with weekday seasonality fitted on the settled days {fitted}; "
            f"month to date {_usd(forecast['month_to_date'])}{', today so far included' * ('today' in cards)}.</p>"
        )
        alerts, limit = PACKAGES[client.provider.name].spend_guards(client)
        parts.append(_figure(plot.month_to_date(history, alerts=alerts, limit=limit, now=when.now)))
    elif when.live:
        parts.append(f'<p class="note">{html.escape(forecast["note"])}</p>')
    sections = [("Month to date and forecast" if when.live else "The period", "", parts)]

    since = _since(when)
    note = f"Daily spend from {since:%B %d}: the previous month next to the month so far." if since < when.start else ""
    daily = history[(history.index >= since) & (history.index < when.end)]
    chart = [_figure(plot.spend(daily, by=frames.key))] if len(daily) else []  # no spend, no empty chart
    sections.append(("Spend by project", note, [*chart, _project_table(tables["by_project"], cards)]))

    items = tables["by_line_item"]
    other = items[-1]["line_item"] if len(items) > LINE_ITEMS else None
    caption = f"The top {LINE_ITEMS} line items, and the others in one row" if other else ""
    top = [_figure(plot.top(frames.lines, by=frames.item, n=LINE_ITEMS, other=other))] if items else []
    sections.append(("Spend by line item and model", "", [
        *top,
        _money_table(items, "line_item", "Line item", caption),
        _money_table(tables["by_model"], "model", "Model"),
        _money_table(tables["by_token_kind"], "billed_as", "Tokens billed as"),
    ]))  # fmt: skip

    # A period of a day or two is drawn per hour: one daily point is no chart.
    hourly = when.end - since <= pd.Timedelta(days=2)
    used = client.provider.endpoint(client.provider.primary[0])
    keys = None if hourly else [k for k in (used.project_key, "model") if k in used.group_by]  # what samples hold
    usage = optional(lambda: client.fetch(used.name, since, when.end, bucket_width="1h" if hourly else "1d",
                                          group_by=keys), None)  # fmt: skip
    if usage is not None and len(usage):
        per = "hour" if hourly else "day"
        sections.append(("Tokens", f"{used.name.capitalize()} input, by how it was served, and output, per {per}.",
                         [_figure(plot.token_mix(usage, rule="h" if hourly else "D"))]))  # fmt: skip

    unusual = tables["unusual_days"]
    columns = [("day", "Day", "day"), ("project", "Project", "text"), ("amount", "Spend", "usd"),
               ("expected", "Usual for the weekday", "usd"), ("z", "Robust z-score", "z")]  # fmt: skip
    what = "Days whose spend was far above normal for that weekday (robust z-score over the previous four weeks)."
    sections.append(("Unusual days", what, [_table(unusual, columns) if unusual else "<p>None in this period.</p>"]))
    return sections


def _since(when: Period) -> pd.Timestamp:
    """Where the daily charts start: early in a month (a live period under a week), the month before too."""
    early = when.live and when.days < 7 and not when.note
    return pd.Timestamp(when.start - pd.DateOffset(months=1) if early else when.start)


def _cards(data: dict[str, Any]) -> str:
    shown = [_card(c) for c in data["cards"] if c["value"] is not None or c["name"] == "change_pct"]
    return '<div class="cards">' + "".join(shown) + "</div>"


def _overview(data: dict[str, Any], frames: Sequence[Frames]) -> Section:
    """The providers added up: their cards, spend per day by provider, and the tables by provider and by project."""
    cards = {card["name"]: card for card in data["cards"]}
    parts = [_cards(data)]
    if cards["forecast"]["value"] is None and frames[0].when.live:
        parts.append(f'<p class="note">{html.escape(cards["forecast"]["note"])}</p>')
    when = frames[0].when
    since = _since(when)
    bill = ops.combine(*(f.history[(f.history.index >= since) & (f.history.index < when.end)] for f in frames))
    titles = {row["provider"]: row["provider_title"] for row in data["tables"]["by_provider"]}
    bill["provider"] = bill["provider"].cat.rename_categories(lambda name: titles.get(name, name))
    parts.append(_figure(plot.spend(bill, by="provider")))
    parts.append(_project_table(data["tables"]["by_provider"], cards, [("provider_title", "Provider", "text")],
                                "provider"))  # fmt: skip
    rows = [{**row, "provider": titles.get(row["provider"], row["provider"])} for row in data["tables"]["by_project"]]
    parts.append(_project_table(rows, cards, [("provider", "Provider", "text"), *PROJECT_COLUMNS]))
    return "All providers", "Spend by provider, and by project across providers (a workspace is a project here).", parts


def _render(sections: Sequence[Section], level: int) -> list[str]:
    body = []
    for heading, note, parts in sections:
        body.append(f"<h{level}>{html.escape(heading)}</h{level}>")
        if note:
            body.append(f'<p class="note">{html.escape(note)}</p>')
        body += parts
    return body


def _source(source: str, client: Client) -> str:
    return "embedded sample data (a fake organization)" if source == "sample" else (
        f"live organization at {client.base_url}")  # fmt: skip


def _page(data: dict[str, Any], clients: Sequence[Client], sections: list[str]) -> str:
    if len(clients) == 1:
        source = _source(data["source"], clients[0])
    else:
        each = data["providers"]
        source = "; ".join(f"{each[c.provider.name]['provider_title']}: {_source(c.source, c)}" for c in clients)
    start, end = (pd.Timestamp(data["period"][k]) for k in ("start", "end"))
    generated = pd.Timestamp.now(tz="UTC")
    title = data["title"]
    body = [
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="meta">Period {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC · data: {html.escape(source)}'
        f" · as of {pd.Timestamp(data['as_of']):%Y-%m-%d %H:%M} UTC · generated {generated:%Y-%m-%d %H:%M} UTC</p>",
        f'<p class="note">{html.escape(data["rule"])}</p>',
        *sections,
    ]
    whose = "the cost report, which matches the invoice" if len(clients) == 1 else (
        "each provider's cost report, which matches its invoice")  # fmt: skip
    body.append(f'<p class="note">Made with usage_frames. Amounts are from {whose}; recent days may still change.</p>')
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{STYLE}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


@plot.off_screen()
def save_pictures(client: Client, directory: str | Path) -> list[str]:
    """Write the report's main plots of one provider as PNG files (the README's pictures); returns their names.

    ``usage-frames report --sample --pictures docs`` regenerates the committed ones.
    """
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    provider, now = client.provider, client.clock()
    used, cost = (provider.endpoint(name) for name in provider.primary)
    begin = now.floor("D").replace(day=1)
    history = client.fetch(cost.name, min(ops.forecast_start(now), begin - pd.Timedelta(days=21)), now,
                           group_by=cost.project_key)  # fmt: skip
    alerts, limit = PACKAGES[provider.name].spend_guards(client)
    pictures = {
        "month_to_date.png": plot.month_to_date(history, alerts=alerts, limit=limit, now=now),
        "spend_by_project.png": plot.spend(history[history.index >= begin - pd.Timedelta(days=21)],
                                           by=cost.project_key),
        "token_mix.png": plot.token_mix(
            client.fetch(used.name, begin - pd.Timedelta(days=21), now,
                         group_by=[k for k in (used.project_key, "model") if k in used.group_by])
        ),
    }  # fmt: skip
    for name, ax in pictures.items():
        _save(ax.figure, folder / name, dpi=80)
    return list(pictures)
