"""Pages to frames: the official examples of every endpoint, the contract's schema, drift and bad pages."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from conftest import MIDNIGHT as NOW
from conftest import SPEC, bucket, build_query, page

import usage_frames as uf
from usage_frames._core.frames import empty_frame, to_frame
from usage_frames._core.paging import check_page
from usage_frames.providers import DEFAULT
from usage_frames.providers.openai.endpoints import ENDPOINTS

SPEC_ENDPOINTS = [e for e in ENDPOINTS.values() if e.source == "spec"]


def spec_example(endpoint: uf.Endpoint) -> dict:
    return json.loads(SPEC["paths"][endpoint.path]["get"]["x-oaiMeta"]["examples"]["response"])


def result_example(endpoint: uf.Endpoint) -> dict:
    for schema in SPEC["components"]["schemas"].values():
        if endpoint.result_object in schema.get("properties", {}).get("object", {}).get("enum", []):
            return json.loads(schema["x-oaiMeta"]["example"])
    raise AssertionError(endpoint.name)


def page_of(*results: dict, start: int = 1730419200, width: int = 86400) -> dict:
    return page(bucket(start, start + width, *results))


def query(endpoint: str, **kwargs):
    return build_query(endpoint, "2024-11-01", "2024-11-02", now=NOW, **kwargs)


def assert_contract_schema(frame: pd.DataFrame, endpoint: uf.Endpoint, group_by: tuple[str, ...]) -> None:
    assert isinstance(frame.index, pd.DatetimeIndex)
    assert frame.index.name == "start_time"
    assert str(frame.index.tz) == "UTC"
    assert str(frame["end_time"].dt.tz) == "UTC"
    assert list(frame.columns) == ["end_time", *group_by, *(f.name for f in endpoint.fields)]
    for key in group_by:
        assert str(frame[key].dtype) == ("boolean" if key == "batch" else "category")
    for f in endpoint.fields:
        assert str(frame[f.name].dtype) == f.dtype, f.name  # counts Int64, never narrower


@pytest.mark.parametrize("endpoint", SPEC_ENDPOINTS, ids=lambda e: e.name)
def test_official_example_page__parses_into_the_contract_frame(endpoint):
    page = spec_example(endpoint)
    frame = to_frame([page], query(endpoint.name))
    results = [r for b in page["data"] for r in b["results"]]
    assert len(frame) == len(results)
    assert_contract_schema(frame, endpoint, ())
    assert frame.index[0] == pd.Timestamp(page["data"][0]["start_time"], unit="s", tz="UTC")
    for f in endpoint.fields:
        raw = [_dig(r, f.json_path) for r in results]
        assert [None if pd.isna(v) else v for v in frame[f.name]] == raw, f.name
    assert frame.attrs["endpoint"] == endpoint.name


def _dig(result, path):
    for key in path:
        result = result.get(key) if isinstance(result, dict) else None
    return result


@pytest.mark.parametrize("endpoint", SPEC_ENDPOINTS, ids=lambda e: e.name)
def test_official_result_example__keeps_its_group_keys(endpoint):
    example = result_example(endpoint)
    keys = tuple(k for k in endpoint.group_by if k in example)
    frame = to_frame([page_of(example)], query(endpoint.name, group_by=list(keys)))
    assert_contract_schema(frame, endpoint, keys)
    for key in keys:
        assert frame[key].iloc[0] == example[key]


@pytest.mark.parametrize("endpoint", ENDPOINTS.values(), ids=lambda e: e.name)
def test_empty_answer__has_the_same_columns_and_dtypes(endpoint, org):
    keys = endpoint.group_by
    empty = empty_frame(query(endpoint.name, group_by=list(keys)))
    assert len(empty) == 0
    assert_contract_schema(empty, endpoint, keys)
    empty_bucket = to_frame([page_of()], query(endpoint.name, group_by=list(keys)))
    assert len(empty_bucket) == 0
    assert_contract_schema(empty_bucket, endpoint, keys)


def test_older_api_version__absent_fields_are_na_not_zero():
    # Real January-2025 output: no service_tier and none of the 2026 token breakdown fields.
    old = {
        "object": "organization.usage.completions.result",
        "input_tokens": 100,
        "output_tokens": 20,
        "input_cached_tokens": 0,
        "num_model_requests": 3,
        "project_id": None,
        "user_id": None,
        "api_key_id": None,
        "model": "gpt-4o-mini-2024-07-18",
        "batch": None,
    }
    frame = to_frame([page_of(old)], query("completions", group_by=["model", "service_tier"]))
    row = frame.iloc[0]
    assert row["input_tokens"] == 100 and row["input_cached_tokens"] == 0
    assert pd.isna(row["input_uncached_tokens"]) and pd.isna(row["input_cache_write_tokens"])
    assert pd.isna(row["service_tier"])
    assert frame["input_text_tokens"].isna().all()


def test_costs_amount__strings_are_coerced_to_float_and_currency_is_kept():
    results = [
        {"object": "organization.costs.result", "amount": {"value": "12.50", "currency": "usd"}, "line_item": "x"},
        {"object": "organization.costs.result", "amount": {"value": 0.06, "currency": "usd"}, "line_item": "y"},
        {"object": "organization.costs.result", "line_item": "z"},
    ]
    frame = to_frame([page_of(*results)], query("costs", group_by="line_item"))
    assert frame["amount"].tolist()[:2] == [12.5, 0.06]
    assert pd.isna(frame["amount"].iloc[2])
    assert frame["currency"].tolist()[:2] == ["usd", "usd"]


def test_costs_amount__unreadable_value_is_an_error_naming_field_and_value():
    result = {"object": "organization.costs.result", "amount": {"value": "n/a", "currency": "usd"}}
    with pytest.raises(uf.UnexpectedResponseError, match=re.escape("'amount.value' holds 'n/a', not a number")):
        to_frame([page_of(result)], query("costs"))


def test_unknown_fields__are_ignored():
    result = {
        "object": "organization.costs.result",
        "amount": {"value": 1.0, "currency": "usd"},
        "organization_id": "org-1",
        "organization_name": "Acme",
        "new_metric": 5,
    }
    frame = to_frame([page_of(result)], query("costs"))
    assert list(frame.columns) == ["end_time", "amount", "currency", "quantity", "quantity_unit"]


def test_int64_edge__large_counts_survive_exactly():
    big = 2**63 - 1
    result = {"object": "organization.usage.embeddings.result", "input_tokens": big, "num_model_requests": 1}
    frame = to_frame([page_of(result)], query("embeddings"))
    assert int(frame["input_tokens"].iloc[0]) == big


def test_batch_key__is_nullable_boolean():
    results = [
        {
            "object": "organization.usage.completions.result",
            "input_tokens": 1,
            "output_tokens": 1,
            "num_model_requests": 1,
            "batch": flag,
        }
        for flag in (True, False, None)
    ]
    frame = to_frame([page_of(*results)], query("completions", group_by="batch"))
    assert frame["batch"].tolist()[:2] == [True, False]
    assert pd.isna(frame["batch"].iloc[2])


def test_many_pages__concatenate_in_order():
    pages = [
        page_of({"object": "organization.usage.vector_stores.result", "usage_bytes": i}, start=1730419200 + i * 86400)
        for i in range(5)
    ]
    frame = to_frame(pages, query("vector_stores"))
    assert frame["usage_bytes"].tolist() == [0, 1, 2, 3, 4]
    assert frame.index.is_monotonic_increasing


BAD_PAGES = [
    ("not an object", [], "not a page"),
    ("error envelope", {"error": {"message": "x"}}, "no 'data' list"),
    ("has_more missing", {"object": "page", "data": []}, "'has_more'"),
    ("bucket without times", {"object": "page", "has_more": False, "data": [{"results": []}]}, "lacks integer"),
    (
        "bucket ends before start",
        {"object": "page", "has_more": False, "data": [{"start_time": 10, "end_time": 5, "results": []}]},
        "ends before",
    ),
    (
        "buckets out of order",
        {
            "object": "page",
            "has_more": False,
            "data": [
                {"start_time": 100, "end_time": 200, "results": []},
                {"start_time": 0, "end_time": 100, "results": []},
            ],
        },
        "out of order",
    ),
    (
        "buckets overlap",
        {
            "object": "page",
            "has_more": False,
            "data": [
                {"start_time": 0, "end_time": 200, "results": []},
                {"start_time": 100, "end_time": 300, "results": []},
            ],
        },
        "overlap",
    ),
    ("another endpoint's results", page_of({"object": "organization.costs.result"}), "costs results, not completions"),
]


@pytest.mark.parametrize(("case", "page", "message"), BAD_PAGES, ids=[r[0] for r in BAD_PAGES])
def test_check_page__refuses_unusable_pages(case, page, message):
    with pytest.raises(uf.UnexpectedResponseError, match=message):
        check_page(page, ENDPOINTS["completions"], objects=DEFAULT.result_objects)


def test_check_page__unknown_result_types_are_read_leniently():
    page = page_of({"object": "organization.usage.something_new.result", "input_tokens": 3})
    assert check_page(page, ENDPOINTS["completions"]) == 1730419200 + 86400


def test_check_page__a_page_starting_before_the_previous_end_is_refused():
    with pytest.raises(uf.UnexpectedResponseError, match="out of order or overlap"):
        check_page(page_of(start=1730419200), ENDPOINTS["completions"], after=1730419200 + 3600)


def test_float_fields__absent_values_are_na_not_nan():
    # np.fromiter reads None as NaN; the fast path must still report <NA> (JSON has no NaN).
    results = [
        {"object": "organization.costs.result", "amount": {"value": 1.5, "currency": "usd"}, "quantity": q}
        for q in (2.0, None, 7)
    ]
    frame = to_frame([page_of(*results)], query("costs"))
    assert frame["quantity"].isna().tolist() == [False, True, False]
    assert frame["quantity"].sum() == 9.0


def test_decode_page__clean_bytes_take_the_strict_fast_path_and_odd_ones_still_parse():
    from usage_frames._core.pages import decode_page, page_types

    strict, lenient = page_types(ENDPOINTS["embeddings"])
    clean = json.dumps(
        page_of({"object": "organization.usage.embeddings.result", "input_tokens": 5, "num_model_requests": 1})
    ).encode()
    odd = json.dumps(
        page_of({"object": "organization.usage.embeddings.result", "input_tokens": 5.0, "num_model_requests": "1"})
    ).encode()
    assert type(decode_page(clean, ENDPOINTS["embeddings"])) is strict
    page = decode_page(odd, ENDPOINTS["embeddings"])
    assert type(page) is lenient
    frame = to_frame([page], query("embeddings"))
    assert frame["input_tokens"].tolist() == [5] and frame["num_model_requests"].tolist() == [1]


def test_integers__int64_always_so_products_do_not_wrap():
    def frame_of(*tokens):
        results = [
            {"object": "organization.usage.embeddings.result", "input_tokens": t, "num_model_requests": 1}
            for t in tokens
        ]
        return to_frame([page_of(*results)], query("embeddings"))

    small = frame_of(2**30 - 1, 7, None)
    assert str(small["input_tokens"].dtype) == "Int64"
    # Int32 wrapped here: (2**30 - 1) * 1000 is negative in 32 bits.
    assert [int(v) for v in (small["input_tokens"] * 1000).dropna()] == [(2**30 - 1) * 1000, 7000]
    assert int((small["input_tokens"] ** 2).max()) == (2**30 - 1) ** 2
    assert int(small["input_tokens"].max() * 1000) == (2**30 - 1) * 1000
    big = frame_of(2**61, None, 2**61)
    assert big["input_tokens"].isna().tolist() == [False, True, False]
    assert int(big["input_tokens"].sum()) == 2**62


def test_counts__arithmetic_on_a_fetched_frame_never_wraps(client):
    # The reproduction: on the fake, 14 of 23 rows of input_tokens * 1000 came out negative in Int32.
    frame = client.completions("2026-10-01", "2026-10-24", group_by="model")
    tokens = [int(v) for v in frame["input_tokens"]]
    assert [int(v) for v in frame["input_tokens"] * 1000] == [t * 1000 for t in tokens]
    assert int(frame["input_tokens"].dot(frame["output_tokens"])) == sum(
        t * int(o) for t, o in zip(tokens, frame["output_tokens"], strict=True)
    )
    assert int(frame["input_tokens"].max() * 1000) == max(tokens) * 1000


def test_decode_page__absent_and_null_counts_stay_on_the_strict_path_and_read_as_na():
    from usage_frames._core.pages import decode_page, page_types

    result = {"object": "organization.usage.completions.result", "input_tokens": 7, "num_model_requests": 2}
    older = {k: v for k, v in result.items() if k != "num_model_requests"}  # an older answer leaves a field out
    body = json.dumps(page_of(result, older, {**result, "output_tokens": None, "input_tokens": 3})).encode()
    page = decode_page(body, ENDPOINTS["completions"])
    assert type(page) is page_types(ENDPOINTS["completions"])[0]
    frame = to_frame([page], query("completions"))
    assert frame["input_tokens"].tolist() == [7, 7, 3]
    assert frame["num_model_requests"].isna().tolist() == [False, True, False]
    assert frame["output_tokens"].isna().all()  # absent everywhere, null in the last result
    assert frame["input_audio_tokens"].isna().all() and str(frame["input_audio_tokens"].dtype) == "Int64"


def test_decode_page__the_absent_sentinel_sent_as_a_value_is_refused_not_read_as_na():
    from usage_frames._core.pages import ABSENT, decode_page, page_types

    result = {"object": "organization.usage.embeddings.result", "input_tokens": ABSENT, "num_model_requests": 1}
    page = decode_page(json.dumps(page_of(result)).encode(), ENDPOINTS["embeddings"])
    assert type(page) is page_types(ENDPOINTS["embeddings"])[1]  # strict decoding refuses the sentinel: careful path
    with pytest.raises(uf.UnexpectedResponseError, match=re.escape(f"'input_tokens' holds {-(2**63)}, a negative")):
        to_frame([page], query("embeddings"))


def test_to_frame__group_keys_are_categoricals_with_sorted_categories_as_pandas_makes_them():
    models = ["gpt-b", None, "gpt-a", "gpt-b", "gpt-c"]
    results = [
        {"object": "organization.usage.completions.result", "input_tokens": 1, "model": m, "project_id": "p"}
        for m in models
    ]
    q = build_query("completions", "2024-11-01", "2024-11-02", group_by=["model", "project_id"], now=NOW)
    frame = to_frame([json.loads(json.dumps(page_of(*results)))], q)
    expected = pd.Categorical(models)
    assert list(frame["model"].cat.categories) == list(expected.categories) == ["gpt-a", "gpt-b", "gpt-c"]
    assert frame["model"].astype(object).where(frame["model"].notna(), None).tolist() == models
    empty = to_frame([], q)["model"]
    assert empty.dtype == "category" and len(empty.cat.categories) == 0


def test_assemble__columns_of_windows_join_to_the_frame_of_all_their_pages():
    from usage_frames._core.frames import assemble, columns_of

    def result(model, tokens):
        return {"object": "organization.usage.completions.result", "input_tokens": tokens, "model": model}

    day = 86400
    windows = [
        [page_of(result("gpt-b", 1), result(None, 2), start=1730419200)],
        [page_of(start=1730419200 + day)],  # a window with an empty bucket only
        [
            page_of(result("gpt-a", 3), start=1730419200 + 2 * day),
            page_of(result("gpt-c", 4), start=1730419200 + 3 * day),
        ],
    ]
    q = build_query("completions", "2024-11-01", "2024-11-05", group_by=["model"], now=NOW)
    joined = assemble([columns_of(pages, q) for pages in windows], q)
    whole = to_frame([page for pages in windows for page in pages], q)
    pd.testing.assert_frame_equal(joined, whole)
    assert joined["model"].cat.categories.tolist() == ["gpt-a", "gpt-b", "gpt-c"]
    assert joined["input_tokens"].tolist() == [1, 2, 3, 4] and joined.attrs == whole.attrs
    assert str(joined.index.dtype) == str(whole.index.dtype) and str(joined.index.tz) == "UTC"
