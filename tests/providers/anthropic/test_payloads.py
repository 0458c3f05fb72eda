"""Anthropic answers as documented and as third-party readers test them (``payloads/``, see its README), and hostile
pages: each goes through the client's one pagination loop (served in-process by the fake transport, which answers
with the page as written; error statuses by a tiny HTTP server on 127.0.0.1), and every figure is computed
independently from the literal JSON with ``Decimal`` and Python ints. What the documented answers send must parse;
impossible values must raise a typed error naming the field and the value, never give a partial frame.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import threading
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pandas as pd
import pytest
import requests
from conftest import NOW, Sleeps

import usage_frames as uf
from usage_frames.fake import FakeAdapter, FakeAPI, Fault, Faults
from usage_frames.providers.anthropic.fake import DEFAULT_KEY, FakeOrganization

PAYLOADS = Path(__file__).parent / "payloads"
D1, D2, D3 = "2025-08-01T00:00:00Z", "2025-08-02T00:00:00Z", "2025-08-03T00:00:00Z"
USAGE_KEYS = ["workspace_id", "api_key_id", "model", "service_tier", "context_window", "inference_geo", "account_id",
              "service_account_id"]  # fmt: skip
# Each count column and where the API puts it (the nested ones flattened).
COUNTS = {
    "uncached_input_tokens": ("uncached_input_tokens",),
    "cache_read_input_tokens": ("cache_read_input_tokens",),
    "cache_creation_ephemeral_5m_input_tokens": ("cache_creation", "ephemeral_5m_input_tokens"),
    "cache_creation_ephemeral_1h_input_tokens": ("cache_creation", "ephemeral_1h_input_tokens"),
    "output_tokens": ("output_tokens",),
    "web_search_requests": ("server_tool_use", "web_search_requests"),
}
DESCRIPTION = ["description", "cost_type", "model", "token_type", "service_tier", "context_window", "inference_geo"]


def payload(number: str) -> dict[str, Any]:
    """A vendored answer by its number (``"04"``)."""
    (path,) = PAYLOADS.glob(f"{number}-*.json")
    return json.loads(path.read_text())


def served(*pages: dict[str, Any] | bytes) -> tuple[uf.Client, Faults]:
    """A client whose requests are answered, in order, by exactly these pages (then by the fake organization)."""
    faults = Faults()
    faults.push(*(Fault(kind="replace", body=p if isinstance(p, bytes) else json.dumps(p).encode()) for p in pages))
    session = requests.Session()
    session.mount("https://api.anthropic.com/", FakeAdapter(FakeAPI(FakeOrganization(now=NOW), faults=faults)))
    return uf.Client(DEFAULT_KEY, provider="anthropic", session=session, workers=1, now=NOW, max_retries=0), faults


def bucket(start: str, end: str, *results: dict[str, Any]) -> dict[str, Any]:
    return {"starting_at": start, "ending_at": end, "results": list(results)}


def page(*buckets: dict[str, Any], next_page: str | None = None, has_more: bool | None = None) -> dict[str, Any]:
    return {"data": list(buckets), "has_more": next_page is not None if has_more is None else has_more,
            "next_page": next_page}  # fmt: skip


def usage(**fields: Any) -> dict[str, Any]:
    return {"uncached_input_tokens": 10, "output_tokens": 5, **fields}


def cost(amount: Any, **fields: Any) -> dict[str, Any]:
    return {"amount": amount, "currency": "USD", **fields}


def results(*pages: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for p in pages for b in p["data"] for r in b["results"]]


def at(result: dict[str, Any], path: tuple[str, ...]) -> Any:
    """The value at ``path`` of a literal result, ``None`` where absent (or null)."""
    value: Any = result
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def plain(series: pd.Series) -> list[Any]:
    return [None if pd.isna(v) else v for v in series]


def closing(start: str = D2, end: str = D3) -> dict[str, Any]:
    """The last page of a two-day window: its idle second day."""
    return page(bucket(start, end))


# --- the documented answers, replayed -------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["01", "02", "03"])
def test_replay__documented_usage_answers_parse_into_the_frame_contract(number):
    # Each doc example says has_more with a cursor: the cursor is followed, with the same query, and its page joins.
    first = payload(number)
    client, faults = served(first, closing())
    frame = client.messages("2025-08-01", "2025-08-03", group_by=USAGE_KEYS)

    rows = results(first)
    assert len(frame) == len(rows) == 1
    assert list(frame.columns) == ["end_time", *USAGE_KEYS, *COUNTS]
    assert frame.index.name == "start_time" and str(frame.index.tz) == "UTC"
    assert frame.index.tolist() == [pd.Timestamp(first["data"][0]["starting_at"])]
    assert frame["end_time"].tolist() == [pd.Timestamp(first["data"][0]["ending_at"])]
    for name, path in COUNTS.items():  # nested cache writes and web searches flattened, exact ints
        assert str(frame[name].dtype) == "Int64"
        assert plain(frame[name]) == [at(r, path) for r in rows]
    assert frame["cache_creation_ephemeral_5m_input_tokens"].sum() == 500  # never a flat field read as zero
    for key in USAGE_KEYS:  # older answers lack inference_geo, account_id, service_account_id: <NA>, not an error
        assert plain(frame[key].astype(object)) == [r.get(key) for r in rows]
    (_, first_query), (_, second_query) = faults.requests
    asked, followed = dict(parse_qsl(first_query)), dict(parse_qsl(second_query))
    assert followed == {**asked, "page": first["next_page"]}


def test_replay__a_documented_has_more_is_never_dropped():
    # 01 already covers its one-day window and still says has_more: the cursor is followed; the fake organization
    # does not know this cursor and refuses it (400), which refuses the fetch: never the first page as the answer.
    client, faults = served(payload("01"))
    with pytest.raises(uf.BadRequestError, match="page"):
        client.messages("2025-08-01", "2025-08-02", group_by="model")
    assert len(faults.requests) == 2
    # A next page that repeats the bucket is not a continuation: refused, not summed twice.
    client, _ = served(payload("01"), payload("03") | {"has_more": False, "next_page": None})
    with pytest.raises(uf.UnexpectedResponseError, match="out of order or overlap"):
        client.messages("2025-08-01", "2025-08-02", group_by="model")


@pytest.mark.parametrize("number", ["04", "05"])
def test_replay__documented_cost_answers_are_dollars_exactly_cents_over_100(number):
    first = payload(number)
    client, _ = served(first, closing())
    frame = client.costs("2025-08-01", "2025-08-03", group_by=["workspace_id", "description"])

    rows = results(first)
    assert list(frame.columns) == ["end_time", "workspace_id", *DESCRIPTION, "amount", "currency"]
    assert str(frame["amount"].dtype) == "Float64" and str(frame.index.tz) == "UTC"
    assert frame["amount"].tolist() == [float(Decimal(r["amount"]) / 100) for r in rows]
    assert frame["currency"].tolist() == ["USD"]
    for key in ["workspace_id", *DESCRIPTION]:  # 04 is of 2025: no inference_geo, read as <NA>
        assert plain(frame[key].astype(object)) == [r.get(key) for r in rows]


def test_replay__the_100x_trap_amount_is_cents_not_dollars():
    # The docs: "123.45" in USD is $1.2345. Read as dollars, the documented row would be $123.78912.
    client, _ = served(payload("04"), closing())
    frame = client.costs("2025-08-01", "2025-08-03", group_by="description")
    (amount,) = frame["amount"].tolist()
    assert amount == float(Decimal("1.2378912"))
    assert amount != float(Decimal(results(payload("04"))[0]["amount"]))


def test_replay__codexbar_costs_without_optional_fields_add_up_to_its_own_expected_dollars():
    # CodexBar's test expects $148.45 for the first day and $198.45 in all from these cents ("5000": no decimals).
    body = payload("09")
    client, _ = served(body)
    frame = client.costs("2023-11-14", "2023-11-16", group_by="description")
    cents = [Decimal(r["amount"]) for r in results(body)]
    assert frame["amount"].tolist() == [float(c / 100) for c in cents]
    assert frame.groupby(level=0)["amount"].sum().tolist() == [148.45, 50.0]
    assert Decimal(str(math.fsum(frame["amount"]))) == sum(cents) / 100 == Decimal("198.45")
    assert frame["cost_type"].tolist() == [r["cost_type"] for r in results(body)]
    assert frame[["model", "token_type", "service_tier", "context_window", "inference_geo"]].isna().all().all()


def test_replay__codexbar_usage_rows_without_cache_or_keys_are_absent_not_zero():
    body = payload("10")
    client, _ = served(body)
    frame = client.messages("2023-11-14", "2023-11-16", group_by=["model", "workspace_id"])
    rows = results(body)
    for name, path in COUNTS.items():
        assert plain(frame[name]) == [at(r, path) for r in rows]
        assert int(frame[name].sum()) == sum(at(r, path) or 0 for r in rows)
    assert frame["model"].tolist() == [r["model"] for r in rows]
    assert frame["workspace_id"].isna().all()  # absent key: the default workspace's null


def test_replay__null_keys_of_the_default_workspace_and_the_console_are_kept_as_their_own_group():
    # workspace_id null is the default workspace; api_key_id null is the Console's Workbench; model null ungrouped.
    named = results(payload("02"))[0]
    default = named | {"workspace_id": None, "api_key_id": None, "model": None, "inference_geo": "not_available"}
    body = payload("02") | {"has_more": False, "next_page": None}
    body["data"][0]["results"] = [named, default]
    client, _ = served(body)
    frame = client.messages("2025-08-01", "2025-08-02", group_by=USAGE_KEYS)
    assert len(frame) == 2
    for key in USAGE_KEYS:
        assert plain(frame[key].astype(object)) == [named[key], default[key]]
    by_workspace = frame.groupby("workspace_id", observed=True, dropna=False)["output_tokens"].sum()
    assert by_workspace.tolist() == [500, 500] and by_workspace.index.isna().tolist() == [False, True]


# --- errors from the API, with their envelopes and request ids --------------------------------------------------


@contextlib.contextmanager
def serve(*replies: tuple[int, dict[str, str], bytes]) -> Iterator[tuple[uf.Client, list[str]]]:
    """An HTTP server on 127.0.0.1 answering GETs with ``replies`` in order (the last one again after that)."""
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            status, headers, body = replies[min(len(asked), len(replies)) - 1]
            self.send_response(status)
            for name, value in {"Content-Length": str(len(body)), **headers}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield uf.Client(DEFAULT_KEY, url, provider="anthropic", cache=False, workers=1, now=NOW, max_retries=2,
                        sleep=Sleeps(), timeout=(2, 10)), asked  # fmt: skip
    finally:
        server.shutdown()
        server.server_close()


JSON = {"Content-Type": "application/json"}
HTML = {"Content-Type": "text/html"}


@pytest.mark.parametrize(
    ("number", "status", "error", "header", "request_id"),
    [
        ("07", 404, uf.NotFoundError, "req_from_the_header", "req_from_the_header"),
        ("07", 404, uf.NotFoundError, None, "req_011CSHoEeqs5C35K2UUqR7Fy"),  # the body's, when no header
        ("08", 400, uf.BadRequestError, "req_from_the_header", "req_from_the_header"),  # no request_id in the body
        ("08", 400, uf.BadRequestError, None, None),
    ],
)
def test_errors__documented_envelopes_are_typed_errors_with_message_and_request_id(
    number, status, error, header, request_id
):
    body = payload(number)
    headers = JSON | ({"request-id": header} if header else {})
    with serve((status, headers, json.dumps(body).encode())) as (client, asked), pytest.raises(error) as caught:
        client.costs("2025-08-01", "2025-08-02")
    assert caught.value.status_code == status and caught.value.request_id == request_id
    assert body["error"]["message"] in str(caught.value) and "/v1/organizations/cost_report" in str(caught.value)
    assert len(asked) == 1  # a 4xx is not retried


@pytest.mark.parametrize("status", [529, 500])
def test_errors__an_html_page_with_529_or_500_is_a_server_error_naming_the_request_and_its_id(status):
    html = f"<html><body><h1>{status} Overloaded</h1></body></html>".encode()
    with (
        serve((status, HTML | {"request-id": "req_html"}, html)) as (client, asked),
        pytest.raises(uf.ServerError) as caught,
    ):
        client.costs("2025-08-01", "2025-08-02")
    assert caught.value.status_code == status and caught.value.request_id == "req_html"
    assert "Overloaded" in str(caught.value) and "/v1/organizations/cost_report" in str(caught.value)
    assert len(asked) == 3  # retried like any 5xx, then refused


def test_errors__a_529_is_retried_and_the_next_answer_is_used():
    body = page(bucket(D1, D2, cost("250")))
    with serve((529, HTML, b"<html>overloaded</html>"), (200, JSON, json.dumps(body).encode())) as (client, asked):
        frame = client.costs("2025-08-01", "2025-08-02")
    assert frame["amount"].tolist() == [2.5] and len(asked) == 2


@pytest.mark.parametrize("number", ["07", "08"])
def test_hostile__an_error_envelope_with_status_200_is_an_error_naming_it(number):
    body = payload(number)
    client, _ = served(body)
    with pytest.raises(uf.UnexpectedResponseError, match=re.escape(body["error"]["type"])) as caught:
        client.costs("2025-08-01", "2025-08-02")
    assert body["error"]["message"] in str(caught.value)


# --- impossible values: an error naming the field and the value ------------------------------------------------


@pytest.mark.parametrize(
    "amount",
    ["12,50", "NaN", "1e400", "", " ", "Infinity", "-inf", "1_000", "١٢", "12.5.1", "0x10", True, ["1"], {"v": 1}],
    ids=repr,
)
def test_hostile__an_impossible_amount_is_an_error_naming_field_and_value(amount):
    client, _ = served(page(bucket(D1, D2, cost(amount))))
    with pytest.raises(uf.UnexpectedResponseError, match=re.escape(f"'amount' holds {amount!r}")):
        client.costs("2025-08-01", "2025-08-02")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("output_tokens", -1),
        ("uncached_input_tokens", -(2**40)),
        ("cache_read_input_tokens", "-3"),
        ("cache_creation.ephemeral_5m_input_tokens", -1),
        ("server_tool_use.web_search_requests", -2),
    ],
)
def test_hostile__a_negative_count_is_an_error_naming_field_and_value(field, value):
    top, _, inner = field.partition(".")
    result = usage(**{top: {inner: value}} if inner else {top: value})
    client, _ = served(page(bucket(D1, D2, result)))
    with pytest.raises(uf.UnexpectedResponseError, match=re.escape(f"'{field}' holds {value!r}")):
        client.messages("2025-08-01", "2025-08-02")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("output_tokens", 2**63),
        ("output_tokens", 2**64 + 1),
        ("output_tokens", "9" * 30),
        ("output_tokens", 2.5),
        ("cache_creation.ephemeral_1h_input_tokens", 2**63),
        ("server_tool_use.web_search_requests", 1e300),
    ],
    ids=str,
)
def test_hostile__a_count_beyond_int64_or_not_whole_is_an_error_naming_field_and_value(field, value):
    top, _, inner = field.partition(".")
    result = usage(**{top: {inner: value}} if inner else {top: value})
    client, _ = served(page(bucket(D1, D2, result)))
    with pytest.raises(uf.UnexpectedResponseError, match=re.escape(f"'{field}' holds {value!r}")):
        client.messages("2025-08-01", "2025-08-02")


def test_hostile__int64_edge_counts_and_count_strings_are_kept_exactly():
    values = [2**63 - 1, 0, "12"]
    client, _ = served(page(bucket(D1, D2, *(usage(output_tokens=v) for v in values))))
    frame = client.messages("2025-08-01", "2025-08-02")
    assert [int(v) for v in frame["output_tokens"]] == [2**63 - 1, 0, 12]


@pytest.mark.parametrize(
    ("pages", "message"),
    [
        ([page(bucket(D2, D1, usage()))], "a bucket ends before it starts"),
        ([page(bucket(D2, D3, usage()), bucket(D1, D2, usage()))], "out of order or overlap"),
        ([page(bucket(D1, D3, usage()), bucket(D2, D3, usage()))], "out of order or overlap"),
        ([page(bucket(D1, D2, usage()), next_page="p2"), page(bucket(D1, D2, usage()))], "out of order or overlap"),
        ([page(bucket(D1, D2), bucket("2025-08-02T12:00:00Z", D3))], "skips 2025-08-02 00:00:00..2025-08-02 12:00"),
        ([page(bucket("2025-09-01T00:00:00Z", "2025-09-02T00:00:00Z", usage()))], "starts late"),
        ([page(bucket("2025-07-30T00:00:00Z", "2025-07-31T00:00:00Z", usage()))], "another time window"),
        ([page(bucket(D1, D2, usage()))], "ends early: no bucket covers 2025-08-02 00:00:00..2025-08-03"),
        ([page()], "no buckets"),
    ],
    ids=["starts after it ends", "out of order", "overlapping", "overlapping across pages", "a gap",
         "after the window", "before the window", "short of the window", "no buckets"],
)  # fmt: skip
def test_hostile__buckets_that_do_not_tile_the_window_are_refused(pages, message):
    client, _ = served(*pages)
    with pytest.raises(uf.UnexpectedResponseError, match=re.escape(message)):
        client.messages("2025-08-01", "2025-08-03")


@pytest.mark.parametrize(
    ("pages", "message"),
    [
        ([page(bucket(D1, D2, usage()), has_more=True)], "has_more is true but next_page is None"),
        ([page(bucket(D1, D2, usage()), next_page="")], "has_more is true but next_page is ''"),
        ([page(bucket(D1, D2, usage()), has_more=True) | {"next_page": 7}], "has_more is true but next_page is 7"),
        ([page(bucket(D1, D2), next_page="p1"), page(next_page="p1")], "repeated the cursor 'p1'"),
        ([page(bucket(D1, D2)) | {"has_more": "false"}], "'has_more' is not a boolean"),
        ([{"data": [bucket(D1, D2)]}], "'has_more' is not a boolean"),
    ],
    ids=["no next_page", "empty next_page", "a number", "a cursor loop", "has_more a string", "no has_more"],
)
def test_hostile__a_missing_or_repeated_cursor_is_refused_never_a_partial_frame(pages, message):
    client, _ = served(*pages)
    with pytest.raises(uf.UnexpectedResponseError, match=re.escape(message)):
        client.messages("2025-08-01", "2025-08-03")


@pytest.mark.parametrize(
    "body",
    [
        {"data": [{"starting_at": D1, "ending_at": D2, "results": {"uncached_input_tokens": 1}}], "has_more": False},
        {"data": [{"starting_at": D1, "ending_at": D2, "results": None}], "has_more": False},
        {"data": [{"starting_at": D1, "ending_at": D2, "results": "[]"}], "has_more": False},
        {"data": {"results": []}, "has_more": False},
        {"data": None, "has_more": False},
        [],
    ],
    ids=["results an object", "results null", "results a string", "data an object", "data null", "a list"],
)
def test_hostile__results_or_data_not_a_list_is_not_a_page(body):
    client, _ = served(body)
    with pytest.raises(uf.UnexpectedResponseError, match="not a page"):
        client.messages("2025-08-01", "2025-08-02")


@pytest.mark.parametrize(
    ("bounds", "message"),
    [(("2025-08-01T00:00:00", D2), "'2025-08-01T00:00:00'"), ((D1, "tomorrow"), "'tomorrow'"), ((D1, None), "None")],
    ids=["no offset", "not a time", "null"],
)
def test_hostile__a_bucket_time_that_is_not_an_rfc3339_time_is_refused(bounds, message):
    client, _ = served(page(bucket(*bounds, usage())))
    with pytest.raises(uf.UnexpectedResponseError, match=re.escape(message)):
        client.messages("2025-08-01", "2025-08-02")


@pytest.mark.parametrize(
    ("key", "value"), [("model", 4), ("workspace_id", ["wrkspc_1"]), ("service_tier", {"t": 1})], ids=str
)
def test_hostile__a_wrongly_typed_group_key_is_an_error_naming_it(key, value):
    client, _ = served(page(bucket(D1, D2, usage(**{key: value}))))
    with pytest.raises(uf.UnexpectedResponseError, match=re.escape(f"'{key}' holds {value!r}")):
        client.messages("2025-08-01", "2025-08-02", group_by=key)


@pytest.mark.parametrize("value", [5, "x", [1]], ids=repr)
def test_hostile__a_nested_count_object_that_is_not_one_is_an_error_naming_it(value):
    client, _ = served(page(bucket(D1, D2, usage(cache_creation=value))))
    with pytest.raises(uf.UnexpectedResponseError, match=re.escape(f"'cache_creation' holds {value!r}")):
        client.messages("2025-08-01", "2025-08-02")


def test_hostile__unknown_fields_at_every_level_are_accepted():
    # A newer API: speed (a beta key), new nested counts, new bucket and page fields, a new cost row field.
    cache = {"ephemeral_5m_input_tokens": 7, "ephemeral_24h_input_tokens": 9}
    tools = {"web_search_requests": 2, "web_fetch_requests": 3}
    result = usage(speed="fast", cache_creation=cache, server_tool_use=tools, brand_new={"x": [1]})
    body = page(bucket(D1, D2, result) | {"bucket_width": "1d"}) | {"object": "report", "total": 1}
    client, _ = served(body)
    frame = client.messages("2025-08-01", "2025-08-02")
    assert frame["cache_creation_ephemeral_5m_input_tokens"].tolist() == [7]
    assert frame["web_search_requests"].tolist() == [2] and "speed" not in frame.columns
    client, _ = served(page(bucket(D1, D2, cost("150", note="credit applied"))))
    assert client.costs("2025-08-01", "2025-08-02")["amount"].tolist() == [1.5]


def test_hostile__another_currency_is_kept_not_converted():
    body = page(bucket(D1, D2, cost("250", currency="EUR"), cost("100")))
    client, _ = served(body)
    frame = client.costs("2025-08-01", "2025-08-02")
    assert frame["currency"].tolist() == ["EUR", "USD"]
    assert frame["amount"].tolist() == [2.5, 1.0]  # each in its own currency, from its lowest unit


def test_hostile__a_partial_page_is_never_returned_when_a_later_page_is_broken():
    good = page(bucket(D1, D2, usage()), next_page="p2")
    client, _ = served(good, page(bucket(D2, D3, usage(output_tokens=-1))))
    with pytest.raises(uf.UnexpectedResponseError, match="'output_tokens' holds -1"):
        client.messages("2025-08-01", "2025-08-03")


def test_replay__counts_absent_from_a_clean_page_stay_absent_when_another_page_is_read_leniently():
    # One page decodes strictly (an absent count holds the strict structs' sentinel), the next leniently (a count
    # as a string): the first page's absent counts were read as -9223372036854775808 into the frame.
    first = page(bucket(D1, D2, usage()), next_page="p2")
    client, _ = served(first, page(bucket(D2, D3, usage(output_tokens="3"))))
    frame = client.messages("2025-08-01", "2025-08-03")
    assert plain(frame["cache_read_input_tokens"]) == [None, None]
    assert plain(frame["output_tokens"]) == [5, 3] and plain(frame["uncached_input_tokens"]) == [10, 10]


def test_hostile__an_error_envelope_with_status_200_that_echoes_the_key_does_not_show_it(secret_key):
    key = "sk-ant-admin01-" + secret_key.removeprefix("sk-admin-")
    body = {"type": "error", "error": {"type": "authentication_error", "message": f"invalid x-api-key {key}"}}
    faults = Faults()
    faults.push(Fault(kind="replace", body=json.dumps(body).encode()))
    session = requests.Session()
    session.mount("https://api.anthropic.com/", FakeAdapter(FakeAPI(FakeOrganization(now=NOW), faults=faults)))
    client = uf.Client(key, provider="anthropic", session=session, workers=1, now=NOW, max_retries=0)
    with pytest.raises(uf.UnexpectedResponseError, match="authentication_error") as caught:
        client.costs("2025-08-01", "2025-08-02")
    assert key not in str(caught.value) and key not in repr(caught.value) and "<redacted>" in str(caught.value)
