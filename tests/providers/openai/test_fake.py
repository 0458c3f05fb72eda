"""The fake organization: answers that validate against the spec, the API's rules, and realistic ground truth."""

from __future__ import annotations

import copy

import jsonschema
import numpy as np
import pandas as pd
import pytest
from conftest import SPEC

from usage_frames._core.query import to_utc
from usage_frames._core.schema import unix
from usage_frames.fake.traffic import SPIKE_DAY, interval_sums
from usage_frames.providers.openai.endpoints import ENDPOINTS
from usage_frames.providers.openai.fake import FakeOrganization

AUTH = {"Authorization": "Bearer sk-admin-test"}
OCT1 = unix(to_utc("2026-10-01"))


def schema_for(endpoint) -> dict:
    """UsageResponse from the vendored spec; decisions (SDK only) reuse the completions result schema."""
    components = copy.deepcopy(SPEC["components"])
    if endpoint.name == "decisions":
        result = components["schemas"]["UsageCompletionsResult"]
        result["properties"]["object"]["enum"] = [endpoint.result_object]
    return {"$ref": "#/components/schemas/UsageResponse", "components": components}


def get(org, endpoint, **query):
    params = {k: v if isinstance(v, list) else [str(v)] for k, v in query.items()}
    return org.respond("GET", ENDPOINTS[endpoint].path, params, AUTH)


@pytest.mark.parametrize(
    ("endpoint", "width"),
    [(e, w) for e in ENDPOINTS.values() for w in e.bucket_widths if w != "1m"],
    ids=lambda v: getattr(v, "name", v),
)
def test_fake_answers__validate_against_the_spec_schema(org, endpoint, width):
    validator = jsonschema.Draft202012Validator(schema_for(endpoint))
    # Costs refuse user_id together with project_id (SDK 3.57); group by each of them with the other keys.
    keysets = [[k for k in endpoint.group_by if k != drop] for drop in ("user_id", "project_id")]
    for group_by in ([], *keysets):
        reply = get(
            org,
            endpoint.name,
            start_time=OCT1 + 12 * 3600 + 17,
            end_time=OCT1 + 20 * 86400,
            bucket_width=width,
            group_by=group_by,
            limit=5,
        )
        assert reply.status == 200
        body = reply.json()
        validator.validate(body)
        assert body["has_more"] is True and body["next_page"]
        assert any(b["results"] for b in body["data"])


def test_errors__use_the_openai_envelope_and_validate(org):
    validator = jsonschema.Draft202012Validator(
        {"$ref": "#/components/schemas/ErrorResponse", "components": SPEC["components"]}
    )
    replies = [
        org.respond("GET", "/organization/costs", {"start_time": ["1"]}, {}),
        get(org, "costs", start_time=OCT1, bucket_width="1h"),
        get(org, "completions"),
    ]
    assert [r.status for r in replies] == [401, 400, 400]
    for reply in replies:
        validator.validate(reply.json())
        assert reply.headers["x-request-id"].startswith("req_")


@pytest.mark.parametrize(
    ("query", "param"),
    [
        (dict(), "start_time"),
        (dict(start_time="yesterday"), "start_time"),
        (dict(start_time=OCT1, bucket_width="1w"), "bucket_width"),
        (dict(start_time=OCT1, limit=32), "limit"),
        (dict(start_time=OCT1, group_by=["project_id,model"]), "group_by"),
        (dict(start_time=OCT1, group_by=["line_item"]), "group_by"),
        (dict(start_time=OCT1, colour="blue"), "colour"),
        (dict(start_time=OCT1, end_time=OCT1 - 1), "end_time"),
        (dict(start_time=OCT1, end_time=2 * 10**9), "end_time"),
        (dict(start_time=OCT1, page="page_bogus"), "page"),
        (dict(start_time=OCT1, batch="maybe"), "batch"),
    ],
)
def test_fake__refuses_what_the_api_refuses(org, query, param):
    reply = get(org, "completions", **query)
    assert reply.status == 400
    assert reply.json()["error"]["param"] == param


def test_fake__project_key_gets_missing_scopes(org):
    reply = org.respond("GET", "/organization/costs", {"start_time": ["1"]}, {"Authorization": "Bearer sk-proj-x"})
    assert reply.status == 401
    assert "api.usage.read" in reply.json()["error"]["message"]


def test_fake__accepts_bracket_arrays_like_the_sdk(org):
    plain = get(org, "completions", start_time=OCT1, end_time=OCT1 + 86400, group_by=["model"]).json()
    brackets = org.respond(
        "GET",
        "/organization/usage/completions",
        {"start_time": [str(OCT1)], "end_time": [str(OCT1 + 86400)], "group_by[]": ["model"]},
        AUTH,
    ).json()
    assert plain == brackets


def test_fake__pre_encoded_results_are_the_json_of_their_fields_even_for_awkward_key_values():
    """The fake encodes usage results from a ``%d`` template per group: quotes, ``%`` and non-ASCII in a key value
    must come back as they went in, with every field and group key of the table, in order."""
    from usage_frames.providers.openai.fake.streams import completion as _completion

    model = 'gpt-"4o" 100%d é\\'
    org = FakeOrganization(streams=(_completion("proj_%s", "user-1", "key_1", model, 20, 900, 200),))
    body = get(org, "completions", start_time=OCT1, end_time=OCT1 + 86400, group_by=["model", "project_id"]).json()
    (result,) = body["data"][0]["results"]
    endpoint = ENDPOINTS["completions"]
    assert list(result) == [f.name for f in endpoint.fields] + ["object", *endpoint.group_by]
    assert (result["model"], result["project_id"], result["user_id"]) == (model, "proj_%s", None)
    assert result["input_tokens"] == org.total("completions", "input_tokens", OCT1, OCT1 + 86400) > 0


def test_fake__first_usage_bucket_starts_at_the_unaligned_start_and_costs_buckets_are_whole_days(org):
    usage = get(org, "completions", start_time=OCT1 + 5000, end_time=OCT1 + 2 * 86400).json()["data"]
    assert [(b["start_time"] - OCT1, b["end_time"] - OCT1) for b in usage] == [(5000, 86400), (86400, 172800)]
    costs = get(org, "costs", start_time=OCT1 + 5000, end_time=OCT1 + 86400 + 10).json()["data"]
    assert [(b["start_time"] - OCT1, b["end_time"] - OCT1) for b in costs] == [(0, 86400), (86400, 172800)]


def test_fake__cursor_walks_every_bucket_once(org):
    starts, page = [], None
    for _ in range(10):
        query = dict(start_time=OCT1, end_time=OCT1 + 10 * 86400, limit=3)
        if page:
            query["page"] = page
        body = get(org, "embeddings", **query).json()
        starts += [b["start_time"] for b in body["data"]]
        if not body["has_more"]:
            break
        page = body["next_page"]
    assert starts == [OCT1 + i * 86400 for i in range(10)]


def test_interval_sums__any_split_adds_up_to_the_whole():
    values = np.arange(1, 49, dtype=np.int64) * 37
    cuts = np.array([0, 17, 3600, 3601, 50000, 86399, 90000, 172800], dtype=np.int64)
    whole = interval_sums(values, 0, np.array([0, 172800]))
    assert interval_sums(values, 0, cuts).sum() == whole[0] == values.sum()


def daily(org, endpoint, field, start, days, **where):
    return [
        org.total(endpoint, field, d, d + pd.Timedelta(days=1), **where)
        for d in pd.date_range(start, periods=days, freq="D", tz="UTC")
    ]


def test_ground_truth__weekdays_busier_than_weekends(org):
    values = daily(org, "completions", "num_model_requests", "2026-09-07", 7, project_id="proj_chat")
    assert min(values[:5]) > 2 * max(values[5:])


def test_ground_truth__spike_day_and_idle_days(org):
    spike = pd.Timestamp(SPIKE_DAY * 86400, unit="s", tz="UTC")
    around = daily(org, "embeddings", "input_tokens", spike - pd.Timedelta(days=3), 7, project_id="proj_search")
    assert around[3] > 4 * max(around[:3] + around[4:])
    lab = daily(org, "completions", "num_model_requests", "2026-09-01", 60, project_id="proj_lab")
    assert 10 < sum(v == 0 for v in lab) < 45


def test_ground_truth__grows_over_time(org):
    early = org.total("completions", "input_tokens", "2025-07-01", "2025-08-01")
    late = org.total("completions", "input_tokens", "2026-07-01", "2026-08-01")
    assert late > 1.3 * early


def test_fake__nothing_before_the_organization_existed(org):
    assert org.total("completions", "input_tokens", "2025-01-01", "2025-05-31") == 0


def test_fake__amount_as_string_and_omitted_fields_imitate_old_answers():
    org = FakeOrganization(amount_as_string=True, omit_fields=frozenset({"service_tier", "input_text_tokens"}))
    costs = get(org, "costs", start_time=OCT1, end_time=OCT1 + 86400).json()
    assert isinstance(costs["data"][0]["results"][0]["amount"]["value"], str)
    usage = get(org, "completions", start_time=OCT1, end_time=OCT1 + 86400).json()
    result = usage["data"][0]["results"][0]
    assert "service_tier" not in result and "input_text_tokens" not in result and "input_tokens" in result
