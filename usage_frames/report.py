"""The ready-made spend report: one self-contained HTML file (plots embedded, no code shown).

``usage-frames report --sample -o report.html`` runs it on the embedded sample data; without ``--sample`` on the
organization of ``OPENAI_ADMIN_KEY``. The same analysis, step by step, is ``notebooks/01_spend_overview.ipynb``.

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd

from usage_frames import ops, plot
from usage_frames._core.errors import InvalidParameterError, UsageFramesError
from usage_frames._core.query import TimeLike, to_utc
from usage_frames.providers import Client
from usage_frames.providers.openai import directory

STYLE = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2rem auto; max-width: 1080px;
       color: #1f2933; padding: 0 1rem; }
h1 { margin-bottom: .2rem; } .meta { color: #52606d; margin-top: 0; }
.cards { display: flex; gap: 1rem; flex-wrap: wrap; margin: 1.5rem 0; }
.card { flex: 1 1 180px; border: 1px solid #d9e2ec; border-radius: 8px; padding: .8rem 1rem; }
.card .label { color: #52606d; font-size: .85rem; } .card .value { font-size: 1.6rem; font-weight: 600; }
table { border-collapse: collapse; margin: .5rem 0 1.5rem; font-size: .9rem; }
th, td { border-bottom: 1px solid #e4e7eb; padding: .3rem .7rem; text-align: right; }
th:first-child, td:first-child { text-align: left; } img { max-width: 100%; }
.note { color: #52606d; font-size: .85rem; }
"""


@dataclass
class Section:
    """One part of the report: a heading, an optional note, figures and tables (already HTML)."""

    title: str
    note: str = ""
    parts: list[str] = field(default_factory=list)


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


def _usd(value: float) -> str:
    if pd.isna(value):
        return ""
    if 0 < abs(value) < 0.005:  # real spend below a cent: never shown as a placeholder-like $0.00
        return "-<$0.01" if value < 0 else "<$0.01"
    return f"-${-value:,.2f}" if value < 0 else f"${value:,.2f}"


def _pct(value: float) -> str:
    return "" if pd.isna(value) else f"{value:+.1f}%"


def _share(value: float) -> str:
    return "" if pd.isna(value) else f"{value:.1f}%"


def _table(frame: pd.DataFrame, money: tuple[str, ...] = (), percent: tuple[str, ...] = ()) -> str:
    formatters: dict[str, Any] = {c: _usd for c in money if c in frame} | {c: _pct for c in percent if c in frame}
    formatters |= {c: _share for c in ("share_pct",) if c in frame} | {c: "{:.1f}".format for c in ("z",) if c in frame}
    return frame.to_html(formatters=formatters, border=0, na_rep="", escape=True)


def _window(
    client: Client, start: TimeLike | None, end: TimeLike | None
) -> tuple[pd.Timestamp, pd.Timestamp, pd.Timestamp]:
    now = client.clock()
    begin = to_utc(start) if start is not None else now.floor("D").replace(day=1)
    stop = min(to_utc(end, argument="end"), now) if end is not None else now
    if stop <= begin:
        raise InvalidParameterError("end", str(stop), reason=f"is not after the start {begin:%Y-%m-%d %H:%M} UTC")
    return begin, stop, now


@dataclass(frozen=True)
class Period:
    """The report's period and the one it is compared with.

    Attributes:
        begin: First instant of the period.
        stop: End of the period (exclusive; at most the as-of time).
        before: Start of the comparison period (the whole months before for whole months; the same days of the
            previous month for a month in progress; else the same length just before).
        before_stop: Its end.
        month: First of the as-of month when the period reaches the as-of time (the month in progress), else None.
    """

    begin: pd.Timestamp
    stop: pd.Timestamp
    before: pd.Timestamp
    before_stop: pd.Timestamp
    month: pd.Timestamp | None


def period(begin: pd.Timestamp, stop: pd.Timestamp, now: pd.Timestamp) -> Period:
    """The comparison period of ``[begin, stop)`` as of ``now`` (see :class:`Period`).

    Examples:
        >>> now = pd.Timestamp("2026-10-21", tz="UTC")
        >>> p = period(pd.Timestamp("2026-09-01", tz="UTC"), pd.Timestamp("2026-10-01", tz="UTC"), now)
        >>> f"{p.before:%Y-%m-%d}..{p.before_stop:%Y-%m-%d}", p.month
        ('2026-08-01..2026-09-01', None)
        >>> p = period(pd.Timestamp("2026-10-01", tz="UTC"), now, now)
        >>> f"{p.before:%Y-%m-%d}..{p.before_stop:%Y-%m-%d}", f"{p.month:%Y-%m-%d}"
        ('2026-09-01..2026-09-21', '2026-10-01')
    """
    month = now.floor("D").replace(day=1) if begin < now <= stop else None
    starts_month = begin == begin.floor("D").replace(day=1)
    if starts_month and stop == stop.floor("D").replace(day=1):
        months = (stop.year - begin.year) * 12 + stop.month - begin.month
        before = begin - pd.DateOffset(months=months)
        return Period(begin, stop, before, begin, month)
    if starts_month and stop < begin + pd.DateOffset(months=1):
        # The same whole days of the previous month: costs are daily, a day in progress is not comparable.
        before = begin - pd.DateOffset(months=1)
        return Period(begin, stop, before, min(before + (stop - begin).floor("D"), begin), month)
    return Period(begin, stop, begin - (stop - begin), begin, month)


def _span(start: pd.Timestamp, stop: pd.Timestamp) -> str:
    last = stop - pd.Timedelta(seconds=1)
    return f"{start:%b %d}" + ("" if last.floor("D") == start.floor("D") else f" to {last:%b %d}") + f" {last:%Y}"


def _card(label: str, value: str, note: str = "") -> str:
    small = f'<div class="label">{html.escape(note)}</div>' if note else ""
    return (f'<div class="card"><div class="label">{html.escape(label)}</div><div class="value">{value}</div>'
            f"{small}</div>")  # fmt: skip


@plot.off_screen()  # no pyplot: no global figure list, nothing to close
def spend_report(client: Client, start: TimeLike | None = None, end: TimeLike | None = None) -> str:
    """Build the spend overview of ``[start, end)`` (default: this month to date) as one HTML page.

    Every section follows the period: the title, the cards, the charts and the tables. The month-end forecast
    is shown only when the period reaches the data's as-of time (the month in progress), and says in words when
    there are too few settled days for one. Early in a month, the charts show the previous month next to the
    month so far, and the cards the previous month complete.

    Args:
        client: Where the data comes from (``Client()``, ``Client.sample()``...).
        start: First day of the period (default: the first of this month).
        end: End of the period (default: now).

    Returns:
        A self-contained HTML document.

    Raises:
        InvalidParameterError: If the period is empty.
    """
    begin, stop, now = _window(client, start, end)
    when = period(begin, stop, now)
    early = when.month is not None and stop - begin < pd.Timedelta(days=7)
    shown = begin - pd.DateOffset(months=1) if early else begin  # early in a month: the previous month too
    first = min(when.before, shown, begin - pd.Timedelta(days=35))
    history = client.costs(first, stop, group_by="project_id")
    costs = history[history.index >= begin]
    before = history[(history.index >= when.before) & (history.index < when.before_stop)]
    month_before = history[(history.index >= when.before) & (history.index < begin)]
    # Like for like: the whole days the previous period has (a month in progress: its days so far).
    compared = costs[costs.index < begin + (when.before_stop - when.before)] if when.before_stop < begin else costs
    lines = client.costs(begin, stop, group_by="line_item")
    total = float(costs["amount"].sum())
    before_total = float(before["amount"].sum())
    sections: list[Section] = []

    cards = [_card("Spend in the period", _usd(total), _span(begin, stop))]
    if when.before_stop > when.before:
        change = float(compared["amount"].sum()) / before_total - 1 if before_total else None
        same = "Same days last month" if when.before_stop < begin else "Previous period"
        cards += [_card(same, _usd(before_total) if before_total else "no spend", _span(when.before, when.before_stop)),
                  _card("Change", _pct(change * 100) if change is not None else "no spend before",
                        f"{_span(begin, begin + (when.before_stop - when.before))} vs the same days"
                        if when.before_stop < begin else "")]  # fmt: skip
    else:
        cards.append(_card("Change", "not yet", "the month's first day is still in progress"))
    if when.before_stop < begin:  # a month in progress: also the previous month, complete
        month_total = float(month_before["amount"].sum())
        cards.append(_card("Previous month (complete)", _usd(month_total) if month_total else "no spend",
                           _span(when.before, begin)))  # fmt: skip
    parts: list[str] = []
    if when.month is not None:
        try:
            outlook = ops.forecast(history, now=now)
        except InvalidParameterError:
            settled = int((ops.daily_spend(history).index < now.floor("D") - pd.Timedelta(days=1)).sum())
            parts.append(f'<p class="note">Too few settled days for a forecast: {settled} (it needs 7).</p>')
        else:
            cards.append(_card(f"Projected {when.month:%B %Y}", _usd(outlook.attrs["projected_total"])))
            parts.append(
                f'<p class="note">Forecast range {_usd(outlook.attrs["lower_total"])} to '
                f"{_usd(outlook.attrs['upper_total'])} (95 %), from a trend with weekday seasonality fitted on the "
                "last four weeks of settled days.</p>"
            )
            alerts = _optional(lambda: directory.spend_alerts(client)["threshold_usd"].tolist(), [])
            limit = _optional(lambda: directory.spend_limit(client), None)
            parts.append(_figure(plot.month_to_date(history, alerts=alerts, limit=limit, now=now)))
    title = "Month to date and forecast" if when.month is not None else "The period"
    sections.append(Section(title, parts=['<div class="cards">' + "".join(cards) + "</div>", *parts]))

    # Nothing whole to compare with yet (the month's first day), or no spend before: the previous month, if any.
    first_day = when.before_stop == when.before or not before_total
    base = month_before if first_day else before
    by_project = ops.compare(costs if first_day else compared, base, by="project_id")
    names = _optional(lambda: directory.projects(client).set_index("id")["name"], pd.Series(dtype=str))
    by_project.insert(0, "project", [names.get(p, p) for p in by_project.index])
    new = by_project["previous"].eq(0) & by_project["current"].gt(0)
    label = "same days last month" if when.before_stop < begin else "previous period"
    table = by_project.rename(columns={"current": "spend", "previous": "previous month" if first_day else label})
    table["change_pct"] = [("new" if is_new else _pct(v)) for is_new, v in zip(new, by_project["change_pct"],
                                                                                strict=True)]  # fmt: skip
    if first_day:
        dropped = ["change", "change_pct", "contribution_pct"] + ([] if len(base) else ["previous month"])
        table = table.drop(columns=dropped)
    chart_note = f"Daily spend from {shown:%B %d}: the previous month next to the month so far." if early else ""
    sections.append(Section("Spend by project", chart_note, parts=[
        _figure(plot.spend(history[history.index >= shown], by="project_id")),
        _table(table, money=("spend", "previous period", "same days last month", "previous month", "change"),
               percent=("contribution_pct",)),
    ]))  # fmt: skip

    top_lines = ops.share(lines, by="line_item").head(12)
    items = ops.split_line_items(lines).dropna(subset=["model"])
    per_model = items.groupby("model")["amount"].sum()
    # Token spend by what was billed: text/audio/image, input/cached input/cache writes/output, long context.
    tokens = items[items["kind"].isin(["input", "cached input", "cache writes", "output"])]
    what = (tokens["modality"].fillna("text") + " " + tokens["kind"]
            + tokens["context"].map({"long": ", long context"}).fillna(""))  # fmt: skip
    per_kind = tokens["amount"].groupby(what.rename("billed as").to_numpy()).sum().sort_values(ascending=False)
    sections.append(Section("Spend by line item and model", parts=[
        _figure(plot.top(lines, by="line_item", n=10)),
        _table(top_lines.rename(columns={"amount": "spend"}), money=("spend",), percent=()),
        _table(per_model.sort_values(ascending=False).to_frame("spend"), money=("spend",)),
        _table(per_kind.rename_axis("tokens billed as").to_frame("spend"), money=("spend",)),
    ]))  # fmt: skip

    # A period of a day or two is drawn per hour: one daily point is no chart.
    hourly = stop - shown <= pd.Timedelta(days=2)
    keys = None if hourly else ["project_id", "model"]  # what the sample data holds at each width
    usage = _optional(lambda: client.completions(shown, stop, bucket_width="1h" if hourly else "1d", group_by=keys),
                      None)  # fmt: skip
    if usage is not None and len(usage):
        per = "hour" if hourly else "day"
        sections.append(Section("Tokens", f"Completions input, by how it was served, and output, per {per}.", parts=[
            _figure(plot.token_mix(usage, rule="h" if hourly else "D")),
        ]))  # fmt: skip

    found = ops.anomalies(history, by="project_id", direction="up")
    found = found[(found.index >= begin) & (found.index < stop)]
    sections.append(Section(
        "Unusual days",
        "Days whose spend was far above normal for that weekday (robust z-score over the previous four weeks).",
        parts=[_table(found.assign(project=[names.get(p, p) for p in found["project_id"]])
                      .set_axis(pd.DatetimeIndex(found.index).strftime("%Y-%m-%d (%a)")).rename_axis("day"),
                      money=("value", "expected")) if len(found) else "<p>None in this period.</p>"],
    ))  # fmt: skip
    return _page(begin, stop, now, client, sections)


@plot.off_screen()
def save_pictures(client: Client, directory: str | Path) -> list[str]:
    """Write the report's main plots as PNG files (the README's pictures); returns their names.

    ``usage-frames report --sample --pictures docs`` regenerates the committed ones.
    """
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    now = client.clock()
    begin = now.floor("D").replace(day=1)
    history = client.costs(begin - pd.Timedelta(days=35), now, group_by="project_id")
    pictures = {
        "month_to_date.png": plot.month_to_date(history, alerts=[1500, 2500], limit=4000, now=now),
        "spend_by_project.png": plot.spend(history[history.index >= begin - pd.Timedelta(days=21)], by="project_id"),
        "token_mix.png": plot.token_mix(
            client.completions(begin - pd.Timedelta(days=21), now, group_by=["project_id", "model"])
        ),
    }
    for name, ax in pictures.items():
        _save(ax.figure, folder / name, dpi=80)
    return list(pictures)


def _optional(fetch: Any, default: Any) -> Any:
    """An extra the report can do without (names, thresholds) when the key may not read it."""
    try:
        return fetch()
    except UsageFramesError:
        return default


def _page(begin: pd.Timestamp, stop: pd.Timestamp, now: pd.Timestamp, client: Client, sections: list[Section]) -> str:
    sample = client.source == "sample"
    source = "embedded sample data (a fake organization)" if sample else f"live organization at {client.base_url}"
    month = f"{begin:%B %Y}" if begin.month == (stop - pd.Timedelta(seconds=1)).month else ""
    title = f"OpenAI spend report{': ' + month if month else ''}"
    generated = pd.Timestamp.now(tz="UTC")
    body = [
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="meta">Period {begin:%Y-%m-%d %H:%M} to {stop:%Y-%m-%d %H:%M} UTC · data: {html.escape(source)}'
        f" · as of {now:%Y-%m-%d %H:%M} UTC · generated {generated:%Y-%m-%d %H:%M} UTC</p>",
    ]
    for section in sections:
        body.append(f"<h2>{html.escape(section.title)}</h2>")
        if section.note:
            body.append(f'<p class="note">{html.escape(section.note)}</p>')
        body += section.parts
    body.append('<p class="note">Made with usage_frames. Amounts are from the Costs API, which matches the invoice; '
                "recent days may still change.</p>")  # fmt: skip
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{STYLE}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )
