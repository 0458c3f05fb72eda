"""The fake Anthropic organization: its traffic, its bill, its members, and its Admin API's answers.

The offline stand-in for Anthropic's usage report for Messages (``/v1/organizations/usage_report/messages``) and cost
report (``/v1/organizations/cost_report``), on the same hourly engine as the other fakes (:mod:`usage_frames.fake`):
a handful of *streams* of Messages traffic with fixed keys (workspace, API key, model, tier, context window, inference
geography, account), following the hour of day, the weekday, growth, the spike day and idle days. Its ground truth
(:meth:`FakeOrganization.total`) is exact at every width and window: integer tokens, and ``Decimal`` dollars for the
cost report's amounts, which it sends as decimal strings in cents.

One module per question: :mod:`.streams` (who uses what), :mod:`.billing` (what it costs, and how the report words
it), :mod:`.listing` (its workspaces, keys and users), :mod:`.organization` (the world and its ground truth),
:mod:`.api` (how a request is answered).

Examples:
    >>> import pandas as pd
    >>> org = FakeOrganization(now=pd.Timestamp("2026-11-28 12:00", tz="UTC"))
    >>> reply = org.respond("GET", "/v1/organizations/usage_report/messages",
    ...                     {"starting_at": ["2026-10-01T00:00:00Z"], "ending_at": ["2026-10-02T00:00:00Z"]},
    ...                     {"x-api-key": "sk-ant-admin01-x", "anthropic-version": "2023-06-01"})
    >>> reply.status, reply.json()["data"][0]["results"][0]["output_tokens"]  # the fake's traffic
    (200, 9739305)
    >>> org.total("messages", "output_tokens", "2026-10-01", "2026-10-02")  # the fake's traffic
    9739305
"""

from __future__ import annotations

from typing import Any

from usage_frames._core.errors import InvalidParameterError
from usage_frames._core.query import to_clock
from usage_frames.fake import transports
from usage_frames.providers.anthropic.fake.billing import MODEL_PRICES, MODEL_TITLES, CostItem, line_items
from usage_frames.providers.anthropic.fake.listing import API_KEY_NAMES, USERS, WORKSPACE_NAMES
from usage_frames.providers.anthropic.fake.organization import FakeOrganization
from usage_frames.providers.anthropic.fake.streams import (
    DEFAULT_WORKSPACE_ID,
    FIELD_SOURCES,
    default_streams,
    message,
    unproducible,
)

__all__ = [
    "API_KEY_NAMES",
    "DEFAULT_KEY",
    "DEFAULT_WORKSPACE_ID",
    "FIELD_SOURCES",
    "MODEL_PRICES",
    "MODEL_TITLES",
    "USERS",
    "WORKSPACE_NAMES",
    "CostItem",
    "FakeOrganization",
    "client_arguments",
    "default_streams",
    "line_items",
    "message",
    "unproducible",
]

DEFAULT_KEY = "sk-ant-admin01-fake"
"""The key a fake client sends when none is given (the fake takes any key that starts as an Admin key does)."""


def client_arguments(organization: FakeOrganization | None = None, **kwargs: Any) -> dict[str, Any]:
    """The constructor arguments of a client answered in-process by ``organization`` (the client's own session).

    One clock for both sides: a client pretending to be at ``now=`` talks to an organization at that time (its open
    bucket and its latest ``ending_at`` follow it).

    Raises:
        InvalidParameterError: If ``organization`` is not a :class:`FakeOrganization`.

    Examples:
        >>> from usage_frames._core.client import BaseClient
        >>> from usage_frames.providers.anthropic.provider import PROVIDER
        >>> client = BaseClient(provider=PROVIDER, **client_arguments(now="2026-11-28 12:00"))
        >>> client.fetch("costs", "2026-10-01", "2026-10-02")["amount"].tolist()  # the fake's traffic
        [205.58969305]
    """
    if organization is not None and not isinstance(organization, FakeOrganization):
        raise InvalidParameterError("organization", organization, reason="must be a FakeOrganization or None")
    if kwargs.get("now") is not None:
        kwargs["now"] = to_clock(kwargs["now"])
    org = organization or FakeOrganization(now=kwargs.get("now"))
    return transports.client_arguments(org, DEFAULT_KEY, **kwargs)

