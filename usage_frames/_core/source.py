"""Who answers a client: the API, the in-process fake, or recorded data (:class:`Recording`).

Data sources (:mod:`usage_frames.fake`, :mod:`usage_frames.sample`) hand :class:`~usage_frames.client.Client` its
constructor arguments; ``client.source`` says which one it is, and a :class:`Recording` carries what recorded data
needs: its own clock, what a cache miss says, how it answers.

Examples:
    >>> import pandas as pd
    >>> Recording(pd.Timestamp("2026-10-21", tz="UTC")).hint
    'run the query once online to fill the cache'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

import pandas as pd

from usage_frames._core.query import Query, windows

Source = Literal["live", "fake", "sample"]
"""Who answers a client: the API (or a server at ``base_url``), the in-process fake, or the recorded sample."""

MISS_HINT = "run the query once online to fill the cache"


@dataclass(frozen=True, slots=True)
class Recording:
    """Recorded data a client answers from (the sample): its fixed clock, and what it holds.

    With a recording, the first and last window of a query widen to whole calendar windows and the frame is
    trimmed back to the query, so that recorded data answers any query inside its range (at bucket granularity).

    Attributes:
        now: The recording's clock (the client's "now").
        hint: What a cache miss says the recording holds.
        answer: Answers a query given the client's own :meth:`Client.frame` (the sample adds up recorded
            results); ``None`` reads the recording as it is.
    """

    now: pd.Timestamp
    hint: str = MISS_HINT
    answer: Callable[[Query, Callable[[Query], pd.DataFrame]], pd.DataFrame] | None = None


def snapped(parts: list[Query], query: Query, now: pd.Timestamp | None) -> list[Query]:
    """The windows of a query widened to whole calendar windows at both ends (the last one ends at ``now``).

    Recorded data (the sample) answers any query inside its range this way, at bucket granularity.
    """
    whole = windows(replace(query, start=query.start.floor("D") - pd.Timedelta(days=40), end=query.end))
    first = next(w for w in whole if w.start <= query.start < w.end)
    stop = query.end if now is None else now
    tail = windows(replace(query, start=parts[-1].start, end=max(stop, query.end)))[0]
    return (
        [replace(parts[0], start=first.start), *parts[1:-1], replace(parts[-1], end=tail.end)]
        if len(parts) > 1
        else [replace(parts[0], start=first.start, end=tail.end)]
    )
