"""How OpenAI's bill names what it bills: the line-item grammar.

Real bills name token line items ``[<product> | ]<model>[ audio|text|image], <kind>[, long context]``
(``api-notes.md`` section 11): ``gpt-4o-mini-2024-07-18, cached input``, ``priority | gpt-5.6-sol, output, long
context``; anything else (``web search tool calls``) is a product of its own. :data:`BILL` is how the helpers read a
costs frame grouped by ``line_item`` (``ops.split_line_items``, unit prices, FOCUS).

Examples:
    >>> parse_line_item("batch | gpt-4o-2024-08-06, output")["product"]
    'batch'
"""

from __future__ import annotations

import re

import pandas as pd

from usage_frames._core.provider import Bill

KINDS = {
    "input": "input", "input_tokens": "input", "input tokens": "input", "uncached input": "input",
    "cached input": "cached input", "cached_input_tokens": "cached input", "input_cached_tokens": "cached input",
    "cached input tokens": "cached input", "output": "output", "output_tokens": "output", "output tokens": "output",
    "cache writes": "cache writes", "cache write": "cache writes", "input_cache_write_tokens": "cache writes",
}  # fmt: skip
MODALITIES = ("text", "audio", "image")
CONTEXTS = {"long context": "long", "short context": "short"}
MODEL_NAME = re.compile(r"^(ft[-:])?[a-z0-9][a-z0-9.:_-]*$", re.IGNORECASE)


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
    for suffix in MODALITIES:
        if name.lower().endswith(f" {suffix}"):
            name, modality = name[: -len(suffix) - 1].strip(), suffix
    contexts = [CONTEXTS.get(part.lower()) for part in rest[1:]]
    if not rest or not MODEL_NAME.match(name) or None in contexts or len(contexts) > 1:
        return {**empty, "product": item.strip()}
    kind = rest[0].lower()
    return {"product": " | ".join(products) or None, "model": name, "modality": modality,
            "kind": KINDS.get(kind, kind), "context": contexts[0] if contexts else None}  # fmt: skip


TIERS = ("batch", "flex", "priority", "scale")  # line-item prefixes that are service tiers


def parts(costs: pd.DataFrame) -> pd.DataFrame:
    """What each row of a costs frame grouped by ``line_item`` bills (each distinct item parsed once)."""
    labels = costs["line_item"].astype(object)
    parsed = {item: parse_line_item(item) for item in labels.dropna().unique()}
    empty = parse_line_item(None)
    return pd.DataFrame([parsed.get(item, empty) if item is not None else empty for item in labels], index=costs.index,
                        columns=list(empty))  # fmt: skip


def skus(costs: pd.DataFrame, parts: pd.DataFrame) -> pd.DataFrame:
    """What each row sells: its line item without a tier or product prefix, priced as the line item, and its tier.

    The SKU is the same model and token kind at any tier; the price is the line item's own; the meter is the token
    kind; the tier is ``default`` for a model's list price.

    Examples:
        >>> costs = pd.DataFrame({"line_item": ["batch | gpt-4o-2024-08-06, input", "web search tool calls"]})
        >>> skus(costs, BILL.parts(costs)).values.tolist()
        [['gpt-4o-2024-08-06, input', 'batch | gpt-4o-2024-08-06, input', 'input', 'batch'], \
['web search tool calls', 'web search tool calls', 'web search tool calls', None]]
    """
    items = costs["line_item"].astype(object).tolist()
    product, model, kind = (parts[p].astype(object).tolist() for p in ("product", "model", "kind"))
    return pd.DataFrame(
        {
            "sku": [i.split("|")[-1].strip() if isinstance(m, str) else i for i, m in zip(items, model, strict=True)],
            "price": items,
            "meter": [k if isinstance(k, str) else i for k, i in zip(kind, items, strict=True)],
            "tier": [_tier(p, m) for p, m in zip(product, model, strict=True)],
        },
        index=costs.index,
        dtype=object,
    )


def _tier(product: object, model: object) -> str | None:
    if not isinstance(model, str):
        return None
    named = [p.strip() for p in product.split("|")] if isinstance(product, str) else []
    return next((p for p in named if p in TIERS), "default")


BILL = Bill("line_item", parts, skus)
