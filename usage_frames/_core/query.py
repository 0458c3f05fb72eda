"""Pure: user arguments to a validated :class:`Query` and its wire parameters.

Every argument mistake is caught here, before a request exists, and raised as
:class:`~usage_frames._core.errors.InvalidParameterError` naming the argument and the allowed values. The query
string is spelled the way the endpoint's provider spells it (:class:`~usage_frames._core.schema.Wire`).

Examples:
    >>> from usage_frames.providers import DEFAULT
    >>> q = build_query(DEFAULT.endpoint("completions"), "2026-10-01", "2026-10-08", group_by=["model", "project_id"],
    ...                 filters={"models": "gpt-4o"})
    >>> q.params()
    [('start_time', '1790812800'), ('end_time', '1791417600'), ('bucket_width', '1d'), ('limit', '31'), \
('group_by', 'project_id'), ('group_by', 'model'), ('models', 'gpt-4o')]
"""

from __future__ import annotations

import datetime as dt
import itertools
import numbers
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeAlias

import numpy as np
import pandas as pd

from usage_frames._core.errors import InvalidParameterError, UsageFramesWarning
from usage_frames._core.schema import BUCKET_SECONDS, BucketWidth, Endpoint, unix

TimeLike: TypeAlias = "dt.datetime | dt.date | pd.Timestamp | np.datetime64 | str | int | float"
"""A point in time: datetime, date, Timestamp, ISO string or Unix seconds. Naive values are UTC."""
FilterValue: TypeAlias = "str | Sequence[str] | bool"

DEFAULT_WINDOW = pd.Timedelta(days=30)
# Unix seconds beyond this (year 5138) are almost certainly milliseconds.
MAX_UNIX_SECONDS = 10**11
EPOCH = pd.Timestamp(0, tz="UTC")
LATEST = pd.Timestamp.max.tz_localize("UTC").floor("D")


@dataclass(frozen=True, slots=True)
class Query:
    """A validated request for one endpoint: everything but the page cursor.

    Attributes:
        endpoint: The table row.
        start: Inclusive UTC start, whole seconds.
        end: Exclusive UTC end, whole seconds, never after "now".
        bucket_width: The bucket width.
        group_by: The group keys, deduplicated, in the table's order.
        filters: Filter name to sorted unique values (or a bool for ``batch``), in the table's order.
        limit: Buckets per page.
    """

    endpoint: Endpoint
    start: pd.Timestamp
    end: pd.Timestamp
    bucket_width: BucketWidth = "1d"
    group_by: tuple[str, ...] = ()
    filters: Mapping[str, tuple[str, ...] | bool] = field(default_factory=dict)
    limit: int = 31

    def params(self, page: str | None = None) -> list[tuple[str, str]]:
        """The query string as ordered pairs, spelled as the provider's :class:`Wire` says.

        Lists become one pair per value (``group_by=a&group_by=b``, or ``group_by[]=a`` where the provider uses
        brackets). The order is fixed, so the same query always has the same URL (and the same cache key).
        """
        wire = self.endpoint.wire
        start, end = self.start, self.end
        if self.endpoint.align:  # the API drops a partial bucket: ask for the whole ones around the window
            step = pd.Timedelta(seconds=BUCKET_SECONDS[self.bucket_width])
            start, end = start.floor(step), end.ceil(step)
        pairs = [(wire.start, wire.time(start)), (wire.end, wire.time(end))]
        if self.endpoint.send_width:
            pairs.append(("bucket_width", self.bucket_width))
        pairs.append(("limit", str(self.limit)))
        pairs += [(wire.array("group_by"), key) for key in self.group_by]
        for name, value in self.filters.items():
            if isinstance(value, bool):
                pairs.append((name, "true" if value else "false"))
            else:
                pairs += [(wire.array(name), v) for v in value]
        if page is not None:
            pairs.append(("page", page))
        return pairs

    def describe(self) -> str:
        """The query in words, for messages: its endpoint, a width other than daily, its keys and filters.

        Examples:
            >>> from usage_frames.providers import DEFAULT
            >>> now = pd.Timestamp("2026-11-01", tz="UTC")
            >>> build_query(DEFAULT.endpoint("completions"), "2026-10-01", bucket_width="1h", group_by="user_id",
            ...             filters={"models": "gpt-4o"}, now=now).describe()
            'completions at 1h by user_id filtered by models'
        """
        return (
            f"{self.endpoint.name}" + (f" at {self.bucket_width}" if self.bucket_width != "1d" else "")
            + (f" by {', '.join(self.group_by)}" if self.group_by else "")
            + (f" filtered by {', '.join(self.filters)}" if self.filters else "")
        )  # fmt: skip

    def attrs(self) -> dict[str, Any]:
        """The frame's ``attrs``: enough for a helper to rebuild the full bucket grid (plain JSON types)."""
        return {
            "provider": self.endpoint.provider,
            "endpoint": self.endpoint.name,
            "bucket_width": self.bucket_width,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "group_by": list(self.group_by),
            "filters": {k: v if isinstance(v, bool) else list(v) for k, v in self.filters.items()},
        }


def to_utc(value: TimeLike, *, argument: str = "start") -> pd.Timestamp:
    """Read a point in time as a tz-aware UTC Timestamp; naive values are taken as UTC.

    Args:
        value: A datetime, date, Timestamp, numpy datetime64, ISO 8601 string or Unix seconds.
        argument: The argument's name, for the error message.

    Raises:
        InvalidParameterError: If the value cannot be read as a time.

    Examples:
        >>> to_utc("2026-10-01")
        Timestamp('2026-10-01 00:00:00+0000', tz='UTC')
        >>> to_utc("2026-10-01T02:00:00+02:00")
        Timestamp('2026-10-01 00:00:00+0000', tz='UTC')
        >>> to_utc(1730419200)
        Timestamp('2024-11-01 00:00:00+0000', tz='UTC')
    """
    if isinstance(value, bool):
        raise InvalidParameterError(argument, value, reason="is a bool, not a time")
    digits = isinstance(value, str) and value.strip().isascii() and value.strip().isdigit()  # not "²"
    if isinstance(value, numbers.Real) or digits:
        # Compare before converting: float(10**400) overflows, and NaN fails every comparison.
        seconds = int(value) if digits else value  # type: ignore[arg-type]
        if not 0 <= seconds < MAX_UNIX_SECONDS:
            raise InvalidParameterError(
                argument, value, reason="is out of range for Unix seconds (milliseconds are not accepted)"
            )
        return pd.Timestamp(int(seconds), unit="s", tz="UTC")
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    if not isinstance(value, str | dt.datetime | np.datetime64):
        raise InvalidParameterError(
            argument, value, reason="is not a time; pass a datetime, date, ISO string or Unix seconds"
        )
    try:
        ts = pd.Timestamp(value)
        if not pd.isna(ts):
            ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    except (ValueError, TypeError, OverflowError, ArithmeticError) as exc:
        raise InvalidParameterError(argument, value, reason=f"is not a readable time ({exc})") from None
    if pd.isna(ts):
        raise InvalidParameterError(argument, value, reason="is not a time")
    if ts < EPOCH:
        raise InvalidParameterError(argument, value, reason="is before 1970-01-01, where the API's Unix time starts")
    return ts


def wall_clock() -> pd.Timestamp:
    """The machine's clock: the one place the package reads the real time.

    Clients and fake organizations without ``now=`` follow it; the tests pin it (``tests/conftest.py``), so the
    suite gives the same results on any date of the machine's clock.

    Examples:
        >>> wall_clock().tz
        datetime.timezone.utc
    """
    return pd.Timestamp.now(tz="UTC")


def to_clock(value: TimeLike) -> pd.Timestamp:
    """Read a fixed "now" (naive is UTC), refusing one that the API's times cannot hold.

    Examples:
        >>> to_clock("2026-11-28 12:00")
        Timestamp('2026-11-28 12:00:00+0000', tz='UTC')
    """
    ts = to_utc(value, argument="now")
    if ts > LATEST:
        raise InvalidParameterError("now", value, reason=f"is after {LATEST:%Y-%m-%d}, the last time pandas can hold")
    return ts.as_unit("ns")


def resolve_window(
    start: TimeLike | None, end: TimeLike | None, *, now: pd.Timestamp
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The UTC window ``[start, end)`` in whole seconds.

    ``end`` defaults to ``now`` and is clamped to it (the API rejects future end times); ``start`` defaults to
    30 days before ``end``.

    Raises:
        InvalidParameterError: If ``start`` is not before ``end``.

    Examples:
        >>> now = pd.Timestamp("2026-11-28 12:00", tz="UTC")
        >>> resolve_window(None, None, now=now)
        (Timestamp('2026-10-29 12:00:00+0000', tz='UTC'), Timestamp('2026-11-28 12:00:00+0000', tz='UTC'))
        >>> resolve_window("2026-11-01", "2027-01-01", now=now)[1]
        Timestamp('2026-11-28 12:00:00+0000', tz='UTC')
    """
    now = now.floor("s")
    stop = now if end is None else min(to_utc(end, argument="end").floor("s"), now)
    begin = stop - DEFAULT_WINDOW if start is None else to_utc(start, argument="start").floor("s")
    if begin >= stop:
        clamped = " (now: end defaults to now and is clamped to now)" if stop == now else ""
        raise InvalidParameterError(
            "start", begin.isoformat(), reason=f"must be before end {stop.isoformat()}{clamped}"
        )
    return begin, stop


def _strings(
    endpoint: Endpoint,
    argument: str,
    value: object,
    choices: Sequence[str] | None,
    seen: Sequence[str] | None = None,
) -> tuple[str, ...]:
    """A str or a sequence of str, checked against ``choices``, deduplicated in first-seen order.

    With ``seen`` (an enum the API is known to outgrow), a value in neither ``choices`` nor ``seen`` is sent
    anyway, with a :class:`~usage_frames.UsageFramesWarning`: the server knows its own values best.
    """
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, Sequence | set | frozenset) or isinstance(values, bytes):
        raise InvalidParameterError(argument, value, reason="must be a str or a list of str")
    out: list[str] = []
    for v in values:
        if not isinstance(v, str) or not v.strip():
            raise InvalidParameterError(argument, v, reason="must be a non-empty str")
        if choices is not None and v not in choices:
            if seen is None:
                raise InvalidParameterError(argument, v, choices, reason=f"is not allowed for {endpoint.name}")
            if v not in seen:
                known = ", ".join(map(repr, (*choices, *seen)))
                warnings.warn(
                    f"{argument}: {v!r} is not a value known for {endpoint.name} ({known}); sent as given, since "
                    "the API's list is known to be incomplete",
                    UsageFramesWarning,
                    stacklevel=4,
                )
        if v not in out:
            out.append(v)
    return tuple(out)


def build_query(
    endpoint: Endpoint,
    start: TimeLike | None = None,
    end: TimeLike | None = None,
    *,
    bucket_width: str = "1d",
    group_by: str | Sequence[str] | None = None,
    limit: int | None = None,
    filters: Mapping[str, FilterValue | None] | None = None,
    now: pd.Timestamp | None = None,
) -> Query:
    """Validate the user's arguments for one endpoint.

    Args:
        endpoint: The endpoint's row (``provider.endpoint(name)``).
        start: Inclusive start; defaults to 30 days before ``end``.
        end: Exclusive end; defaults to now and is clamped to now.
        bucket_width: ``"1m"``, ``"1h"`` or ``"1d"`` (costs: ``"1d"`` only).
        group_by: One group key or several; checked against the endpoint's keys.
        limit: Buckets per page; defaults to the endpoint's maximum for the width (the fewest requests).
        now: The current time (for tests); defaults to the clock.
        filters: The endpoint's filters by their spec names (``{"project_ids": ...}``); a str is a one-item
            list, ``None`` means "not set".

    Returns:
        The validated query.

    Raises:
        InvalidParameterError: For any argument mistake, naming the argument and the allowed values.

    Examples:
        >>> from usage_frames.providers import DEFAULT
        >>> build_query(DEFAULT.endpoint("costs"), "2026-10-01", "2026-10-02", bucket_width="1h")
        Traceback (most recent call last):
        ...
        usage_frames.InvalidParameterError: bucket_width: '1h' is not allowed for costs; allowed: '1d'
    """
    ep = endpoint
    if not isinstance(bucket_width, str):
        raise InvalidParameterError("bucket_width", bucket_width, ep.bucket_widths, reason="must be a str")
    if bucket_width not in ep.bucket_widths:
        raise InvalidParameterError(
            "bucket_width", bucket_width, ep.bucket_widths, reason=f"is not allowed for {ep.name}"
        )
    width: BucketWidth = bucket_width
    clock = wall_clock() if now is None else to_clock(now)
    begin, stop = resolve_window(start, end, now=clock)

    keys = _strings(ep, "group_by", [] if group_by is None else group_by, ep.group_by)
    ordered_keys = tuple(k for k in ep.group_by if k in keys)

    checked: dict[str, tuple[str, ...] | bool] = {}
    filters = {} if filters is None else filters
    if not isinstance(filters, Mapping):
        raise InvalidParameterError("filters", filters, reason="must be a mapping of filter names to values")
    for name in filters:
        if name not in ep.filter_names:
            raise InvalidParameterError("filter", name, ep.filter_names, reason=f"is not a filter of {ep.name}")
    for flt in ep.filters:
        value = filters.get(flt.name)
        if value is None:
            continue
        if flt.kind == "bool":
            if not isinstance(value, bool):
                raise InvalidParameterError(flt.name, value, (True, False), reason="must be a bool")
            checked[flt.name] = value
            continue
        values = _strings(ep, flt.name, value, flt.choices, flt.seen)
        if not values:
            raise InvalidParameterError(
                flt.name, value, reason="is empty and would match nothing; leave it out to match everything"
            )
        checked[flt.name] = tuple(sorted(values))

    limits = ep.limits[width]
    if limit is None:
        limit = limits.max
    elif isinstance(limit, bool) or not isinstance(limit, numbers.Integral) or not 1 <= limit <= limits.max:
        raise InvalidParameterError(
            "limit", limit, reason=f"must be an int from 1 to {limits.max} for bucket_width={width!r}"
        )
    return Query(ep, begin, stop, width, ordered_keys, checked, int(limit))


# Each width's calendar window holds at most one page of the largest size (1440 minutes, 168 hours, 31 days).
WINDOW_FREQ: Mapping[BucketWidth, str] = {"1m": "D", "1h": "W-MON", "1d": "MS"}


def windows(query: Query) -> list[Query]:
    """Cut a query into calendar-aligned windows: UTC days for ``1m``, ISO weeks for ``1h``, months for ``1d``.

    The same history always maps to the same requests, so closed windows can be cached forever, and each
    window is one page at the largest page size.

    Examples:
        >>> from usage_frames.providers import DEFAULT
        >>> q = build_query(DEFAULT.endpoint("completions"), "2026-09-20", "2026-11-03T12:00",
        ...                 now=pd.Timestamp("2026-11-28", tz="UTC"))
        >>> [(w.start.strftime("%m-%d"), w.end.strftime("%m-%d %H:%M")) for w in windows(q)]
        [('09-20', '10-01 00:00'), ('10-01', '11-01 00:00'), ('11-01', '11-03 12:00')]
    """
    start, end = query.start, query.end
    freq = WINDOW_FREQ[query.bucket_width]
    inner = pd.date_range(start.floor("D"), end, freq=freq, normalize=True)
    cuts = [start, *(t for t in inner if start < t < end), end]
    return [replace(query, start=a, end=b) for a, b in itertools.pairwise(cuts)]


def bucket_count(query: Query) -> int:
    """How many buckets the window spans at its width (edge buckets count whole; costs days are UTC days).

    Examples:
        >>> from usage_frames.providers import DEFAULT
        >>> bucket_count(build_query(DEFAULT.endpoint("completions"), "2026-10-01", "2026-10-31", bucket_width="1h"))
        720
    """
    seconds = BUCKET_SECONDS[query.bucket_width]
    first = unix(query.start) // seconds
    last = -(-unix(query.end) // seconds)
    return int(last - first)


def parse_query(endpoint: Endpoint, values: Mapping[str, Sequence[str]]) -> Query:
    """The query a request of an endpoint carries, read as its provider spells it (the inverse of ``params``).

    What a fake API or a recording reads from a request the client sent (``parse_qs`` of its query string); arrays
    are read with or without brackets. It validates nothing the client validated already.

    Examples:
        >>> from usage_frames.providers import DEFAULT
        >>> q = build_query(DEFAULT.endpoint("costs"), "2026-10-01", "2026-10-08", group_by="project_id",
        ...                 filters={"project_ids": ["proj_a"]}, now=pd.Timestamp("2026-11-01", tz="UTC"))
        >>> from urllib.parse import parse_qs, urlencode
        >>> parse_query(q.endpoint, parse_qs(urlencode(q.params()))) == q
        True
    """
    wire = endpoint.wire

    def many(name: str) -> list[str]:
        return [*values.get(name, ()), *values.get(f"{name}[]", ())]

    start, end = (wire.read_time(values[name][0]) for name in (wire.start, wire.end))
    width: Any = (values.get("bucket_width") or ["1d"])[0]
    keys = set(many("group_by"))
    filters: dict[str, tuple[str, ...] | bool] = {}
    for flt in endpoint.filters:
        chosen = many(flt.name)
        if chosen:
            filters[flt.name] = chosen[0] == "true" if flt.kind == "bool" else tuple(chosen)
    limit = int((values.get("limit") or [str(endpoint.limits[width].max)])[0])
    return Query(endpoint, start, end, width, tuple(k for k in endpoint.group_by if k in keys), filters, limit)
