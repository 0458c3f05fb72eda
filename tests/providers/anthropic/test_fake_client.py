"""The real core against the fake Anthropic organization: frames equal to the ground truth at every width, group key
and filter (nested cache writes and web searches flattened, amounts in dollars exactly cents / 100: the 100x trap),
paging, alignment, the open bucket, lists, errors and faults."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pandas as pd
import pytest
from conftest import NOW, Sleeps

import usage_frames as uf
from usage_frames._core.client import BaseClient
from usage_frames.fake import FakeAPI, FakeServer, Fault, Faults
from usage_frames.providers.anthropic.directory import api_keys, users, workspaces
from usage_frames.providers.anthropic.endpoints import ENDPOINTS
from usage_frames.providers.anthropic.fake import DEFAULT_KEY, DEFAULT_WORKSPACE_ID, FakeOrganization, client_arguments
from usage_frames.providers.anthropic.fake.streams import (
    BATCH,
    BEN,
    CI_ACCOUNT,
    DEFAULT_APP,
    HAIKU_45,
    NOTEBOOKS,
    OPUS_46,
    SONNET_45,
    SUPPORT,
    SUPPORT_PROD,
)
from usage_frames.providers.anthropic.provider import PROVIDER

FIELDS = [f.name for f in ENDPOINTS["messages"].fields]


@pytest.fixture(scope="module")
def org() -> FakeOrganization:
    return FakeOrganization(now=NOW)


def client_of(org: FakeOrganization, faults: Faults | None = None, **options: Any) -> BaseClient:
    """A client of the fake, built as a user builds one (its own session, a real cache), answered in-process."""
    client = BaseClient(DEFAULT_KEY, provider=PROVIDER, now=org.now, **options)
    org.mount(client.session, client.base_url, faults)
    return client


@pytest.fixture
def client(org: FakeOrganization, tmp_path: Any) -> BaseClient:
    return client_of(org, cache=tmp_path, sleep=Sleeps())


def totals(org: FakeOrganization, frame: pd.DataFrame, start: Any, end: Any, **where: Any) -> dict[str, int]:
    return {name: org.total("messages", name, start, end, **where) for name in FIELDS}


def sums(frame: pd.DataFrame) -> dict[str, int]:
    return {name: int(frame[name].sum()) for name in FIELDS}


@pytest.mark.parametrize(
    ("width", "start", "end"),
    [("1d", "2026-08-15", "2026-11-28 12:00"), ("1h", "2026-10-10", "2026-10-20 05:00"),
     ("1m", "2026-10-14 22:00", "2026-10-15 03:00")],
)  # fmt: skip
def test_messages__equal_the_ground_truth_at_every_width_and_group(org, client, width, start, end):
    keys = ["workspace_id", "api_key_id", "model", "service_tier", "context_window", "inference_geo"]
    frame = client.fetch("messages", start, end, bucket_width=width, group_by=keys)
    assert list(frame.columns) == ["end_time", *keys, *FIELDS]
    assert all(frame[name].dtype == "Int64" for name in FIELDS)
    assert sums(frame) == totals(org, frame, start, end)
    for (workspace, model), part in frame.groupby(["workspace_id", "model"], observed=True, dropna=False):
        where = {"workspace_id": None if pd.isna(workspace) else workspace, "model": model}
        assert sums(part) == totals(org, frame, start, end, **where)
    if width != "1m":
        grid = pd.date_range(start, end, freq=width.replace("1d", "D").replace("1h", "h"), tz="UTC", inclusive="left")
        assert set(frame.index) <= set(grid) and frame.index.is_monotonic_increasing


def test_messages__every_bucket_equals_the_ground_truth_of_its_span(org, client):
    frame = client.fetch("messages", "2026-10-12", "2026-10-15", bucket_width="1h")
    assert len(frame) == 72
    for start, row in frame.iloc[::7].iterrows():
        assert int(row["cache_creation_ephemeral_1h_input_tokens"]) == org.total(
            "messages", "cache_creation_ephemeral_1h_input_tokens", start, row["end_time"]
        )


@pytest.mark.parametrize(
    ("filters", "where"),
    [
        ({"models": HAIKU_45, "service_tiers": "batch"}, {"model": HAIKU_45, "service_tier": "batch"}),
        ({"workspace_ids": [SUPPORT, BATCH]}, {"workspace_id": [SUPPORT, BATCH]}),
        ({"api_key_ids": [SUPPORT_PROD, NOTEBOOKS]}, {"api_key_id": [SUPPORT_PROD, NOTEBOOKS]}),
        ({"context_window": "200k-1M"}, {"context_window": "200k-1M"}),
        ({"inference_geos": ["us", "global"]}, {"inference_geo": ["us", "global"]}),
        ({"account_ids": BEN}, {"account_id": BEN}),
        ({"service_account_ids": CI_ACCOUNT}, {"service_account_id": CI_ACCOUNT}),
    ],
)
def test_messages__filters_equal_the_ground_truth_of_their_streams(org, client, filters, where):
    frame = client.fetch("messages", "2026-10-01", "2026-10-15", **filters)
    assert sums(frame) == totals(org, frame, "2026-10-01", "2026-10-15", **where) and frame["output_tokens"].sum() > 0


def test_messages__default_workspace_and_keyless_usage_are_missing_keys(org, client):
    frame = client.fetch("messages", "2026-10-05", "2026-10-07", group_by=["workspace_id", "api_key_id", "account_id"])
    default = frame[frame["workspace_id"].isna()]
    assert sums(default) == totals(org, frame, "2026-10-05", "2026-10-07", workspace_id=None)
    oauth = frame[frame["account_id"] == BEN]
    assert oauth["api_key_id"].isna().all() and sums(oauth) == totals(org, frame, "2026-10-05", "2026-10-07",
                                                                        account_id=BEN)  # fmt: skip


def test_messages__nested_fields_are_flattened_not_zero(org, client):
    """langwatch #6977: a reader of a flat cache_creation_input_tokens saw no cache writes."""
    frame = client.fetch("messages", "2026-10-12", "2026-10-13")
    for name in ("cache_creation_ephemeral_5m_input_tokens", "cache_creation_ephemeral_1h_input_tokens",
                 "web_search_requests"):  # fmt: skip
        assert int(frame[name].sum()) == org.total("messages", name, "2026-10-12", "2026-10-13") > 0


def test_costs__are_dollars_exactly_the_cents_sent_divided_by_100(org, client):
    """The 100x trap (claude-code #51198): "123.45" is $1.2345."""
    frame = client.fetch("costs", "2026-10-01", "2026-10-08", group_by=["workspace_id", "description"])
    sent = org.respond("GET", ENDPOINTS["costs"].path, {"starting_at": ["2026-10-01T00:00:00Z"],
                       "ending_at": ["2026-10-02T00:00:00Z"], "group_by[]": ["description", "workspace_id"]},
                       {"x-api-key": DEFAULT_KEY, "anthropic-version": "2023-06-01"}).json()  # fmt: skip
    first = frame.loc["2026-10-01"]
    assert sorted(first["amount"]) == sorted(float(Decimal(r["amount"]) / 100) for r in sent["data"][0]["results"])
    for start, row in frame.iterrows():
        workspace = None if pd.isna(row["workspace_id"]) else row["workspace_id"]
        truth = org.total("costs", "amount", start, row["end_time"], workspace_id=workspace,
                          description=row["description"])  # fmt: skip
        assert row["amount"] == float(truth) and row["currency"] == "USD"
    assert frame["amount"].sum() == pytest.approx(float(org.total("costs", "amount", "2026-10-01", "2026-10-08")))


def test_costs__grouped_by_description_carry_what_each_line_bills(org, client):
    frame = client.fetch("costs", "2026-10-02", "2026-10-03", group_by="description")
    assert list(frame.columns) == ["end_time", "description", "cost_type", "model", "token_type", "service_tier",
                                   "context_window", "inference_geo", "amount", "currency"]  # fmt: skip
    lines = {item.description: item.fields() for _, item in org.cost_lines()}
    for row in frame.itertuples():
        shown = {k: None if pd.isna(getattr(row, k)) else getattr(row, k) for k in lines[row.description]}
        assert shown == lines[row.description]
    assert set(frame["cost_type"]) == {"tokens", "web_search", "code_execution"}
    plain = client.fetch("costs", "2026-10-02", "2026-10-03")
    assert list(plain.columns) == ["end_time", "amount", "currency"] and len(plain) == 1


def test_client__follows_next_page_and_sends_aligned_windows(org, tmp_path):
    faults = Faults()
    client = client_of(org, faults, cache=False)
    frame = client.fetch("messages", "2026-10-01 10:30", "2026-10-02 05:15", bucket_width="1h", limit=5)
    assert frame.index[0] == pd.Timestamp("2026-10-01 10:00", tz="UTC")
    assert frame["end_time"].max() == pd.Timestamp("2026-10-02 06:00", tz="UTC")
    assert sums(frame) == totals(org, frame, "2026-10-01 10:00", "2026-10-02 06:00")
    queries = [q for _, q in faults.requests]
    assert len(queries) == 4 and sum("page=" in q for q in queries) == 3  # 20 hours in pages of 5
    assert all("starting_at=2026-10-01T10%3A00%3A00Z" in q for q in queries)


@pytest.mark.parametrize("now", ["2026-11-28 12:00", "2026-11-28 12:34:56"])
@pytest.mark.parametrize("width", ["1d", "1h", "1m"])
def test_client__the_window_that_contains_now_ends_with_the_open_bucket_so_far(width, now):
    org = FakeOrganization(now=pd.Timestamp(now, tz="UTC"))
    client = BaseClient(provider=PROVIDER, **client_arguments(org, now=now))
    start = {"1d": "2026-11-20", "1h": "2026-11-27", "1m": "2026-11-28 09:00"}[width]
    frame = client.fetch("messages", start, bucket_width=width)
    assert sums(frame) == totals(org, frame, start, now) and frame["end_time"].max() >= pd.Timestamp(now, tz="UTC")


def test_client__a_window_before_the_organization_is_an_empty_frame_with_the_schema(org, client):
    frame = client.fetch("messages", "2025-03-01", "2025-03-08", group_by="model")
    assert frame.empty and list(frame.columns) == ["end_time", "model", *FIELDS]
    assert all(frame[name].dtype == "Int64" for name in FIELDS)
    costs = client.fetch("costs", "2025-03-01", "2025-03-08", group_by="description")
    assert costs.empty and costs["amount"].dtype == "Float64"


def test_client__lists_follow_last_id(org):
    small = FakeOrganization(now=NOW, list_page_size=2)
    faults = Faults()
    keys = client_of(small, faults, cache=False).list_objects("/v1/organizations/api_keys")
    assert [k["id"] for k in keys] == list(org.api_key_workspaces()) and len(faults.requests) == 3


def test_client__refused_keys_and_errors_say_what_to_do(org):
    with pytest.raises(uf.InvalidParameterError, match=r"not an admin key.*Admin"):
        BaseClient("sk-ant-api03-ordinary", provider=PROVIDER)
    client = BaseClient("sk-ant-oat01-not-admin", provider=PROVIDER, now=NOW, cache=False)
    org.mount(client.session, client.base_url)
    with pytest.raises(uf.AuthenticationError, match=r"invalid x-api-key.*Admin API key") as info:
        client.fetch("messages", "2026-10-01", "2026-10-02")
    assert info.value.request_id and info.value.request_id.startswith("req_011C")


@pytest.mark.parametrize("status", [529, 500, 429])
def test_client__overloaded_and_rate_limited_answers_are_retried_then_exact(org, status):
    faults, sleeps = Faults(), Sleeps()
    faults.push(Fault(status=status, headers={"retry-after": "2"}))
    frame = client_of(org, faults, cache=False, sleep=sleeps).fetch("messages", "2026-10-01", "2026-10-05")
    assert sleeps == [pytest.approx(2.0, abs=0.1)] and sums(frame) == totals(org, frame, "2026-10-01", "2026-10-05")


@pytest.mark.parametrize(("kind", "says"), [("skip", "skips"), ("shift", "another time window|starts late")])
def test_client__a_lost_or_moved_bucket_is_an_error_with_the_request_id(org, kind, says):
    faults = Faults()
    faults.push(Fault(kind=kind, bucket=2))
    with pytest.raises(uf.UnexpectedResponseError, match=says) as info:
        client_of(org, faults, cache=False).fetch("costs", "2026-10-01", "2026-10-06")
    assert info.value.request_id


def test_client__the_admin_key_is_never_stored_in_the_cache(org, tmp_path):
    secret = "sk-ant-admin01-" + "q" * 40
    client = BaseClient(secret, provider=PROVIDER, now=NOW, cache=tmp_path)
    org.mount(client.session, client.base_url)
    first = client.fetch("messages", "2026-10-01", "2026-10-03", group_by="model", models=[OPUS_46, SONNET_45])
    assert client.fetch("messages", "2026-10-01", "2026-10-03", group_by="model", models=[OPUS_46, SONNET_45]).equals(
        first
    )
    stored = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
    assert stored and secret.encode() not in stored


def test_directory__names_workspaces_keys_and_users_and_marks_the_default_workspace(org):
    client = client_of(FakeOrganization(now=NOW, list_page_size=2), cache=False)
    frame = workspaces(client)
    assert frame.loc[frame["default"], "id"].tolist() == [DEFAULT_WORKSPACE_ID]
    assert frame.set_index("id").loc[SUPPORT, "name"] == "Support agent" and not frame["archived_at"].notna().any()
    assert workspaces(client, include_archived=True)["archived_at"].notna().sum() == 1
    keys = api_keys(client).set_index("id")
    assert keys.loc[SUPPORT_PROD, "workspace_id"] == SUPPORT and pd.isna(keys.loc[DEFAULT_APP, "workspace_id"])
    assert users(client).set_index("id").loc[BEN, "email"] == "ben@example.com"


def test_client__costs_of_the_day_that_contains_now_are_the_costs_so_far():
    org = FakeOrganization(now=pd.Timestamp("2026-11-28 12:34:56", tz="UTC"))
    client = BaseClient(provider=PROVIDER, **client_arguments(org, now=org.now))
    frame = client.fetch("costs", "2026-11-25", group_by="workspace_id")
    today = frame.loc["2026-11-28"]
    assert today["end_time"].iloc[0] == pd.Timestamp("2026-11-29", tz="UTC")
    assert today["amount"].sum() == pytest.approx(float(org.total("costs", "amount", "2026-11-28", org.now)), rel=1e-12)


def test_client__older_answers_without_newer_fields_read_as_missing_not_zero():
    old = FakeOrganization(now=NOW, omit_fields=frozenset({"inference_geo", "server_tool_use", "cache_creation"}))
    frame = client_of(old, cache=False).fetch("messages", "2026-10-01", "2026-10-03", group_by="inference_geo")
    assert frame["inference_geo"].isna().all() and frame["web_search_requests"].isna().all()
    assert frame["cache_creation_ephemeral_5m_input_tokens"].isna().all()
    assert int(frame["output_tokens"].sum()) == old.total("messages", "output_tokens", "2026-10-01", "2026-10-03")


def test_client__over_real_http_the_fake_server_answers_the_same(org):
    with FakeServer(FakeAPI(org)) as server:
        assert server.url.startswith("http://127.0.0.1:") and not server.url.endswith("/v1")  # paths carry /v1
        client = BaseClient(DEFAULT_KEY, server.url, provider=PROVIDER, now=NOW, cache=False)
        frame = client.fetch("messages", "2026-10-01", "2026-10-04", bucket_width="1h", group_by="workspace_id")
    assert sums(frame) == totals(org, frame, "2026-10-01", "2026-10-04")
