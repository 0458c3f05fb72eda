"""The old name of :mod:`usage_frames.query` (validated queries), kept so that existing imports keep working."""

from usage_frames.query import (
    DEFAULT_WINDOW,
    EPOCH,
    LATEST,
    LOOKBACK,
    MAX_UNIX_SECONDS,
    WINDOW_FREQ,
    FilterValue,
    Query,
    TimeLike,
    bucket_count,
    build_query,
    earliest_start,
    resolve_window,
    to_clock,
    to_utc,
    unix,
    windows,
)

__all__ = [
    "DEFAULT_WINDOW", "EPOCH", "LATEST", "LOOKBACK", "MAX_UNIX_SECONDS", "WINDOW_FREQ", "FilterValue", "Query",
    "TimeLike", "bucket_count", "build_query", "earliest_start", "resolve_window", "to_clock", "to_utc", "unix",
    "windows",
]  # fmt: skip
