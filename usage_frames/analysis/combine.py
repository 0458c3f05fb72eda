"""One view of the AI bill: frames of several providers put together, on the names they share.

:func:`combine` puts cost frames of any providers into one frame (``provider``, ``project_id``, ``model``,
``amount`` in dollars, ``currency``), and usage frames into one long token frame (``provider``, ``project_id``,
``model``, ``token_direction``, ``token_category``, ``tokens``). A provider's project is what it splits its bill by
(a project, a workspace; a default workspace is named :data:`DEFAULT_PROJECT`). The combined frames are frames of
the virtual provider :data:`~usage_frames.analysis.frame.ALL`, so the helpers work on them (``totals(by="provider")``,
``share``, ``compare``, the plots). :func:`per_million` gives dollars per million tokens per model across providers.

Examples:
    >>> import usage_frames as uf
    >>> bill = combine(uf.Client.fake().costs("2026-10-01", "2026-10-08", group_by="project_id"),
    ...                uf.Client.fake(provider="anthropic").costs("2026-10-01", "2026-10-08", group_by="workspace_id"))
    >>> list(bill.columns)
    ['end_time', 'provider', 'project_id', 'project_name', 'model', 'amount', 'currency']
    >>> sorted(bill["provider"].unique())
    ['anthropic', 'openai']
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from usage_frames._core.errors import InvalidParameterError
from usage_frames._core.provider import Provider
from usage_frames.analysis.frame import ALL, endpoint_of, frame_arg, meta_of, provider_of
from usage_frames.analysis.tokens import token_categories

DEFAULT_PROJECT = "default"
"""The project of a cost or usage row its provider attributes to no named project (Anthropic's default workspace)."""

DIRECTIONS = {"uncached": "input", "cache read": "input", "cache write": "input", "output": "output"}


def combine(*frames: pd.DataFrame) -> pd.DataFrame:
    """Frames of any providers in one: cost frames into one bill, usage frames into one long token frame.

    Args:
        *frames: Cost frames (any grouping), or usage frames that count tokens (any grouping); not both kinds.

    Returns:
        Costs: ``end_time``, ``provider``, ``project_id`` (the provider's project or workspace where the frame is
        grouped by it, :data:`DEFAULT_PROJECT` for the default workspace), ``project_name`` (where the frame is
        labelled), ``model`` (where the frame says it:
        grouped by the key that names its items), ``amount`` (US dollars), ``currency`` (upper case). Usage:
        ``end_time``, ``provider``, ``project_id``, ``model``, ``token_direction`` (``input``, ``output``),
        ``token_category`` (``uncached``, ``cache read``, ``cache write``, ``output``) and ``tokens`` (``Int64``),
        one row per row and category with tokens. The sums per provider are the frames' own.

    Raises:
        InvalidParameterError: For no frame, frames of both kinds, or frames that are neither.

    Examples:
        >>> import usage_frames as uf
        >>> tokens = combine(uf.Client.fake().completions("2026-10-01", "2026-10-02", group_by="model"),
        ...                  uf.Client.fake(provider="anthropic").messages("2026-10-01", "2026-10-02"))
        >>> tokens.groupby(["provider", "token_direction"], observed=True)["tokens"].sum().index.tolist()
        [('anthropic', 'input'), ('anthropic', 'output'), ('openai', 'input'), ('openai', 'output')]
    """
    if not frames:
        raise InvalidParameterError("frames", (), reason="must be one frame or more")
    parts = [frame_arg(f, "frames") for f in frames]
    priced = {endpoint_of(f).priced for f in parts}
    if len(priced) > 1:
        raise InvalidParameterError("frames", "costs and usage", reason="must all be costs, or all usage")
    metas = [meta_of(f) for f in parts]
    _no_overlap(parts, metas)
    rows = [_costs(f) if priced == {True} else _tokens(f) for f in parts]
    out = pd.concat(rows)
    schema = ALL.endpoints["costs" if priced == {True} else "tokens"]
    for key in schema.group_by:
        out[key] = out[key].astype("category")
    widths = {m.get("bucket_width") for m in metas}
    out.index.name = "start_time"
    out = out.sort_index(kind="stable")
    out.attrs = {
        "provider": ALL.name,
        "endpoint": schema.name,
        "bucket_width": widths.pop() if len(widths) == 1 else "",
        "start": min(str(m.get("start", "")) for m in metas),
        "end": max(str(m.get("end", "")) for m in metas),
        "group_by": list(schema.group_by),
        "filters": {},
        "providers": [provider_of(f).name for f in parts],
    }
    as_of = [m["as_of"] for m in metas if m.get("as_of")]
    if as_of:
        out.attrs["as_of"] = min(as_of)
    return out


def _no_overlap(frames: list[pd.DataFrame], metas: list[dict[str, Any]]) -> None:
    """Refuse two frames of one provider's endpoint whose windows overlap: their sum would count that time twice."""
    seen: dict[tuple[str, str], list[tuple[pd.Timestamp, pd.Timestamp]]] = {}
    for frame, meta in zip(frames, metas, strict=True):
        if not meta.get("start") or not meta.get("end"):
            continue
        what = (provider_of(frame).name, endpoint_of(frame).name)
        start, end = pd.Timestamp(meta["start"]), pd.Timestamp(meta["end"])
        for first, last in seen.get(what, []):
            if start < last and first < end:
                raise InvalidParameterError(
                    "frames", f"two {what[1]} frames of {what[0]}",
                    reason=f"overlap from {max(start, first):%Y-%m-%d %H:%M} to {min(end, last):%Y-%m-%d %H:%M} UTC: "
                    "combined, that time would count twice",
                )  # fmt: skip
        seen.setdefault(what, []).append((start, end))


def _project(frame: pd.DataFrame, provider: Provider) -> pd.Series:
    """The frame's project of each row: its provider's project key (the default workspace named), else <NA>."""
    key = endpoint_of(frame).project_key
    if key is None or key not in frame.columns:
        return pd.Series(pd.NA, index=frame.index, dtype="string")
    grouped = key in meta_of(frame).get("group_by", [])
    values = frame[key].astype("string")
    return values.fillna(DEFAULT_PROJECT) if grouped else values


def _project_name(frame: pd.DataFrame) -> pd.Series:
    """The name of each row's project where the frame is labelled (``df.usage.label``), else <NA>."""
    key = endpoint_of(frame).project_key or ""
    column = key.removesuffix("_id") + "_name"
    return frame[column].astype("string") if column in frame.columns else pd.Series(pd.NA, frame.index, "string")


def _model(frame: pd.DataFrame, provider: Provider) -> pd.Series:
    """The model of each row: the ``model`` key, or what the provider's bill says of the row."""
    if "model" in frame.columns:
        return frame["model"].astype("string")
    bill = provider.bill
    if endpoint_of(frame).priced and bill is not None and bill.key in frame.columns:
        return pd.Series(bill.parts(frame)["model"].tolist(), index=frame.index, dtype="string")
    return pd.Series(pd.NA, index=frame.index, dtype="string")


def _costs(frame: pd.DataFrame) -> pd.DataFrame:
    provider = provider_of(frame)
    return pd.DataFrame(
        {
            "end_time": frame["end_time"],
            "provider": provider.name,
            "project_id": _project(frame, provider),
            "project_name": _project_name(frame),
            "model": _model(frame, provider),
            "amount": frame["amount"].astype("Float64"),
            "currency": frame["currency"].astype("string").str.upper(),
        },
        index=frame.index,
    )


def _tokens(frame: pd.DataFrame) -> pd.DataFrame:
    provider = provider_of(frame)
    categories = token_categories(frame)
    base = pd.DataFrame({"end_time": frame["end_time"], "provider": provider.name,
                         "project_id": _project(frame, provider), "model": _model(frame, provider)},
                        index=frame.index)  # fmt: skip
    long = []
    for category, direction in DIRECTIONS.items():
        part = base.copy()
        part["token_direction"], part["token_category"] = direction, category
        part["tokens"] = categories[category]
        long.append(part[part["tokens"].notna() & part["tokens"].ne(0)])
    return pd.concat(long)


def per_million(costs: pd.DataFrame, tokens: pd.DataFrame, by: str = "model") -> pd.DataFrame:
    """Dollars per million tokens across providers: a combined bill next to the combined tokens, per ``by``.

    Args:
        costs: A combined cost frame (:func:`combine` of cost frames that say their model).
        tokens: A combined token frame (:func:`combine` of usage frames by model) of the same period.
        by: ``model`` (default) or ``project_id``.

    Returns:
        Per provider and ``by``: ``amount``, ``input_tokens``, ``output_tokens`` and ``usd_per_1m_tokens`` (all
        tokens, input and output).

    Examples:
        >>> import usage_frames as uf
        >>> oa, an = uf.Client.fake(), uf.Client.fake(provider="anthropic")
        >>> bill = combine(oa.costs("2026-10-01", "2026-10-08", group_by="line_item"),
        ...                an.costs("2026-10-01", "2026-10-08", group_by="description"))
        >>> used = combine(oa.completions("2026-10-01", "2026-10-08", group_by="model"),
        ...                an.messages("2026-10-01", "2026-10-08", group_by="model"))
        >>> table = per_million(bill, used)
        >>> sorted(table.index.get_level_values("provider").unique())
        ['anthropic', 'openai']
    """
    for frame, name in ((costs, "costs"), (tokens, "tokens")):
        if meta_of(frame_arg(frame, name)).get("provider") != ALL.name or meta_of(frame)["endpoint"] != name:
            raise InvalidParameterError(name, "a frame", reason=f"must be a combined {name} frame (ops.combine)")
    if by not in ("model", "project_id"):
        raise InvalidParameterError("by", by, ("model", "project_id"))
    keys = ["provider", by]
    dollars = costs.groupby(keys, observed=True)["amount"].sum()
    counts = tokens.pivot_table(index=keys, columns="token_direction", values="tokens", aggfunc="sum",
                                observed=True).reindex(columns=["input", "output"])  # fmt: skip
    out = pd.concat([dollars, counts.add_suffix("_tokens")], axis=1, join="inner").astype("Float64")
    total = out["input_tokens"].fillna(0) + out["output_tokens"].fillna(0)
    out["usd_per_1m_tokens"] = out["amount"] / total.where(total > 0) * 1e6
    return out
