"""How much traffic does the fake organization have, hour by hour?

Streams (steady sources of traffic with fixed group-key values), their seasonality (hour of day, weekday, growth,
one spike day, idle days) and the exact hourly ground truth, hashed from (stream, hour) so nothing is stored.

Examples:
    >>> len(default_streams()) > 10
    True
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from usage_frames.endpoints import ENDPOINTS, PEOPLE_KEYS, Endpoint, EndpointName
from usage_frames.query import unix

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

    endpoint: EndpointName
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


def _completion(
    project: str,
    user: str,
    key: str,
    model: str,
    rate: float,
    tokens_in: float,
    tokens_out: float,
    *,
    cached: float = 0.4,
    write: float = 0.05,
    audio: float = 0.0,
    image: float = 0.0,
    batch: bool = False,
    tier: str = "default",
    source: str = "unlabeled",
    endpoint: EndpointName = "completions",
    **kwargs: Any,
) -> Stream:
    """A completions-like stream; token components per request split by cache state and modality."""
    text = 1.0 - audio - image
    fresh = tokens_in * (1 - cached - write)
    cached_in = tokens_in * cached
    per_request = {
        "requests": 1.0,
        "input_text_tokens": fresh * text,
        "input_audio_tokens": fresh * audio,
        "input_image_tokens": fresh * image,
        "input_cached_text_tokens": cached_in * text,
        "input_cached_audio_tokens": cached_in * audio,
        "input_cached_image_tokens": cached_in * image,
        "input_cache_write_30m_tokens": tokens_in * write * 0.7,
        "input_cache_write_12h_tokens": tokens_in * write * 0.3,
        "output_text_tokens": tokens_out * (1 - audio),
        "output_audio_tokens": tokens_out * audio,
        "output_image_tokens": 0.0,
    }
    values = (project, user, key, model, batch, tier, source)  # in the table's order of its group keys
    keys: dict[str, Any] = dict(zip(ENDPOINTS[endpoint].group_by, values, strict=True))
    return Stream(endpoint, keys, rate, per_request, **kwargs)


def _people(project: str, user: str, key: str, model: str | None = None, **extra: Any) -> dict[str, Any]:
    keys: dict[str, Any] = dict(zip(PEOPLE_KEYS, (project, user, key, model), strict=True))
    return {k: v for k, v in keys.items() if v is not None} | extra


def default_streams() -> tuple[Stream, ...]:
    """The standard fake organization: four projects, five users, six keys, traffic on all twelve endpoints."""
    chat, search, nightly, lab = "proj_chat", "proj_search", "proj_batch", "proj_lab"
    ana, ben, chen, dia, eli = "user-ana", "user-ben", "user-chen", "user-dia", "user-eli"
    prod, dev = "key_chat_prod", "key_chat_dev"
    gpt4o, mini, mini41, o3 = "gpt-4o-2024-08-06", "gpt-4o-mini-2024-07-18", "gpt-4.1-mini-2025-04-14", "o3-2025-04-16"
    gen, edit = "image.generation", "image.edit"
    # fmt: off
    return (
        #           project  user  key           model   rate/h tokens in, out per request
        _completion(chat,    ana,  prod,         gpt4o,  120,   1800, 350, image=0.05),
        _completion(chat,    ben,  prod,         mini,   400,   900,  200, cached=0.45),
        _completion(chat,    ana,  dev,          mini41, 30,    1200, 300, cached=0.2, tier="flex"),
        _completion(chat,    ben,  prod,         gpt4o,  40,    2500, 500, cached=0.6, audio=0.1, tier="priority",
                    source="agents_api"),
        _completion(search,  chen, "key_search", mini,   200,   3000, 250, cached=0.7, write=0.1,
                    source="agents_api", spike=True),
        _completion(nightly, dia,  "key_batch",  mini,   600,   1500, 400, cached=0.1, write=0, batch=True,
                    profile="night"),
        _completion(nightly, dia,  "key_batch",  gpt4o,  80,    2000, 600, cached=0.1, write=0, batch=True,
                    profile="night"),
        _completion(lab,     eli,  "key_lab",    o3,     15,    5000, 3000, cached=0.3, idle=True),
        _completion(chat,    ana,  prod,         mini,   60,    1500, 300, cached=0.5, source="agents_api",
                    endpoint="decisions"),
        #      endpoint, group keys, rate per hour at peak, units per request
        Stream("embeddings", _people(search, chen, "key_search", "text-embedding-3-small"), 900,
               {"requests": 1, "input_tokens": 500}, spike=True),
        Stream("embeddings", _people(chat, ben, prod, "text-embedding-3-large"), 100,
               {"requests": 1, "input_tokens": 800}),
        Stream("moderations", _people(chat, ana, prod, "omni-moderation-latest"), 300,
               {"requests": 1, "input_tokens": 200}),
        Stream("images", _people(chat, ana, prod, "gpt-image-1", size="1024x1024", source=gen), 6,
               {"requests": 1, "images": 1.5}),
        # 1536x1024 is a gpt-image-1 size missing from the spec's filter enum: results carry any size string.
        Stream("images", _people(chat, ana, prod, "gpt-image-1", size="1536x1024", source=edit), 2,
               {"requests": 1, "images": 1}),
        Stream("images", _people(lab, eli, "key_lab", "dall-e-3", size="1024x1792", source=gen), 3,
               {"requests": 1, "images": 1}, idle=True),
        Stream("audio_speeches", _people(chat, ben, prod, "tts-1"), 20, {"requests": 1, "characters": 400}),
        Stream("audio_transcriptions", _people(chat, ana, prod, "whisper-1"), 10, {"requests": 1, "seconds": 45}),
        Stream("vector_stores", {"project_id": search}, 1, {"usage_bytes": 2.5 * GIB}, profile="flat"),
        Stream("vector_stores", {"project_id": lab}, 1, {"usage_bytes": 0.3 * GIB}, profile="flat", growth=0.2),
        Stream("code_interpreter_sessions", {"project_id": lab}, 3, {"sessions": 1}, idle=True),
        Stream("code_interpreter_sessions", {"project_id": chat}, 1, {"sessions": 1}),
        Stream("file_search_calls", _people(search, chen, "key_search", vector_store_id="vs_docs"), 150,
               {"calls": 1}, spike=True),
        Stream("file_search_calls", _people(search, chen, "key_search", vector_store_id="vs_faq"), 60, {"calls": 1}),
        Stream("web_search_calls", _people(search, chen, "key_search", mini, context_level="medium",
                                           api_source="agents_api"), 50, {"requests": 1, "calls": 1.6}),
        Stream("web_search_calls", _people(chat, ana, prod, gpt4o, context_level="high", api_source="unlabeled"),
               10, {"requests": 1, "calls": 2.2}),
    )
    # fmt: on


# The fake's own facts about the table's result fields: the traffic quantity a field counts where the names differ
# (every other field counts the quantity of its own name) ...
QUANTITIES: Mapping[str, str] = {"num_model_requests": "requests", "num_sessions": "sessions", "num_requests": "calls"}
# ... and the fields that add up other fields of their endpoint, when it has them (completions and decisions break
# their tokens down by cache state and modality; embeddings count input_tokens as they are).
BREAKDOWNS: Mapping[str, tuple[str, ...]] = {  # the token arithmetic of endpoints.py (spec 2.3.0)
    "input_tokens": ("input_cached_tokens", "input_cache_write_tokens", "input_uncached_tokens"),
    "input_cached_tokens": ("input_cached_text_tokens", "input_cached_audio_tokens", "input_cached_image_tokens"),
    "input_cache_write_tokens": ("input_cache_write_30m_tokens", "input_cache_write_12h_tokens"),
    "input_uncached_tokens": ("input_text_tokens", "input_audio_tokens", "input_image_tokens"),
    "output_tokens": ("output_text_tokens", "output_audio_tokens", "output_image_tokens"),
}


def field_sources(endpoint: Endpoint) -> dict[str, tuple[str, ...]]:
    """The traffic quantities each result field of a usage endpoint adds up, derived from its fields in the table.

    Examples:
        >>> from usage_frames.endpoints import ENDPOINTS
        >>> field_sources(ENDPOINTS["embeddings"])
        {'input_tokens': ('input_tokens',), 'num_model_requests': ('requests',)}
        >>> field_sources(ENDPOINTS["completions"])["input_cache_write_tokens"]
        ('input_cache_write_30m_tokens', 'input_cache_write_12h_tokens')
    """
    names = {f.name for f in endpoint.fields}

    def sources(name: str) -> tuple[str, ...]:
        parts = BREAKDOWNS.get(name, ())
        if parts and set(parts) <= names:
            return tuple(source for part in parts for source in sources(part))
        return (QUANTITIES.get(name, name),)

    return {f.name: sources(f.name) for f in endpoint.fields}


# Every usage endpoint's result fields, from the table: what the fake adds up for each.
FIELD_SOURCES: Mapping[EndpointName, Mapping[str, tuple[str, ...]]] = {
    name: field_sources(endpoint) for name, endpoint in ENDPOINTS.items() if not endpoint.priced
}


def unproducible(streams: Sequence[Stream], endpoints: Mapping[EndpointName, Endpoint] = ENDPOINTS) -> list[str]:
    """What the table asks that ``streams`` cannot produce: fields with no traffic quantity, keys no stream has.

    Every usage endpoint needs a stream; each stream must have every quantity its endpoint's fields add up
    (:func:`field_sources`) and a value for each of its endpoint's group keys, and no other key.

    Examples:
        >>> unproducible(default_streams())
        []
        >>> unproducible([s for s in default_streams() if s.endpoint != "images"])
        ['images: no stream']
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


def _sources(endpoint: EndpointName, name: str) -> tuple[str, ...]:
    return FIELD_SOURCES[endpoint][name]


def _interval_table(series: Mapping[str, np.ndarray], first_hour: int, bounds: np.ndarray) -> dict[str, np.ndarray]:
    """Interval sums of every component of a stream at once (one 2-D pass)."""
    names = list(series)
    sums = interval_sums(np.stack([series[name] for name in names]), first_hour, bounds)
    return dict(zip(names, sums, strict=True))


def _sum_parts(sums: Mapping[str, np.ndarray], parts: Sequence[str]) -> np.ndarray:
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
        >>> s = default_streams()[1]
        >>> hourly(s, np.array([495248, 495249]))["requests"].tolist()
        [187, 242]
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
