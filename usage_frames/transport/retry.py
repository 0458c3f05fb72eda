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
from collections.abc import Callable, Mapping

DEFAULT_MAX_RETRIES = 4
INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
# Honour server-directed delays up to two minutes; beyond that, waiting in a notebook helps nobody.
MAX_RETRY_AFTER_DELAY = 120.0
RETRY_STATUSES = frozenset({408, 409, 429})


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

    Examples:
        >>> waits = []
        >>> gate = RateGate()
        >>> gate.close(0.0); gate.wait(waits.append); waits
        []
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._not_before = 0.0

    def wait(self, sleep: Callable[[float], None]) -> None:
        """Wait (with ``sleep``) while a 429 told every worker to hold off."""
        with self._lock:
            wait = self._not_before - time.monotonic()
        if wait > 0:
            sleep(wait)

    def close(self, seconds: float) -> None:
        """Hold every worker off for ``seconds`` from now (a later close never shortens an earlier one)."""
        with self._lock:
            self._not_before = max(self._not_before, time.monotonic() + seconds)
