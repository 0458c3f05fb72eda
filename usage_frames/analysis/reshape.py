"""Reshaping: the full bucket grid, calendar resampling, pivots, the top N and levels in GiB-days.

Part of :mod:`usage_frames.ops`, which re-exports every public name here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from usage_frames._core.errors import InvalidParameterError
from usage_frames._core.schema import BUCKET_SECONDS
from usage_frames.analysis.frame import (
    _by,
    _combine,
    _fields,
    _finish,
    _grid,
    _meta,
    _times,
    _values,
    as_of,
    count_arg,
    endpoint_of,
    frame_arg,
    keys_of,
    now_arg,
)

# --- reshaping -------------------------------------------------------------------------------------------------


def complete(df: pd.DataFrame) -> pd.DataFrame:
    """The full bucket grid of the requested window for every group seen, with zeros where nothing was used.

    The API leaves idle buckets empty; after ``complete`` they are rows of zeros (levels stay ``<NA>``), so that
    idle days show as zeros in plots and averages, not as gaps.

    Examples:
        >>> import pandas as pd
        >>> from usage_frames import Client
        >>> df = Client.fake().code_interpreter_sessions("2026-10-02", "2026-10-06", group_by="project_id")
        >>> len(df), len(complete(df))
        (3, 8)
        >>> complete(df).loc["2026-10-05", ["project_id", "num_sessions"]].values.tolist()
        [['proj_lab', 0], ['proj_chat', 10]]
    """
    keys = keys_of(frame_arg(df))
    grid = _grid(df)
    width = pd.Timedelta(seconds=BUCKET_SECONDS[_meta(df)["bucket_width"]])
    ends = pd.DatetimeIndex([*grid[1:], min(pd.Timestamp(_meta(df)["end"]), grid[-1] + width)])
    if endpoint_of(df).whole_buckets:
        ends = grid + width
    frame = pd.DataFrame({"start_time": grid, "end_time": ends})
    if keys:
        frame = frame.merge(df[keys].drop_duplicates(), how="cross")
    values = [c for c in df.columns if c not in (*keys, "end_time")]
    out = frame.merge(df.reset_index()[["start_time", *keys, *values]], on=["start_time", *keys], how="left")
    for name in _fields(df, "additive"):
        out[name] = out[name].fillna(0)
    out = out.set_index("start_time")
    for key in keys:
        out[key] = out[key].astype(df[key].dtype)
    return _finish(out[df.columns], df)


def _edges(offset: Any, first: pd.Timestamp, last: pd.Timestamp) -> pd.DatetimeIndex:
    """The bucket boundaries of ``offset`` from the bucket holding ``first`` to past ``last``, in their zone.

    Buckets start on the anchor of begin-anchored rules (``MS``, ``QS``, ``W-MON``: weeks starting Monday) and
    end with the anchor day of end-anchored ones (``ME`` is the calendar month, not the 30 days before its last
    day). Fixed durations (``h``, ``15min``) count from local midnight of the first day, days (``D``, ``7D``)
    from that day, all in wall time, so local days and hours are DST-correct.
    """
    zone = first.tz
    if isinstance(offset, pd.offsets.Tick):
        # Wall-clock steps from local midnight, each at every instant it occurs: a repeated hour at the end of
        # DST is two buckets, a skipped one none, and a half-hour DST shift (Lord Howe) moves the boundaries.
        wall, stop = first.tz_localize(None), last.tz_localize(None)
        step = pd.Timedelta(offset)
        start = wall.normalize() + (wall - wall.normalize()) // step * step
        naive = pd.date_range(start - step, stop + 2 * step, freq=step)
        both = [
            naive.tz_localize(zone, ambiguous=np.full(len(naive), fold), nonexistent="NaT") for fold in (True, False)
        ]
        ticks = both[0].union(both[1]).dropna()
        below, above = ticks[ticks <= first], ticks[ticks >= last]
        return ticks[(ticks >= below.max()) & (ticks <= above.min())]
    day = first.tz_localize(None).normalize()
    base = offset.base
    if type(offset).__name__.endswith("End"):  # ME, QE, YE, BME, SME...: the period ends with its anchor day
        anchor = base.rollforward(day) - base
        shift = pd.DateOffset(days=1)
    elif isinstance(offset, pd.offsets.Day):
        anchor, shift = day, pd.DateOffset(days=0)
    else:
        anchor, shift = base.rollback(day), pd.DateOffset(days=0)
    edges = [anchor]
    stop = last.tz_localize(None)
    while edges[-1] + shift < stop or len(edges) < 2:
        edges.append(edges[-1] + offset)
    naive = pd.DatetimeIndex(edges) + shift
    return naive.tz_localize(zone, ambiguous=np.ones(len(naive), dtype=bool), nonexistent="shift_forward")


def resample(df: pd.DataFrame, rule: str, tz: str | None = None) -> pd.DataFrame:
    """Re-bucket to a coarser rule (``"D"``, ``"W-MON"``, ``"MS"``, ``"ME"``...): counts summed, levels averaged.

    Every output row covers ``[start_time, end_time)`` and holds exactly the input buckets inside that span, so
    the rows tile the data and each value is the sum over its span. End-anchored rules mean their calendar
    period (``"ME"`` is the month, ``"QE"`` the quarter); weekly rules start on their weekday (``"W-MON"``: weeks
    from Monday). A rule that would cut an input bucket in two is refused, never spread or misplaced.

    Args:
        df: A frame from a fetch (or another helper).
        rule: A pandas frequency; buckets are labelled by their start.
        tz: Cut days in this time zone (DST-correct) from hourly or minute data; the index stays UTC
            (local midnight in UTC) and ``attrs["tz"]`` records the zone.

    Raises:
        InvalidParameterError: For an unknown rule, or a rule or zone whose buckets would cut the data's own
            (``"1h"`` of daily data; local days of a half-hour zone such as Asia/Kolkata from hourly data).

    Examples:
        >>> from usage_frames import Client
        >>> hourly = Client.fake().embeddings("2026-10-24", "2026-10-28", bucket_width="1h")
        >>> local = resample(hourly, "D", tz="Europe/Berlin")  # DST ends on 2026-10-25 in Berlin
        >>> [str(t) for t in local.index[:3]]
        ['2026-10-23 22:00:00+00:00', '2026-10-24 22:00:00+00:00', '2026-10-25 23:00:00+00:00']
        >>> int(local["input_tokens"].sum()) == int(hourly["input_tokens"].sum())
        True
        >>> months = resample(Client.fake().costs("2026-06-01", "2026-09-01"), "ME")
        >>> [f"{s:%b %d}-{e:%b %d}" for s, e in zip(months.index, months["end_time"])]
        ['Jun 01-Jul 01', 'Jul 01-Aug 01', 'Aug 01-Sep 01']
    """
    keys = keys_of(df)
    try:
        offset = pd.tseries.frequencies.to_offset(rule)
    except (ValueError, TypeError):
        raise InvalidParameterError(
            "rule", rule, reason="is not a pandas frequency such as 'D', 'W-MON', 'MS', 'ME'"
        ) from None
    if tz is not None:
        try:
            pd.Timestamp("2026-01-01", tz=tz)
        except Exception:  # pytz and zoneinfo raise different errors for an unknown zone
            raise InvalidParameterError("tz", tz, reason="is not a time zone name such as 'Europe/Berlin'") from None
    data = df.drop(columns="end_time")
    starts = _times(df)
    ends = pd.DatetimeIndex(df["end_time"])
    if not len(df):
        out = data.iloc[:0].copy()
        out.insert(0, "end_time", df["end_time"].iloc[:0])
        return _finish(out, df, bucket_width=rule, tz=tz)
    zone = tz or "UTC"
    edges = _edges(offset, starts.min().tz_convert(zone), ends.max().tz_convert(zone)).tz_convert("UTC")
    position = edges.searchsorted(starts, side="right") - 1
    cut = ends > edges[np.minimum(position + 1, len(edges) - 1)]
    if cut.any():
        i = int(np.argmax(cut))
        width = _meta(df).get("bucket_width") or "its"
        evidence = (f"{starts[i]:%Y-%m-%d %H:%M}..{ends[i]:%Y-%m-%d %H:%M} UTC straddles "
                    f"{edges[position[i] + 1]:%Y-%m-%d %H:%M} UTC")  # fmt: skip
        if tz is None:
            raise InvalidParameterError(
                "rule",
                rule,
                reason=f"would cut the data's {width} buckets in two ({evidence}); choose a rule "
                "whose buckets hold whole input buckets",
            )
        if width == "1d":
            raise InvalidParameterError(
                "tz",
                tz,
                reason=f"cannot re-cut daily buckets (they are UTC days) into local ones ({evidence}); "
                "fetch bucket_width='1h' (or '1m' in a half-hour zone)",
            )
        raise InvalidParameterError(
            "tz", tz, reason=f"does not start its local buckets on a boundary of the data's {width} buckets "
            f"({evidence}); fetch bucket_width='1m' and resample that"
        )  # fmt: skip
    bucket = pd.DatetimeIndex(edges[position], name="start_time")
    out = _combine(data.groupby([bucket, *(data[k] for k in keys)], observed=True), df, over_time=True)
    out = out.reset_index(keys) if keys else out
    begins = pd.DatetimeIndex(out.index)
    following = edges[edges.searchsorted(begins, side="right")]
    out.insert(0, "end_time", following)
    out.index = begins.rename("start_time")
    return _finish(out[[c for c in df.columns if c in out.columns]], df, bucket_width=rule, tz=tz)


def gib_days(df: pd.DataFrame) -> pd.DataFrame:
    """Vector store storage as GiB-days (bytes held x time), the unit storage is billed in; never summed bytes.

    Examples:
        >>> from usage_frames import Client
        >>> df = Client.fake().vector_stores("2026-10-01", "2026-10-03", group_by="project_id")
        >>> gib_days(df).groupby("project_id", observed=True)["gib_days"].sum().round(2).tolist()
        [0.76, 9.1]
    """
    if "usage_bytes" not in df.columns:
        raise InvalidParameterError("df", endpoint_of(df).name, ("vector_stores",), reason="has no usage_bytes")
    days = (df["end_time"] - df.index.to_series()).dt.total_seconds().to_numpy() / 86400
    out = df.copy()
    out["gib_days"] = df["usage_bytes"].astype("Float64") / 2**30 * days
    return _finish(out, df)


def provisional(df: pd.DataFrame, now: pd.Timestamp | None = None) -> pd.DataFrame:
    """Flag buckets a report should not read as final: partial edge buckets, and recent ones still filling.

    Usage buckets settle within hours, costs within about two days (the same delays as the cache).

    Args:
        df: Any usage or costs frame.
        now: The time to judge from (default: :func:`as_of`, the data's own "as of" time, never the machine's).

    Examples:
        >>> from usage_frames import Client
        >>> df = Client.fake().costs("2026-10-01", "2026-10-05")
        >>> provisional(df, now=pd.Timestamp("2026-10-05 12:00", tz="UTC"))["provisional"].tolist()
        [False, False, True, True]
    """
    now = as_of(df) if now is None else now_arg(now)
    settle = endpoint_of(df).settle
    starts = df.index.to_series()
    flags = df["end_time"] > now - settle
    seconds = BUCKET_SECONDS.get(_meta(df).get("bucket_width", ""), 0)
    if seconds and not endpoint_of(df).whole_buckets:
        flags |= (df["end_time"] - starts).dt.total_seconds() < seconds
    out = df.copy()
    out["provisional"] = flags.to_numpy()
    return _finish(out, df)


def pivot(df: pd.DataFrame, columns: str, values: str | None = None) -> pd.DataFrame:
    """A wide frame (time x dimension), zero-filled, ready to plot.

    Examples:
        >>> from usage_frames import Client
        >>> wide = pivot(Client.fake().completions("2026-10-01", "2026-10-03", group_by="model"), "model")
        >>> wide.shape, wide.columns.name
        ((2, 4), 'model')
    """
    name = _values(df, values)
    _by(df, columns)
    flat = df.reset_index()
    wide = flat.pivot_table(
        index="start_time", columns=columns, values=name, aggfunc="sum", fill_value=0, observed=True
    )
    return _finish(wide, df, values=name)


def top_n(df: pd.DataFrame, n: int, by: str, values: str | None = None, other: str = "other") -> pd.DataFrame:
    """Keep the ``n`` largest groups of ``by`` (by total ``values``) and fold the rest into ``other``.

    Examples:
        >>> from usage_frames import Client
        >>> df = Client.fake().costs("2026-10-01", "2026-10-08", group_by="line_item")
        >>> folded = top_n(df, 3, by="line_item")
        >>> folded["line_item"].nunique(), bool(abs(folded["amount"].sum() - df["amount"].sum()) < 1e-9)
        (4, True)
    """
    n = count_arg(n, "n")
    name = _values(df, values)
    _by(df, by)
    ranking = df.groupby(by, observed=True)[name].sum().sort_values(ascending=False)
    keep = set(ranking.index[:n])
    labels = df[by].astype("string")
    out = df.copy()
    out[by] = labels.where(labels.isin(keep), other)
    keys = keys_of(df)
    grouped = _combine(out.drop(columns="end_time").groupby([out.index, *keys], observed=True, sort=False), df, False)
    grouped = grouped.reset_index(keys)
    grouped.index.name = "start_time"
    ends = df["end_time"].groupby(level=0).first()
    grouped.insert(0, "end_time", ends.reindex(grouped.index).to_numpy())
    order = [*ranking.index[:n], other]
    grouped[by] = pd.Categorical(grouped[by], categories=[c for c in order if c in set(grouped[by])])
    return _finish(grouped[[c for c in df.columns if c in grouped.columns]], df)
