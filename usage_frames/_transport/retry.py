"""Retry policy: which answers are retried, how long to wait, and the 429 gate every worker shares.

Why did it wait 3 s? Because the server said so (``Retry-After: 3``, honoured up to
:data:`MAX_RETRY_AFTER_DELAY`), or because of exponential backoff (:func:`retry_delay`); a 429 closes the
:class:`RateGate` for every worker of the client, not only the one that got it. Pure except the gate's clock: the
sleep is injected, so tests never wait.
"""

from __future__ import annotations

import email.utils
import math
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

DEFAULT_MAX_RETRIES = 4
INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
# Honour server-directed delays up to two minutes; beyond that, waiting in a notebook helps nobody.
MAX_RETRY_AFTER_DELAY = 120.0
RETRY_STATUSES = frozenset({408, 409, 429})
# A large answer: it does not grow an adaptive gate, and it counts against a client's body budget (transport/send.py).
# More requests in flight help small pages (a year of hourly data is 53 pages of 0.7 MB), while a few large ones fill
# the line anyway and would multiply the memory held at once (an hourly page of 1,000 users is 108 MB).
LARGE_BODY = 4 * 2**20


def should_retry(status_code: int) -> bool:
    """Whether an HTTP status is worth another attempt (408, 409, 429 and every 5xx).

    Examples:
        >>> [should_retry(s) for s in (400, 401, 429, 500, 503)]
        [False, False, True, True, True]
    """
    return status_code in RETRY_STATUSES or status_code >= 500


def retry_delay(
    attempt: int, headers: Mapping[str, str] | None = None, *, jitter: Callable[[], float] = random.random
) -> float:
    """Seconds to wait before retry number ``attempt + 1``.

    ``Retry-After`` (seconds or an HTTP date) or ``retry-after-ms`` wins, capped at
    :data:`MAX_RETRY_AFTER_DELAY`; otherwise exponential backoff from :data:`INITIAL_RETRY_DELAY`, capped at
    :data:`MAX_RETRY_DELAY`, with up to 25 % jitter taken off so that workers do not retry in step.

    Args:
        attempt: How many attempts have failed so far, minus one (0 after the first failure).
        headers: The failed response's headers (any case-insensitive mapping), if there was a response.
        jitter: A source of numbers in ``[0, 1)``.

    Examples:
        >>> retry_delay(0, {"Retry-After": "3"})
        3.0
        >>> retry_delay(0, {"retry-after-ms": "250"})
        0.25
        >>> [retry_delay(a, jitter=lambda: 0.0) for a in range(6)]
        [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    """
    lower = {k.lower(): v for k, v in (headers or {}).items()}
    server: float | None = None
    try:
        if "retry-after-ms" in lower:
            server = float(lower["retry-after-ms"]) / 1000
        elif "retry-after" in lower:
            value = lower["retry-after"]
            try:
                server = float(value)
            except ValueError:
                when = email.utils.parsedate_to_datetime(value)
                server = when.timestamp() - time.time()
    except (ValueError, TypeError, OverflowError, IndexError):
        server = None
    if server is not None and math.isfinite(server):  # "nan" or "inf" is no delay at all: back off instead
        return min(max(server, 0.0), MAX_RETRY_AFTER_DELAY)
    backoff = min(INITIAL_RETRY_DELAY * 2.0 ** min(attempt, 32), MAX_RETRY_DELAY)
    return backoff * (1 - 0.25 * jitter())


class RateGate:
    """The shared backoff after a 429: while it is closed, every worker of one client waits.

    With a ``ceiling`` above ``limit`` it also finds the server's pace (``Client(workers="auto")``), as TCP does:
    at most ``limit`` requests are in flight; each clean answer grows the limit by one until the first 429 (so it
    doubles every round trip), by one per ``limit`` answers after it, never above ``ceiling``; a 429 halves it
    (once per closing: the other answers in flight say the same thing). Answers larger than
    :data:`LARGE_BODY` do not grow it.

    Examples:
        >>> waits = []
        >>> gate = RateGate()
        >>> gate.close(0.0); gate.wait(waits.append); waits
        []
        >>> adaptive = RateGate(limit=6, ceiling=32)
        >>> for _ in range(6):
        ...     adaptive.clean()
        >>> adaptive.limit, (adaptive.close(0.0), adaptive.limit)[1]
        (12, 6)
        >>> for _ in range(14):  # 6 answers at 6, 7 at 7: one more in flight per round trip
        ...     adaptive.clean()
        >>> adaptive.limit
        8
        >>> adaptive.clean(LARGE_BODY + 1); adaptive.limit
        8
    """

    def __init__(self, limit: int = 0, ceiling: int = 0) -> None:
        self._lock = threading.Lock()
        self._free = threading.Condition(self._lock)
        self._not_before = 0.0
        self._limit = float(limit)
        self._ceiling = max(ceiling, limit)
        self._busy = 0
        self._growing = True  # until the first 429

    @property
    def limit(self) -> int:
        """Requests allowed in flight now (0: no limit)."""
        return int(self._limit)

    def wait(self, sleep: Callable[[float], None]) -> None:
        """Wait (with ``sleep``) while a 429 told every worker to hold off."""
        with self._lock:
            wait = self._not_before - time.monotonic()
        if wait > 0:
            sleep(wait)

    def close(self, seconds: float) -> None:
        """Hold every worker off for ``seconds`` from now (a later close never shortens an earlier one)."""
        with self._lock:
            now = time.monotonic()
            if self._limit and now >= self._not_before:  # the first 429 of a burst halves the limit
                self._limit = max(1.0, self._limit / 2)
                self._growing = False
            self._not_before = max(self._not_before, now + seconds)

    def clean(self, size: int = 0) -> None:
        """Count a clean answer of ``size`` bytes: the limit grows towards the ceiling, unless the answer is large."""
        with self._lock:
            if self._limit and self._limit < self._ceiling and size <= LARGE_BODY:
                self._limit = min(float(self._ceiling), self._limit + (1 if self._growing else 1 / self._limit))
                self._free.notify_all()

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one of the requests allowed in flight (no wait without a limit)."""
        if not self._limit:
            yield
            return
        with self._free:
            while self._busy >= int(self._limit):
                self._free.wait()
            self._busy += 1
        try:
            yield
        finally:
            with self._free:
                self._busy -= 1
                self._free.notify()
