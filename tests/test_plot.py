"""Every plot renders headless (Agg) with the right series, labels and units; colours are stable per category."""

from __future__ import annotations

import matplotlib
import matplotlib.dates as mdates
import pandas as pd
import pytest

import usage_frames as uf
from usage_frames import ops, plot

NOW = pd.Timestamp("2026-10-20", tz="UTC")


@pytest.fixture(scope="module")
def fake():
    return uf.Client.fake()


def legend(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_backend_is_headless():
    assert matplotlib.get_backend().lower() == "agg"


def test_spend__stacks_the_top_n_plus_other_in_usd_per_utc_day(fake):
    costs = fake.costs("2026-09-01", "2026-11-01", group_by="line_item")
    ax = costs.usage.plot.spend(by="line_item", n=4)
    assert legend(ax)[-1] == "other" and len(legend(ax)) == 5
    assert len(ax.patches) == 5 * 61  # five series, one bar per day
    assert ax.get_ylabel() == "Spend (USD)" and ax.get_xlabel() == "Date (UTC)"
    assert ax.yaxis.get_major_formatter()(1234, 0) == "$1,234"
    heights = sum(p.get_height() for p in ax.patches)
    assert heights == pytest.approx(float(costs["amount"].sum()))


@pytest.mark.parametrize("rule", ["W-MON", "W-SUN", "W-WED", "MS", "ME", "2W-SUN", "3D"])
def test_spend__bars_are_pandas_bins_of_the_rule_each_over_the_days_it_sums(fake, rule):
    """pandas' meaning of the rule ("W-MON": weeks ending Monday), no bar before the data's first day."""
    costs = fake.costs("2026-09-07", "2026-11-02")
    ax = plot.spend(costs, rule=rule)
    expected = costs["amount"].astype(float).resample(rule).sum()
    expected = expected[costs["amount"].resample(rule).count() > 0]
    assert [p.get_height() for p in ax.patches] == pytest.approx(expected.tolist())
    starts = [mdates.num2date(p.get_x()) for p in ax.patches]
    assert min(starts) == costs.index.min() and ax.get_legend() is None
    ends = [mdates.num2date(p.get_x() + p.get_width() / 0.85) for p in ax.patches]
    assert all((b - a).total_seconds() > -1 for a, b in zip(ends, starts[1:], strict=False))  # no overlap


def test_top__largest_on_top_with_units(fake):
    usage = fake.completions("2026-10-01", "2026-10-08", group_by="model")
    ax = plot.top(usage, by="model", values="output_tokens", n=3)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    widths = [p.get_width() for p in ax.patches]
    assert len(labels) == 3 and widths == sorted(widths)
    assert ax.get_xlabel() == "output_tokens (tokens)"
    assert ax.xaxis.get_major_formatter()(2_500_000, 0) == "2.5M"


def test_token_mix__four_series_in_tokens(fake):
    ax = plot.token_mix(fake.completions("2026-10-01", "2026-10-15", group_by="model"))
    assert legend(ax) == ["input, uncached", "input, cached", "input, cache write", "output"]
    assert len(ax.collections) == 4 and ax.get_ylabel() == "Tokens"


def test_heatmap__hour_by_weekday_needs_hourly_data(fake):
    hourly = fake.completions("2026-10-05", "2026-10-19", bucket_width="1h")
    ax = plot.heatmap(hourly)
    grid = ax.images[0].get_array()
    assert grid.shape == (7, 24)
    assert grid[2, 14] > grid[5, 14] and grid[2, 14] > grid[2, 3]  # weekday afternoons are busiest
    with pytest.raises(uf.InvalidParameterError, match="must be hourly"):
        plot.heatmap(fake.completions("2026-10-05", "2026-10-19"))


def test_month_to_date__actual_forecast_band_alerts_limit_budget(fake):
    costs = fake.costs("2026-09-15", "2026-10-20")
    ax = plot.month_to_date(costs, budget=3000, alerts=[1500, 2500], limit=4000, now=NOW)
    texts = legend(ax)
    assert texts[0] == "spend to date" and texts[1].startswith("forecast $")
    assert {"alert $1,500", "alert $2,500", "limit $4,000", "budget $3,000"} <= set(texts)
    spent = ax.lines[0].get_ydata()
    assert spent[-1] == pytest.approx(float(costs.loc["2026-10-01":, "amount"].sum()))
    forecast_line = ax.lines[1]
    assert forecast_line.get_ydata()[0] == pytest.approx(spent[-1])  # the forecast starts where spend ends
    assert ax.get_ylabel() == "Cumulative spend (USD)"


def test_unit_cost__two_bars_per_model_in_usd_per_million(fake):
    u = ops.unit_costs(
        fake.completions("2026-10-01", "2026-10-08", group_by="model"),
        fake.costs("2026-10-01", "2026-10-08", group_by="line_item"),
    )
    ax = plot.unit_cost(u)
    assert len(ax.patches) == 2 * len(u) and legend(ax) == ["input", "output"]
    assert ax.get_ylabel() == "USD per 1M tokens"


def test_colors__stable_per_category_across_plots(fake):
    costs = fake.costs("2026-10-01", "2026-10-15", group_by="project_id")
    first = {
        t.get_text(): h.get_facecolor()
        for t, h in zip(
            plot.spend(costs, by="project_id").get_legend().get_texts(),
            plot.spend(costs, by="project_id").get_legend().legend_handles,
            strict=True,
        )
    }
    ax = plot.top(costs, by="project_id")
    for label, patch in zip(ax.get_yticklabels(), ax.patches, strict=True):
        assert tuple(patch.get_facecolor()) == pytest.approx(tuple(first[label.get_text()]))
    assert len({tuple(c) for c in first.values()}) == len(first)


# --- issue 10: every plot takes its unit from the column it draws, or refuses the frame ------------------------


def test_spend__refuses_a_usage_frame_instead_of_drawing_tokens_as_dollars(fake):
    usage = fake.completions("2026-10-01", "2026-10-08", group_by="model")
    with pytest.raises(uf.InvalidParameterError, match=r"costs: 'completions' is a completions frame; spend \(USD\)"):
        usage.usage.plot.spend(by="model")
    with pytest.raises(uf.InvalidParameterError, match="is a completions frame; month to date"):
        plot.month_to_date(usage)
    with pytest.raises(uf.InvalidParameterError, match="is a costs frame; token mix"):
        plot.token_mix(fake.costs("2026-10-01", "2026-10-08"))
    with pytest.raises(uf.InvalidParameterError, match="is not a unit_costs"):
        plot.unit_cost(usage)


@pytest.mark.parametrize(
    ("endpoint", "values", "unit"),
    [("costs", "amount", "USD"), ("completions", "input_tokens", "tokens"), ("completions", "num_model_requests",
     "requests"), ("images", "images", "images"), ("audio_transcriptions", "seconds", "seconds"),
     ("vector_stores", "usage_bytes", "bytes"), ("code_interpreter_sessions", "num_sessions", "sessions")],
)  # fmt: skip
def test_top__unit_comes_from_the_column_drawn(fake, endpoint, values, unit):
    df = fake.fetch(endpoint, "2026-10-01", "2026-10-08", group_by="project_id")
    ax = plot.top(df, by="project_id", values=values)
    assert ax.get_xlabel() == f"{values} ({unit})"
    money = ax.xaxis.get_major_formatter()(1234, 0).startswith("$")
    assert money == (unit == "USD")
    widest = max(p.get_width() for p in ax.patches)
    assert widest == pytest.approx(float(ops.totals(df, by="project_id")[values].max()))


def test_top__levels_are_averaged_over_time_not_summed(fake):
    df = fake.vector_stores("2026-10-01", "2026-10-08", group_by="project_id")
    ax = plot.top(df, by="project_id")
    per_project = df.groupby("project_id", observed=True)["usage_bytes"]
    mean_bytes = float(per_project.mean().max())  # one row per day: the mean over days
    assert max(p.get_width() for p in ax.patches) == pytest.approx(mean_bytes)
    assert max(p.get_width() for p in ax.patches) < float(per_project.sum().max())


def test_heatmap__colorbar_names_the_unit(fake):
    ax = plot.heatmap(fake.completions("2026-10-05", "2026-10-12", bucket_width="1h"), values="output_tokens")
    assert ax.figure.axes[-1].get_ylabel() == "output_tokens (tokens)"


# --- issue 14: a notebook's plot is a pyplot figure (shown inline); the report's are off screen ---------------------


def test_plot__a_new_figure_is_a_pyplot_one_that_a_notebook_shows(fake):
    import matplotlib.pyplot as plt
    from matplotlib.axes import Axes

    costs = fake.costs("2026-10-01", "2026-10-15", group_by="project_id")
    before = set(plt.get_fignums())
    ax = costs.usage.plot.spend(by="project_id")
    assert isinstance(ax, Axes) and plt.gcf() is ax.figure
    assert len(set(plt.get_fignums()) - before) == 1


def test_off_screen__the_same_plot_on_a_figure_pyplot_never_sees(fake):
    import matplotlib.pyplot as plt
    from matplotlib.axes import Axes

    costs = fake.costs("2026-10-01", "2026-10-15", group_by="project_id")
    shown = plot.spend(costs, by="project_id")
    before = plt.get_fignums()
    with plot.off_screen():
        hidden = costs.usage.plot.spend(by="project_id")
        assert isinstance(plot.top(costs, by="project_id"), Axes)
    assert plt.get_fignums() == before and plt.gcf() is shown.figure  # pyplot saw none of them
    assert isinstance(hidden, Axes) and legend(hidden) == legend(shown)
    assert [p.get_height() for p in hidden.patches] == [p.get_height() for p in shown.patches]
    assert plot.top(costs, by="project_id").figure is plt.gcf()  # and outside the block, pyplot's again
