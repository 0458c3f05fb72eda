"""How does the fake API misbehave when a test asks it to?

Scripted faults (error statuses, dropped connections, truncated or foreign bodies, stalls, skipped or shifted
buckets), random 429s, latency and a concurrency limit, for any provider's fake organization (its error envelope
and bucket times come from the organization).

Examples:
    >>> from usage_frames._core.schema import Wire
    >>> apply(Fault(kind="truncate"), Reply(200, {}, b"abcd"), Wire(), lambda *a: Reply(500, {}, b"")).body
    b'ab'
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import msgspec
import numpy as np

from usage_frames._core.schema import Wire
from usage_frames.fake.reply import Reply
from usage_frames.fake.traffic import DAY


@dataclass(frozen=True, slots=True)
class Fault:
    """A misbehaviour for one request.

    Attributes:
        kind: ``status`` (an error status with the provider's error envelope), ``reset`` (the connection drops
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


def apply(
    fault: Fault | None,
    reply: Reply,
    wire: Wire,
    error: Callable[[int, str, str, Mapping[str, str]], Reply],
) -> Reply:
    """The reply with a fault applied (``reset`` and ``stall`` are left to the transport).

    Args:
        fault: The fault, if any.
        reply: The organization's true answer.
        wire: How the provider spells bucket times and request ids.
        error: Makes an error answer in the provider's envelope (``Organization.error``).
    """
    if fault is None or fault.kind in ("reset", "stall", "pass"):
        return reply
    if fault.kind == "status":
        message = "Rate limit reached for requests" if fault.status == 429 else "The server had an error"
        answer = error(fault.status, message, "requests" if fault.status == 429 else "server_error", fault.headers)
        request_id = {wire.request_id: reply.headers[wire.request_id]} if wire.request_id in reply.headers else {}
        return Reply(fault.status, {**answer.headers, **request_id}, fault.body or answer.body)
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
            for name in (wire.bucket_start, wire.bucket_end):
                bucket[name] = _later(bucket[name], fault.seconds)
        return replace(reply, body=msgspec.json.encode(page))
    return Reply(200, {**reply.headers, "Content-Type": "application/json"}, fault.body)


def _later(time: Any, seconds: int) -> Any:
    """A bucket time ``seconds`` later, in its own spelling (Unix seconds or RFC 3339)."""
    if isinstance(time, str):
        moved = dt.datetime.fromisoformat(time) + dt.timedelta(seconds=seconds)
        return moved.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return time + seconds
