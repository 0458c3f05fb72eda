"""Hand-written pages shaped like real third-party payloads (api-notes.md sections 7 and 11), not the fake's.

Each page goes through the client's one pagination loop (served in-process by the fake transport, which
answers with the page as written), and every total is computed independently from the literal JSON with
``Decimal`` and Python ints. What real answers send must parse; impossible values must raise, naming the
field and the value.
"""

from __future__ import annotations

import itertools
import json
import re
from decimal import Decimal

import pandas as pd
import pytest
import requests
from conftest import MIDNIGHT as NOW
from conftest import bucket, build_query, page

import usage_frames as uf
from usage_frames.fake import FakeAdapter, FakeAPI, Fault, Faults
from usage_frames.providers.openai.fake import FakeOrganization

DAY = 86400
T0 = 1790812800  # 2026-10-01 00:00 UTC
COSTS = "organization.costs.result"
COMPLETIONS = "organization.usage.completions.result"


def served(*pages: dict, now: pd.Timestamp = NOW) -> uf.Client:
    """A client whose requests are answered, in order, by exactly these pages."""
    faults = Faults()
    faults.push(*(Fault(kind="replace", body=json.dumps(p).encode()) for p in pages))
    session = requests.Session()
    session.mount("https://api.openai.com/", FakeAdapter(FakeAPI(FakeOrganization(), faults=faults)))
    return uf.Client("sk-admin-test", session=session, workers=1, now=now)


def cost(value, line_item: str | None = "gpt-4o-mini-2024-07-18, input", **extra) -> dict:
    return {"object": COSTS, "amount": {"value": value, "currency": "usd"}, "line_item": line_item, **extra}


def fetch(client: uf.Client, endpoint: str, start, end, **kwargs) -> pd.DataFrame:
    return client.frame(build_query(endpoint, start, end, now=client.now, **kwargs))


# --- what real answers send, and must parse ---------------------------------------------------------------


def test_payload__a_live_costs_body_parses_with_decimal_exact_totals():
    # Shaped after a live body of 2026-06-15: string amounts in several spellings, undocumented fields on some
    # results only, *_iso bucket fields (one without a zone), quantity without quantity_unit, a project_id
    # filled although only line_item was grouped, the still-open day as results: [], and a page with no data
    # that still carries a cursor.
    day1 = bucket(
        T0,
        T0 + DAY,
        cost("12.50", organization_id="org-1", organization_name="Acme", project_id="proj_a", quantity=1200.0),
        cost("0E-6176", line_item="gpt-4o-mini-2024-07-18, cached input"),
        cost("0.000004500000000000000000000000000000000", line_item="web search tool calls", user_email="a@b.c"),
        start_time_iso="2026-10-01T00:00:00+00:00",
        end_time_iso="2026-10-02T00:00:00",
    )
    day2 = bucket(T0 + DAY, T0 + 2 * DAY, cost(0.06, project_name="Chat"), cost(3, line_item="Vector storage"))
    day3 = bucket(T0 + 2 * DAY, T0 + 3 * DAY)  # still open: present, empty
    pages = [page(day1, cursor="page_1"), page(cursor="page_2"), page(day2, day3)]
    frame = fetch(served(*pages), "costs", T0, T0 + 3 * DAY, group_by="line_item")

    results = [r for p in pages for b in p["data"] for r in b["results"]]
    assert len(frame) == len(results) == 5
    assert list(frame.columns) == ["end_time", "line_item", "amount", "currency", "quantity", "quantity_unit"]
    total = sum(Decimal(str(r["amount"]["value"])) for r in results)
    assert Decimal(repr(float(frame["amount"].sum()))) == pytest.approx(total, abs=Decimal("1e-12"))
    items: dict[str, Decimal] = {}
    for r in results:
        items[r["line_item"]] = items.get(r["line_item"], Decimal(0)) + Decimal(str(r["amount"]["value"]))
    by_item = frame.groupby("line_item", observed=True)["amount"].sum()
    assert {k: pytest.approx(float(v), abs=1e-12) for k, v in items.items()} == by_item.to_dict()
    assert frame["quantity"].tolist()[0] == 1200.0 and frame["quantity_unit"].isna().all()
    assert frame["currency"].tolist() == ["usd"] * 5


def test_payload__unaligned_first_bucket_and_a_last_bucket_ending_now_tile_the_window():
    # Cookbook, usage/completions without end_time: the first bucket starts at the unaligned request start,
    # the last ends at the request's "now".
    start, now = T0 + 3 * 3600 + 17, T0 + 2 * DAY + 5 * 3600 + 41
    tokens = [(1800, 7), (2**40, 3), (5, 1)]
    bounds = [start, T0 + DAY, T0 + 2 * DAY, now]
    buckets = [
        bucket(a, b, {"object": COMPLETIONS, "input_tokens": t, "num_model_requests": n, "model": None})
        for (a, b), (t, n) in zip(itertools.pairwise(bounds), tokens, strict=True)
    ]
    client = served(page(*buckets), now=pd.Timestamp(now, unit="s", tz="UTC"))
    frame = fetch(client, "completions", start, None)
    assert int(frame["input_tokens"].sum()) == sum(t for t, _ in tokens)
    assert frame.index[0] == pd.Timestamp(start, unit="s", tz="UTC")


def test_payload__costs_buckets_are_whole_days_floored_and_ceiled():
    # Observed: costs start at the UTC midnight before an unaligned start, and end at the next one.
    start, end = T0 + 7 * 3600, T0 + DAY + 9 * 3600
    body = page(bucket(T0, T0 + DAY, cost("1.25")), bucket(T0 + DAY, T0 + 2 * DAY, cost("2.50")))
    frame = fetch(served(body), "costs", start, end)
    assert float(frame["amount"].sum()) == float(Decimal("1.25") + Decimal("2.50"))


def test_payload__a_window_that_ends_now_may_end_a_little_short_of_our_clock():
    now = T0 + 2 * DAY
    body = page(bucket(T0, T0 + DAY, cost(1.0)), bucket(T0 + DAY, now - 4))  # the server's clock 4 s behind
    frame = fetch(served(body, now=pd.Timestamp(now, unit="s", tz="UTC")), "costs", T0, None)
    assert float(frame["amount"].sum()) == 1.0


# --- impossible values: an error naming the field and the value ----------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ('"Infinity"', "'Infinity'"),
        ("1e309", "'1e309'"),
        ("-1e309", "'-1e309'"),
        ('"NaN"', "'NaN'"),
        ('"-inf"', "'-inf'"),
        ('"1e400"', "'1e400'"),
        ('"1e999999999"', "'1e999999999'"),
        ('"twelve"', "'twelve'"),
        ("true", "True"),
        ("[1.5]", "[1.5]"),
    ],
)
def test_payload__an_impossible_amount_is_an_error_naming_field_and_value(value, shown):
    text = json.dumps(page(bucket(T0, T0 + DAY, cost("PLACEHOLDER"))))
    body = text.replace('"PLACEHOLDER"', value).encode()
    faults = Faults()
    faults.push(Fault(kind="replace", body=body))
    session = requests.Session()
    session.mount("https://api.openai.com/", FakeAdapter(FakeAPI(FakeOrganization(), faults=faults)))
    client = uf.Client("sk-admin-test", session=session, workers=1, now=NOW)
    with pytest.raises(uf.UnexpectedResponseError, match=re.escape(f"'amount.value' holds {shown}")):
        fetch(client, "costs", T0, T0 + DAY)


@pytest.mark.parametrize(
    "value",
    [1e19, "9" * 30, 1e300, 2**63, -(2**63) - 1, "1e999999999", 2.5, "many", True, {"n": 1}],
    ids=[
        "1e19",
        "30 nines",
        "1e300",
        "2**63",
        "below int64",
        "a huge exponent",
        "a fraction",
        "text",
        "a bool",
        "an object",
    ],
)
def test_payload__an_impossible_count_is_an_error_naming_field_and_value(value):
    result = {"object": COMPLETIONS, "input_tokens": value, "num_model_requests": 1}
    client = served(page(bucket(T0, T0 + DAY, result)))
    with pytest.raises(uf.UnexpectedResponseError, match=re.escape(f"'input_tokens' holds {value!r}")):
        fetch(client, "completions", T0, T0 + DAY)


@pytest.mark.parametrize(("key", "value"), [("batch", "true"), ("model", ["a"]), ("model", 4), ("batch", 1)], ids=str)
def test_payload__a_wrongly_typed_group_key_is_an_error_naming_it(key, value):
    result = {"object": COMPLETIONS, "input_tokens": 1, "num_model_requests": 1, key: value}
    client = served(page(bucket(T0, T0 + DAY, result)))
    with pytest.raises(uf.UnexpectedResponseError, match=re.escape(f"'{key}' holds {value!r}")):
        fetch(client, "completions", T0, T0 + DAY, group_by=key)


def test_payload__a_wrongly_typed_key_that_was_not_grouped_is_ignored():
    result = {"object": COMPLETIONS, "input_tokens": 2**62, "num_model_requests": 1, "model": ["a"]}
    frame = fetch(served(page(bucket(T0, T0 + DAY, result))), "completions", T0, T0 + DAY)
    assert int(frame["input_tokens"].iloc[0]) == 2**62


def test_payload__int64_edge_counts_are_kept_exactly():
    values = [2**63 - 1, 0, "12", 3.0]
    results = [{"object": COMPLETIONS, "input_tokens": v, "num_model_requests": 1} for v in values]
    frame = fetch(served(page(bucket(T0, T0 + DAY, *results))), "completions", T0, T0 + DAY)
    assert str(frame["input_tokens"].dtype) == "Int64"
    assert [int(v) for v in frame["input_tokens"]] == [2**63 - 1, 0, 12, 3]


def test_payload__has_more_false_ends_the_answer_even_with_a_cursor():
    last = {**page(bucket(T0, T0 + DAY, cost("4.20"))), "next_page": "page_stale"}  # has_more: false wins
    client = served(last, page(bucket(T0, T0 + DAY, cost("99"))))  # a second request would get this
    frame = fetch(client, "costs", T0, T0 + DAY)
    assert frame["amount"].tolist() == [4.2]
