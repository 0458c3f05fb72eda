"""The package default: ``uf.costs(...)`` and the other package-level functions are the default client's methods.

The default client is ``Client()`` (its key from ``OPENAI_ADMIN_KEY``), made at each call; ``client=`` picks another
(:func:`client_or_default`). The endpoint functions come from the same generator as the client's methods
(:func:`usage_frames.surface.endpoint_function`), so they have the same signature, plus ``client=``.

Examples:
    >>> from usage_frames.client import Client
    >>> costs("2026-10-01", "2026-10-02", client=Client.fake())["amount"].round(2).tolist()
    [76.3]
"""

from __future__ import annotations

from typing import Any

import pandas as pd

import usage_frames.query
from usage_frames.client import Client
from usage_frames.endpoints import EndpointName
from usage_frames.errors import InvalidParameterError
from usage_frames.plan import Plan, plan_query
from usage_frames.query import TimeLike
from usage_frames.surface import EndpointFunction, endpoint_function, query_of
from usage_frames.transport import config


def client_or_default(client: object) -> Client:
    """``client`` itself, or ``Client()`` (key from ``OPENAI_ADMIN_KEY``) when it is ``None``.

    Raises:
        InvalidParameterError: If ``client`` is something else than a :class:`Client`.

    Examples:
        >>> client_or_default("sk-admin-...")
        Traceback (most recent call last):
        ...
        usage_frames.errors.InvalidParameterError: client: 'sk-admin-...' must be a usage_frames.Client or None
    """
    if client is None:
        return Client()
    if not isinstance(client, Client):
        shown = config.key_shape(client) if isinstance(client, str) and client.startswith("sk-") else client
        raise InvalidParameterError("client", shown, reason="must be a usage_frames.Client or None")
    return client


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
    return plan_query(query_of(endpoint, start, end, now=None, **kwargs), now=usage_frames.query.wall_clock())


def _on_default_client(name: EndpointName) -> EndpointFunction[Client]:
    return endpoint_function(name, fetch, client=True)


completions = _on_default_client("completions")
decisions = _on_default_client("decisions")
embeddings = _on_default_client("embeddings")
moderations = _on_default_client("moderations")
images = _on_default_client("images")
audio_speeches = _on_default_client("audio_speeches")
audio_transcriptions = _on_default_client("audio_transcriptions")
vector_stores = _on_default_client("vector_stores")
code_interpreter_sessions = _on_default_client("code_interpreter_sessions")
file_search_calls = _on_default_client("file_search_calls")
web_search_calls = _on_default_client("web_search_calls")
costs = _on_default_client("costs")
