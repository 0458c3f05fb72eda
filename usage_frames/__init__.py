"""usage_frames: the OpenAI organization Usage and Costs API as tidy pandas DataFrames.

One function per endpoint, generated from the endpoint table; each returns the tidy frame of the contract.

Examples:
    >>> import usage_frames as uf
    >>> df = uf.costs("2026-10-01", "2026-10-08", group_by="project_id", client=uf.Client.fake())
    >>> df.groupby("project_id", observed=True)["amount"].sum().round(2).sort_values().index.tolist()
    ['proj_lab', 'proj_batch', 'proj_search', 'proj_chat']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

import pandas as pd

from usage_frames import accessor as accessor  # registers df.usage
from usage_frames import ops
from usage_frames.client import Client, EndpointFunction, Plan, __version__, client_or_default, describe, plan_query
from usage_frames.dataset import SyncResult, sync
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
from usage_frames.query import FilterValue, TimeLike, build_query

if TYPE_CHECKING:
    from usage_frames import plot


def __getattr__(name: str) -> Any:
    """Import :mod:`usage_frames.plot` (and so matplotlib) on first use: ``import usage_frames`` stays light."""
    if name == "plot":
        import importlib

        return importlib.import_module("usage_frames.plot")
    raise AttributeError(f"module 'usage_frames' has no attribute {name!r}")


class PackageEndpointFunction(Protocol):
    """The signature of ``uf.<endpoint>``: :class:`EndpointFunction` plus ``client=``."""

    def __call__(
        self,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        *,
        bucket_width: BucketWidth = "1d",
        group_by: str | Sequence[str] | None = None,
        limit: int | None = None,
        client: Client | None = None,
        **filters: FilterValue | None,
    ) -> pd.DataFrame:
        """Fetch one endpoint as a tidy frame."""
        ...


def fetch(
    endpoint: EndpointName | str,
    start: TimeLike | None = None,
    end: TimeLike | None = None,
    *,
    client: Client | None = None,
    **kwargs: Any,
) -> pd.DataFrame:
    """Fetch any endpoint by name; ``client`` defaults to ``Client()`` (key from ``OPENAI_ADMIN_KEY``).

    Args:
        endpoint: An endpoint name, one of ``ENDPOINTS``.
        start: Inclusive start; defaults to 30 days before ``end``.
        end: Exclusive end; defaults to now, clamped to now.
        client: The client to use.
        **kwargs: ``bucket_width``, ``group_by``, ``limit`` and the endpoint's filters.

    Examples:
        >>> fetch("vector_stores", "2026-10-01", "2026-10-02", client=Client.fake()).columns.tolist()
        ['end_time', 'usage_bytes']
    """
    return client_or_default(client).fetch(endpoint, start, end, **kwargs)


def plan(
    endpoint: EndpointName | str,
    start: TimeLike | None = None,
    end: TimeLike | None = None,
    *,
    client: Client | None = None,
    **kwargs: Any,
) -> Plan:
    """Say what a fetch would cost before sending anything: requests, cached windows, rows, warnings.

    Needs no key; with ``client=`` it also counts the windows its cache already answers.

    Examples:
        >>> p = plan("completions", "2026-01-01", "2026-11-01", bucket_width="1h", group_by="model")
        >>> p.requests, p.buckets
        (44, 7296)
    """
    if client is not None:
        return client_or_default(client).plan(endpoint, start, end, **kwargs)
    filters = {k: kwargs.pop(k) for k in list(kwargs) if k not in ("bucket_width", "group_by", "limit")}
    return plan_query(build_query(endpoint, start, end, filters=filters, **kwargs), now=pd.Timestamp.now(tz="UTC"))


def _endpoint_function(name: EndpointName) -> PackageEndpointFunction:
    def fetch_endpoint(
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        *,
        client: Client | None = None,
        **kwargs: Any,
    ) -> pd.DataFrame:
        return fetch(name, start, end, client=client, **kwargs)

    fetch_endpoint.__name__ = fetch_endpoint.__qualname__ = name
    fetch_endpoint.__doc__ = describe(name) + "    client: The client to use; defaults to Client().\n"
    return fetch_endpoint


completions = _endpoint_function("completions")
decisions = _endpoint_function("decisions")
embeddings = _endpoint_function("embeddings")
moderations = _endpoint_function("moderations")
images = _endpoint_function("images")
audio_speeches = _endpoint_function("audio_speeches")
audio_transcriptions = _endpoint_function("audio_transcriptions")
vector_stores = _endpoint_function("vector_stores")
code_interpreter_sessions = _endpoint_function("code_interpreter_sessions")
file_search_calls = _endpoint_function("file_search_calls")
web_search_calls = _endpoint_function("web_search_calls")
costs = _endpoint_function("costs")

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
