"""The endpoint table: everything that differs between the Usage and Costs endpoints, as data.

Each of the twelve operations is one :class:`Endpoint` row. The request builder, the parser, the fake server
and the CLI all read this table, so adding an endpoint is one row here (and a sample page in the tests).

Sources: the official OpenAPI spec 2.3.0 (``openai/openai-openapi`` @ ``f85dbe2``, vendored as an excerpt in
``tests/spec/``) for eleven endpoints, and the official ``openai`` SDK 3.57.0 for what is newer than that spec:
the ``decisions`` endpoint, the ``api_source`` key, the 30-minute / 12-hour cache-write breakdown, and the
costs ``user_id`` / ``api_source`` keys with the ``line_items`` filter.

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
from dataclasses import dataclass
from typing import Literal, get_args

import pandas as pd

from usage_frames.errors import InvalidParameterError

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
BucketWidth = Literal["1m", "1h", "1d"]
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
FieldKind = Literal["additive", "level", "attribute"]
"""``additive``: a count that sums over time and groups. ``level``: a point-in-time size that sums over groups
but never over time (vector store bytes). ``attribute``: a label of the value, such as a currency."""

BUCKET_SECONDS: Mapping[BucketWidth, int] = {"1m": 60, "1h": 3600, "1d": 86400}
USAGE_SETTLE = pd.Timedelta(hours=6)  # usage buckets fill within hours
COSTS_SETTLE = pd.Timedelta(hours=48)  # costs lag about a day


@dataclass(frozen=True, slots=True)
class Limit:
    """How many buckets one page may hold for a bucket width (``limit`` counts buckets, not rows)."""

    default: int
    max: int


@dataclass(frozen=True, slots=True)
class Field:
    """One value column of a result.

    Attributes:
        name: The column name in the frame.
        dtype: The pandas dtype of the column (``Int64``, ``Float64`` or ``string``).
        kind: How the value aggregates (see :data:`FieldKind`).
        path: Where the value sits in the result object, when not at the top level under ``name``.
    """

    name: str
    dtype: str = "Int64"
    kind: FieldKind = "additive"
    path: tuple[str, ...] = ()

    @property
    def json_path(self) -> tuple[str, ...]:
        """The keys that lead to the value in a result object."""
        return self.path or (self.name,)


@dataclass(frozen=True, slots=True)
class Filter:
    """One filter query parameter.

    Attributes:
        name: The query parameter and keyword argument (``project_ids``).
        key: The result field it filters on (``project_id``); also the CLI option name.
        choices: The spec's enum for the values, else ``None`` (free strings).
        kind: ``"list"`` for arrays of strings, ``"bool"`` for the single boolean ``batch``.
        seen: For an enum the API is known to outgrow: values seen in real answers beyond ``choices``. Such a
            filter accepts any non-empty string and warns only on values in neither (``open``).
    """

    name: str
    key: str
    choices: tuple[str, ...] | None = None
    kind: Literal["list", "bool"] = "list"
    seen: tuple[str, ...] | None = None

    @property
    def open(self) -> bool:
        """Whether the enum is known to be incomplete (unknown values warn instead of being refused)."""
        return self.seen is not None


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One Usage or Costs operation.

    Attributes:
        name: The function name (``uf.completions``) and the CLI choice.
        path: The path appended to the base URL.
        result_object: The ``object`` string of its results (not always the path's name).
        fields: The value columns in frame order.
        group_by: The allowed ``group_by`` keys in frame order.
        filters: The allowed filter parameters.
        bucket_widths: The allowed ``bucket_width`` values.
        limits: The default and maximum ``limit`` (buckets per page) for each width.
        source: ``"spec"`` when the vendored spec has it, ``"sdk"`` when only the newer SDK does.
        settle: How long after a window closes its answer stops changing (usage buckets fill within hours, costs
            lag about a day); then the cache keeps it forever and forecasts trust it.
        whole_days: Whether buckets are whole UTC days whatever the request's start (costs, api-notes.md 7.6).
        measure: The value column helpers show when none is named (``None``: the first additive field).
        priced: Whether its results are the priced usage of every endpoint (costs: line items with amounts), not
            the counts of its own traffic.
        refused_pair: Two keys the API refuses to group by together, the second also when filtered on (costs:
            ``user_id`` with ``project_id``, SDK 3.57).
    """

    name: EndpointName
    path: str
    result_object: str
    fields: tuple[Field, ...]
    group_by: tuple[GroupKey, ...]
    filters: tuple[Filter, ...]
    limits: Mapping[BucketWidth, Limit]
    source: Literal["spec", "sdk"] = "spec"
    settle: pd.Timedelta = USAGE_SETTLE
    whole_days: bool = False
    measure: str | None = None
    priced: bool = False
    refused_pair: tuple[GroupKey, GroupKey] | None = None

    @property
    def default_measure(self) -> str:
        """The value column helpers show when none is named: ``measure``, else the first additive field."""
        return self.measure or next(f.name for f in self.fields if f.kind == "additive")

    @property
    def bucket_widths(self) -> tuple[BucketWidth, ...]:
        """The allowed ``bucket_width`` values, finest first."""
        return tuple(w for w in get_args(BucketWidth) if w in self.limits)

    @property
    def filter_names(self) -> tuple[str, ...]:
        """The keyword names of the filters."""
        return tuple(f.name for f in self.filters)

    def field(self, name: str) -> Field:
        """The value column called ``name``."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


USAGE_LIMITS: Mapping[BucketWidth, Limit] = {
    "1m": Limit(60, 1440),
    "1h": Limit(24, 168),
    "1d": Limit(7, 31),
}
COSTS_LIMITS: Mapping[BucketWidth, Limit] = {"1d": Limit(7, 180)}

# Group keys are categorical, except ``batch`` which is a nullable boolean.
KEY_DTYPES: Mapping[str, str] = {"batch": "boolean"}

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


def _usage(
    name: EndpointName,
    fields: tuple[Field, ...],
    group_by: tuple[GroupKey, ...] = PEOPLE_KEYS,
    filters: tuple[Filter, ...] = PEOPLE,
    *,
    result: str | None = None,
    source: Literal["spec", "sdk"] = "spec",
) -> Endpoint:
    return Endpoint(
        name=name,
        path=f"/organization/usage/{name}",
        result_object=f"organization.usage.{result or name}.result",
        fields=fields,
        group_by=group_by,
        filters=filters,
        limits=USAGE_LIMITS,
        source=source,
    )


ENDPOINTS: Mapping[EndpointName, Endpoint] = {
    e.name: e
    for e in (
        _usage("completions", COMPLETIONS_FIELDS, COMPLETIONS_KEYS, (*PEOPLE, BATCH)),
        _usage("decisions", COMPLETIONS_FIELDS, COMPLETIONS_KEYS, (*PEOPLE, BATCH), source="sdk"),
        _usage("embeddings", _counts("input_tokens", "num_model_requests")),
        _usage("moderations", _counts("input_tokens", "num_model_requests")),
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
            settle=COSTS_SETTLE,
            whole_days=True,
            measure="amount",
            priced=True,
            refused_pair=("user_id", "project_id"),
        ),
    )
}

# Assumed distinct values per group key, for a plan's row estimate (a filter on the key replaces it by its length).
KEY_CARDINALITY: Mapping[str, int] = {
    "project_id": 10, "user_id": 25, "api_key_id": 25, "model": 15, "batch": 2, "service_tier": 4, "api_source": 2,
    "size": 6, "source": 3, "vector_store_id": 10, "context_level": 3, "line_item": 60,
}  # fmt: skip

RESULT_OBJECTS: Mapping[str, EndpointName] = {e.result_object: e.name for e in ENDPOINTS.values()}


def get_endpoint(name: str) -> Endpoint:
    """Look up an endpoint by name, with an error that lists the names.

    Args:
        name: An endpoint name such as ``"completions"``.

    Returns:
        The table row.

    Raises:
        InvalidParameterError: If there is no such endpoint.

    Examples:
        >>> get_endpoint("web_search_calls").result_object
        'organization.usage.web_searches.result'
    """
    try:
        return ENDPOINTS[name]  # type: ignore[index]
    except KeyError:
        raise InvalidParameterError("endpoint", name, tuple(ENDPOINTS)) from None
