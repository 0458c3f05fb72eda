"""OpenAI: the organization Usage and Costs API, as the package's first provider.

Everything here is generated from the endpoint table (:mod:`.endpoints`): one function per endpoint
(``completions``, ..., ``costs``; also at the package level, ``uf.completions``), the client methods
(:class:`Endpoints`), ``fetch`` and ``plan`` by name; plus the organization's directory (:mod:`.directory`), its
fake organization (:mod:`.fake`) and its recorded sample.

Adding an endpoint: one row in :mod:`.endpoints`, its fake traffic (:mod:`.fake.streams`) and sample recording, and
one line each below and in :class:`Endpoints` (``tests/core/test_surface.py`` names them: they are the typed
declarations, generated at run time from the row).

Examples:
    >>> import usage_frames as uf
    >>> completions("2026-10-01", "2026-10-02", client=uf.Client.fake())["input_tokens"].sum() > 0
    np.True_
"""

from __future__ import annotations

from usage_frames._core.default import fetch_function, plan_function, provider_function
from usage_frames._core.surface import EndpointMethod
from usage_frames.providers.openai import fake, sample
from usage_frames.providers.openai.directory import (
    api_keys,
    names,
    projects,
    spend_alerts,
    spend_guards,
    spend_limit,
    users,
)
from usage_frames.providers.openai.endpoints import ENDPOINTS, EndpointName, GroupKey
from usage_frames.providers.openai.provider import PROVIDER

__all__ = [
    "ENDPOINTS",
    "PROVIDER",
    "EndpointName",
    "Endpoints",
    "GroupKey",
    "api_keys",
    "audio_speeches",
    "audio_transcriptions",
    "code_interpreter_sessions",
    "completions",
    "costs",
    "decisions",
    "embeddings",
    "fake",
    "fetch",
    "file_search_calls",
    "images",
    "moderations",
    "names",
    "plan",
    "projects",
    "sample",
    "spend_alerts",
    "spend_guards",
    "spend_limit",
    "users",
    "vector_stores",
    "web_search_calls",
]


class Endpoints:
    """The OpenAI endpoint methods of a client: ``client.completions(...)`` is ``client.fetch("completions", ...)``."""

    completions = EndpointMethod(PROVIDER)
    decisions = EndpointMethod(PROVIDER)
    embeddings = EndpointMethod(PROVIDER)
    moderations = EndpointMethod(PROVIDER)
    images = EndpointMethod(PROVIDER)
    audio_speeches = EndpointMethod(PROVIDER)
    audio_transcriptions = EndpointMethod(PROVIDER)
    vector_stores = EndpointMethod(PROVIDER)
    code_interpreter_sessions = EndpointMethod(PROVIDER)
    file_search_calls = EndpointMethod(PROVIDER)
    web_search_calls = EndpointMethod(PROVIDER)
    costs = EndpointMethod(PROVIDER)


completions = provider_function(PROVIDER, "completions")
decisions = provider_function(PROVIDER, "decisions")
embeddings = provider_function(PROVIDER, "embeddings")
moderations = provider_function(PROVIDER, "moderations")
images = provider_function(PROVIDER, "images")
audio_speeches = provider_function(PROVIDER, "audio_speeches")
audio_transcriptions = provider_function(PROVIDER, "audio_transcriptions")
vector_stores = provider_function(PROVIDER, "vector_stores")
code_interpreter_sessions = provider_function(PROVIDER, "code_interpreter_sessions")
file_search_calls = provider_function(PROVIDER, "file_search_calls")
web_search_calls = provider_function(PROVIDER, "web_search_calls")
costs = provider_function(PROVIDER, "costs")
fetch = fetch_function(PROVIDER)
plan = plan_function(PROVIDER)
