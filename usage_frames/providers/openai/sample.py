"""OpenAI's embedded sample data: the fake organization's answers, recorded at a fixed clock.

``sample_data/http`` holds one readable JSON file per answer (requests-cache's filesystem backend with the JSON
serializer), recorded at :data:`SAMPLE_NOW` so that month-to-date and forecasts have something to say. Each endpoint
is recorded once, daily, grouped by all its keys (the first key of its ``refused_pair`` recorded alone: the API does
not group costs by ``user_id`` with ``project_id``), and completions also hourly for the last month, in total and
by project and model (:data:`RECORDINGS`); with the organization's projects, users, keys, spend alerts and limit.
``uf.Client.sample()`` answers from them exactly or not at all (:class:`~usage_frames.fake.recording.RecordedAPI`);
``usage-frames sample-data`` regenerates them byte for byte (:func:`record`).

Examples:
    >>> import usage_frames as uf
    >>> client = uf.Client.sample()
    >>> client.costs("2026-10-01", group_by="project_id")["amount"].sum().round(2)
    np.float64(1412.95)
    >>> client.completions("2026-10-01", "2026-10-08", group_by="model").attrs["as_of"]
    '2026-10-21T00:00:00+00:00'
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from usage_frames._core.client import BaseClient
from usage_frames.fake.recording import Recording, Sample
from usage_frames.fake.recording import record as record_sample
from usage_frames.providers.openai.directory import api_keys, projects, spend_alerts, spend_limit, users
from usage_frames.providers.openai.endpoints import ENDPOINTS
from usage_frames.providers.openai.fake import FakeOrganization
from usage_frames.providers.openai.provider import PROVIDER

SAMPLE_START = pd.Timestamp("2026-04-01", tz="UTC")  # a calendar month, so that windows are whole
SAMPLE_NOW = pd.Timestamp("2026-10-21", tz="UTC")
HOURLY_START = pd.Timestamp("2026-09-21", tz="UTC")  # a Monday: hourly windows are ISO weeks
SAMPLE_KEY = "sk-admin-sample"  # not a secret: the fake accepts any sk-admin- key


def _recordings() -> list[Recording]:
    recordings: list[Recording] = []
    for name, endpoint in ENDPOINTS.items():
        # An endpoint's refused_pair (costs: user_id with project_id) cannot be recorded together: the first key alone.
        alone = endpoint.refused_pair[0] if endpoint.refused_pair else None
        recordings.append(Recording(name, "1d", tuple(k for k in endpoint.group_by if k != alone), SAMPLE_START))
        if alone:
            recordings.append(Recording(name, "1d", (alone,), SAMPLE_START))
    recordings.append(Recording("completions", "1h", (), HOURLY_START))  # hourly totals: the hour-of-day heatmap
    # Hours by project and model: windows of whole hours (a Berlin day, 06:00 to 12:00) by either key, exactly.
    recordings.append(Recording("completions", "1h", ("project_id", "model"), HOURLY_START))
    return recordings


def _directory(client: BaseClient) -> None:
    for listing in (projects, users, api_keys, spend_alerts):
        listing(client)
    spend_limit(client)


RECORDINGS: list[Recording] = _recordings()
SAMPLE = Sample(
    provider=PROVIDER,
    recordings=RECORDINGS,
    now=SAMPLE_NOW,
    key=SAMPLE_KEY,
    folder="",
    # Fields the API sends only when grouped by a key: a quantity adds up within one line item, not across them.
    only_by={"quantity": "line_item", "quantity_unit": "line_item"},
    directory=_directory,
    listed="usage_frames.providers.openai.sample.RECORDINGS",
)


def sample_dir() -> Path:
    """Where OpenAI's sample data lives (its ``http`` folder is in it).

    Examples:
        >>> (sample_dir() / "http").is_dir()
        True
    """
    return SAMPLE.files().parent


def record(path: str | os.PathLike[str] | None = None) -> int:
    """Record the sample data from the fake organization, replacing what is there; returns the files written."""
    return record_sample(SAMPLE, FakeOrganization(now=SAMPLE_NOW), None if path is None else Path(path))

