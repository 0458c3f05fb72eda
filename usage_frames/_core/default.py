"""The package-level functions: a provider's endpoints for a default client, ``client=`` picking another.

The default client is a client of the function's provider with every option at its default (its key from the
provider's environment variable), made at each call. The endpoint functions come from the same generator as the
client's methods (:func:`usage_frames._core.surface.endpoint_function`), so they have the same signature, plus
``client=``.

Examples:
    >>> import usage_frames as uf
    >>> uf.costs("2026-10-01", "2026-10-02", client=uf.Client.sample())["amount"].round(2).tolist()
    [76.3]
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from usage_frames._core import query as queries
from usage_frames._core.client import BaseClient
from usage_frames._core.errors import InvalidParameterError
from usage_frames._core.plan import Plan, plan_query
from usage_frames._core.provider import Provider
from usage_frames._core.query import TimeLike
from usage_frames._core.surface import EndpointFunction, endpoint_function, query_of
from usage_frames._transport import config


def client_or_default(client: object, provider: Provider) -> BaseClient:
    """``client`` itself, or a client of ``provider`` with the default options when it is ``None``.

    Raises:
        InvalidParameterError: If ``client`` is something else than a client of ``provider``.

    Examples:
        >>> from usage_frames.providers import DEFAULT
        >>> client_or_default("a key", DEFAULT)
        Traceback (most recent call last):
        ...
        usage_frames.InvalidParameterError: client: 'a key' must be a usage_frames.Client or None
    """
    if client is None:
        return BaseClient(provider=provider)
    if not isinstance(client, BaseClient):
        shown = config.key_shape(client) if isinstance(client, str) and client.startswith("sk-") else client
        raise InvalidParameterError("client", shown, reason="must be a usage_frames.Client or None")
    if client.provider is not provider:
        raise InvalidParameterError(
            "client", client, reason=f"is a client of {client.provider.title}; this function reads {provider.title}"
        )
    return client


def fetch_function(provider: Provider) -> Any:
    """The package-level ``fetch(endpoint, start, end, *, client=None, **kwargs)`` of a provider.

    Examples:
        >>> import usage_frames as uf
        >>> uf.fetch("vector_stores", "2026-10-01", "2026-10-02", client=uf.Client.fake()).columns.tolist()
        ['end_time', 'usage_bytes']
    """

    def fetch(
        endpoint: str,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        *,
        client: BaseClient | None = None,
        **kwargs: Any,
    ) -> pd.DataFrame:
        return client_or_default(client, provider).fetch(endpoint, start, end, **kwargs)

    fetch.__doc__ = (
        f"Fetch any {provider.title} endpoint by name; ``client`` defaults to a client of {provider.title} (its key "
        f"from {provider.credentials.env}).\n\n"
        "Args:\n"
        f"    endpoint: An endpoint name: {', '.join(provider.endpoints)}.\n"
        "    start: Inclusive start; defaults to 30 days before ``end``.\n"
        "    end: Exclusive end; defaults to now, clamped to now.\n"
        "    client: The client to use.\n"
        "    **kwargs: ``bucket_width``, ``group_by``, ``limit`` and the endpoint's filters.\n"
    )
    return fetch


def plan_function(provider: Provider) -> Any:
    """The package-level ``plan(endpoint, start, end, *, client=None, **kwargs)`` of a provider.

    It needs no key; with ``client=`` it also counts the windows its cache already answers.

    Examples:
        >>> import usage_frames as uf
        >>> p = uf.plan("completions", "2026-01-01", "2026-11-01", bucket_width="1h", group_by="model")
        >>> p.requests, p.buckets
        (44, 7296)
    """

    def plan(
        endpoint: str,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        *,
        client: BaseClient | None = None,
        **kwargs: Any,
    ) -> Plan:
        if client is not None:
            return client_or_default(client, provider).plan(endpoint, start, end, **kwargs)
        query = query_of(provider.endpoint(endpoint), start, end, now=None, **kwargs)
        return plan_query(query, now=queries.wall_clock(), provider=provider)

    plan.__doc__ = (
        "Say what a fetch would cost before sending anything: requests, cached windows, rows, warnings.\n\n"
        "Needs no key; with ``client=`` it also counts the windows its cache already answers.\n"
    )
    return plan


def provider_function(provider: Provider, name: str) -> EndpointFunction[BaseClient]:
    """The package-level function of one endpoint of a provider (``uf.costs``), with ``client=``.

    Examples:
        >>> from usage_frames.providers import DEFAULT
        >>> provider_function(DEFAULT, "costs").__name__
        'costs'
    """
    return endpoint_function(provider.endpoint(name), fetch_function(provider), client=True)
