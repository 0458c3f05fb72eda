"""What does the fake organization pay for its traffic?

The price table (USD per token, image, character, second, GiB-hour, session, call) and the costs line items of a
stream, named as real bills name them: :data:`LINE_ITEMS` says how each endpoint is billed.

Examples:
    >>> TOKEN_PRICES["gpt-4o-2024-08-06"]
    (2.5, 1.25, 10.0)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from usage_frames.fake.traffic import Stream
from usage_frames.providers.openai.fake.streams import BREAKDOWNS

# (input, cached input, output) USD per 1M tokens; images per image; tts per 1M characters; whisper per second.
TOKEN_PRICES: Mapping[str, tuple[float, float, float]] = {
    "gpt-4o-2024-08-06": (2.50, 1.25, 10.00),
    "gpt-4o-mini-2024-07-18": (0.15, 0.075, 0.60),
    "gpt-4.1-mini-2025-04-14": (0.40, 0.10, 1.60),
    "o3-2025-04-16": (2.00, 0.50, 8.00),
    "text-embedding-3-small": (0.02, 0.02, 0.0),
    "text-embedding-3-large": (0.13, 0.13, 0.0),
}
# Batch and flex run at half price, priority at 1.75x (the fake's assumption, close to the public price list).
TIER_FACTORS: Mapping[str, float] = {"batch": 0.5, "flex": 0.5, "priority": 1.75}
UNIT_PRICES: Mapping[str, float] = {
    "gpt-image-1": 0.04,
    "dall-e-3": 0.08,
    "tts-1": 15.0 / 1e6,
    "whisper-1": 0.006 / 60,
    "vector store storage": 0.10 / 24,  # per GiB-hour ($0.10 per GiB-day)
    "code interpreter | sessions": 0.03,
    "assistants api | file search": 2.50 / 1000,
    "web search tool calls": 10.0 / 1000,
}


class LineItem(NamedTuple):
    """One costs line item of a stream.

    Attributes:
        name: The line item as the bill names it.
        parts: The stream components its quantity counts.
        unit: Its ``quantity_unit`` (``None`` for counts the API leaves unnamed).
        price: USD per unit.
    """

    name: str
    parts: tuple[str, ...]
    unit: str | None
    price: float


@dataclass(frozen=True, slots=True)
class Billing:
    """How an endpoint with one line item per stream is billed.

    Attributes:
        name: The line item; ``{model}`` is the stream's model.
        parts: The stream components its quantity counts.
        unit: Its ``quantity_unit``.
        price: USD per unit, from the stream's model.
    """

    name: str
    parts: tuple[str, ...]
    unit: str | None
    price: Callable[[str], float]

    def item(self, model: str) -> LineItem:
        """The line item of a stream of ``model``."""
        return LineItem(self.name.format(model=model), self.parts, self.unit, self.price(model))


def _unit(name: str) -> Callable[[str], float]:
    """The price of the line item ``name`` in :data:`UNIT_PRICES`, whatever the model."""
    return lambda _model: UNIT_PRICES[name]


# Endpoints billed one line item per stream; completions and decisions are tiered token prices
# (:func:`_token_items`); moderations are free.
LINE_ITEMS: Mapping[str, Billing] = {
    "embeddings": Billing("{model}, input", ("input_tokens",), "tokens", lambda m: TOKEN_PRICES[m][0] / 1e6),
    "images": Billing("{model}, images", ("images",), "images", UNIT_PRICES.__getitem__),
    "audio_speeches": Billing("{model}, characters", ("characters",), "characters", UNIT_PRICES.__getitem__),
    "audio_transcriptions": Billing(
        "{model}, transcription", ("seconds",), "duration_seconds", UNIT_PRICES.__getitem__
    ),
    "vector_stores": Billing("vector store storage", ("gib_hours",), "gibibyte_hours", _unit("vector store storage")),
    "code_interpreter_sessions": Billing(
        "code interpreter | sessions", ("sessions",), None, _unit("code interpreter | sessions")
    ),
    "file_search_calls": Billing(
        "assistants api | file search", ("calls",), None, _unit("assistants api | file search")
    ),
    "web_search_calls": Billing("web search tool calls", ("calls",), None, _unit("web search tool calls")),
}
# Endpoints billed by tokens at the tier's price, and the prefix of their line items.
TOKEN_BILLED: Mapping[str, str] = {"completions": "", "decisions": "decisions | "}


def _token_items(stream: Stream) -> list[LineItem]:
    """Completions and decisions: input, cached input, cache writes and output per modality, at the tier's price."""
    keys, ep = stream.keys, stream.endpoint
    model = str(keys.get("model"))
    tier = "batch" if keys["batch"] else keys["service_tier"]
    factor = TIER_FACTORS.get(tier, 1.0)
    prefix = TOKEN_BILLED[ep] + (f"{tier} | " if tier in TIER_FACTORS else "")
    price_in, price_cached, price_out = (p * factor / 1e6 for p in TOKEN_PRICES[model])
    items: list[LineItem] = []
    for modality in ("text", "audio", "image"):
        suffix = "" if modality == "text" else f" {modality}"
        for kind, part, price in (("input", f"input_{modality}_tokens", price_in),
                                  ("cached input", f"input_cached_{modality}_tokens", price_cached),
                                  ("output", f"output_{modality}_tokens", price_out)):  # fmt: skip
            if modality == "text" or stream.per_request.get(part, 0) > 0:
                items.append(LineItem(f"{prefix}{model}{suffix}, {kind}", (part,), "tokens", price))
    writes = BREAKDOWNS["input_cache_write_tokens"]
    if sum(stream.per_request.get(p, 0) for p in writes):
        items.insert(2, LineItem(f"{prefix}{model}, cache writes", writes, "tokens", price_in))
    return items


def line_items(stream: Stream) -> list[LineItem]:
    """The costs line items of a stream: (line item, components it counts, quantity unit, USD per unit).

    Named as real bills name them (``api-notes.md`` section 11): ``[<tier> | ]<model>[ audio| image], <input |
    cached input | cache writes | output>``, text without a modality suffix. Every modality is priced at the
    model's token price (the fake's simplification), so the items split the dollars without changing them.

    Examples:
        >>> from usage_frames.providers.openai.fake.streams import default_streams
        >>> [li[0] for li in line_items(default_streams()[5])]
        ['batch | gpt-4o-mini-2024-07-18, input', 'batch | gpt-4o-mini-2024-07-18, cached input', \
'batch | gpt-4o-mini-2024-07-18, output']
        >>> [li[0] for li in line_items(default_streams()[3])][4:7]
        ['priority | gpt-4o-2024-08-06 audio, input', 'priority | gpt-4o-2024-08-06 audio, cached input', \
'priority | gpt-4o-2024-08-06 audio, output']
    """
    if stream.endpoint in TOKEN_BILLED:
        return _token_items(stream)
    billing = LINE_ITEMS.get(stream.endpoint)
    return [billing.item(str(stream.keys.get("model")))] if billing else []  # moderations are free
