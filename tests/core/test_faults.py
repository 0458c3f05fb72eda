"""The fault matrix: each misbehaviour of the server, answered in-process (the fake's faults), with its defined outcome.

Outcome is either retry-then-exact-result or a typed error that names the problem and the request id; never a
partial frame. (429s, 5xx bursts and forever, stalls, truncated and HTML bodies, and broken cursors are in
test_client.py; this file has the rest of the matrix, plus drift from older API versions.)
"""

from __future__ import annotations

import re
import stat
from pathlib import Path

import conftest
import pandas as pd
import pytest
from conftest import bucket, build_query

import usage_frames as uf
from usage_frames.fake import Fault
from usage_frames.providers.openai.endpoints import COMPLETIONS_FIELDS
from usage_frames.providers.openai.fake import FakeOrganization

START, END = "2026-10-01", "2026-10-05"
T0 = 1790812800


def page(*buckets: tuple[int, int], obj: str = "organization.usage.embeddings.result", more: bool = False) -> bytes:
    one = {"input_tokens": 1, "num_model_requests": 1}
    data = [bucket(T0 + a, T0 + b, one, result_object=obj) for a, b in buckets]
    return conftest.page(*data, cursor="page_x" if more else None, encode=True)


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408, 409])
def test_fault__a_retryable_status_then_success_is_exact(client, org, faults, sleeps, status):
    faults.push(Fault(status=status))
    frame = client.embeddings(START, END)
    assert len(sleeps) == 1
    assert int(frame["input_tokens"].sum()) == org.total("embeddings", "input_tokens", START, END)


def test_fault__connection_reset_mid_body_then_success_is_exact(http_client, org, faults, sleeps):
    # Over HTTP: only a socket can drop mid-body (the in-process adapter raises before any body).
    faults.push(Fault(kind="reset"))
    frame = http_client.embeddings(START, END)
    assert len(sleeps) == 1
    assert int(frame["input_tokens"].sum()) == org.total("embeddings", "input_tokens", START, END)


def test_fault__connection_reset_forever_is_a_connection_error(http_client, faults):
    faults.push(*[Fault(kind="reset")] * 10)  # over HTTP: a real dropped connection, as above
    with pytest.raises(uf.APIConnectionError, match="GET /organization/usage/embeddings failed"):
        http_client.embeddings(START, END)


def test_fault__buckets_out_of_order_are_an_error_with_the_request_id(client, faults):
    faults.push(Fault(kind="replace", body=page((86400, 172800), (0, 86400))))
    with pytest.raises(uf.UnexpectedResponseError, match="out of order or overlap") as info:
        client.embeddings(START, END)
    assert info.value.request_id and info.value.request_id in str(info.value)


def test_fault__overlapping_buckets_are_an_error(client, faults):
    faults.push(Fault(kind="replace", body=page((0, 86400), (3600, 90000))))
    with pytest.raises(uf.UnexpectedResponseError, match="out of order or overlap"):
        client.embeddings(START, END)


def test_fault__an_answer_for_another_endpoint_is_an_error(client, faults):
    faults.push(Fault(kind="replace", body=page((0, 86400), obj="organization.costs.result")))
    with pytest.raises(uf.UnexpectedResponseError, match="holds costs results, not embeddings"):
        client.embeddings(START, END)


def test_fault__an_error_envelope_with_status_200_is_an_error(client, faults):
    faults.push(Fault(kind="replace", body=b'{"error": {"message": "oops"}}'))
    with pytest.raises(uf.UnexpectedResponseError, match="not a page"):
        client.embeddings(START, END)


def test_fault__no_partial_frame_when_a_later_window_fails(in_process, faults):
    faults.push(Fault(kind="pass"), *[Fault(status=500)] * 20)
    client = in_process(uf.Client("sk-admin-test", cache=False, workers=1, sleep=lambda s: None, max_retries=2))
    with pytest.raises(uf.ServerError):
        client.embeddings("2026-06-01", "2026-10-01")
    assert len(faults.requests) == 1 + 3  # the first window, then three attempts at the second


@pytest.mark.parametrize(
    ("endpoint", "omitted", "group_by"),
    [
        (
            "completions",
            # Everything the 2026 breakdown added, and the newer group keys.
            {f.name for f in COMPLETIONS_FIELDS[3:]} - {"input_cached_tokens"} | {"service_tier", "api_source"},
            ["model", "service_tier"],
        ),
        ("costs", {"quantity_unit", "api_key_id", "user_id", "api_source"}, ["line_item"]),
        ("web_search_calls", {"api_source"}, ["context_level", "api_source"]),
    ],
    ids=["completions before the 2026 breakdown", "costs before quantity_unit", "web search before api_source"],
)
def test_drift__older_answers_parse_with_absent_fields_as_na(endpoint, omitted, group_by):
    old = FakeOrganization(omit_fields=frozenset(omitted))
    frame = uf.Client.fake(old).fetch(endpoint, START, END, group_by=group_by)
    assert len(frame) > 0
    for name in omitted & set(frame.columns):
        assert frame[name].isna().all(), name
    present = next(f.name for f in uf.ENDPOINTS[endpoint].fields if f.name not in omitted and f.dtype != "string")
    assert frame[present].notna().all()


def test_secrets__sync_files_are_readable_by_the_owner_only(tmp_path: Path, client):
    root = tmp_path / "data"
    uf.sync(root, ["costs"], start="2026-09-01", end="2026-10-01", client=client)
    for path in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), path


def test_fault__buckets_past_the_requested_end_are_left_to_the_next_window(secret_key, in_process, org, faults):
    # Two windows, September's last days and October's first; the first is answered with all 21 days, as by a
    # server that ignores end_time.
    whole = in_process(uf.Client("sk-admin-x", cache=False))
    body = whole.get(
        "/organization/usage/embeddings", build_query("embeddings", "2026-09-20", "2026-10-11").params()
    )[1].content
    faults.push(Fault(kind="replace", body=body))
    frame = in_process(uf.Client(secret_key, cache=False, workers=1)).embeddings("2026-09-20", "2026-10-11")
    assert frame.index.is_unique and len(frame) == 21
    assert int(frame["input_tokens"].sum()) == org.total("embeddings", "input_tokens", "2026-09-20", "2026-10-11")


def test_fake__a_cursor_past_the_end_is_a_bad_request(org):
    reply = org.respond(
        "GET",
        "/organization/usage/embeddings",
        {"start_time": [str(T0)], "end_time": [str(T0 + 86400)], "page": ["page_MzE6MTc5MDgxMjgwMA=="]},
        {"Authorization": "Bearer sk-admin-x"},
    )
    assert reply.status == 400 and reply.json()["error"]["param"] == "page"


@pytest.mark.parametrize("transport", ["http", "in-process"])
@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (Fault(kind="skip", bucket=1), "skips 2026-10-02 00:00:00..2026-10-03 00:00:00 UTC"),
        (Fault(kind="skip", bucket=0), "starts late: no bucket covers 2026-10-01 00:00:00..2026-10-02 00:00:00 UTC"),
        (Fault(kind="skip", bucket=-1), "ends early: no bucket covers 2026-10-04 00:00:00..2026-10-05 00:00:00 UTC"),
        (Fault(kind="shift"), "starts late: no bucket covers 2026-10-01 00:00:00..2026-10-31 00:00:00 UTC"),
        (Fault(kind="shift", seconds=-30 * 86400), "another time window: it starts with 2026-09-01 00:00:00"),
    ],
    ids=["a skipped bucket", "a skipped first bucket", "a skipped last bucket", "30 days later", "30 days earlier"],
)
def test_fault__an_answer_that_does_not_tile_the_window_is_an_error_naming_the_gap(
    request, faults, transport, fault, message
):
    faults.push(fault)
    fetching = request.getfixturevalue("http_client" if transport == "http" else "client")
    with pytest.raises(uf.UnexpectedResponseError, match=re.escape(message)) as info:
        fetching.embeddings(START, END)
    assert info.value.request_id


def test_fault__a_skipped_bucket_on_a_later_page_is_an_error(secret_key, in_process, faults):
    faults.push(Fault(kind="pass"), Fault(kind="skip", bucket=0))
    with pytest.raises(uf.UnexpectedResponseError, match=re.escape("skips 2026-10-03 00:00:00..2026-10-04")):
        in_process(uf.Client(secret_key, cache=False)).fetch("embeddings", START, END, limit=2)


def test_fault__the_cache_keeps_no_answer_that_does_not_tile(client, faults, org):
    faults.push(Fault(kind="skip"))
    with pytest.raises(uf.UnexpectedResponseError):
        client.embeddings(START, END)
    frame = client.embeddings(START, END)  # asks again instead of replaying the broken answer
    assert int(frame["input_tokens"].sum()) == org.total("embeddings", "input_tokens", START, END)


def test_lookback__the_fake_answers_400_reporting_lookback_exceeded_and_the_error_explains(client):
    start = client.clock() - pd.Timedelta(days=400)  # the fake's clock, not the machine's
    with pytest.raises(uf.BadRequestError) as info:
        client.embeddings(start, start + pd.Timedelta(days=3))
    error = info.value
    assert error.status_code == 400 and error.body["error"]["code"] == "reporting_lookback_exceeded"
    assert "Usage and cost data are available for the past year. Earliest supported start date:" in str(error)
    assert "uf.sync" in str(error)  # what to do about it


def test_lookback__plan_warns_before_anything_is_sent(client, faults):
    now = client.clock()
    plan = client.plan("costs", now - pd.Timedelta(days=400), now - pd.Timedelta(days=390))
    assert any("more than a year back" in w and "reporting_lookback_exceeded" in w for w in plan.warnings)
    assert "warning: start" in str(plan)
    assert client.plan("costs", now - pd.Timedelta(days=300)).warnings == ()
    assert faults.requests == []
