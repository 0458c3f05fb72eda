"""The fake Anthropic organization's list endpoints (workspaces, API keys, users): the SDK's object shapes, id-cursor
paging (``after_id``, ``before_id``, ``limit`` up to 1000, ``first_id``/``last_id``/``has_more``), their filters, and
the default workspace that is ``null`` in report rows but has a real id in lists and key scopes."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import NOW

from usage_frames.providers.anthropic.fake import DEFAULT_WORKSPACE_ID, FakeOrganization
from usage_frames.providers.anthropic.fake.streams import ARCHIVED, BATCH, CHEN, SUPPORT

from .test_fake import COSTS, get, pages, validator

WORKSPACES, KEYS, USERS = (f"/v1/organizations/{name}" for name in ("workspaces", "api_keys", "users"))
SCHEMAS = {WORKSPACES: "Workspace", KEYS: "APIKey", USERS: "OrganizationUser"}


@pytest.fixture(scope="module")
def org() -> FakeOrganization:
    return FakeOrganization(now=NOW)


def walk(org: FakeOrganization, path: str, **query: Any) -> tuple[list[dict[str, Any]], int]:
    """Every object of a list, following ``last_id``; also how many pages it took."""
    found: list[dict[str, Any]] = []
    after, count = None, 0
    while True:
        reply = get(org, path, **query, **({"after_id": after} if after else {}))
        body = reply.json()
        assert reply.status == 200, body
        validator("ListPage").validate(body)
        for obj in body["data"]:
            validator(SCHEMAS[path]).validate(obj)
        assert (body["first_id"], body["last_id"]) == (
            (body["data"][0]["id"], body["data"][-1]["id"]) if body["data"] else (None, None)
        )
        found += body["data"]
        count += 1
        if not body["has_more"]:
            return found, count
        after = body["last_id"]


@pytest.mark.parametrize("path", [WORKSPACES, KEYS, USERS])
def test_lists__page_by_after_id_and_validate_against_the_sdk_shapes(path):
    small = FakeOrganization(now=NOW, list_page_size=2)
    whole, one = walk(FakeOrganization(now=NOW), path)
    paged, count = walk(small, path)
    assert paged == whole and one == 1 and count == -(-len(whole) // 2) > 1
    assert [o["id"] for o in walk(small, path, limit=1)[0]] == [o["id"] for o in whole]


def test_lists__before_id_pages_backwards(org):
    ids = [k["id"] for k in walk(org, KEYS)[0]]
    body = get(org, KEYS, before_id=ids[4], limit=2).json()
    assert [k["id"] for k in body["data"]] == ids[2:4] and body["has_more"] is True
    assert get(org, KEYS, before_id=ids[1], limit=5).json()["has_more"] is False


def test_workspaces__leave_out_the_default_and_the_archived_unless_asked(org):
    names = {w["id"]: w["name"] for w in walk(org, WORKSPACES)[0]}
    assert DEFAULT_WORKSPACE_ID not in names and ARCHIVED not in names and SUPPORT in names
    everything = {w["id"]: w for w in walk(org, WORKSPACES, include_default="true", include_archived="true")[0]}
    assert everything[DEFAULT_WORKSPACE_ID]["name"] == "Default Workspace"
    assert everything[ARCHIVED]["archived_at"] and everything[SUPPORT]["archived_at"] is None


def test_default_workspace__is_null_in_rows_but_real_in_key_scopes(org):
    keys = {k["name"]: k for k in walk(org, KEYS)[0]}
    legacy = keys["legacy-app"]
    assert legacy["workspace_id"] is None and legacy["scope"] == {
        "type": "workspace",
        "workspace_id": DEFAULT_WORKSPACE_ID,
    }
    costs = pages(org, COSTS, starting_at="2026-10-02T00:00:00Z", ending_at="2026-10-03T00:00:00Z",
                  group_by=["workspace_id"])  # fmt: skip
    assert None in {r["workspace_id"] for r in costs[0]["results"]}
    assert DEFAULT_WORKSPACE_ID not in {r["workspace_id"] for r in costs[0]["results"]}


def test_lists__filter_as_the_api_does(org):
    assert {k["scope"]["workspace_id"] for k in walk(org, KEYS, workspace_id=BATCH)[0]} == {BATCH}
    assert walk(org, KEYS, status="archived")[0] == []
    assert {k["created_by"]["id"] for k in walk(org, KEYS, created_by_user_id=CHEN)[0]} == {CHEN}
    assert [u["role"] for u in walk(org, USERS, roles=["admin"])[0]] == ["admin"]
    assert [u["name"] for u in walk(org, USERS, email="chen@example.com")[0]] == ["Chen Li"]


def test_lists__one_object_by_its_id(org):
    reply = get(org, f"{WORKSPACES}/{DEFAULT_WORKSPACE_ID}")
    assert reply.status == 200 and reply.json()["name"] == "Default Workspace"
    missing = get(org, f"{KEYS}/apikey_missing")
    assert missing.status == 404 and missing.json()["error"]["type"] == "not_found_error"


@pytest.mark.parametrize(
    ("path", "query", "named"),
    [
        (KEYS, dict(limit=1001), "limit"),
        (KEYS, dict(limit=0), "limit"),
        (KEYS, dict(status="revoked"), "status"),
        (USERS, dict(roles=["owner"]), "roles"),
        (WORKSPACES, dict(include_default="maybe"), "include_default"),
        (WORKSPACES, dict(status="active"), "status"),
        (USERS, dict(after_id="user_nobody"), "after_id"),
        (KEYS, dict(after_id="a", before_id="b"), "after_id"),
    ],
)
def test_lists__refuse_what_the_api_refuses(org, path, query, named):
    reply = get(org, path, **query)
    assert reply.status == 400 and reply.json()["error"]["message"].startswith(named)
