"""Arguments: times, windows, widths, keys and filters; every mistake fails before a request, naming the argument."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qsl

import numpy as np
import pandas as pd
import pytest
from conftest import build_query

import usage_frames as uf
from usage_frames._core.query import to_utc

NOW = pd.Timestamp("2026-11-28 12:34:56.789", tz="UTC")


def query(endpoint: str = "completions", *args, **kwargs):
    return build_query(endpoint, *args, now=NOW, **kwargs)


@pytest.mark.parametrize(
    "value",
    [
        "2026-10-01",
        "2026-10-01T00:00:00Z",
        "2026-10-01T02:00:00+02:00",
        dt.datetime(2026, 10, 1),
        dt.datetime(2026, 10, 1, 2, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        dt.date(2026, 10, 1),
        pd.Timestamp("2026-10-01"),
        pd.Timestamp("2026-09-30 20:00", tz="America/New_York"),
        np.datetime64("2026-10-01T00:00"),
        1790812800,
        1790812800.0,
        "1790812800",
    ],
)
def test_to_utc__every_time_form_means_the_same_instant(value):
    assert to_utc(value) == pd.Timestamp("2026-10-01", tz="UTC")


def test_window__defaults_to_the_last_30_days_ending_now():
    q = query()
    assert q.end == NOW.floor("s")
    assert q.end - q.start == pd.Timedelta(days=30)


def test_window__end_in_the_future_is_clamped_to_now():
    q = query(start="2026-11-01", end="2027-01-01")
    assert q.end == NOW.floor("s")
    assert q.params()[1] == ("end_time", str(int(NOW.floor("s").timestamp())))


def test_window__start_only_runs_until_now():
    assert query(start="2026-11-20").end == NOW.floor("s")


def test_limit__defaults_to_the_largest_page_for_the_width():
    assert query(bucket_width="1d").limit == 31
    assert query(bucket_width="1h").limit == 168
    assert query(bucket_width="1m", start="2026-11-28").limit == 1440
    assert query("costs").limit == 180
    assert query(limit=7).limit == 7


def test_params__lists_go_on_the_wire_as_repeated_keys_in_table_order():
    q = query(
        start="2026-10-01",
        end="2026-10-02",
        group_by=["model", "project_id", "model"],
        filters={"project_ids": ["proj_b", "proj_a"], "batch": False, "models": "gpt-4o"},
    )
    assert q.params() == [
        ("start_time", "1790812800"),
        ("end_time", "1790899200"),
        ("bucket_width", "1d"),
        ("limit", "31"),
        ("group_by", "project_id"),
        ("group_by", "model"),
        ("project_ids", "proj_a"),
        ("project_ids", "proj_b"),
        ("models", "gpt-4o"),
        ("batch", "false"),
    ]
    assert q.params(page="page_x")[-1] == ("page", "page_x")


def test_attrs__are_plain_json_types_that_describe_the_query():
    q = query(start="2026-10-01", end="2026-10-02", group_by="model", filters={"models": ["m"]})
    assert q.attrs() == {
        "provider": "openai",
        "endpoint": "completions",
        "bucket_width": "1d",
        "start": "2026-10-01T00:00:00+00:00",
        "end": "2026-10-02T00:00:00+00:00",
        "group_by": ["model"],
        "filters": {"models": ["m"]},
    }


# Each row: the call, the argument the error must name, and a phrase it must contain (allowed values or why).
BAD_ARGUMENTS = [
    ("unknown endpoint", dict(endpoint="completion"), "endpoint", "did you mean 'completions'"),
    ("unknown bucket width", dict(bucket_width="1w"), "bucket_width", "'1m', '1h', '1d'"),
    ("costs with 1h", dict(endpoint="costs", bucket_width="1h"), "bucket_width", "allowed: '1d'"),
    ("unknown group key", dict(group_by="modle"), "group_by", "did you mean 'model'"),
    ("group key of another endpoint", dict(endpoint="costs", group_by="model"), "group_by", "'line_item'"),
    ("comma-joined group keys", dict(group_by="project_id,model"), "group_by", "'project_id'"),
    ("unknown filter", dict(filters={"project_id": "p"}), "filter", "did you mean 'project_ids'"),
    ("filter of another endpoint", dict(endpoint="costs", filters={"models": "m"}), "filter", "'line_items'"),
    ("enum filter value", dict(endpoint="images", filters={"sources": "edit"}), "sources", "'image.edit'"),
    ("context level", dict(endpoint="web_search_calls", filters={"context_levels": "max"}), "context_levels", "'high'"),
    ("empty filter list", dict(filters={"project_ids": []}), "project_ids", "would match nothing"),
    ("non-str filter value", dict(filters={"models": [1]}), "models", "non-empty str"),
    ("batch not a bool", dict(filters={"batch": "yes"}), "batch", "must be a bool"),
    ("start after end", dict(start="2026-10-02", end="2026-10-01"), "start", "must be before end"),
    ("start equals end", dict(start="2026-10-01", end="2026-10-01"), "start", "must be before end"),
    ("start in the future", dict(start="2027-01-01"), "start", "clamped to now"),
    ("unreadable time", dict(start="last tuesday"), "start", "not a readable time"),
    ("milliseconds", dict(start=1790812800000), "start", "milliseconds"),
    ("bool as time", dict(end=True), "end", "bool"),
    ("wrong type of time", dict(start=[2026, 10, 1]), "start", "not a time"),
    ("limit too large", dict(limit=32), "limit", "from 1 to 31"),
    ("limit zero", dict(bucket_width="1h", limit=0), "limit", "from 1 to 168"),
    ("group_by not a str or list", dict(group_by=5), "group_by", "str or a list"),
]


@pytest.mark.parametrize(("case", "kwargs", "argument", "phrase"), BAD_ARGUMENTS, ids=[r[0] for r in BAD_ARGUMENTS])
def test_bad_argument__raises_invalid_parameter_naming_it(case, kwargs, argument, phrase):
    kwargs = dict(kwargs)
    endpoint = kwargs.pop("endpoint", "completions")
    with pytest.raises(uf.InvalidParameterError) as info:
        query(endpoint, **kwargs)
    assert info.value.argument == argument
    assert str(info.value).startswith(f"{argument}: ")
    assert phrase in str(info.value)
    assert isinstance(info.value, ValueError)


def test_bad_argument__no_request_is_sent(client, faults):
    for _case, kwargs, _argument, _phrase in BAD_ARGUMENTS:
        kwargs = dict(kwargs)
        endpoint = kwargs.pop("endpoint", "completions")
        filters = kwargs.pop("filters", {})
        with pytest.raises(uf.InvalidParameterError):
            client.fetch(endpoint, **kwargs, **filters)
    assert faults.requests == []


def test_image_sizes__a_real_size_outside_the_spec_enum_is_accepted_and_exact(client, org):
    # The spec's enum lacks 1536x1024 although the frame's own size column holds it.
    frame = client.images("2026-10-01", "2026-10-08", sizes="1536x1024", group_by="size")
    assert set(frame["size"].astype(str)) == {"1536x1024"}
    assert int(frame["images"].sum()) == org.total("images", "images", "2026-10-01", "2026-10-08", size="1536x1024")


def test_image_sizes__an_unknown_size_is_sent_with_a_warning_not_refused(client, faults):
    with pytest.warns(uf.UsageFramesWarning, match="sizes: '2048x2048' is not a value known for images"):
        frame = client.images("2026-10-01", "2026-10-03", sizes=["2048x2048", "1024x1024"], group_by="size")
    assert ("sizes", "2048x2048") in [p for _, q in faults.requests for p in parse_qsl(q)]
    assert set(frame["size"].astype(str)) == {"1024x1024"}


def test_image_sizes__an_empty_size_is_still_refused():
    with pytest.raises(uf.InvalidParameterError, match="sizes: ' ' must be a non-empty str"):
        query("images", "2026-10-01", filters={"sizes": " "})
