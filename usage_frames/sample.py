"""The embedded sample data: the fake organization's API answers, recorded with requests-cache as JSON files.

``sample_data/`` holds one readable JSON file per response (requests-cache's filesystem backend with the JSON
serializer), recorded at a fixed clock, :data:`SAMPLE_NOW`, so that month-to-date and forecasts have something to
say; every frame the sample client returns says so in ``attrs["as_of"]``. Each endpoint is recorded once, daily,
grouped by all its keys (the first key of its ``refused_pair`` recorded alone: the API does not group costs by
``user_id`` with ``project_id``), and completions also hourly for the last month, in total and by project and model
(:data:`RECORDINGS`). :func:`answer` answers a query exactly as the API would, or not at all: a window whose edges
fall on the boundaries of a recording's buckets (whole days from the daily recordings; whole hours from the hourly
ones), any subset of the recording's keys, filters on those keys, and wider buckets (daily from hourly, with the
API's partial first and last bucket), by adding up the recorded results. A window a recording can only answer with
more than was asked (06:00 to 12:00 from whole days) raises :class:`~usage_frames.errors.CacheMissError` saying
what the sample holds of that endpoint, never a superset.

Regenerate it byte for byte with ``usage-frames sample-data`` (see :func:`record`). It is found in
``USAGE_FRAMES_SAMPLE_DIR`` if set, else inside the installed package (``usage_frames/sample_data``, where the
wheel puts it), else in ``sample_data/`` next to the package (a clone or an editable install).

Examples:
    >>> client = sample_client()
    >>> client.costs("2026-10-01", group_by="project_id")["amount"].sum().round(2)
    np.float64(1412.95)
    >>> client.completions("2026-10-01", "2026-10-08", group_by="model").attrs["as_of"]
    '2026-10-21T00:00:00+00:00'
    >>> int(client.completions("2026-10-15T06:00", "2026-10-15T12:00")["input_tokens"].sum())  # from the hours
    6269007
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from requests_cache import NEVER_EXPIRE, CachedSession
from requests_cache.backends.base import BaseCache, DictStorage
from requests_cache.backends.filesystem import FileDict

from usage_frames.endpoints import BUCKET_SECONDS, ENDPOINTS, BucketWidth, EndpointName
from usage_frames.errors import CacheMissError
from usage_frames.frames import to_frame
from usage_frames.query import Query, build_query, unix
from usage_frames.source import Recording as Clock
from usage_frames.transport.cache import cache_key, cached_session
from usage_frames.transport.send import DEFAULT_BASE_URL

if TYPE_CHECKING:
    from usage_frames.client import Client

SAMPLE_START = pd.Timestamp("2026-04-01", tz="UTC")  # a calendar month, so that windows are whole
SAMPLE_NOW = pd.Timestamp("2026-10-21", tz="UTC")
HOURLY_START = pd.Timestamp("2026-09-21", tz="UTC")  # a Monday: hourly windows are ISO weeks
SAMPLE_ENV = "USAGE_FRAMES_SAMPLE_DIR"
SAMPLE_KEY = "sk-admin-sample"  # not a secret: the fake accepts any sk-admin- key
# Fields the API sends only when grouped by a key: a quantity adds up within one line item, not across them.
ONLY_BY: dict[str, str] = {"quantity": "line_item", "quantity_unit": "line_item"}


@dataclass(frozen=True)
class Recording:
    """One recorded query: an endpoint at a bucket width, grouped by some keys, from ``start`` to :data:`SAMPLE_NOW`.

    Examples:
        >>> r = Recording("completions", "1h", ("project_id", "model"), HOURLY_START)  # hourly by project and model
        >>> r.answers(build_query("completions", "2026-10-01", bucket_width="1d", group_by="model",
        ...                       filters={"project_ids": "proj_chat"}, now=SAMPLE_NOW))
        True
        >>> print(r)
        completions 1h by project_id, model from 2026-09-21
    """

    endpoint: EndpointName
    bucket_width: BucketWidth
    group_by: tuple[str, ...]
    start: pd.Timestamp

    def answers(self, query: Query) -> bool:
        """Whether this recording holds the query exactly, no more and no less than the API would send.

        Its keys, filters on its keys, a multiple of its width, and a window (:func:`span`) whose edges are
        boundaries of its buckets, inside its range.
        """
        endpoint = query.endpoint
        keys = set(query.group_by) | {f.key for f in endpoint.filters if f.name in query.filters}
        wider = query.bucket_width != self.bucket_width
        step = pd.Timedelta(seconds=BUCKET_SECONDS[self.bucket_width])
        first, last = span(query)
        return (
            endpoint.name == self.endpoint
            and keys <= set(self.group_by)
            and BUCKET_SECONDS[query.bucket_width] % BUCKET_SECONDS[self.bucket_width] == 0
            and not (wider and any(f.kind == "level" for f in endpoint.fields))  # levels do not add up over time
            and self.start <= first
            and last <= SAMPLE_NOW
            and first == first.floor(step)
            and last == last.floor(step)
        )

    def __str__(self) -> str:
        keys = f" by {', '.join(self.group_by)}" if self.group_by else ""
        return f"{self.endpoint} {self.bucket_width}{keys} from {self.start:%Y-%m-%d}"


def span(query: Query) -> tuple[pd.Timestamp, pd.Timestamp]:
    """What the API's buckets of a query cover: the query's window, or whole UTC days for costs (api-notes 7.6).

    Examples:
        >>> span(build_query("costs", "2026-10-01T06:00", "2026-10-02T12:00", now=SAMPLE_NOW))[1]
        Timestamp('2026-10-03 00:00:00+0000', tz='UTC')
    """
    if query.endpoint.whole_days:
        return query.start.floor("D"), query.end.ceil("D")
    return query.start, query.end


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


RECORDINGS: list[Recording] = _recordings()


def sample_dir() -> Path:
    """Where the sample data lives: ``USAGE_FRAMES_SAMPLE_DIR``, else in the installed package, else the tree's.

    Examples:
        >>> (sample_dir() / "http").is_dir()
        True
    """
    configured = os.environ.get(SAMPLE_ENV)
    if configured:
        return Path(configured)
    package = Path(__file__).resolve().parent
    installed = package / "sample_data"  # the wheel maps the repository's sample_data/ here
    return installed if installed.is_dir() else package.parent / "sample_data"


HINT = f"the sample data holds {SAMPLE_START:%Y-%m-%d} to {SAMPLE_NOW:%Y-%m-%d} (usage_frames.sample.RECORDINGS)"


def answer(query: Query, frame: Callable[[Query], pd.DataFrame]) -> pd.DataFrame:
    """The frame of a query, exactly as the API would answer it, read (with the client's ``frame``) or added up.

    Queries a recording holds verbatim are read from the cache; others are added up from the first recording that
    holds them exactly (:meth:`Recording.answers`).

    Raises:
        CacheMissError: If no recording holds the query exactly (a superset is never returned), saying what the
            sample holds of that endpoint.
    """
    source = next((r for r in RECORDINGS if r.answers(query)), None)
    if source is None:
        held = "; ".join(str(r) for r in RECORDINGS if r.endpoint == query.endpoint.name)
        raise CacheMissError(
            f"{query.endpoint.name} at {query.bucket_width} from {query.start:%Y-%m-%d %H:%M} to "
            f"{query.end:%Y-%m-%d %H:%M}"
            + (f" by {', '.join(query.group_by)}" if query.group_by else "")
            + (f" filtered by {', '.join(query.filters)}" if query.filters else "")
            + " is not in the sample data",
            endpoint=query.endpoint.name,
            windows=[(query.start, query.end)],
            hint=f"it holds, to {SAMPLE_NOW:%Y-%m-%d}: {held} (any subset of those keys, filters on them, wider "
            "buckets, windows from and to the edges of those buckets; usage_frames.sample.RECORDINGS lists them all)",
        )
    if source.group_by == query.group_by and source.bucket_width == query.bucket_width and not query.filters:
        return frame(query)
    return _added_up(query, source, frame)


def _added_up(query: Query, source: Recording, frame: Callable[[Query], pd.DataFrame]) -> pd.DataFrame:
    """The query's buckets added up from a finer or wider-keyed recording.

    The API's grid of the query's width over :func:`span`: its first and last bucket partial where the window
    starts or ends inside one.
    """
    width = pd.Timedelta(seconds=BUCKET_SECONDS[query.bucket_width])
    first, last = span(query)  # on the recording's bucket boundaries (Recording.answers)
    wide = build_query(
        query.endpoint, first, last, bucket_width=source.bucket_width, group_by=source.group_by, now=SAMPLE_NOW
    )
    fine = frame(wide)
    keep = pd.Series(True, index=fine.index)
    for flt in query.endpoint.filters:
        if flt.name in query.filters:
            wanted = query.filters[flt.name]
            keep &= (fine[flt.key] == wanted) if isinstance(wanted, bool) else fine[flt.key].isin(wanted)
    fine = fine[keep.to_numpy()]
    floors = pd.DatetimeIndex(fine.index).floor(width)
    begins = floors.where(floors > first, first)  # the API's grid: a partial first bucket starts at the window
    fields = query.endpoint.fields
    grouped = fine.groupby([begins.rename("start_time"), *[fine[k] for k in query.group_by]], observed=True,
                           dropna=False, sort=True)  # fmt: skip
    sums = grouped[[f.name for f in fields if f.kind != "attribute"]].sum(min_count=1)
    for f in fields:
        if f.kind == "attribute":  # one value (a currency, a unit) or none when the rows disagree
            column = grouped[f.name]
            sums[f.name] = column.first().where(column.nunique(dropna=False) == 1, None)
        if f.name in ONLY_BY and ONLY_BY[f.name] not in query.group_by:
            sums[f.name] = None
    buckets: dict[int, list[dict[str, Any]]] = {}
    for values in sums.reset_index().to_dict("records"):
        result: dict[str, Any] = {"object": query.endpoint.result_object}
        result.update({k: _plain(values[k]) for k in query.group_by})
        for f in fields:
            target = result
            for part in f.json_path[:-1]:
                target = target.setdefault(part, {})
            target[f.json_path[-1]] = _plain(values[f.name])
        buckets.setdefault(unix(pd.Timestamp(values["start_time"])), []).append(result)
    step, stop = BUCKET_SECONDS[query.bucket_width], unix(last)
    page = {"object": "page", "has_more": False, "next_page": None, "data": [
        {"object": "bucket", "start_time": t, "end_time": min(t - t % step + step, stop), "results": results}
        for t, results in sorted(buckets.items())]}  # fmt: skip
    return to_frame([page], query)


def _plain(value: Any) -> Any:
    """A JSON value from a pandas scalar (``<NA>`` is null)."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    return value.item() if hasattr(value, "item") else value


class ReadOnlyCache(BaseCache):
    """The recorded answers as a requests-cache backend that never writes (redirects live in memory).

    An installed package may sit in a read-only folder; the filesystem backend would create its redirects
    database there on first use.
    """

    def __init__(self, directory: Path) -> None:
        super().__init__(cache_name=str(directory))
        self.responses = FileDict(directory, serializer="json")
        self.redirects = DictStorage()  # type: ignore[no-untyped-call]


def client_arguments(path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The constructor arguments of a :class:`~usage_frames.client.Client` answered offline from the sample data.

    Raises:
        CacheMissError: If the sample data is not there.

    Examples:
        >>> sorted(client_arguments())
        ['api_key', 'base_url', 'offline', 'recording', 'session', 'source', 'workers']
    """
    directory = Path(path) if path is not None else sample_dir()
    if not (directory / "http").is_dir():
        raise CacheMissError(
            f"no sample data at {directory}: reinstall usage-frames, use a clone of the repository, "
            f"or set {SAMPLE_ENV} to a folder written by `usage-frames sample-data`"
        )
    session = CachedSession(
        backend=ReadOnlyCache(directory / "http"), expire_after=NEVER_EXPIRE, allowable_codes=(200,), key_fn=cache_key
    )
    # One worker: recorded files are read from the local disk, where more threads only contend for the GIL.
    return {
        "api_key": SAMPLE_KEY, "base_url": DEFAULT_BASE_URL, "session": session, "offline": True,
        "recording": Clock(SAMPLE_NOW, HINT, answer), "source": "sample", "workers": 1,
    }  # fmt: skip


def sample_client(path: str | os.PathLike[str] | None = None) -> Client:
    """A client answered offline from the sample data, with the sample's clock (``Client.sample(path)``)."""
    from usage_frames.client import Client

    return Client.sample(path)


def record(path: str | os.PathLike[str] | None = None) -> int:
    """Record the sample data from the fake organization, replacing what is there; returns the files written.

    Wall-clock details that requests-cache stores (creation time, elapsed time, library versions) are set to
    fixed values afterwards, so that the same code always writes the same bytes.
    """
    from usage_frames.client import Client
    from usage_frames.directory import api_keys, projects, spend_alerts, spend_limit, users
    from usage_frames.fake import FakeOrganization

    directory = Path(path) if path is not None else sample_dir()
    shutil.rmtree(directory / "http", ignore_errors=True)
    session = cached_session(directory, readable=True)
    org = FakeOrganization(now=SAMPLE_NOW)
    client = Client.fake(org, session=session, api_key=SAMPLE_KEY, recording=Clock(SAMPLE_NOW))
    for r in RECORDINGS:
        client.fetch(r.endpoint, r.start, bucket_width=r.bucket_width, group_by=list(r.group_by))
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
