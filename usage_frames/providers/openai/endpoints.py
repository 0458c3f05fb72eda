"""OpenAI's endpoint table: everything that differs between the Usage and Costs endpoints, as data.

Each of the twelve operations is one :class:`~usage_frames._core.schema.Endpoint` row. The request builder, the
parser, the fake server and the CLI all read this table, so adding an endpoint is one row here (plus its fake
traffic and sample recording; ``tests/core/test_surface.py`` names the typed declarations to add).

Sources: the official OpenAPI spec 2.3.0 (``openai/openai-openapi`` @ ``f85dbe2``, vendored as an excerpt in
``tests/providers/openai/spec/``) for eleven endpoints, and the official ``openai`` SDK 3.57.0 for what is newer
than that spec: the ``decisions`` endpoint, the ``api_source`` key, the 30-minute / 12-hour cache-write breakdown,
and the costs ``user_id`` / ``api_source`` keys with the ``line_items`` filter.

Examples:
    >>> ENDPOINTS["costs"].path
    '/organization/costs'
    >>> ENDPOINTS["vector_stores"].field("usage_bytes").kind
    'level'
    >>> ENDPOINTS["costs"].bucket_widths
    ('1d',)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import pandas as pd

from usage_frames._core.schema import BucketWidth, Endpoint, Field, Filter, Limit, Tokens, Wire

EndpointName = Literal[
    "completions",
    "decisions",
    "embeddings",
    "moderations",
    "images",
    "audio_speeches",
    "audio_transcriptions",
    "vector_stores",
    "code_interpreter_sessions",
    "file_search_calls",
    "web_search_calls",
    "costs",
]
GroupKey = Literal[
    "project_id",
    "user_id",
    "api_key_id",
    "model",
    "batch",
    "service_tier",
    "api_source",
    "size",
    "source",
    "vector_store_id",
    "context_level",
    "line_item",
]
USAGE_LIMITS: Mapping[BucketWidth, Limit] = {
    "1m": Limit(60, 1440),
    "1h": Limit(24, 168),
    "1d": Limit(7, 31),
}
COSTS_LIMITS: Mapping[BucketWidth, Limit] = {"1d": Limit(7, 180)}

USAGE_SETTLE = pd.Timedelta(hours=6)  # usage buckets fill within hours
COSTS_SETTLE = pd.Timedelta(hours=48)  # costs lag about a day
# Unix seconds in the query and the buckets, repeated keys for arrays (the spec's default; the cookbook sends them).
WIRE = Wire()
# Assumed distinct values per group key, for a plan's row estimate (a filter on the key replaces it by its length).
KEY_CARDINALITY: Mapping[str, int] = {
    "project_id": 10, "user_id": 25, "api_key_id": 25, "model": 15, "batch": 2, "service_tier": 4, "api_source": 2,
    "size": 6, "source": 3, "vector_store_id": 10, "context_level": 3, "line_item": 60,
}  # fmt: skip

IMAGE_SOURCES = ("image.generation", "image.edit", "image.variation")
# Spec enum, sic: it has 1792x1792 and lacks 1792x1024. Results carry any size string.
IMAGE_SIZES = ("256x256", "512x512", "1024x1024", "1792x1792", "1024x1792")
# Sizes of real answers (gpt-image, dall-e-3 landscape) that the spec's enum lacks (api-notes.md section 11).
IMAGE_SIZES_SEEN = ("1536x1024", "1024x1536", "1792x1024")
CONTEXT_LEVELS = ("low", "medium", "high")

PROJECTS = Filter("project_ids", "project_id")
USERS = Filter("user_ids", "user_id")
API_KEYS = Filter("api_key_ids", "api_key_id")
MODELS = Filter("models", "model")
BATCH = Filter("batch", "batch", kind="bool")
PEOPLE = (PROJECTS, USERS, API_KEYS, MODELS)
PEOPLE_KEYS: tuple[GroupKey, ...] = ("project_id", "user_id", "api_key_id", "model")


def _counts(*names: str) -> tuple[Field, ...]:
    return tuple(Field(n) for n in names)


# Completions token arithmetic (spec 2.3.0, since 2026-07-15):
#   input_tokens = input_cached_tokens + input_cache_write_tokens + input_uncached_tokens
#   input_uncached_tokens = input_text_tokens + input_audio_tokens + input_image_tokens
#   input_cached_tokens = input_cached_{text,audio,image}_tokens; output_tokens = output_{text,audio,image}_tokens
#   input_cache_write_tokens = input_cache_write_30m_tokens + input_cache_write_12h_tokens (SDK 3.57)
COMPLETIONS_FIELDS = _counts(
    "input_tokens",
    "output_tokens",
    "num_model_requests",
    "input_cached_tokens",
    "input_cache_write_tokens",
    "input_cache_write_30m_tokens",
    "input_cache_write_12h_tokens",
    "input_uncached_tokens",
    "input_text_tokens",
    "input_audio_tokens",
    "input_image_tokens",
    "input_cached_text_tokens",
    "input_cached_audio_tokens",
    "input_cached_image_tokens",
    "output_text_tokens",
    "output_audio_tokens",
    "output_image_tokens",
)
COMPLETIONS_KEYS: tuple[GroupKey, ...] = (*PEOPLE_KEYS, "batch", "service_tier", "api_source")


# How completions tokens add up (spec 2.3.0): all input = cached + cache writes + uncached; older answers lack the
# breakdown, and their uncached input is then what the total leaves.
COMPLETIONS_TOKENS = Tokens(
    uncached=("input_uncached_tokens",), cache_read=("input_cached_tokens",),
    cache_write=("input_cache_write_tokens",), output=("output_tokens",), input_total="input_tokens",
    requests="num_model_requests",
)  # fmt: skip
# Embeddings and moderations: input, never cached.
INPUT_TOKENS = Tokens(uncached=("input_tokens",), requests="num_model_requests")


def _usage(
    name: str,
    fields: tuple[Field, ...],
    group_by: tuple[GroupKey, ...] = PEOPLE_KEYS,
    filters: tuple[Filter, ...] = PEOPLE,
    *,
    result: str | None = None,
    source: Literal["spec", "sdk"] = "spec",
    tokens: Tokens | None = None,
) -> Endpoint:
    return Endpoint(
        name=name,
        provider="openai",
        path=f"/organization/usage/{name}",
        result_object=f"organization.usage.{result or name}.result",
        fields=fields,
        group_by=group_by,
        filters=filters,
        limits=USAGE_LIMITS,
        wire=WIRE,
        source=source,
        settle=USAGE_SETTLE,
        boolean_keys=("batch",),  # group keys are categorical, but batch is a nullable boolean
        cardinality=KEY_CARDINALITY,
        tokens=tokens,
        project_key="project_id",
    )


ENDPOINTS: Mapping[str, Endpoint] = {
    e.name: e
    for e in (
        _usage("completions", COMPLETIONS_FIELDS, COMPLETIONS_KEYS, (*PEOPLE, BATCH), tokens=COMPLETIONS_TOKENS),
        _usage("decisions", COMPLETIONS_FIELDS, COMPLETIONS_KEYS, (*PEOPLE, BATCH), source="sdk",
               tokens=COMPLETIONS_TOKENS),
        _usage("embeddings", _counts("input_tokens", "num_model_requests"), tokens=INPUT_TOKENS),
        _usage("moderations", _counts("input_tokens", "num_model_requests"), tokens=INPUT_TOKENS),
        _usage(
            "images",
            _counts("images", "num_model_requests"),
            (*PEOPLE_KEYS, "size", "source"),
            (
                *PEOPLE,
                Filter("sources", "source", IMAGE_SOURCES),
                Filter("sizes", "size", IMAGE_SIZES, seen=IMAGE_SIZES_SEEN),
            ),
        ),
        _usage("audio_speeches", _counts("characters", "num_model_requests")),
        _usage("audio_transcriptions", _counts("seconds", "num_model_requests")),
        _usage("vector_stores", (Field("usage_bytes", kind="level"),), ("project_id",), (PROJECTS,)),
        _usage("code_interpreter_sessions", _counts("num_sessions"), ("project_id",), (PROJECTS,)),
        # The result objects of the two search endpoints do not follow their paths (spec L64900-64980).
        _usage(
            "file_search_calls",
            _counts("num_requests"),
            ("project_id", "user_id", "api_key_id", "vector_store_id"),
            (PROJECTS, USERS, API_KEYS, Filter("vector_store_ids", "vector_store_id")),
            result="file_searches",
        ),
        _usage(
            "web_search_calls",
            _counts("num_model_requests", "num_requests"),
            (*PEOPLE_KEYS, "context_level", "api_source"),
            (*PEOPLE, Filter("context_levels", "context_level", CONTEXT_LEVELS)),
            result="web_searches",
        ),
        Endpoint(
            name="costs",
            provider="openai",
            path="/organization/costs",
            result_object="organization.costs.result",
            fields=(
                # The spec types amount.value as a number; live answers have carried strings ("12.50").
                Field("amount", "Float64", path=("amount", "value")),
                Field("currency", "string", "attribute", path=("amount", "currency")),
                Field("quantity", "Float64"),
                Field("quantity_unit", "string", "attribute"),
            ),
            group_by=("project_id", "user_id", "api_key_id", "line_item", "api_source"),
            filters=(PROJECTS, API_KEYS, Filter("line_items", "line_item")),
            limits=COSTS_LIMITS,
            wire=WIRE,
            settle=COSTS_SETTLE,
            whole_buckets=True,
            measure="amount",
            priced=True,
            refused_pair=("user_id", "project_id"),
            cardinality=KEY_CARDINALITY,
            project_key="project_id",
        ),
    )
}

