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
    as_of,
    by_keys,
    combine_values,
    count_arg,
    endpoint_of,
    fields_of,
    finish,
    frame_arg,
    grid_of,
    keys_of,
    meta_of,
    now_arg,
    times_of,
    values_of,
)

# --- reshaping -------------------------------------------------------------------------------------------------


def complete(df: pd.DataFrame) -> pd.DataFrame:
    """The full bucket grid of the requested window for every group seen, with zeros where nothing was used.

    The API leaves idle buckets empty; after ``complete`` they are rows of zeros (levels stay ``<NA>``), so that
    idle days show as zeros in plots and averages, not as gaps.

    Examples:
        >>> import pandas as pd
        >>> from usage_frames import Client
        >>> df = Client.sample().code_interpreter_sessions("2026-10-02", "2026-10-06", group_by="project_id")
        >>> len(df), len(complete(df))
        (3, 8)
        >>> complete(df).loc["2026-10-05", ["project_id", "num_sessions"]].values.tolist()
        [['proj_chat', 10], ['proj_lab', 0]]
    """
    keys = keys_of(frame_arg(df))
    grid = grid_of(df)
    width = pd.Timedelta(seconds=BUCKET_SECONDS[meta_of(df)["bucket_width"]])
    ends = pd.DatetimeIndex([*grid[1:], min(pd.Timestamp(meta_of(df)["end"]), grid[-1] + width)])
    if endpoint_of(df).whole_buckets:
        ends = grid + width
    frame = type(df)({"start_time": grid, "end_time": ends})  # the frame's own class (df.plot() without end_time)
    if keys:
        frame = frame.merge(df[keys].drop_duplicates(), how="cross")
    values = [c for c in df.columns if c not in (*keys, "end_time")]
    out = frame.merge(df.reset_index()[["start_time", *keys, *values]], on=["start_time", *keys], how="left")
    for name in fields_of(df, "additive"):
        out[name] = out[name].fillna(0)
    out = out.set_index("start_time")
    for key in keys:
        out[key] = out[key].astype(df[key].dtype)
    return finish(out[df.columns], df)


def _window(df: pd.DataFrame) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The span the frame's rows may cover: its requested window (``attrs``), widened to its data."""
    meta, starts = meta_of(df), times_of(df)
    lo = min(pd.Timestamp(meta.get("start", starts.min())), starts.min())
    hi = max(pd.Timestamp(meta.get("end", df["end_time"].max())), pd.Timestamp(df["end_time"].max()))
    return lo, hi


def _pandas_bins(rule: str, offset: Any, starts: pd.DatetimeIndex) -> tuple[np.ndarray, pd.DatetimeIndex, str]:
    """Which of pandas' ``resample(rule)`` bins each start falls in: (bin number per row, bin labels, ``closed``).

    pandas itself sorts the rows into bins, with its default ``closed`` and ``label`` for the rule, exactly as
    ``df.resample(rule)`` does (a ``"3D"`` or ``"2W-SUN"`` counts from the first row).
    """
    order = np.argsort(starts.asi8, kind="stable")
    try:
        grouper = pd.Grouper(freq=offset)
        sizes = pd.Series(0, index=starts[order]).groupby(grouper).size()
    except (ValueError, TypeError, NotImplementedError) as exc:  # an offset pandas knows but cannot resample by
        raise InvalidParameterError("rule", rule, reason=f"is not a rule pandas can resample by ({exc})") from None
    number = np.empty(len(starts), dtype=np.int64)
    number[order] = np.repeat(np.arange(len(sizes)), sizes.to_numpy())
    return number, pd.DatetimeIndex(sizes.index), str(grouper.closed)


def _spans(labels: pd.DatetimeIndex, offset: Any, closed: str) -> tuple[pd.DatetimeIndex, pd.DatetimeIndex]:
    """The instants each of pandas' consecutive bins covers, ``[left, right)``, from its labels.

    Left-closed bins are labelled by their start and end where the next begins, one ``offset`` later (pandas'
    bins are a ``date_range`` of the rule). Right-closed ones (``W-MON``, ``ME``, ``QE``...) are labelled by
    their anchor day, which they end with: pandas moves their edges to the end of that day, so a bin covers the
    days after the previous anchor day up to and including its own.
    """
    if closed == "left":
        return labels, pd.DatetimeIndex(labels[1:].append(pd.DatetimeIndex([labels[-1] + offset])))
    wall = labels.tz_localize(None)
    edges = pd.DatetimeIndex([wall[0] - offset, *wall]) + pd.Timedelta(days=1)
    local = edges.tz_localize(labels.tz, ambiguous=np.ones(len(edges), dtype=bool), nonexistent="shift_forward")
    return local[:-1], local[1:]


def resample(df: pd.DataFrame, rule: str, tz: str | None = None) -> pd.DataFrame:
    """Re-bucket to a coarser pandas rule, with pandas' own bins: counts summed, levels averaged.

    Each output row holds exactly the input rows that pandas' ``df.resample(rule)`` puts together on the
    ``start_time`` index (``df.tz_convert(tz).resample(rule)`` with ``tz``), with the rule's default ``closed``
    and ``label``: ``"W-MON"`` is weeks *ending* Monday (Tuesday to Monday), ``"ME"`` calendar months, ``"MS"``
    the same months, ``"2W-SUN"`` or ``"3D"`` count from the first row, as in pandas. Only the labels differ:
    where pandas labels a bin by the end of its period (``W-MON``, ``ME``, ``QE``, ``YE``...), the row here is
    labelled by the start of its span and ``end_time`` gives its end, as in every frame; the first and last
    span are cut to the frame's window, as the API cuts its first and last bucket. A rule or zone that would
    cut an input bucket in two is refused, never spread or misplaced.

    Args:
        df: A frame from a fetch (or another helper).
        rule: A pandas frequency (``"D"``, ``"W-MON"``, ``"MS"``, ``"QE-NOV"``, ``"6h"``...).
        tz: Bin in this time zone (DST-correct local days) from hourly or minute data; the index stays UTC
            (local midnight in UTC) and ``attrs["tz"]`` records the zone.

    Raises:
        InvalidParameterError: For an unknown rule, or a rule or zone whose buckets would cut the data's own
            (``"1h"`` of daily data; local days of a half-hour zone such as Asia/Kolkata from hourly data).

    Examples:
        >>> from usage_frames import Client
        >>> daily = Client.fake().completions("2026-10-01", "2026-10-15")  # Thursday Oct 1 to Wednesday Oct 14
        >>> weeks = resample(daily, "W-MON")  # pandas: weeks ending Monday, labelled Oct 5 and Oct 12, and Oct 19
        >>> [f"{s:%a %b %d}-{e:%a %b %d}" for s, e in zip(weeks.index, weeks["end_time"])]
        ['Thu Oct 01-Tue Oct 06', 'Tue Oct 06-Tue Oct 13', 'Tue Oct 13-Thu Oct 15']
        >>> hourly = Client.fake().embeddings("2026-10-24", "2026-10-28", bucket_width="1h")
        >>> local = resample(hourly, "D", tz="Europe/Berlin")  # DST ends on 2026-10-25 in Berlin
        >>> [str(t) for t in local.index[:3]]
        ['2026-10-24 00:00:00+00:00', '2026-10-24 22:00:00+00:00', '2026-10-25 23:00:00+00:00']
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
    starts = times_of(df)
    ends = pd.DatetimeIndex(df["end_time"])
    if not len(df):
        out = data.iloc[:0].copy()
        out.insert(0, "end_time", df["end_time"].iloc[:0])
        return finish(out, df, bucket_width=rule, tz=tz)
    lo, hi = _window(df)
    bins, labels, closed = _pandas_bins(rule, offset, starts.tz_convert(tz or "UTC"))
    lefts, rights = (edge.tz_convert("UTC") for edge in _spans(labels, offset, closed))
    cut = ends > rights[bins]  # a bucket that runs on into the next bin
    if cut.any():
        i = int(np.argmax(cut))
        width = meta_of(df).get("bucket_width") or "its"
        evidence = (f"{starts[i]:%Y-%m-%d %H:%M}..{ends[i]:%Y-%m-%d %H:%M} UTC straddles "
                    f"{rights[bins[i]]:%Y-%m-%d %H:%M} UTC")  # fmt: skip
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
    # Each span is cut to the window, as the API cuts its first and last bucket to the query's.
    begins, stops = lefts[bins].where(lefts[bins] > lo, lo), rights[bins].where(rights[bins] < hi, hi)
    bucket = begins.as_unit(starts.unit).rename("start_time")
    grouped = data.groupby([bucket, *(data[k] for k in keys)], observed=True, dropna=False)  # a null key is a group
    out = combine_values(grouped, df, over_time=True)
    out = out.reset_index(keys) if keys else out
    span_end = pd.Series(stops.as_unit(ends.unit), index=bucket).groupby(level=0).first()
    out.insert(0, "end_time", span_end.reindex(out.index).to_numpy())
    out.index = pd.DatetimeIndex(out.index).rename("start_time")
    return finish(out[[c for c in df.columns if c in out.columns]], df, bucket_width=rule, tz=tz)


def gib_days(df: pd.DataFrame) -> pd.DataFrame:
    """Vector store storage as GiB-days (bytes held x time), the unit storage is billed in; never summed bytes.

    Examples:
        >>> from usage_frames import Client
        >>> df = Client.sample().vector_stores("2026-10-01", "2026-10-03", group_by="project_id")
        >>> gib_days(df).groupby("project_id", observed=True)["gib_days"].sum().round(2).tolist()
        [0.76, 9.1]
    """
    if "usage_bytes" not in df.columns:
        raise InvalidParameterError("df", endpoint_of(df).name, ("vector_stores",), reason="has no usage_bytes")
    days = (df["end_time"] - df.index.to_series()).dt.total_seconds().to_numpy() / 86400
    out = df.copy()
    out["gib_days"] = df["usage_bytes"].astype("Float64") / 2**30 * days
    return finish(out, df)


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
    seconds = BUCKET_SECONDS.get(meta_of(df).get("bucket_width", ""), 0)
    if seconds and not endpoint_of(df).whole_buckets:
        flags |= (df["end_time"] - starts).dt.total_seconds() < seconds
    out = df.copy()
    out["provisional"] = flags.to_numpy()
    return finish(out, df)


def pivot(df: pd.DataFrame, columns: str, values: str | None = None) -> pd.DataFrame:
    """A wide frame (time x dimension), zero-filled, ready to plot.

    Examples:
        >>> from usage_frames import Client
        >>> wide = pivot(Client.fake().completions("2026-10-01", "2026-10-03", group_by="model"), "model")
        >>> wide.shape, wide.columns.name
        ((2, 4), 'model')
    """
    name = values_of(df, values)
    by_keys(df, columns)
    flat = df.reset_index()
    wide = flat.pivot_table(
        index="start_time", columns=columns, values=name, aggfunc="sum", fill_value=0, observed=True, dropna=False
    )
    return finish(wide, df, values=name)


def _labels_of(df: pd.DataFrame) -> dict[str, str]:
    """The label columns of a frame (:func:`label`'s ``project_name``...) by the key column each names."""
    named = {key: key.removesuffix("_id") + "_name" for key in keys_of(df)}
    return {key: name for key, name in named.items() if name in df.columns and name != key}


def top_n(df: pd.DataFrame, n: int, by: str, values: str | None = None, other: str = "other") -> pd.DataFrame:
    """Keep the ``n`` largest groups of ``by`` (by total ``values``) and fold the rest into ``other``.

    ``by`` is a key or a label of one (``project_name`` after :func:`label`): the folded rows say ``other`` in both
    the key and its label. Rows whose key is null (Anthropic's default workspace) are a group like any other.

    Examples:
        >>> from usage_frames import Client
        >>> df = Client.fake().costs("2026-10-01", "2026-10-08", group_by="line_item")
        >>> folded = top_n(df, 3, by="line_item")
        >>> folded["line_item"].nunique(), bool(abs(folded["amount"].sum() - df["amount"].sum()) < 1e-9)
        (4, True)
    """
    n = count_arg(n, "n")
    name = values_of(df, values)
    keys, labels = keys_of(df), _labels_of(df)
    allowed = [*keys, *(c for c in labels.values() if c not in keys)]
    if not isinstance(by, str) or by not in allowed:
        raise InvalidParameterError("by", by, allowed, reason="is not a group key of this frame or a label of one")
    ranking = df.groupby(by, observed=True, dropna=False)[name].sum().sort_values(ascending=False)
    kept = ranking.index[:n]
    keep = df[by].isin(kept.dropna()).to_numpy() | (df[by].isna().to_numpy() & bool(kept.isna().any()))
    partner = labels.get(by) or next((k for k, label in labels.items() if label == by), None)
    out = df.copy()
    for column in (by, partner) if partner else (by,):
        out[column] = out[column].astype("string").where(keep, other)
    groups = [c for c in df.columns if c in keys or c in labels.values()]
    # A key with no value (a default workspace, a combined bill's project name where it is not labelled) is a
    # group, not a lost dollar.
    per_group = out.drop(columns="end_time").groupby([out.index, *groups], observed=True, sort=False, dropna=False)
    grouped = combine_values(per_group, df, False)
    grouped = grouped.reset_index(groups)
    grouped.index.name = "start_time"
    ends = df["end_time"].groupby(level=0).first()
    grouped.insert(0, "end_time", ends.reindex(grouped.index).to_numpy())
    order = [c for c in [*kept, other] if pd.notna(c) and c in set(grouped[by])]
    grouped[by] = pd.Categorical(grouped[by], categories=order)
    return finish(grouped[[c for c in df.columns if c in grouped.columns]], df)
