"""The fake OpenAI organization's traffic: its streams, and which traffic quantity each result field counts.

The hourly engine is the neutral one (:mod:`usage_frames.fake.traffic`); what is OpenAI's here is who uses what:
four projects, five users, six keys and traffic on all twelve endpoints (:func:`default_streams`), and how the
table's result fields add up the streams' quantities (:func:`field_sources`: the spec's token arithmetic).

Examples:
    >>> len(default_streams()) > 10
    True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from usage_frames._core.schema import Endpoint
from usage_frames.fake import traffic
from usage_frames.fake.traffic import GIB, Stream
from usage_frames.providers.openai.endpoints import ENDPOINTS, PEOPLE_KEYS


def completion(
    project: str,
    user: str,
    key: str,
    model: str,
    rate: float,
    tokens_in: float,
    tokens_out: float,
    *,
    cached: float = 0.4,
    write: float = 0.05,
    audio: float = 0.0,
    image: float = 0.0,
    batch: bool = False,
    tier: str = "default",
    source: str = "unlabeled",
    endpoint: str = "completions",
    **kwargs: Any,
) -> Stream:
    """A completions-like stream; token components per request split by cache state and modality."""
    text = 1.0 - audio - image
    fresh = tokens_in * (1 - cached - write)
    cached_in = tokens_in * cached
    per_request = {
        "requests": 1.0,
        "input_text_tokens": fresh * text,
        "input_audio_tokens": fresh * audio,
        "input_image_tokens": fresh * image,
        "input_cached_text_tokens": cached_in * text,
        "input_cached_audio_tokens": cached_in * audio,
        "input_cached_image_tokens": cached_in * image,
        "input_cache_write_30m_tokens": tokens_in * write * 0.7,
        "input_cache_write_12h_tokens": tokens_in * write * 0.3,
        "output_text_tokens": tokens_out * (1 - audio),
        "output_audio_tokens": tokens_out * audio,
        "output_image_tokens": 0.0,
    }
    values = (project, user, key, model, batch, tier, source)  # in the table's order of its group keys
    keys: dict[str, Any] = dict(zip(ENDPOINTS[endpoint].group_by, values, strict=True))
    return Stream(endpoint, keys, rate, per_request, **kwargs)


def _people(project: str, user: str, key: str, model: str | None = None, **extra: Any) -> dict[str, Any]:
    keys: dict[str, Any] = dict(zip(PEOPLE_KEYS, (project, user, key, model), strict=True))
    return {k: v for k, v in keys.items() if v is not None} | extra


def default_streams() -> tuple[Stream, ...]:
    """The standard fake organization: four projects, five users, six keys, traffic on all twelve endpoints."""
    chat, search, nightly, lab = "proj_chat", "proj_search", "proj_batch", "proj_lab"
    ana, ben, chen, dia, eli = "user-ana", "user-ben", "user-chen", "user-dia", "user-eli"
    prod, dev = "key_chat_prod", "key_chat_dev"
    gpt4o, mini, mini41, o3 = "gpt-4o-2024-08-06", "gpt-4o-mini-2024-07-18", "gpt-4.1-mini-2025-04-14", "o3-2025-04-16"
    gen, edit = "image.generation", "image.edit"
    # fmt: off
    return (
        #           project  user  key           model   rate/h tokens in, out per request
        completion(chat,    ana,  prod,         gpt4o,  120,   1800, 350, image=0.05),
        completion(chat,    ben,  prod,         mini,   400,   900,  200, cached=0.45),
        completion(chat,    ana,  dev,          mini41, 30,    1200, 300, cached=0.2, tier="flex"),
        completion(chat,    ben,  prod,         gpt4o,  40,    2500, 500, cached=0.6, audio=0.1, tier="priority",
                    source="agents_api"),
        completion(search,  chen, "key_search", mini,   200,   3000, 250, cached=0.7, write=0.1,
                    source="agents_api", spike=True),
        completion(nightly, dia,  "key_batch",  mini,   600,   1500, 400, cached=0.1, write=0, batch=True,
                    profile="night"),
        completion(nightly, dia,  "key_batch",  gpt4o,  80,    2000, 600, cached=0.1, write=0, batch=True,
                    profile="night"),
        completion(lab,     eli,  "key_lab",    o3,     15,    5000, 3000, cached=0.3, idle=True),
        completion(chat,    ana,  prod,         mini,   60,    1500, 300, cached=0.5, source="agents_api",
                    endpoint="decisions"),
        #      endpoint, group keys, rate per hour at peak, units per request
        Stream("embeddings", _people(search, chen, "key_search", "text-embedding-3-small"), 900,
               {"requests": 1, "input_tokens": 500}, spike=True),
        Stream("embeddings", _people(chat, ben, prod, "text-embedding-3-large"), 100,
               {"requests": 1, "input_tokens": 800}),
        Stream("moderations", _people(chat, ana, prod, "omni-moderation-latest"), 300,
               {"requests": 1, "input_tokens": 200}),
        Stream("images", _people(chat, ana, prod, "gpt-image-1", size="1024x1024", source=gen), 6,
               {"requests": 1, "images": 1.5}),
        # 1536x1024 is a gpt-image-1 size missing from the spec's filter enum: results carry any size string.
        Stream("images", _people(chat, ana, prod, "gpt-image-1", size="1536x1024", source=edit), 2,
               {"requests": 1, "images": 1}),
        Stream("images", _people(lab, eli, "key_lab", "dall-e-3", size="1024x1792", source=gen), 3,
               {"requests": 1, "images": 1}, idle=True),
        Stream("audio_speeches", _people(chat, ben, prod, "tts-1"), 20, {"requests": 1, "characters": 400}),
        Stream("audio_transcriptions", _people(chat, ana, prod, "whisper-1"), 10, {"requests": 1, "seconds": 45}),
        Stream("vector_stores", {"project_id": search}, 1, {"usage_bytes": 2.5 * GIB}, profile="flat"),
        Stream("vector_stores", {"project_id": lab}, 1, {"usage_bytes": 0.3 * GIB}, profile="flat", growth=0.2),
        Stream("code_interpreter_sessions", {"project_id": lab}, 3, {"sessions": 1}, idle=True),
        Stream("code_interpreter_sessions", {"project_id": chat}, 1, {"sessions": 1}),
        Stream("file_search_calls", _people(search, chen, "key_search", vector_store_id="vs_docs"), 150,
               {"calls": 1}, spike=True),
        Stream("file_search_calls", _people(search, chen, "key_search", vector_store_id="vs_faq"), 60, {"calls": 1}),
        Stream("web_search_calls", _people(search, chen, "key_search", mini, context_level="medium",
                                           api_source="agents_api"), 50, {"requests": 1, "calls": 1.6}),
        Stream("web_search_calls", _people(chat, ana, prod, gpt4o, context_level="high", api_source="unlabeled"),
               10, {"requests": 1, "calls": 2.2}),
    )
    # fmt: on


# The fake's own facts about the table's result fields: the traffic quantity a field counts where the names differ
# (every other field counts the quantity of its own name) ...
QUANTITIES: Mapping[str, str] = {"num_model_requests": "requests", "num_sessions": "sessions", "num_requests": "calls"}
# ... and the fields that add up other fields of their endpoint, when it has them (completions and decisions break
# their tokens down by cache state and modality; embeddings count input_tokens as they are).
BREAKDOWNS: Mapping[str, tuple[str, ...]] = {  # the token arithmetic of endpoints.py (spec 2.3.0)
    "input_tokens": ("input_cached_tokens", "input_cache_write_tokens", "input_uncached_tokens"),
    "input_cached_tokens": ("input_cached_text_tokens", "input_cached_audio_tokens", "input_cached_image_tokens"),
    "input_cache_write_tokens": ("input_cache_write_30m_tokens", "input_cache_write_12h_tokens"),
    "input_uncached_tokens": ("input_text_tokens", "input_audio_tokens", "input_image_tokens"),
    "output_tokens": ("output_text_tokens", "output_audio_tokens", "output_image_tokens"),
}


def field_sources(endpoint: Endpoint) -> dict[str, tuple[str, ...]]:
    """The traffic quantities each result field of a usage endpoint adds up, derived from its fields in the table.

    Examples:
        >>> field_sources(ENDPOINTS["embeddings"])
        {'input_tokens': ('input_tokens',), 'num_model_requests': ('requests',)}
        >>> field_sources(ENDPOINTS["completions"])["input_cache_write_tokens"]
        ('input_cache_write_30m_tokens', 'input_cache_write_12h_tokens')
    """
    names = {f.name for f in endpoint.fields}

    def sources(name: str) -> tuple[str, ...]:
        parts = BREAKDOWNS.get(name, ())
        if parts and set(parts) <= names:
            return tuple(source for part in parts for source in sources(part))
        return (QUANTITIES.get(name, name),)

    return {f.name: sources(f.name) for f in endpoint.fields}


# Every usage endpoint's result fields, from the table: what the fake adds up for each.
FIELD_SOURCES: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    name: field_sources(endpoint) for name, endpoint in ENDPOINTS.items() if not endpoint.priced
}


def unproducible(streams: Sequence[Stream], endpoints: Mapping[str, Endpoint] = ENDPOINTS) -> list[str]:
    """What the table asks that ``streams`` cannot produce: fields with no traffic quantity, keys no stream has.

    Every usage endpoint needs a stream; each stream must have every quantity its endpoint's fields add up
    (:func:`field_sources`) and a value for each of its endpoint's group keys, and no other key.

    Examples:
        >>> unproducible(default_streams())
        []
        >>> unproducible([s for s in default_streams() if s.endpoint != "images"])
        ['images: no stream']
    """
    return traffic.unproducible(streams, endpoints, field_sources)


def sources(endpoint: str, name: str) -> tuple[str, ...]:
    """The traffic quantities the result field ``name`` of a usage endpoint adds up (:data:`FIELD_SOURCES`)."""
    return FIELD_SOURCES[endpoint][name]
