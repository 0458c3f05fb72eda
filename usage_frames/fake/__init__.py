"""A deterministic fake OpenAI organization and the fake Usage and Costs API over it.

The organization is a handful of *streams*: steady sources of traffic, each with fixed group-key values (project,
user, key, model, batch, tier, ...) and a rate that follows the hour of day, the weekday, a growth trend, one spike
day and, for one project, idle days. Its ground truth is hourly and computed on demand from a hash of (stream,
hour), so any window of any width is exact and nothing is stored. Costs are the usage priced by :data:`PRICES`,
so joining usage with costs recovers the price table.

One module per question: :mod:`~usage_frames.fake.traffic` (how much traffic, hour by hour),
:mod:`~usage_frames.fake.billing` (what it costs), :mod:`~usage_frames.fake.organization` (the world and its ground
truth), :mod:`~usage_frames.fake.api` (how a request is answered), :mod:`~usage_frames.fake.faults` (how it
misbehaves) and :mod:`~usage_frames.fake.transports` (how a client reaches it). Every name is re-exported here.

:meth:`FakeOrganization.respond` is a pure function of (method, path, query, headers) that follows the spec's
semantics. It is served two ways: :class:`FakeServer`, a real HTTP server on 127.0.0.1 (``usage-frames
serve-fake``), and :class:`FakeAdapter`, mountable on a ``requests.Session``. Both can inject :class:`Fault` s.

Examples:
    >>> org = FakeOrganization()
    >>> reply = org.respond("GET", "/organization/usage/embeddings",
    ...                     {"start_time": ["1790812800"], "end_time": ["1790899200"]},
    ...                     {"Authorization": "Bearer sk-admin-x"})
    >>> reply.status, reply.json()["data"][0]["results"][0]["input_tokens"]
    (200, 9572213)
    >>> org.total("embeddings", "input_tokens", "2026-10-01", "2026-10-02")
    9572213
"""

from __future__ import annotations

from usage_frames.fake.api import Reply
from usage_frames.fake.billing import TIER_FACTORS, TOKEN_PRICES, UNIT_PRICES, line_items
from usage_frames.fake.faults import Fault, Faults
from usage_frames.fake.organization import (
    API_KEY_NAMES,
    PROJECT_NAMES,
    SPEND_ALERTS_CENTS,
    SPEND_LIMIT_CENTS,
    USER_NAMES,
    FakeOrganization,
)
from usage_frames.fake.traffic import (
    DAY,
    FIELD_SOURCES,
    GIB,
    HOUR,
    ORG_START,
    SPIKE_DAY,
    SPIKE_FACTOR,
    Stream,
    _completion,
    default_streams,
    hourly,
    interval_sums,
)
from usage_frames.fake.transports import FakeAdapter, FakeAPI, FakeServer, client_arguments, mount

__all__ = [
    "API_KEY_NAMES",
    "DAY",
    "FIELD_SOURCES",
    "GIB",
    "HOUR",
    "ORG_START",
    "PROJECT_NAMES",
    "SPEND_ALERTS_CENTS",
    "SPEND_LIMIT_CENTS",
    "SPIKE_DAY",
    "SPIKE_FACTOR",
    "TIER_FACTORS",
    "TOKEN_PRICES",
    "UNIT_PRICES",
    "USER_NAMES",
    "FakeAPI",
    "FakeAdapter",
    "FakeOrganization",
    "FakeServer",
    "Fault",
    "Faults",
    "Reply",
    "Stream",
    "_completion",
    "client_arguments",
    "default_streams",
    "hourly",
    "interval_sums",
    "line_items",
    "mount",
]
