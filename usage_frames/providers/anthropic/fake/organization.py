"""Who is the fake Anthropic organization, and what did it use and pay?

The world without HTTP: its streams, its exact totals (the tests' ground truth: integer tokens, ``Decimal`` dollars),
its workspaces, keys and users, and the buckets of results the API pages through. What a request may ask and how it
is answered is :mod:`.api`.

Examples:
    >>> org = FakeOrganization(now=pd.Timestamp("2026-11-28 12:00", tz="UTC"))
    >>> org.total("messages", "output_tokens", "2026-10-01", "2026-10-02")  # the fake's traffic
    9739305
    >>> org.total("costs", "amount", "2026-10-01", "2026-10-02")  # the fake's traffic
    Decimal('205.5896930500')
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import msgspec
import numpy as np
import pandas as pd

from usage_frames._core.provider import Provider
from usage_frames._core.query import TimeLike, to_utc
from usage_frames._core.schema import Endpoint, unix
from usage_frames.fake.reply import Reply
from usage_frames.fake.traffic import HOUR, Stream, hourly_over, interval_sums, interval_table
from usage_frames.fake.transports import Mountable
from usage_frames.providers.anthropic.endpoints import DESCRIPTION_FIELDS, ENDPOINTS
from usage_frames.providers.anthropic.fake import api, listing
from usage_frames.providers.anthropic.fake.billing import CostItem, cents, dollars, line_items
from usage_frames.providers.anthropic.fake.streams import DEFAULT_WORKSPACE_ID, FIELD_SOURCES, default_streams
from usage_frames.providers.anthropic.provider import PROVIDER

if TYPE_CHECKING:
    pass

PLACEHOLDER = 9_100_000_000_000_000_000  # 19 digits: what a count's place holds while a result's template is made
COST_KEYS = ("workspace_id", "description", *DESCRIPTION_FIELDS)
"""What a cost line can be told apart by (``total(..., **where)`` of costs)."""


def _values(allowed: Any) -> list[Any]:
    """A ``where`` value as the list of values it allows (``None`` is a value: the default workspace, no key)."""
    return list(allowed) if isinstance(allowed, list | tuple | set | frozenset) else [allowed]


@dataclass
class FakeOrganization(Mountable):
    """The fake Anthropic organization and its Admin API.

    Args:
        streams: Its traffic; defaults to :func:`~.streams.default_streams`.
        now: Its clock (what "now" is for the open bucket and the latest ``ending_at``); defaults to the package's
            clock (``usage_frames._core.query.wall_clock``).
        omit_fields: Result keys to leave out of every usage and cost result, to imitate older answers (the 2025
            reference had no ``inference_geo``, ``account_id`` or ``service_account_id``).
        list_page_size: The most objects a list page holds, whatever ``limit`` asks (small values exercise paging).
    """

    streams: Sequence[Stream] = field(default_factory=default_streams)
    now: pd.Timestamp | None = None
    omit_fields: frozenset[str] = frozenset()
    list_page_size: int = 1000

    provider: ClassVar[Provider] = PROVIDER

    # --- who uses what ------------------------------------------------------------------------------------

    def streams_of(self, where: Mapping[str, Any] | None = None) -> list[Stream]:
        """The streams of Messages traffic, optionally only those with these key values (a value or a list).

        Raises:
            ValueError: For a key that is not a group key of the messages report.
        """
        chosen = list(self.streams)
        for key, allowed in (where or {}).items():
            if key not in ENDPOINTS["messages"].group_by:
                raise ValueError(f"{key!r} is not a key of messages; keys: {', '.join(ENDPOINTS['messages'].group_by)}")
            values = _values(allowed)
            chosen = [s for s in chosen if s.keys.get(key) in values]
        return chosen

    def cost_lines(self, where: Mapping[str, Any] | None = None) -> list[tuple[Stream, CostItem]]:
        """Every (stream, cost line) of the cost report, optionally only those with these values (see ``COST_KEYS``).

        Raises:
            ValueError: For a key a cost line does not have.
        """
        where = dict(where or {})
        unknown = set(where) - set(COST_KEYS)
        if unknown:
            raise ValueError(f"{sorted(unknown)} are not keys of a cost line; keys: {', '.join(COST_KEYS)}")
        lines = []
        for stream in self.streams:
            for item in line_items(stream):
                row = {"workspace_id": stream.keys["workspace_id"], "description": item.description, **item.fields()}
                if all(row[key] in _values(allowed) for key, allowed in where.items()):
                    lines.append((stream, item))
        return lines

    # --- ground truth -------------------------------------------------------------------------------------

    def total(self, endpoint: str, field_name: str, start: TimeLike, end: TimeLike, **where: Any) -> Any:
        """The exact total of a field over ``[start, end)`` up to now, straight from the streams (the ground truth).

        Args:
            endpoint: ``messages`` or ``costs``.
            field_name: A count of the messages report (``int``), or ``amount`` of the cost report (``Decimal``
                US dollars: the report's cents divided by 100, exactly).
            start: Window start.
            end: Window end (the organization's clock when later: nothing has been used after now).
            **where: Values to keep (a value or a list; ``None`` is the default workspace or usage without a key):
                group keys of messages, e.g. ``model="claude-haiku-4-5-20251001"``; for costs ``workspace_id``,
                ``description`` and the fields a row grouped by description names (``token_type``...).

        Examples:
            >>> org = FakeOrganization(now=pd.Timestamp("2026-11-28", tz="UTC"))
            >>> org.total("messages", "web_search_requests", "2026-10-01", "2026-10-02") > 0
            True
            >>> org.total("costs", "amount", "2026-10-02", "2026-10-03",
            ...           cost_type="code_execution")  # the fake's traffic
            Decimal('0.4521500000')
        """
        priced = ENDPOINTS[endpoint].priced
        t0, t1 = unix(to_utc(start)), min(unix(to_utc(end)), self.clock())
        if t1 <= t0:
            return dollars(0) if priced else 0
        bounds = np.array([t0, t1], dtype=np.int64)
        if priced:
            if field_name != "amount":
                raise ValueError(f"costs has one additive field, 'amount', not {field_name!r}")
            amount = 0
            for stream, item in self.cost_lines(where):
                quantity = interval_sums(hourly_over(stream, bounds)[item.quantity], t0 // HOUR, bounds)
                amount += int(quantity[0]) * item.price
            return dollars(amount)
        total = 0
        for stream in self.streams_of(where):
            series = hourly_over(stream, bounds)
            for part in FIELD_SOURCES[endpoint][field_name]:
                total += int(interval_sums(series[part], t0 // HOUR, bounds)[0])
        return total

    # --- the API's answers --------------------------------------------------------------------------------

    def respond(self, method: str, path: str, query: Mapping[str, Sequence[str]], headers: Mapping[str, str]) -> Reply:
        """Answer one request as the Admin API would (see :func:`usage_frames.providers.anthropic.fake.api.respond`)."""
        return api.respond(self, method, path, query, headers)

    def error(self, status: int, message: str, kind: str, headers: Mapping[str, str]) -> Reply:
        """An error answer in Anthropic's envelope (what a scripted fault answers; its type follows the status)."""
        return api.error(status, message, headers=headers)

    def workspace_ids(self) -> list[str]:
        """Every workspace's real id: the known ones, then any other a stream uses, in order."""
        used = [s.keys["workspace_id"] for s in self.streams]
        ids = [*listing.WORKSPACE_NAMES, *(w for w in used if w is not None)]
        return list(dict.fromkeys(ids))

    def api_key_workspaces(self) -> dict[str, str | None]:
        """Every API key the streams use, with its workspace (``None``: the default workspace)."""
        return {s.keys["api_key_id"]: s.keys["workspace_id"] for s in self.streams if s.keys["api_key_id"] is not None}

    def buckets(
        self, endpoint: Endpoint, bounds: np.ndarray, group_by: tuple[str, ...], where: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        """The buckets between consecutive ``bounds`` (Unix seconds), each with one result per group with usage.

        The bucket that contains now holds the usage so far; a bucket is sent with ``results: []`` when idle.
        Usage results come pre-encoded (``msgspec.Raw``: what ``msgspec.json.encode`` gives their dicts).
        """
        now = self.clock()
        clipped = np.minimum(bounds, max(now, int(bounds[0])))
        results = (self._cost_results if endpoint.priced else self._usage_results)(endpoint, clipped, group_by, where)
        return [
            {"starting_at": _rfc3339(bounds[i]), "ending_at": _rfc3339(bounds[i + 1]), "results": found}
            for i, found in enumerate(results)
        ]

    def _usage_results(
        self, endpoint: Endpoint, bounds: np.ndarray, group_by: tuple[str, ...], where: Mapping[str, Any]
    ) -> list[Any]:
        """Per bucket, the JSON array of one result per group with usage, each from its group's ``%d`` template."""
        n = len(bounds) - 1
        groups: dict[tuple[Any, ...], dict[str, np.ndarray]] = {}
        first_hour = int(bounds[0]) // HOUR
        for stream in self.streams_of(where):
            sums = interval_table(hourly_over(stream, bounds), first_hour, bounds)
            group = tuple(stream.keys[k] for k in group_by)
            acc = groups.setdefault(group, {f.name: np.zeros(n, dtype=np.int64) for f in endpoint.fields})
            for f in endpoint.fields:
                for part in FIELD_SOURCES[endpoint.name][f.name]:
                    acc[f.name] += sums[part]
        per_bucket: list[list[bytes]] = [[] for _ in range(n)]
        for group, acc in groups.items():
            keys = {k: group[group_by.index(k)] if k in group_by else None for k in endpoint.group_by}
            template, names = self._template(endpoint, keys)
            values = np.column_stack([acc[f.name] for f in endpoint.fields])
            used = np.flatnonzero(values.any(axis=1)).tolist()
            columns = [acc[name] for name in names]
            for i in used:
                per_bucket[i].append(template % tuple(int(c[i]) for c in columns))
        return [msgspec.Raw(b"[" + b",".join(found) + b"]") for found in per_bucket]

    def _template(self, endpoint: Endpoint, keys: Mapping[str, Any]) -> tuple[bytes, list[str]]:
        """A result's JSON with ``%d`` for each count (nested objects as the API nests them), and the counts' order."""
        skeleton: dict[str, Any] = {}
        fields = [f for f in endpoint.fields if f.json_path[0] not in self.omit_fields]
        for i, f in enumerate(fields):
            node = skeleton
            for step in f.json_path[:-1]:
                node = node.setdefault(step, {})
            node[f.json_path[-1]] = PLACEHOLDER + i
        skeleton.update({k: v for k, v in keys.items() if k not in self.omit_fields})
        raw = msgspec.json.encode(skeleton).replace(b"%", b"%%")
        marks = sorted((raw.index(b"%d" % (PLACEHOLDER + i)), i) for i in range(len(fields)))
        for _, i in marks:
            raw = raw.replace(b"%d" % (PLACEHOLDER + i), b"%d", 1)
        return raw, [fields[i].name for _, i in marks]

    def _cost_results(
        self, endpoint: Endpoint, bounds: np.ndarray, group_by: tuple[str, ...], where: Mapping[str, Any]
    ) -> list[list[dict[str, Any]]]:
        """Per bucket, one cost result per group with a cost: the amount in cents as a decimal string."""
        n = len(bounds) - 1
        groups: dict[tuple[Any, ...], list[int]] = {}
        described: dict[tuple[Any, ...], CostItem] = {}
        first_hour = int(bounds[0]) // HOUR
        for stream, item in self.cost_lines(where):
            quantity = interval_sums(hourly_over(stream, bounds)[item.quantity], first_hour, bounds)
            row = {"workspace_id": stream.keys["workspace_id"], "description": item.description}
            group = tuple(row[k] for k in group_by)
            acc = groups.setdefault(group, [0] * n)
            for i, q in enumerate(quantity.tolist()):
                acc[i] += q * item.price
            described[group] = item
        per_bucket: list[list[dict[str, Any]]] = [[] for _ in range(n)]
        for group, amounts in groups.items():
            item = described[group]
            fields = item.fields() if "description" in group_by else dict.fromkeys(DESCRIPTION_FIELDS)
            for i, amount in enumerate(amounts):
                if amount:
                    result = {
                        "amount": cents(amount),
                        "currency": "USD",
                        **{k: group[group_by.index(k)] if k in group_by else None for k in endpoint.group_by},
                        **fields,
                    }
                    per_bucket[i].append({k: v for k, v in result.items() if k not in self.omit_fields})
        return per_bucket

    def directory(self, path: str, query: Mapping[str, Any]) -> list[dict[str, Any]] | dict[str, Any] | None:
        """The objects of a list path (filtered as ``query`` says), one object by its id, or ``None`` if unknown.

        Args:
            path: ``/v1/organizations/workspaces``, ``/v1/organizations/api_keys``, ``/v1/organizations/users``, or
                one of them followed by ``/<id>``.
            query: The list's filters, already checked (``include_default``, ``status``, ``roles``...).

        Examples:
            >>> [k["name"] for k in FakeOrganization().directory("/v1/organizations/api_keys", {})][:2]
            ['support-prod', 'support-staging']
        """
        parts = path.removeprefix("/v1/organizations/").split("/")
        found: list[dict[str, Any]]
        if parts[0] == "workspaces":
            everything = len(parts) > 1
            found = listing.workspaces(
                self.workspace_ids(),
                include_default=everything or bool(query.get("include_default")),
                include_archived=everything or bool(query.get("include_archived")),
            )
        elif parts[0] == "api_keys":
            found = listing.api_keys(self.api_key_workspaces(), **({} if len(parts) > 1 else query))
        elif parts[0] == "users":
            found = listing.users(**({} if len(parts) > 1 else query))
        else:
            return None
        if len(parts) == 1:
            return found
        return next((o for o in found if o["id"] == parts[1]), None) if len(parts) == 2 else None


def default_workspace(ids: Iterable[str]) -> list[str | None]:
    """Workspace ids as usage rows carry them: the default workspace's real id is ``None`` there.

    Examples:
        >>> default_workspace(["wrkspc_01DefaultSpace8mL4aPzE", "wrkspc_x"])
        [None, 'wrkspc_x']
    """
    return [None if w == DEFAULT_WORKSPACE_ID else w for w in ids]


def _rfc3339(seconds: int) -> str:
    """Unix seconds as the API's bucket times: ``2026-10-01T00:00:00Z``."""
    return f"{pd.Timestamp(int(seconds), unit='s', tz='UTC'):%Y-%m-%dT%H:%M:%S}Z"
