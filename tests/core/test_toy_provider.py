"""The core knows no provider: a toy provider of a few dozen lines runs through the real client end to end (its
wire format, credentials, paging checks, frame and cache), with shapes no real provider shares: RFC 3339 bucket times
under its own field names, bracket arrays, its own key header and request-id header, and an amount in cents."""

from __future__ import annotations

import datetime as dt
import io
import json
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest
import requests
from requests.adapters import BaseAdapter
from urllib3.response import HTTPResponse

import usage_frames as uf
from usage_frames._core.client import BaseClient
from usage_frames._core.provider import Provider
from usage_frames._core.schema import Credentials, Endpoint, Field, Filter, Limit, Wire

WIRE = Wire(start="from", end="to", times="rfc3339", brackets=True, bucket_start="begins", bucket_end="ends",
            request_id="x-toy-request", list_after="after_id")  # fmt: skip
CALLS = Endpoint(
    "calls", "toy", "/v2/calls",
    fields=(Field("calls"), Field("spend", "Float64", path=("money", "cents"), scale=100)),
    group_by=("team",), filters=(Filter("teams", "team"),), limits={"1d": Limit(3, 5)}, wire=WIRE, measure="spend",
)  # fmt: skip
TOY = Provider("toy", "Toy", {"calls": CALLS}, wire=WIRE, cache_namespace="toy",
               credentials=Credentials("TOY_KEY", "X-Toy-Key", "https://toy.example", "TOY_URL", refused=("toy-user-",),
                                       help="Make an admin key in the toy console."))  # fmt: skip
DAY = dt.timedelta(days=1)


def stamp(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


class ToyAPI(BaseAdapter):
    """The toy's server: every day of the window, per team a row of ``day`` calls costing ``day`` cents and a half."""

    def __init__(self, skip: int | None = None) -> None:
        super().__init__()
        self.requests: list[dict[str, list[str]]] = []
        self.skip = skip

    def send(self, request: requests.PreparedRequest, **kwargs: object) -> requests.Response:
        query = parse_qs(urlsplit(request.url or "").query)
        self.requests.append(query)
        if request.headers.get("X-Toy-Key", "").startswith("toy-admin-"):
            days, status = self.days(query), 200
            offset = int(query.get("page", ["0"])[0])
            limit = int(query["limit"][0])
            teams = query.get("teams[]", ["red", "blue"])
            data = [{"begins": stamp(d), "ends": stamp(d + DAY), "results": [
                {"team": t, "calls": d.day, "money": {"cents": f"{d.day}.5"}} for t in teams]}
                for i, d in enumerate(days[offset:offset + limit]) if offset + i != self.skip]  # fmt: skip
            more = offset + limit < len(days)
            body = {"data": data, "has_more": more, "next_page": str(offset + limit) if more else None}
        else:
            status, body = 401, {"error": {"message": "invalid key"}}
        response = requests.Response()
        response.status_code, response.request, response.url = status, request, request.url or ""
        response.headers = requests.structures.CaseInsensitiveDict({"x-toy-request": "toy_1"})
        response.raw = HTTPResponse(body=io.BytesIO(json.dumps(body).encode()), status=status, preload_content=False)
        return response

    @staticmethod
    def days(query: dict[str, list[str]]) -> list[dt.datetime]:
        start, end = (dt.datetime.fromisoformat(query[k][0]) for k in ("from", "to"))
        return [start + i * DAY for i in range((end - start) // DAY)]

    def close(self) -> None:
        """Nothing to close."""


def toy_client(api: ToyAPI, key: str = "toy-admin-1", **options: object) -> BaseClient:
    client = BaseClient(key, provider=TOY, now=pd.Timestamp("2026-11-01", tz="UTC"), **options)  # type: ignore[arg-type]
    client.session.mount("https://toy.example/", api)
    return client


def test_toy_provider__runs_through_the_real_core_in_its_own_spelling(tmp_path):
    api = ToyAPI()
    client = toy_client(api, cache=tmp_path)
    frame = client.fetch("calls", "2026-09-28", "2026-10-04", group_by="team", teams=["red"])
    sent = min(api.requests, key=lambda q: q["from"])  # the windows are fetched at once, in any order
    assert sent["from"] == ["2026-09-28T00:00:00Z"] and sent["to"] == ["2026-10-01T00:00:00Z"]
    assert sent["group_by[]"] == ["team"] and sent["teams[]"] == ["red"]
    assert list(frame.columns) == ["end_time", "team", "calls", "spend"]
    assert frame.index[0] == pd.Timestamp("2026-09-28", tz="UTC") and len(frame) == 6
    assert frame["calls"].dtype == "Int64" and frame["calls"].sum() == 28 + 29 + 30 + 1 + 2 + 3
    assert frame["spend"].tolist() == [0.285, 0.295, 0.305, 0.015, 0.025, 0.035]  # cents, exactly, in dollars
    assert frame.attrs["provider"] == "toy" and frame.attrs["endpoint"] == "calls"
    assert len(api.requests) == 2  # a calendar window each for September's 3 days and October's 3
    assert client.fetch("calls", "2026-09-28", "2026-10-04", group_by="team", teams=["red"]).equals(frame)
    assert len(api.requests) == 2  # from the cache the second time


def test_toy_provider__follows_its_cursor_and_refuses_a_lost_bucket():
    api = ToyAPI()
    frame = toy_client(api, cache=False).fetch("calls", "2026-10-01", "2026-10-13")  # 12 days in pages of 5
    assert [q.get("page") for q in api.requests] == [None, ["5"], ["10"]] and len(frame) == 24
    with pytest.raises(uf.UnexpectedResponseError, match="skips 2026-10-04") as info:
        toy_client(ToyAPI(skip=3), cache=False).fetch("calls", "2026-10-01", "2026-10-13")
    assert info.value.request_id == "toy_1"  # the provider's own request-id header


def test_toy_provider__two_organizations_and_two_providers_never_share_a_cache_entry(tmp_path):
    first, second = ToyAPI(), ToyAPI()
    toy_client(first, "toy-admin-1", cache=tmp_path).fetch("calls", "2026-10-01", "2026-10-03")
    toy_client(second, "toy-admin-2", cache=tmp_path).fetch("calls", "2026-10-01", "2026-10-03")
    assert len(first.requests) == len(second.requests) == 1  # another key: asked again, never the first one's answer
    stored = b"".join(p.read_bytes() for p in tmp_path.rglob("*.sqlite*"))
    assert b"toy-admin-1" not in stored and b"toy-admin-2" not in stored  # the key header is redacted


def test_toy_provider__its_credentials_and_errors_are_its_own(monkeypatch):
    monkeypatch.setenv("TOY_KEY", "toy-admin-from-env")
    assert BaseClient(provider=TOY, cache=False).headers()["X-Toy-Key"] == "toy-admin-from-env"
    with pytest.raises(uf.InvalidParameterError, match=r"not an admin key\. Make an admin key in the toy console"):
        BaseClient("toy-user-1", provider=TOY)
    with pytest.raises(uf.AuthenticationError, match=r"invalid key.*toy console") as info:
        toy_client(ToyAPI(), "bad-key", cache=False).fetch("calls", "2026-10-01", "2026-10-03")
    assert info.value.request_id == "toy_1"
