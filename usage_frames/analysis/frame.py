"""What a frame is: its endpoint, group keys, value fields, window and "as of" time (``attrs``), and labels.

Part of :mod:`usage_frames.ops`, which re-exports every public name here.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from usage_frames._core.errors import InvalidParameterError
from usage_frames._core.provider import Provider
from usage_frames._core.query import to_utc
from usage_frames._core.schema import BUCKET_SECONDS, BucketWidth, Credentials, Endpoint, Field, Limit
from usage_frames.providers import DEFAULT, PROVIDERS

TOKEN_UNITS = {"tokens": 1e6, "1000_tokens": 1e3}  # quantity units -> quantities per 1M tokens


# --- what a frame is -------------------------------------------------------------------------------------------

_LIMITS: Mapping[BucketWidth, Limit] = {"1m": Limit(1, 1), "1h": Limit(1, 1), "1d": Limit(1, 1)}
ALL = Provider(
    name="all",
    title="All providers",
    credentials=Credentials("", "", "", ""),
    endpoints={
        "costs": Endpoint(
            "costs", "all", "", (Field("amount", "Float64"), Field("currency", "string", "attribute")),
            ("provider", "project_id", "project_name", "model"), (), _LIMITS, measure="amount", priced=True,
            whole_buckets=True,
        ),
        "tokens": Endpoint(
            "tokens", "all", "", (Field("tokens"),),
            ("provider", "project_id", "model", "token_direction", "token_category"), (), _LIMITS,
        ),
    },
)  # fmt: skip
"""The virtual provider of combined frames (``ops.combine``): its ``costs`` and ``tokens`` endpoints are their
schemas."""


RESTORE_HINT = "usage_frames.ops.restore_attrs(df, endpoint=...)"


def _endpoints() -> list[Endpoint]:
    """Every provider's endpoints, the first provider's first (and last, those of combined frames)."""
    return [e for provider in (*PROVIDERS.values(), ALL) for e in provider.endpoints.values()]


def _candidates(df: pd.DataFrame) -> list[Endpoint]:
    """Endpoints whose value columns include every value column of ``df``, closest match first."""
    names = {f.name for e in _endpoints() for f in e.fields}
    present = {c for c in df.columns if c in names}
    if not present:
        return []
    fits = [e for e in _endpoints() if present <= {f.name for f in e.fields}]
    # Fewest fields the frame lacks first; ties keep the table's order (completions before decisions).
    return sorted(fits, key=lambda e: len(e.fields) - len(present))


def _inferred(df: pd.DataFrame, endpoint: str | None = None) -> dict[str, Any]:
    """The ``attrs`` a fetch would have given, rebuilt from the columns (the window from the data)."""
    if endpoint is not None:
        chosen = DEFAULT.endpoint(endpoint)
    else:
        found = _candidates(df)
        if not found:
            raise InvalidParameterError(
                "df", "a frame without usage_frames attrs",
                reason=f"has no column of any endpoint; name it with {RESTORE_HINT}",
            )  # fmt: skip
        chosen = found[0]
    attrs: dict[str, Any] = {"provider": chosen.provider, "endpoint": chosen.name,
                             "group_by": [k for k in chosen.group_by if k in df.columns],
                             "filters": {}}  # fmt: skip
    if isinstance(df.index, pd.DatetimeIndex) and "end_time" in df.columns and len(df):
        starts = pd.DatetimeIndex(df.index)
        spans = (pd.DatetimeIndex(df["end_time"]) - starts).total_seconds()
        common = pd.Series(spans).mode()
        width = {seconds: name for name, seconds in BUCKET_SECONDS.items()}.get(int(common.iloc[0]), "")
        attrs["bucket_width"] = chosen.bucket_widths[0] if len(chosen.bucket_widths) == 1 else width
        attrs["start"] = starts.min().isoformat()
        attrs["end"] = pd.Timestamp(df["end_time"].max()).isoformat()
    return attrs


def _endpoint(attrs: Mapping[Any, Any]) -> Endpoint | None:
    """The endpoint ``attrs`` name (``provider``, else the first provider's, and ``endpoint``), if it exists."""
    owner = str(attrs.get("provider", DEFAULT.name))
    provider = ALL if owner == ALL.name else PROVIDERS.get(owner)
    name = attrs.get("endpoint")
    return provider.endpoints.get(name) if provider is not None and isinstance(name, str) else None


def meta_of(df: pd.DataFrame) -> dict[str, Any]:
    """The frame's ``attrs``, or, for a frame that lost them (``pd.concat``, CSV), what its columns tell."""
    if _endpoint(df.attrs) is not None:
        return {str(k): v for k, v in df.attrs.items()}
    times_of(df)
    return _inferred(df)


def frame_arg(df: object, argument: str = "df") -> pd.DataFrame:
    """``df`` itself when it is a DataFrame, else :class:`InvalidParameterError` naming the argument.

    Examples:
        >>> frame_arg("x")
        Traceback (most recent call last):
        ...
        usage_frames.InvalidParameterError: df: 'x' must be a pandas DataFrame (a fetched frame)
    """
    if not isinstance(df, pd.DataFrame):
        raise InvalidParameterError(argument, df, reason="must be a pandas DataFrame (a fetched frame)")
    return df


def count_arg(value: object, argument: str, low: int = 1) -> int:
    """A whole-number argument of at least ``low`` (``n``, ``window``), else :class:`InvalidParameterError`.

    Examples:
        >>> count_arg(3, "n"), count_arg(np.int64(2), "window")
        (3, 2)
    """
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise InvalidParameterError(argument, value, reason=f"must be a whole number >= {low}")
    return int(value)


def number_arg(value: object, argument: str) -> float:
    """A finite real-number argument (``threshold``), else :class:`InvalidParameterError`.

    Examples:
        >>> number_arg(5, "threshold")
        5.0
    """
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise InvalidParameterError(argument, value, reason="must be a finite number")
    if not np.isfinite(float(value)):
        raise InvalidParameterError(argument, value, reason="must be a finite number")
    return float(value)


def now_arg(now: object) -> pd.Timestamp:
    """``now=`` of a helper as a UTC Timestamp, else :class:`InvalidParameterError` naming ``now``.

    Examples:
        >>> now_arg("2026-10-05 12:00")
        Timestamp('2026-10-05 12:00:00+0000', tz='UTC')
    """
    return to_utc(now, argument="now")  # type: ignore[arg-type]


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
    chosen = PROVIDERS[attrs["provider"]].endpoints[attrs["endpoint"]]
    for f in chosen.fields:
        if f.name in out.columns and str(out[f.name].dtype) != f.dtype:
            out[f.name] = out[f.name].astype(f.dtype)  # type: ignore[call-overload]
    for key in attrs["group_by"]:
        if out[key].dtype == object or str(out[key].dtype).startswith("str"):
            kind = chosen.key_dtype(key)
            out[key] = out[key].astype(kind)
    return finish(out, out, **attrs)


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
    meta = meta_of(df)
    found = _endpoint(meta)
    if found is None:  # pragma: no cover - meta_of gives the attrs of a known endpoint, or raises
        raise InvalidParameterError("df", meta.get("endpoint"), reason=f"is not a known endpoint; {RESTORE_HINT}")
    return found


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


def times_of(df: pd.DataFrame | pd.Series) -> pd.DatetimeIndex:
    """The ``start_time`` index of a frame, or an error naming how to restore it."""
    if not isinstance(df.index, pd.DatetimeIndex):
        raise InvalidParameterError(
            "df", type(df.index).__name__, reason=f"is not a start_time index; restore it with {RESTORE_HINT}"
        )
    return pd.DatetimeIndex(df.index)


def provider_of(df: pd.DataFrame) -> Provider:
    """The provider a frame came from (``attrs["provider"]``, else the one whose endpoint its columns show).

    Examples:
        >>> from usage_frames import Client
        >>> provider_of(Client.fake().costs("2026-10-01", "2026-10-02")).name
        'openai'
    """
    name = endpoint_of(df).provider
    return ALL if name == ALL.name else PROVIDERS[name]


def keys_of(df: pd.DataFrame) -> list[str]:
    """The group-key columns of a frame, in the table's order.

    Examples:
        >>> from usage_frames import Client
        >>> keys_of(Client.fake().images("2026-10-01", "2026-10-02", group_by=["source", "model"]))
        ['model', 'source']
    """
    meta = meta_of(df)
    found = _endpoint(meta)
    keys = found.key_columns(meta.get("group_by", [])) if found is not None else meta.get("group_by", [])
    return [k for k in keys if k in df.columns]


def fields_of(df: pd.DataFrame, kind: str) -> list[str]:
    """The value columns of a frame of one kind (``additive``, ``level``, ``attribute``), in the table's order."""
    return [f.name for f in endpoint_of(df).fields if f.kind == kind and f.name in df.columns]


def combine_values(grouped: Any, df: pd.DataFrame, over_time: bool) -> pd.DataFrame:
    """Combine value columns per group: counts add, levels add across groups but average over time.

    Labels (currency, unit) keep their first value. A group whose values are all ``<NA>`` stays ``<NA>``, never 0.
    """
    parts = []
    additive, levels, labels = fields_of(df, "additive"), fields_of(df, "level"), fields_of(df, "attribute")
    if additive:
        parts.append(grouped[additive].sum(min_count=1))
    if levels:
        parts.append(grouped[levels].mean() if over_time else grouped[levels].sum(min_count=1))
    if labels:
        parts.append(grouped[labels].first())
    combined: pd.DataFrame = pd.concat(parts, axis=1)
    return combined


def finish(out: pd.DataFrame, df: pd.DataFrame, **attrs: Any) -> pd.DataFrame:
    """``out`` with the ``attrs`` of ``df`` carried forward, updated by ``attrs`` (every helper's last step)."""
    fresh: dict[Hashable | None, Any] = {}
    fresh.update(meta_of(df) if df is not out else {})
    fresh.update(attrs)
    out.attrs = fresh
    return out


def by_keys(df: pd.DataFrame, by: str | Sequence[str] | None) -> list[str]:
    """The ``by=`` argument of a helper as a list of the frame's key columns, or an error naming them."""
    endpoint_of(df)
    if by is not None and not isinstance(by, str | Sequence):
        raise InvalidParameterError("by", by, keys_of(df), reason="must be a column name or a list of them")
    chosen = [] if by is None else [by] if isinstance(by, str) else list(by)
    for key in chosen:
        if not isinstance(key, str) or key not in df.columns:
            raise InvalidParameterError("by", key, keys_of(df), reason="is not a column of this frame")
    return chosen


def values_of(df: pd.DataFrame, values: str | None) -> str:
    """The ``values=`` argument of a helper: the column named, else the endpoint's default measure."""
    measures = fields_of(df, "additive") or fields_of(df, "level")
    name = values or endpoint_of(df).measure or measures[0]
    if not isinstance(name, str) or name not in df.columns:
        raise InvalidParameterError("values", name, [c for c in df.columns if c != "end_time"])
    return name


def grid_of(df: pd.DataFrame) -> pd.DatetimeIndex:
    """The bucket starts the API uses for the frame's window: the (unaligned) start, then width boundaries."""
    width = meta_of(df)["bucket_width"]
    if width not in BUCKET_SECONDS:
        raise InvalidParameterError("df", width, reason="is not a fetched bucket width; complete() before resample()")
    start, end = pd.Timestamp(meta_of(df)["start"]), pd.Timestamp(meta_of(df)["end"])
    step = pd.Timedelta(seconds=BUCKET_SECONDS[width])
    if endpoint_of(df).whole_buckets:
        start = start.floor(step)
    inner = pd.date_range(start.floor(step) + step, end, freq=step, inclusive="left")
    return pd.DatetimeIndex([start, *inner], name="start_time")


def label(
    df: pd.DataFrame,
    projects: pd.DataFrame | None = None,
    users: pd.DataFrame | None = None,
    api_keys: pd.DataFrame | None = None,
    *,
    names: Mapping[str, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """Add readable names next to the IDs (``project_name`` after ``project_id``...); unknown IDs keep ``<NA>``.

    Args:
        df: Any usage or costs frame.
        projects: A frame with ``id`` and ``name`` (``uf.projects()``).
        users: A frame with ``id`` and ``name`` or ``email`` (``uf.users()``).
        api_keys: A frame with ``id`` and ``name`` (``uf.api_keys()``).
        names: Such frames by the key column they name (a provider's ``names(client)``: ``workspace_id``...); a
            row whose ``id`` is missing names the rows whose key is null (a default workspace).

    Examples:
        >>> names = pd.DataFrame({"id": ["proj_chat"], "name": ["Customer chat"]})
        >>> from usage_frames import Client
        >>> df = Client.fake().costs("2026-10-01", "2026-10-02", group_by="project_id")
        >>> label(df, projects=names)[["project_id", "project_name"]].iloc[0].tolist()
        ['proj_chat', 'Customer chat']
    """
    out = frame_arg(df).copy()
    frames = {"project_id": projects, "user_id": users, "api_key_id": api_keys, **(names or {})}
    grouped = set(meta_of(df).get("group_by", []))
    for column, listed in frames.items():
        if listed is None or column not in out.columns:
            continue
        text = listed["name"] if "name" in listed else listed["email"]
        text = text.fillna(listed["email"]) if "email" in listed else text
        ids = listed["id"].astype(object)
        mapping = {i: t for i, t in zip(ids, text, strict=True) if pd.notna(i)}
        null = next((t for i, t in zip(ids, text, strict=True) if pd.isna(i)), None)
        named = out[column].astype(object).map(mapping).astype("string")
        if null is not None and column in grouped:
            named = named.where(out[column].notna(), null)
        out.insert(list(out.columns).index(column) + 1, column.removesuffix("_id") + "_name", named)
    return finish(out, df)
