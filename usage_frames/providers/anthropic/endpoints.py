"""Anthropic's endpoint table: the Admin API's usage report for Messages and its cost report, as data.

Sources: Anthropic's API reference ("Get Messages Usage Report", "Get Cost Report", the "Usage and Cost API"
guide; read December 2026). Both reports page by ``page``/``next_page`` over time buckets that carry RFC 3339
``starting_at``/``ending_at``; arrays travel as ``name[]=value``; a bucket that the window cuts is dropped, so
windows are sent aligned to the width (``align``). The cost report's ``amount`` is a decimal string in cents
(``"123.45"`` is $1.2345): the frame shows dollars, converted exactly (``scale=100``). Grouped by ``description``, a
cost row also names its cost type, model, token type, tier, context window and inference geography (``implied``).

Examples:
    >>> ENDPOINTS["messages"].path
    '/v1/organizations/usage_report/messages'
    >>> ENDPOINTS["messages"].field("cache_creation_ephemeral_5m_input_tokens").json_path
    ('cache_creation', 'ephemeral_5m_input_tokens')
    >>> ENDPOINTS["costs"].field("amount").scale
    100
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import pandas as pd

from usage_frames._core.schema import BucketWidth, Endpoint, Field, Filter, Limit, Tokens, Wire

EndpointName = Literal["messages", "costs"]

WIRE = Wire(
    start="starting_at",
    end="ending_at",
    times="rfc3339",
    brackets=True,
    bucket_start="starting_at",
    bucket_end="ending_at",
    request_id="request-id",
    list_after="after_id",
    list_limit=1000,
)
USAGE_LIMITS: Mapping[BucketWidth, Limit] = {"1m": Limit(60, 1440), "1h": Limit(24, 168), "1d": Limit(7, 31)}
COSTS_LIMITS: Mapping[BucketWidth, Limit] = {"1d": Limit(7, 31)}
# Data appears within minutes; how long a bucket may still change is not documented: settle as long as OpenAI's.
USAGE_SETTLE = pd.Timedelta(hours=6)
COSTS_SETTLE = pd.Timedelta(hours=48)
# Assumed distinct values per group key, for a plan's row estimate.
KEY_CARDINALITY: Mapping[str, int] = {
    "workspace_id": 5, "api_key_id": 25, "model": 10, "service_tier": 3, "context_window": 2, "inference_geo": 2,
    "account_id": 25, "service_account_id": 5, "description": 60,
}  # fmt: skip

SERVICE_TIERS = ("standard", "batch", "priority", "priority_on_demand", "flex", "flex_discount")
CONTEXT_WINDOWS = ("0-200k", "200k-1M")
INFERENCE_GEOS = ("global", "us", "not_available")

MESSAGES_FIELDS = (
    Field("uncached_input_tokens"),
    Field("cache_read_input_tokens"),
    # Cache writes are nested by their time to live; there is no flat cache_creation_input_tokens.
    Field("cache_creation_ephemeral_5m_input_tokens", path=("cache_creation", "ephemeral_5m_input_tokens")),
    Field("cache_creation_ephemeral_1h_input_tokens", path=("cache_creation", "ephemeral_1h_input_tokens")),
    Field("output_tokens"),
    Field("web_search_requests", path=("server_tool_use", "web_search_requests")),
)
MESSAGES_TOKENS = Tokens(
    uncached=("uncached_input_tokens",),
    cache_read=("cache_read_input_tokens",),
    cache_write=("cache_creation_ephemeral_5m_input_tokens", "cache_creation_ephemeral_1h_input_tokens"),
    output=("output_tokens",),
)
# What a cost row grouped by description says of itself (null otherwise).
DESCRIPTION_FIELDS = ("cost_type", "model", "token_type", "service_tier", "context_window", "inference_geo")

ENDPOINTS: Mapping[str, Endpoint] = {
    e.name: e
    for e in (
        Endpoint(
            name="messages",
            provider="anthropic",
            path="/v1/organizations/usage_report/messages",
            fields=MESSAGES_FIELDS,
            group_by=(
                "workspace_id",
                "api_key_id",
                "model",
                "service_tier",
                "context_window",
                "inference_geo",
                "account_id",
                "service_account_id",
            ),
            filters=(
                Filter("workspace_ids", "workspace_id"),
                Filter("api_key_ids", "api_key_id"),
                Filter("models", "model"),
                Filter("service_tiers", "service_tier", SERVICE_TIERS, seen=()),  # tiers come and go: warn, send
                Filter("context_window", "context_window", CONTEXT_WINDOWS),  # sic: the API's name is singular
                Filter("inference_geos", "inference_geo", INFERENCE_GEOS),
                Filter("account_ids", "account_id"),
                Filter("service_account_ids", "service_account_id"),
            ),
            limits=USAGE_LIMITS,
            wire=WIRE,
            source="reference",
            settle=USAGE_SETTLE,
            whole_buckets=True,
            align=True,
            cardinality=KEY_CARDINALITY,
            tokens=MESSAGES_TOKENS,
            project_key="workspace_id",
        ),
        Endpoint(
            name="costs",
            provider="anthropic",
            path="/v1/organizations/cost_report",
            fields=(
                Field("amount", "Float64", scale=100),  # a decimal string in cents; the frame shows dollars
                Field("currency", "string", "attribute"),
            ),
            group_by=("workspace_id", "description"),
            filters=(),  # the cost report takes no filter
            limits=COSTS_LIMITS,
            wire=WIRE,
            source="reference",
            settle=COSTS_SETTLE,
            whole_buckets=True,
            align=True,
            measure="amount",
            priced=True,
            cardinality=KEY_CARDINALITY,
            implied={"description": DESCRIPTION_FIELDS},
            project_key="workspace_id",
        ),
    )
}
