"""Hypothesis drives random and hostile values through the public surface (issue 12).

Every call either works or raises a :class:`uf.UsageFramesError`; an :class:`uf.InvalidParameterError` is raised
before any request is sent, and an argument mistake in ``sync`` creates no folder. The fake organization answers
in-process; a counting hook on the session tells whether a request was sent.
"""

from __future__ import annotations

import datetime as dt
import decimal
import itertools
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import pandas as pd
import pytest
from conftest import NOW, build_query
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

import usage_frames as uf
from core.test_hostile import send, serve
from usage_frames._core.query import to_utc
from usage_frames._transport.retry import MAX_RETRY_AFTER_DELAY, retry_delay
from usage_frames._transport.send import status_error
from usage_frames.providers import DEFAULT

# Warnings (an image size the API may have added, a look-back at its limit) are not the point here: exceptions are.
pytestmark = pytest.mark.filterwarnings("ignore::usage_frames.UsageFramesWarning")
# More examples for a longer hunt: USAGE_FRAMES_EXAMPLES=5000 pytest tests/core/test_hostile_properties.py
EXAMPLES = int(os.environ.get("USAGE_FRAMES_EXAMPLES", "150"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ROOT = Path(tempfile.mkdtemp(prefix="usage-frames-hostile-"))
RUNS = itertools.count()

weird_text = st.text(
    st.characters(codec="utf-8", categories=("L", "N", "P", "S", "Z", "C", "M")), max_size=12
) | st.sampled_from(["", " ", "\r\n", "\u200b", "²", "١٢", "NaN", "inf", "-1", "1e400", "2026-10-01", "1m", "1d"])
times = st.one_of(
    st.sampled_from(["2026-10-01", "2026-10-03T12:00", "2026-11-01", "1970-01-01", "2262-04-12", "9999-12-31"]),
    st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31)),
    st.datetimes(timezones=st.timezones()),
    st.dates(),
    st.integers(min_value=-(10**30), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([pd.NaT, np.datetime64("NaT"), np.datetime64("2026-10-01"), pd.Timestamp("2026-10-02", tz="UTC")]),
)
hostile = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.just(10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    weird_text,
    st.binary(max_size=8),
    st.lists(weird_text, max_size=3),
    st.tuples(weird_text),
    st.sets(st.sampled_from(["model", "project_id", "gpt-4o"])),
    st.dictionaries(weird_text, weird_text, max_size=2),
    times,
    st.sampled_from(
        [
            object(),
            print,
            np.array(["1d"]),
            np.array(["1d", "1h"]),
            np.int64(3),
            np.float64("nan"),
            decimal.Decimal("NaN"),
            complex(1, 1),
            pd.Series([1]),
            Path("."),
            ["completions"],
            ("1d",),
            {"model": 1},
            range(3),
            "sk-admin-" + "x" * 40,
        ]
    ),
)
ENDPOINT_NAMES = list(uf.ENDPOINTS)
names = st.sampled_from(ENDPOINT_NAMES)
# Valid values, drawn as often as hostile ones, so that mixed calls (one mistake among valid arguments) are common.
good_times = st.sampled_from(
    ["2026-10-01", "2026-10-02T06:30", 1790812800, dt.date(2026, 10, 2), pd.Timestamp("2026-10-03", tz="UTC")]
)


def mostly(good: st.SearchStrategy[Any], bad: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``good`` two times in three, else ``bad`` (``a | b`` would weigh each branch of a one_of alike)."""
    return st.integers(0, 2).flatmap(lambda i: bad if i == 0 else good)


endpoints_ = mostly(names, hostile)
starts = mostly(good_times, hostile)
ends = mostly(st.none() | good_times, hostile)
good_options = st.sampled_from(
    ["1d", "1h", "1m", "model", "project_id", ["line_item", "project_id"], 7, 1, ["gpt-4o-2024-08-06"], True, "size"]
)
FILTERS = sorted({f.name for e in uf.ENDPOINTS.values() for f in e.filters})
keys = st.sampled_from(["bucket_width", "group_by", "limit", *FILTERS])
valid_values = {
    "bucket_width": st.sampled_from(["1d", "1h", "1m"]),
    "group_by": st.sampled_from(["model", "project_id", ["line_item"], ["size", "model"]]),
    "limit": st.integers(1, 40),
}
kwargs = mostly(st.just({}), st.dictionaries(keys, mostly(good_options, hostile), max_size=3))


class Counting:
    """A fake client whose session counts the requests it sends."""

    def __init__(self) -> None:
        from usage_frames.providers.openai.fake import FakeOrganization

        self.client = uf.Client.fake(FakeOrganization(now=NOW), now=NOW, max_requests=40, workers=1)
        self.sent = 0
        self.client.session.hooks["response"].append(self.count)

    def count(self, response: Any, *args: Any, **kwargs: Any) -> None:
        self.sent += 1


def outcome(call: Any, counting: Counting) -> object:
    """Run ``call``; only UsageFramesErrors may escape, and argument errors come before any request."""
    before = counting.sent
    try:
        result = call()
    except uf.UsageFramesError as exc:
        error = exc
    else:
        event(type(result).__name__)
        return result
    event(type(error).__name__)
    if isinstance(error, uf.InvalidParameterError):
        assert counting.sent == before, f"a request was sent before {error!r}"
        assert error.argument and str(error).startswith(f"{error.argument}: ")
    return error


@SETTINGS
@given(endpoint=endpoints_, start=starts, end=ends, options=kwargs)
def test_hostile__fetch_and_every_endpoint_function(endpoint, start, end, options):
    counting = Counting()
    result = outcome(lambda: uf.fetch(endpoint, start, end, client=counting.client, **options), counting)
    if isinstance(result, pd.DataFrame):
        assert str(result.index.tz) == "UTC"
    if isinstance(endpoint, str) and endpoint in uf.ENDPOINTS:
        outcome(lambda: getattr(uf, endpoint)(start, end, client=counting.client, **options), counting)
        outcome(lambda: getattr(counting.client, endpoint)(start, end, **options), counting)


@SETTINGS
@given(endpoint=endpoints_, start=starts | times, end=ends | times, options=kwargs, with_client=st.booleans())
def test_hostile__plan(endpoint, start, end, options, with_client):
    counting = Counting()
    client = counting.client if with_client else None
    result = outcome(lambda: uf.plan(endpoint, start, end, client=client, **options), counting)
    assert counting.sent == 0  # a plan never sends anything
    if isinstance(result, uf.Plan):
        assert result.requests >= 1 and "UTC" in str(result)


def client_arguments(key: str) -> dict[str, st.SearchStrategy[object]]:
    """Hostile values for every ``uf.Client`` argument; ``key`` is this run's admin key."""
    return {
        "api_key": hostile | st.sampled_from([key, " sk-proj-abc", "sk-svcacct-x", f"{key}\n"]),
        "base_url": hostile
        | st.sampled_from(["http://127.0.0.1:9/v1", "https://h/v1", "http://[::1", "file:///x", "ftp://h"]),
        "timeout": hostile | st.tuples(hostile, hostile) | st.sampled_from([(1, 2), 3.5, 0.001]),
        "max_retries": hostile,
        "workers": hostile,
        "max_requests": hostile,
        "offline": hostile,
        "progress": hostile,
        "allow_http": hostile,
        "provider": hostile | st.sampled_from(["openai", "anthropic", "", "OpenAI", "toy"]),
        "transport": hostile,
        "sleep": hostile | st.just(lambda s: None),
        "now": times | hostile,
        "session": hostile,
        "cache": st.sampled_from(
            [True, False, None, 123, 1.5, b"x", ["x"], object(), "", ROOT / "cache", str(ROOT / "c2")]
        )
        | st.builds(
            lambda name: str(ROOT / "caches" / name), weird_text.filter(lambda t: "/" not in t and ".." not in t)
        ),
    }


@SETTINGS
@given(data=st.data())
def test_hostile__client_constructor(data, secret_key):
    arguments = data.draw(st.fixed_dictionaries({}, optional=client_arguments(secret_key)), label="arguments")
    try:
        client = uf.Client(**arguments)
    except uf.UsageFramesError as exc:
        text = f"{exc}{exc!r}{exc.args}"
        assert secret_key[9:] not in text, "the key leaked into an error"
        return
    assert secret_key[9:] not in repr(client)
    assert client.now is None or str(client.now.tz) == "UTC"


@SETTINGS
@given(function=st.sampled_from(["projects", "users", "api_keys", "spend_alerts", "spend_limit"]), client=hostile)
def test_hostile__organization_functions_refuse_anything_but_a_client(function, client):
    try:
        getattr(uf, function)(client=client)
    except uf.UsageFramesError:
        return
    raise AssertionError(f"{function}(client={client!r}) did not refuse")  # no hostile value is a Client


@settings(max_examples=EXAMPLES // 2, deadline=None)
@given(
    endpoints=mostly(st.sampled_from(["images", ["costs"], ("images", "images")]), hostile),
    options=st.dictionaries(
        st.sampled_from(["group_by", "start", "end", "bucket_width", "models", "sizes", "nope"]),
        mostly(st.sampled_from(["2026-10-20", "2026-10-25", "1d", "size", "line_item", ["model"]]), hostile),
        max_size=2,
    ),
    name=weird_text.filter(lambda t: "/" not in t and ".." not in t),
)
def test_hostile__sync_validates_before_creating_anything(endpoints, options, name):
    counting = Counting()
    root = ROOT / f"sync-{next(RUNS)}-{name}"
    options = {"start": "2026-10-20", **options}
    result = outcome(lambda: uf.sync(root, endpoints, client=counting.client, **options), counting)
    if isinstance(result, uf.InvalidParameterError):
        assert not root.exists(), f"{result} left {root} behind"


@SETTINGS
@given(value=times | hostile)
def test_hostile__to_utc_gives_utc_or_an_argument_error(value):
    try:
        ts = to_utc(value, argument="when")
    except uf.InvalidParameterError as exc:
        error = exc
    else:
        assert str(ts.tz) == "UTC" and ts >= pd.Timestamp(0, tz="UTC")
        return
    assert error.argument == "when"


@SETTINGS
@given(endpoint=endpoints_, start=starts | times, end=ends | times, options=kwargs, now=st.none() | times | hostile)
def test_hostile__build_query(endpoint, start, end, options, now):
    limit = options.pop("limit", None)
    width = options.pop("bucket_width", "1d")
    group_by = options.pop("group_by", None)
    try:
        q = build_query(
            endpoint, start, end, bucket_width=width, group_by=group_by, limit=limit, filters=options, now=now
        )
    except uf.InvalidParameterError:
        return
    assert q.start < q.end and str(q.start.tz) == "UTC" and all(isinstance(v, str) for _, v in q.params())


headers = st.dictionaries(
    st.sampled_from(["Retry-After", "retry-after-ms", "RETRY-AFTER", "x"]), weird_text | st.sampled_from(
        ["nan", "inf", "-inf", "1e400", "-5", "Wed, 21 Oct 2015 07:28:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT"]
    ), max_size=2
)


@SETTINGS
@given(attempt=st.integers(0, 10**6), headers=headers)
def test_hostile__retry_delay_is_always_finite_and_bounded(attempt, headers):
    delay = retry_delay(attempt, headers)
    assert math.isfinite(delay) and 0 <= delay <= MAX_RETRY_AFTER_DELAY


@SETTINGS
@given(
    status=st.integers(300, 599),
    before=st.binary(max_size=20),
    after=st.binary(max_size=20),
    json=st.booleans(),
    request_id=weird_text,
)
def test_hostile__status_errors_never_raise_and_never_show_the_key(status, before, after, json, request_id, secret_key):
    secret = secret_key.encode()
    content = (
        msgspec.json.encode({"error": {"message": before.hex() + secret_key, "param": [secret_key]}})
        if json
        else before + secret + after
    )
    answer = {"x-request-id": request_id, "Location": secret_key}
    err = status_error(status, answer, content, path="/p", provider=DEFAULT, secret=secret_key)
    assert isinstance(err, uf.APIStatusError) and err.status_code == status
    for text in (str(err), repr(err), repr(err.args), repr(err.body)):
        assert secret_key not in text


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | weird_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(weird_text, inner, max_size=3),
    max_leaves=10,
)
list_pages = st.fixed_dictionaries(
    {},
    optional={
        "object": st.just("list") | json_values,
        "data": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "id": json_values | st.just("proj_1"),
                    "name": json_values,
                    "created_at": json_values | st.integers(0, 2**40),
                    "threshold_amount": json_values,
                    "status": json_values,
                },
            )
            | json_values,
            max_size=3,
        )
        | json_values,
        "has_more": json_values,
        "last_id": json_values,
        "threshold_amount": json_values | st.integers(0, 10**6),
        "enforcement": json_values | st.just({"status": "active"}),
    },
)


@pytest.fixture(scope="module")
def echo_server():
    """A server on 127.0.0.1 that answers every GET with the body set in ``state["body"]``."""
    state: dict[str, bytes] = {"body": b"{}"}
    with serve(lambda h: send(h, 200, state["body"], Content_Type="application/json")) as (url, asked):
        yield url, state, asked


@SETTINGS
@given(page=list_pages, function=st.sampled_from(["projects", "users", "api_keys", "spend_alerts", "spend_limit"]))
# true/false as a time was a bare TypeError from pandas
@example(page={"object": "list", "has_more": None, "data": [{"created_at": False}]}, function="projects")
def test_hostile__organization_lists_from_a_hostile_server_are_frames_or_typed_errors(
    echo_server, page, function, secret_key
):
    url, state, _ = echo_server
    state["body"] = msgspec.json.encode(page)
    client = uf.Client(secret_key, url, cache=False, max_retries=0)
    try:
        result = getattr(uf, function)(client)
    except uf.UsageFramesError:
        return
    if function == "spend_limit":
        assert result is None or (isinstance(result, float) and math.isfinite(result))
    else:
        assert isinstance(result, pd.DataFrame)


cli_values = mostly(
    st.sampled_from(["2026-10-01", "2026-10-01T12:00", "1d", "1h", "model", "project_id", "3", "gpt-4o-2024-08-06"]),
    weird_text | st.sampled_from(["-1", "--", "-x", "1e400", "²", "99999999999999999999", "\x7f", "nan"]),
)
cli_options = st.lists(
    st.tuples(st.sampled_from(["--start", "--end", "--bucket-width", "--group-by", "--limit", "--models"]), cli_values),
    max_size=3,
)


@settings(max_examples=max(EXAMPLES // 3, 20), deadline=None)
@given(command=st.sampled_from(["fetch", "sync"]), endpoint=mostly(names, weird_text), options=cli_options)
def test_hostile__cli_exits_with_a_status_never_a_traceback(command, endpoint, options):
    from usage_frames.cli import main

    where = [str(ROOT / f"cli-{next(RUNS)}")] if command == "sync" else []
    window = ["--start", "2026-10-01", "--end", "2026-10-03"]
    argv = [command, *where, *(["--endpoint", endpoint] if command == "sync" else [endpoint]), "--fake", *window]
    argv += [part for option in options for part in option]
    try:
        status = main(argv)
    except SystemExit as exc:  # argparse refuses what it can parse no further, with a usage message
        status = exc.code
    event(f"exit {status}")
    assert status in (0, 1, 2), argv
