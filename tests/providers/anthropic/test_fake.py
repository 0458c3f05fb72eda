"""The fake Anthropic organization's Admin API: answers that validate against the documented shapes, the API's rules
(auth, versions, 400s, the bucket grid, cursors, lists), and ground truth that is exact and realistic."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pandas as pd
import pytest
from conftest import NOW

from usage_frames.fake.traffic import SPIKE_DAY
from usage_frames.providers.anthropic.endpoints import ENDPOINTS
from usage_frames.providers.anthropic.fake import DEFAULT_WORKSPACE_ID, FakeOrganization, message
from usage_frames.providers.anthropic.fake.billing import MODEL_PRICES
from usage_frames.providers.anthropic.fake.streams import (
    BATCH,
    CI_ACCOUNT,
    HAIKU_45,
    NOTEBOOKS,
    RESEARCH,
    SEARCH_AGENT,
    SUPPORT,
)

SPEC = json.loads((Path(__file__).parent / "spec" / "admin-api-excerpt.json").read_text())
HEADERS = {"x-api-key": "sk-ant-admin01-test", "anthropic-version": "2023-06-01"}
USAGE, COSTS = ENDPOINTS["messages"].path, ENDPOINTS["costs"].path
FIELDS = [f.name for f in ENDPOINTS["messages"].fields]


def validator(name: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator({"$ref": f"#/components/schemas/{name}", "components": SPEC["components"]})


def get(org: FakeOrganization, path: str, headers: dict[str, str] | None = None, **query: Any) -> Any:
    """One GET; list values travel as ``name[]=value`` (the SDKs' arrays), other values as themselves."""
    params = {f"{k}[]" if isinstance(v, list) else k: v if isinstance(v, list) else [str(v)] for k, v in query.items()}
    return org.respond("GET", path, params, HEADERS if headers is None else headers)


def pages(org: FakeOrganization, path: str, **query: Any) -> list[dict[str, Any]]:
    """Every bucket of a query, following ``next_page``."""
    buckets, cursor = [], None
    while True:
        reply = get(org, path, **query, **({"page": cursor} if cursor else {}))
        assert reply.status == 200, reply.json()
        body = reply.json()
        buckets += body["data"]
        if not body["has_more"]:
            assert body["next_page"] is None
            return buckets
        cursor = body["next_page"]


def flat(result: dict[str, Any], name: str) -> int:
    """A result's count by its frame name (the nested ones by their path)."""
    value: Any = result
    for step in ENDPOINTS["messages"].field(name).json_path:
        value = value[step]
    return int(value)


@pytest.fixture(scope="module")
def org() -> FakeOrganization:
    return FakeOrganization(now=NOW)


@pytest.mark.parametrize(
    ("endpoint", "width"), [("messages", "1d"), ("messages", "1h"), ("messages", "1m"), ("costs", "1d")]
)
def test_answers__validate_against_the_documented_shapes(org, endpoint, width):
    ep = ENDPOINTS[endpoint]
    check = validator("CostReport" if ep.priced else "MessagesUsageReport")
    start = pd.Timestamp("2026-10-12 09:00" if width == "1m" else "2026-10-01", tz="UTC")
    for group_by in ([], list(ep.group_by), *([k] for k in ep.group_by)):
        body = get(org, ep.path, starting_at=f"{start:%Y-%m-%dT%H:%M:%SZ}", bucket_width=width, group_by=group_by,
                   limit=5).json()  # fmt: skip
        check.validate(body)
        assert body["has_more"] is True and body["next_page"]
        assert len(body["data"]) == 5 and any(b["results"] for b in body["data"])


def test_errors__are_anthropics_envelope_with_the_request_id_in_header_and_body(org):
    check = validator("ErrorResponse")
    api_key = {"anthropic-version": "2023-06-01", "x-api-key": "sk-ant-api03-ordinary"}
    cases = [
        (get(org, USAGE, headers={"anthropic-version": "2023-06-01"}), 401, "x-api-key header is required"),
        (get(org, USAGE, headers=api_key, starting_at="2026-10-01T00:00:00Z"), 401, "invalid x-api-key"),
        (get(org, USAGE, headers={"x-api-key": "sk-ant-admin01-x"}), 400, "anthropic-version: header is required"),
        (get(org, USAGE, headers={**HEADERS, "anthropic-version": "2024-01-01"}), 400, "is not a valid version"),
        (get(org, "/v1/organizations/usage_report/chat"), 404, "Not found"),
        (org.respond("POST", COSTS, {}, HEADERS), 405, "not allowed"),
        (get(org, COSTS), 400, "starting_at: Field required"),
    ]
    for reply, status, text in cases:
        body = reply.json()
        check.validate(body)
        assert reply.status == status and text in body["error"]["message"]
        assert body["error"]["type"] == {401: "authentication_error", 404: "not_found_error"}.get(
            status, "invalid_request_error"
        )
        assert reply.headers["request-id"] == body["request_id"] and body["request_id"].startswith("req_011C")
    ok = get(org, COSTS, starting_at="2026-10-01T00:00:00Z")
    assert ok.status == 200 and ok.headers["request-id"].startswith("req_")


def test_fake__error_of_a_scripted_fault_follows_the_status(org):
    for status, kind in ((529, "overloaded_error"), (429, "rate_limit_error"), (503, "api_error")):
        reply = org.error(status, "The server had an error", "server_error", {"retry-after": "1"})
        validator("ErrorResponse").validate(reply.json())
        assert reply.json()["error"]["type"] == kind and reply.headers["retry-after"] == "1"
    assert org.error(529, "The server had an error", "x", {}).json()["error"]["message"] == "Overloaded"


OCT1 = "2026-10-01T00:00:00Z"


@pytest.mark.parametrize(
    ("path", "query", "named"),
    [
        (USAGE, dict(starting_at="2026-10-01"), "starting_at"),
        (USAGE, dict(starting_at="2026-10-01T00:00:00"), "starting_at"),
        (USAGE, dict(starting_at="1790812800"), "starting_at"),
        (USAGE, dict(starting_at=OCT1, bucket_width="1w"), "bucket_width"),
        (COSTS, dict(starting_at=OCT1, bucket_width="1h"), "bucket_width"),
        (USAGE, dict(starting_at=OCT1, limit=32), "limit"),
        (USAGE, dict(starting_at=OCT1, bucket_width="1h", limit=169), "limit"),
        (USAGE, dict(starting_at=OCT1, bucket_width="1m", limit=1441), "limit"),
        (USAGE, dict(starting_at=OCT1, limit=0), "limit"),
        (USAGE, dict(starting_at=OCT1, limit="seven"), "limit"),
        (USAGE, dict(starting_at=OCT1, group_by=["project_id"]), "group_by"),
        (COSTS, dict(starting_at=OCT1, group_by=["model"]), "group_by"),
        (USAGE, dict(starting_at=OCT1, service_tiers=["gold"]), "service_tiers"),
        (USAGE, dict(starting_at=OCT1, context_window=["1M"]), "context_window"),
        (USAGE, dict(starting_at=OCT1, inference_geos=["eu"]), "inference_geos"),
        (USAGE, dict(starting_at=OCT1, ending_at=OCT1), "ending_at"),
        (USAGE, dict(starting_at=OCT1, ending_at="2026-09-30T00:00:00Z"), "ending_at"),
        (USAGE, dict(starting_at=OCT1, ending_at="2026-11-29T00:00:01Z"), "ending_at"),
        (USAGE, dict(starting_at="2026-11-29T00:00:00Z"), "ending_at"),
        (COSTS, dict(starting_at=OCT1, workspace_ids=[SUPPORT]), "workspace_ids"),
        (USAGE, dict(starting_at=OCT1, colour="blue"), "colour"),
        (USAGE, dict(starting_at=OCT1, page="page_bogus"), "page"),
    ],
)
def test_fake__refuses_what_the_api_refuses_naming_the_parameter(org, path, query, named):
    reply = get(org, path, **query)
    body = reply.json()
    assert reply.status == 400 and body["error"]["type"] == "invalid_request_error"
    assert body["error"]["message"].startswith(named), body


def test_fake__a_parameter_given_twice_is_refused(org):
    reply = org.respond("GET", USAGE, {"starting_at": [OCT1, OCT1]}, HEADERS)
    assert reply.status == 400 and "single value" in reply.json()["error"]["message"]


def test_fake__bracket_arrays_and_plain_repeated_names_are_the_same_query(org):
    query = {"starting_at": [OCT1], "ending_at": ["2026-10-03T00:00:00Z"]}
    brackets = org.respond("GET", USAGE, {**query, "group_by[]": ["model", "workspace_id"]}, HEADERS).json()
    plain = org.respond("GET", USAGE, {**query, "group_by": ["model", "workspace_id"]}, HEADERS).json()
    assert brackets == plain and {r["model"] for r in plain["data"][0]["results"]} >= {HAIKU_45}


def starts(buckets: list[dict[str, Any]]) -> list[str]:
    return [b["starting_at"] for b in buckets]


def test_buckets__start_at_or_after_starting_at_and_end_at_or_before_ending_at(org):
    hours = pages(org, USAGE, starting_at="2026-10-01T10:30:00Z", ending_at="2026-10-01T14:59:59Z", bucket_width="1h")
    assert starts(hours) == [f"2026-10-01T{h}:00:00Z" for h in (11, 12, 13)]
    assert hours[-1]["ending_at"] == "2026-10-01T14:00:00Z"
    # Anthropic's cookbook: an unaligned 7-day window gave 6 daily buckets; aligned, 7.
    unaligned = pages(org, COSTS, starting_at="2026-10-01T16:05:00.25Z", ending_at="2026-10-08T16:05:00Z")
    aligned = pages(org, COSTS, starting_at=OCT1, ending_at="2026-10-08T00:00:00Z")
    assert (len(unaligned), len(aligned)) == (6, 7) and unaligned[0]["starting_at"] == "2026-10-02T00:00:00Z"
    offset = pages(org, USAGE, starting_at="2026-10-01T02:00:00+02:00", ending_at="2026-10-02T00:00:00Z")
    assert starts(offset) == [OCT1]  # an offset is read as what it is: midnight UTC


def test_buckets__every_bucket_of_the_window_is_sent_idle_ones_with_empty_results(org):
    before = pages(org, USAGE, starting_at="2025-05-25T00:00:00Z", ending_at="2025-06-03T00:00:00Z")
    assert len(before) == 9 and [bool(b["results"]) for b in before] == [False] * 7 + [True] * 2
    notebook = pages(org, USAGE, starting_at="2026-09-01T00:00:00Z", ending_at="2026-10-01T00:00:00Z",
                     api_key_ids=[NOTEBOOKS])  # fmt: skip
    assert len(notebook) == 30 and 8 <= sum(not b["results"] for b in notebook) <= 25  # weekends and idle days


def test_open_bucket__holds_the_usage_so_far_and_ending_at_reaches_its_end():
    org = FakeOrganization(now=pd.Timestamp("2026-11-28 12:30", tz="UTC"))
    day = pages(org, USAGE, starting_at="2026-11-27T00:00:00Z", ending_at="2026-11-29T00:00:00Z")
    assert starts(day) == ["2026-11-27T00:00:00Z", "2026-11-28T00:00:00Z"]
    (today,) = day[1]["results"]
    assert flat(today, "output_tokens") == org.total("messages", "output_tokens", "2026-11-28", "2026-11-28 12:30")
    hour = pages(org, USAGE, starting_at="2026-11-28T11:00:00Z", bucket_width="1h")  # ending_at: the open bucket's end
    assert starts(hour) == ["2026-11-28T11:00:00Z", "2026-11-28T12:00:00Z"] and hour[-1]["ending_at"].startswith(
        "2026-11-28T13"
    )
    (half,) = hour[1]["results"]
    assert flat(half, "uncached_input_tokens") == org.total("messages", "uncached_input_tokens", "2026-11-28 12:00",
                                                            "2026-11-29")  # fmt: skip
    assert get(org, USAGE, starting_at="2026-11-28T11:00:00Z", bucket_width="1h",
               ending_at="2026-11-28T13:00:01Z").status == 400  # fmt: skip


def test_cursor__walks_every_bucket_once_and_is_bound_to_its_query(org):
    query = dict(starting_at=OCT1, ending_at="2026-10-11T00:00:00Z", limit=3, group_by=["model"])
    first = get(org, USAGE, **query).json()
    assert starts(pages(org, USAGE, **query)) == [f"2026-10-{d:02d}T00:00:00Z" for d in range(1, 11)]
    other = get(org, USAGE, **{**query, "group_by": ["workspace_id"]}, page=first["next_page"])
    assert other.status == 400 and other.json()["error"]["message"].startswith("page")


@pytest.mark.parametrize(
    ("width", "start", "end"),
    [
        ("1d", "2026-09-20", "2026-10-20"),
        ("1h", "2026-10-13", "2026-10-16"),
        ("1m", "2026-10-14 08:00", "2026-10-14 11:00"),
    ],
)
def test_usage_results__nest_cache_writes_and_web_searches_and_add_up_to_the_ground_truth(org, width, start, end):
    a, b = pd.Timestamp(start, tz="UTC"), pd.Timestamp(end, tz="UTC")
    buckets = pages(org, USAGE, starting_at=f"{a:%Y-%m-%dT%H:%M:%SZ}", ending_at=f"{b:%Y-%m-%dT%H:%M:%SZ}",
                    bucket_width=width, group_by=["api_key_id", "service_tier"], limit=7)  # fmt: skip
    for name in FIELDS:
        assert sum(flat(r, name) for b in buckets for r in b["results"]) == org.total("messages", name, a, b) > 0
    keyless = [r for bucket in buckets for r in bucket["results"] if r["api_key_id"] is None]
    assert keyless and sum(flat(r, "output_tokens") for r in keyless) == org.total(
        "messages", "output_tokens", a, b, api_key_id=None
    )


def test_usage__filters_keep_only_their_streams(org):
    window = dict(starting_at="2026-10-05T00:00:00Z", ending_at="2026-10-07T00:00:00Z", group_by=["inference_geo"])
    us = pages(org, USAGE, **window, inference_geos=["us"])
    assert {r["inference_geo"] for b in us for r in b["results"]} == {"us"}
    ci = pages(org, USAGE, **window, service_account_ids=[CI_ACCOUNT], service_tiers=["standard"])
    assert sum(flat(r, "output_tokens") for b in ci for r in b["results"]) == org.total(
        "messages", "output_tokens", "2026-10-05", "2026-10-07", service_account_id=CI_ACCOUNT
    )
    default = pages(org, USAGE, **window, workspace_ids=[DEFAULT_WORKSPACE_ID])  # the default by its real id
    assert sum(flat(r, "output_tokens") for b in default for r in b["results"]) == org.total(
        "messages", "output_tokens", "2026-10-05", "2026-10-07", workspace_id=None
    )


def test_costs__amounts_are_cents_as_decimal_strings_with_any_number_of_decimals(org):
    buckets = pages(org, COSTS, starting_at="2026-10-01T00:00:00Z", ending_at="2026-11-01T00:00:00Z",
                    group_by=["workspace_id", "description"], limit=31)  # fmt: skip
    amounts = [r["amount"] for b in buckets for r in b["results"]]
    decimals = {len(a.partition(".")[2]) for a in amounts}
    assert {0, 1, 2} <= decimals and max(decimals) >= 5  # "1500", "0.1", "123.78912" as in the reference
    assert not [a for a in amounts if "." in a and a.endswith(("0", "."))]
    assert sum(Decimal(a) for a in amounts) / 100 == org.total("costs", "amount", "2026-10-01", "2026-11-01")


def test_costs__description_fields_only_when_grouped_by_description(org):
    window = dict(starting_at="2026-10-02T00:00:00Z", ending_at="2026-10-03T00:00:00Z")
    plain = pages(org, COSTS, **window, group_by=["workspace_id"])[0]["results"]
    assert {r["workspace_id"] for r in plain} == {SUPPORT, RESEARCH, BATCH, None}
    assert all(r[k] is None for r in plain for k in ("description", "cost_type", "model", "token_type"))
    described = {r["description"]: r for r in pages(org, COSTS, **window, group_by=["description"])[0]["results"]}
    web, code = described["Web Search Usage"], described["Code Execution Usage"]
    assert (web["cost_type"], code["cost_type"]) == ("web_search", "code_execution")
    assert all(r[k] is None for r in (web, code) for k in ("model", "token_type", "service_tier", "context_window"))
    long = described["Claude Sonnet 4.5 Long Context Usage - 1h Cache Write Input Tokens"]
    assert (long["token_type"], long["context_window"], long["inference_geo"]) == (
        "cache_creation.ephemeral_1h_input_tokens",
        "200k-1M",
        "not_available",
    )
    us = described["Claude Opus 4.6 Usage - Input Tokens (US)"]
    assert (us["inference_geo"], us["service_tier"], us["cost_type"]) == ("us", "standard", "tokens")
    tiers = {r["service_tier"] for r in described.values()}
    assert tiers == {"standard", "batch", None}  # no priority: the cost report leaves it out


def test_costs__are_the_usage_at_the_price_table_so_a_join_recovers_the_prices(org):
    """Batch Haiku's uncached input tokens at half of $1 per million: exactly, in cents."""
    window = dict(starting_at="2026-10-02T00:00:00Z", ending_at="2026-10-03T00:00:00Z")
    (usage,) = pages(org, USAGE, **window, models=[HAIKU_45], service_tiers=["batch"])[0]["results"]
    costs = {r["description"]: r for r in pages(org, COSTS, **window, group_by=["description"])[0]["results"]}
    cents = Decimal(costs["Claude Haiku 4.5 Batch Usage - Input Tokens"]["amount"])
    per_million_usd = cents / 100 / usage["uncached_input_tokens"] * 10**6
    assert per_million_usd == MODEL_PRICES[HAIKU_45]["0-200k"].uncached / 2
    searches = org.total("messages", "web_search_requests", "2026-10-02", "2026-10-03")
    assert Decimal(costs["Web Search Usage"]["amount"]) == searches  # $10 per 1,000: a cent each


def test_costs__leave_out_the_priority_tier_and_bill_code_execution_only_there(org):
    priority = org.total("messages", "output_tokens", "2026-10-02", "2026-10-03", service_tier="priority")
    assert priority > 0 and not [i for s, i in org.cost_lines() if s.keys["service_tier"] == "priority"]
    assert org.total("costs", "amount", "2026-10-02", "2026-10-03", cost_type="code_execution") > 0
    assert "code" not in " ".join(FIELDS)


def test_ground_truth__is_additive_across_any_split(org):
    a, b, c = "2026-10-01", "2026-10-09 13:17:05", "2026-10-20"
    for endpoint, name in (("messages", "cache_creation_ephemeral_1h_input_tokens"), ("costs", "amount")):
        assert org.total(endpoint, name, a, c) == org.total(endpoint, name, a, b) + org.total(endpoint, name, b, c)


def daily(org: FakeOrganization, name: str, start: str, days: int, **where: Any) -> list[int]:
    return [
        org.total("messages", name, d, d + pd.Timedelta(days=1), **where)
        for d in pd.date_range(start, periods=days, freq="D", tz="UTC")
    ]


def test_ground_truth__weekdays_spike_day_idle_days_growth_and_nothing_before_the_start(org):
    week = daily(org, "uncached_input_tokens", "2026-09-07", 7, workspace_id=SUPPORT)
    assert min(week[:5]) > 2 * max(week[5:])
    spike = pd.Timestamp(SPIKE_DAY * 86400, unit="s", tz="UTC")
    around = daily(org, "web_search_requests", f"{spike - pd.Timedelta(days=3):%Y-%m-%d}", 7, api_key_id=SEARCH_AGENT)
    assert around[3] > 4 * max(around[:3] + around[4:])
    notebooks = daily(org, "output_tokens", "2026-09-01", 60, api_key_id=NOTEBOOKS)
    assert 10 < sum(v == 0 for v in notebooks) < 45
    assert org.total("messages", "output_tokens", "2026-07-01", "2026-08-01") > 1.3 * org.total(
        "messages", "output_tokens", "2025-07-01", "2025-08-01"
    )
    assert org.total("messages", "output_tokens", "2025-01-01", "2025-05-31") == 0
    assert org.total("messages", "output_tokens", "2026-11-28 12:00", "2026-12-01") == 0  # nothing after now


def test_ground_truth__refuses_a_key_it_does_not_have(org):
    with pytest.raises(ValueError, match="project_id"):
        org.total("messages", "output_tokens", "2026-10-01", "2026-10-02", project_id="p")
    with pytest.raises(ValueError, match="api_key_id"):
        org.total("costs", "amount", "2026-10-01", "2026-10-02", api_key_id="k")


def test_omit_fields__imitates_older_answers_that_still_validate():
    old = FakeOrganization(now=NOW, omit_fields=frozenset({"inference_geo", "account_id", "service_account_id"}))
    usage = get(old, USAGE, starting_at=OCT1, group_by=["model"]).json()
    costs = get(old, COSTS, starting_at=OCT1, group_by=["description"]).json()
    validator("MessagesUsageReport").validate(usage)
    validator("CostReport").validate(costs)
    result, cost = usage["data"][0]["results"][0], costs["data"][0]["results"][0]
    assert "inference_geo" not in result and "account_id" not in result and "inference_geo" not in cost
    assert "cache_creation" in result and "model" in result


def test_fake__results_encode_awkward_key_values_as_they_were_given():
    model = 'claude-"x" 100%d é\\'
    org = FakeOrganization(now=NOW, streams=(message("wrkspc_%s", None, model, 20, 900, 200),))
    (result,) = get(org, USAGE, starting_at=OCT1, ending_at="2026-10-02T00:00:00Z",
                    group_by=["model", "workspace_id"]).json()["data"][0]["results"]  # fmt: skip
    assert (result["model"], result["workspace_id"], result["api_key_id"]) == (model, "wrkspc_%s", None)
    assert [k for k in result if k in ENDPOINTS["messages"].group_by] == list(ENDPOINTS["messages"].group_by)
    assert (
        result["cache_creation"]["ephemeral_5m_input_tokens"]
        == org.total("messages", "cache_creation_ephemeral_5m_input_tokens", "2026-10-01", "2026-10-02")
        > 0
    )
