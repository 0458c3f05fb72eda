"""How Anthropic's cost report says what it bills: the fields of a row grouped by ``description``.

Grouped by ``description``, a cost row names its ``cost_type`` (``tokens``, ``web_search``, ``code_execution``...),
``model``, ``token_type`` (``uncached_input_tokens``, ``cache_read_input_tokens``,
``cache_creation.ephemeral_5m_input_tokens``...), ``service_tier`` and ``context_window``; :data:`BILL` reads them
as the parts every provider's bill is read into (a tier as the product, the token kind, the long context).

Examples:
    >>> row = pd.DataFrame({"cost_type": ["tokens"], "model": ["claude-sonnet-4-5"], "service_tier": ["batch"],
    ...                     "token_type": ["cache_read_input_tokens"], "context_window": ["200k-1M"],
    ...                     "description": ["Claude Sonnet 4.5 Usage - Cache Read"]})
    >>> parts(row).iloc[0].to_dict()
    {'product': 'batch', 'model': 'claude-sonnet-4-5', 'modality': None, 'kind': 'cached input', 'context': 'long'}
"""

from __future__ import annotations

import pandas as pd

from usage_frames._core.provider import Bill

KINDS = {
    "uncached_input_tokens": "input",
    "cache_read_input_tokens": "cached input",
    "output_tokens": "output",
    "cache_creation.ephemeral_5m_input_tokens": "cache writes",
    "cache_creation.ephemeral_1h_input_tokens": "cache writes",
}
CONTEXTS = {"200k-1M": "long"}


def _column(costs: pd.DataFrame, name: str) -> pd.Series:
    """A column as objects with ``None`` where it is missing (all ``None`` when the frame lacks it)."""
    found = costs[name] if name in costs.columns else pd.Series(None, index=costs.index, dtype=object)
    return found.astype(object).where(found.notna(), None)


def parts(costs: pd.DataFrame) -> pd.DataFrame:
    """What each row of a costs frame grouped by ``description`` bills."""

    def column(name: str) -> pd.Series:
        return _column(costs, name)

    tokens = column("cost_type").eq("tokens")
    tier = column("service_tier")
    product = tier.where(tier.notna() & tier.ne("standard"), None).where(tokens, column("description"))
    return pd.DataFrame(
        {
            "product": product,
            "model": column("model"),
            "modality": pd.Series(None, index=costs.index, dtype=object),
            "kind": column("token_type").map(KINDS).where(tokens, None),
            "context": column("context_window").map(CONTEXTS),
        },
        index=costs.index,
    ).astype(object).where(lambda f: f.notna(), None)


def skus(costs: pd.DataFrame, parts: pd.DataFrame) -> pd.DataFrame:
    """What each row sells, read from the fields of a row grouped by ``description``.

    Not from the description's wording, which the API does not document: a token row sells a model's token type in
    a context window (``sku``), priced by its service tier and inference geography too (``price``), metered by its
    token type; any other row sells its cost type (``web_search``, ``code_execution``); a row without fields, its
    description.

    Examples:
        >>> row = pd.DataFrame({"description": ["Claude Haiku 4.5 Batch Usage - Input Tokens", "Web Search Usage"],
        ...                     "cost_type": ["tokens", "web_search"], "model": ["claude-haiku-4-5", None],
        ...                     "token_type": ["uncached_input_tokens", None], "service_tier": ["batch", None],
        ...                     "context_window": ["0-200k", None], "inference_geo": ["global", None]})
        >>> skus(row, parts(row)).values.tolist()
        [['claude-haiku-4-5, uncached_input_tokens, 0-200k', 'claude-haiku-4-5, uncached_input_tokens, 0-200k, \
batch, global', 'uncached_input_tokens', 'batch'], ['web_search', 'web_search', 'web_search', None]]
    """
    names = ("description", "cost_type", "model", "token_type", "service_tier", "context_window", "inference_geo")
    rows = []
    for description, cost_type, model, token_type, tier, window, geo in zip(
        *(_column(costs, n) for n in names), strict=True
    ):
        if cost_type == "tokens":
            sku = ", ".join(filter(None, (model, token_type, window)))
            rows.append((sku, ", ".join(filter(None, (sku, tier, geo))), token_type, tier))
        else:
            rows.append((cost_type or description,) * 3 + (None,))
    return pd.DataFrame(rows, columns=["sku", "price", "meter", "tier"], index=costs.index, dtype=object)


BILL = Bill("description", parts, skus)
