"""Plots a finance person would put in a deck: each function takes a frame and returns a matplotlib ``Axes``.

Axes carry units ($, tokens in k/M/B), dates say UTC, and every category keeps its colour in every plot
(:func:`color_for`). Also available as ``df.usage.plot.<kind>(...)``. A new figure is a pyplot figure (a notebook
shows it), or inside :func:`off_screen` one that pyplot never sees (the report: no pyplot import, no global state).

Examples:
    >>> from usage_frames import Client
    >>> ax = spend(Client.fake().costs("2026-10-01", "2026-11-01", group_by="project_id"), by="project_id")
    >>> ax.get_ylabel(), len(ax.get_legend().get_texts())
    ('Spend (USD)', 4)
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter

from usage_frames import ops
from usage_frames._core.errors import InvalidParameterError
from usage_frames.analysis.frame import values_of
from usage_frames.providers import PROVIDERS

# The usage endpoints whose input tokens say how they were served (read from the cache, written to it): token_mix's.
TOKEN_MIX = tuple(dict.fromkeys(
    e.name for p in PROVIDERS.values() for e in p.endpoints.values()
    if e.tokens is not None and (e.tokens.cache_read or e.tokens.cache_write)
))  # fmt: skip
PALETTE = [matplotlib.colormaps[name](i) for name in ("tab20", "tab20b") for i in range(20)]
OTHER_COLOR = "#9e9e9e"
_COLORS: dict[str, Any] = {}
NONE = "(none)"
"""How a plot names the rows whose key is null (Anthropic's default workspace, usage without a key): frames keep the
null (``NaN``, as pandas' ``groupby(dropna=False)``); :func:`usage_frames.ops.label` names a default workspace."""


def shown(label: object) -> str:
    """A category as a legend or an axis shows it: its text, :data:`NONE` for a null key.

    Examples:
        >>> shown("proj_chat"), shown(None), shown(float("nan"))
        ('proj_chat', '(none)', '(none)')
    """
    return NONE if label is None or (isinstance(label, float) and np.isnan(label)) or label is pd.NA else str(label)


def color_for(label: object) -> Any:
    """The colour of a category, the same in every plot of the session.

    Each label starts at a colour picked by a hash of its name and takes the next one not yet given to another
    label, so two categories never share a colour.

    Examples:
        >>> color_for("proj_chat") == color_for("proj_chat"), color_for("other")
        (True, '#9e9e9e')
        >>> reset_colors()
        >>> len({str(color_for(f"model-{i}")) for i in range(30)})
        30
    """
    key = str(label)
    if key == "other":
        return OTHER_COLOR
    if key not in _COLORS:
        taken = {str(c) for c in _COLORS.values()}
        start = zlib.crc32(key.encode()) % len(PALETTE)
        free = [PALETTE[(start + i) % len(PALETTE)] for i in range(len(PALETTE))]
        _COLORS[key] = next((c for c in free if str(c) not in taken), free[0])
    return _COLORS[key]


def reset_colors() -> None:
    """Forget the colours given so far (a new report starts with a fresh, collision-free palette).

    Examples:
        >>> first = color_for("proj_a")
        >>> reset_colors()
        >>> color_for("proj_b") != first or color_for("proj_a") == first
        True
    """
    _COLORS.clear()


def human(value: float) -> str:
    """A count with a k/M/B suffix.

    Examples:
        >>> human(950), human(12_300), human(4_560_000), human(7.2e9)
        ('950', '12.3k', '4.56M', '7.2B')
    """
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:.3g}{suffix}"
    return f"{value:.3g}"


USD = FuncFormatter(lambda v, _: f"${v:,.0f}" if abs(v) >= 10 else f"${v:,.2f}")
COUNT = FuncFormatter(lambda v, _: human(v))
BYTES = FuncFormatter(lambda v, _: f"{v / 2**30:.3g} GiB" if abs(v) >= 2**30 else f"{v / 2**20:.3g} MiB")
_UNITS = {"amount": "USD", "usd": "USD", "usage_bytes": "bytes", "gib_days": "GiB-days", "images": "images",
          "characters": "characters", "seconds": "seconds", "num_sessions": "sessions", "num_requests": "calls",
          "num_model_requests": "requests"}  # fmt: skip


def unit_of(column: str) -> str:
    """The unit of a frame column, as an axis shows it (``"USD"``, ``"tokens"``, ``"requests"``, ``"bytes"``...).

    Examples:
        >>> unit_of("amount"), unit_of("input_cached_tokens"), unit_of("num_model_requests"), unit_of("seconds")
        ('USD', 'tokens', 'requests', 'seconds')
        >>> unit_of("web_search_requests")  # Anthropic's
        'requests'
    """
    if column in _UNITS:
        return _UNITS[column]
    if column.endswith("_tokens"):
        return "tokens"
    if column.endswith("_requests"):
        return "requests"
    if column.startswith("usd") or column.endswith("_usd"):
        return "USD"
    return "count"


def _formatter(unit: str) -> FuncFormatter:
    return USD if unit == "USD" else BYTES if unit == "bytes" else COUNT


def _need(df: pd.DataFrame, plot: str, endpoints: Sequence[str], argument: str = "df") -> None:
    """Refuse a frame of another kind, naming what it is and what the plot draws."""
    kind = ops.endpoint_of(df).name
    if kind not in endpoints:
        raise InvalidParameterError(
            argument, kind, endpoints, reason=f"is a {kind} frame; {plot} draws {' or '.join(endpoints)} frames"
        )


_OFF_SCREEN: ContextVar[bool] = ContextVar("off_screen", default=False)


@contextmanager
def off_screen() -> Iterator[None]:
    """Make the plots drawn inside it on figures of their own, never imported into or listed by pyplot.

    Such a figure is not shown by a notebook and needs no closing: it goes away with its last reference. Render
    it with a canvas of your choice (``FigureCanvasAgg(ax.figure).print_png(...)``).

    Examples:
        >>> import matplotlib.pyplot as plt
        >>> from usage_frames import Client
        >>> before = plt.get_fignums()
        >>> with off_screen():
        ...     ax = spend(Client.fake().costs("2026-10-01", "2026-10-08"))
        >>> plt.get_fignums() == before, ax.get_ylabel()
        (True, 'Spend (USD)')
    """
    token = _OFF_SCREEN.set(True)
    try:
        yield
    finally:
        _OFF_SCREEN.reset(token)


def _axes(ax: Axes | None, size: tuple[float, float] = (10, 4.5)) -> Axes:
    if ax is not None:
        return ax
    if _OFF_SCREEN.get():
        from matplotlib.figure import Figure

        return Figure(figsize=size).add_subplot()
    import matplotlib.pyplot as plt  # a figure a notebook shows: pyplot's

    _, new = plt.subplots(figsize=size)
    return new


def _title(ax: Axes, text: str) -> None:
    """A title at the usual place, given (``y=1.0``), so that drawing does not search where it would overlap."""
    ax.set_title(text, y=1.0)


def _dates(ax: Axes) -> None:
    ax.set_xlabel("Date (UTC)")
    ax.figure.autofmt_xdate()


def spend(costs: pd.DataFrame, by: str | None = None, n: int = 6, rule: str = "D", ax: Axes | None = None) -> Axes:
    """Spend over time, stacked by a dimension (the ``n`` largest plus "other").

    Args:
        costs: A costs frame.
        by: A dimension of it (``project_id``, ``line_item``...) or a label of one (``project_name`` after
            ``ops.label``), or ``None`` for the total. Rows whose key is null show as :data:`NONE`.
        n: How many categories to show before folding the rest into "other".
        rule: What a bar sums, a pandas rule with pandas' meaning: ``"D"``, ``"W-SUN"`` (weeks ending Sunday),
            ``"MS"``; each bar spans the days it sums.
        ax: Where to draw (a new figure by default).

    Raises:
        InvalidParameterError: If ``costs`` is a usage frame (tokens are not dollars: use :func:`top`).

    Examples:
        >>> from usage_frames import Client
        >>> ax = spend(Client.fake().costs("2026-09-07", "2026-11-02"), rule="W-SUN")  # Monday to Sunday
        >>> len(ax.patches), ax.get_title()
        (8, 'Spend per W-SUN')
        >>> len(spend(Client.fake().costs("2026-09-07", "2026-11-02"), rule="W-MON").patches)  # Sep 7 on its own
        9
    """
    _need(costs, "spend (USD)", ("costs",), "costs")
    ax = _axes(ax)
    frame = ops.top_n(costs, n, by=by) if by else costs
    wide = ops.pivot(frame, by) if by else frame[["amount"]].groupby(level=0).sum()
    # pandas' bins for the rule (its default closed and label: "W-MON" is weeks ending Monday), each bar drawn
    # over the days it sums, from its first day: never before the data's start.
    days = wide.index.to_series().resample(rule).agg(["min", "max"]).dropna()
    wide = wide.resample(rule).sum().loc[days.index]
    span = pd.to_timedelta(days["max"] - days["min"]) + pd.Timedelta(days=1)
    width = 0.85 * span.dt.total_seconds() / 86400  # matplotlib date units are days
    bottom = np.zeros(len(wide))
    for column in wide.columns:
        values = wide[column].to_numpy(dtype=float)
        ax.bar(pd.DatetimeIndex(days["min"]), values, width=width.to_numpy(), bottom=bottom, align="edge",
               label=shown(column), color=color_for(shown(column)) if by else PALETTE[0])  # fmt: skip
        bottom += values
    ax.yaxis.set_major_formatter(USD)
    ax.set_ylabel("Spend (USD)")
    _title(ax, f"Spend per {'day' if rule == 'D' else rule}" + (f" by {by}" if by else ""))
    if by:
        ax.legend(title=by, fontsize="small", loc="upper left")
    _dates(ax)
    return ax


def top(
    df: pd.DataFrame,
    by: str,
    values: str | None = None,
    n: int = 10,
    ax: Axes | None = None,
    other: str | None = None,
) -> Axes:
    """The ``n`` largest categories of ``by`` as horizontal bars, largest on top.

    With ``other`` (a label such as ``"Other"``), the categories beyond the ``n`` largest are one more bar of that
    name at the bottom, so that the bars add up to the whole.

    Examples:
        >>> from usage_frames import Client
        >>> ax = top(Client.sample().costs("2026-10-01", "2026-10-21", group_by="line_item"), by="line_item", n=5)
        >>> len(ax.patches), ax.get_xlabel()
        (5, 'amount (USD)')
        >>> top(Client.sample().completions("2026-10-01", "2026-10-08", group_by="model"), by="model").get_xlabel()
        'input_tokens (tokens)'
        >>> ax = top(Client.sample().costs("2026-10-01", "2026-10-21", group_by="line_item"), by="line_item", n=5,
        ...          other="Other")
        >>> len(ax.patches), ax.get_yticklabels()[0].get_text(), ax.get_title()
        (6, 'Other', 'Top 5 line_item by amount, and Other')
    """
    ax = _axes(ax, (8, 0.45 * (n + (other is not None)) + 1.5))
    name = values_of(df, values)
    # Levels (vector store bytes) are averaged over time, counts summed: the helpers' totals know which.
    ranked = ops.totals(df, by=by)[name].astype(float).sort_values()
    totals = ranked.iloc[-n:]
    rest = ranked.iloc[:-n] if len(ranked) > n else ranked.iloc[:0]
    labels, bars = [shown(i) for i in totals.index], [float(v) for v in totals]
    colors = [color_for(label) for label in labels]
    if other is not None and len(rest):
        labels, bars, colors = [other, *labels], [float(rest.sum()), *bars], ["#9aa5b1", *colors]
    ax.barh(labels, bars, color=colors)
    unit = unit_of(name)
    ax.xaxis.set_major_formatter(_formatter(unit))
    ax.set_xlabel(f"{name} ({unit})")
    _title(ax, f"Top {len(totals)} {by} by {name}" + (f", and {other}" if len(labels) > len(totals) else ""))
    return ax


def token_mix(usage: pd.DataFrame, rule: str = "D", ax: Axes | None = None) -> Axes:
    """Input split into uncached, cached and cache-write tokens, next to output, over time (stacked areas).

    Any provider's usage frame that counts cached tokens (its endpoint's token categories, as
    :func:`usage_frames.ops.token_categories` reads them).

    Examples:
        >>> from usage_frames import Client
        >>> ax = token_mix(Client.fake().completions("2026-10-01", "2026-10-15"))
        >>> [t.get_text() for t in ax.get_legend().get_texts()]
        ['input, uncached', 'input, cached', 'input, cache write', 'output']
    """
    _need(usage, "token mix (tokens)", TOKEN_MIX, "usage")
    ax = _axes(ax)
    daily = ops.resample(usage, rule)
    parts = {"input, uncached": "uncached", "input, cached": "cache read", "input, cache write": "cache write",
             "output": "output"}  # fmt: skip
    totals = ops.token_categories(daily).groupby(level=0)[list(parts.values())].sum().astype(float)
    ax.stackplot(totals.index, *(totals[c].to_numpy() for c in parts.values()), labels=list(parts),
                 colors=[PALETTE[i] for i in (0, 2, 4, 6)], alpha=0.9)  # fmt: skip
    ax.yaxis.set_major_formatter(COUNT)
    ax.set_ylabel("Tokens")
    _title(ax, "Token mix: how input is served, and output")
    ax.legend(fontsize="small", loc="upper left")
    _dates(ax)
    return ax


def heatmap(usage: pd.DataFrame, values: str | None = None, ax: Axes | None = None) -> Axes:
    """Mean ``values`` by hour of day (UTC) and weekday, from hourly data: when does the traffic come?

    Raises:
        InvalidParameterError: If the frame is not hourly.

    Examples:
        >>> from usage_frames import Client
        >>> ax = heatmap(Client.fake().completions("2026-10-05", "2026-10-19", bucket_width="1h"))
        >>> ax.get_xlabel(), len(ax.get_yticklabels())
        ('Hour of day (UTC)', 7)
    """
    if usage.attrs.get("bucket_width") != "1h":
        raise InvalidParameterError("usage", usage.attrs.get("bucket_width"), ("1h",), reason="must be hourly")
    ax = _axes(ax, (10, 3.5))
    name = values_of(usage, values)
    hourly = usage[name].astype(float).groupby(level=0).sum()
    times = pd.DatetimeIndex(hourly.index)
    grid = hourly.groupby([times.day_of_week, times.hour]).mean().unstack().reindex(index=range(7), columns=range(24))
    image = ax.imshow(grid.to_numpy(dtype=float), aspect="auto", cmap="viridis")
    ax.set_yticks(range(7), ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"])
    ax.set_xticks(range(0, 24, 3))
    ax.set_xlabel("Hour of day (UTC)")
    _title(ax, f"Mean {name} per hour")
    unit = unit_of(name)
    bar = ax.figure.colorbar(image, ax=ax, format=_formatter(unit))
    bar.set_label(f"{name} ({unit})")
    return ax


def month_to_date(
    costs: pd.DataFrame,
    budget: float | None = None,
    alerts: Sequence[float] = (),
    limit: float | None = None,
    now: pd.Timestamp | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Cumulative spend this month, the month-end forecast with its band, and the thresholds that matter.

    Args:
        costs: A costs frame that covers this month (and a few weeks before, for the forecast).
        budget: A budget to draw, in USD.
        alerts: Spend alert thresholds in USD (``uf.spend_alerts()["threshold_usd"]``).
        limit: The hard spend limit in USD (``uf.spend_limit()``).
        now: The data's "as of" time (default: :func:`usage_frames.ops.as_of`, never the machine's clock).
        ax: Where to draw.

    Examples:
        >>> from usage_frames import Client
        >>> c = Client.fake()
        >>> ax = month_to_date(c.costs("2026-09-15", "2026-10-20"), alerts=[1500, 2500], limit=4000,
        ...                    now=pd.Timestamp("2026-10-20", tz="UTC"))
        >>> sorted(t.get_text().split(" ")[0] for t in ax.get_legend().get_texts())
        ['alert', 'alert', 'forecast', 'forecast', 'limit', 'spend']
    """
    _need(costs, "month to date (USD)", ("costs",), "costs")
    ax = _axes(ax)
    outlook = ops.forecast(costs, now=now)
    month = pd.Timestamp(outlook.attrs["month"])
    daily = ops.daily_spend(costs)
    actual = daily[daily.index >= month].cumsum()
    start = float(actual.iloc[-1]) if len(actual) else 0.0
    ahead = outlook[outlook.index > (actual.index[-1] if len(actual) else month)].dropna(subset=["lower"])
    ahead = ahead[ahead.index >= month]
    ax.plot(actual.index, actual.to_numpy(), color=PALETTE[0], lw=2, label="spend to date")
    if len(ahead):
        # Start the forecast at the last known point, so the two lines join.
        days = pd.DatetimeIndex([actual.index[-1], *ahead.index]) if len(actual) else pd.DatetimeIndex(ahead.index)
        first = [start] if len(actual) else []
        line = [*first, *(start + ahead["expected"].cumsum())]
        low = [*first, *(start + ahead["lower"].cumsum())]
        high = [*first, *(start + ahead["upper"].cumsum())]
        ax.plot(days, line, color=PALETTE[2], ls="--", label=f"forecast ${outlook.attrs['projected_total']:,.0f}")
        ax.fill_between(days, low, high, color=PALETTE[3], alpha=0.35, label="forecast band (95 %)")
    for value in alerts:
        ax.axhline(value, color="#f0a202", ls=":", label=f"alert ${value:,.0f}")
    if limit is not None:
        ax.axhline(limit, color="#d1495b", lw=1.5, label=f"limit ${limit:,.0f}")
    if budget is not None:
        ax.axhline(budget, color="#2e4057", ls="-.", label=f"budget ${budget:,.0f}")
    ax.yaxis.set_major_formatter(USD)
    ax.set_ylabel("Cumulative spend (USD)")
    _title(ax, f"{month:%B %Y}: month to date and forecast")
    ax.legend(fontsize="small", loc="upper left")
    _dates(ax)
    return ax


def unit_cost(costs_per_model: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """$ per 1M input and output tokens by model (from :func:`usage_frames.ops.unit_costs`).

    Examples:
        >>> from usage_frames import Client
        >>> c = Client.sample()
        >>> u = ops.unit_costs(c.completions("2026-10-01", "2026-10-08", group_by="model"),
        ...                    c.costs("2026-10-01", "2026-10-08", group_by="line_item"))
        >>> ax = unit_cost(u)
        >>> ax.get_ylabel(), len(ax.patches) == 2 * len(u)
        ('USD per 1M tokens', True)
    """
    needed = ("usd_per_1m_input", "usd_per_1m_output")
    if not set(needed) <= set(costs_per_model.columns) or "model" not in costs_per_model.index.names:
        raise InvalidParameterError(
            "costs_per_model", sorted(map(str, costs_per_model.columns))[:4],
            reason="is not a unit_costs() frame (needs a model index and usd_per_1m_input/output)",
        )  # fmt: skip
    ax = _axes(ax)
    models = [str(m) for m in costs_per_model.index.get_level_values("model")]
    x = np.arange(len(models))
    for offset, column, label in ((-0.2, "usd_per_1m_input", "input"), (0.2, "usd_per_1m_output", "output")):
        values = costs_per_model[column].astype(float).fillna(0).to_numpy()
        ax.bar(x + offset, values, width=0.4, label=label, color=PALETTE[0 if label == "input" else 6])
    ax.set_xticks(x, models, rotation=20, ha="right")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"${v:,.2f}"))
    ax.set_ylabel("USD per 1M tokens")
    _title(ax, "Unit cost by model")
    ax.legend()
    return ax
