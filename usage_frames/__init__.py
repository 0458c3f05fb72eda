"""usage_frames: the OpenAI organization Usage and Costs API as tidy pandas DataFrames.

One function per endpoint, generated from the endpoint table; each returns the tidy frame of the contract.

Examples:
    >>> import usage_frames as uf
    >>> df = uf.costs("2026-10-01", "2026-10-08", group_by="project_id", client=uf.Client.fake())
    >>> df.groupby("project_id", observed=True)["amount"].sum().round(2).sort_values().index.tolist()
    ['proj_lab', 'proj_batch', 'proj_search', 'proj_chat']
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from usage_frames import accessor as accessor  # registers df.usage
from usage_frames import ops
from usage_frames import params as params  # the old name of usage_frames.query: uf.params.build_query keeps working
from usage_frames.client import Client, EndpointFunction, Plan, __version__
from usage_frames.dataset import SyncResult, sync
from usage_frames.default import (
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
    vector_stores,
    web_search_calls,
)
from usage_frames.default import client_or_default as client_or_default  # "X as X": importable, not in __all__
from usage_frames.directory import api_keys, projects, spend_alerts, spend_limit, users
from usage_frames.endpoints import ENDPOINTS, BucketWidth, Endpoint, EndpointName, GroupKey
from usage_frames.errors import (
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
from usage_frames.ops import parse_line_item
from usage_frames.plan import plan_query as plan_query
from usage_frames.query import FilterValue as FilterValue
from usage_frames.query import TimeLike as TimeLike
from usage_frames.query import build_query as build_query
from usage_frames.surface import describe as describe

if TYPE_CHECKING:
    from usage_frames import plot


def __getattr__(name: str) -> Any:
    """Import :mod:`usage_frames.plot` (and so matplotlib) on first use: ``import usage_frames`` stays light."""
    if name == "plot":
        import importlib

        return importlib.import_module("usage_frames.plot")
    raise AttributeError(f"module 'usage_frames' has no attribute {name!r}")


PackageEndpointFunction = EndpointFunction[Client]
"""The signature of ``uf.<endpoint>``: an :class:`EndpointFunction` that takes ``client=``."""


__all__ = [
    "ENDPOINTS",
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
    "RateLimitError",
    "ServerError",
    "SyncResult",
    "UnexpectedResponseError",
    "UsageFramesError",
    "UsageFramesWarning",
    "__version__",
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
