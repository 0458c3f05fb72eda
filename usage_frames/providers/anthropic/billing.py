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


def parts(costs: pd.DataFrame) -> pd.DataFrame:
    """What each row of a costs frame grouped by ``description`` bills."""

    def column(name: str) -> pd.Series:
        found = costs[name] if name in costs.columns else pd.Series(None, index=costs.index, dtype=object)
        return found.astype(object).where(found.notna(), None)

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


BILL = Bill("description", parts)
