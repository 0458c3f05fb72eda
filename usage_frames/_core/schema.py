"""What a provider's usage or cost report is, as data: endpoints, their fields, keys, filters, widths and wire format.

A provider (:mod:`usage_frames.providers`) describes each of its endpoints as one :class:`Endpoint` row and says how
its requests and answers are spelled (:class:`Wire`) and how it is authenticated (:class:`Credentials`); the core
reads nothing else. Everything here is provider-neutral: no row, name or default of any provider.

Examples:
    >>> wire = Wire(start="starting_at", end="ending_at", times="rfc3339", brackets=True)
    >>> wire.array("group_by"), wire.time(pd.Timestamp("2026-10-01", tz="UTC"))
    ('group_by[]', '2026-10-01T00:00:00Z')
    >>> Wire().time(pd.Timestamp("2026-10-01", tz="UTC"))
    '1790812800'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, get_args

import pandas as pd

BucketWidth = Literal["1m", "1h", "1d"]
FieldKind = Literal["additive", "level", "attribute"]
"""``additive``: a count that sums over time and groups. ``level``: a point-in-time size that sums over groups
but never over time (vector store bytes). ``attribute``: a label of the value, such as a currency."""

BUCKET_SECONDS: Mapping[BucketWidth, int] = {"1m": 60, "1h": 3600, "1d": 86400}


def unix(ts: pd.Timestamp) -> int:
    """Whole Unix seconds of a UTC timestamp.

    Examples:
        >>> unix(pd.Timestamp("2024-11-01", tz="UTC"))
        1730419200
    """
    return int(ts.value // 1_000_000_000)


@dataclass(frozen=True, slots=True)
class Wire:
    """How a provider spells a query and the buckets of its answers.

    Attributes:
        start: The query parameter of the window's inclusive start.
        end: The query parameter of the window's exclusive end.
        times: How times travel: ``"unix"`` (integer seconds) or ``"rfc3339"`` (``2026-10-01T00:00:00Z``), in the
            query and in the answer's buckets alike.
        brackets: Whether array parameters are sent as ``name[]=value`` (else ``name=value``, repeated).
        bucket_start: The field of a bucket holding its start.
        bucket_end: The field of a bucket holding its end.
        request_id: The response header with the request's id, for support tickets.
        list_after: The query parameter of a list endpoint's cursor (the previous page's ``last_id``).
        list_limit: The most objects a list page may hold.
    """

    start: str = "start_time"
    end: str = "end_time"
    times: Literal["unix", "rfc3339"] = "unix"
    brackets: bool = False
    bucket_start: str = "start_time"
    bucket_end: str = "end_time"
    request_id: str = "x-request-id"
    list_after: str = "after"
    list_limit: int = 100

    def time(self, ts: pd.Timestamp) -> str:
        """A UTC time as the query spells it."""
        return str(self.stamp(ts))

    def stamp(self, ts: pd.Timestamp) -> int | str:
        """A UTC time as the answer's buckets carry it: Unix seconds, or an RFC 3339 string."""
        return unix(ts) if self.times == "unix" else f"{ts.tz_convert('UTC'):%Y-%m-%dT%H:%M:%S}Z"

    def read_time(self, value: str) -> pd.Timestamp:
        """A time of the query as this wire spells it (what a fake API or a recording reads).

        Examples:
            >>> Wire().read_time("1790812800"), Wire(times="rfc3339").read_time("2026-10-01T00:00:00Z")
            (Timestamp('2026-10-01 00:00:00+0000', tz='UTC'), Timestamp('2026-10-01 00:00:00+0000', tz='UTC'))
        """
        if self.times == "unix":
            return pd.Timestamp(int(value), unit="s", tz="UTC")
        ts = pd.Timestamp(value)
        return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")

    def array(self, name: str) -> str:
        """The query parameter of one value of an array parameter."""
        return f"{name}[]" if self.brackets else name


@dataclass(frozen=True, slots=True)
class Credentials:
    """How a provider's admin key is found, checked and sent, and where its API lives.

    Attributes:
        env: The environment variable holding the key.
        header: The request header that carries the key (also what the cache keys and redacts).
        scheme: What precedes the key in that header (``"Bearer "``), if anything.
        prefix: How an admin key starts (shown in messages; keys are not refused for lacking it).
        refused: How keys start that are never admin keys (project or ordinary API keys): refused before a request.
        help: How to create and set an admin key, appended to every message about the key.
        base_url: The API root when neither the argument nor ``base_url_env`` gives one.
        base_url_env: The environment variable of another API root.
        headers: Other headers every request carries (an API version).
        account_env: The environment variable of the organization's ID (FOCUS ``BillingAccountId``), if any.
        account_hint: How that ID looks (``"org-..."``), for messages.
        account_path: A path that answers the key's organization as an object with ``id`` and ``name``, if any.
    """

    env: str
    header: str
    base_url: str
    base_url_env: str
    scheme: str = ""
    prefix: str = ""
    refused: tuple[str, ...] = ()
    help: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    account_env: str = ""
    account_hint: str = ""
    account_path: str = ""


@dataclass(frozen=True, slots=True)
class Tokens:
    """How a usage endpoint's token columns add up: input by cache state, and output.

    Each category is the sum of its columns (``<NA>`` when the answer lacks all of them). ``input_total`` is a
    column that holds all input tokens, where the provider sends one: the uncached part is then what it leaves
    when the answer lacks the breakdown (older answers). ``requests`` is the column that counts requests, if any.

    Examples:
        >>> t = Tokens(uncached=("fresh",), cache_read=("hit",), cache_write=("w5", "w60"), output=("out",))
        >>> t.categories()["cache write"]
        ('w5', 'w60')
    """

    uncached: tuple[str, ...] = ()
    cache_read: tuple[str, ...] = ()
    cache_write: tuple[str, ...] = ()
    output: tuple[str, ...] = ()
    input_total: str | None = None
    requests: str | None = None

    def categories(self) -> dict[str, tuple[str, ...]]:
        """The columns of each category, named as the combined token frame names them."""
        return {"uncached": self.uncached, "cache read": self.cache_read, "cache write": self.cache_write,
                "output": self.output}  # fmt: skip


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
        scale: How many of the API's units make one unit of the column (100 for an amount sent in cents and
            shown in dollars); the conversion is exact, from the decimal the API sent.
    """

    name: str
    dtype: str = "Int64"
    kind: FieldKind = "additive"
    path: tuple[str, ...] = ()
    scale: int = 1

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
        choices: The API's enum for the values, else ``None`` (free strings).
        kind: ``"list"`` for arrays of strings, ``"bool"`` for a single boolean.
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
    """One usage or cost report of a provider.

    Attributes:
        name: The function name (``uf.completions``) and the CLI choice.
        provider: The provider's name (``attrs["provider"]`` of its frames).
        path: The path appended to the base URL.
        fields: The value columns in frame order.
        group_by: The allowed ``group_by`` keys in frame order.
        filters: The allowed filter parameters.
        limits: The default and maximum ``limit`` (buckets per page) for each width.
        wire: How its queries and answers are spelled.
        result_object: The ``object`` string its results carry, where the provider tags results (checked: an
            answer of another endpoint is refused); ``None`` where results carry no tag.
        source: Where the row comes from (``"spec"``, ``"sdk"``, ``"reference"``), for the tests that compare.
        settle: How long after a window closes its answer stops changing; then the cache keeps it forever and
            forecasts trust it.
        whole_buckets: Whether the answer's buckets are whole buckets of the width's UTC grid whatever the window:
            the first starts at or before the window's start, the last ends at or after its end (a partial day is
            answered with the whole day).
        align: Whether the window must be sent on that grid (start floored, end ceiled): the API drops a partial
            bucket instead of answering it whole. Implies ``whole_buckets``.
        measure: The value column helpers show when none is named (``None``: the first additive field).
        priced: Whether its results are money (the bill), not counts of its own traffic.
        refused_pair: Two keys the API refuses to group by together, the second also when filtered on.
        boolean_keys: Group keys whose values are booleans (a nullable ``boolean`` column, not a categorical).
        cardinality: Assumed distinct values per group key, for a plan's row estimate.
        send_width: Whether ``bucket_width`` is sent (an endpoint that knows one width may refuse the parameter).
        implied: Group keys that bring other key columns along: grouped by ``description``, a cost row also says
            its model, token type, tier... (columns after the key, in this order; not keys of their own).
        tokens: How its token columns add up (input by cache state, output), for endpoints that count tokens.
        project_key: The key that names what a bill is split by (an OpenAI project, an Anthropic workspace).
    """

    name: str
    provider: str
    path: str
    fields: tuple[Field, ...]
    group_by: tuple[str, ...]
    filters: tuple[Filter, ...]
    limits: Mapping[BucketWidth, Limit]
    wire: Wire = field(default_factory=Wire)
    result_object: str | None = None
    source: str = "spec"
    settle: pd.Timedelta = field(default_factory=lambda: pd.Timedelta(hours=6))
    whole_buckets: bool = False
    align: bool = False
    measure: str | None = None
    priced: bool = False
    refused_pair: tuple[str, str] | None = None
    boolean_keys: tuple[str, ...] = ()
    cardinality: Mapping[str, int] = field(default_factory=dict)
    send_width: bool = True
    implied: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    tokens: Tokens | None = None
    project_key: str | None = None

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

    def key_columns(self, group_by: tuple[str, ...] | list[str]) -> list[str]:
        """The key columns of a frame grouped by ``group_by``: each key, then the keys it implies.

        Examples:
            >>> e = Endpoint("costs", "p", "/c", (), ("team", "item"), (), {}, implied={"item": ("model", "kind")})
            >>> e.key_columns(["item"])
            ['item', 'model', 'kind']
        """
        return [column for key in group_by for column in (key, *self.implied.get(key, ()))]

    def key_dtype(self, key: str) -> str:
        """The pandas dtype of a group-key column: ``boolean`` or ``category``."""
        return "boolean" if key in self.boolean_keys else "category"
