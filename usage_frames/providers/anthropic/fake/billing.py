"""What does the fake Anthropic organization pay for its traffic, and how does the cost report describe it?

A price table per model and context window (USD per million tokens: uncached input, cache read, 5-minute and 1-hour
cache writes, output), the batch tier at half price, US-only inference at 1.1 times the price of the models that take
an inference geography, web searches at $10 per 1,000 and code execution at $0.05 per container hour. Every price is
an exact decimal, kept as an integer number of :data:`SCALE` ths of a cent per unit, so that every amount the report
sends (a decimal string in cents) and every ground-truth total is exact.

As the real report does (Anthropic's "Usage and Cost API" FAQ): Priority Tier usage is not in the cost report, and
code execution is in the cost report only. A row grouped by ``description`` names what it bills
(:class:`CostItem`); the description texts beyond "<model> Usage - Input Tokens", "Web Search Usage" and "Code
Execution Usage" are the fake's own (the API's wording for cache, batch and long-context lines is not documented).

Examples:
    >>> from usage_frames.providers.anthropic.fake.streams import default_streams
    >>> [item.description for item in line_items(default_streams()[0])][:2]
    ['Claude Sonnet 4.5 Usage - Input Tokens', 'Claude Sonnet 4.5 Usage - Output Tokens']
    >>> cents(123_789_120_000)
    '1237.8912'
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, NamedTuple

from usage_frames.fake.traffic import Stream
from usage_frames.providers.anthropic.endpoints import DESCRIPTION_FIELDS
from usage_frames.providers.anthropic.fake.streams import CODE_EXECUTION, HAIKU_45, OPUS_41, OPUS_46, SONNET_45

SCALE = 10**8
"""Prices and amounts are integers in units of 1/SCALE of a cent (every price of the table is a whole number)."""


class Price(NamedTuple):
    """USD per million tokens of one model in one context window."""

    uncached: Decimal
    cache_read: Decimal
    cache_write_5m: Decimal
    cache_write_1h: Decimal
    output: Decimal

    @classmethod
    def of(cls, *values: str) -> Price:
        """A price from decimal strings, in the field order."""
        return cls(*map(Decimal, values))


MODEL_PRICES: Mapping[str, Mapping[str, Price]] = {
    SONNET_45: {
        "0-200k": Price.of("3", "0.30", "3.75", "6", "15"),
        "200k-1M": Price.of("6", "0.60", "7.50", "12", "22.50"),  # a request over 200k input tokens, all of it
    },
    OPUS_41: {"0-200k": Price.of("15", "1.50", "18.75", "30", "75")},
    HAIKU_45: {"0-200k": Price.of("1", "0.10", "1.25", "2", "5")},
    OPUS_46: {"0-200k": Price.of("5", "0.50", "6.25", "10", "25")},
}
MODEL_TITLES: Mapping[str, str] = {
    SONNET_45: "Claude Sonnet 4.5",
    OPUS_41: "Claude Opus 4.1",
    HAIKU_45: "Claude Haiku 4.5",
    OPUS_46: "Claude Opus 4.6",
}
TIER_FACTORS: Mapping[str, Decimal] = {"standard": Decimal(1), "batch": Decimal("0.5")}
"""The tiers the cost report bills; others (priority) are left out of it, as the real report leaves them out."""
GEO_FACTORS: Mapping[str, Decimal] = {"us": Decimal("1.1")}
WEB_SEARCH_USD = Decimal("0.01")  # $10 per 1,000 searches
CODE_EXECUTION_USD = Decimal("0.00005")  # per thousandth of a container hour: $0.05 an hour
# (stream quantity, token_type of the cost row, what the description calls it), in the API's enum order.
TOKEN_TYPES: tuple[tuple[str, str, str], ...] = (
    ("uncached", "uncached_input_tokens", "Input Tokens"),
    ("output", "output_tokens", "Output Tokens"),
    ("cache_read", "cache_read_input_tokens", "Cache Read Input Tokens"),
    ("cache_write_1h", "cache_creation.ephemeral_1h_input_tokens", "1h Cache Write Input Tokens"),
    ("cache_write_5m", "cache_creation.ephemeral_5m_input_tokens", "5m Cache Write Input Tokens"),
)


class CostItem(NamedTuple):
    """One line of the cost report that a stream adds to (its amount: ``quantity`` times ``price``).

    Attributes:
        description: The row's ``description`` when grouped by it.
        cost_type: ``tokens``, ``web_search`` or ``code_execution``.
        model: The model id (token costs only).
        token_type: The token type, spelled as the report spells it (token costs only).
        service_tier: ``standard`` or ``batch`` (token costs only).
        context_window: ``0-200k`` or ``200k-1M`` (token costs only).
        inference_geo: ``global``, ``us`` or ``not_available`` (token costs only).
        quantity: The stream quantity it counts.
        price: Units of 1/:data:`SCALE` cent per unit of the quantity.
    """

    description: str
    cost_type: str
    model: str | None
    token_type: str | None
    service_tier: str | None
    context_window: str | None
    inference_geo: str | None
    quantity: str
    price: int

    def fields(self) -> dict[str, Any]:
        """What a row grouped by ``description`` says of itself, besides its description (the table's order)."""
        return {name: getattr(self, name) for name in DESCRIPTION_FIELDS}


def units(usd: Decimal) -> int:
    """A price in USD as a whole number of units of 1/:data:`SCALE` cent.

    Raises:
        ValueError: If the price is finer than the unit (the amounts would not be exact).

    Examples:
        >>> units(Decimal("3") / 10**6), units(Decimal("0.01"))
        (30000, 100000000)
    """
    scaled = usd * 100 * SCALE
    if scaled != scaled.to_integral_value():
        raise ValueError(f"the price {usd} USD is finer than 1/{SCALE} cent")
    return int(scaled)


def cents(amount: int) -> str:
    """An amount in units of 1/:data:`SCALE` cent as the report sends it: a decimal string in cents, no trailing zeros.

    Examples:
        >>> cents(12_378_912_000), cents(10_000_000), cents(150_000_000_000)
        ('123.78912', '0.1', '1500')
    """
    return format(Decimal(amount).scaleb(-8).normalize(), "f")


def dollars(amount: int) -> Decimal:
    """An amount in units of 1/:data:`SCALE` cent in US dollars, exactly.

    Examples:
        >>> dollars(12_378_912_000)
        Decimal('1.2378912000')
    """
    return Decimal(amount).scaleb(-10)


def line_items(stream: Stream) -> list[CostItem]:
    """The cost report lines a stream adds to: its tokens by type at its model's price, web searches, code execution.

    A tier the report does not bill (priority) has none.

    Examples:
        >>> from usage_frames.providers.anthropic.fake.streams import default_streams
        >>> streams = default_streams()
        >>> line_items(streams[2])  # priority tier
        []
        >>> [(i.description, i.cost_type, i.price) for i in line_items(streams[5])][-1:]
        [('Code Execution Usage', 'code_execution', 500000)]
        >>> [i.description for i in line_items(streams[7])][0]
        'Claude Sonnet 4.5 Batch Usage - Input Tokens'
    """
    keys, made = stream.keys, stream.per_request
    tier = str(keys["service_tier"])
    if tier not in TIER_FACTORS:
        return []
    model, window, geo = str(keys["model"]), str(keys["context_window"]), str(keys["inference_geo"])
    price = MODEL_PRICES[model][window]
    factor = TIER_FACTORS[tier] * GEO_FACTORS.get(geo, Decimal(1))
    kinds = [MODEL_TITLES[model], *(["Long Context"] if window == "200k-1M" else []),
             *(["Batch"] if tier == "batch" else []), "Usage"]  # fmt: skip
    where = " (US)" if geo == "us" else ""
    items = [
        CostItem(
            f"{' '.join(kinds)} - {label}{where}",
            "tokens",
            model,
            token_type,
            tier,
            window,
            geo,
            quantity,
            units(getattr(price, quantity) * factor / 10**6),
        )
        for quantity, token_type, label in TOKEN_TYPES
        if made.get(quantity, 0) > 0
    ]
    for quantity, cost_type, description, usd in (("web_searches", "web_search", "Web Search Usage", WEB_SEARCH_USD),
                                                  (CODE_EXECUTION, "code_execution", "Code Execution Usage",
                                                   CODE_EXECUTION_USD)):  # fmt: skip
        if made.get(quantity, 0) > 0:
            items.append(CostItem(description, cost_type, None, None, None, None, None, quantity, units(usd)))
    return items
