"""The organization's directory: projects, users, API keys, spend alerts and the spend limit, as frames.

They turn IDs into names (:func:`usage_frames.ops.label`) and give plots the organization's own thresholds
(:func:`spend_guards`, the hook every provider package has).

Examples:
    >>> from usage_frames import Client
    >>> projects(Client.fake())["name"].tolist()
    ['Customer chat', 'Search & RAG', 'Nightly batch', 'Research lab']
    >>> spend_limit(Client.fake())
    4000.0
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from usage_frames._core.client import BaseClient as Client
from usage_frames._core.default import client_or_default
from usage_frames._core.errors import UsageFramesError
from usage_frames.providers.openai.provider import PROVIDER


def _frame(objects: list[dict[str, object]], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(objects).reindex(columns=columns)
    for column in columns:
        if column.endswith("_at"):
            # A server's garbage is NaT, not a crash: true/false are not times (to_numeric would keep them bool).
            plain = frame[column].map(lambda v: None if isinstance(v, bool) else v)
            seconds = pd.to_numeric(plain, errors="coerce").astype("float64")
            frame[column] = pd.to_datetime(seconds.where(seconds.between(0, 10**11)), unit="s", utc=True)
    return frame


def projects(client: Client | None = None) -> pd.DataFrame:
    """The organization's projects: ``id``, ``name``, ``status``, ``created_at``."""
    objects = client_or_default(client, PROVIDER).list_objects("/organization/projects")
    return _frame(objects, ["id", "name", "status", "created_at"])


def users(client: Client | None = None) -> pd.DataFrame:
    """The organization's users: ``id``, ``name``, ``email``, ``role``.

    Examples:
        >>> from usage_frames import Client
        >>> users(Client.fake()).set_index("id").loc["user-ana", "email"]
        'ana@example.com'
    """
    objects = client_or_default(client, PROVIDER).list_objects("/organization/users")
    return _frame(objects, ["id", "name", "email", "role"])


def api_keys(client: Client | None = None) -> pd.DataFrame:
    """Every project's API keys: ``id``, ``name``, ``project_id`` (one request per project).

    Examples:
        >>> from usage_frames import Client
        >>> api_keys(Client.fake()).set_index("id").loc["key_batch", "project_id"]
        'proj_batch'
    """
    client = client_or_default(client, PROVIDER)
    rows = [
        {**key, "project_id": project}
        for project in projects(client)["id"]
        for key in client.list_objects(f"/organization/projects/{project}/api_keys")
    ]
    return _frame(rows, ["id", "name", "project_id", "created_at"])


def spend_alerts(client: Client | None = None) -> pd.DataFrame:
    """The organization's spend alerts: ``id``, ``threshold_usd`` (the API counts cents), ``interval``.

    Examples:
        >>> from usage_frames import Client
        >>> spend_alerts(Client.fake())["threshold_usd"].tolist()
        [1500.0, 2500.0]
    """
    objects = client_or_default(client, PROVIDER).list_objects("/organization/spend_alerts")
    frame = _frame(objects, ["id", "threshold_amount", "currency", "interval"])
    frame.insert(1, "threshold_usd", pd.to_numeric(frame.pop("threshold_amount"), errors="coerce") / 100)
    return frame


def spend_limit(client: Client | None = None) -> float | None:
    """The organization's hard monthly spend limit in dollars, or ``None`` when none is set or enforced."""
    limit = client_or_default(client, PROVIDER).get_object("/organization/spend_limit")
    cents = limit.get("threshold_amount")
    enforcement = limit.get("enforcement")
    status = enforcement.get("status") if isinstance(enforcement, dict) else None
    if not isinstance(cents, int) or isinstance(cents, bool) or not 0 <= cents < 10**15 or status == "inactive":
        return None
    return cents / 100


def spend_guards(client: Client | None = None) -> tuple[list[float], float | None]:
    """The organization's spend alert thresholds and its spend limit, in dollars: what a month-to-date chart marks.

    Each is left out (``[]``, ``None``) when the key may not read it: an extra that a report can do without.

    Examples:
        >>> from usage_frames import Client
        >>> spend_guards(Client.fake())
        ([1500.0, 2500.0], 4000.0)
    """
    client = client_or_default(client, PROVIDER)
    try:
        alerts = [float(v) for v in spend_alerts(client)["threshold_usd"].tolist()]
    except UsageFramesError:
        alerts = []
    try:
        limit = spend_limit(client)
    except UsageFramesError:
        limit = None
    return alerts, limit


def names(client: Client | None = None, keys: Iterable[str] | None = None) -> dict[str, pd.DataFrame]:
    """``id``/``name`` frames by the key column they name (``df.usage.label(client)``).

    Args:
        client: A client of OpenAI (a default one when left out).
        keys: Only these key columns (default all: ``project_id``, ``user_id``, ``api_key_id``); API keys take one
            request per project.

    Examples:
        >>> from usage_frames import Client
        >>> sorted(names(Client.fake()))
        ['api_key_id', 'project_id', 'user_id']
        >>> list(names(Client.fake(), keys=["project_id"]))
        ['project_id']
    """
    client = client_or_default(client, PROVIDER)
    wanted = None if keys is None else set(keys)
    lists = {"project_id": projects, "user_id": users, "api_key_id": api_keys}
    return {key: fetch(client) for key, fetch in lists.items() if wanted is None or key in wanted}
