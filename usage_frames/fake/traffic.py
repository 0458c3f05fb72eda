"""How much traffic does a fake organization have, hour by hour?

Streams (steady sources of traffic with fixed group-key values), their seasonality (hour of day, weekday, growth,
one spike day, idle days) and the exact hourly ground truth, hashed from (stream, hour) so nothing is stored. Each
provider's fake names its own streams and quantities; the engine is the same for all.

Examples:
    >>> s = Stream("calls", {"project_id": "p"}, 100, {"requests": 1, "tokens": 50})
    >>> hourly(s, np.array([495248]))["tokens"].tolist()  # the fake's traffic
    [2128]
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from usage_frames._core.schema import Endpoint, unix

HOUR = 3600
DAY = 86400
ORG_START = unix(pd.Timestamp("2025-06-01", tz="UTC"))
SPIKE_DAY = unix(pd.Timestamp("2026-10-14", tz="UTC")) // DAY
SPIKE_FACTOR = 8.0
GIB = 2**30


@dataclass(frozen=True, slots=True)
class Stream:
    """One steady source of traffic of the fake organization.

    Attributes:
        endpoint: The endpoint it shows up in.
        keys: Its group-key values (keys the endpoint does not group by are left out).
        rate: Requests (or images, sessions, calls) per hour at the daily peak, before growth and noise.
        per_request: Units per request of each metric component (tokens, characters, seconds, bytes).
        profile: ``"office"`` (daytime, quiet weekends), ``"night"`` (batch jobs around 02:00 UTC) or ``"flat"``.
        growth: Relative growth per year.
        spike: Whether it multiplies by :data:`SPIKE_FACTOR` on the spike day.
        idle: Whether it has idle days (no traffic at all on about a third of the days, and on weekends).
    """

    endpoint: str
    keys: Mapping[str, Any]
    rate: float
    per_request: Mapping[str, float]
    profile: Literal["office", "night", "flat"] = "office"
    growth: float = 0.6
    spike: bool = False
    idle: bool = False

    @property
    def seed(self) -> int:
        """A stable seed from the stream's identity."""
        return zlib.crc32(repr((self.endpoint, sorted(self.keys.items()))).encode())


def interval_table(series: Mapping[str, np.ndarray], first_hour: int, bounds: np.ndarray) -> dict[str, np.ndarray]:
    """Interval sums of every component of a stream at once (one 2-D pass)."""
    names = list(series)
    sums = interval_sums(np.stack([series[name] for name in names]), first_hour, bounds)
    return dict(zip(names, sums, strict=True))


def sum_parts(sums: Mapping[str, np.ndarray], parts: Sequence[str]) -> np.ndarray:
    """Interval sums of several components added up (a copy: callers add to it)."""
    total: np.ndarray = sums[parts[0]].copy()
    for part in parts[1:]:
        total += sums[part]
    return total


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64, vectorised: a well-spread 64-bit hash."""
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    mixed: np.ndarray = x ^ (x >> np.uint64(31))
    return mixed


def _uniform(seed: int, values: np.ndarray) -> np.ndarray:
    """Deterministic numbers in [0, 1), one per value."""
    bits = _mix(values.astype(np.uint64) ^ np.uint64(seed))
    return (bits >> np.uint64(11)).astype(np.float64) / float(2**53)


def _idle_days(days: np.ndarray) -> np.ndarray:
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    return (weekday >= 5) | (_uniform(0x1D1E, days) < 0.3)


def hourly(stream: Stream, hours: np.ndarray) -> dict[str, np.ndarray]:
    """The stream's components for each hour index (Unix seconds // 3600), as int64 arrays.

    Examples:
        >>> s = Stream("calls", {"project_id": "p"}, 400, {"requests": 1})
        >>> hourly(s, np.array([495248, 495249]))["requests"].tolist()  # the fake's traffic
        [189, 237]
    """
    days = hours // 24
    hod = (hours % 24).astype(np.float64)
    if stream.profile == "office":
        shape = 0.15 + 0.85 * np.exp(-(((hod - 14.0) / 4.5) ** 2))
        shape = shape * np.where((days + 3) % 7 >= 5, 0.3, 1.0)
    elif stream.profile == "night":
        shape = 0.05 + 0.95 * np.exp(-(((hod - 2.0) / 2.0) ** 2))
    else:
        shape = np.ones_like(hod)
    growth = 1.0 + stream.growth * (hours - ORG_START // HOUR) / (365.0 * 24)
    noise = 0.75 + 0.5 * _uniform(stream.seed, hours)
    rate = stream.rate * shape * growth * noise * (hours >= ORG_START // HOUR)
    if stream.spike:
        rate = rate * np.where(days == SPIKE_DAY, SPIKE_FACTOR, 1.0)
    if stream.idle:
        rate = rate * ~_idle_days(days)
    out: dict[str, np.ndarray] = {}
    if "usage_bytes" in stream.per_request:
        # A level, not a flow: storage grows slowly; noise is a per-day step, not per hour.
        size = stream.per_request["usage_bytes"] * growth * (0.98 + 0.04 * _uniform(stream.seed, days))
        out["usage_bytes"] = np.floor(size * (hours >= ORG_START // HOUR)).astype(np.int64)
        out["gib_hours"] = out["usage_bytes"]  # priced per GiB-hour; scaled at pricing time
        return out
    mix = 0.85 + 0.3 * _uniform(stream.seed ^ 0xA5A5, hours)
    for name, per in stream.per_request.items():
        factor = 1.0 if name == "requests" else mix
        out[name] = np.floor(rate * per * factor).astype(np.int64)
    return out


def hourly_over(stream: Stream, bounds: np.ndarray) -> dict[str, np.ndarray]:
    """The stream's components for every hour that intervals with these edges (Unix seconds) touch."""
    return hourly(stream, np.arange(bounds[0] // HOUR, -(-bounds[-1] // HOUR) + 1, dtype=np.int64))


def interval_sums(values: np.ndarray, first_hour: int, bounds: np.ndarray) -> np.ndarray:
    """Sums of an hourly series over ``[bounds[i], bounds[i+1])`` (seconds), exactly and additively.

    A partial hour gets ``floor(value * seconds / 3600)`` of it, so the cumulative sum ``C(t)`` is monotone and
    every interval sum is ``C(b) - C(a)``: the buckets of any width add up to the same totals.

    Examples:
        >>> interval_sums(np.array([60, 120]), 0, np.array([0, 1800, 3600, 5400]))
        array([30, 30, 60])
    """
    zero = np.zeros((*values.shape[:-1], 1), dtype=values.dtype)
    cumulative = np.concatenate([zero, np.cumsum(values, axis=-1), zero], axis=-1)
    padded = np.concatenate([values, zero], axis=-1)
    index = bounds // HOUR - first_hour
    partial = (padded[..., index] * (bounds % HOUR)) // HOUR
    sums: np.ndarray = np.diff(cumulative[..., index] + partial, axis=-1)
    return sums


def unproducible(
    streams: Sequence[Stream],
    endpoints: Mapping[str, Endpoint],
    field_sources: Callable[[Endpoint], Mapping[str, tuple[str, ...]]],
) -> list[str]:
    """What an endpoint table asks that ``streams`` cannot produce: fields without quantity, keys without stream.

    Every usage endpoint needs a stream; each stream must have every quantity its endpoint's fields add up
    (``field_sources``) and a value for each of its endpoint's group keys, and no other key.

    Examples:
        >>> from usage_frames.providers import DEFAULT
        >>> costs = {"costs": DEFAULT.endpoint("costs")}  # the bill: no stream of its own
        >>> unproducible([], {**costs, "images": DEFAULT.endpoint("images")}, lambda e: {})
        ['images: no stream']
        >>> unproducible([Stream("images", {"size": "1024x1024"}, 1, {"requests": 1})],
        ...              {"images": DEFAULT.endpoint("images")}, lambda e: {"images": ("images",)})[0]
        "images.images: no quantity 'images' in the stream {'size': '1024x1024'}"
    """
    produced = {s.endpoint for s in streams}
    problems = [f"{name}: no stream" for name, ep in endpoints.items() if not ep.priced and name not in produced]
    for stream in streams:
        endpoint = endpoints[stream.endpoint]
        quantities = set(hourly(stream, np.array([ORG_START // HOUR])))
        for name, parts in field_sources(endpoint).items():
            missing = [p for p in parts if p not in quantities]
            problems += [f"{endpoint.name}.{name}: no quantity {p!r} in the stream {stream.keys}" for p in missing]
        if set(stream.keys) != set(endpoint.group_by):
            problems.append(f"{endpoint.name}: stream keys {sorted(stream.keys)} are not its group keys")
    return problems
