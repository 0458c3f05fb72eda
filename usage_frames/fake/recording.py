"""Recorded answers served as the API would serve them: exactly, or not at all (a provider's sample data).

A provider's sample is its fake organization's answers to a few queries (:class:`Recording`), stored by
requests-cache as readable JSON files (one result per line) at a fixed clock. :class:`RecordedAPI` serves them to a
client as its transport (``Client(transport=...)``, ``uf.Client.sample()``): a request recorded as it is gets the
recorded answer; any other is added up from the recording that holds it exactly (its keys, filters on them, a
multiple of its width, a window whose edges are its buckets' edges) and answered as one page in the provider's
spelling; anything else raises :class:`~usage_frames.CacheMissError` saying what the sample holds, never a
superset. :func:`record` regenerates the files byte for byte.

Examples:
    >>> import usage_frames as uf
    >>> client = uf.Client.sample()
    >>> client.source, type(client.session.get_adapter(client.base_url)).__name__
    ('sample', 'RecordedAPI')
"""

from __future__ import annotations

import io
import json
import os
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import requests
from requests.adapters import BaseAdapter
from requests_cache import NEVER_EXPIRE, CachedSession
from requests_cache.backends.base import BaseCache, DictStorage
from requests_cache.backends.filesystem import FileDict
from urllib3.response import HTTPResponse

from usage_frames._core.client import BaseClient
from usage_frames._core.errors import CacheMissError
from usage_frames._core.pages import encode_page
from usage_frames._core.provider import Provider
from usage_frames._core.query import Query, build_query, parse_query, windows
from usage_frames._core.schema import BUCKET_SECONDS, BucketWidth
from usage_frames._transport.cache import cached_session, keep_out
from usage_frames.fake.reply import Organization
from usage_frames.fake.transports import FakeAdapter, FakeAPI


@dataclass(frozen=True)
class Recording:
    """One recorded query: an endpoint at a bucket width, grouped by some keys, from ``start`` to the sample's clock.

    Examples:
        >>> r = Recording("completions", "1h", ("project_id", "model"), pd.Timestamp("2026-09-21", tz="UTC"))
        >>> print(r)
        completions 1h by project_id, model from 2026-09-21
    """

    endpoint: str
    bucket_width: BucketWidth
    group_by: tuple[str, ...]
    start: pd.Timestamp

    def answers(self, query: Query, now: pd.Timestamp) -> bool:
        """Whether this recording holds the query exactly, no more and no less than the API would send.

        Its keys, filters on its keys, a multiple of its width, and a window (:func:`span`) whose edges are
        boundaries of its buckets, from its start to ``now`` (the sample's clock).
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
            and last <= now
            and first == first.floor(step)
            and last == last.floor(step)
        )

    def __str__(self) -> str:
        keys = f" by {', '.join(self.group_by)}" if self.group_by else ""
        return f"{self.endpoint} {self.bucket_width}{keys} from {self.start:%Y-%m-%d}"


def span(query: Query) -> tuple[pd.Timestamp, pd.Timestamp]:
    """What the API's buckets of a query cover: the query's window, or whole buckets where the API answers them.

    Examples:
        >>> from usage_frames.providers import DEFAULT
        >>> q = build_query(DEFAULT.endpoint("costs"), "2026-10-01T06:00", "2026-10-02T12:00",
        ...                 now=pd.Timestamp("2026-10-21", tz="UTC"))
        >>> span(q)[1]
        Timestamp('2026-10-03 00:00:00+0000', tz='UTC')
    """
    if query.endpoint.whole_buckets:
        step = pd.Timedelta(seconds=BUCKET_SECONDS[query.bucket_width])
        return query.start.floor(step), query.end.ceil(step)
    return query.start, query.end


@dataclass(frozen=True)
class Sample:
    """A provider's recorded sample: what it holds, at which clock, where its files are.

    Attributes:
        provider: Whose answers they are.
        recordings: The recorded queries.
        now: The clock of the recording (the sample client's "now").
        key: The admin key it was recorded with (not a secret: the fake accepts any admin-shaped key).
        folder: Its folder below the sample root (the JSON files are in its ``http`` folder).
        only_by: Fields the API sends only when grouped by a key (a quantity adds up within one line item).
        directory: Reads the organization's lists with a client (projects, workspaces...), to record them too.
        listed: Where the full list of its recordings is, for messages (``usage_frames.providers.NAME.sample``).
        null_as: The value a filter on a key takes for the rows whose key is null (a default workspace that the
            API filters by its real id while its rows say null).
    """

    provider: Provider
    recordings: Sequence[Recording]
    now: pd.Timestamp
    key: str
    folder: str
    only_by: Mapping[str, str] = field(default_factory=dict)
    directory: Callable[[BaseClient], object] | None = None
    listed: str = ""
    null_as: Mapping[str, str] = field(default_factory=dict)

    def files(self, root: Path | None = None) -> Path:
        """The folder of its JSON files, below ``root`` (default :func:`sample_root`)."""
        return (sample_root() if root is None else root) / self.folder / "http"

    def client_arguments(self, root: Path | None = None) -> dict[str, Any]:
        """The keyword arguments of a client answered from its files (``Client.sample(provider=...)``).

        Raises:
            CacheMissError: If the files are not there.
        """
        files = self.files(root)
        # One worker: recorded files are read from the local disk, where more threads only contend for the GIL.
        return {"api_key": self.key, "transport": RecordedAPI(self, files), "cache": False, "now": self.now,
                "workers": 1}  # fmt: skip

    def start_of(self, query: Query) -> pd.Timestamp:
        """Where the recording that holds ``query`` (verbatim: its endpoint, keys and width) starts."""
        return next(
            r.start for r in self.recordings
            if (r.endpoint, r.bucket_width, r.group_by) == (query.endpoint.name, query.bucket_width, query.group_by)
        )  # fmt: skip

    def source(self, query: Query) -> Recording:
        """The first recording that holds the query exactly.

        Raises:
            CacheMissError: If none does (the sample never answers a superset), saying what it holds.
        """
        found = next((r for r in self.recordings if r.answers(query, self.now)), None)
        if found is None:
            held = "; ".join(str(r) for r in self.recordings if r.endpoint == query.endpoint.name) or "nothing"
            raise CacheMissError.missing(
                query.describe(), [(query.start, query.end)], of=1, where="the sample data",
                hint=f"it holds, to {self.now:%Y-%m-%d}: {held} (any subset of their keys, filters on those, wider "
                "buckets, windows on their buckets' edges" + (f"; all: {self.listed})" if self.listed else ")"),
            )  # fmt: skip
        return found


def added_up(query: Query, source: Recording, frame: Callable[[Query], pd.DataFrame], sample: Sample) -> pd.DataFrame:
    """The rows of a query's answer, added up from the recording that holds it (:meth:`Sample.source`).

    The API's grid of the query's width over :func:`span`: its first and last bucket partial where the window
    starts or ends inside one; attributes (a currency, a unit) kept where the rows agree.
    """
    width = pd.Timedelta(seconds=BUCKET_SECONDS[query.bucket_width])
    first, last = span(query)  # on the recording's bucket boundaries (Recording.answers)
    wide = build_query(
        query.endpoint, first, last, bucket_width=source.bucket_width, group_by=source.group_by, now=sample.now
    )
    fine = frame(wide)
    keep = pd.Series(True, index=fine.index)
    for flt in query.endpoint.filters:
        if flt.name in query.filters:
            wanted = query.filters[flt.name]
            if isinstance(wanted, bool):
                keep &= fine[flt.key] == wanted
            else:
                null = sample.null_as.get(flt.key) in wanted  # the rows that say null, asked for by their real id
                keep &= fine[flt.key].isin(wanted) | (fine[flt.key].isna() & null)
    fine = fine[keep.to_numpy()]
    floors = pd.DatetimeIndex(fine.index).floor(width)
    begins = floors.where(floors > first, first)  # the API's grid: a partial first bucket starts at the window
    keys = query.endpoint.key_columns(query.group_by)
    fields = query.endpoint.fields
    grouped = fine.groupby([begins.rename("start_time"), *[fine[k] for k in keys]], observed=True, dropna=False,
                           sort=True)  # fmt: skip
    sums = grouped[[f.name for f in fields if f.kind != "attribute"]].sum(min_count=1)
    for f in fields:
        if f.scale != 1:  # an amount sent as a decimal string (cents): added up exactly, as the API adds it
            sums[f.name] = grouped[f.name].agg(exact_sum).astype("Float64")
        if f.kind == "attribute":  # one value (a currency, a unit) or none when the rows disagree
            column = grouped[f.name]
            sums[f.name] = column.first().where(column.nunique(dropna=False) == 1, None)
        if f.name in sample.only_by and sample.only_by[f.name] not in query.group_by:
            sums[f.name] = None
    return sums.reset_index(level=list(range(1, len(keys) + 1)))


def exact_sum(values: pd.Series) -> float | None:
    """The sum of amounts as the API adds them: exactly, from the decimals the floats were read from (``<NA>`` if none).

    An API that sends amounts as decimal strings in a smaller unit (cents) adds them exactly; a float sum's last
    digit drifts from its total, so an answer added up from a recording would not be the API's.

    Examples:
        >>> sum([0.1, 0.2]), exact_sum(pd.Series([0.1, 0.2]))
        (0.30000000000000004, 0.3)
    """
    found = values.dropna()
    return float(sum((Decimal(repr(float(v))) for v in found), Decimal(0))) if len(found) else None


class ReadOnlyCache(BaseCache):
    """The recorded answers as a requests-cache backend that never writes (redirects live in memory).

    An installed package may sit in a read-only folder; the filesystem backend would create its redirects
    database there on first use.
    """

    def __init__(self, directory: Path) -> None:
        super().__init__(cache_name=str(directory))
        self.responses = FileDict(directory, serializer="json")
        self.redirects = DictStorage()  # type: ignore[no-untyped-call]


class RecordedAPI(BaseAdapter):
    """A requests transport that answers from a provider's recorded sample, exactly or not at all.

    Args:
        sample: What the sample holds.
        directory: The folder of its JSON files.

    Raises:
        CacheMissError: If the files are not there (and, from :meth:`send`, for a request the sample cannot answer
            exactly).
    """

    source = "sample"

    def __init__(self, sample: Sample, directory: Path) -> None:
        super().__init__()
        if not directory.is_dir():
            raise CacheMissError(
                f"no sample data at {directory}: reinstall usage-frames, use a clone of the repository, or set "
                "USAGE_FRAMES_SAMPLE_DIR to a folder written by `usage-frames sample-data`"
            )
        self.sample = sample
        credentials = sample.provider.credentials
        session = CachedSession(backend=ReadOnlyCache(directory), expire_after=NEVER_EXPIRE, allowable_codes=(200,))
        keep_out(session, credentials.header, sample.provider.cache_namespace)
        # The recorded answers, read as the recorder asked them: one worker (files on the local disk).
        self.reader = BaseClient(
            sample.key, provider=sample.provider, session=session, offline=True, workers=1, now=sample.now
        )
        self.base_path = urlsplit(self.reader.base_url).path
        self.paths = {e.path: e for e in sample.provider.endpoints.values()}

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        """Answer a request: the recorded answer, an answer added up from a recording, or a cache miss."""
        reader = self.reader.session
        assert isinstance(reader, CachedSession)
        recorded = reader.cache.get_response(reader.cache.create_key(request))
        if recorded is not None:
            return recorded
        url = urlsplit(request.url or "")
        endpoint = self.paths.get(url.path.removeprefix(self.base_path))
        if endpoint is None:
            raise CacheMissError(f"GET {url.path} is not in the sample data", where="the sample data")
        query = parse_query(endpoint, parse_qs(url.query))
        rows = added_up(query, self.sample.source(query), self._read, self.sample)
        return _response(request, encode_page(rows, query))

    def _read(self, query: Query) -> pd.DataFrame:
        """The recorded rows of a window: the recorder's whole calendar windows around it, cut back to it.

        The recorder asked for whole calendar windows (:func:`~usage_frames._core.query.windows`) from a
        recording's start to the sample's clock: asking for the same ones reads them from the files.
        """
        recorded = windows(replace(query, start=self.sample.start_of(query), end=self.sample.now))
        first = next(w.start for w in recorded if w.start <= query.start < w.end)
        last = next(w.end for w in recorded if w.start < query.end <= w.end)
        rows = self.reader.frame(replace(query, start=first, end=last))
        return rows[(rows.index >= query.start) & (rows.index < query.end)]

    def close(self) -> None:
        """Close the recorded files' session."""
        self.reader.session.close()


def _response(request: requests.PreparedRequest, body: bytes) -> requests.Response:
    response = requests.Response()
    response.status_code, response.request, response.url = 200, request, request.url or ""
    response.headers = requests.structures.CaseInsensitiveDict({"Content-Type": "application/json"})
    response.raw = HTTPResponse(body=io.BytesIO(body), status=200, preload_content=False)
    response.reason, response.encoding = "OK", "utf-8"
    return response


def record(sample: Sample, organization: Organization, root: Path | None = None) -> int:
    """Record a sample from the provider's fake ``organization`` (at the sample's clock); returns the files written.

    The files are replaced. Wall-clock details that requests-cache stores (creation time, elapsed time, library
    versions) are set to fixed values afterwards, so that the same code always writes the same bytes.
    """
    client = BaseClient(
        sample.key, provider=sample.provider, cache=recording_session(sample, root), now=sample.now,
        transport=FakeAdapter(FakeAPI(organization)),
    )  # fmt: skip
    for r in sample.recordings:
        client.fetch(r.endpoint, r.start, bucket_width=r.bucket_width, group_by=list(r.group_by))
    if sample.directory is not None:
        sample.directory(client)
    directory = sample.files(root)
    files = sorted(directory.glob("*.json"))
    for file in files:
        file.write_text(readable_json(_normalized(json.loads(file.read_text()), sample)) + "\n")
    (directory / "redirects.sqlite").unlink(missing_ok=True)
    return len(files)


def recording_session(sample: Sample, root: Path | None = None) -> CachedSession:
    """A fresh, empty session that records the sample's readable JSON files (for :func:`record`)."""
    shutil.rmtree(sample.files(root), ignore_errors=True)
    credentials = sample.provider.credentials
    return cached_session(sample.files(root).parent, readable=True, credential=credentials.header,
                          namespace=sample.provider.cache_namespace)  # fmt: skip


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


def _normalized(stored: dict[str, Any], sample: Sample) -> dict[str, Any]:
    stored["created_at"] = sample.now.isoformat()
    stored["elapsed"] = 0.0
    stored["expires"] = None
    header = sample.provider.credentials.header
    stored["request"]["headers"] = {"Accept": "application/json", header: "REDACTED"}
    return stored


def sample_root() -> Path:
    """Where the sample data lives: ``USAGE_FRAMES_SAMPLE_DIR``, else in the installed package, else the tree's."""
    configured = os.environ.get("USAGE_FRAMES_SAMPLE_DIR")
    if configured:
        return Path(configured)
    package = Path(__file__).resolve().parent.parent
    installed = package / "sample_data"  # the wheel maps the repository's sample_data/ here
    return installed if installed.is_dir() else package.parent / "sample_data"
