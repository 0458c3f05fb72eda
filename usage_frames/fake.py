"""A deterministic fake OpenAI organization and the fake Usage and Costs API over it.

The organization is a handful of *streams*: steady sources of traffic, each with fixed group-key values (project,
user, key, model, batch, tier, ...) and a rate that follows the hour of day, the weekday, a growth trend, one spike
day and, for one project, idle days. Its ground truth is hourly and computed on demand from a hash of (stream,
hour), so any window of any width is exact and nothing is stored. Costs are the usage priced by :data:`PRICES`,
so joining usage with costs recovers the price table.

:meth:`FakeOrganization.respond` is a pure function of (method, path, query, headers) that follows the spec's
semantics. It is served two ways: :class:`FakeServer`, a real HTTP server on 127.0.0.1 (``usage-frames
serve-fake``), and :class:`FakeAdapter`, mountable on a ``requests.Session``. Both can inject :class:`Fault` s.

Examples:
    >>> org = FakeOrganization()
    >>> reply = org.respond("GET", "/organization/usage/embeddings",
    ...                     {"start_time": ["1790812800"], "end_time": ["1790899200"]},
    ...                     {"Authorization": "Bearer sk-admin-x"})
    >>> reply.status, msgspec.json.decode(reply.body)["data"][0]["results"][0]["input_tokens"]
    (200, 9572213)
    >>> org.total("embeddings", "input_tokens", "2026-10-01", "2026-10-02")
    9572213
"""

from __future__ import annotations

import base64
import io
import socket
import threading
import time
import zlib
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

import msgspec
import numpy as np
import pandas as pd
import requests
from requests.adapters import BaseAdapter
from urllib3.response import HTTPResponse

import usage_frames.query
from usage_frames.endpoints import BUCKET_SECONDS, ENDPOINTS, Endpoint, EndpointName
from usage_frames.errors import InvalidParameterError
from usage_frames.query import TimeLike, earliest_start, to_clock, to_utc, unix
from usage_frames.transport.send import DEFAULT_BASE_URL

HOUR = 3600
DAY = 86400
ORG_START = unix(pd.Timestamp("2025-06-01", tz="UTC"))
SPIKE_DAY = unix(pd.Timestamp("2026-10-14", tz="UTC")) // DAY
SPIKE_FACTOR = 8.0
GIB = 2**30
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

# (input, cached input, output) USD per 1M tokens; images per image; tts per 1M characters; whisper per second.
TOKEN_PRICES: Mapping[str, tuple[float, float, float]] = {
    "gpt-4o-2024-08-06": (2.50, 1.25, 10.00),
    "gpt-4o-mini-2024-07-18": (0.15, 0.075, 0.60),
    "gpt-4.1-mini-2025-04-14": (0.40, 0.10, 1.60),
    "o3-2025-04-16": (2.00, 0.50, 8.00),
    "text-embedding-3-small": (0.02, 0.02, 0.0),
    "text-embedding-3-large": (0.13, 0.13, 0.0),
}
# Batch and flex run at half price, priority at 1.75x (the fake's assumption, close to the public price list).
TIER_FACTORS: Mapping[str, float] = {"batch": 0.5, "flex": 0.5, "priority": 1.75}
UNIT_PRICES: Mapping[str, float] = {
    "gpt-image-1": 0.04,
    "dall-e-3": 0.08,
    "tts-1": 15.0 / 1e6,
    "whisper-1": 0.006 / 60,
    "vector store storage": 0.10 / 24,  # per GiB-hour ($0.10 per GiB-day)
    "code interpreter | sessions": 0.03,
    "assistants api | file search": 2.50 / 1000,
    "web search tool calls": 10.0 / 1000,
}


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
    keys = {
        "project_id": project,
        "user_id": user,
        "api_key_id": key,
        "model": model,
        "batch": batch,
        "service_tier": tier,
        "api_source": source,
    }
    return Stream(endpoint, keys, rate, per_request, **kwargs)


def _people(project: str, user: str, key: str, model: str | None = None, **extra: Any) -> dict[str, Any]:
    keys: dict[str, Any] = {"project_id": project, "user_id": user, "api_key_id": key}
    return keys | ({"model": model} if model else {}) | extra


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


# How each endpoint's result fields derive from stream components (sums of components).
FIELD_SOURCES: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "completions": {
        "input_tokens": (
            "input_text_tokens",
            "input_audio_tokens",
            "input_image_tokens",
            "input_cached_text_tokens",
            "input_cached_audio_tokens",
            "input_cached_image_tokens",
            "input_cache_write_30m_tokens",
            "input_cache_write_12h_tokens",
        ),
        "output_tokens": ("output_text_tokens", "output_audio_tokens", "output_image_tokens"),
        "num_model_requests": ("requests",),
        "input_cached_tokens": (
            "input_cached_text_tokens",
            "input_cached_audio_tokens",
            "input_cached_image_tokens",
        ),
        "input_cache_write_tokens": ("input_cache_write_30m_tokens", "input_cache_write_12h_tokens"),
        "input_uncached_tokens": ("input_text_tokens", "input_audio_tokens", "input_image_tokens"),
    },
    "embeddings": {"input_tokens": ("input_tokens",), "num_model_requests": ("requests",)},
    "images": {"images": ("images",), "num_model_requests": ("requests",)},
    "audio_speeches": {"characters": ("characters",), "num_model_requests": ("requests",)},
    "audio_transcriptions": {"seconds": ("seconds",), "num_model_requests": ("requests",)},
    "vector_stores": {"usage_bytes": ("usage_bytes",)},
    "code_interpreter_sessions": {"num_sessions": ("sessions",)},
    "file_search_calls": {"num_requests": ("calls",)},
    "web_search_calls": {"num_model_requests": ("requests",), "num_requests": ("calls",)},
}
FIELD_SOURCES = {
    **FIELD_SOURCES,
    "decisions": FIELD_SOURCES["completions"],
    "moderations": FIELD_SOURCES["embeddings"],
}


def _sources(endpoint: EndpointName, name: str) -> tuple[str, ...]:
    return FIELD_SOURCES[endpoint].get(name, (name,))


def line_items(stream: Stream) -> list[tuple[str, tuple[str, ...], str | None, float]]:
    """The costs line items of a stream: (line item, components it counts, quantity unit, USD per unit).

    Named as real bills name them (``api-notes.md`` section 11): ``[<tier> | ]<model>[ audio| image], <input |
    cached input | cache writes | output>``, text without a modality suffix. Every modality is priced at the
    model's token price (the fake's simplification), so the items split the dollars without changing them.

    Examples:
        >>> [li[0] for li in line_items(default_streams()[5])]
        ['batch | gpt-4o-mini-2024-07-18, input', 'batch | gpt-4o-mini-2024-07-18, cached input', \
'batch | gpt-4o-mini-2024-07-18, output']
        >>> [li[0] for li in line_items(default_streams()[3])][4:7]
        ['priority | gpt-4o-2024-08-06 audio, input', 'priority | gpt-4o-2024-08-06 audio, cached input', \
'priority | gpt-4o-2024-08-06 audio, output']
    """
    keys, ep = stream.keys, stream.endpoint
    model = str(keys.get("model"))
    if ep in ("completions", "decisions"):
        tier = "batch" if keys["batch"] else keys["service_tier"]
        factor = TIER_FACTORS.get(tier, 1.0)
        prefix = ("decisions | " if ep == "decisions" else "") + (f"{tier} | " if tier in TIER_FACTORS else "")
        price_in, price_cached, price_out = (p * factor / 1e6 for p in TOKEN_PRICES[model])
        items: list[tuple[str, tuple[str, ...], str | None, float]] = []
        for modality in ("text", "audio", "image"):
            suffix = "" if modality == "text" else f" {modality}"
            for kind, part, price in (("input", f"input_{modality}_tokens", price_in),
                                      ("cached input", f"input_cached_{modality}_tokens", price_cached),
                                      ("output", f"output_{modality}_tokens", price_out)):  # fmt: skip
                if modality == "text" or stream.per_request.get(part, 0) > 0:
                    items.append((f"{prefix}{model}{suffix}, {kind}", (part,), "tokens", price))
        if sum(stream.per_request.get(p, 0) for p in FIELD_SOURCES["completions"]["input_cache_write_tokens"]):
            writes = FIELD_SOURCES["completions"]["input_cache_write_tokens"]
            items.insert(2, (f"{prefix}{model}, cache writes", writes, "tokens", price_in))
        return items
    if ep == "embeddings":
        return [(f"{model}, input", ("input_tokens",), "tokens", TOKEN_PRICES[model][0] / 1e6)]
    if ep == "images":
        return [(f"{model}, images", ("images",), "images", UNIT_PRICES[model])]
    if ep == "audio_speeches":
        return [(f"{model}, characters", ("characters",), "characters", UNIT_PRICES[model])]
    if ep == "audio_transcriptions":
        return [(f"{model}, transcription", ("seconds",), "duration_seconds", UNIT_PRICES[model])]
    if ep == "vector_stores":
        return [("vector store storage", ("gib_hours",), "gibibyte_hours", UNIT_PRICES["vector store storage"])]
    if ep == "code_interpreter_sessions":
        item = "code interpreter | sessions"
        return [(item, ("sessions",), None, UNIT_PRICES[item])]
    if ep == "file_search_calls":
        item = "assistants api | file search"
        return [(item, ("calls",), None, UNIT_PRICES[item])]
    if ep == "web_search_calls":
        item = "web search tool calls"
        return [(item, ("calls",), None, UNIT_PRICES[item])]
    return []  # moderations are free


def _interval_table(series: Mapping[str, np.ndarray], first_hour: int, bounds: np.ndarray) -> dict[str, np.ndarray]:
    """Interval sums of every component of a stream at once (one 2-D pass)."""
    names = list(series)
    sums = interval_sums(np.stack([series[name] for name in names]), first_hour, bounds)
    return dict(zip(names, sums, strict=True))


def _sum_parts(sums: Mapping[str, np.ndarray], parts: Sequence[str]) -> np.ndarray:
    """Interval sums of several components added up."""
    total: np.ndarray = np.sum([sums[part] for part in parts], axis=0)
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


@dataclass(frozen=True, slots=True)
class Reply:
    """A fake HTTP answer."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        """The decoded body."""
        return msgspec.json.decode(self.body)


def _error(
    status: int,
    message: str,
    kind: str = "invalid_request_error",
    param: str | None = None,
    code: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Reply:
    body = {"error": {"message": message, "type": kind, "param": param, "code": code}}
    return Reply(status, {"Content-Type": "application/json", **(headers or {})}, msgspec.json.encode(body))


class _BadRequestError(Exception):
    def __init__(self, param: str, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.param = param
        self.code = code


@dataclass
class FakeOrganization:
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

    def mount(self, session: requests.Session, base_url: str, faults: Faults | None = None) -> FakeAPI:
        """Answer every request to ``base_url`` on ``session`` in-process; returns the API (its faults, counts)."""
        return mount(self, session, base_url, faults)

    def clock(self) -> int:
        """The organization's "now" in Unix seconds."""
        return unix(self.now if self.now is not None else usage_frames.query.wall_clock())

    def streams_of(self, endpoint: EndpointName, where: Mapping[str, Any] | None = None) -> list[Stream]:
        """The streams that show up in an endpoint (costs: all of them), optionally filtered by key values."""
        chosen = [s for s in self.streams if endpoint == "costs" or s.endpoint == endpoint]
        for key, allowed in (where or {}).items():
            values = allowed if isinstance(allowed, list | tuple | set | frozenset) else [allowed]
            chosen = [s for s in chosen if s.keys.get(key) in values]
        return chosen

    # --- ground truth -------------------------------------------------------------------------------------

    def total(self, endpoint: EndpointName, field_name: str, start: TimeLike, end: TimeLike, **where: Any) -> float:
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
        total = 0.0
        for stream in self.streams_of(endpoint, where):
            series = self._hourly(stream, bounds)
            if endpoint == "costs":
                for item, parts, _unit, price in line_items(stream):
                    if line_filter is not None and item not in np.atleast_1d(line_filter):
                        continue
                    quantity = sum(int(interval_sums(series[p], bounds[0] // HOUR, bounds)[0]) for p in parts)
                    quantity_f = quantity / GIB if parts == ("gib_hours",) else float(quantity)
                    total += quantity_f * (price if field_name == "amount" else 1.0)
            else:
                for part in _sources(endpoint, field_name):
                    total += int(interval_sums(series[part], bounds[0] // HOUR, bounds)[0])
        return total if endpoint == "costs" else int(total)

    def _hourly(self, stream: Stream, bounds: np.ndarray) -> dict[str, np.ndarray]:
        hours = np.arange(bounds[0] // HOUR, -(-bounds[-1] // HOUR) + 1, dtype=np.int64)
        return hourly(stream, hours)

    # --- the API ------------------------------------------------------------------------------------------

    def respond(self, method: str, path: str, query: Mapping[str, Sequence[str]], headers: Mapping[str, str]) -> Reply:
        """Answer one request as the API would (pure but for the clock).

        Args:
            method: The HTTP method.
            path: The path below the base URL, e.g. ``/organization/costs``.
            query: Parsed query string (``parse_qs`` shape); ``group_by`` and ``group_by[]`` both work.
            headers: The request headers.

        Returns:
            Status, headers and body, with the OpenAI error envelope for errors.
        """
        request_id = "req_" + format(zlib.crc32(repr((path, sorted(query.items()))).encode()), "08x")
        reply = self._respond(method, path, query, headers)
        return replace(reply, headers={**reply.headers, "x-request-id": request_id})

    def _respond(self, method: str, path: str, query: Mapping[str, Sequence[str]], headers: Mapping[str, str]) -> Reply:
        auth = {k.lower(): v for k, v in headers.items()}.get("authorization", "")
        key = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else ""
        if not key:
            return _error(
                401,
                "You didn't provide an API key. You need to provide your API key in an "
                "Authorization header using Bearer auth.",
                code="missing_api_key",
            )
        if not key.startswith("sk-admin-"):
            return _error(
                401,
                "You have insufficient permissions for this operation. Missing scopes: "
                "api.usage.read. Check that you have the correct role in your organization.",
                code="insufficient_permissions",
            )
        if method != "GET":
            return _error(405, f"Method {method} not allowed on {path}")
        endpoint = next((e for e in ENDPOINTS.values() if e.path == path.rstrip("/")), None)
        try:
            if endpoint is not None:
                return self._usage(endpoint, {k.removesuffix("[]"): list(v) for k, v in query.items()})
            return self._directory(path.rstrip("/"), query)
        except _BadRequestError as exc:
            return _error(400, str(exc), param=exc.param, code=exc.code)

    def _directory(self, path: str, query: Mapping[str, Sequence[str]]) -> Reply:
        """The organization's lists (projects, users, project keys, spend alerts) and its spend limit."""
        if path == "/organization/spend_limit":
            limit = {
                "object": "organization.spend_limit",
                "threshold_amount": SPEND_LIMIT_CENTS,
                "currency": "USD",
                "interval": "month",
                "enforcement": {"status": "enforcing"},
            }
            return Reply(200, {"Content-Type": "application/json"}, msgspec.json.encode(limit))
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
                return _error(404, f"No project found with id '{parts[2]}'.", code="not_found")
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
        if items is None:
            return _error(404, f"Invalid URL (GET {path})", code="unknown_url")
        return _list_page(items, query, self.list_page_size)

    def _usage(self, endpoint: Endpoint, query: dict[str, list[str]]) -> Reply:
        allowed = {
            "start_time",
            "end_time",
            "bucket_width",
            "limit",
            "page",
            "group_by",
            *endpoint.filter_names,
        }
        for name in query:
            if name not in allowed:
                raise _BadRequestError(name, f"Unrecognized request argument supplied: {name}")
        now = self.clock()
        start = _int(query, "start_time", required=True)
        end = _int(query, "end_time") or now
        if end > now + 60:
            raise _BadRequestError("end_time", "end_time must not be in the future")
        if end <= start:
            raise _BadRequestError("end_time", "end_time must be after start_time")
        earliest = earliest_start(pd.Timestamp(now, unit="s", tz="UTC"))
        if start < unix(earliest):  # the live API's answer, word for word but the date
            raise _BadRequestError(
                "start_time",
                "Usage and cost data are available for the past year. Earliest supported start date: "
                f"{earliest:%Y-%m-%d} (UTC).",
                code="reporting_lookback_exceeded",
            )
        width = _one(query, "bucket_width") or "1d"
        if width not in endpoint.limits:
            raise _BadRequestError(
                "bucket_width",
                f"Invalid bucket_width '{width}'; supported: " + ", ".join(endpoint.bucket_widths),
            )
        limits = endpoint.limits[width]  # type: ignore[index]
        limit = _int(query, "limit") or limits.default
        if not 1 <= limit <= limits.max:
            raise _BadRequestError("limit", f"limit must be between 1 and {limits.max} for bucket_width={width}")
        group_by = query.get("group_by", [])
        for key in group_by:
            if key not in endpoint.group_by:
                raise _BadRequestError(
                    "group_by", f"Invalid group_by value '{key}'; supported: " + ", ".join(endpoint.group_by)
                )
        # SDK 3.57: costs grouped by user_id together with project_id (grouping or filter) may be refused.
        if endpoint.name == "costs" and "user_id" in group_by and ("project_id" in group_by or "project_ids" in query):
            raise _BadRequestError(
                "group_by",
                "Grouping costs by user_id together with project_id is not supported "
                "for this organization and time range",
            )
        where: dict[str, Any] = {}
        for flt in endpoint.filters:
            values = query.get(flt.name)
            if not values:
                continue
            if flt.kind == "bool":
                if values[0] not in ("true", "false"):
                    raise _BadRequestError(flt.name, f"{flt.name} must be true or false")
                where[flt.key] = values[0] == "true"
            else:
                for v in values:
                    if flt.choices is not None and not flt.open and v not in flt.choices:
                        raise _BadRequestError(flt.name, f"Invalid value '{v}' for {flt.name}")
                where[flt.key] = values

        seconds = BUCKET_SECONDS[width]  # type: ignore[index]
        costs = endpoint.name == "costs"
        first = start - start % DAY if costs else start
        last = -(-end // DAY) * DAY if costs else end
        inner = np.arange((first // seconds + 1) * seconds, last, seconds, dtype=np.int64)
        bounds = np.concatenate([[first], inner, [last]]).astype(np.int64)

        offset = 0
        cursor = _one(query, "page")
        if cursor:
            offset = _decode_cursor(cursor, start)
        n_buckets = len(bounds) - 1
        if offset >= n_buckets:
            raise _BadRequestError("page", "Invalid page cursor for this query")
        page_bounds = bounds[offset : offset + limit + 1]
        has_more = offset + limit < n_buckets
        buckets = self._buckets(
            endpoint,
            page_bounds,
            min(now, end) if not costs else now,
            tuple(k for k in endpoint.group_by if k in group_by),
            where,
        )
        page = {
            "object": "page",
            "data": buckets,
            "has_more": has_more,
            "next_page": _encode_cursor(offset + limit, start) if has_more else None,
        }
        return Reply(200, {"Content-Type": "application/json"}, msgspec.json.encode(page))

    def _buckets(
        self,
        endpoint: Endpoint,
        bounds: np.ndarray,
        now: int,
        group_by: tuple[str, ...],
        where: Mapping[str, Any],
    ) -> list[dict[str, Any]]:
        """Buckets between consecutive bounds, each with one result per non-zero group."""
        clipped = np.minimum(bounds, max(now, int(bounds[0])))
        n = len(bounds) - 1
        filters = dict(where)
        line_filter = filters.pop("line_item", None)
        groups: dict[tuple[Any, ...], dict[str, np.ndarray]] = {}
        units: dict[tuple[Any, ...], set[str | None]] = {}
        costs = endpoint.name == "costs"
        first_hour = int(clipped[0]) // HOUR
        for stream in self.streams_of(endpoint.name, filters):
            series = self._hourly(stream, clipped)
            sums = _interval_table(series, first_hour, clipped)
            if costs:
                for item, parts, unit, price in line_items(stream):
                    if line_filter is not None and item not in line_filter:
                        continue
                    quantity = _sum_parts(sums, parts).astype(np.float64)
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
                    acc[f.name] += _sum_parts(sums, _sources(endpoint.name, f.name))
        if costs:
            per_bucket = [
                [r for g, acc in groups.items() if (r := self._cost_result(group_by, g, acc, units[g], i))]
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
    ) -> list[list[dict[str, Any]]]:
        """Per bucket, one result per group with any usage (vectorised: one ``tolist`` per group)."""
        names = [f.name for f in endpoint.fields if f.name not in self.omit_fields]
        keys = [k for k in endpoint.group_by if k not in self.omit_fields]
        per_bucket: list[list[dict[str, Any]]] = [[] for _ in range(n)]
        for group, acc in groups.items():
            head: dict[str, Any] = {"object": endpoint.result_object}
            head.update({k: group[group_by.index(k)] if k in group_by else None for k in keys})
            rows = np.column_stack([acc[name] for name in names]).tolist() if names else [[]] * n
            for i, row in enumerate(rows):
                if any(row):
                    result = dict(zip(names, row, strict=True))
                    result.update(head)
                    per_bucket[i].append(result)
        return per_bucket

    def _cost_result(
        self,
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
            "object": "organization.costs.result",
            "amount": {"value": str(amount) if self.amount_as_string else amount, "currency": "usd"},
            "quantity": float(acc["quantity"][i]) if by_line else None,
            "quantity_unit": next(iter(units)) if by_line and len(units) == 1 else None,
        }
        for key in ENDPOINTS["costs"].group_by:
            result[key] = group[group_by.index(key)] if key in group_by else None
        for name in self.omit_fields:
            result.pop(name, None)
        return result


def _list_page(items: list[dict[str, Any]], query: Mapping[str, Sequence[str]], cap: int) -> Reply:
    """One page of a list endpoint: ``limit`` (default 20, at most ``cap``) items after the ``after`` id."""
    limit = min(int((query.get("limit") or ["20"])[0]), cap)
    afters = query.get("after")
    after = afters[0] if afters else None
    ids = [item["id"] for item in items]
    if after is not None and after not in ids:
        raise _BadRequestError("after", f"Invalid 'after': no object with id '{after}'")
    start = ids.index(after) + 1 if after is not None else 0
    data = items[start : start + limit]
    page = {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": start + limit < len(items),
    }
    return Reply(200, {"Content-Type": "application/json"}, msgspec.json.encode(page))


def _one(query: Mapping[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise _BadRequestError(name, f"{name} must be given once")
    return values[0]


def _int(query: Mapping[str, list[str]], name: str, required: bool = False) -> int:
    value = _one(query, name)
    if value is None:
        if required:
            raise _BadRequestError(name, f"Missing required parameter: '{name}'.")
        return 0
    try:
        return int(value)
    except ValueError:
        raise _BadRequestError(name, f"Invalid integer for {name}: '{value}'") from None


def _encode_cursor(offset: int, start: int) -> str:
    return "page_" + base64.urlsafe_b64encode(f"{offset}:{start}".encode()).decode()


def _decode_cursor(cursor: str, start: int) -> int:
    try:
        offset, origin = base64.urlsafe_b64decode(cursor.removeprefix("page_")).decode().split(":")
        if int(origin) != start:
            raise ValueError
        return int(offset)
    except ValueError:
        raise _BadRequestError("page", "Invalid page cursor for this query") from None


# --- faults and transports ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Fault:
    """A misbehaviour for one request.

    Attributes:
        kind: ``status`` (an error status with the OpenAI error envelope), ``reset`` (the connection drops
            mid-body), ``truncate`` (200 with half a JSON body), ``html`` (200 with an HTML error page),
            ``stall`` (no answer before the client's read timeout), ``replace`` (200 with ``body``), ``pass``
            (answer normally: lets a script fail the second request, not the first), ``skip`` (the true page
            without its bucket number ``bucket``), ``shift`` (the true page with every bucket moved by
            ``seconds``: an answer for another time window).
        status: The status for ``status`` faults.
        headers: Extra headers (``Retry-After``).
        body: The body for ``replace``, or instead of the error envelope for ``status``.
        bucket: The index of the bucket a ``skip`` fault leaves out.
        seconds: How far a ``shift`` fault moves the buckets (30 days later by default).
    """

    kind: Literal["status", "reset", "truncate", "html", "stall", "replace", "pass", "skip", "shift"] = "status"
    status: int = 500
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    bucket: int = 1
    seconds: int = 30 * DAY


class Faults:
    """Scripted faults (each used once, in order) and optional latency and 429s; thread-safe.

    Args:
        latency: Seconds added to every answer.
        rate_limit: The chance that an answer is a 429 (``Retry-After: 1``).
        seed: Seeds the random 429s.
        max_concurrent: Answer 429 (``Retry-After: 0.1``) to a request that arrives while this many are already
            in flight (0: no limit), as a rate limit on concurrency does; :attr:`throttled` counts them.

    Examples:
        >>> faults = Faults()
        >>> faults.push(Fault(status=429, headers={"Retry-After": "1"}), Fault(status=500))
        >>> [f.status for f in (faults.next(), faults.next())], faults.next()
        ([429, 500], None)
    """

    def __init__(self, latency: float = 0.0, rate_limit: float = 0.0, seed: int = 0, max_concurrent: int = 0) -> None:
        self.latency = latency
        self.rate_limit = rate_limit
        self.max_concurrent = max_concurrent
        self.throttled = 0
        self._random = np.random.default_rng(seed)
        self._queue: deque[Fault] = deque()
        self._lock = threading.Lock()
        self.requests: list[tuple[str, str]] = []
        self.in_flight = 0
        self.max_in_flight = 0

    def push(self, *faults: Fault) -> None:
        """Queue faults for the next requests."""
        with self._lock:
            self._queue.extend(faults)

    def next(self) -> Fault | None:
        """The fault for the next request, if any."""
        with self._lock:
            if self._queue:
                return self._queue.popleft()
            if self.rate_limit and self._random.random() < self.rate_limit:
                return Fault(status=429, headers={"Retry-After": "1"})
        return None

    def enter(self, path: str, query: str) -> Fault | None:
        """Count a request as started (for concurrency checks); a 429 if it is one too many in flight."""
        with self._lock:
            self.requests.append((path, query))
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            if self.max_concurrent and self.in_flight > self.max_concurrent:
                self.throttled += 1
                return Fault(status=429, headers={"Retry-After": "0.1"})
        return None

    def leave(self) -> None:
        """Count a request as finished."""
        with self._lock:
            self.in_flight -= 1


def _apply(fault: Fault | None, reply: Reply) -> Reply:
    if fault is None or fault.kind in ("reset", "stall", "pass"):
        return reply
    if fault.kind == "status":
        message = "Rate limit reached for requests" if fault.status == 429 else "The server had an error"
        error = _error(
            fault.status,
            message,
            "requests" if fault.status == 429 else "server_error",
            headers=fault.headers,
        )
        return Reply(
            fault.status,
            {**error.headers, "x-request-id": reply.headers.get("x-request-id", "")},
            fault.body or error.body,
        )
    if fault.kind == "truncate":
        return replace(reply, body=reply.body[: len(reply.body) // 2])
    if fault.kind == "html":
        return Reply(200, {"Content-Type": "text/html"}, b"<html><body><h1>502 Bad Gateway</h1></body></html>")
    if fault.kind in ("skip", "shift"):
        if reply.status != 200:
            return reply
        page = msgspec.json.decode(reply.body)
        if fault.kind == "skip" and -len(page["data"]) <= fault.bucket < len(page["data"]):
            del page["data"][fault.bucket]
        for bucket in page["data"] if fault.kind == "shift" else ():
            bucket["start_time"] += fault.seconds
            bucket["end_time"] += fault.seconds
        return replace(reply, body=msgspec.json.encode(page))
    return Reply(200, {**reply.headers, "Content-Type": "application/json"}, fault.body)


class FakeAPI:
    """The organization behind a base path, with faults: what both transports serve."""

    def __init__(
        self,
        organization: FakeOrganization | None = None,
        faults: Faults | None = None,
        base_path: str = "/v1",
    ) -> None:
        self.organization = organization or FakeOrganization()
        self.faults = faults or Faults()
        self.base_path = base_path.rstrip("/")

    def handle(self, method: str, url: str, headers: Mapping[str, str]) -> tuple[Reply, Fault | None]:
        """Answer a full URL, with the next fault applied (``reset``/``stall`` are left to the transport)."""
        parts = urlsplit(url)
        throttled = self.faults.enter(parts.path, parts.query)
        try:
            if self.faults.latency:
                time.sleep(self.faults.latency)
            fault = throttled or self.faults.next()
            path = parts.path.removeprefix(self.base_path)
            reply = self.organization.respond(method, path, parse_qs(parts.query), headers)
            return _apply(fault, reply), fault
        finally:
            self.faults.leave()


class FakeAdapter(BaseAdapter):
    """A requests transport adapter that answers from a :class:`FakeAPI` in-process.

    Examples:
        >>> session = requests.Session()
        >>> session.mount("https://api.openai.com/", FakeAdapter(FakeAPI()))
        >>> session.get("https://api.openai.com/v1/organization/costs?start_time=1").status_code
        401
    """

    def __init__(self, api: FakeAPI) -> None:
        super().__init__()
        self.api = api

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        """Answer a prepared request."""
        reply, fault = self.api.handle(request.method or "GET", request.url or "", request.headers)
        if fault is not None and fault.kind == "reset":
            raise requests.ConnectionError("Connection reset by peer (fake)", request=request)
        if fault is not None and fault.kind == "stall":
            raise requests.ReadTimeout("Read timed out (fake)", request=request)
        raw = HTTPResponse(
            body=io.BytesIO(reply.body),
            headers=dict(reply.headers),
            status=reply.status,
            preload_content=False,
            decode_content=False,
            reason=_reason(reply.status),
        )
        response = requests.Response()
        response.status_code = reply.status
        response.headers = requests.structures.CaseInsensitiveDict(reply.headers)
        response.raw = raw
        response.url = request.url or ""
        response.request = request
        response.reason = _reason(reply.status)
        response.encoding = "utf-8"
        return response

    def close(self) -> None:
        """Nothing to close."""


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


class FakeServer:
    """The fake API as a real HTTP server on 127.0.0.1, in a background thread.

    Args:
        api: What to serve; defaults to the standard organization without faults.
        port: The port; 0 picks a free one.

    Examples:
        >>> with FakeServer() as server:
        ...     requests.get(server.url + "/organization/costs?start_time=1").status_code
        401
    """

    def __init__(self, api: FakeAPI | None = None, port: int = 0) -> None:
        self.api = api or FakeAPI()
        handler = type("Handler", (_Handler,), {"api": self.api})
        self._server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL to give a client, e.g. ``http://127.0.0.1:8123/v1``."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{self.api.base_path}"

    def start(self) -> FakeServer:
        """Serve in a daemon thread."""
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="fake-openai", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port."""
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Handler(BaseHTTPRequestHandler):
    api: FakeAPI
    protocol_version = "HTTP/1.1"
    stall_seconds = 3.0

    def do_GET(self) -> None:
        self._answer("GET")

    def do_POST(self) -> None:
        self._answer("POST")

    def _answer(self, method: str) -> None:
        try:
            self._send(method)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (a timeout test); nothing to answer

    def _send(self, method: str) -> None:
        reply, fault = self.api.handle(method, self.path, dict(self.headers.items()))
        if fault is not None and fault.kind == "stall":
            time.sleep(self.stall_seconds)
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if fault is not None and fault.kind == "reset":
            self.wfile.write(reply.body[: len(reply.body) // 3])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        self.wfile.write(reply.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet; requests are counted in :class:`Faults`."""


def mount(
    organization: FakeOrganization, session: requests.Session, base_url: str, faults: Faults | None = None
) -> FakeAPI:
    """Answer every request to ``base_url`` on ``session`` from the fake organization; returns the API."""
    parts = urlsplit(base_url)
    api = FakeAPI(organization, faults, base_path=parts.path or "/")
    session.mount(f"{parts.scheme}://{parts.netloc}/", FakeAdapter(api))
    return api


def client_arguments(organization: FakeOrganization | None = None, **kwargs: Any) -> dict[str, Any]:
    """The constructor arguments of a :class:`~usage_frames.client.Client` answered in-process by ``organization``.

    One clock for both sides: a client pretending to be at ``now=`` talks to an organization at that time (its
    one-year look-back and its "future" both follow it).

    Raises:
        InvalidParameterError: If ``organization`` is not a :class:`FakeOrganization`.

    Examples:
        >>> sorted(client_arguments())
        ['api_key', 'base_url', 'session', 'source']
    """
    if organization is not None and not isinstance(organization, FakeOrganization):
        raise InvalidParameterError("organization", organization, reason="must be a FakeOrganization or None")
    if kwargs.get("now") is not None:
        kwargs["now"] = to_clock(kwargs["now"])
    recording = kwargs.get("recording")
    clock = kwargs.get("now") or getattr(recording, "now", None)
    org = organization or FakeOrganization(now=clock)
    session = kwargs.pop("session", None) or requests.Session()
    kwargs.setdefault("base_url", DEFAULT_BASE_URL)
    org.mount(session, kwargs["base_url"])
    kwargs.setdefault("api_key", "sk-admin-fake")
    return {**kwargs, "session": session, "source": "fake"}
