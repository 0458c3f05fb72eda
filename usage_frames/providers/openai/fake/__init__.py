"""The fake OpenAI organization: its traffic, its bill, its directory, and its API's answers.

The organization is a handful of *streams*: steady sources of traffic, each with fixed group-key values (project,
user, key, model, batch, tier, ...) and a rate that follows the hour of day, the weekday, a growth trend, one spike
day and, for one project, idle days. Its ground truth is hourly and computed on demand from a hash of (stream,
hour), so any window of any width is exact and nothing is stored. Costs are the usage priced by its price table, so
joining usage with costs recovers the price table.

One module per question: :mod:`.streams` (who uses what), :mod:`.billing` (what it costs),
:mod:`.organization` (the world and its ground truth), :mod:`.api` (how a request is answered). How a client
reaches it, and how it misbehaves, is the same for every provider (:mod:`usage_frames.fake`).

:meth:`FakeOrganization.respond` is a pure function of (method, path, query, headers) that follows the spec's
semantics.

Examples:
    >>> org = FakeOrganization()
    >>> reply = org.respond("GET", "/organization/usage/embeddings",
    ...                     {"start_time": ["1790812800"], "end_time": ["1790899200"]},
    ...                     {"Authorization": "Bearer sk-admin-x"})
    >>> reply.status, reply.json()["data"][0]["results"][0]["input_tokens"]  # the fake's traffic
    (200, 9572213)
    >>> org.total("embeddings", "input_tokens", "2026-10-01", "2026-10-02")  # the fake's traffic
    9572213
"""

from __future__ import annotations

from typing import Any

from usage_frames._core.errors import InvalidParameterError
from usage_frames._core.query import to_clock
from usage_frames.fake import transports
from usage_frames.providers.openai.fake.billing import TIER_FACTORS, TOKEN_PRICES, UNIT_PRICES, line_items
from usage_frames.providers.openai.fake.organization import (
    API_KEY_NAMES,
    PROJECT_NAMES,
    SPEND_ALERTS_CENTS,
    SPEND_LIMIT_CENTS,
    USER_NAMES,
    FakeOrganization,
)
from usage_frames.providers.openai.fake.streams import FIELD_SOURCES, completion, default_streams, unproducible

__all__ = [
    "API_KEY_NAMES",
    "FIELD_SOURCES",
    "PROJECT_NAMES",
    "SPEND_ALERTS_CENTS",
    "SPEND_LIMIT_CENTS",
    "TIER_FACTORS",
    "TOKEN_PRICES",
    "UNIT_PRICES",
    "USER_NAMES",
    "FakeOrganization",
    "client_arguments",
    "completion",
    "default_streams",
    "line_items",
    "unproducible",
]


def client_arguments(organization: FakeOrganization | None = None, **kwargs: Any) -> dict[str, Any]:
    """The constructor arguments of a client answered in-process by ``organization`` (``uf.Client.fake()``).

    One clock for both sides: a client pretending to be at ``now=`` talks to an organization at that time (its
    one-year look-back and its "future" both follow it).

    Raises:
        InvalidParameterError: If ``organization`` is not a :class:`FakeOrganization`.

    Examples:
        >>> sorted(client_arguments())
        ['api_key', 'cache', 'transport']
    """
    if organization is not None and not isinstance(organization, FakeOrganization):
        raise InvalidParameterError("organization", organization, reason="must be a FakeOrganization or None")
    if kwargs.get("now") is not None:
        kwargs["now"] = to_clock(kwargs["now"])
    org = organization or FakeOrganization(now=kwargs.get("now"))
    return transports.client_arguments(org, "sk-admin-fake", **kwargs)

