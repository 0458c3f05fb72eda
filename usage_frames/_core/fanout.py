"""Window fan-out: run a query's windows ``workers`` at a time, with a progress bar when it helps.

Examples:
    >>> done = []
    >>> fan_out(done.append, 3, workers=2)
    >>> sorted(done)
    [0, 1, 2]
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from typing import Any

# The default, workers="auto", starts with six windows in flight (a year of hourly data in ~9 round trips), grows
# while answers are clean and small (usage_frames.transport.retry.RateGate) and halves on a 429, never above the
# ceiling; a 429 closes a gate shared by all workers, so the API's rate limit slows every worker down.
DEFAULT_WORKERS = 6
AUTO_WORKERS_CEILING = 32


def fan_out(run: Callable[[int], None], count: int, workers: int) -> None:
    """``run(0)`` .. ``run(count - 1)``, ``workers`` at a time; the first error stops what has not started."""
    if workers == 1 or count == 1:
        for i in range(count):
            run(i)
        return
    with ThreadPoolExecutor(min(workers, count), thread_name_prefix="usage-frames") as pool:
        futures: list[Future[None]] = [pool.submit(run, i) for i in range(count)]
        try:
            for future in as_completed(futures):
                future.result()
        except BaseException:
            for future in futures:
                future.cancel()  # stop what has not started; never return a partial frame
            raise


class _NoBar:
    def update(self, n: int) -> None:
        """Nothing to show."""

    def close(self) -> None:
        """Nothing to close."""


def progress_bar(total: int, name: str, enabled: bool | None) -> Any:
    """A tqdm bar (notebook-aware) over windows, or a no-op when off, short, or not interactive."""
    if enabled is None:
        enabled = sys.stderr.isatty() or "ipykernel" in sys.modules
    if not enabled or total <= 4:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=f"usage-frames {name}", unit="window", leave=False)
