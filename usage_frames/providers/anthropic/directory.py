"""The Anthropic organization's directory: workspaces, API keys and users, as frames that turn ids into names.

The default workspace is ``null`` in usage and cost rows but has a real id in the lists (where it appears only with
``include_default=true``, and with no mark of being the default): :func:`workspaces` asks both ways and marks the
one that only the second list holds, so that a label join can name the ``null`` rows.

Examples:
    >>> from usage_frames._core.client import BaseClient
    >>> from usage_frames.providers.anthropic.fake import client_arguments
    >>> from usage_frames.providers.anthropic.provider import PROVIDER
    >>> client = BaseClient(provider=PROVIDER, **client_arguments(now="2026-11-28"))
    >>> workspaces(client)[["name", "default"]].values.tolist()[:2]
    [['Default Workspace', True], ['Support agent', False]]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pandas as pd

from usage_frames._core.client import BaseClient
from usage_frames._core.default import client_or_default
from usage_frames.providers.anthropic.provider import PROVIDER

WORKSPACES = "/v1/organizations/workspaces"


def _frame(objects: list[dict[str, object]], columns: list[str]) -> pd.DataFrame:
    """The objects' columns; ``*_at`` times (RFC 3339) as UTC timestamps, a server's garbage as ``NaT``."""
    frame = pd.DataFrame(objects).reindex(columns=columns)
    for column in columns:
        if column.endswith("_at"):
            text = frame[column].map(lambda v: v if isinstance(v, str) else None)
            frame[column] = pd.to_datetime(text, utc=True, errors="coerce", format="ISO8601").astype(
                "datetime64[us, UTC]"
            )
    return frame


def workspaces(client: BaseClient | None = None, *, include_archived: bool = False) -> pd.DataFrame:
    """The organization's workspaces: ``id``, ``name``, ``default`` (the one usage rows call ``null``), times.

    Args:
        client: A client of Anthropic (a default one when left out).
        include_archived: Also list archived workspaces.
    """
    client = client_or_default(client, PROVIDER)
    archived = [("include_archived", "true")] if include_archived else []
    listed = {w["id"] for w in client.list_objects(WORKSPACES, [("include_default", "false"), *archived])}
    objects = client.list_objects(WORKSPACES, [("include_default", "true"), *archived])
    frame = _frame(objects, ["id", "name", "created_at", "archived_at"])
    frame.insert(2, "default", ~frame["id"].isin(listed))
    return frame


def api_keys(client: BaseClient | None = None) -> pd.DataFrame:
    """The organization's API keys: ``id``, ``name``, ``workspace_id`` (missing for the default workspace), ``status``.

    Examples:
        >>> from usage_frames._core.client import BaseClient
        >>> from usage_frames.providers.anthropic.fake import client_arguments
        >>> keys = api_keys(BaseClient(provider=PROVIDER, **client_arguments(now="2026-11-28")))
        >>> pd.isna(keys.set_index("name").loc["legacy-app", "workspace_id"])
        True
    """
    objects = client_or_default(client, PROVIDER).list_objects("/v1/organizations/api_keys")
    return _frame(objects, ["id", "name", "workspace_id", "status", "created_at"])


def users(client: BaseClient | None = None) -> pd.DataFrame:
    """The organization's users: ``id``, ``name``, ``email``, ``role``."""
    objects = client_or_default(client, PROVIDER).list_objects("/v1/organizations/users")
    return _frame(objects, ["id", "name", "email", "role", "added_at"])


def spend_guards(client: BaseClient | None = None) -> tuple[list[float], float | None]:
    """Spend alert thresholds and a spend limit in dollars, what a month-to-date chart marks: none.

    The Admin API lists neither; every provider package has this hook (the report asks each the same way).

    Examples:
        >>> spend_guards()
        ([], None)
    """
    return [], None


def names(client: BaseClient | None = None, keys: Iterable[str] | None = None) -> dict[str, pd.DataFrame]:
    """``id``/``name`` frames by the key column they name (``df.usage.label(client)``).

    The default workspace names the ``null`` workspace of usage and cost rows.

    Args:
        client: A client of Anthropic (a default one when left out).
        keys: Only these key columns' lists (each list is one request or more); default all.

    Examples:
        >>> from usage_frames._core.client import BaseClient
        >>> from usage_frames.providers.anthropic.fake import client_arguments
        >>> found = names(BaseClient(provider=PROVIDER, **client_arguments(now="2026-11-28")))
        >>> sorted(found), found["workspace_id"]["id"].isna().sum()
        (['account_id', 'api_key_id', 'workspace_id'], np.int64(1))
    """
    client = client_or_default(client, PROVIDER)

    def spaces() -> pd.DataFrame:
        found = workspaces(client)
        found["listed_id"] = found["id"]  # what the list calls it, for a rule that names the default one by its id
        found["id"] = found["id"].where(~found["default"], None)  # the rows call the default workspace null
        return found[["id", "name", "listed_id"]]

    lists: dict[str, Callable[[], pd.DataFrame]] = {
        "workspace_id": spaces,
        "api_key_id": lambda: api_keys(client)[["id", "name"]],
        "account_id": lambda: users(client)[["id", "name", "email"]],
    }
    wanted = None if keys is None else set(keys)
    return {key: fetch() for key, fetch in lists.items() if wanted is None or key in wanted}
