"""Tokens by what they are: input uncached, read from the cache, written to it, and output, whatever the provider.

Each provider names its token columns its own way (OpenAI's ``input_cached_tokens``, Anthropic's nested cache
writes); the endpoint's row says how they add up (:class:`~usage_frames._core.schema.Tokens`), and
:func:`token_categories` reads any usage frame that way. Cache efficiency and the combined token frame of
:func:`usage_frames.analysis.combine.combine` build on it.

Examples:
    >>> from usage_frames import Client
    >>> df = Client.fake().completions("2026-10-01", "2026-10-02")
    >>> cats = token_categories(df)
    >>> list(cats.columns)
    ['uncached', 'cache read', 'cache write', 'output']
    >>> bool((cats[["uncached", "cache read", "cache write"]].sum(axis=1) == df["input_tokens"]).all())
    True
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from usage_frames._core.errors import InvalidParameterError
from usage_frames.analysis.frame import by_keys, endpoint_of, finish
from usage_frames.analysis.reshape import resample


def token_categories(df: pd.DataFrame) -> pd.DataFrame:
    """Per row, the tokens of each category: ``uncached``, ``cache read``, ``cache write`` (input) and ``output``.

    A category is the sum of its columns; ``<NA>`` where the answer lacks all of them (never a zero). Where the
    provider sends an input total and the answer lacks the breakdown (older answers), the uncached input is what
    the total leaves.

    Raises:
        InvalidParameterError: If the frame's endpoint does not count tokens.

    Examples:
        >>> from usage_frames import Client
        >>> usage = Client.sample().completions("2026-10-01", "2026-10-08")
        >>> parts = token_categories(usage)
        >>> parts.columns.tolist()
        ['uncached', 'cache read', 'cache write', 'output']
        >>> bool((parts.drop(columns="output").sum(axis=1) == usage["input_tokens"]).all())  # input adds up
        True
    """
    endpoint = endpoint_of(df)
    tokens = endpoint.tokens
    if tokens is None:
        raise InvalidParameterError("df", endpoint.name, reason="does not count tokens")
    out = pd.DataFrame(index=df.index)
    for name, columns in tokens.categories().items():
        present = pd.DataFrame({c: df[c].astype("Int64") for c in columns if c in df.columns}, index=df.index)
        # The sum of the columns the answer has; <NA> where it has none of them.
        out[name] = present.sum(axis=1, min_count=1).astype("Int64")
    if tokens.input_total is not None and tokens.input_total in df.columns:
        derived = df[tokens.input_total].astype("Int64") - out["cache read"].fillna(0) - out["cache write"].fillna(0)
        out["uncached"] = out["uncached"].fillna(derived)
    return out


def cache_efficiency(df: pd.DataFrame, by: str | Sequence[str] | None = None, rule: str = "D") -> pd.DataFrame:
    """Prompt caching over time: the share of input read from the cache, and the share written to it.

    ``input_tokens`` is all input (uncached, cache reads and cache writes); ``<NA>`` where the server did not send
    the breakdown (older answers), never a zero. Any provider's usage frame that counts cached tokens.

    Examples:
        >>> from usage_frames import Client
        >>> df = Client.sample().completions("2026-10-01", "2026-10-08", group_by="model")
        >>> e = cache_efficiency(df, by="model", rule="W-SUN")
        >>> round(float(e[e["model"] == "gpt-4o-mini-2024-07-18"]["cached_share_pct"].iloc[0]), 1)
        41.9
    """
    keys = by_keys(df, by)
    endpoint = endpoint_of(df)
    if endpoint.tokens is None or not (endpoint.tokens.cache_read or endpoint.tokens.cache_write):
        raise InvalidParameterError("df", endpoint.name, reason="does not count cached tokens")
    columns = [c for cs in endpoint.tokens.categories().values() for c in cs] + [endpoint.tokens.input_total or ""]
    kept = [c for c in dict.fromkeys(columns) if c in df.columns]
    grouped = resample(finish(df[["end_time", *keys, *kept]], df, group_by=keys), rule)
    cats = token_categories(grouped)
    total = (cats["uncached"] + cats["cache read"].fillna(0) + cats["cache write"].fillna(0)).astype("Int64")
    out = grouped[["end_time", *keys]].copy()
    out["input_tokens"] = total
    share = total.astype("Float64").where(total > 0)
    out["cached_share_pct"] = cats["cache read"] / share * 100
    out["cache_write_share_pct"] = cats["cache write"] / share * 100
    return finish(out, df, bucket_width=rule)
