"""How does the fake API misbehave when a test asks it to?

Scripted faults (error statuses, dropped connections, truncated or foreign bodies, stalls, skipped or shifted
buckets), random 429s, latency and a concurrency limit.

Examples:
    >>> _apply(Fault(kind="truncate"), Reply(200, {}, b"abcd")).body
    b'ab'
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

import msgspec
import numpy as np

from usage_frames.fake.api import Reply, _error
from usage_frames.fake.traffic import DAY


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
