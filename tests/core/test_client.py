"""The client against the fake API (in-process; over real HTTP where the socket matters): exact totals, pagination,
retries and typed errors.

Each scenario of issue 3's acceptance list is one named test here. Sleeps are recorded, never slept.
"""

from __future__ import annotations

import logging

import msgspec
import pandas as pd
import pytest
import requests
from conftest import bucket, build_query
from conftest import page as api_page

import usage_frames as uf
from usage_frames._transport.retry import MAX_RETRY_AFTER_DELAY, retry_delay, should_retry
from usage_frames._transport.send import status_error
from usage_frames.fake import FakeAPI, FakeServer, Fault
from usage_frames.providers import DEFAULT
from usage_frames.providers.openai.endpoints import ENDPOINTS
from usage_frames.providers.openai.fake import FakeOrganization
from usage_frames.providers.openai.provider import KEY_HELP as ADMIN_KEY_HELP

WINDOWS = {  # unaligned starts on purpose: the first bucket is partial, as the real API answers
    "1d": ("2026-09-20T05:17:11", "2026-10-20T13:00:00"),
    "1h": ("2026-10-13T22:30:00", "2026-10-16T01:00:00"),
    "1m": ("2026-10-14T13:00:30", "2026-10-14T16:00:00"),
}


def additive(endpoint):
    return [f.name for f in endpoint.fields if f.kind == "additive"]


def assert_totals(frame, org, endpoint, start, end, **where):
    for name in additive(endpoint):
        if name == "quantity" and "line_item" not in frame.attrs["group_by"]:
            assert frame[name].isna().all()  # the spec: quantity is populated when grouped by line_item
            continue
        truth = org.total(endpoint.name, name, start, end, **where)
        if endpoint.name == "costs":
            assert frame[name].sum() == pytest.approx(truth, rel=1e-9), name
        else:
            assert int(frame[name].sum()) == truth, name


@pytest.mark.parametrize(
    ("endpoint", "width"),
    [(e, w) for e in ENDPOINTS.values() for w in e.bucket_widths],
    ids=lambda v: getattr(v, "name", v),
)
def test_fetch__every_endpoint_width_and_group_key_matches_ground_truth(client, org, endpoint, width):
    start, end = WINDOWS[width]
    if endpoint.name == "costs":  # costs buckets are whole UTC days
        start, end = "2026-09-20", "2026-10-20"
    whole = client.fetch(endpoint.name, start, end, bucket_width=width)
    assert not whole.empty
    assert whole.attrs["bucket_width"] == width
    if endpoint.name != "vector_stores":
        assert_totals(whole, org, endpoint, start, end)
    for key in endpoint.group_by:
        grouped = client.fetch(endpoint.name, start, end, bucket_width=width, group_by=key)
        assert list(grouped.columns)[:2] == ["end_time", key]
        numeric = [f.name for f in endpoint.fields if f.dtype != "string" and whole[f.name].notna().any()]
        level_or_sum = grouped.groupby(level=0)[numeric].sum()
        ungrouped = whole.groupby(level=0)[level_or_sum.columns].sum()
        pd.testing.assert_frame_equal(level_or_sum, ungrouped, check_exact=endpoint.name != "costs")
        if endpoint.name == "vector_stores":
            continue
        for value in grouped[key].dropna().unique()[:2]:
            part = grouped[grouped[key] == value]
            assert_totals(part, org, endpoint, start, end, **{key: value})


def test_fetch__all_group_keys_at_once_match_ground_truth_per_combination(client, org):
    start, end = "2026-10-01", "2026-10-08"
    ep = ENDPOINTS["completions"]
    frame = client.completions(start, end, group_by=list(ep.group_by))
    assert list(frame.columns) == ["end_time", *ep.group_by, *(f.name for f in ep.fields)]
    for combo, part in frame.groupby(list(ep.group_by), observed=True):
        where = dict(zip(ep.group_by, combo, strict=True))
        assert int(part["input_tokens"].sum()) == org.total("completions", "input_tokens", start, end, **where)


def test_fetch__filters_reach_the_server_and_match_ground_truth(client, org):
    start, end = "2026-10-01", "2026-10-08"
    frame = client.completions(start, end, models=["gpt-4o-2024-08-06"], batch=False, project_ids="proj_chat")
    truth = org.total(
        "completions", "output_tokens", start, end, model="gpt-4o-2024-08-06", batch=False, project_id="proj_chat"
    )
    assert int(frame["output_tokens"].sum()) == truth > 0
    costs = client.costs(start, end, group_by="line_item", line_items="gpt-4o-2024-08-06, output")
    assert costs["line_item"].unique().tolist() == ["gpt-4o-2024-08-06, output"]
    assert costs["amount"].sum() == pytest.approx(
        org.total("costs", "amount", start, end, line_item="gpt-4o-2024-08-06, output")
    )
    assert (costs["quantity_unit"] == "tokens").all()


def test_package_functions__use_the_environment_key_and_base_url(secret_key, server, org, monkeypatch):
    # Over HTTP: the package functions build their own client from OPENAI_BASE_URL.
    monkeypatch.setenv("OPENAI_ADMIN_KEY", secret_key)
    monkeypatch.setenv("OPENAI_BASE_URL", server.url)
    frame = uf.embeddings("2026-10-01", "2026-10-03", group_by="model")
    assert int(frame["input_tokens"].sum()) == org.total("embeddings", "input_tokens", "2026-10-01", "2026-10-03")
    assert uf.fetch("embeddings", "2026-10-01", "2026-10-03").equals(uf.embeddings("2026-10-01", "2026-10-03"))


def test_pagination__many_pages_give_the_same_frame_as_one(client, faults):
    one = client.embeddings("2026-09-01", "2026-10-11", group_by="model")
    assert len(faults.requests) == 2  # 40 days at the 31-bucket maximum
    many = client.embeddings("2026-09-01", "2026-10-11", group_by="model", limit=1)
    assert len(faults.requests) == 2 + 40
    pd.testing.assert_frame_equal(one, many)


def test_pagination__requests_send_repeated_keys_and_the_cursor(client, faults):
    client.completions("2026-10-01", "2026-10-03", group_by=["project_id", "model"], limit=1)
    queries = [q for _p, q in faults.requests]
    assert "group_by=project_id&group_by=model" in queries[0]
    assert "page=" not in queries[0] and "page=page_" in queries[1]


def test_retry__429_then_success_honours_retry_after(http_client, org, faults, sleeps):
    # Over HTTP: the Retry-After header as a server writes it and urllib3 reads it back.
    faults.push(Fault(status=429, headers={"Retry-After": "3"}))
    frame = http_client.moderations("2026-10-01", "2026-10-05")
    assert sleeps == [pytest.approx(3.0, abs=0.05)]
    assert int(frame["input_tokens"].sum()) == org.total("moderations", "input_tokens", "2026-10-01", "2026-10-05")


def test_retry__429_without_retry_after_backs_off_exponentially(client, faults, sleeps):
    faults.push(Fault(status=429), Fault(status=429), Fault(status=429))
    client.moderations("2026-10-01", "2026-10-05")
    assert [0.375 <= sleeps[0] <= 0.5, 0.75 <= sleeps[1] <= 1.0, 1.5 <= sleeps[2] <= 2.0] == [True] * 3


def test_retry__5xx_burst_then_success_is_exact(client, org, faults, sleeps):
    faults.push(Fault(status=500), Fault(status=502), Fault(status=503), Fault(kind="reset"))
    frame = client.images("2026-10-01", "2026-10-05", group_by="size")
    assert len(sleeps) == 4
    assert int(frame["images"].sum()) == org.total("images", "images", "2026-10-01", "2026-10-05")


def test_retry__5xx_forever_raises_server_error_and_returns_nothing(client, faults):
    faults.push(*[Fault(status=500)] * 10)
    with pytest.raises(uf.ServerError) as info:
        client.costs("2026-10-01", "2026-10-05")
    err = info.value
    assert err.status_code == 500
    assert err.request_id and err.request_id.startswith("req_")
    assert "The server had an error" in str(err) and err.request_id in str(err)
    assert len(faults.requests) == client.max_retries + 1


def test_retry__failure_on_a_later_page_raises_instead_of_returning_the_first_pages(client, faults):
    faults.push(Fault(kind="pass"), *[Fault(status=503)] * 10)
    pages = []
    with pytest.raises(uf.ServerError) as info:  # the generator raises after the pages it had: never a quiet stop
        for page in client.pages(build_query("embeddings", "2026-10-01", "2026-10-10", limit=2)):
            pages.append(page)
    assert len(pages) == 1
    assert info.value.status_code == 503
    faults.push(Fault(kind="pass"), *[Fault(status=503)] * 10)
    with pytest.raises(uf.ServerError):
        client.embeddings("2026-10-01", "2026-10-10", limit=2)


def test_error__401_explains_that_an_admin_key_is_needed(in_process, faults):
    legacy = in_process(uf.Client("sk-legacy-user-key", sleep=lambda s: None))
    with pytest.raises(uf.AuthenticationError) as info:
        legacy.costs("2026-10-01", "2026-10-02")
    assert info.value.status_code == 401
    assert "Missing scopes: api.usage.read" in str(info.value)
    assert ADMIN_KEY_HELP in str(info.value)
    assert len(faults.requests) == 1  # a 401 is not retried


def test_error__400_from_the_server_is_bad_request_with_its_message(client, faults, sleeps):
    with pytest.raises(uf.BadRequestError) as info:
        client.costs("2026-10-01", "2026-10-02", group_by=["user_id", "project_id"])
    err = info.value
    assert err.status_code == 400 and err.body["error"]["param"] == "group_by"
    assert "user_id" in str(err) and err.request_id in str(err)
    assert sleeps == [] and len(faults.requests) == 1


def test_pagination__repeated_cursor_is_an_error_not_a_loop(client, faults):
    def page(day: int, cursor: str) -> bytes:
        start = 1790812800 + day * 86400
        return api_page(bucket(start, start + 86400), cursor=cursor, encode=True)

    faults.push(Fault(kind="replace", body=page(0, "page_A")), Fault(kind="replace", body=page(1, "page_A")))
    with pytest.raises(uf.UnexpectedResponseError, match="repeated the cursor 'page_A'") as info:
        client.embeddings("2026-10-01", "2026-10-10", limit=1)
    assert info.value.request_id
    assert len(faults.requests) == 2


def test_pagination__has_more_without_cursor_is_an_error(client, faults):
    body = api_page(has_more=True, encode=True)
    faults.push(Fault(kind="replace", body=body))
    with pytest.raises(uf.UnexpectedResponseError, match="has_more is true but next_page is None"):
        client.embeddings("2026-10-01", "2026-10-10")


def test_response__html_error_page_with_200_is_retried_then_typed(client, faults, sleeps):
    faults.push(*[Fault(kind="html")] * 10)
    with pytest.raises(uf.UnexpectedResponseError, match="not JSON \\(text/html"):
        client.embeddings("2026-10-01", "2026-10-02")
    assert len(sleeps) == client.max_retries


def test_response__truncated_json_then_success(client, org, faults):
    faults.push(Fault(kind="truncate"))
    frame = client.embeddings("2026-10-01", "2026-10-02")
    assert int(frame["input_tokens"].sum()) == org.total("embeddings", "input_tokens", "2026-10-01", "2026-10-02")


def test_response__read_timeout_is_retried(secret_key, server, org, faults, sleeps):
    # Over HTTP: a real read timeout on a stalled socket.
    quick = uf.Client(secret_key, server.url, sleep=sleeps, timeout=(2, 0.3))
    faults.push(Fault(kind="stall"))
    frame = quick.embeddings("2026-10-01", "2026-10-02")
    assert len(sleeps) == 1
    assert int(frame["input_tokens"].sum()) == org.total("embeddings", "input_tokens", "2026-10-01", "2026-10-02")


def test_connection__refused_raises_api_connection_error_after_retries(secret_key, sleeps):
    with FakeServer(FakeAPI(FakeOrganization())) as dead:
        url = dead.url
    gone = uf.Client(secret_key, url, sleep=sleeps, max_retries=2)
    with pytest.raises(uf.APIConnectionError, match="ConnectionError"):
        gone.costs("2026-10-01", "2026-10-02")
    assert len(sleeps) == 2


def test_key__missing_key_says_how_to_create_and_set_one():
    with pytest.raises(uf.MissingAPIKeyError) as info:
        uf.Client()
    message = str(info.value)
    assert "OPENAI_ADMIN_KEY" in message and "admin-keys" in message and "sk-admin-" in message


def test_key__a_project_key_is_refused_before_any_request_without_echoing_it(secret_key):
    project_key = "sk-proj-" + secret_key.removeprefix("sk-admin-")
    with pytest.raises(uf.InvalidParameterError) as info:
        uf.Client(project_key)
    assert "not an admin key" in str(info.value)
    assert project_key not in str(info.value) and project_key not in repr(info.value)


@pytest.mark.parametrize(
    ("provider", "key", "said"),
    [
        ("openai", "sk-ant-admin01-", "an admin key of another provider, 'anthropic'"),
        ("openai", "sk-ant-api03-", "a key of 'anthropic', not an admin key"),
        ("anthropic", "sk-admin-", "an admin key of another provider, 'openai'"),
        ("anthropic", "sk-proj-", "a key of 'openai', not an admin key"),
    ],
)
def test_key__another_providers_key_is_refused_before_any_request_naming_the_provider(secret_key, provider, key, said):
    """A key pasted into the wrong provider's client fails at once, not with a 401 from the server."""
    other = key + secret_key.removeprefix("sk-admin-")
    with pytest.raises(uf.InvalidParameterError) as info:
        uf.Client(other, provider=provider)
    assert said in str(info.value) and other not in str(info.value) + repr(info.value)
    if "admin key of another" in said:  # only what to do with it: not how to create a key of the client's provider
        assert "create" not in str(info.value) and str(info.value).endswith("reads it")
    own = uf.Client.providers[provider].credentials.prefix + "x"
    assert uf.Client(own, provider=provider).provider.name == provider  # its own kind of key is welcome


def test_key__never_in_reprs_errors_or_debug_logs(secret_key, in_process, faults, caplog):
    caplog.set_level(logging.DEBUG)
    client = in_process(uf.Client(secret_key, sleep=lambda s: None, max_retries=1))
    texts = [repr(client), str(client)]
    faults.push(Fault(status=500), Fault(status=500), Fault(status=429), Fault(status=429))
    for _ in range(2):
        with pytest.raises(uf.APIStatusError) as info:
            client.costs("2026-10-01", "2026-10-02")
        texts += [str(info.value), repr(info.value), repr(info.value.body)]
    with FakeServer(FakeAPI(FakeOrganization())) as dead:
        url = dead.url
    with pytest.raises(uf.APIConnectionError) as info:
        uf.Client(secret_key, url, sleep=lambda s: None, max_retries=0).costs("2026-10-01", "2026-10-02")
    texts += [str(info.value), repr(info.value), caplog.text]
    assert "<set>" in texts[0]
    assert all(secret_key not in t for t in texts)
    assert "GET /organization/costs" in caplog.text  # the log did record the requests


def test_key__a_server_echoing_the_key_is_redacted(secret_key, client, faults):
    body = msgspec.json.encode(
        {"error": {"message": f"Incorrect API key provided: {secret_key}", "type": "x", "param": None, "code": None}}
    )
    faults.push(Fault(status=401, body=body))
    with pytest.raises(uf.AuthenticationError) as info:
        client.costs("2026-10-01", "2026-10-02")
    assert secret_key not in str(info.value)
    err = status_error(401, {}, body, path="/organization/costs", provider=DEFAULT, secret=secret_key)
    assert secret_key not in str(err) and "<redacted>" in str(err)


def test_request__sends_bearer_key_user_agent_and_no_key_in_the_url(secret_key, client):
    seen = []
    client.session.hooks["response"].append(lambda r, *a, **k: seen.append(r.request))
    client.costs("2026-10-01", "2026-10-02")
    request = seen[0]
    assert request.headers["Authorization"] == f"Bearer {secret_key}"
    assert request.headers["User-Agent"].startswith(f"usage-frames/{uf.__version__}")
    assert secret_key not in request.url


def test_base_url__plain_http_to_a_remote_host_is_refused(secret_key):
    with pytest.raises(uf.InvalidParameterError, match="plain http"):
        uf.Client(secret_key, "http://usage.example.com/v1")
    assert uf.Client(secret_key, "http://usage.example.com/v1", allow_http=True).base_url.startswith("http://")
    with pytest.raises(uf.InvalidParameterError, match="base_url"):
        uf.Client(secret_key, "api.openai.com/v1")


def test_fake_adapter__answers_in_process_like_the_server(http_client, org):
    via_http = http_client.web_search_calls("2026-10-01", "2026-10-04", group_by=["context_level"])
    in_process = uf.Client.fake(org).web_search_calls("2026-10-01", "2026-10-04", group_by=["context_level"])
    pd.testing.assert_frame_equal(via_http, in_process)


@pytest.mark.parametrize(
    ("path", "fault"),
    [
        ("/organization/costs?start_time=1790812800&end_time=1791072000", None),
        ("/organization/usage/embeddings?start_time=1790812800&limit=2", Fault(kind="truncate")),
        ("/organization/costs?start_time=1790812800", Fault(status=429, headers={"Retry-After": "3"})),
        ("/organization/projects?limit=2", Fault(kind="html")),
        ("/organization/costs?start_time=1", None),
        ("/nothing", None),
    ],
    ids=["a page", "a truncated page", "a 429", "an HTML page", "a 400", "a 404"],
)
def test_fake_adapter__answers_with_the_status_headers_and_body_the_server_sends(
    secret_key, org, faults, server, path, fault
):
    # The suite's default transport stands in for the socket: what a client reads must be the same on both (the
    # framing a socket needs, Content-Length, and what only a server adds, Date and Server, aside).
    in_process = requests.Session()
    org.mount(in_process, "https://api.openai.com/v1", faults)
    answers = []
    for session, base in ((requests.Session(), server.url), (in_process, "https://api.openai.com/v1")):
        faults.push(*[fault] if fault else [])
        response = session.get(base + path, headers={"Authorization": f"Bearer {secret_key}"})
        wire_only = ("content-length", "date", "server")
        headers = {k.lower(): v for k, v in response.headers.items() if k.lower() not in wire_only}
        answers.append((response.status_code, response.reason, headers, response.content))
    assert answers[0] == answers[1]


def test_retry_policy__statuses_and_delays():
    assert [s for s in (400, 401, 403, 404, 408, 409, 422, 429, 500, 502, 503, 504) if should_retry(s)] == [
        408,
        409,
        429,
        500,
        502,
        503,
        504,
    ]
    assert retry_delay(0, {"Retry-After": "100000"}) == MAX_RETRY_AFTER_DELAY
    assert retry_delay(0, {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, jitter=lambda: 0) == 0.0
    assert retry_delay(3, {"Retry-After": "soon"}, jitter=lambda: 0) == 4.0


def test_session__a_user_session_is_used_and_keeps_no_key(secret_key, in_process):
    session = requests.Session()
    client = in_process(uf.Client(secret_key, session=session))
    client.costs("2026-10-01", "2026-10-02")
    assert client.session is session
    assert "Authorization" not in session.headers


def test_pages__a_decoded_page_does_not_keep_its_body_alive(secret_key, in_process, org):
    # One 1h page of 1,000 users is ~100 MB: its structs hold everything, the body must not live on beside them.
    client = in_process(uf.Client(secret_key, cache=False))
    responses = []
    client.session.hooks["response"].append(lambda r, *a, **k: responses.append(r))
    frame = client.embeddings("2026-10-01", "2026-10-10", bucket_width="1h")
    assert responses and all(r.status_code == 200 and r.content == b"" for r in responses)
    assert int(frame["input_tokens"].sum()) == org.total("embeddings", "input_tokens", "2026-10-01", "2026-10-10")


def test_client__environment_proxy_and_ca_settings_are_read_once_at_creation(secret_key, monkeypatch, tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    client = uf.Client(secret_key, cache=False)
    assert client.session.trust_env is False  # nothing left to merge on each request
    assert client.session.proxies["https"] == "http://proxy.invalid:3128"
    assert client.session.verify == str(bundle)
    monkeypatch.setenv("NO_PROXY", "api.openai.com")  # the bypass rules were applied for the base URL
    assert "https" not in uf.Client(secret_key, cache=False).session.proxies
    given = requests.Session()
    assert uf.Client(secret_key, session=given).session.trust_env is True  # a session passed in is left alone
