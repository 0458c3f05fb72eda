"""The warehouse path: a dlt source that loads usage and costs into any dlt destination, incrementally.

``usage_source(...)`` is a `dlt <https://dlthub.com>`_ source with one resource per endpoint, named after it
(``completions``, ``costs``...). dlt does the loading (schema, state, merge, 20+ destinations: DuckDB, BigQuery,
Snowflake, Databricks, Postgres, Redshift, files as Parquet, Delta or Iceberg); every fetch goes through the
:class:`~usage_frames.Client` (cache, concurrency, retries, a window's buckets complete or an error).

- **Rows are frame rows**: ``start_time``, ``end_time`` (UTC timestamps), the requested group keys (text;
  ``batch`` a boolean), then every value field of the endpoint (counts ``bigint``, costs ``amount`` and
  ``quantity`` ``double`` with ``currency`` and ``quantity_unit`` text). The column types are declared from the
  endpoint table, so an empty first load creates the same columns.
- **Primary key** ``start_time`` + the group keys, ``write_disposition="merge"``: a bucket loaded twice is one row.
  Primary-key columns are NOT NULL in dlt, and the API sends a null key for usage it cannot attribute (a cost with
  no project, usage without an API key): a null text key is stored as ``""`` (:data:`NULL_KEY`;
  ``NULLIF(project_id, '')`` gives the null back). A null ``batch`` has no such value: it fails the run, naming
  the endpoint (leave ``batch`` out of ``group_by``).
- **Incremental** on ``start_time`` with dlt's own state. Each run fetches from the last loaded bucket minus the
  endpoint's settle delay (6 h for usage, 48 h for costs: the delays the cache uses), rounded up to whole
  buckets, to now. Re-fetched buckets replace what the table holds for them (``merge_key="start_time"``): late
  corrections overwrite, a second identical run adds no rows, a later run adds exactly the new buckets. ``start``
  is floored to the bucket width and matters on the first run only (the backfill).
- **All or nothing**: each resource fetches its whole range with one ``client.fetch`` and yields it once; the
  client raises rather than return part of a window, and dlt keeps no state of a failed run, so the next run
  starts where the last complete one ended.

The README's "Into a warehouse (dlt)" runs a pipeline into DuckDB with it.

Examples:
    >>> from usage_frames import Client
    >>> source = usage_source(["completions", "costs"], start="2026-11-01", group_by="project_id",
    ...                       client=Client.fake())
    >>> costs = source.resources["costs"].compute_table_schema()
    >>> costs["write_disposition"], [name for name, column in costs["columns"].items() if column.get("primary_key")]
    ('merge', ['start_time', 'project_id'])
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from usage_frames import BucketWidth, Client, Endpoint, InvalidParameterError, UsageFramesError
from usage_frames._core.query import TimeLike
from usage_frames.providers import DEFAULT

try:
    import dlt
    import pyarrow as pa  # type: ignore[import-untyped]
    from dlt.common.data_types import TDataType
    from dlt.common.schema.typing import TColumnSchema
    from dlt.extract.resource import DltResource
    from dlt.extract.source import DltSource
except ImportError as exc:  # pragma: no cover - tests/test_dlt.py runs it without dlt in a subprocess
    raise ImportError(
        f'usage_frames.dlt needs dlt and pyarrow ({exc.name} is missing): pip install "usage-frames[dlt]"'
    ) from exc

NULL_KEY = ""
"""How a null text group key is stored: primary-key columns cannot hold a null."""

SOURCE_NAME = "usage_frames"
"""The dlt source's name: the name of its schema and of its section of the pipeline state."""

BUCKETS: Mapping[str, pd.Timedelta] = {
    "1m": pd.Timedelta(minutes=1), "1h": pd.Timedelta(hours=1), "1d": pd.Timedelta(days=1)
}  # fmt: skip
# The dlt type and the Arrow type of each column, from the frame's dtypes (the endpoint table's).
DLT_TYPES: Mapping[str, TDataType] = {"Int64": "bigint", "Float64": "double", "string": "text", "boolean": "bool"}
ARROW_TYPES: Mapping[str, pa.DataType] = {
    "timestamp": pa.timestamp("us", tz="UTC"), "bigint": pa.int64(), "double": pa.float64(), "text": pa.string(),
    "bool": pa.bool_(),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Table:
    """One resource of the source: the table it loads and what the client fetches for it.

    Attributes:
        resource: The resource and table name.
        endpoint: The endpoint name ``client.fetch`` takes.
        row: The endpoint's row of the table (its fields, group keys, widths and settle delay).
        key_types: The dlt type of each group key (``text`` unless listed here).
    """

    resource: str
    endpoint: str
    row: Endpoint
    key_types: Mapping[str, TDataType]


def tables(client: Client) -> dict[str, Table]:
    """The resources of a client's provider, by endpoint name.

    The first provider's resources are named after their endpoints (``completions``, ``costs``); another
    provider's carry its name as a prefix (``anthropic_messages``, ``anthropic_costs``), so that both providers'
    tables can sit in one dataset.

    Examples:
        >>> from usage_frames import Client
        >>> list(tables(Client.fake()))[:3], tables(Client.fake())["completions"].key_types
        (['completions', 'decisions', 'embeddings'], {'batch': 'bool'})
        >>> [t.resource for t in tables(Client.fake(provider="anthropic")).values()]
        ['anthropic_messages', 'anthropic_costs']
    """
    provider = client.provider
    prefix = "" if provider is DEFAULT else f"{provider.name}_"
    return {
        name: Table(prefix + name, name, row, dict.fromkeys(row.boolean_keys, "bool"))
        for name, row in provider.endpoints.items()
    }


def usage_source(
    endpoints: str | Sequence[str] = ("completions", "costs"),
    *,
    start: TimeLike,
    end: TimeLike | None = None,
    bucket_width: BucketWidth = "1d",
    group_by: str | Sequence[str] | Mapping[str, str | Sequence[str]] | None = None,
    client: Client | None = None,
) -> DltSource:
    """A dlt source of usage and costs: one merged, incremental resource per endpoint (see the module's text).

    Args:
        endpoints: Endpoint names of the client's provider (``client.provider.endpoints``), a resource and table
            each.
        start: Where the first run starts (floored to ``bucket_width``); later runs continue from dlt's state.
        end: Exclusive end; defaults to now at each run.
        bucket_width: ``"1m"``, ``"1h"`` or ``"1d"`` for every endpoint (costs: ``"1d"`` only).
        group_by: Group keys for every endpoint (a key or a list), or a dict of endpoint to keys; they become the
            table's primary key with ``start_time``. Changing them later needs a new table.
        client: The client that fetches (its provider's endpoints); defaults to ``Client()``, the first provider's
            (its key from the provider's environment variable).

    Returns:
        The source, to pass to ``pipeline.run``.

    Raises:
        InvalidParameterError: Before any request, for an unknown endpoint, width or key, or an unreadable time.

    Examples:
        >>> from usage_frames import Client
        >>> source = usage_source(["completions", "costs"], start="2026-11-01", group_by={"costs": "line_item"},
        ...                       client=Client.fake())
        >>> list(source.resources), source.resources["costs"].compute_table_schema()["columns"]["line_item"]
        (['completions', 'costs'], {'data_type': 'text', 'nullable': False, 'name': 'line_item', 'primary_key': True})
        >>> usage_source(["costs"], start="2026-11-01", group_by="model", client=Client.fake())
        Traceback (most recent call last):
        ...
        usage_frames.InvalidParameterError: group_by: 'model' is not allowed for costs; allowed: ...
    """
    client = Client() if client is None else client
    if not isinstance(client, Client):
        raise InvalidParameterError("client", client, reason="must be a usage_frames.Client or None")
    offered = tables(client)
    names = [endpoints] if isinstance(endpoints, str) else list(dict.fromkeys(endpoints))
    for name in names:
        if name not in offered:
            raise InvalidParameterError("endpoints", name, offered, reason="is not an endpoint of this client")
    if not names:
        raise InvalidParameterError("endpoints", endpoints, offered, reason="is empty")
    if isinstance(group_by, Mapping):
        for name in group_by:
            if name not in names:
                raise InvalidParameterError("group_by", name, names, reason="names no endpoint of this source")
    resources = []
    for name in names:
        table = offered[name]
        keys = group_by.get(name) if isinstance(group_by, Mapping) else group_by
        # The client's own checks, before any request: the same rules and messages as a fetch.
        query = client.plan(table.endpoint, start, end, bucket_width=bucket_width, group_by=keys).query
        resources.append(_resource(client, table, query.group_by, query.bucket_width, query.start, end))
    return _source(resources)


@dlt.source(name=SOURCE_NAME)
def _source(resources: list[Any]) -> list[Any]:
    return resources


def _resource(
    client: Client, table: Table, keys: tuple[str, ...], width: str, start: pd.Timestamp, end: TimeLike | None
) -> DltResource:
    """The resource of one endpoint: fetch from dlt's cursor (less the settle delay) to ``end``, yield it whole."""
    columns = _columns(table, keys)
    step = BUCKETS[width]
    # Re-fetch the buckets that may still change, in whole buckets: dlt drops rows before its lagged cursor.
    lag = math.ceil(table.row.settle / step) * step
    cursor = dlt.sources.incremental("start_time", initial_value=start.floor(step).to_pydatetime(),
                                     lag=lag.total_seconds())  # fmt: skip

    def rows(start_time: dlt.sources.incremental[Any] = cursor) -> Iterator[pa.Table]:
        _check_shape(table.resource, width, keys)
        frame = client.fetch(table.endpoint, start_time.start_value, end, bucket_width=width, group_by=list(keys))
        yield _arrow(frame, columns, table.resource)

    return dlt.resource(
        rows,
        name=table.resource,
        write_disposition="merge",
        primary_key=["start_time", *keys],
        merge_key="start_time",  # a re-fetched bucket replaces every row the table holds for it
        columns={name: TColumnSchema(data_type=kind, nullable=nullable) for name, kind, nullable in columns},
    )()


Columns = list[tuple[str, TDataType, bool]]


def _columns(table: Table, keys: tuple[str, ...]) -> Columns:
    """Each column's name, dlt type and nullability, in frame order, from the endpoint table.

    The group keys are the primary key (never null); the columns a key implies (the model and token type that an
    Anthropic cost row's description names) are text that may be null.
    """
    return [
        ("start_time", "timestamp", False),
        ("end_time", "timestamp", False),
        *((k, table.key_types.get(k, "text"), k not in keys) for k in table.row.key_columns(keys)),
        *((f.name, DLT_TYPES[f.dtype], True) for f in table.row.fields),
    ]


def _arrow(frame: pd.DataFrame, columns: Columns, resource: str) -> pa.Table:
    """A frame as an Arrow table of exactly the declared types, with null text keys as :data:`NULL_KEY`."""
    data = frame.reset_index()
    for name, kind, nullable in columns:
        if kind == "text":
            data[name] = data[name].astype("string")
            if not nullable:
                data[name] = data[name].fillna(NULL_KEY)
        if not nullable and data[name].isna().any():
            raise UsageFramesError(
                f"{resource}: a result with a null {name}, which a primary key cannot hold; leave {name} out of "
                "group_by"
            )
    schema = pa.schema([pa.field(name, ARROW_TYPES[kind], nullable) for name, kind, nullable in columns])
    return pa.Table.from_pandas(data[[name for name, _, _ in columns]], schema=schema, preserve_index=False)


def _check_shape(resource: str, width: str, keys: tuple[str, ...]) -> None:
    """Refuse a bucket width or group keys other than those the table was loaded with (its rows would mix)."""
    shape = {"bucket_width": width, "group_by": list(keys)}
    loaded = dlt.current.resource_state(resource).setdefault("shape", shape)
    if loaded != shape:
        raise InvalidParameterError(
            "group_by" if loaded["bucket_width"] == width else "bucket_width",
            keys if loaded["bucket_width"] == width else width,
            reason=f"differs from what the table {resource} holds ({loaded['bucket_width']!r} by "
            f"{loaded['group_by']}): load into another dataset, or drop the table first "
            "(pipeline.run(source, refresh='drop_resources'))",
        )
