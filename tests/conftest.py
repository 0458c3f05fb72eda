"""Shared fixtures: the fake organization, a secret key made per run, and clients whose sleep records delays
instead of waiting (a test that sleeps is a bug).

``client`` is answered in-process (the fake's ``FakeAdapter`` mounted on the client's own session, a real
requests-cache ``CachedSession`` on a temporary folder); ``http_client`` and ``server`` speak real HTTP to a
``FakeServer`` on 127.0.0.1, for the scenarios that need a socket (timeouts, dropped connections, proxies,
subprocesses, anything that builds its own client from a URL). Both answer with the test's fresh ``faults``."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import matplotlib
import msgspec
import pandas as pd
import pytest

import usage_frames._core.query
from usage_frames import Client
from usage_frames._core.query import Query
from usage_frames._core.query import build_query as build_query_of
from usage_frames._core.schema import Endpoint
from usage_frames.fake import FakeAPI, FakeServer, Faults
from usage_frames.providers import DEFAULT, PROVIDERS
from usage_frames.providers.openai.fake import FakeOrganization

DEFAULT_BASE_URL = DEFAULT.credentials.base_url

matplotlib.use("Agg")

# A maintenance script (needs PyYAML), and the clock pin of subprocesses (imported at their start-up): not test modules.
collect_ignore = ["providers/openai/spec/vendor.py", "finops/spec/vendor_focus.py", "pinned_clock/sitecustomize.py"]

ROOT = Path(__file__).resolve().parent.parent
"""The project's folder (README.md, notebooks/, usage_frames/)."""
SPEC = json.loads((ROOT / "tests/providers/openai/spec/usage-openapi-excerpt.json").read_text())
# Made at run time so that no key-shaped string is committed; long enough to be found if it leaks anywhere.
SECRET_KEY = "sk-admin-" + secrets.token_urlsafe(32)
# The one "now" of the suite: clients and fake organizations without now= follow usage_frames._core.query.wall_clock,
# pinned here, so that fixed 2026 dates stay inside the API's one-year look-back on any date of the machine's clock.
NOW = pd.Timestamp("2026-11-28 12:00", tz="UTC")
# The start of that day, for tests whose fixed windows end on a day boundary.
MIDNIGHT = NOW.normalize()


REAL_WALL_CLOCK = usage_frames._core.query.wall_clock


def build_query(endpoint: Any, *args: Any, **kwargs: Any) -> Query:
    """A validated query of an endpoint of the default provider, named as the tests name it."""
    return build_query_of(endpoint if isinstance(endpoint, Endpoint) else DEFAULT.endpoint(endpoint), *args, **kwargs)


@pytest.fixture(autouse=True, scope="session")
def _pinned_clock() -> Iterator[None]:
    """Session-wide, so that module-scoped fixtures fetch on the pinned clock too."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(usage_frames._core.query, "wall_clock", lambda: NOW)
        yield


def pinned_env(now: pd.Timestamp = NOW, **variables: str) -> dict[str, str]:
    """The environment of a subprocess on the suite's clock: this one's, with ``usage_frames`` pinned to ``now``.

    ``tests/pinned_clock/sitecustomize.py`` does the pinning at the subprocess's start-up, so that the console
    script and ``python -c`` runs of a test do not depend on the machine's date either. ``variables`` are added.
    """
    path = [str(Path(__file__).parent / "pinned_clock"), os.environ.get("PYTHONPATH", "")]
    pinned = {"PYTHONPATH": os.pathsep.join(p for p in path if p), "USAGE_FRAMES_TEST_NOW": now.isoformat()}
    return {**os.environ, **pinned, **variables}


@pytest.fixture(autouse=True)
def _real_clock_where_marked(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if request.node.get_closest_marker("real_clock") is not None:
        monkeypatch.setattr(usage_frames._core.query, "wall_clock", REAL_WALL_CLOCK)


@pytest.fixture(scope="session")
def secret_key() -> str:
    """The admin key of this run (made at run time, so that no key-shaped string is committed).

    Session-scoped (it is one value per run) so that hypothesis ``@given`` tests can take it too.
    """
    return SECRET_KEY


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Live tests (``@pytest.mark.live``, or ``live("anthropic")`` for another provider) run only when that
    provider's admin key is set, and on the machine's real clock."""
    for item in items:
        marker = item.get_closest_marker("live")
        if marker is None:
            continue
        variable = PROVIDERS[marker.args[0] if marker.args else DEFAULT.name].credentials.env
        item.add_marker(pytest.mark.real_clock)
        if not os.environ.get(variable):
            item.add_marker(pytest.mark.skip(reason=f"live test: set {variable} to run it"))


@pytest.fixture(autouse=True)
def _no_outside_network(
    monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Refuse any connection that is not to loopback, so an offline test cannot reach a real host; keep each
    test's HTTP cache in a fresh temporary directory, never in the user's."""
    monkeypatch.setenv("USAGE_FRAMES_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    if "live" in request.keywords:
        return
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else str(address)
        if self.family in (socket.AF_INET, socket.AF_INET6) and host not in ("127.0.0.1", "::1", "localhost"):
            raise OSError(f"test tried to reach {host}: tests are offline")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    for provider in PROVIDERS.values():  # no test reads the machine's keys or API roots
        monkeypatch.delenv(provider.credentials.env, raising=False)
        monkeypatch.delenv(provider.credentials.base_url_env, raising=False)


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    import matplotlib.pyplot as plt

    from usage_frames.plot import reset_colors

    plt.close("all")
    reset_colors()


@pytest.fixture(scope="session")
def org() -> FakeOrganization:
    """The standard fake organization (its clock is the real one; windows in the tests are in the past)."""
    return FakeOrganization()


@pytest.fixture(scope="session")
def _http_server(org: FakeOrganization) -> Iterator[FakeServer]:
    with FakeServer(FakeAPI(org)) as running:
        yield running


@pytest.fixture
def faults() -> Faults:
    """Fresh faults (and request counts) for this test, whichever transport answers it."""
    return Faults()


@pytest.fixture
def server(_http_server: FakeServer, faults: Faults) -> FakeServer:
    """The fake API over real HTTP on 127.0.0.1 (one server for the session), answering with this test's faults."""
    _http_server.api.faults = faults
    return _http_server


@pytest.fixture
def in_process(org: FakeOrganization, faults: Faults) -> Callable[[Client], Client]:
    """Answers a client's requests in-process from ``org``: ``in_process(uf.Client(key, ...))``.

    The fake's adapter is mounted on the client's own session, so the client is built exactly as a user builds it
    (its requests-cache ``CachedSession`` included) and only the socket is left out. It answers with this test's
    faults, or with others given as a second argument (``in_process(client, Faults(latency=0.05))``).
    """

    def connect(client: Client, other: Faults | None = None) -> Client:
        org.mount(client.session, client.base_url, faults if other is None else other)
        return client

    return connect


class Sleeps(list[float]):
    """Records the delays a client would have slept."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def client(in_process: Callable[[Client], Client], sleeps: Sleeps, secret_key: str) -> Client:
    """A client of the fake answered in-process (through its real cache), with the run's key and recorded sleeps."""
    return in_process(Client(secret_key, DEFAULT_BASE_URL, sleep=sleeps, timeout=(2, 10)))


@pytest.fixture
def http_client(server: FakeServer, sleeps: Sleeps, secret_key: str) -> Client:
    """The same client over real HTTP to :func:`server`, for the scenarios that need a socket."""
    return Client(secret_key, server.url, sleep=sleeps, timeout=(2, 10))


@contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """Make ``folder`` truly read-only: a read-only bind mount as root (root ignores modes), else its modes."""
    if os.geteuid() == 0:
        subprocess.run(["mount", "--bind", str(folder), str(folder)], check=True)
        try:
            subprocess.run(["mount", "-o", "remount,bind,ro", str(folder)], check=True)
            yield
        finally:
            subprocess.run(["umount", str(folder)], check=True)
    else:
        modes = {p: p.stat().st_mode for p in [folder, *folder.iterdir()]}
        for p in modes:
            p.chmod(0o500 if p.is_dir() else 0o400)
        try:
            yield
        finally:
            for p, mode in modes.items():
                p.chmod(mode)


def bucket(
    start: int, end: int, *results: dict[str, Any], result_object: str | None = None, **extra: Any
) -> dict[str, Any]:
    """One API bucket from ``start`` to ``end`` (Unix seconds) holding ``results``.

    ``result_object`` stamps each result with that ``"object"`` name; ``extra`` adds (or overrides) bucket fields.
    """
    if result_object is not None:
        results = tuple({"object": result_object, **r} for r in results)
    return {"object": "bucket", "start_time": start, "end_time": end, "results": list(results), **extra}


def page(
    *buckets: dict[str, Any], cursor: str | None = None, has_more: bool | None = None, encode: bool = False
) -> Any:
    """One API page of ``buckets``: the one page builder of the suite.

    ``cursor`` is ``next_page``; ``has_more`` follows it (``cursor is not None``) unless given, so that broken pages
    (``has_more`` without a cursor) can be built too. ``encode=True`` gives the JSON bytes a server would send.
    """
    body = {
        "object": "page",
        "data": list(buckets),
        "has_more": cursor is not None if has_more is None else has_more,
        "next_page": cursor,
    }
    return msgspec.json.encode(body) if encode else body
