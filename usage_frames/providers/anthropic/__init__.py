"""Anthropic: the Admin API's usage report for Messages and its cost report, as the package's second provider.

``uf.anthropic.messages(...)`` and ``uf.anthropic.costs(...)`` (also ``Client(provider="anthropic").messages``),
generated from the endpoint table (:mod:`.endpoints`), ``fetch`` and ``plan`` by name; the organization's directory
(:mod:`.directory`: workspaces, API keys, users), its fake organization (:mod:`.fake`) and its recorded sample.
Frames follow the contract of every provider: ``start_time`` index (UTC), ``end_time``, the group keys under the
API's names, counts ``Int64`` with nested fields flattened, ``amount`` in US dollars (the API sends cents).

Examples:
    >>> import usage_frames as uf
    >>> client = uf.Client.fake(provider="anthropic")
    >>> costs("2026-10-01", "2026-10-02", client=client)["currency"].tolist()
    ['USD']
    >>> messages("2026-10-01", "2026-10-02", client=client).columns.tolist()[:3]
    ['end_time', 'uncached_input_tokens', 'cache_read_input_tokens']
"""

from __future__ import annotations

from usage_frames._core.default import fetch_function, plan_function, provider_function
from usage_frames._core.surface import EndpointMethod
from usage_frames.providers.anthropic import fake, sample
from usage_frames.providers.anthropic.directory import api_keys, names, spend_guards, users, workspaces
from usage_frames.providers.anthropic.endpoints import ENDPOINTS, EndpointName
from usage_frames.providers.anthropic.provider import PROVIDER

__all__ = [
    "ENDPOINTS",
    "PROVIDER",
    "EndpointName",
    "Endpoints",
    "api_keys",
    "costs",
    "fake",
    "fetch",
    "messages",
    "names",
    "plan",
    "sample",
    "spend_guards",
    "users",
    "workspaces",
]


class Endpoints:
    """The Anthropic endpoint methods of a client: ``client.messages(...)`` is ``client.fetch("messages", ...)``."""

    messages = EndpointMethod(PROVIDER)
    costs = EndpointMethod(PROVIDER)


messages = provider_function(PROVIDER, "messages")
costs = provider_function(PROVIDER, "costs")
fetch = fetch_function(PROVIDER)
plan = plan_function(PROVIDER)
