"""The dlt source: real dlt pipelines into DuckDB files of the test's own, answered by the in-process fake.

Each run builds a new ``dlt.pipeline`` object, as a scheduled job does; the clock moves with the fake's ``now``.
What the warehouse holds is compared with the frames the same client fetches, row for row (so totals agree to the
token and the cent).
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import dlt
import duckdb
import pandas as pd
import pytest
from dlt.pipeline.exceptions import PipelineStepFailed

from usage_frames import (
    ENDPOINTS,
    Client,
    InvalidParameterError,
    ServerError,
    UnexpectedResponseError,
    UsageFramesError,
)
from usage_frames.dlt import NULL_KEY, usage_source
from usage_frames.fake import Fault, Faults, Stream
from usage_frames.providers.openai.fake import FakeOrganization
from usage_frames.providers.openai.fake.streams import default_streams

START = "2026-11-01"
T1 = pd.Timestamp("2026-11-20 12:00", tz="UTC")
README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.fixture(autouse=True)
def _dlt_in_tmp(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """dlt's folders in the test's own (its pipelines; ~/.dlt unless run as root), no telemetry (tests are offline)."""
    for name, value in dlt_environment(tmp_path).items():
        monkeypatch.setenv(name, value)


def dlt_environment(folder: Path) -> dict[str, str]:
    return {"DLT_DATA_DIR": str(folder / "dlt"), "HOME": str(folder), "RUNTIME__DLTHUB_TELEMETRY": "false"}


class Warehouse:
    """A DuckDB file loaded by one dlt pipeline (a new pipeline object per run, as separate jobs make)."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "usage.duckdb"
        self.pipelines = folder / "pipelines"

    def pipeline(self) -> dlt.Pipeline:
        return dlt.pipeline("usage", pipelines_dir=str(self.pipelines), dataset_name="openai",
                            destination=dlt.destinations.duckdb(str(self.path)))  # fmt: skip

    def run(self, source: Any, **kwargs: Any) -> None:
        assert not self.pipeline().run(source, **kwargs).has_failed_jobs

    def sql(self, query: str) -> pd.DataFrame:
        with duckdb.connect(str(self.path), read_only=True) as db:
            db.sql("SET TimeZone = 'UTC'")
            return db.sql(query).df()

    def rows(self, table: str) -> list[dict[str, Any]]:
        """Every row of a table (without dlt's columns), sorted."""
        columns = [c for c in self.sql(f"DESCRIBE openai.{table}")["column_name"] if not c.startswith("_dlt")]
        return records(self.sql(f"SELECT {', '.join(columns)} FROM openai.{table}"))


@pytest.fixture
def warehouse(tmp_path: Path) -> Warehouse:
    return Warehouse(tmp_path)


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain dicts (missing values None), sorted, so that a table and a frame compare exactly."""
    frame = frame.astype(object).where(frame.notna(), None)
    return sorted(frame.to_dict("records"), key=lambda r: [(v is None, str(v)) for v in r.values()])


def expected(client: Client, endpoint: str, start: Any = START, **kwargs: Any) -> list[dict[str, Any]]:
    """The rows of the frame the client fetches, as the warehouse should hold them (a null text key as '')."""
    frame = client.fetch(endpoint, start, **kwargs).reset_index()
    for key in kwargs.get("group_by") or []:
        if frame[key].dtype == "category":
            frame[key] = frame[key].astype("string").fillna(NULL_KEY)
    return records(frame)


def between(rows: list[dict[str, Any]], first: pd.Timestamp | None = None, stop: pd.Timestamp | None = None) -> Any:
    """The rows whose bucket starts in ``[first, stop)``."""
    return [r for r in rows if (first is None or r["start_time"] >= first) and (stop is None or r["start_time"] < stop)]


def fake(now: pd.Timestamp, streams: Any = None, faults: Faults | None = None) -> Client:
    """A client of a fake organization at ``now`` (its streams, optionally faults), without retries."""
    org = FakeOrganization(now=now) if streams is None else FakeOrganization(streams=streams, now=now)
    client = Client.fake(org, now=now, max_retries=0)
    if faults is not None:
        org.mount(client.session, client.base_url, faults)
    return client


def cause(error: BaseException, kind: type[BaseException]) -> BaseException:
    """The exception of type ``kind`` that ``error`` was raised from (dlt wraps a resource's exception twice)."""
    seen: BaseException | None = error
    while seen is not None and not isinstance(seen, kind):
        seen = seen.__cause__
    assert seen is not None, f"{error!r} was not caused by a {kind.__name__}"
    return seen


def fetched_from(requests: list[tuple[str, str]]) -> dict[str, pd.Timestamp]:
    """The earliest ``start_time`` each endpoint was asked for (``requests`` as :class:`Faults` records them)."""
    found: dict[str, pd.Timestamp] = {}
    for path, query in requests:
        start = pd.Timestamp(int(parse_qs(query)["start_time"][0]), unit="s", tz="UTC")
        name = path.rsplit("/", 1)[1]
        found[name] = min(found.get(name, start), start)
    return found


DUCKDB_TYPES = {"Int64": "BIGINT", "Float64": "DOUBLE", "string": "VARCHAR", "category": "VARCHAR",
                "boolean": "BOOLEAN", "datetime64[us, UTC]": "TIMESTAMP WITH TIME ZONE"}  # fmt: skip


def every_key(endpoint: str) -> list[str]:
    """Every group key of an endpoint that the API groups by at once (costs: not user_id with project_id)."""
    row = ENDPOINTS[endpoint]  # type: ignore[index]
    return [k for k in row.group_by if row.refused_pair is None or k != row.refused_pair[0]]


def test_usage_source__tables_and_types_follow_the_endpoint_table(warehouse: Warehouse) -> None:
    client, start = fake(T1), "2026-11-17"
    group_by = {e: every_key(e) for e in ENDPOINTS}
    warehouse.run(usage_source(list(ENDPOINTS), start=start, group_by=group_by, client=client))
    schema = warehouse.pipeline().default_schema
    for endpoint, keys in group_by.items():
        frame = client.fetch(endpoint, start, group_by=keys).reset_index()
        assert len(frame) > 0, endpoint  # every endpoint has traffic: its types were loaded, not only declared
        described = warehouse.sql(f"DESCRIBE openai.{endpoint}").set_index("column_name")
        # The frame's columns in the frame's order (and no _dlt_id: rows arrive as Arrow tables) ...
        assert described["column_type"].to_dict() == {c: DUCKDB_TYPES[str(t)] for c, t in frame.dtypes.items()}
        assert list(described.index) == list(frame.columns)
        # ... the primary key start_time + the group keys, NOT NULL, as is end_time ...
        columns = schema.get_table_columns(endpoint)
        assert [c for c in columns if columns[c].get("primary_key")] == ["start_time", *keys]
        assert set(described.index[described["null"] == "NO"]) == {"start_time", "end_time", *keys}
        # ... and the frame's rows.
        assert warehouse.rows(endpoint) == expected(client, endpoint, start, group_by=keys)


def test_usage_source__an_empty_first_load_creates_the_typed_columns(warehouse: Warehouse) -> None:
    source = usage_source(["completions", "costs"], start=START, group_by="project_id", client=fake(T1, ()))
    declared = source.resources["costs"].compute_table_schema()["columns"]  # before any data, from the table
    assert {c: (declared[c]["data_type"], declared[c]["nullable"]) for c in declared} == {
        "start_time": ("timestamp", False), "end_time": ("timestamp", False), "project_id": ("text", False),
        "amount": ("double", True), "currency": ("text", True), "quantity": ("double", True),
        "quantity_unit": ("text", True),
    }  # fmt: skip
    warehouse.run(source)
    costs = warehouse.sql("DESCRIBE openai.costs").set_index("column_name")["column_type"].to_dict()
    assert costs == {"start_time": "TIMESTAMP WITH TIME ZONE", "end_time": "TIMESTAMP WITH TIME ZONE",
                     "project_id": "VARCHAR", "amount": "DOUBLE", "currency": "VARCHAR", "quantity": "DOUBLE",
                     "quantity_unit": "VARCHAR"}  # fmt: skip
    completions = warehouse.sql("DESCRIBE openai.completions")
    assert completions["column_type"].tolist()[3:] == ["BIGINT"] * len(ENDPOINTS["completions"].fields)
    assert warehouse.rows("completions") == warehouse.rows("costs") == []


def test_usage_source__totals_equal_the_frames_a_second_run_adds_nothing_a_later_run_exactly_the_new_buckets(
    warehouse: Warehouse,
) -> None:
    group_by = {"completions": ["project_id", "model"], "costs": ["project_id", "line_item"]}
    later = T1 + pd.Timedelta("2 days 7 hours")
    days = []
    for now in (T1, T1, later):
        faults = Faults()
        client = fake(now, faults=faults)
        warehouse.run(usage_source(["completions", "costs"], start=START, group_by=group_by, client=client))
        requests = list(faults.requests)
        for endpoint, keys in group_by.items():
            assert warehouse.rows(endpoint) == expected(client, endpoint, group_by=keys), (now, endpoint)
        tokens = warehouse.sql("SELECT sum(input_tokens) AS i, sum(output_tokens) AS o FROM openai.completions")
        frame = client.completions(START, group_by=group_by["completions"])
        assert (tokens.i[0], tokens.o[0]) == (frame["input_tokens"].sum(), frame["output_tokens"].sum())
        usd = warehouse.sql("SELECT sum(amount) AS usd FROM openai.costs").usd[0]
        assert round(usd, 2) == round(client.costs(START, group_by=group_by["costs"])["amount"].sum(), 2)
        days.append(warehouse.sql("SELECT count(DISTINCT start_time) AS n FROM openai.costs").n[0])
    assert days == [20, 20, 22]  # Nov 1-20, each day once; then Nov 1-22
    # The later run fetched only what may have changed since the last loaded bucket (T1's day): usage settles in
    # 6 h, so from one whole day before it; costs in 48 h, so from two days before it.
    day = pd.Timedelta("1D")
    assert fetched_from(requests) == {"completions": T1.normalize() - day, "costs": T1.normalize() - 2 * day}


def scaled(factor: float, *, extra: bool = False) -> tuple[Stream, ...]:
    """The standard streams at ``factor`` times their rate; with ``extra``, one more project: ``proj_gone``."""
    streams = tuple(dataclasses.replace(s, rate=s.rate * factor) for s in default_streams())
    gone = dataclasses.replace(streams[0], keys={**streams[0].keys, "project_id": "proj_gone"})
    return (*streams, gone) if extra else streams


@pytest.mark.parametrize(("endpoints", "width"), [(["completions", "costs"], "1d"), (["completions"], "1h")])
def test_usage_source__buckets_still_settling_are_fetched_again_and_replaced_whole(
    warehouse: Warehouse, endpoints: list[str], width: str
) -> None:
    start, keys = "2026-11-15", ["project_id"]
    before, after = fake(T1, scaled(1.0, extra=True)), fake(T1 + pd.Timedelta("3h"), scaled(2.0))
    # Later the same day the API answers otherwise for every bucket (a late correction), and without proj_gone.
    for client in (before, after):
        warehouse.run(usage_source(endpoints, start=start, bucket_width=width, group_by=keys, client=client))
    step = pd.Timedelta(hours=1 if width == "1h" else 24)
    for endpoint in endpoints:
        held = warehouse.rows(endpoint)
        old = expected(before, endpoint, start, bucket_width=width, group_by=keys)
        new = expected(after, endpoint, start, bucket_width=width, group_by=keys)
        settle = ENDPOINTS[endpoint].settle  # type: ignore[index]
        settling = min(r["start_time"] for r in old if r["end_time"] + settle > T1)  # the first still settling
        # Every bucket that could still change at the first run holds the later answer, whole (no proj_gone) ...
        assert between(held, settling) == between(new, settling), endpoint
        # ... and the buckets settled before it (less one: fetching whole buckets may take one more) were not
        # fetched again: the run is incremental, their first answer (with proj_gone) stays.
        assert between(held, stop=settling - step) == between(old, stop=settling - step), endpoint
        assert "proj_gone" in {r["project_id"] for r in between(held, stop=settling - step)}
        # The one bucket between holds one answer or the other, whole: never a part of a bucket beside it.
        assert between(held, settling - step, settling) in (
            between(old, settling - step, settling),
            between(new, settling - step, settling),
        )
        assert {r["start_time"] for r in held} == {r["start_time"] for r in old + new}


def with_null(key: str) -> tuple[Stream, ...]:
    """The standard streams, plus a copy of the first without ``key``: the API sends null for it."""
    first = default_streams()[0]
    return (*default_streams(), dataclasses.replace(first, keys={k: v for k, v in first.keys.items() if k != key}))


def test_usage_source__a_null_group_key_is_stored_as_an_empty_string(warehouse: Warehouse) -> None:
    group_by = {"completions": ["api_key_id"], "costs": ["project_id"]}
    for now in (T1, T1 + pd.Timedelta("5h")):  # the second run merges the same keys: no duplicate of '' rows
        client = fake(now, with_null("api_key_id") + with_null("project_id")[-1:])
        warehouse.run(usage_source(["completions", "costs"], start=START, group_by=group_by, client=client))
        for endpoint, keys in group_by.items():
            assert warehouse.rows(endpoint) == expected(client, endpoint, group_by=keys)
            nulls = warehouse.sql(f"SELECT count(*) AS n FROM openai.{endpoint} WHERE {keys[0]} = ''").n[0]
            assert nulls == 20, endpoint  # one a day: Nov 1-20
    assert warehouse.sql("SELECT count(*) AS n FROM openai.costs WHERE project_id IS NULL").n[0] == 0


def test_usage_source__a_null_batch_fails_the_run_naming_it_and_loads_nothing(warehouse: Warehouse) -> None:
    client = fake(T1, with_null("batch"))
    with pytest.raises(PipelineStepFailed) as failed:
        warehouse.run(usage_source(["completions"], start=START, group_by="batch", client=client))
    assert str(cause(failed.value, UsageFramesError)) == (
        "completions: a result with a null batch, which a primary key cannot hold; leave batch out of group_by"
    )
    assert warehouse.sql("SELECT table_name FROM information_schema.tables WHERE table_schema = 'openai'").empty


def test_usage_source__a_run_that_fails_loads_nothing_and_the_next_run_completes_the_data(
    warehouse: Warehouse,
) -> None:
    group_by, later = "project_id", T1 + pd.Timedelta("2 days 7 hours")
    warehouse.run(usage_source(["completions", "costs"], start=START, group_by=group_by, client=fake(T1)))
    loaded = {e: warehouse.rows(e) for e in ("completions", "costs")}
    # A server error, then an answer with a bucket missing (the client raises rather than return part of it).
    for fault, error in ((Fault(status=500), ServerError), (Fault(kind="skip"), UnexpectedResponseError)):
        faults = Faults()
        faults.push(Fault(kind="pass"), fault)  # the first endpoint's answer arrives, the second's fails
        with pytest.raises(PipelineStepFailed) as failed:
            warehouse.run(usage_source(["completions", "costs"], start=START, group_by=group_by,
                                       client=fake(later, faults=faults)))  # fmt: skip
        cause(failed.value, error)
        assert len(faults.requests) == 2  # one endpoint was fetched whole and extracted before the other failed
        assert {e: warehouse.rows(e) for e in loaded} == loaded  # nothing of the failed run reached the tables
    client = fake(later)
    warehouse.run(usage_source(["completions", "costs"], start=START, group_by=group_by, client=client))
    for endpoint in loaded:
        assert warehouse.rows(endpoint) == expected(client, endpoint, group_by=[group_by])


def test_usage_source__other_keys_or_width_for_a_loaded_table_are_refused_before_fetching(warehouse: Warehouse) -> None:
    warehouse.run(usage_source(["completions"], start=START, group_by="project_id", client=fake(T1)))
    loaded = warehouse.rows("completions")
    for kwargs in ({"group_by": ["project_id", "model"]}, {"group_by": "project_id", "bucket_width": "1h"}):
        faults = Faults()
        with pytest.raises(PipelineStepFailed) as failed:
            warehouse.run(usage_source(["completions"], start=START, client=fake(T1, faults=faults), **kwargs))
        message = str(cause(failed.value, InvalidParameterError))
        assert "differs from what the table completions holds ('1d' by ['project_id'])" in message
        assert faults.requests == [] and warehouse.rows("completions") == loaded
    # Dropping the table (and its state) first loads it again, with the new keys.
    client = fake(T1)
    source = usage_source(["completions"], start=START, group_by=["project_id", "model"], client=client)
    warehouse.run(source, refresh="drop_resources")
    assert warehouse.rows("completions") == expected(client, "completions", group_by=["project_id", "model"])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"endpoints": ["completion"]}, "endpoints: 'completion' is not an endpoint of this client; allowed: "),
        ({"endpoints": []}, "endpoints: [] is empty; allowed: 'completions'"),
        ({"group_by": "model"}, "group_by: 'model' is not allowed for costs; allowed: 'project_id', 'user_id', "),
        (
            {"group_by": {"images": "size"}},
            "group_by: 'images' names no endpoint of this source; allowed: 'completions', 'costs'",
        ),
        ({"bucket_width": "1h"}, "bucket_width: '1h' is not allowed for costs; allowed: '1d'"),
        ({"start": "last tuesday"}, "start: 'last tuesday' is not a readable time"),
        ({"start": "2026-12-01"}, "start: '2026-12-01T00:00:00+00:00' must be before end"),
    ],
)
def test_usage_source__bad_arguments_fail_before_any_request(kwargs: dict[str, Any], message: str) -> None:
    faults = Faults()
    arguments = {"endpoints": ["completions", "costs"], "start": START, **kwargs}
    with pytest.raises(InvalidParameterError) as refused:
        usage_source(**arguments, client=fake(T1, faults=faults))
    assert str(refused.value).startswith(message)
    assert faults.requests == []


def python(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **dlt_environment(cwd)}
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, check=False)


def test_import__usage_frames_never_imports_dlt(tmp_path: Path) -> None:
    result = python("import sys, usage_frames; print('dlt' in sys.modules)", tmp_path)
    assert result.stdout == "False\n", result.stderr


def test_import__without_dlt_the_error_says_what_to_install(tmp_path: Path) -> None:
    result = python("import sys; sys.modules['dlt'] = None; import usage_frames.dlt", tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        'ImportError: usage_frames.dlt needs dlt and pyarrow (dlt is missing): pip install "usage-frames[dlt]"'
    )


def readme_example() -> tuple[str, str]:
    """The warehouse section's script and the output the README shows for it."""
    section = README.read_text().split("## Into a warehouse (dlt)\n", 1)[1]
    script, rest = section.split("```python\n", 1)[1].split("```\n", 1)
    return script, rest.split("```\n", 1)[1].split("```\n", 1)[0]


def test_readme__the_warehouse_example_runs_and_prints_what_the_readme_shows_again_and_again(tmp_path: Path) -> None:
    script, shown = readme_example()
    first, second = python(script, tmp_path), python(script, tmp_path)  # a second run loads nothing new
    assert (first.stdout.rstrip(), first.stderr) == (shown.rstrip(), "")
    assert (second.stdout.rstrip(), second.stderr) == (shown.rstrip(), "")
    assert (tmp_path / "usage.duckdb").exists() and (tmp_path / "dlt" / "pipelines" / "openai_usage").is_dir()


def test_usage_source__both_providers_in_one_dataset_with_anthropic_tables_prefixed(warehouse: Warehouse) -> None:
    """Anthropic's reports load beside OpenAI's (``anthropic_messages``, ``anthropic_costs``): rows equal to the
    frames, its default workspace (null in the API) stored as '', dollars its ground truth's cents, no duplicates."""
    from decimal import Decimal

    from usage_frames.providers.anthropic.fake import FakeOrganization as AnthropicOrganization

    group_by = {"messages": ["workspace_id", "model"], "costs": ["workspace_id", "description"]}
    for now in (T1, T1 + pd.Timedelta("5h")):  # the second run merges the same buckets: nothing added twice
        openai = fake(now)
        anthropic = Client.fake(AnthropicOrganization(now=now), provider="anthropic", now=now, max_retries=0)
        warehouse.run(usage_source(["costs"], start=START, group_by=["project_id"], client=openai))
        warehouse.run(usage_source(["messages", "costs"], start=START, group_by=group_by, client=anthropic))
        assert warehouse.rows("costs") == expected(openai, "costs", group_by=["project_id"])
        for endpoint, keys in group_by.items():
            assert warehouse.rows(f"anthropic_{endpoint}") == expected(anthropic, endpoint, group_by=keys), endpoint
    default = warehouse.sql("SELECT count(*) AS n FROM openai.anthropic_costs WHERE workspace_id = ''").n[0]
    assert default > 0
    usd = warehouse.sql("SELECT sum(amount) AS usd FROM openai.anthropic_costs").usd[0]
    truth = AnthropicOrganization(now=now).total("costs", "amount", START, now)  # Decimal dollars, today so far
    assert Decimal(str(round(float(usd), 2))) == truth.quantize(Decimal("0.01"))
    output = warehouse.sql("SELECT sum(output_tokens) AS n FROM openai.anthropic_messages").n[0]
    assert output == AnthropicOrganization(now=now).total("messages", "output_tokens", START, now)
