"""Who is the fake organization, and what did it use?

The world without HTTP: its streams, its exact totals (the tests' ground truth), its directory objects (projects,
users, keys, spend alerts and limit) and the buckets and results the API pages through.

Examples:
    >>> FakeOrganization().total("embeddings", "input_tokens", "2026-10-01", "2026-10-02")  # the fake's traffic
    9572213
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import msgspec
import numpy as np
import pandas as pd

from usage_frames._core.provider import Provider
from usage_frames._core.query import TimeLike, to_utc
from usage_frames._core.schema import Endpoint, unix
from usage_frames.fake.reply import Reply
from usage_frames.fake.traffic import (
    GIB,
    HOUR,
    ORG_START,
    Stream,
    hourly_over,
    interval_sums,
    interval_table,
    sum_parts,
)
from usage_frames.fake.transports import Mountable
from usage_frames.providers.openai.endpoints import ENDPOINTS
from usage_frames.providers.openai.fake import api
from usage_frames.providers.openai.fake.billing import line_items
from usage_frames.providers.openai.fake.streams import default_streams, sources
from usage_frames.providers.openai.provider import PROVIDER

if TYPE_CHECKING:
    pass

PROJECT_NAMES = {
    "proj_chat": "Customer chat",
    "proj_search": "Search & RAG",
    "proj_batch": "Nightly batch",
    "proj_lab": "Research lab",
}
USER_NAMES = {
    "user-ana": "Ana Alves",
    "user-ben": "Ben Brown",
    "user-chen": "Chen Li",
    "user-dia": "Dia Diaz",
    "user-eli": "Eli Ek",
}
API_KEY_NAMES = {
    "key_chat_prod": "chat production",
    "key_chat_dev": "chat development",
    "key_search": "search",
    "key_batch": "batch jobs",
    "key_lab": "lab notebooks",
}
SPEND_ALERTS_CENTS = (150_000, 250_000)  # $1,500 and $2,500 a month
SPEND_LIMIT_CENTS = 400_000  # a hard limit of $4,000 a month


@dataclass
class FakeOrganization(Mountable):
    """The fake organization and its API.

    Args:
        streams: Its traffic; defaults to :func:`default_streams`.
        now: Its clock ("now" for ``end_time`` defaults and the future check); defaults to the real clock.
        omit_fields: Result fields to leave out, to imitate older API versions.
        amount_as_string: Send ``amount.value`` as a JSON string, as some live answers did.
        list_page_size: The most objects a list page holds (small values exercise list pagination).
    """

    streams: Sequence[Stream] = field(default_factory=default_streams)
    now: pd.Timestamp | None = None
    omit_fields: frozenset[str] = frozenset()
    amount_as_string: bool = False
    list_page_size: int = 100

    provider: ClassVar[Provider] = PROVIDER

    def streams_of(self, endpoint: str, where: Mapping[str, Any] | None = None) -> list[Stream]:
        """The streams that show up in an endpoint (costs: all of them), optionally filtered by key values."""
        priced = ENDPOINTS[endpoint].priced
        chosen = [s for s in self.streams if priced or s.endpoint == endpoint]
        for key, allowed in (where or {}).items():
            values = allowed if isinstance(allowed, list | tuple | set | frozenset) else [allowed]
            chosen = [s for s in chosen if s.keys.get(key) in values]
        return chosen

    # --- ground truth -------------------------------------------------------------------------------------

    def total(self, endpoint: str, field_name: str, start: TimeLike, end: TimeLike, **where: Any) -> float:
        """The exact total of a field over ``[start, end)``, straight from the streams (the tests' ground truth).

        Args:
            endpoint: The endpoint.
            field_name: An additive field (costs: ``amount`` or ``quantity``).
            start: Window start.
            end: Window end.
            **where: Group-key values to keep (a value or a list), e.g. ``model="gpt-4o-2024-08-06"``;
                for costs also ``line_item``.

        Examples:
            >>> FakeOrganization().total("costs", "amount", "2026-10-01", "2026-10-02") > 0
            True
        """
        t0, t1 = unix(to_utc(start)), unix(to_utc(end))
        bounds = np.array([t0, t1], dtype=np.int64)
        line_filter = where.pop("line_item", None)
        priced = ENDPOINTS[endpoint].priced
        total = 0.0
        for stream in self.streams_of(endpoint, where):
            series = hourly_over(stream, bounds)
            if priced:
                for item, parts, _unit, price in line_items(stream):
                    if line_filter is not None and item not in np.atleast_1d(line_filter):
                        continue
                    quantity = sum(int(interval_sums(series[p], bounds[0] // HOUR, bounds)[0]) for p in parts)
                    quantity_f = quantity / GIB if parts == ("gib_hours",) else float(quantity)
                    total += quantity_f * (price if field_name == "amount" else 1.0)
            else:
                for part in sources(endpoint, field_name):
                    total += int(interval_sums(series[part], bounds[0] // HOUR, bounds)[0])
        return total if priced else int(total)

    # --- the API's answers ------------------------------------------------------------------------------

    def respond(self, method: str, path: str, query: Mapping[str, Sequence[str]], headers: Mapping[str, str]) -> Reply:
        """Answer one request as the API would (see :func:`usage_frames.providers.openai.fake.api.respond`)."""
        return api.respond(self, method, path, query, headers)

    def error(self, status: int, message: str, kind: str, headers: Mapping[str, str]) -> Reply:
        """An error answer in OpenAI's envelope (what a scripted fault answers)."""
        return api.error(status, message, kind, headers=headers)

    def directory(self, path: str) -> dict[str, Any] | list[dict[str, Any]] | None:
        """The directory objects at ``path``: a list, the spend limit, or ``None`` for an unknown path.

        Lists are projects, users, a project's API keys and spend alerts.

        Raises:
            LookupError: If ``path`` names the keys of an unknown project.

        Examples:
            >>> [p["id"] for p in FakeOrganization().directory("/organization/projects")][:2]
            ['proj_chat', 'proj_search']
        """
        if path == "/organization/spend_limit":
            limit = {
                "object": "organization.spend_limit",
                "threshold_amount": SPEND_LIMIT_CENTS,
                "currency": "USD",
                "interval": "month",
                "enforcement": {"status": "enforcing"},
            }
            return limit
        parts = path.strip("/").split("/")
        items: list[dict[str, Any]] | None = None
        if path == "/organization/projects":
            items = [
                {
                    "object": "organization.project",
                    "id": p,
                    "name": name,
                    "created_at": ORG_START,
                    "archived_at": None,
                    "status": "active",
                }
                for p, name in PROJECT_NAMES.items()
            ]
        elif path == "/organization/users":
            items = [
                {
                    "object": "organization.user",
                    "id": u,
                    "name": name,
                    "email": f"{u[5:]}@example.com",
                    "role": "owner" if u == "user-ana" else "reader",
                    "added_at": ORG_START,
                }
                for u, name in USER_NAMES.items()
            ]
        elif path == "/organization/spend_alerts":
            items = [
                {
                    "object": "organization.spend_alert",
                    "id": f"alert_{cents}",
                    "threshold_amount": cents,
                    "currency": "USD",
                    "interval": "month",
                    "notification_channel": {"type": "email", "recipients": ["finance@example.com"]},
                }
                for cents in SPEND_ALERTS_CENTS
            ]
        elif len(parts) == 4 and parts[:2] == ["organization", "projects"] and parts[3] == "api_keys":
            if parts[2] not in PROJECT_NAMES:
                raise LookupError(f"No project found with id '{parts[2]}'.")
            keys = {s.keys.get("api_key_id") for s in self.streams if s.keys.get("project_id") == parts[2]}
            items = [
                {
                    "object": "organization.project.api_key",
                    "id": k,
                    "name": API_KEY_NAMES.get(k, k),
                    "redacted_value": "sk-...redacted",
                    "created_at": ORG_START,
                }
                for k in sorted(k for k in keys if k)
            ]
        return items

    def buckets(
        self,
        endpoint: Endpoint,
        bounds: np.ndarray,
        now: int,
        group_by: tuple[str, ...],
        where: Mapping[str, Any],
    ) -> list[dict[str, Any]]:
        """Buckets between consecutive bounds, each with one result per non-zero group.

        Usage results come pre-encoded (``msgspec.Raw``, the bytes ``msgspec.json.encode`` gives their dicts).
        """
        clipped = np.minimum(bounds, max(now, int(bounds[0])))
        n = len(bounds) - 1
        filters = dict(where)
        line_filter = filters.pop("line_item", None)
        groups: dict[tuple[Any, ...], dict[str, np.ndarray]] = {}
        units: dict[tuple[Any, ...], set[str | None]] = {}
        priced = endpoint.priced
        first_hour = int(clipped[0]) // HOUR
        for stream in self.streams_of(endpoint.name, filters):
            series = hourly_over(stream, clipped)
            sums = interval_table(series, first_hour, clipped)
            if priced:
                for item, parts, unit, price in line_items(stream):
                    if line_filter is not None and item not in line_filter:
                        continue
                    quantity = sum_parts(sums, parts).astype(np.float64)
                    if parts == ("gib_hours",):
                        quantity /= GIB
                    group = tuple({**stream.keys, "line_item": item}.get(k) for k in group_by)
                    acc = groups.setdefault(group, {"amount": np.zeros(n), "quantity": np.zeros(n)})
                    acc["amount"] += quantity * price
                    acc["quantity"] += quantity
                    units.setdefault(group, set()).add(unit)
                continue
            group = tuple(stream.keys.get(k) for k in group_by)
            acc = groups.setdefault(group, {f.name: np.zeros(n, dtype=np.int64) for f in endpoint.fields})
            for f in endpoint.fields:
                if f.kind == "level":
                    hours = bounds[:-1] // HOUR - first_hour
                    acc[f.name] += np.where(bounds[:-1] < now, series[f.name][hours], 0)
                else:
                    acc[f.name] += sum_parts(sums, sources(endpoint.name, f.name))
        per_bucket: Sequence[list[dict[str, Any]] | msgspec.Raw]
        if priced:
            per_bucket = [
                [r for g, acc in groups.items() if (r := self._cost_result(endpoint, group_by, g, acc, units[g], i))]
                for i in range(n)
            ]
        else:
            per_bucket = self._usage_results(endpoint, group_by, groups, n)
        return [
            {"object": "bucket", "start_time": int(bounds[i]), "end_time": int(bounds[i + 1]), "results": results}
            for i, results in enumerate(per_bucket)
        ]

    def _usage_results(
        self, endpoint: Endpoint, group_by: tuple[str, ...], groups: Mapping[tuple[Any, ...], Any], n: int
    ) -> list[msgspec.Raw]:
        """Per bucket, the JSON array of one result per group with any usage, encoded as ``msgspec`` would.

        Vectorised, and without a dict per result: each group's keys are encoded once into a ``%d`` template,
        so a year of hourly answers costs the fake a third of the time (the benchmark's server is one process).
        """
        names = [f.name for f in endpoint.fields if f.name not in self.omit_fields]
        keys = [k for k in endpoint.group_by if k not in self.omit_fields]
        if not names:  # every field left out: no result has any usage
            return [msgspec.Raw(b"[]")] * n
        per_bucket: list[list[bytes]] = [[] for _ in range(n)]
        for group, acc in groups.items():
            head: dict[str, Any] = {"object": endpoint.result_object}
            head.update({k: group[group_by.index(k)] if k in group_by else None for k in keys})
            tail = msgspec.json.encode(head)[1:].replace(b"%", b"%%")  # '"object":...}' after the counts
            template = b"{" + b"".join(b'"%s":%%d,' % name.encode() for name in names) + tail
            values = np.column_stack([acc[name] for name in names])
            used = np.flatnonzero(values.any(axis=1)).tolist()
            for i, row in zip(used, values[used].tolist(), strict=True):
                per_bucket[i].append(template % tuple(row))
        return [msgspec.Raw(b"[" + b",".join(results) + b"]") for results in per_bucket]

    def _cost_result(
        self,
        endpoint: Endpoint,
        group_by: tuple[str, ...],
        group: tuple[Any, ...],
        acc: Mapping[str, np.ndarray],
        units: set[str | None],
        i: int,
    ) -> dict[str, Any] | None:
        amount = float(acc["amount"][i])
        if amount == 0:
            return None
        by_line = "line_item" in group_by
        result: dict[str, Any] = {
            "object": endpoint.result_object,
            "amount": {"value": str(amount) if self.amount_as_string else amount, "currency": "usd"},
            "quantity": float(acc["quantity"][i]) if by_line else None,
            "quantity_unit": next(iter(units)) if by_line and len(units) == 1 else None,
        }
        for key in endpoint.group_by:
            result[key] = group[group_by.index(key)] if key in group_by else None
        for name in self.omit_fields:
            result.pop(name, None)
        return result
