"""Pure DataFrame helpers: frame in, new frame out, ``start_time`` kept UTC, ``attrs`` carried forward.

Every helper reads what it needs from the frame's ``attrs`` (endpoint, width, window, group keys), so that
additive counts are summed, point-in-time levels (vector store bytes) are never summed over time, and labels
(currency, unit) are kept. ``df.usage.<name>(...)`` calls the same functions (see :mod:`usage_frames.accessor`).

Examples:
    >>> from usage_frames import Client
    >>> df = Client.fake().completions("2026-10-05", "2026-10-19", group_by="model")
    >>> weekly = resample(df, "W-MON")
    >>> len(weekly), weekly.index[0]
    (8, Timestamp('2026-10-05 00:00:00+0000', tz='UTC'))
    >>> totals(df, by="model")["input_tokens"].idxmax()
    'gpt-4o-mini-2024-07-18'
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from usage_frames.endpoints import BUCKET_SECONDS, ENDPOINTS, KEY_DTYPES, Endpoint
from usage_frames.errors import InvalidParameterError, UsageFramesWarning

TOKEN_UNITS = {"tokens": 1e6, "1000_tokens": 1e3}  # quantity units -> quantities per 1M tokens


# --- what a frame is -------------------------------------------------------------------------------------------

RESTORE_HINT = "usage_frames.ops.restore_attrs(df, endpoint=...)"


def _candidates(df: pd.DataFrame) -> list[Endpoint]:
    """Endpoints whose value columns include every value column of ``df``, closest match first."""
    names = {f.name for e in ENDPOINTS.values() for f in e.fields}
    present = {c for c in df.columns if c in names}
    if not present:
        return []
    fits = [e for e in ENDPOINTS.values() if present <= {f.name for f in e.fields}]
    # Fewest fields the frame lacks first; ties keep the table's order (completions before decisions).
    return sorted(fits, key=lambda e: len(e.fields) - len(present))


def _inferred(df: pd.DataFrame, endpoint: str | None = None) -> dict[str, Any]:
    """The ``attrs`` a fetch would have given, rebuilt from the columns (the window from the data)."""
    if endpoint is not None:
        if endpoint not in ENDPOINTS:
            raise InvalidParameterError("endpoint", endpoint, ENDPOINTS)
        chosen = ENDPOINTS[endpoint]  # type: ignore[index]
    else:
        found = _candidates(df)
        if not found:
            raise InvalidParameterError(
                "df", "a frame without usage_frames attrs",
                reason=f"has no column of any endpoint; name it with {RESTORE_HINT}",
            )  # fmt: skip
        chosen = found[0]
    attrs: dict[str, Any] = {"endpoint": chosen.name, "group_by": [k for k in chosen.group_by if k in df.columns],
                             "filters": {}}  # fmt: skip
    if isinstance(df.index, pd.DatetimeIndex) and "end_time" in df.columns and len(df):
        starts = pd.DatetimeIndex(df.index)
        spans = (pd.DatetimeIndex(df["end_time"]) - starts).total_seconds()
        common = pd.Series(spans).mode()
        width = {seconds: name for name, seconds in BUCKET_SECONDS.items()}.get(int(common.iloc[0]), "")
        attrs["bucket_width"] = "1d" if chosen.name == "costs" else width
        attrs["start"] = starts.min().isoformat()
        attrs["end"] = pd.Timestamp(df["end_time"].max()).isoformat()
    return attrs


def _meta(df: pd.DataFrame) -> dict[str, Any]:
    """The frame's ``attrs``, or, for a frame that lost them (``pd.concat``, CSV), what its columns tell."""
    if df.attrs.get("endpoint") in ENDPOINTS:
        return {str(k): v for k, v in df.attrs.items()}
    _times(df)
    return _inferred(df)


def restore_attrs(df: pd.DataFrame, endpoint: str | None = None) -> pd.DataFrame:
    """A frame that lost its ``attrs`` (``pd.concat`` of two periods, a CSV or Parquet file) made whole again.

    The endpoint is read from the columns (completions and decisions, or embeddings and moderations, have the
    same columns: pass ``endpoint=`` to name the other one), the group keys from the key columns, the bucket width
    from the bucket spans and the window from the data. A ``start_time`` column becomes the UTC index again and
    the columns get the schema's dtypes. Helpers do the same on the fly; this makes it explicit.

    Args:
        df: A frame with the columns of a fetched frame.
        endpoint: The endpoint's name, when the columns do not tell.

    Raises:
        InvalidParameterError: If the columns match no endpoint (or ``endpoint`` is unknown).

    Examples:
        >>> from usage_frames import Client
        >>> c = Client.fake()
        >>> both = pd.concat([c.costs("2026-09-01", "2026-10-01"), c.costs("2026-10-01", "2026-11-01")])
        >>> both.attrs
        {}
        >>> restore_attrs(both).attrs["end"], restore_attrs(both).attrs["bucket_width"]
        ('2026-11-01T00:00:00+00:00', '1d')
    """
    out = df.copy()
    if not isinstance(out.index, pd.DatetimeIndex) and "start_time" in out.columns:
        out = out.set_index("start_time")
    if out.index.name == "start_time" or isinstance(out.index, pd.DatetimeIndex):
        out.index = pd.DatetimeIndex(pd.to_datetime(out.index, utc=True), name="start_time")
    if "end_time" in out.columns:
        out["end_time"] = pd.to_datetime(out["end_time"], utc=True)
    attrs = _inferred(out, endpoint)
    chosen = ENDPOINTS[attrs["endpoint"]]
    for f in chosen.fields:
        if f.name in out.columns and str(out[f.name].dtype) != f.dtype:
            out[f.name] = out[f.name].astype(f.dtype)  # type: ignore[call-overload]
    for key in attrs["group_by"]:
        if out[key].dtype == object or str(out[key].dtype).startswith("str"):
            kind = KEY_DTYPES.get(key, "category")
            out[key] = out[key].astype(kind)
    return _finish(out, out, **attrs)


def endpoint_of(df: pd.DataFrame) -> Endpoint:
    """The endpoint a frame came from (``attrs["endpoint"]``, else read from its columns).

    Raises:
        InvalidParameterError: If neither the ``attrs`` nor the columns tell.

    Examples:
        >>> from usage_frames import Client
        >>> endpoint_of(Client.fake().images("2026-10-01", "2026-10-02")).result_object
        'organization.usage.images.result'
        >>> bare = pd.DataFrame({"images": [1]}, index=pd.DatetimeIndex(["2026-10-01"], tz="UTC"))
        >>> endpoint_of(bare).name  # no attrs: read from the columns
        'images'
    """
    if not isinstance(df, pd.DataFrame):
        raise InvalidParameterError("df", df, reason="must be a DataFrame made by usage_frames")
    return ENDPOINTS[_meta(df)["endpoint"]]


def as_of(df: pd.DataFrame | pd.Series) -> pd.Timestamp:
    """The time the data is "as of": ``attrs["as_of"]`` (the client's clock at fetch time), else its last end.

    Helpers that need "now" (forecast, provisional buckets, anomalies) read it from here, never from the
    machine's clock, so that the same frame gives the same answer on any day.

    Examples:
        >>> from usage_frames import Client
        >>> as_of(Client.sample().costs("2026-10-01", "2026-10-08"))
        Timestamp('2026-10-21 00:00:00+0000', tz='UTC')
        >>> bare = Client.sample().costs("2026-10-01", "2026-10-08").iloc[:3].copy()
        >>> bare.attrs = {}
        >>> as_of(bare)  # no attrs: the end of the last bucket
        Timestamp('2026-10-04 00:00:00+0000', tz='UTC')
    """
    stamp = df.attrs.get("as_of")
    if stamp is not None:
        return pd.Timestamp(stamp).tz_convert("UTC")
    if isinstance(df, pd.DataFrame) and "end_time" in df.columns and len(df):
        return pd.Timestamp(df["end_time"].max()).tz_convert("UTC")
    if len(df):
        return pd.Timestamp(df.index.max()).tz_convert("UTC") + pd.Timedelta(days=1)
    raise InvalidParameterError("df", "an empty frame", reason="has no as-of time; pass now=")


def _times(df: pd.DataFrame | pd.Series) -> pd.DatetimeIndex:
    if not isinstance(df.index, pd.DatetimeIndex):
        raise InvalidParameterError(
            "df", type(df.index).__name__, reason=f"is not a start_time index; restore it with {RESTORE_HINT}"
        )
    return pd.DatetimeIndex(df.index)


def keys_of(df: pd.DataFrame) -> list[str]:
    """The group-key columns of a frame, in the table's order.

    Examples:
        >>> from usage_frames import Client
        >>> keys_of(Client.fake().images("2026-10-01", "2026-10-02", group_by=["source", "model"]))
        ['model', 'source']
    """
    return [k for k in _meta(df).get("group_by", []) if k in df.columns]


def _fields(df: pd.DataFrame, kind: str) -> list[str]:
    return [f.name for f in endpoint_of(df).fields if f.kind == kind and f.name in df.columns]


def _combine(grouped: Any, df: pd.DataFrame, over_time: bool) -> pd.DataFrame:
    """Combine value columns per group: counts add, levels add across groups but average over time.

    Labels (currency, unit) keep their first value. A group whose values are all ``<NA>`` stays ``<NA>``, never 0.
    """
    parts = []
    additive, levels, labels = _fields(df, "additive"), _fields(df, "level"), _fields(df, "attribute")
    if additive:
        parts.append(grouped[additive].sum(min_count=1))
    if levels:
        parts.append(grouped[levels].mean() if over_time else grouped[levels].sum(min_count=1))
    if labels:
        parts.append(grouped[labels].first())
    combined: pd.DataFrame = pd.concat(parts, axis=1)
    return combined


def _finish(out: pd.DataFrame, df: pd.DataFrame, **attrs: Any) -> pd.DataFrame:
    fresh: dict[Hashable | None, Any] = {}
    fresh.update(_meta(df) if df is not out else {})
    fresh.update(attrs)
    out.attrs = fresh
    return out


def _by(df: pd.DataFrame, by: str | Sequence[str] | None) -> list[str]:
    endpoint_of(df)
    if by is not None and not isinstance(by, str | Sequence):
        raise InvalidParameterError("by", by, keys_of(df), reason="must be a column name or a list of them")
    chosen = [] if by is None else [by] if isinstance(by, str) else list(by)
    for key in chosen:
        if not isinstance(key, str) or key not in df.columns:
            raise InvalidParameterError("by", key, keys_of(df), reason="is not a column of this frame")
    return chosen


def _values(df: pd.DataFrame, values: str | None) -> str:
    measures = _fields(df, "additive") or _fields(df, "level")
    name = values or ("amount" if endpoint_of(df).name == "costs" else measures[0])
    if not isinstance(name, str) or name not in df.columns:
        raise InvalidParameterError("values", name, [c for c in df.columns if c != "end_time"])
    return name


def _grid(df: pd.DataFrame) -> pd.DatetimeIndex:
    """The bucket starts the API uses for the frame's window: the (unaligned) start, then width boundaries."""
    width = _meta(df)["bucket_width"]
    if width not in BUCKET_SECONDS:
        raise InvalidParameterError("df", width, reason="is not a fetched bucket width; complete() before resample()")
    start, end = pd.Timestamp(_meta(df)["start"]), pd.Timestamp(_meta(df)["end"])
    if endpoint_of(df).name == "costs":
        start = start.floor("D")
    step = pd.Timedelta(seconds=BUCKET_SECONDS[width])
    inner = pd.date_range(start.floor(step) + step, end, freq=step, inclusive="left")
    return pd.DatetimeIndex([start, *inner], name="start_time")


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
    keys = keys_of(df)
    grid = _grid(df)
    width = pd.Timedelta(seconds=BUCKET_SECONDS[_meta(df)["bucket_width"]])
    ends = pd.DatetimeIndex([*grid[1:], min(pd.Timestamp(_meta(df)["end"]), grid[-1] + width)])
    if endpoint_of(df).name == "costs":
        ends = grid + pd.Timedelta(days=1)
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
    except ValueError:
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
    now = as_of(df) if now is None else now
    settle = endpoint_of(df).settle
    starts = df.index.to_series()
    flags = df["end_time"] > now - settle
    seconds = BUCKET_SECONDS.get(_meta(df).get("bucket_width", ""), 0)
    if seconds and endpoint_of(df).name != "costs":
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


# --- summaries -------------------------------------------------------------------------------------------------


def totals(df: pd.DataFrame, by: str | Sequence[str] | None = None) -> pd.DataFrame:
    """Totals per dimension, largest first (levels: the mean over time of the per-bucket total).

    Examples:
        >>> from usage_frames import Client
        >>> t = totals(Client.fake().costs("2026-10-01", "2026-11-01", group_by="project_id"), by="project_id")
        >>> t.index.tolist()
        ['proj_chat', 'proj_search', 'proj_lab', 'proj_batch']
    """
    keys = _by(df, by)
    per_bucket = _combine(df.drop(columns="end_time").groupby([df.index, *keys], observed=True), df, False)
    out = _combine(per_bucket.groupby(level=keys, observed=True) if keys else per_bucket.groupby(lambda _: 0), df, True)
    first = _values(df, None)
    return _finish(out.sort_values(first, ascending=False) if keys else out, df)


def share(df: pd.DataFrame, by: str, values: str | None = None) -> pd.DataFrame:
    """Totals of ``values`` per ``by`` with their percentage of the whole.

    Examples:
        >>> from usage_frames import Client
        >>> s = share(Client.fake().costs("2026-10-01", "2026-11-01", group_by="project_id"), by="project_id")
        >>> round(float(s["share_pct"].sum()), 6)
        100.0
    """
    name = _values(df, values)
    out = totals(df, by)[[name]].copy()
    out["share_pct"] = out[name] / out[name].sum() * 100
    return out


def compare(
    df: pd.DataFrame, previous: pd.DataFrame, by: str | Sequence[str], values: str | None = None
) -> pd.DataFrame:
    """What drove the change between two periods: per dimension, the change and its share of the total change.

    Args:
        df: The current period.
        previous: The period to compare with (same endpoint and group keys).
        by: The dimension(s) to explain the change by.
        values: The measure (default: ``amount`` for costs, else the first count).

    Returns:
        ``previous``, ``current``, ``change``, ``change_pct`` and ``contribution_pct`` (share of the total
        change), largest absolute change first.

    Examples:
        >>> from usage_frames import Client
        >>> c = Client.fake()
        >>> now = c.costs("2026-10-12", "2026-10-19", group_by="project_id")
        >>> before = c.costs("2026-10-05", "2026-10-12", group_by="project_id")
        >>> compare(now, before, by="project_id").index[0]  # the spike week of Search & RAG
        'proj_search'
    """
    name = _values(df, values)
    keys = _by(df, by)
    _by(previous, keys)
    current = df.groupby(keys, observed=True)[name].sum()
    before = previous.groupby(keys, observed=True)[name].sum()
    out = pd.concat({"previous": before, "current": current}, axis=1).fillna(0).astype("Float64")
    out["change"] = out["current"] - out["previous"]
    out["change_pct"] = (out["change"] / out["previous"].replace(0, np.nan) * 100).astype("Float64")
    total = out["change"].sum()
    out["contribution_pct"] = out["change"] / total * 100 if total else np.nan
    return _finish(out.reindex(out["change"].abs().sort_values(ascending=False).index), df, values=name)


# --- money -----------------------------------------------------------------------------------------------------

_KINDS = {
    "input": "input", "input_tokens": "input", "input tokens": "input", "uncached input": "input",
    "cached input": "cached input", "cached_input_tokens": "cached input", "input_cached_tokens": "cached input",
    "cached input tokens": "cached input", "output": "output", "output_tokens": "output", "output tokens": "output",
    "cache writes": "cache writes", "cache write": "cache writes", "input_cache_write_tokens": "cache writes",
}  # fmt: skip
_MODALITIES = ("text", "audio", "image")
_CONTEXTS = {"long context": "long", "short context": "short"}
_MODEL = re.compile(r"^(ft[-:])?[a-z0-9][a-z0-9.:_-]*$", re.IGNORECASE)


def join_costs(usage: pd.DataFrame, costs: pd.DataFrame) -> pd.DataFrame:
    """Usage and billed dollars side by side per UTC day (and per project when both frames have ``project_id``).

    Hourly or minute usage is summed to days first; costs are daily only, so usage cannot be joined finer.
    A :class:`~usage_frames.UsageFramesWarning` says when the frames cover different days, when only one is
    grouped by ``project_id``, or when a project has usage but no costs.

    Returns:
        The usage counts, ``amount`` (USD) and, for token endpoints, ``usd_per_1m_tokens``.

    Raises:
        InvalidParameterError: If the frames cannot be aligned (costs not daily, usage re-bucketed coarser than
            days, or the wrong endpoints).

    Examples:
        >>> from usage_frames import Client
        >>> c = Client.fake()
        >>> u = c.completions("2026-10-01", "2026-10-03", bucket_width="1h", group_by="project_id")
        >>> j = join_costs(u, c.costs("2026-10-01", "2026-10-03", group_by="project_id"))
        >>> day = j.loc["2026-10-01"].set_index("project_id")
        >>> day.loc["proj_chat", ["amount", "usd_per_1m_tokens"]].round(2).tolist()
        [44.57, 2.83]
    """
    if endpoint_of(costs).name != "costs":
        raise InvalidParameterError("costs", endpoint_of(costs).name, ("costs",), reason="is not a costs frame")
    if endpoint_of(usage).name == "costs":
        raise InvalidParameterError("usage", "costs", reason="must be a usage frame (completions, images...)")
    if _meta(costs).get("bucket_width") not in ("1d", "D"):
        raise InvalidParameterError(
            "costs", _meta(costs).get("bucket_width"), ("1d",), reason="must be daily: the bill is only known per day"
        )
    width = _meta(usage).get("bucket_width")
    if width not in ("1m", "1h", "1d", "D"):
        raise InvalidParameterError(
            "usage", width, ("1m", "1h", "1d"), reason="is coarser than the bill's days; join first, then resample"
        )
    daily = resample(usage, "D") if width in ("1m", "1h") else usage
    keys = [k for k in ("project_id",) if k in keys_of(daily) and k in keys_of(costs)]
    _check_alignment(usage, costs, keys)
    counts = _fields(daily, "additive")
    used = daily[[*keys, *counts]].astype({k: object for k in keys})
    used = used.groupby([_times(daily).floor("D").rename("day"), *(used[k] for k in keys)]).sum(numeric_only=True)
    bill = costs[[*keys, "amount"]].astype({k: object for k in keys})
    billed = bill.groupby([_times(costs).floor("D").rename("day"), *(bill[k] for k in keys)])["amount"].sum()
    out = used.join(billed, how="outer")
    out["amount"] = out["amount"].fillna(0.0)
    if {"input_tokens", "output_tokens"} <= set(out.columns):
        tokens = (out["input_tokens"] + out["output_tokens"]).astype("Float64")
        out["usd_per_1m_tokens"] = out["amount"] / tokens.where(tokens > 0) * 1e6
    out = out.reset_index(keys) if keys else out
    return _finish(out, usage, bucket_width="1d", joined="costs")


def _days(df: pd.DataFrame) -> tuple[pd.Timestamp, pd.Timestamp]:
    meta = _meta(df)
    start = pd.Timestamp(meta["start"]) if "start" in meta else _times(df).min()
    end = pd.Timestamp(meta["end"]) if "end" in meta else pd.Timestamp(df["end_time"].max())
    return start.floor("D"), end.ceil("D")


def _check_alignment(usage: pd.DataFrame, costs: pd.DataFrame, keys: list[str]) -> None:
    """Warn when a join would compare different things: other periods, or a key only one side has."""
    if len(usage) and len(costs) and _days(usage) != _days(costs):
        (a, b), (c, d) = _days(usage), _days(costs)
        warnings.warn(
            f"join_costs: usage covers {a:%Y-%m-%d}..{b:%Y-%m-%d} but costs {c:%Y-%m-%d}..{d:%Y-%m-%d}; days outside "
            "the other frame show no tokens or $0 (fetch both for the same start and end)",
            UsageFramesWarning,
            stacklevel=3,
        )
    for name, one, other in (("usage", usage, costs), ("costs", costs, usage)):
        lone = [k for k in ("project_id",) if k in keys_of(one) and k not in keys_of(other)]
        if lone:
            warnings.warn(
                f"join_costs: only {name} is grouped by {lone[0]}; the join is per day only (group both by it)",
                UsageFramesWarning,
                stacklevel=3,
            )
    if keys:
        missing = sorted(set(usage[keys[0]].dropna().astype(str)) - set(costs[keys[0]].dropna().astype(str)))
        if missing:
            warnings.warn(
                f"join_costs: {keys[0]} {', '.join(missing)} has usage but no costs in the costs frame "
                "(filtered out, or another organization)",
                UsageFramesWarning,
                stacklevel=3,
            )


def parse_line_item(item: str | None) -> dict[str, str | None]:
    """Split a costs line item into product, model, modality, kind and context; ``None`` where it cannot tell.

    Real bills name token line items ``[<product> | ]<model>[ audio|text|image], <kind>[, long context]``
    (``api-notes.md`` section 11), with kind ``input``, ``cached input``, ``cache writes`` or ``output``;
    anything else (``web search tool calls``) is kept whole as the product, never guessed at.

    Examples:
        >>> parse_line_item("gpt-4o-2024-08-06, input")
        {'product': None, 'model': 'gpt-4o-2024-08-06', 'modality': None, 'kind': 'input', 'context': None}
        >>> parse_line_item("gpt-6-astra, input_tokens")["kind"], parse_line_item("gpt-4o-mini, cached input")["kind"]
        ('input', 'cached input')
        >>> parse_line_item("gpt-audio-mini-2025-12-15 audio, input")
        {'product': None, 'model': 'gpt-audio-mini-2025-12-15', 'modality': 'audio', 'kind': 'input', 'context': None}
        >>> parse_line_item("priority | gpt-5.6-sol, output, long context")
        {'product': 'priority', 'model': 'gpt-5.6-sol', 'modality': None, 'kind': 'output', 'context': 'long'}
        >>> parse_line_item("gpt-image-2-2026-04-21 image, cached input")["modality"]
        'image'
        >>> parse_line_item("gpt-4o-mini-2024-07-18, cache writes")["kind"]
        'cache writes'
        >>> parse_line_item("ft-gpt-4o-2024-08-06, output")["model"]
        'ft-gpt-4o-2024-08-06'
        >>> parse_line_item("assistants api | file search")["product"], parse_line_item("Image models")["model"]
        ('assistants api | file search', None)
    """
    empty: dict[str, str | None] = {"product": None, "model": None, "modality": None, "kind": None, "context": None}
    if not isinstance(item, str) or not item.strip():
        return empty
    *products, last = [part.strip() for part in item.split("|")]
    name, *rest = [part.strip() for part in last.split(",")]
    modality = None
    for suffix in _MODALITIES:
        if name.lower().endswith(f" {suffix}"):
            name, modality = name[: -len(suffix) - 1].strip(), suffix
    contexts = [_CONTEXTS.get(part.lower()) for part in rest[1:]]
    if not rest or not _MODEL.match(name) or None in contexts or len(contexts) > 1:
        return {**empty, "product": item.strip()}
    kind = rest[0].lower()
    return {"product": " | ".join(products) or None, "model": name, "modality": modality,
            "kind": _KINDS.get(kind, kind), "context": contexts[0] if contexts else None}  # fmt: skip


_PARTS = ("product", "model", "modality", "kind", "context")


def split_line_items(costs: pd.DataFrame) -> pd.DataFrame:
    """The costs frame with ``product``, ``model``, ``modality``, ``kind`` and ``context`` read from each line item.

    Each distinct line item is parsed once (a bill has a few dozen, over thousands of rows).

    Raises:
        InvalidParameterError: If the frame is not costs grouped by ``line_item``.

    Examples:
        >>> from usage_frames import Client
        >>> items = split_line_items(Client.fake().costs("2026-10-01", "2026-10-02", group_by="line_item"))
        >>> items.groupby("model")["amount"].sum().idxmax()
        'gpt-4o-2024-08-06'
        >>> sorted(items["modality"].dropna().unique())
        ['audio', 'image']
    """
    if endpoint_of(costs).name != "costs" or "line_item" not in costs.columns:
        raise InvalidParameterError(
            "costs", endpoint_of(costs).name, reason="must be costs fetched with group_by='line_item'"
        )
    labels = costs["line_item"].astype(object)
    parsed = {item: parse_line_item(item) for item in labels.dropna().unique()}
    empty = parse_line_item(None)
    columns = {part: [parsed.get(item, empty)[part] if item is not None else None for item in labels]
               for part in _PARTS}  # fmt: skip
    out = costs.copy()
    for part, values in columns.items():
        out[part] = pd.array(values, dtype="string")
    return _finish(out, costs)


def unit_prices(costs: pd.DataFrame, by_day: bool = False) -> pd.DataFrame:
    """Effective unit prices learned from the bill: ``amount / quantity`` per line item (and unit).

    With ``by_day=True`` one row per day and line item, which shows price changes and discounts over time.

    Returns:
        ``amount``, ``quantity``, ``quantity_unit``, ``unit_price``, ``usd_per_1m`` (token units only), and the
        parsed ``product``, ``model``, ``modality``, ``kind``, ``context``.

    Examples:
        >>> from usage_frames import Client
        >>> p = unit_prices(Client.fake().costs("2026-10-01", "2026-10-08", group_by="line_item"))
        >>> round(float(p.loc["gpt-4o-2024-08-06, output", "usd_per_1m"]), 6)
        10.0
    """
    items = split_line_items(costs)
    keys = ["line_item", "quantity_unit", *_PARTS]
    groups = [_times(items).floor("D").rename("day"), *keys] if by_day else keys
    items = items.astype({k: object for k in keys})
    out = items.groupby(groups, dropna=False, observed=True)[["amount", "quantity"]].sum()
    out = out.reset_index([k for k in keys if k != "line_item"])
    out["unit_price"] = out["amount"] / out["quantity"].replace(0, np.nan)
    per_1m = out["quantity_unit"].map(TOKEN_UNITS).astype(float)
    out["usd_per_1m"] = out["unit_price"] * per_1m
    return _finish(out, costs)


# Each billable token count of a completions row: (column, modality, kind); the columns add up to all tokens.
_TOKEN_PARTS = tuple(
    [(f"input_{m}_tokens", m, "input") for m in _MODALITIES]
    + [("input_cache_write_tokens", "text", "cache writes")]
    + [(f"input_cached_{m}_tokens", m, "cached input") for m in _MODALITIES]
    + [(f"output_{m}_tokens", m, "output") for m in _MODALITIES]
)


def _column(usage: pd.DataFrame, name: str) -> pd.Series:
    if name in usage.columns:
        return usage[name].astype("Int64")
    return pd.Series(pd.NA, index=usage.index, dtype="Int64")


def _token_parts(usage: pd.DataFrame) -> pd.DataFrame:
    """Per row, the tokens of each (modality, kind) of :data:`_TOKEN_PARTS`, and ``requests``.

    The explicit breakdown fields are used where the server sent them; older answers lack them, and their text
    tokens are then the total minus the other parts (section 4 arithmetic; absent parts count as 0).
    """
    if endpoint_of(usage).name not in ("completions", "decisions"):
        raise InvalidParameterError("usage", endpoint_of(usage).name, ("completions", "decisions"))
    get = functools.partial(_column, usage)
    write = get("input_cache_write_tokens").fillna(0)
    cached = get("input_cached_tokens").fillna(0)
    uncached = get("input_uncached_tokens").fillna(get("input_tokens") - cached - write)
    out = pd.DataFrame(index=usage.index)
    for total, prefix in ((uncached, "input_"), (cached, "input_cached_"), (get("output_tokens"), "output_")):
        others = [get(f"{prefix}{m}_tokens").fillna(0) for m in ("audio", "image")]
        out[f"{prefix}text_tokens"] = get(f"{prefix}text_tokens").fillna(total - others[0] - others[1])
        out[f"{prefix}audio_tokens"], out[f"{prefix}image_tokens"] = others
    out["input_cache_write_tokens"] = write
    out = out[[c for c, _, _ in _TOKEN_PARTS]]
    out["requests"] = get("num_model_requests")
    return out


def _token_sides(usage: pd.DataFrame) -> pd.DataFrame:
    """Per row: fresh input (uncached + cache writes), cached input, output tokens and requests."""
    parts = _token_parts(usage)
    side = {"input": "fresh_input_tokens", "cache writes": "fresh_input_tokens",
            "cached input": "cached_input_tokens", "output": "output_tokens"}  # fmt: skip
    out = pd.DataFrame(index=usage.index)
    for name in ("fresh_input_tokens", "cached_input_tokens", "output_tokens"):
        out[name] = sum(parts[c] for c, _, kind in _TOKEN_PARTS if side[kind] == name)
    out["requests"] = parts["requests"]
    return out


def _bill(costs: pd.DataFrame, keys: list[str], standard_only: bool) -> pd.DataFrame:
    """Dollars per ``keys`` (which include ``model``) and token kind: ``usd_input``, ``usd_cached_input``..."""
    items = split_line_items(costs)
    items = items[items["model"].notna() & items["kind"].isin(["input", "cache writes", "cached input", "output"])]
    if standard_only:
        items = items[items["product"].isna()]
    others = [k for k in keys if k != "model"]
    _by(costs, others)
    items = items.astype({k: object for k in [*others, "model", "kind"]})
    # Cache writes are fresh input billed apart; every modality and context adds to its side.
    items["side"] = items["kind"].map({"input": "usd_input", "cache writes": "usd_input",
                                       "cached input": "usd_cached_input", "output": "usd_output"})  # fmt: skip
    bill = items.pivot_table(index=keys, columns="side", values="amount", aggfunc="sum", fill_value=0.0)
    return bill.reindex(columns=["usd_input", "usd_cached_input", "usd_output"], fill_value=0.0)


def unit_costs(
    usage: pd.DataFrame, costs: pd.DataFrame, by: str | Sequence[str] = "model", standard_only: bool = False
) -> pd.DataFrame:
    """Unit economics: $ per 1M input and output tokens and $ per request, per model (and project).

    The bill is matched to usage through the model named in each line item (``"gpt-4o, input"``). ``by`` must
    include ``model``; add ``project_id`` when both frames are grouped by it.

    Args:
        usage: Completions usage grouped by ``by``.
        costs: Costs grouped by ``line_item`` (and ``project_id`` when ``by`` has it).
        by: The dimensions.
        standard_only: Only line items without a product prefix (no ``batch |``, ``flex |``...): list prices.

    Returns:
        Tokens, requests and dollars per group, with ``usd_per_1m_input`` (all input, cached included),
        ``usd_per_1m_fresh_input``, ``usd_per_1m_cached_input``, ``usd_per_1m_output`` and ``usd_per_request``.

    Examples:
        >>> from usage_frames import Client
        >>> c = Client.fake()
        >>> u = c.completions("2026-10-01", "2026-10-08", group_by="model")
        >>> k = c.costs("2026-10-01", "2026-10-08", group_by="line_item")
        >>> round(float(unit_costs(u, k).loc["o3-2025-04-16", "usd_per_1m_output"]), 4)
        8.0
    """
    keys = _by(usage, by)
    if "model" not in keys:
        raise InvalidParameterError("by", list(keys), reason="must include 'model' to match line items")
    tokens = pd.concat([usage[keys].astype(object), _token_sides(usage)], axis=1).groupby(keys).sum()
    out = tokens.join(_bill(costs, keys, standard_only), how="inner").astype("Float64")
    out["usd"] = out["usd_input"] + out["usd_cached_input"] + out["usd_output"]
    input_tokens = out["fresh_input_tokens"] + out["cached_input_tokens"]

    def per_1m(usd: pd.Series, count: pd.Series) -> pd.Series:
        return usd / count.where(count > 0) * 1e6

    out["usd_per_1m_input"] = per_1m(out["usd_input"] + out["usd_cached_input"], input_tokens)
    out["usd_per_1m_fresh_input"] = per_1m(out["usd_input"], out["fresh_input_tokens"])
    out["usd_per_1m_cached_input"] = per_1m(out["usd_cached_input"], out["cached_input_tokens"])
    out["usd_per_1m_output"] = per_1m(out["usd_output"], out["output_tokens"])
    out["usd_per_request"] = out["usd"] / out["requests"].where(out["requests"] > 0)
    return _finish(out, usage)


def reconcile(usage: pd.DataFrame, costs: pd.DataFrame) -> pd.DataFrame:
    """Usage priced at the bill's own list prices, next to the billed dollars, per day and model (and project).

    ``unexplained_usd`` is what the list prices do not explain: discounts (Batch, flex), surcharges (priority,
    long context), price changes, or usage the Usage API did not report (the Costs API is the one that matches
    the invoice). Each token part is priced at its own line item's list price (``"<model> audio, input"``,
    ``"<model>, cache writes"``), else at the model's price for that kind. Where the bill has no list price for
    tokens that were used (a model run only on flex), ``priced_usd`` and ``unexplained_usd`` are ``<NA>``: the
    saving cannot be measured from the bill, and it is not "unexplained" spend either.

    Examples:
        >>> from usage_frames import Client
        >>> c = Client.fake()
        >>> u = c.completions("2026-10-01", "2026-10-03", group_by=["model", "batch"])
        >>> k = c.costs("2026-10-01", "2026-10-03", group_by="line_item")
        >>> r = reconcile(u, k)
        >>> r.columns.tolist()
        ['billed_usd', 'priced_usd', 'unexplained_usd']
        >>> bool(r.xs("o3-2025-04-16", level="model")["unexplained_usd"].abs().max() < 1e-9)  # list price only
        True
        >>> bool((r.xs("gpt-4o-mini-2024-07-18", level="model")["unexplained_usd"] < 0).all())  # Batch discount
        True
    """
    keys = [k for k in ("project_id", "model") if k in keys_of(usage)]
    if "model" not in keys:
        raise InvalidParameterError("usage", keys_of(usage), reason="must be grouped by model")
    daily = resample(usage, "D") if _meta(usage).get("bucket_width") != "1d" else usage
    table = _rate_table(costs)
    parts = _token_parts(daily)[_PART_COLUMNS].astype("Float64")
    rows = daily[keys].astype(object)
    rates = pd.DataFrame([_rates(table, "list", m) for m in rows["model"]], index=daily.index).astype("Float64")
    # A part with tokens but no list price in the bill leaves the row unpriced (<NA>), never priced at $0.
    contributions = (parts * rates).where(parts > 0, 0.0)
    priced = contributions.sum(axis=1, skipna=False) / 1e6
    day = _times(daily).floor("D").rename("day")
    priced_usd = pd.Series(priced.to_numpy(), index=pd.MultiIndex.from_arrays([day, *(rows[k] for k in keys)]))
    priced_usd = priced_usd.groupby(level=list(range(len(keys) + 1))).sum(min_count=1)
    priced_usd = priced_usd.where(priced.groupby([day, *(rows[k] for k in keys)]).apply(lambda x: x.notna().all()))
    items = split_line_items(costs)
    models = set(rows["model"])
    items = items[items["model"].isin(models)].astype({"model": object, **{k: object for k in keys if k != "model"}})
    billed_usd = items.groupby([_times(items).floor("D").rename("day"), *keys])["amount"].sum()
    out = pd.concat({"billed_usd": billed_usd, "priced_usd": priced_usd}, axis=1).astype("Float64")
    out["billed_usd"] = out["billed_usd"].fillna(0.0)  # no line item: nothing billed
    out["unexplained_usd"] = out["billed_usd"] - out["priced_usd"]
    return _finish(out, usage)


def batch_savings(usage: pd.DataFrame, costs: pd.DataFrame) -> pd.DataFrame:
    """What Batch saved, and what it would save if the rest of the traffic ran as Batch, at the bill's prices.

    Needs usage grouped by ``model`` and ``batch`` and costs grouped by ``line_item`` with both list
    (``"<model>, input"``) and Batch (``"batch | <model>, input"``) line items; a model without both prices gets
    ``<NA>``, not a guess.

    Examples:
        >>> from usage_frames import Client
        >>> c = Client.fake()
        >>> u = c.completions("2026-10-01", "2026-10-08", group_by=["model", "batch"])
        >>> k = c.costs("2026-10-01", "2026-10-08", group_by="line_item")
        >>> s = batch_savings(u, k)
        >>> bool(s.loc["gpt-4o-mini-2024-07-18", "saved_usd"] > 0)
        True
        >>> bool(pd.isna(s.loc["o3-2025-04-16", "could_save_usd"]))  # no Batch price for o3 in the bill
        True
    """
    for key in ("model", "batch"):
        _by(usage, key)
    rates = _rate_table(costs)
    sides = pd.concat([usage[["model", "batch"]].astype(object), _token_parts(usage)], axis=1)
    per = sides.groupby(["model", "batch"])[_PART_COLUMNS].sum()
    rows = []
    for model in sorted(set(sides["model"])):
        list_rate, batch_rate = _rates(rates, "list", model), _rates(rates, "batch", model)

        def saving(batch: bool, model: str = model, a: pd.Series = list_rate, b: pd.Series = batch_rate) -> float:
            if (model, batch) not in per.index:
                return 0.0
            tokens = pd.Series(per.loc[(model, batch)])
            return _priced(tokens, a) - _priced(tokens, b)

        tokens_by_kind = per.loc[model].to_numpy()
        batch_tokens = per.loc[(model, True)].sum() if (model, True) in per.index else 0
        rows.append({"model": model,
                     "batch_share_pct": 100 * batch_tokens / tokens_by_kind.sum() if tokens_by_kind.sum() else np.nan,
                     "saved_usd": saving(True), "could_save_usd": saving(False)})  # fmt: skip
    out = pd.DataFrame(rows).set_index("model").astype("Float64")
    return _finish(out, usage)


def tier_savings(usage: pd.DataFrame, costs: pd.DataFrame) -> pd.DataFrame:
    """Per model and tier (batch, flex, priority, default): the traffic at list price and at the tier's price.

    Both prices are learned from the bill; ``saved_usd`` is their difference, negative for a surcharge.

    Needs usage grouped by ``model``, ``batch`` and ``service_tier`` and costs grouped by ``line_item``; a tier's
    price is read from its line items (``"flex | <model>, input"``), ``<NA>`` where the bill has none.

    Examples:
        >>> from usage_frames import Client
        >>> c = Client.fake()
        >>> u = c.completions("2026-10-01", "2026-10-08", group_by=["model", "batch", "service_tier"])
        >>> t = tier_savings(u, c.costs("2026-10-01", "2026-10-08", group_by="line_item"))
        >>> gpt4o = t.xs("gpt-4o-2024-08-06", level="model")["saved_usd"]
        >>> bool(gpt4o["priority"] < 0 < gpt4o["batch"])  # a surcharge, and a saving
        True
    """
    for key in ("model", "batch", "service_tier"):
        _by(usage, key)
    rates = _rate_table(costs)
    batch = usage["batch"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    tier = np.where(batch, "batch", usage["service_tier"].astype(object).fillna("default").to_numpy())
    sides = pd.concat([usage[["model"]].astype(object), _token_parts(usage)], axis=1).assign(tier=tier)
    per = sides.groupby(["model", "tier"])[_PART_COLUMNS].sum()
    rows = []
    for index, tokens in per.iterrows():
        model, label = str(index[0]), str(index[1])  # type: ignore[index]
        at_list = _priced(tokens, _rates(rates, "list", model))
        own = _rates(rates, "list" if label in ("default", "auto") else label, model)
        actual = _priced(tokens, own)
        rows.append({"model": model, "tier": label, "tokens": int(tokens.sum()), "list_usd": at_list,
                     "actual_usd": actual, "saved_usd": at_list - actual})  # fmt: skip
    out = pd.DataFrame(rows).set_index(["model", "tier"]).astype("Float64")
    return _finish(out, usage)


_PART_COLUMNS = [c for c, _, _ in _TOKEN_PARTS]


def _rate_table(costs: pd.DataFrame) -> pd.DataFrame:
    """$ per 1M tokens by (product or "list", model) and ``"<modality>/<kind>"`` (modality "" if unnamed).

    Long-context line items are left out: they price the same tokens at a surcharge, not a different part.
    """
    prices = unit_prices(costs)
    kinds = [k for _, _, k in _TOKEN_PARTS]
    prices = prices[prices["model"].notna() & prices["kind"].isin(kinds) & prices["context"].ne("long").fillna(True)]
    prices = prices.astype({k: object for k in _PARTS})
    prices["product"] = prices["product"].fillna("list")
    prices["part"] = prices["modality"].fillna("") + "/" + prices["kind"]
    return prices.pivot_table(index=["product", "model"], columns="part", values="usd_per_1m")


def _rates(table: pd.DataFrame, product: str, model: str) -> pd.Series:
    """The rate of each token part: its own line item, else the model's line item without a modality.

    Cache writes fall back to the input price: bills that do not list cache writes apart bill them as input.
    """
    row = pd.Series(table.loc[(product, model)]) if (product, model) in table.index else pd.Series(dtype=float)
    known: dict[str, float] = {str(k): float(v) for k, v in row.dropna().astype(float).items()}
    rates = {}
    for column, modality, kind in _TOKEN_PARTS:
        chain = [f"{modality}/{kind}", f"/{kind}"] + (["text/input", "/input"] if kind == "cache writes" else [])
        found = [known[c] for c in chain if c in known]
        rates[column] = found[0] if found else np.nan
    return pd.Series(rates)


def _priced(tokens: pd.Series, rates: pd.Series) -> float:
    """Dollars for token counts at $ per 1M rates (NaN where a part with tokens has no price: no guessing).

    A part with no tokens costs nothing, even where its price is unknown (0/0 in the bill).
    """
    usd = sum(float(tokens[column]) * rates[column] for column in _PART_COLUMNS if tokens[column] > 0) / 1e6
    return float(usd) if pd.notna(usd) else np.nan


def cache_efficiency(df: pd.DataFrame, by: str | Sequence[str] | None = None, rule: str = "D") -> pd.DataFrame:
    """Prompt caching over time: the share of input served from cache and the share written to it.

    ``<NA>`` where the server did not send the breakdown (older answers), never a zero.

    Examples:
        >>> from usage_frames import Client
        >>> df = Client.fake().completions("2026-10-01", "2026-10-08", group_by="model")
        >>> e = cache_efficiency(df, by="model", rule="W-MON")
        >>> round(float(e[e["model"] == "gpt-4o-mini-2024-07-18"]["cached_share_pct"].iloc[0]), 1)
        41.9
    """
    keys = _by(df, by)
    grouped = resample(
        df[["end_time", *keys, "input_tokens", "input_cached_tokens", "input_cache_write_tokens"]].pipe(
            lambda f: _finish(f, df, group_by=keys)
        ),
        rule,
    )
    total = grouped["input_tokens"].astype("Float64").where(grouped["input_tokens"] > 0)
    out = grouped[["end_time", *keys, "input_tokens"]].copy()
    out["cached_share_pct"] = grouped["input_cached_tokens"] / total * 100
    out["cache_write_share_pct"] = grouped["input_cache_write_tokens"] / total * 100
    return _finish(out, df, bucket_width=rule)


def _data_end(data: pd.DataFrame | pd.Series) -> pd.Timestamp:
    """Where the data ends: the window's end (``attrs["end"]``), else the last bucket's end."""
    end = data.attrs.get("end")
    if end is not None:
        return pd.Timestamp(end).tz_convert("UTC")
    if isinstance(data, pd.DataFrame) and "end_time" in data.columns and len(data):
        return pd.Timestamp(data["end_time"].max()).tz_convert("UTC")
    return pd.Timestamp(_times(data).max()) + pd.Timedelta(days=1)


def daily_spend(costs: pd.DataFrame) -> pd.Series:
    """Total spend per UTC day (a Series indexed by day), from a costs frame of any grouping.

    Examples:
        >>> from usage_frames import Client
        >>> daily_spend(Client.fake().costs("2026-10-01", "2026-10-03", group_by="line_item")).round(2).tolist()
        [76.3, 89.3]
    """
    if endpoint_of(costs).name != "costs":
        raise InvalidParameterError("costs", endpoint_of(costs).name, ("costs",))
    series = costs["amount"].astype(float).groupby(_times(costs).floor("D")).sum()
    series.index.name = "day"
    return series


def forecast(
    costs: pd.DataFrame | pd.Series,
    until: str | pd.Timestamp = "month_end",
    now: pd.Timestamp | None = None,
    lookback: int = 28,
) -> pd.DataFrame:
    """Project daily spend to the end of the month: a linear trend times weekday factors, with a 95 % band.

    Days still settling (the last two) are left out of the fit, and so are outlier days (a spike), whose
    residual is beyond five robust deviations of the first fit. ``attrs`` holds ``month_to_date``,
    ``projected_total`` and its ``lower_total``/``upper_total``.

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
    series = daily_spend(costs) if isinstance(costs, pd.DataFrame) else costs.astype(float)
    now = as_of(costs) if now is None else now
    today = now.floor("D")
    # The month projected is the month of the last data: a finished period projects to its own total.
    last = min(now, _data_end(costs)) - pd.Timedelta(seconds=1)
    month_start = last.floor("D").replace(day=1)
    stop = (month_start + pd.offsets.MonthBegin(1)) if until == "month_end" else pd.Timestamp(until)
    stop = stop.tz_localize("UTC") if stop.tzinfo is None else stop
    history = series[series.index < today - pd.Timedelta(days=1)].iloc[-lookback:]
    if len(history) < 7:
        raise InvalidParameterError("costs", len(history), reason="has fewer than 7 settled days to fit a forecast")
    dates = _times(history)
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
    if direction not in ("both", "up", "down"):
        raise InvalidParameterError("direction", direction, ("both", "up", "down"))
    name = _values(df, values)
    keys = _by(df, by)
    day = _times(df).floor("D")
    settle = endpoint_of(df).settle
    settling = as_of(df) - settle - pd.Timedelta(days=1)  # days starting after this may still grow
    series = df[name].astype(float).groupby([day, *(df[k].astype(object) for k in keys)]).sum()
    series.index = series.index.set_names(["day", *keys])
    rows = []
    groups = series.groupby(level=keys) if keys else [((), series)]
    for label, part in groups:
        s = part.droplevel(list(range(1, part.index.nlevels))) if keys else part
        s = s.reindex(pd.date_range(s.index.min(), s.index.max(), freq="D"), fill_value=0.0)
        days = _times(s)
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
            z_weekday = s.groupby(days.day_of_week, group_keys=False).apply(lambda w: _robust_z(w, 8, 3)[0])
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
    return _finish(out, df, values=name)


def _robust_z(s: pd.Series, window: int, min_periods: int) -> tuple[pd.Series, pd.Series]:
    """Each value against the median of the ``window`` values before it, in robust units (and that median).

    The scale is the largest of the MAD, the IQR (MAD alone collapses on intermittent series with idle days) and
    5 % of the median.
    """
    past = s.shift(1).rolling(window, min_periods=min_periods)
    median = past.median()
    mad = (s.shift(1) - median).abs().rolling(window, min_periods=min_periods).median() * 1.4826
    iqr = (past.quantile(0.75) - past.quantile(0.25)) / 1.349
    scale = pd.concat([mad, iqr, 0.05 * median.abs()], axis=1).max(axis=1).replace(0, np.nan)
    return (s - median) / scale, median


def label(
    df: pd.DataFrame,
    projects: pd.DataFrame | None = None,
    users: pd.DataFrame | None = None,
    api_keys: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Add readable names next to the IDs (``project_name`` after ``project_id``...); unknown IDs keep ``<NA>``.

    Args:
        df: Any usage or costs frame.
        projects: A frame with ``id`` and ``name`` (``uf.projects()``).
        users: A frame with ``id`` and ``name`` or ``email`` (``uf.users()``).
        api_keys: A frame with ``id`` and ``name`` (``uf.api_keys()``).

    Examples:
        >>> names = pd.DataFrame({"id": ["proj_chat"], "name": ["Customer chat"]})
        >>> from usage_frames import Client
        >>> df = Client.fake().costs("2026-10-01", "2026-10-02", group_by="project_id")
        >>> label(df, projects=names)[["project_id", "project_name"]].iloc[0].tolist()
        ['proj_chat', 'Customer chat']
    """
    out = df.copy()
    for column, names in (("project_id", projects), ("user_id", users), ("api_key_id", api_keys)):
        if names is None or column not in out.columns:
            continue
        text = names["name"] if "name" in names else names["email"]
        mapping = dict(zip(names["id"], text.fillna(names.get("email", text)), strict=True))
        position = list(out.columns).index(column) + 1
        out.insert(position, column.replace("_id", "_name"), out[column].astype(object).map(mapping).astype("string"))
    return _finish(out, df)


# FinOps: FOCUS export, allocation to teams, budgets (modules of their own, imported last: they use the helpers above).
from usage_frames.allocation import allocate as allocate  # noqa: E402
from usage_frames.budgets import check_budgets as check_budgets  # noqa: E402
from usage_frames.focus import to_focus as to_focus  # noqa: E402
