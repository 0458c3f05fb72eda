"""Property tests: generated pages for every endpoint parse into the contract's frame, losing nothing.

Pages are generated from the endpoint table (itself checked against the vendored spec): optional fields
missing, group keys null, set or absent, unknown extra fields (the undocumented ``organization_id`` and friends
on some results only), empty buckets, counts up to the int64 edge, ``amount.value`` as a number or as a decimal
string in the spellings seen live (``"12.50"``, ``"0E-6176"``, 39 decimals), several pages, buckets that tile
the window. The invariant: the contract's schema, one row per result, and for every field the same total, per
group too, and the same number of ``<NA>`` as an independent computation over the raw JSON in plain Python
ints and ``Decimal``.
"""

from __future__ import annotations

import json
from decimal import Decimal

import conftest
import pandas as pd
import pytest
from conftest import MIDNIGHT as NOW
from conftest import build_query
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import usage_frames as uf
from usage_frames._core.frames import to_frame
from usage_frames._core.pages import decode_page
from usage_frames._core.schema import Field
from usage_frames.providers.openai.endpoints import ENDPOINTS
from usage_frames.providers.openai.fake import FakeOrganization

T0 = 1790812800
INT64_MAX = 2**63 - 1
ABSENT = object()

keys = st.sampled_from(["proj_a", "proj_b", "gpt-4o", "user-1", "key_x", "1024x1024", "medium", "vs_1"])
counts = st.one_of(st.integers(0, 10**6), st.integers(2**31, INT64_MAX), st.just(0))
extra = st.dictionaries(
    st.one_of(
        st.text("xyz_", min_size=3, max_size=8),
        st.sampled_from(["organization_id", "organization_name", "project_name", "user_email"]),
    ),
    st.one_of(st.none(), st.integers(), st.text()),
    max_size=3,
)
# Decimal strings as live answers spell them: plain, exponent zero, 39 decimals.
decimal_strings = st.one_of(
    st.decimals(0, 10**6, places=4, allow_nan=False, allow_infinity=False).map(str),
    st.just("0E-6176"),
    st.decimals(0, 1, places=39, allow_nan=False, allow_infinity=False).map(lambda d: f"{d:.39f}"),
)


def result_strategy(endpoint: uf.Endpoint) -> st.SearchStrategy[dict]:
    fields = {}
    for name in endpoint.group_by:
        value = st.one_of(st.booleans(), st.none()) if name == "batch" else st.one_of(keys, st.none())
        fields[name] = st.one_of(value, st.just(ABSENT))
    for field in endpoint.fields:
        if field.name == "amount":
            number = st.floats(0, 1e6, allow_nan=False).map(lambda v: round(v, 6))
            value = st.one_of(number, number.map(lambda v: f"{v:.4f}"), decimal_strings)  # seen live as strings
            fields["amount"] = st.one_of(
                st.fixed_dictionaries({"value": value, "currency": st.just("usd")}), st.just(ABSENT)
            )
        elif field.name == "currency":
            continue
        elif field.dtype == "Float64":
            fields[field.name] = st.one_of(st.floats(0, 1e9, allow_nan=False), st.none(), st.just(ABSENT))
        elif field.dtype == "string":
            fields[field.name] = st.one_of(st.sampled_from(["tokens", "images"]), st.none(), st.just(ABSENT))
        else:
            fields[field.name] = st.one_of(counts, st.none(), st.just(ABSENT))
    base = st.fixed_dictionaries(fields).map(lambda d: {k: v for k, v in d.items() if v is not ABSENT})
    return st.tuples(base, extra).map(lambda pair: {"object": endpoint.result_object, **pair[1], **pair[0]})


def pages_strategy(endpoint: uf.Endpoint, *, min_buckets: int = 0) -> st.SearchStrategy[list[dict]]:
    buckets = st.lists(st.lists(result_strategy(endpoint), max_size=4), min_size=min_buckets, max_size=9)

    def paginate(all_buckets: list[list[dict]], split: int) -> list[dict]:
        data = [conftest.bucket(T0 + i * 3600, T0 + (i + 1) * 3600, *rs) for i, rs in enumerate(all_buckets)]
        chunks = [data[i : i + split] for i in range(0, len(data), split)] or [[]]
        last = len(chunks) - 1
        return [conftest.page(*chunk, cursor=f"page_{n}" if n < last else None) for n, chunk in enumerate(chunks)]

    return st.builds(paginate, buckets, st.integers(1, 4))


def raw_values(pages: list[dict], field: Field) -> list:
    values = []
    for page in pages:
        for bucket in page["data"]:
            for result in bucket["results"]:
                value = result
                for key in field.json_path:
                    value = value.get(key) if isinstance(value, dict) else None
                values.append(value)
    return values


@pytest.mark.parametrize("endpoint", ENDPOINTS.values(), ids=lambda e: e.name)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_generated_pages__parse_into_the_contract_frame_losing_nothing(endpoint, data):
    pages = data.draw(pages_strategy(endpoint))
    from_bytes = data.draw(st.booleans())
    query = build_query(endpoint, "2026-10-01", "2026-10-02", group_by=list(endpoint.group_by), now=NOW)
    source = [decode_page(json.dumps(p).encode(), endpoint) for p in pages] if from_bytes else pages
    frame = to_frame(source, query)

    results = [r for p in pages for b in p["data"] for r in b["results"]]
    assert len(frame) == len(results)
    assert list(frame.columns) == ["end_time", *query.group_by, *(f.name for f in endpoint.fields)]
    assert str(frame.index.tz) == "UTC" and frame.index.is_monotonic_increasing
    for field in endpoint.fields:
        raw = raw_values(pages, field)
        column = frame[field.name]
        assert int(column.isna().sum()) == sum(v is None for v in raw), field.name
        present = [v for v in raw if v is not None]
        if field.dtype == "Int64":
            assert str(column.dtype) == "Int64"
            assert sum(int(v) for v in column.dropna().astype(object)) == sum(present)  # exact, no overflow
        elif field.dtype == "Float64":
            assert float(column.sum()) == pytest.approx(float(sum(Decimal(str(v)) for v in present)), rel=1e-9)
    for key in query.group_by:
        expected = [r.get(key) for r in results]
        assert [None if pd.isna(v) else v for v in frame[key].astype(object)] == expected
    # Totals per group and per bucket, as an analyst takes them, against Python ints and Decimal.
    additive = [f for f in endpoint.fields if f.dtype != "string"]
    if endpoint.group_by and additive:
        key, field = endpoint.group_by[0], additive[0]
        by_group: dict = {}
        for result, value in zip(results, raw_values(pages, field), strict=True):
            if value is not None:
                group = result.get(key)
                by_group[group] = by_group.get(group, 0) + (Decimal(str(value)) if field.dtype == "Float64" else value)
        grouped = frame.groupby(key, observed=True, dropna=False)[field.name].sum(min_count=1).dropna()
        got = {None if pd.isna(g) else g: v for g, v in grouped.items()}
        assert set(got) <= set(by_group) | {None}
        for group, total in by_group.items():
            if field.dtype == "Int64" and total > INT64_MAX:
                continue  # beyond what any int64 column can hold (9.2e18 tokens); each row was checked above
            if field.dtype == "Int64":
                assert int(got.get(group, 0)) == total, (key, group)
            else:
                assert float(got.get(group, 0)) == pytest.approx(float(total), rel=1e-9), (key, group)


@settings(max_examples=25, deadline=None)
@given(pages=pages_strategy(ENDPOINTS["completions"], min_buckets=1))
def test_generated_pages__served_by_the_fake_transport_parse_identically(pages):
    """The same pages through the client's pagination (a stub session) give the same frame as parsed directly."""
    import requests

    from usage_frames.fake import FakeAdapter, FakeAPI, Fault, Faults

    faults = Faults()
    faults.push(*(Fault(kind="replace", body=json.dumps(p).encode()) for p in pages))
    session = requests.Session()
    session.mount("https://api.openai.com/", FakeAdapter(FakeAPI(FakeOrganization(), faults=faults)))
    client = uf.Client("sk-admin-test", session=session, workers=1, now=NOW)
    hours = sum(len(p["data"]) for p in pages)  # the buckets tile the window, as the API's do
    query = build_query("completions", T0, T0 + hours * 3600, bucket_width="1h", now=NOW)
    fetched = to_frame(list(client.pages(query)), query)
    pd.testing.assert_frame_equal(fetched, to_frame(pages, query))
