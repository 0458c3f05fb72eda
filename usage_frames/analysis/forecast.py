"""Forecasts: daily spend, the month-end forecast and anomalies, from the data's "as of" time.

Part of :mod:`usage_frames.ops`, which re-exports every public name here.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from usage_frames._core.errors import InvalidParameterError, UsageFramesWarning
from usage_frames._core.query import TimeLike
from usage_frames.analysis.frame import (
    as_of,
    by_keys,
    count_arg,
    endpoint_of,
    finish,
    now_arg,
    number_arg,
    times_of,
    values_of,
)

LOOKBACK = 28  # settled days a month-end forecast fits: four of each weekday


def _data_end(data: pd.DataFrame | pd.Series) -> pd.Timestamp:
    """Where the data ends: the window's end (``attrs["end"]``), else the last bucket's end."""
    end = data.attrs.get("end")
    if end is not None:
        return pd.Timestamp(end).tz_convert("UTC")
    if isinstance(data, pd.DataFrame) and "end_time" in data.columns and len(data):
        return pd.Timestamp(data["end_time"].max()).tz_convert("UTC")
    return pd.Timestamp(times_of(data).max()) + pd.Timedelta(days=1)


def daily_spend(costs: pd.DataFrame) -> pd.Series:
    """Total spend per UTC day (a Series indexed by day), from a costs frame of any grouping.

    Examples:
        >>> from usage_frames import Client
        >>> daily_spend(Client.sample().costs("2026-10-01", "2026-10-03", group_by="line_item")).round(2).tolist()
        [76.3, 89.3]
    """
    if not endpoint_of(costs).priced:
        raise InvalidParameterError("costs", endpoint_of(costs).name, ("costs",))
    series = costs["amount"].astype(float).groupby(times_of(costs).floor("D")).sum()
    series.index.name = "day"
    return series


def forecast_start(now: TimeLike, lookback: int = LOOKBACK) -> pd.Timestamp:
    """The first day of costs that the month-end forecast as of ``now`` reads: the one rule of the package.

    The forecast fits the last ``lookback`` settled days (the days that ended more than a day before ``now``) and
    adds up the month to date, so it needs costs from the earlier of the month's first day and the first fitted
    day. The report, ``usage-frames check`` and :func:`forecast` all fetch from here, so that they give one figure
    for one month; :func:`forecast` warns when its costs start later.

    Args:
        now: The "as of" time of the forecast (the client's clock, ``client.clock()``).
        lookback: Days of history to fit, as for :func:`forecast`.

    Examples:
        >>> forecast_start("2026-10-21")  # the 28 days fitted are 2026-09-22 to 2026-10-19
        Timestamp('2026-09-22 00:00:00+0000', tz='UTC')
        >>> forecast_start("2026-10-31 23:59:30")  # late in a month: the month's first day comes first
        Timestamp('2026-10-01 00:00:00+0000', tz='UTC')
    """
    when = now_arg(now)
    lookback = count_arg(lookback, "lookback", 7)
    month = (when - pd.Timedelta(seconds=1)).floor("D").replace(day=1)  # at midnight on the 1st: the month ended
    return min(month, when.floor("D") - pd.Timedelta(days=lookback + 1))


def _days(costs: pd.DataFrame) -> pd.Series:
    """Daily spend from the first day with spend to where the data ends, idle days as zero (they are data too).

    Not from the window's start: a frame sliced by date keeps its ``attrs``, and the days sliced off are unknown,
    not idle.
    """
    series = daily_spend(costs)
    if series.empty:
        return series
    days = pd.date_range(series.index.min(), _data_end(costs), freq="D", inclusive="left", name="day")
    return series.reindex(days.union(times_of(series)), fill_value=0.0)


def forecast(
    costs: pd.DataFrame | pd.Series,
    until: str | pd.Timestamp = "month_end",
    now: pd.Timestamp | None = None,
    lookback: int = LOOKBACK,
) -> pd.DataFrame:
    """Project daily spend to the end of the month: a linear trend times weekday factors, with a 95 % band.

    Days still settling (the last two) are left out of the fit, and so are outlier days (a spike), whose
    residual is beyond five robust deviations of the first fit; days without spend count as zero. ``attrs``
    holds ``month_to_date`` (to ``now``, the day in progress included), ``projected_total`` (the settled days of
    the month plus the expected rest, from ``forecast_from`` on) and its ``lower_total``/``upper_total``,
    ``fit_from`` and ``fit_days``. Costs that start after :func:`forecast_start` give a fit on fewer days than
    the report and ``usage-frames check`` use, with a :class:`~usage_frames.errors.UsageFramesWarning` that says
    from when to fetch.

    Args:
        costs: Costs frame (any grouping) or a daily spend Series.
        until: ``"month_end"`` or a date to project to (exclusive).
        now: The data's "as of" time (default: :func:`as_of`, the client's clock at fetch time; never the
            machine's clock). Days that end within a day of it are still settling and left out of the fit.
        lookback: Days of history to fit.

    Examples:
        >>> days = pd.date_range("2026-10-01", periods=40, freq="D", tz="UTC")
        >>> spend = pd.Series(100 + 2.0 * np.arange(40), index=days)
        >>> f = forecast(spend, until="2026-11-30", now=pd.Timestamp("2026-11-10 12:00", tz="UTC"))
        >>> round(f.attrs["projected_total"])  # truth: 100 + 2 t summed over November 1-29 (t = 31..59) = 5510
        5510
    """
    series = _days(costs) if isinstance(costs, pd.DataFrame) else costs.astype(float)
    now = as_of(costs) if now is None else now_arg(now)
    lookback = count_arg(lookback, "lookback", 7)
    today = now.floor("D")
    # The month projected is the month of the last data: a finished period projects to its own total.
    last = min(now, _data_end(costs)) - pd.Timedelta(seconds=1)
    month_start = last.floor("D").replace(day=1)
    stop = (month_start + pd.offsets.MonthBegin(1)) if until == "month_end" else pd.Timestamp(until)
    stop = stop.tz_localize("UTC") if stop.tzinfo is None else stop
    history = series[series.index < today - pd.Timedelta(days=1)].iloc[-lookback:]
    if len(history) < 7:
        raise InvalidParameterError("costs", len(history), reason="has fewer than 7 settled days to fit a forecast")
    begins = pd.Timestamp(costs.attrs.get("start") or series.index[0]).tz_convert("UTC").floor("D")
    needed = forecast_start(now, lookback)
    if len(history) < lookback and begins > needed:
        warnings.warn(
            f"forecast: the costs start on {begins:%Y-%m-%d}, so the fit has {len(history)} settled days "
            f"instead of {lookback}; fetch them from {needed:%Y-%m-%d} (ops.forecast_start) for the figure the "
            "report and usage-frames check give",
            UsageFramesWarning,
            stacklevel=2,
        )
    dates = times_of(history)
    t = (dates - dates[0]).days.to_numpy(dtype=float)
    y = history.to_numpy()
    weekday = dates.day_of_week

    def fit(keep: np.ndarray) -> tuple[float, float, pd.Series]:
        # Trend first, then weekday factors from the ratios to it: a pure trend must not look like seasonality.
        slope, intercept = np.polyfit(t[keep], y[keep], 1)
        trend = np.where(intercept + slope * t > 0, intercept + slope * t, np.nan)
        ratios = pd.Series((y / trend)[keep]).groupby(weekday[keep]).mean()
        factors = (ratios / ratios.mean()).reindex(range(7)).fillna(1.0).replace(0, 1.0)
        flat = y / factors.reindex(weekday).to_numpy()
        slope, intercept = np.polyfit(t[keep], flat[keep], 1)
        return float(slope), float(intercept), factors

    keep = np.ones(len(y), dtype=bool)
    slope, intercept, factors = fit(keep)
    # One spike day (a runaway job) must not tilt the trend of the whole month: refit without outliers.
    residual = y - (intercept + slope * t) * factors.reindex(weekday).to_numpy()
    scale = 1.4826 * float(np.median(np.abs(residual - np.median(residual))))
    if scale > 0 and (np.abs(residual) > 5 * scale).any() and (np.abs(residual) <= 5 * scale).sum() >= 7:
        keep = np.abs(residual) <= 5 * scale
        slope, intercept, factors = fit(keep)
    fitted = (intercept + slope * t) * factors.reindex(weekday).to_numpy()
    sigma = float(np.std((y - fitted)[keep], ddof=2)) if keep.sum() > 2 else 0.0
    future = pd.date_range(history.index[-1] + pd.Timedelta(days=1), stop, freq="D", inclusive="left")
    tf = (future - history.index[0]).days.to_numpy(dtype=float)
    expected = np.maximum((intercept + slope * tf) * factors.reindex(future.day_of_week).to_numpy(), 0)
    out = pd.DataFrame({"actual": history, "expected": pd.Series(fitted, index=history.index)})
    ahead = pd.DataFrame({"expected": expected, "lower": np.maximum(expected - 1.96 * sigma, 0),
                          "upper": expected + 1.96 * sigma}, index=future)  # fmt: skip
    out = pd.concat([out, ahead])
    out["actual"] = series.reindex(out.index)
    known = series[(series.index >= month_start) & (series.index <= history.index[-1])].sum()
    rest = ahead[ahead.index >= month_start]
    band = 1.96 * sigma * np.sqrt(max(len(rest), 1))
    projected = float(known + rest["expected"].sum())
    out.index.name = "day"
    out.attrs = {
        **getattr(costs, "attrs", {}),
        "month_to_date": float(series[(series.index >= month_start)].sum()),
        "projected_total": projected,
        "lower_total": max(projected - band, float(known)),
        "upper_total": projected + band,
        "forecast_from": str(history.index[-1] + pd.Timedelta(days=1)),
        "fit_from": str(history.index[0]),
        "fit_days": len(history),
        "month": month_start.isoformat(),
        "as_of": now.isoformat(),
    }
    return out


def anomalies(
    df: pd.DataFrame,
    values: str | None = None,
    by: str | None = None,
    window: int = 28,
    threshold: float = 5.0,
    direction: str = "both",
) -> pd.DataFrame:
    """Days whose value is far from normal for that weekday: a robust z-score on a rolling window.

    Each day is compared with the median of the previous ``window`` days after removing weekday seasonality;
    the scale is the larger of the median absolute deviation and the interquartile range, so a spike cannot hide
    itself by inflating the spread, and intermittent series keep their real spread. A project that idles on
    some weekdays shows those days as drops: ask for ``direction="up"`` to watch spend only. Days still
    settling at the data's "as of" time (:func:`as_of`) are never flagged as drops: they are only incomplete.

    Args:
        df: Any usage or costs frame.
        values: The measure (default: ``amount`` for costs, else the first count).
        by: A dimension to check separately (default: the total).
        window: Days of history each day is compared with.
        threshold: The robust z-score beyond which a day is flagged.
        direction: ``"both"``, ``"up"`` or ``"down"``.

    Returns:
        One row per flagged day (and dimension): ``value``, ``expected``, ``z`` and ``direction``.

    Examples:
        >>> from usage_frames import Client
        >>> spend = Client.fake().costs("2026-08-01", "2026-11-01", group_by="project_id")
        >>> [str(d.date()) for d in anomalies(spend).index]  # the organization's total
        ['2026-10-14']
        >>> up = anomalies(spend, by="project_id", direction="up")
        >>> [(str(d.date()), p) for d, p in zip(up.index, up["project_id"])]
        [('2026-10-14', 'proj_search')]
    """
    window, threshold = count_arg(window, "window", 14), number_arg(threshold, "threshold")
    if direction not in ("both", "up", "down"):
        raise InvalidParameterError("direction", direction, ("both", "up", "down"))
    name = values_of(df, values)
    keys = by_keys(df, by)
    day = times_of(df).floor("D")
    settle = endpoint_of(df).settle
    settling = as_of(df) - settle - pd.Timedelta(days=1)  # days starting after this may still grow
    series = df[name].astype(float).groupby([day, *(df[k].astype(object) for k in keys)], dropna=False).sum()
    series.index = series.index.set_names(["day", *keys])
    rows = []
    groups = series.groupby(level=keys, dropna=False) if keys else [((), series)]
    for label, part in groups:
        s = part.droplevel(list(range(1, part.index.nlevels))) if keys else part
        s = s.reindex(pd.date_range(s.index.min(), s.index.max(), freq="D"), fill_value=0.0)
        days = times_of(s)
        by_weekday = s.groupby(days.day_of_week)
        weekday = by_weekday.median()
        # Weekday seasonality needs four of each weekday, and must stand out of the spread within each weekday:
        # an intermittent project whose idle days fell on two Thursdays would otherwise turn its next working
        # Thursday into a huge spike (z = 7076 on the sample's October, before this rule).
        within = (by_weekday.quantile(0.75) - by_weekday.quantile(0.25)).median()
        seasonal = len(s) >= 28 and s.median() > 0 and weekday.max() - weekday.min() > 2 * within
        factor = (weekday / s.median() if seasonal else weekday * 0 + 1).replace(0, np.nan)
        flat = pd.Series(s.to_numpy() / factor.reindex(days.day_of_week).to_numpy(), index=days)
        z, median = _robust_z(flat, window, 14)
        if seasonal:  # and far from the same weekday's own history: a half-idle weekday may well be busy
            z_weekday = _robust_z(s, 8, 3, groups=days.day_of_week)[0]
            z = z.where(np.sign(z) == np.sign(z_weekday.reindex(z.index)))
            z = z.where(z.abs() <= z_weekday.reindex(z.index).abs(), z_weekday.reindex(z.index))
        drop = (z < -threshold) & (z.index <= settling)
        flagged = {"both": (z > threshold) | drop, "up": z > threshold, "down": drop}[direction]
        for when in z.index[flagged]:
            expected = median[when] * factor.get(when.day_of_week, 1.0)
            row = {"day": when, "value": s[when], "expected": expected, "z": z[when],
                   "direction": "up" if z[when] > 0 else "down"}  # fmt: skip
            row |= dict(zip(keys, label if isinstance(label, tuple) else (label,), strict=True))
            rows.append(row)
    columns = ["day", *keys, "value", "expected", "z", "direction"]
    out = pd.DataFrame(rows, columns=columns).set_index("day")
    return finish(out, df, values=name)


def _robust_z(
    s: pd.Series, window: int, min_periods: int, groups: pd.Index | None = None
) -> tuple[pd.Series, pd.Series]:
    """Each value against the median of the ``window`` values before it, in robust units (and that median).

    The scale is the largest of the MAD, the IQR (MAD alone collapses on intermittent series with idle days) and
    5 % of the median. With ``groups`` (a label per value, such as the weekday), each group is its own series:
    the values before a value are those of its group.
    """
    keys = np.zeros(len(s), dtype=np.int64) if groups is None else np.asarray(groups)

    def rolling(values: pd.Series) -> Any:  # one grouped rolling window, back in the order of ``s``
        return values.groupby(keys, group_keys=False).rolling(window, min_periods=min_periods)

    def back(rolled: pd.Series) -> pd.Series:
        return rolled.droplevel(0).reindex(s.index)

    before = s.groupby(keys).shift(1)
    past = rolling(before)
    median = back(past.median())
    mad = back(rolling((before - median).abs()).median()) * 1.4826
    iqr = (back(past.quantile(0.75)) - back(past.quantile(0.25))) / 1.349
    scale = pd.concat([mad, iqr, 0.05 * median.abs()], axis=1).max(axis=1).replace(0, np.nan)
    return (s - median) / scale, median
