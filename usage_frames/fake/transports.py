"""How does a client reach a fake API?

:class:`FakeAPI` (a provider's fake organization behind a base path, with faults), served in-process by
:class:`FakeAdapter` on a ``requests.Session`` (:func:`mount`) or over real HTTP on 127.0.0.1 by :class:`FakeServer`.

Examples:
    >>> from usage_frames.providers import fake_organization
    >>> FakeAPI(fake_organization()).base_path
    '/v1'
"""

from __future__ import annotations

import io
import socket
import threading
import time
from collections.abc import Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import requests
from requests.adapters import BaseAdapter
from urllib3.response import HTTPResponse

from usage_frames._core import query as queries
from usage_frames._core.schema import unix
from usage_frames.fake.faults import Fault, Faults, apply
from usage_frames.fake.reply import Organization, Reply


class FakeAPI:
    """A fake organization behind a base path, with faults: what both transports serve.

    Args:
        organization: The provider's fake organization.
        faults: Its misbehaviour (none by default).
        base_path: The path its API root has (default: that of the provider's public API root, ``/v1``...).
    """

    def __init__(self, organization: Organization, faults: Faults | None = None, base_path: str | None = None) -> None:
        self.organization = organization
        self.faults = faults or Faults()
        root = urlsplit(organization.provider.credentials.base_url).path if base_path is None else base_path
        self.base_path = root.rstrip("/")

    def handle(self, method: str, url: str, headers: Mapping[str, str]) -> tuple[Reply, Fault | None]:
        """Answer a full URL, with the next fault applied (``reset``/``stall`` are left to the transport)."""
        parts = urlsplit(url)
        throttled = self.faults.enter(parts.path, parts.query)
        try:
            if self.faults.latency:
                time.sleep(self.faults.latency)
            fault = throttled or self.faults.next()
            path = parts.path.removeprefix(self.base_path)
            reply = self.organization.respond(method, path, parse_qs(parts.query), headers)
            return apply(fault, reply, self.organization.provider.wire, self.organization.error), fault
        finally:
            self.faults.leave()


class FakeAdapter(BaseAdapter):
    """A requests transport adapter that answers from a :class:`FakeAPI` in-process (``Client(transport=...)``).

    Examples:
        >>> from usage_frames.providers import fake_organization
        >>> session = requests.Session()
        >>> session.mount("https://api.example.com/", FakeAdapter(FakeAPI(fake_organization())))
        >>> session.get("https://api.example.com/v1/organization/costs?start_time=1").status_code
        401
    """

    source = "fake"
    """Who answers a client with this transport (``client.source``)."""

    def __init__(self, api: FakeAPI) -> None:
        super().__init__()
        self.api = api

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        """Answer a prepared request."""
        reply, fault = self.api.handle(request.method or "GET", request.url or "", request.headers)
        if fault is not None and fault.kind == "reset":
            raise requests.ConnectionError("Connection reset by peer (fake)", request=request)
        if fault is not None and fault.kind == "stall":
            raise requests.ReadTimeout("Read timed out (fake)", request=request)
        raw = HTTPResponse(
            body=io.BytesIO(reply.body),
            headers=dict(reply.headers),
            status=reply.status,
            preload_content=False,
            decode_content=False,
            reason=_reason(reply.status),
        )
        response = requests.Response()
        response.status_code = reply.status
        response.headers = requests.structures.CaseInsensitiveDict(reply.headers)
        response.raw = raw
        response.url = request.url or ""
        response.request = request
        response.reason = _reason(reply.status)
        response.encoding = "utf-8"
        return response

    def close(self) -> None:
        """Nothing to close."""


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # socketserver's 5 drops connects beyond it (retried a second later) at 32 in flight


class FakeServer:
    """The fake API as a real HTTP server on 127.0.0.1, in a background thread.

    Args:
        api: What to serve (a fake organization with its faults).
        port: The port; 0 picks a free one.

    Examples:
        >>> from usage_frames.providers import fake_organization
        >>> with FakeServer(FakeAPI(fake_organization())) as server:
        ...     requests.get(server.url + "/organization/costs?start_time=1").status_code
        401
    """

    def __init__(self, api: FakeAPI, port: int = 0) -> None:
        self.api = api
        handler = type("Handler", (_Handler,), {"api": self.api})
        self._server = _Server(("127.0.0.1", port), handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL to give a client, e.g. ``http://127.0.0.1:8123/v1``."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{self.api.base_path}"

    def start(self) -> FakeServer:
        """Serve in a daemon thread."""
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="fake-api", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port."""
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Handler(BaseHTTPRequestHandler):
    api: FakeAPI
    protocol_version = "HTTP/1.1"
    stall_seconds = 3.0

    def do_GET(self) -> None:
        self._answer("GET")

    def do_POST(self) -> None:
        self._answer("POST")

    def _answer(self, method: str) -> None:
        try:
            self._send(method)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (a timeout test); nothing to answer

    def _send(self, method: str) -> None:
        reply, fault = self.api.handle(method, self.path, dict(self.headers.items()))
        if fault is not None and fault.kind == "stall":
            time.sleep(self.stall_seconds)
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if fault is not None and fault.kind == "reset":
            self.wfile.write(reply.body[: len(reply.body) // 3])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        self.wfile.write(reply.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet; requests are counted in :class:`Faults`."""


def mount(
    organization: Organization, session: requests.Session, base_url: str, faults: Faults | None = None
) -> FakeAPI:
    """Answer every request to ``base_url`` on ``session`` from the fake organization; returns the API."""
    parts = urlsplit(base_url)
    api = FakeAPI(organization, faults, base_path=parts.path or "/")
    session.mount(f"{parts.scheme}://{parts.netloc}/", FakeAdapter(api))
    return api


class Mountable:
    """What every provider's fake organization has: a clock (its ``now``, else the wall clock) and :meth:`mount`."""

    now: pd.Timestamp | None

    def mount(self, session: requests.Session, base_url: str, faults: Faults | None = None) -> FakeAPI:
        """Answer every request to ``base_url`` on ``session`` in-process; returns the API (its faults, counts)."""
        return mount(cast(Organization, self), session, base_url, faults)

    def clock(self) -> int:
        """The organization's "now" in Unix seconds."""
        return unix(self.now if self.now is not None else queries.wall_clock())  # patchable: tests pin it


def client_arguments(organization: Organization, key: str, **kwargs: Any) -> dict[str, Any]:
    """The keyword arguments of a client answered in-process by a fake organization (``uf.Client.fake()``).

    The organization is the client's transport (:class:`FakeAdapter`), on a session without a cache unless the
    caller gives one (``cache=`` or ``session=``); ``key`` is the admin key it sends unless the caller gives one.

    Args:
        organization: The fake organization, on the client's clock (one clock for both sides: its look-back, its
            "future" and its open bucket follow the client's ``now=``).
        key: An admin key of the provider's shape (the fake accepts any).
        **kwargs: The caller's other keyword arguments, passed on.
    """
    if "session" not in kwargs:
        kwargs.setdefault("cache", False)
    kwargs.setdefault("api_key", key)
    return {**kwargs, "transport": FakeAdapter(FakeAPI(organization))}
