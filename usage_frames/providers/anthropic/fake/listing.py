"""Who is in the fake Anthropic organization: its workspaces, API keys and users, as the Admin API lists them.

Objects are shaped as the SDK's ``BetaWorkspace``, ``BetaAPIKey`` and ``BetaOrganizationUser`` (anthropic-sdk-python,
``types/beta/organization``): RFC 3339 times with microseconds, the default workspace under its real id (listed only
with ``include_default=true``; in usage and cost rows it is ``null``), an API key's ``scope`` with its workspace's real
id and the deprecated ``workspace_id`` null for the default workspace.

Examples:
    >>> [w["name"] for w in workspaces(include_default=True)][:2]
    ['Default Workspace', 'Support agent']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from usage_frames.providers.anthropic.fake.streams import (
    ANA,
    ARCHIVED,
    BATCH,
    BATCH_JOBS,
    BEN,
    CHEN,
    DEFAULT_APP,
    DEFAULT_WORKSPACE_ID,
    DIA,
    NOTEBOOKS,
    RESEARCH,
    SEARCH_AGENT,
    SUPPORT,
    SUPPORT_PROD,
    SUPPORT_STAGING,
)

WORKSPACE_NAMES: Mapping[str, str] = {
    DEFAULT_WORKSPACE_ID: "Default Workspace",
    SUPPORT: "Support agent",
    RESEARCH: "Research lab",
    BATCH: "Nightly batch",
    ARCHIVED: "Pilot",
}
ARCHIVED_AT: Mapping[str, str] = {ARCHIVED: "2025-05-30T17:45:10.204518Z"}
COLORS = ("#6C5BB9", "#D97757", "#5B8DB9", "#7BA05B", "#B95B8D")
API_KEY_NAMES: Mapping[str, str] = {
    SUPPORT_PROD: "support-prod",
    SUPPORT_STAGING: "support-staging",
    SEARCH_AGENT: "search-agent",
    NOTEBOOKS: "research-notebooks",
    BATCH_JOBS: "batch-pipeline",
    DEFAULT_APP: "legacy-app",
}
API_KEY_CREATORS: Mapping[str, str] = {
    SUPPORT_PROD: ANA, SUPPORT_STAGING: ANA, SEARCH_AGENT: CHEN, NOTEBOOKS: CHEN, BATCH_JOBS: DIA, DEFAULT_APP: ANA,
}  # fmt: skip
USERS: Mapping[str, tuple[str, str, str]] = {  # id: (name, email, role)
    ANA: ("Ana Alves", "ana@example.com", "admin"),
    BEN: ("Ben Brown", "ben@example.com", "claude_code_user"),
    CHEN: ("Chen Li", "chen@example.com", "developer"),
    DIA: ("Dia Diaz", "dia@example.com", "billing"),
}
API_KEY_STATUSES = ("active", "inactive", "archived", "expired")
ROLES = ("user", "developer", "billing", "admin", "claude_code_user")


def _created(i: int) -> str:
    """A creation time, one object a fortnight from 2025-05-12 (cycling), with microseconds as the API sends them."""
    return f"2025-{5 + i // 2 % 8:02d}-{12 + 14 * (i % 2):02d}T09:{10 + i % 50:02d}:27.{427722 + 1111 * (i % 500)}Z"


def workspaces(
    ids: Iterable[str] = WORKSPACE_NAMES, *, include_default: bool = False, include_archived: bool = False
) -> list[dict[str, Any]]:
    """The workspace objects of ``ids`` (in creation order), as ``GET /v1/organizations/workspaces`` lists them.

    Examples:
        >>> [w["name"] for w in workspaces(include_archived=True)]
        ['Support agent', 'Research lab', 'Nightly batch', 'Pilot']
    """
    found = []
    for i, workspace in enumerate(ids):
        archived = ARCHIVED_AT.get(workspace)
        if (workspace == DEFAULT_WORKSPACE_ID and not include_default) or (archived and not include_archived):
            continue
        found.append(
            {
                "id": workspace,
                "type": "workspace",
                "name": WORKSPACE_NAMES.get(workspace, workspace),
                "created_at": _created(i),
                "archived_at": archived,
                "display_color": COLORS[i % len(COLORS)],
                "data_residency": {
                    "workspace_geo": "us",
                    "allowed_inference_geos": "unrestricted",
                    "default_inference_geo": "global",
                },
                "tags": {},
                "compartment_id": "cmpt_" + workspace.removeprefix("wrkspc_"),
                "external_key_id": None,
            }
        )
    return found


def api_keys(
    keys: Mapping[str, str | None],
    *,
    status: str | None = None,
    workspace_id: str | None = None,
    created_by_user_id: str | None = None,
) -> list[dict[str, Any]]:
    """The API key objects of ``keys`` (key id: its workspace id, ``None`` for the default workspace), filtered.

    Examples:
        >>> [k["name"] for k in api_keys({SUPPORT_PROD: SUPPORT, DEFAULT_APP: None}, workspace_id=SUPPORT)]
        ['support-prod']
    """
    found = []
    for i, (key, workspace) in enumerate(keys.items()):
        creator = API_KEY_CREATORS.get(key, ANA)
        real = workspace or DEFAULT_WORKSPACE_ID
        wanted = (status, workspace_id, created_by_user_id)
        if any(w not in (None, have) for w, have in zip(wanted, ("active", real, creator), strict=True)):
            continue
        found.append(
            {
                "id": key,
                "type": "api_key",
                "name": API_KEY_NAMES.get(key, key),
                "status": "active",
                "created_at": _created(i),
                "expires_at": None,
                "created_by": {"id": creator, "type": "user"},
                "partial_key_hint": f"sk-ant-api03-{key[9:12]}...{key[-4:]}AA",
                "principal": None,
                "scope": {"type": "workspace", "workspace_id": real},
                "workspace_id": workspace,
            }
        )
    return found


def users(*, email: str | None = None, roles: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """The organization's users, filtered by email and roles as ``GET /v1/organizations/users`` filters them.

    Examples:
        >>> [u["email"] for u in users(roles=["developer", "billing"])]
        ['chen@example.com', 'dia@example.com']
    """
    allowed = None if roles is None else set(roles)
    return [
        {"id": user, "type": "user", "email": mail, "name": name, "role": role, "added_at": _created(i)}
        for i, (user, (name, mail, role)) in enumerate(USERS.items())
        if (email is None or email == mail) and (allowed is None or role in allowed)
    ]
