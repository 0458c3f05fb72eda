"""A hostile server and a pasted key (issue 12): every failure is typed, names the request, ends in bounded time,
and never shows the admin key.

The servers here are tiny ``http.server`` handlers on 127.0.0.1 written for one misbehaviour each (the project's
fake answers like the API; these answer like a broken proxy). Anything that could hang runs in a thread joined
with a timeout.
"""

from __future__ import annotations

import contextlib
import gzip
import math
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import msgspec
import pytest
from conftest import bucket, page

import usage_frames as uf
from usage_frames._transport.retry import MAX_RETRY_AFTER_DELAY, MAX_RETRY_DELAY, retry_delay
from usage_frames._transport.send import deadline

PATH = "/organization/costs"

Reply = Callable[[BaseHTTPRequestHandler], None]
# The costs answer for 2026-10-01 .. 2026-10-02: one bucket, one result of $1.50.
COST = {"object": "organization.costs.result", "amount": {"value": 1.5, "currency": "usd"}}
ONE_DAY = page(bucket(1790812800, 1790899200, COST), encode=True)


@contextmanager
def serve(reply: Reply) -> Iterator[tuple[str, list[str]]]:
    """Serve ``reply`` for every GET on 127.0.0.1; yields the base URL and the paths asked."""
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up, as it should
                reply(self)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", asked
    finally:
        server.shutdown()
        server.server_close()


def send(handler: BaseHTTPRequestHandler, status: int, body: bytes, **headers: str) -> None:
    handler.send_response(status)
    for name, value in {"Content-Length": str(len(body)), **headers}.items():
        handler.send_header(name.replace("_", "-"), value)
    handler.end_headers()
    handler.wfile.write(body)


def bounded(call: Callable[[], object], seconds: float) -> BaseException | None:
    """Run ``call`` in a thread; fail the test if it has not finished after ``seconds``; return what it raised."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            call()
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds} s"
    return outcome[0]


def client(url: str, key: str, **kwargs: object) -> uf.Client:
    options: dict[str, object] = {"cache": False, "sleep": lambda s: None, "max_retries": 1, **kwargs}
    return uf.Client(key, url, **options)  # type: ignore[arg-type]


def texts(exc: BaseException) -> list[str]:
    """Everywhere an error carries text: str, repr, args, message and body."""
    return [str(exc), repr(exc), repr(exc.args), repr(getattr(exc, "message", "")), repr(getattr(exc, "body", ""))]


# --- the key ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pasted",
    ["\r\n", "\n", "\r", "\t", " ", "\u200b", "\ufeff", "\u00e9", "\x00", "\u2028"],
    ids=["crlf", "lf", "cr", "tab", "space", "zero-width space", "bom", "e acute", "nul", "line separator"],
)
def test_key__a_character_pasted_inside_is_refused_showing_only_the_prefix(pasted, secret_key):
    key = secret_key[:20] + pasted + secret_key[20:]
    with pytest.raises(uf.InvalidParameterError) as info:
        uf.Client(key, cache=False)
    assert info.value.argument == "api_key"
    assert "copy the key again" in str(info.value)
    assert info.value.value == "sk-admin-..."
    for text in texts(info.value):
        assert secret_key[9:20] not in text and secret_key[20:] not in text, text


@pytest.mark.parametrize("key", [" sk-proj-abcdef123456", "sk-proj-abcdef123456\n", "\tsk-svcacct-abcdef123456 "])
def test_key__surrounding_whitespace_does_not_hide_a_project_key(key):
    with pytest.raises(uf.InvalidParameterError, match="is not an admin key") as info:
        uf.Client(key, cache=False)
    assert all("abcdef" not in text for text in texts(info.value))


def test_key__surrounding_whitespace_around_an_admin_key_is_dropped_before_sending(secret_key):
    seen: list[str] = []

    def reply(handler: BaseHTTPRequestHandler) -> None:
        seen.append(handler.headers["Authorization"])
        send(handler, 401, b'{"error": {"message": "no"}}')

    with serve(reply) as (url, _), pytest.raises(uf.AuthenticationError):
        uf.Client(f"  {secret_key}\n", url, cache=False).costs("2026-10-01", "2026-10-02")
    assert seen == [f"Bearer {secret_key}"]


@pytest.mark.parametrize("status", [400, 401, 500])
@pytest.mark.parametrize("kind", ["json", "text"])
def test_key__a_server_echoing_the_authorization_header_is_scrubbed_everywhere(status, kind, secret_key):
    def reply(handler: BaseHTTPRequestHandler) -> None:
        echoed = handler.headers["Authorization"]
        body = (
            msgspec.json.encode({"error": {"message": f"bad header {echoed}", "echo": [echoed, {echoed: echoed}]}})
            if kind == "json"
            else f"<html>Authorization: {echoed}</html>".encode()
        )
        send(handler, status, body, Content_Type="application/json" if kind == "json" else "text/html")

    with serve(reply) as (url, asked), pytest.raises(uf.APIStatusError) as info:
        client(url, secret_key).costs("2026-10-01", "2026-10-02")
    assert asked  # the server did see (and echo) the key
    secret_tail = secret_key.removeprefix("sk-admin-")
    for text in texts(info.value):
        assert secret_key not in text and secret_tail not in text, text
    assert "<redacted>" in repr(info.value.body)


# --- the server ---------------------------------------------------------------------------------------------


def test_server__gzip_encoding_on_a_plain_body_is_a_typed_error_naming_the_request(secret_key):
    plain = serve(lambda h: send(h, 200, b'{"object": "page"}', Content_Encoding="gzip"))
    with plain as (url, asked), pytest.raises(uf.APIConnectionError, match=f"GET {PATH} failed: ContentDecodingError"):
        client(url, secret_key, max_retries=1).costs("2026-10-01", "2026-10-02")
    assert len(asked) == 2  # retried once: a proxy glitch may pass


def test_server__a_real_gzip_body_still_decodes(secret_key):
    body = gzip.compress(ONE_DAY)
    with serve(lambda h: send(h, 200, body, Content_Encoding="gzip", Content_Type="application/json")) as (url, _):
        frame = client(url, secret_key).costs("2026-10-01", "2026-10-02")
    assert len(frame) == 1 and frame["amount"].tolist() == [1.5] and frame.attrs["endpoint"] == "costs"


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "-1", "1e400", "99999999999", "", "Fri, 31 Dec 9999"])
def test_server__any_retry_after_on_a_503_gives_a_finite_bounded_wait(value, secret_key):
    sleeps: list[float] = []
    busy = serve(lambda h: send(h, 503, b"busy", Retry_After=value))
    with busy as (url, asked), pytest.raises(uf.ServerError, match=f"503 Service Unavailable: busy \\[GET {PATH}\\]"):
        client(url, secret_key, sleep=sleeps.append, max_retries=3).costs("2026-10-01", "2026-10-02")
    assert len(asked) == 4 and len(sleeps) == 3
    assert all(math.isfinite(s) and 0 <= s <= MAX_RETRY_AFTER_DELAY for s in sleeps), sleeps


def test_retry_delay__non_finite_server_delays_fall_back_to_backoff():
    for value in ("nan", "inf", "-inf"):
        assert retry_delay(2, {"Retry-After": value}, jitter=lambda: 0.0) == 2.0
        assert retry_delay(2, {"retry-after-ms": value}, jitter=lambda: 0.0) == 2.0
    assert retry_delay(0, {"Retry-After": "-1"}) == 0.0
    assert retry_delay(9, {"Retry-After": "1e400"}, jitter=lambda: 0.0) == MAX_RETRY_DELAY  # 1e400 is inf


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("/v1/organization/costs", "302 Found: (empty body) (a redirect to '/v1/organization/costs': the API does not"),
        ("file:///etc/passwd", "302 Found: (empty body) (a redirect to 'file:///etc/passwd': the API does not"),
        ("http://example.com/steal", "302 Found: (empty body) (a redirect to 'http://example.com/steal': the API"),
        ("", "302 Found: (empty body) (a redirect to '': the API does not redirect; check base_url)"),
        # requests parses the Location even when it does not follow it
        ("http://[::1", f"GET {PATH} failed: ValueError: Invalid IPv6 URL"),
    ],
    ids=["a loop", "file scheme", "another host", "empty", "broken ipv6"],
)
def test_server__a_redirect_is_a_typed_error_naming_the_request_and_not_followed(location, expected, secret_key):
    with serve(lambda h: send(h, 302, b"", Location=location)) as (url, asked), pytest.raises(uf.APIError) as info:
        client(url, secret_key).costs("2026-10-01", "2026-10-02")
    assert str(info.value).startswith(expected), str(info.value)
    assert f"GET {PATH}" in str(info.value)
    assert len(asked) == 1  # neither followed nor retried


def begin_body(handler: BaseHTTPRequestHandler, first: bytes) -> None:
    """A 200 that promises 100000 bytes and sends the ``first`` few."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", "100000")
    handler.end_headers()
    handler.wfile.write(first)
    handler.wfile.flush()


def drip_body(handler: BaseHTTPRequestHandler) -> None:
    begin_body(handler, b" ")
    for _ in range(200):  # 64 bytes every 0.2 s: each read is quick, the whole never ends
        handler.wfile.write(b" " * 64)
        handler.wfile.flush()
        time.sleep(0.2)


def drip_headers(handler: BaseHTTPRequestHandler) -> None:
    handler.wfile.write(b"HTTP/1.1 200 OK\r\n")
    for i in range(100):  # one header line every 0.2 s: never a read timeout, never an end
        handler.wfile.write(f"X-Slow-{i}: yes\r\n".encode())
        handler.wfile.flush()
        time.sleep(0.2)


@pytest.mark.parametrize("drip", [drip_body, drip_headers], ids=["body", "headers"])
def test_server__dripping_slowly_is_timed_out_by_the_total_deadline(drip, secret_key):
    timeout = (1.0, 1.0)
    with serve(drip) as (url, asked):
        started = time.monotonic()
        error = bounded(
            lambda: client(url, secret_key, timeout=timeout, max_retries=1).costs("2026-10-01", "2026-10-02"), 15
        )
        took = time.monotonic() - started
    assert isinstance(error, uf.APITimeoutError), error
    assert f"GET {PATH} timed out" in str(error) and "in all" in str(error)
    assert took < 2 * deadline(timeout) + 2, took
    assert len(asked) == 2  # retried once, each attempt cut at its deadline


def test_server__a_stalled_body_is_a_timeout_after_retries(secret_key):
    def stall(handler: BaseHTTPRequestHandler) -> None:
        begin_body(handler, b"{")
        time.sleep(3)

    with serve(stall) as (url, asked):
        error = bounded(
            lambda: client(url, secret_key, timeout=(1, 0.3), max_retries=1).costs("2026-10-01", "2026-10-02"), 10
        )
    assert isinstance(error, uf.APITimeoutError), error
    assert len(asked) == 2


def test_server__a_connection_closed_mid_body_is_a_connection_error(secret_key):
    def cut(handler: BaseHTTPRequestHandler) -> None:
        begin_body(handler, b'{"object": "pa')
        handler.close_connection = True

    with serve(cut) as (url, asked), pytest.raises(uf.APIConnectionError, match=f"GET {PATH} failed"):
        client(url, secret_key, max_retries=1).costs("2026-10-01", "2026-10-02")
    assert len(asked) == 2


def test_server__a_garbage_status_line_is_a_connection_error(secret_key):
    def garbage(handler: BaseHTTPRequestHandler) -> None:
        handler.wfile.write(b"HTTP/1.1 abc nonsense\r\n\r\n")
        handler.close_connection = True

    with serve(garbage) as (url, _), pytest.raises(uf.APIConnectionError, match=f"GET {PATH} failed"):
        client(url, secret_key, max_retries=0).costs("2026-10-01", "2026-10-02")


def test_deadline__is_the_connect_plus_the_read_timeout():
    assert deadline(2) == 4.0 and deadline((10, 120)) == 130.0


@pytest.mark.parametrize("pasted", ["\r\n", "\u200b"], ids=["crlf", "zero-width space"])
def test_key__from_the_environment_is_checked_like_an_argument(monkeypatch, pasted, secret_key):
    monkeypatch.setenv("OPENAI_ADMIN_KEY", secret_key[:20] + pasted + secret_key[20:])
    with pytest.raises(uf.InvalidParameterError, match=r"api_key: 'sk-admin-\.\.\.' contains") as info:
        uf.Client(cache=False)
    assert all(secret_key[20:] not in text for text in texts(info.value))


def test_fake__an_organization_that_is_not_one_is_refused():
    with pytest.raises(uf.InvalidParameterError, match="organization: 'acme' must be a FakeOrganization or None"):
        uf.Client.fake("acme")  # type: ignore[arg-type]


@pytest.mark.parametrize("path", [3, "organization/projects", "/organization/projects\r\nX: y", b"/x"])
def test_list_objects__a_path_that_is_not_an_api_path_is_refused(path):
    with pytest.raises(uf.InvalidParameterError, match="must be an API path"):
        uf.Client.fake().list_objects(path)
    with pytest.raises(uf.InvalidParameterError, match="must be an API path"):
        uf.Client.fake().get_object(path)


def test_base_url__credentials_in_it_are_refused_without_showing_them(secret_key):
    with pytest.raises(uf.InvalidParameterError, match="must not carry credentials") as info:
        uf.Client(secret_key, "https://me:hunter2@proxy.example.com/v1", cache=False)
    assert all("hunter2" not in text for text in texts(info.value))


def test_cli__a_key_pasted_across_lines_is_refused_without_a_traceback_or_the_key(secret_key):
    env = {**os.environ, "OPENAI_ADMIN_KEY": secret_key[:20] + "\r\n" + secret_key[20:], "OPENAI_BASE_URL": ""}
    run = subprocess.run(
        [sys.executable, "-m", "usage_frames.cli", "fetch", "costs", "--start", "2026-10-01", "--end", "2026-10-02"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr and "contains '\\r'" in run.stderr
    assert secret_key[9:20] not in run.stdout + run.stderr and secret_key[20:] not in run.stdout + run.stderr


@pytest.mark.parametrize(
    "value", [3, b"x", ["x", ["y"]], {"a": 1}, object()], ids=["int", "bytes", "nested", "dict", "object"]
)
@pytest.mark.parametrize(
    "call",
    [
        lambda df, v: uf.ops.totals(df, by=v),
        lambda df, v: uf.ops.share(df, by=v),
        lambda df, v: uf.ops.pivot(df, columns="model", values=v),
        lambda df, v: uf.ops.join_costs(df, v),
    ],
    ids=["totals by", "share by", "pivot values", "join_costs costs"],
)
def test_ops__a_wrongly_typed_column_or_frame_is_an_argument_error(call, value):
    df = uf.Client.fake().completions("2026-10-01", "2026-10-03", group_by="model")
    with pytest.raises(uf.InvalidParameterError):
        call(df, value)


def test_server__a_chunked_gzip_body_decodes_under_the_deadline_reader(secret_key):
    body = gzip.compress(ONE_DAY)

    def chunked(handler: BaseHTTPRequestHandler) -> None:
        handler.protocol_version = "HTTP/1.1"
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Encoding", "gzip")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        for i in range(0, len(body), 7):
            piece = body[i : i + 7]
            handler.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        handler.wfile.write(b"0\r\n\r\n")

    with serve(chunked) as (url, _):
        frame = client(url, secret_key).costs("2026-10-01", "2026-10-02")
    assert len(frame) == 1 and frame["amount"].tolist() == [1.5]


COMPLETION = {"object": "organization.usage.completions.result", "input_tokens": 1, "num_model_requests": 1}


def one_bucket(result: dict[str, object]) -> Reply:
    """A server answering every page with one bucket (2026-10-01) holding ``result``."""
    body = page(bucket(1790812800, 1790899200, result), encode=True)
    return lambda h: send(h, 200, body, Content_Type="application/json")


@pytest.mark.parametrize(
    ("result", "group_by", "expected"),
    [
        ({**COMPLETION, "batch": "true"}, ["batch"], "'batch' holds 'true', not a bool or null"),
        ({**COMPLETION, "model": ["a"]}, ["model"], "'model' holds ['a'], not a str or null"),
        ({**COMPLETION, "input_tokens": 2**63}, None, "'input_tokens' holds 9223372036854775808, a count outside"),
        ({**COMPLETION, "input_tokens": -(2**63) - 1}, None, "'input_tokens' holds -9223372036854775809, a count"),
    ],
    ids=["batch as text", "model as a list", "a count of 2^63", "a count below int64"],
)
def test_server__a_wrongly_typed_page_value_is_a_typed_error_naming_the_request_and_field(
    result, group_by, expected, secret_key
):
    with serve(one_bucket(result)) as (url, _), pytest.raises(uf.UnexpectedResponseError) as info:
        client(url, secret_key).completions("2026-10-01", "2026-10-02", group_by=group_by)
    assert str(info.value).startswith("GET /organization/usage/completions (2026-10-01 00:00..2026-10-02 00:00 UTC): ")
    assert expected in str(info.value)


def test_server__an_amount_beyond_a_float_as_text_is_a_typed_error_naming_the_request(secret_key):
    cost = {"object": "organization.costs.result", "amount": {"value": "1e400", "currency": "usd"}}
    named = r"GET /organization/costs \(2026-10-01.*'amount.value'"
    with serve(one_bucket(cost)) as (url, _), pytest.raises(uf.UnexpectedResponseError, match=named):
        client(url, secret_key).costs("2026-10-01", "2026-10-02")
