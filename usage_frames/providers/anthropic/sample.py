"""Anthropic's embedded sample data: the fake organization's answers, recorded at a fixed clock.

``sample_data/anthropic/http`` holds one readable JSON file per answer, recorded at :data:`SAMPLE_NOW` (the clock of
OpenAI's sample, so that the two providers' samples make one bill). Both reports are recorded daily from
:data:`SAMPLE_START`, grouped by all their keys at once (the API groups by any subset of them): the usage report for
Messages by its eight keys, the cost report by workspace and description (which names each row's cost type, model,
token type, tier, context window and inference geography); Messages also hourly for the last month, in total and by
workspace and model (:data:`RECORDINGS`); with the organization's workspaces (with and without the default one, and
the archived ones), API keys and users, so that ``df.usage.label(client)`` names them offline.
``uf.Client.sample(provider="anthropic")`` answers from them exactly or not at all
(:class:`~usage_frames.fake.recording.RecordedAPI`); ``usage-frames sample-data`` regenerates them byte for byte
(:func:`record`).

Examples:
    >>> import usage_frames as uf
    >>> client = uf.Client.sample(provider="anthropic")
    >>> client.costs("2026-10-01", "2026-10-02")["amount"].round(2).tolist()
    [205.59]
    >>> client.messages("2026-10-01", "2026-10-08", group_by="model").attrs["as_of"]
    '2026-10-21T00:00:00+00:00'
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from usage_frames._core.client import BaseClient
from usage_frames.fake.recording import Recording, Sample
from usage_frames.fake.recording import record as record_sample
from usage_frames.providers.anthropic.directory import api_keys, users, workspaces
from usage_frames.providers.anthropic.endpoints import ENDPOINTS
from usage_frames.providers.anthropic.fake import DEFAULT_WORKSPACE_ID, FakeOrganization
from usage_frames.providers.anthropic.provider import PROVIDER

SAMPLE_START = pd.Timestamp("2026-04-01", tz="UTC")  # a calendar month, so that windows are whole
SAMPLE_NOW = pd.Timestamp("2026-10-21", tz="UTC")
HOURLY_START = pd.Timestamp("2026-09-21", tz="UTC")  # a Monday: hourly windows are ISO weeks
SAMPLE_KEY = "sk-ant-admin01-sample"  # not a secret: the fake accepts any key that starts as an Admin key does

RECORDINGS: list[Recording] = [
    *(Recording(name, "1d", endpoint.group_by, SAMPLE_START) for name, endpoint in ENDPOINTS.items()),
    Recording("messages", "1h", (), HOURLY_START),  # hourly totals: the hour-of-day heatmap
    # Hours by workspace and model: windows of whole hours (a Berlin day, 06:00 to 12:00) by either key, exactly.
    Recording("messages", "1h", ("workspace_id", "model"), HOURLY_START),
]


def _directory(client: BaseClient) -> None:
    workspaces(client)  # with and without the default workspace: names() marks the default one
    workspaces(client, include_archived=True)
    api_keys(client)
    users(client)


SAMPLE = Sample(
    provider=PROVIDER,
    recordings=RECORDINGS,
    now=SAMPLE_NOW,
    key=SAMPLE_KEY,
    folder="anthropic",
    directory=_directory,
    listed="usage_frames.providers.anthropic.sample.RECORDINGS",
    null_as={"workspace_id": DEFAULT_WORKSPACE_ID},  # filtered by its real id, the default workspace's rows say null
)


def sample_dir() -> Path:
    """Where Anthropic's sample data lives (its ``http`` folder is in it).

    Examples:
        >>> (sample_dir() / "http").is_dir()
        True
    """
    return SAMPLE.files().parent


def record(path: str | os.PathLike[str] | None = None) -> int:
    """Record the sample data from the fake organization, replacing what is there; returns the files written."""
    return record_sample(SAMPLE, FakeOrganization(now=SAMPLE_NOW), None if path is None else Path(path))
