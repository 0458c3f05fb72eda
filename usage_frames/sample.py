"""The embedded sample data: the fake organization's API answers, recorded with requests-cache as JSON files.

``sample_data/`` holds one readable JSON file per response (requests-cache's filesystem backend with the JSON
serializer), recorded at a fixed clock, :data:`SAMPLE_NOW`, so that month-to-date and forecasts have something to
say. :func:`sample_client` answers every query inside the recorded range from it, offline; a query outside the
range raises :class:`~usage_frames.errors.CacheMissError` naming what is missing.

Regenerate it byte for byte with ``usage-frames sample-data`` (see :func:`record`).

Examples:
    >>> client = sample_client()
    >>> client.costs("2026-10-01", group_by="project_id")["amount"].sum().round(2)
    np.float64(1412.95)
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pandas as pd

from usage_frames.client import DEFAULT_BASE_URL, Client, cached_session
from usage_frames.endpoints import EndpointName
from usage_frames.errors import CacheMissError

SAMPLE_START = pd.Timestamp("2026-04-21", tz="UTC")  # six months before SAMPLE_NOW
SAMPLE_NOW = pd.Timestamp("2026-10-21", tz="UTC")
HOURLY_START = pd.Timestamp("2026-09-21", tz="UTC")
FINOPS_START = pd.Timestamp("2026-09-01", tz="UTC")
SAMPLE_ENV = "USAGE_FRAMES_SAMPLE_DIR"
SAMPLE_KEY = "sk-admin-sample"  # not a secret: the fake accepts any sk-admin- key

# What the notebooks and the report ask for: (endpoint, bucket width, group keys, start).
RECORDINGS: list[tuple[EndpointName, str, tuple[str, ...], pd.Timestamp]] = [
    *[("costs", "1d", keys, SAMPLE_START) for keys in [(), ("project_id",), ("line_item",), ("user_id",)]],
    # FOCUS export and allocation by key: the last two months only, to keep the sample small.
    *[("costs", "1d", keys, FINOPS_START) for keys in [("project_id", "line_item"), ("api_key_id",)]],
    # Totals by model or by project are sums of these; recording them too would double the size.
    ("completions", "1d", ("project_id", "model"), SAMPLE_START),
    ("completions", "1d", ("model", "batch", "service_tier"), SAMPLE_START),
    ("completions", "1d", ("user_id",), SAMPLE_START),
    ("completions", "1h", (), HOURLY_START),
    ("decisions", "1d", ("model",), SAMPLE_START),
    ("embeddings", "1d", ("model",), SAMPLE_START),
    ("moderations", "1d", ("model",), SAMPLE_START),
    ("images", "1d", ("model", "size", "source"), SAMPLE_START),
    ("audio_speeches", "1d", ("model",), SAMPLE_START),
    ("audio_transcriptions", "1d", ("model",), SAMPLE_START),
    ("vector_stores", "1d", ("project_id",), SAMPLE_START),
    ("code_interpreter_sessions", "1d", ("project_id",), SAMPLE_START),
    ("file_search_calls", "1d", ("vector_store_id",), SAMPLE_START),
    ("web_search_calls", "1d", ("context_level",), SAMPLE_START),
]


def sample_dir() -> Path:
    """Where the sample data lives: ``USAGE_FRAMES_SAMPLE_DIR``, else ``sample_data/`` of this source tree."""
    configured = os.environ.get(SAMPLE_ENV)
    return Path(configured) if configured else Path(__file__).resolve().parent.parent / "sample_data"


def sample_client(path: str | os.PathLike[str] | None = None) -> Client:
    """A client answered offline from the sample data, with the sample's clock.

    Raises:
        CacheMissError: If the sample data is not there (an install without the source tree).
    """
    directory = Path(path) if path is not None else sample_dir()
    if not (directory / "http").is_dir():
        raise CacheMissError(
            f"no sample data at {directory}: use a clone of the repository (pip install -e .) or set {SAMPLE_ENV}"
        )
    session = cached_session(directory, readable=True)
    client = Client(SAMPLE_KEY, DEFAULT_BASE_URL, session=session, offline=True, now=SAMPLE_NOW, snap=True)
    client.miss_hint = (
        f"the sample data holds {SAMPLE_START:%Y-%m-%d} to {SAMPLE_NOW:%Y-%m-%d} in daily buckets, hourly completions "
        f"from {HOURLY_START:%Y-%m-%d}, and the group keys listed in usage_frames.sample.RECORDINGS"
    )
    return client


def record(path: str | os.PathLike[str] | None = None) -> int:
    """Record the sample data from the fake organization, replacing what is there; returns the files written.

    Wall-clock details that requests-cache stores (creation time, elapsed time, library versions) are set to
    fixed values afterwards, so that the same code always writes the same bytes.
    """
    from usage_frames.fake import FakeOrganization
    from usage_frames.organization import api_keys, projects, spend_alerts, spend_limit, users

    directory = Path(path) if path is not None else sample_dir()
    shutil.rmtree(directory / "http", ignore_errors=True)
    session = cached_session(directory, readable=True)
    client = Client.fake(FakeOrganization(now=SAMPLE_NOW), session=session, api_key=SAMPLE_KEY, now=SAMPLE_NOW)
    for endpoint, width, keys, start in RECORDINGS:
        client.fetch(endpoint, start, bucket_width=width, group_by=list(keys))
    for listing in (projects, users, api_keys, spend_alerts):
        listing(client)
    spend_limit(client)
    files = sorted((directory / "http").glob("*.json"))
    for file in files:
        file.write_text(readable_json(_normalized(json.loads(file.read_text()))) + "\n")
    (directory / "http" / "redirects.sqlite").unlink(missing_ok=True)
    return len(files)


def readable_json(value: Any, indent: str = "") -> str:
    """JSON with one line per small object (a result, a bucket's times), so files stay small and diff by line.

    Examples:
        >>> print(readable_json({"data": [{"a": 1, "b": None}, {"a": 2, "b": [3]}], "has_more": False}))
        {
         "data": [
          {"a":1,"b":null},
          {
           "a": 2,
           "b": [3]
          }
         ],
         "has_more": false
        }
    """
    flat = json.dumps(value, sort_keys=True, separators=(",", ":"))
    if not isinstance(value, dict | list) or ("[" not in flat[1:-1] and (isinstance(value, dict) or len(flat) <= 160)):
        return flat  # scalars, and objects with no array inside (a result) stay on one line
    inner = indent + " "
    if isinstance(value, dict):
        items = [f"{inner}{json.dumps(k)}: {readable_json(v, inner)}" for k, v in sorted(value.items())]
        return "{\n" + ",\n".join(items) + f"\n{indent}}}"
    return "[\n" + ",\n".join(inner + readable_json(v, inner) for v in value) + f"\n{indent}]"


def _normalized(stored: dict[str, Any]) -> dict[str, Any]:
    stored["created_at"] = SAMPLE_NOW.isoformat()
    stored["elapsed"] = 0.0
    stored["expires"] = None
    stored["request"]["headers"] = {"Accept": "application/json", "Authorization": "REDACTED"}
    return stored
