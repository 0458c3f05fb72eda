"""usage_frames: organization usage and cost reports (OpenAI first) as tidy pandas DataFrames.

One function per endpoint, generated from each provider's endpoint table; each returns the tidy frame of the
contract. The package-level endpoint functions are OpenAI's; every provider's are in its namespace
(``uf.providers.openai``).

Examples:
    >>> import usage_frames as uf
    >>> df = uf.costs("2026-10-01", "2026-10-08", group_by="project_id", client=uf.Client.sample())
    >>> df.groupby("project_id", observed=True)["amount"].sum().round(2).sort_values().index.tolist()
    ['proj_lab', 'proj_batch', 'proj_search', 'proj_chat']
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from usage_frames import accessor as accessor  # registers df.usage
from usage_frames import ops
from usage_frames._core.client import __version__
from usage_frames._core.errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    CacheError,
    CacheMissError,
    DatasetError,
    InvalidParameterError,
    MissingAPIKeyError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    UnexpectedResponseError,
    UsageFramesError,
    UsageFramesWarning,
)
from usage_frames._core.plan import Plan
from usage_frames._core.provider import Provider
from usage_frames._core.schema import BucketWidth, Endpoint
from usage_frames._core.surface import EndpointFunction
from usage_frames._core.usage_frame import UsageFrame
from usage_frames.dataset import SyncResult, sync
from usage_frames.providers import PROVIDERS, Client, anthropic
from usage_frames.providers.openai import (
    ENDPOINTS,
    EndpointName,
    GroupKey,
    api_keys,
    audio_speeches,
    audio_transcriptions,
    code_interpreter_sessions,
    completions,
    costs,
    decisions,
    embeddings,
    fetch,
    file_search_calls,
    images,
    moderations,
    plan,
    projects,
    spend_alerts,
    spend_limit,
    users,
    vector_stores,
    web_search_calls,
)
from usage_frames.providers.openai.billing import parse_line_item

if TYPE_CHECKING:
    from usage_frames import plot


def __getattr__(name: str) -> Any:
    """Import :mod:`usage_frames.plot` (and so matplotlib) on first use: ``import usage_frames`` stays light."""
    if name == "plot":
        import importlib

        return importlib.import_module("usage_frames.plot")
    raise AttributeError(f"module 'usage_frames' has no attribute {name!r}")


__all__ = [
    "ENDPOINTS",
    "PROVIDERS",
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "BucketWidth",
    "CacheError",
    "CacheMissError",
    "Client",
    "DatasetError",
    "Endpoint",
    "EndpointFunction",
    "EndpointName",
    "GroupKey",
    "InvalidParameterError",
    "MissingAPIKeyError",
    "NotFoundError",
    "PermissionDeniedError",
    "Plan",
    "Provider",
    "RateLimitError",
    "ServerError",
    "SyncResult",
    "UnexpectedResponseError",
    "UsageFrame",
    "UsageFramesError",
    "UsageFramesWarning",
    "__version__",
    "anthropic",
    "api_keys",
    "audio_speeches",
    "audio_transcriptions",
    "code_interpreter_sessions",
    "completions",
    "costs",
    "decisions",
    "embeddings",
    "fetch",
    "file_search_calls",
    "images",
    "moderations",
    "ops",
    "parse_line_item",
    "plan",
    "plot",
    "projects",
    "spend_alerts",
    "spend_limit",
    "sync",
    "users",
    "vector_stores",
    "web_search_calls",
]
