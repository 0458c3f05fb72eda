"""The fake Anthropic organization's traffic: who sends which Messages requests, and what each result field counts.

The hourly engine is the neutral one (:mod:`usage_frames.fake.traffic`); what is Anthropic's here is the organization:
four workspaces (the default one reports as ``workspace_id: null``), six API keys, usage without a key (the Console
Workbench, Claude Code signed in with OAuth, a CI job through workload identity federation), four models on the
standard, batch and priority tiers, both context windows, the three inference geographies, cache reads and 5-minute
and 1-hour cache writes, web searches and code execution (:func:`default_streams`); and which traffic quantity each
field of the messages report adds up (:func:`field_sources`, from the endpoint table).

Examples:
    >>> len(default_streams()), unproducible(default_streams())
    (13, [])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from usage_frames._core.schema import Endpoint
from usage_frames.fake import traffic
from usage_frames.fake.traffic import Stream
from usage_frames.providers.anthropic.endpoints import ENDPOINTS

# Workspaces. The default workspace has a real id (in the workspace list with include_default, in an API key's
# scope) but reports as null in usage and cost rows.
DEFAULT_WORKSPACE_ID = "wrkspc_01DefaultSpace8mL4aPzE"
SUPPORT = "wrkspc_01SupportAgent7Kq2Nf5Xw"
RESEARCH = "wrkspc_01ResearchLab3pN7vRtZc"
BATCH = "wrkspc_01NightlyBatch5cH1yJdQ"
ARCHIVED = "wrkspc_01PilotArchive2bG6sKeV"  # archived before the organization's traffic starts: no usage

# API keys (six), users, and a service account.
SUPPORT_PROD = "apikey_01SupportProd4Hq9TxW2b"
SUPPORT_STAGING = "apikey_01SupportStage6Jr3KdM8"
SEARCH_AGENT = "apikey_01SearchAgent1Vw7NcP5s"
NOTEBOOKS = "apikey_01ResearchNb9Yt2LgQ4e"
BATCH_JOBS = "apikey_01BatchJobs3Mf8RzK7a"
DEFAULT_APP = "apikey_01DefaultApp5Xp1WbH9c"
ANA, BEN = "user_01AnaAlves2Rk8WqT5m", "user_01BenBrown7Lp3XzD1c"
CHEN, DIA = "user_01ChenLi4Nv9BgS6h", "user_01DiaDiaz1Qm5HrF8k"
CI_ACCOUNT = "svac_01CiPipeline4Gk7QnT2w"

# Models: three released before February 2026 (their inference geography is not_available), one after.
SONNET_45 = "claude-sonnet-4-5-20250929"
OPUS_41 = "claude-opus-4-1-20250805"
HAIKU_45 = "claude-haiku-4-5-20251001"
OPUS_46 = "claude-opus-4-6"
GEO_MODELS = frozenset({OPUS_46})
"""Models that take ``inference_geo`` (global or us); the others report ``not_available``."""

# The fake's traffic quantities behind each field of the messages report (every field the table has).
QUANTITIES: Mapping[str, str] = {
    "uncached_input_tokens": "uncached",
    "cache_read_input_tokens": "cache_read",
    "cache_creation_ephemeral_5m_input_tokens": "cache_write_5m",
    "cache_creation_ephemeral_1h_input_tokens": "cache_write_1h",
    "output_tokens": "output",
    "web_search_requests": "web_searches",
}
CODE_EXECUTION = "code_millihours"
"""Container time of the code execution tool in thousandths of an hour: billed in the cost report only."""


def message(
    workspace: str | None,
    key: str | None,
    model: str,
    rate: float,
    tokens_in: float,
    tokens_out: float,
    *,
    cached: float = 0.5,
    write: float = 0.05,
    hour_share: float = 0.2,
    tier: str = "standard",
    window: str = "0-200k",
    geo: str = "global",
    account: str | None = None,
    service_account: str | None = None,
    searches: float = 0.0,
    code: float = 0.0,
    **kwargs: Any,
) -> Stream:
    """A stream of Messages requests: input tokens split into uncached, cache reads and cache writes by TTL.

    Args:
        workspace: Its workspace id (``None``: the default workspace).
        key: Its API key id (``None``: usage without a key).
        model: The model id.
        rate: Requests per hour at the daily peak.
        tokens_in: Input tokens per request (all of them: uncached, read from and written to the cache).
        tokens_out: Output tokens per request.
        cached: The share of input read from the cache.
        write: The share of input written to the cache ...
        hour_share: ... of which this share with the 1-hour time to live (the rest 5 minutes).
        tier: The service tier.
        window: The context window (``0-200k`` or ``200k-1M``).
        geo: The inference geography asked (``not_available`` for models that take none).
        account: The user account of an OAuth request.
        service_account: The service account of a workload identity federation request.
        searches: Web search requests per request.
        code: Code execution container time per request, in thousandths of an hour.
        **kwargs: Passed to :class:`Stream` (``profile``, ``spike``, ``idle``, ``growth``).
    """
    per_request = {
        "uncached": tokens_in * (1 - cached - write),
        "cache_read": tokens_in * cached,
        "cache_write_5m": tokens_in * write * (1 - hour_share),
        "cache_write_1h": tokens_in * write * hour_share,
        "output": tokens_out,
        "web_searches": searches,
        CODE_EXECUTION: code,
    }
    keys = {
        "workspace_id": workspace,
        "api_key_id": key,
        "model": model,
        "service_tier": tier,
        "context_window": window,
        "inference_geo": geo if model in GEO_MODELS else "not_available",
        "account_id": account,
        "service_account_id": service_account,
    }
    return Stream("messages", keys, rate, per_request, **kwargs)


def default_streams() -> tuple[Stream, ...]:
    """The standard fake organization: four workspaces, six keys, thirteen streams of Messages traffic."""
    # fmt: off
    return (
        #        workspace  key              model      rate/h tokens in, out per request
        message(SUPPORT,   SUPPORT_PROD,    SONNET_45, 240,   3200, 380, cached=0.6, spike=True),
        message(SUPPORT,   SUPPORT_PROD,    HAIKU_45,  700,   1100, 120, cached=0.3, write=0.02),
        message(SUPPORT,   SUPPORT_PROD,    SONNET_45, 30,    2800, 420, cached=0.55, tier="priority"),
        message(SUPPORT,   SUPPORT_STAGING, SONNET_45, 25,    3000, 400, cached=0.2, hour_share=0.0),
        message(RESEARCH,  SEARCH_AGENT,    OPUS_46,   45,    6000, 900, cached=0.4, searches=1.8, spike=True),
        message(RESEARCH,  NOTEBOOKS,       OPUS_46,   12,    9000, 1500, geo="us", code=40, idle=True),
        message(RESEARCH,  NOTEBOOKS,       SONNET_45, 3,     420_000, 2500, cached=0.7, write=0.2,
                hour_share=1.0, window="200k-1M", idle=True),
        message(BATCH,     BATCH_JOBS,      SONNET_45, 500,   2200, 600, cached=0.15, write=0.0,
                tier="batch", profile="night"),
        message(BATCH,     BATCH_JOBS,      HAIKU_45,  1400,  900, 200, cached=0.1, write=0.0,
                tier="batch", profile="night"),
        message(None,      DEFAULT_APP,     OPUS_41,   20,    2500, 600, cached=0.3),
        # The Console Workbench: no API key.
        message(None,      None,            SONNET_45, 6,     1800, 500, cached=0.1, write=0.0, idle=True),
        # Claude Code signed in with OAuth: no API key, the user's account.
        message(None,      None,            OPUS_46,   18,    12000, 700, cached=0.8, write=0.08,
                hour_share=0.5, account=BEN),
        # A CI job through workload identity federation: no API key, a service account.
        message(BATCH,     None,            HAIKU_45,  60,    1500, 300, cached=0.0, write=0.0,
                service_account=CI_ACCOUNT, profile="night", growth=0.2),
    )
    # fmt: on


def field_sources(endpoint: Endpoint) -> dict[str, tuple[str, ...]]:
    """The traffic quantities each result field of a usage endpoint adds up, derived from its fields in the table.

    Examples:
        >>> field_sources(ENDPOINTS["messages"])["cache_creation_ephemeral_1h_input_tokens"]
        ('cache_write_1h',)
    """
    return {f.name: (QUANTITIES.get(f.name, f.name),) for f in endpoint.fields}


def unproducible(streams: Sequence[Stream], endpoints: Mapping[str, Endpoint] = ENDPOINTS) -> list[str]:
    """What the table asks that ``streams`` cannot produce: fields with no traffic quantity, keys no stream has.

    Every usage endpoint needs a stream; each stream must have every quantity its endpoint's fields add up
    (:func:`field_sources`) and a value for each of its endpoint's group keys, and no other key.

    Examples:
        >>> unproducible([s for s in default_streams() if s.keys["model"] != "claude-opus-4-6"])
        []
        >>> unproducible([])
        ['messages: no stream']
    """
    return traffic.unproducible(streams, endpoints, field_sources)


FIELD_SOURCES: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    name: field_sources(endpoint) for name, endpoint in ENDPOINTS.items() if not endpoint.priced
}
"""Every usage endpoint's result fields, from the table: what the fake adds up for each."""
