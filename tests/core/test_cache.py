"""Cache, windows and concurrency on a real requests-cache cache, answered in-process by the fake API."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import random
import sqlite3
import stat
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path
from urllib.parse import parse_qs

import pandas as pd
import pytest
from conftest import build_query, pinned_env, read_only

import usage_frames as uf
import usage_frames._core.query
from usage_frames._transport.cache import CACHE_LOCK_WAIT, OPEN_WINDOW_TTL, cached_session, default_cache_dir
from usage_frames.fake import Fault, Faults


def cache_files() -> list[Path]:
    return [p for p in default_cache_dir().rglob("*") if p.is_file()]


def test_cache__a_repeated_query_of_closed_windows_sends_nothing(client, faults):
    first = client.completions("2026-08-01", "2026-10-01", group_by="model")
    assert len(faults.requests) == 2  # two calendar months, one page each
    second = client.completions("2026-08-01", "2026-10-01", group_by="model")
    assert len(faults.requests) == 2
    pd.testing.assert_frame_equal(first, second)


def test_cache__overlapping_queries_reuse_the_same_calendar_windows(client, faults):
    client.embeddings("2026-06-01", "2026-09-01")
    faults.requests.clear()
    client.embeddings("2026-07-01", "2026-09-01")  # July and August are the same requests as before
    assert faults.requests == []


def test_cache__settled_windows_never_expire_and_the_open_one_does_soon(client):
    now = client.clock()  # the client's "now", not the machine's (70 days back could be after it)
    client.costs(now - pd.Timedelta(days=70), now - pd.Timedelta(hours=1))
    responses = list(client.session.cache.responses.values())
    never = [r for r in responses if r.expires is None]
    soon = [r for r in responses if r.expires is not None]
    assert never and soon  # the last window is within the costs settling delay
    for r in soon:
        left = (r.expires - dt.datetime.now(dt.UTC)).total_seconds()
        assert 0 < left <= OPEN_WINDOW_TTL


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("2026-11-28 12:00", "2026-11-28 12:00:01"),
        ("2026-11-29 23:59:59.9", "2026-11-30 00:00:00.1"),  # from a Sunday into a Monday: a new weekly window
        ("2026-11-30 23:59:59.9", "2026-12-01 00:00:30"),  # into a new month
        ("2026-12-31 23:59:58", "2027-01-01 02:00"),  # into a new year, hours later
    ],
)
def test_cache__warm_refresh_of_a_year_sends_only_windows_that_were_not_settled(
    client, faults, org, monkeypatch, first, second
):
    # What the cache promises, whatever the clock does between the calls: a settled window (closed its endpoint's
    # settle time ago) is never sent again, and the refreshed frame is still exact. The clock is pinned to each
    # call's instant, as reading it twice made a test that could fail on any boundary the calls straddled.
    now = pd.Timestamp(first, tz="UTC")
    monkeypatch.setattr(usage_frames._core.query, "wall_clock", lambda: now)
    start = now - pd.Timedelta(days=365)
    client.completions(start, bucket_width="1h", group_by=["project_id", "model"])
    cold = len(faults.requests)
    assert 53 <= cold <= 54
    faults.requests.clear()
    now = pd.Timestamp(second, tz="UTC")
    again = client.completions(start, bucket_width="1h", group_by=["project_id", "model"])
    for _, query in faults.requests:
        window_end = pd.Timestamp(int(parse_qs(query)["end_time"][0]), unit="s", tz="UTC")
        assert window_end + uf.ENDPOINTS["completions"].settle > now, f"a settled window was sent again: {query}"
    assert 1 <= len(faults.requests) <= 2  # the window that ends now (and the one that was open at the first call)
    expected = org.total("completions", "input_tokens", again.attrs["start"], again.attrs["end"])
    assert int(again["input_tokens"].sum()) == expected


def test_cache__the_key_and_authorization_header_are_never_stored(client, secret_key):
    client.completions("2026-09-01", "2026-10-01", group_by="project_id")
    files = cache_files()
    assert files
    stored = b"".join(path.read_bytes() for path in files)
    assert secret_key.encode() not in stored
    assert b"Bearer" not in stored
    assert b"REDACTED" in stored  # the header was stored, and requests-cache redacted its value


def test_cache__directory_is_readable_by_the_owner_only(client):
    client.costs("2026-09-01", "2026-10-01")
    assert stat.S_IMODE(default_cache_dir().stat().st_mode) == 0o700


def test_cache__default_directory_follows_the_environment(tmp_path, monkeypatch, secret_key):
    monkeypatch.setenv("USAGE_FRAMES_CACHE_DIR", str(tmp_path / "here"))
    assert default_cache_dir() == tmp_path / "here"
    assert "here" in repr(uf.Client(secret_key))


def test_cache__an_unusable_answer_is_not_kept(client, org, faults):
    faults.push(Fault(kind="truncate"))
    first = client.embeddings("2026-09-01", "2026-10-01")
    faults.requests.clear()
    again = client.embeddings("2026-09-01", "2026-10-01")
    assert faults.requests == []
    pd.testing.assert_frame_equal(first, again)
    assert int(again["input_tokens"].sum()) == org.total("embeddings", "input_tokens", "2026-09-01", "2026-10-01")


def test_offline__answers_from_the_cache_without_a_request(client, in_process, faults, sleeps, secret_key):
    online = client.images("2026-08-01", "2026-10-01", group_by="model")
    faults.requests.clear()
    offline = in_process(uf.Client(secret_key, offline=True))
    pd.testing.assert_frame_equal(offline.images("2026-08-01", "2026-10-01", group_by="model"), online)
    assert faults.requests == []


def test_offline__names_the_first_missing_window_and_lists_every_one(client, in_process, faults, secret_key):
    client.images("2026-08-01", "2026-09-01")
    faults.requests.clear()
    offline = in_process(uf.Client(secret_key, offline=True))
    with pytest.raises(uf.CacheMissError) as e:
        offline.images("2026-07-15", "2026-10-01")
    assert str(e.value) == (
        "images: 2026-07-15 00:00..2026-08-01 00:00 UTC and 1 more window (2 of 3) are not in the cache; run the "
        "query once online to fill the cache"
    )
    utc = [pd.Timestamp(t, tz="UTC") for t in ("2026-07-15", "2026-08-01", "2026-09-01", "2026-10-01")]
    assert e.value.endpoint == "images" and e.value.windows == [(utc[0], utc[1]), (utc[2], utc[3])]
    assert faults.requests == []


def test_offline__a_year_of_missing_windows_is_a_short_message_and_a_full_list(in_process, secret_key):
    offline = in_process(uf.Client(secret_key, offline=True))
    with pytest.raises(uf.CacheMissError) as e:
        offline.completions("2025-12-01", "2026-11-28", bucket_width="1h", group_by="model")
    message = str(e.value)
    assert message.startswith(
        "completions at 1h by model: 2025-12-01 00:00..2025-12-08 00:00 UTC and 51 more windows (52 of 52)"
    )
    assert len(message) < 300 and message.endswith("run the query once online to fill the cache")
    windows = e.value.windows
    assert len(windows) == 52 and windows[-1][1] == pd.Timestamp("2026-11-28", tz="UTC")
    assert all(a[1] == b[0] for a, b in itertools.pairwise(windows))  # they tile the query, in order


def test_offline__a_cache_miss_says_why_the_data_was_needed_when_the_caller_knows(in_process, secret_key):
    offline = in_process(uf.Client(secret_key, offline=True))
    with pytest.raises(uf.CacheMissError) as e:
        offline.costs("2026-09-01", "2026-10-01")
    why = e.value.because("the forecast needs the month before the period")
    assert str(why) == "the forecast needs the month before the period: " + str(e.value)
    assert why.windows == e.value.windows and why.endpoint == "costs" and isinstance(why, uf.UsageFramesError)


def test_offline__without_a_cache_is_an_argument_error(secret_key):
    with pytest.raises(uf.InvalidParameterError, match="offline"):
        uf.Client(secret_key, cache=False, offline=True)


def test_cache__a_path_or_a_ready_session_can_be_given(in_process, tmp_path, faults, secret_key):
    by_path = in_process(uf.Client(secret_key, cache=tmp_path / "mine"))
    by_path.costs("2026-09-01", "2026-10-01")
    assert (tmp_path / "mine" / "http_cache.sqlite").exists()
    shared = in_process(uf.Client(secret_key, cache=by_path.session))
    faults.requests.clear()
    shared.costs("2026-09-01", "2026-10-01")
    assert faults.requests == []
    assert uf.Client(secret_key, cache=False).session.__class__.__name__ == "Session"


@pytest.mark.parametrize("width", ["1d", "1h", "1m"])
def test_concurrency__gives_the_same_frame_as_a_sequential_fetch(in_process, width, secret_key):
    span = {
        "1d": ("2026-03-03T07:00", "2026-10-20"),
        "1h": ("2026-09-02T05:00", "2026-10-20"),
        "1m": ("2026-10-12T22:00", "2026-10-16T01:00"),
    }[width]
    sequential = in_process(uf.Client(secret_key, cache=False, workers=1))
    concurrent = in_process(uf.Client(secret_key, cache=False, workers=4))
    a = sequential.completions(*span, bucket_width=width, group_by=["project_id", "model"])
    b = concurrent.completions(*span, bucket_width=width, group_by=["project_id", "model"])
    pd.testing.assert_frame_equal(a, b)
    assert a.index.is_monotonic_increasing


def test_concurrency__never_exceeds_the_configured_workers(in_process, secret_key):
    faults = Faults(latency=0.05)
    in_process(uf.Client(secret_key, cache=False, workers=3), faults).embeddings("2026-01-01", "2026-10-01")
    assert faults.max_in_flight == 3


def test_concurrency__large_answers_are_held_one_window_at_a_time_within_the_budget(
    server, org, secret_key, monkeypatch
):
    """Over HTTP (the budget is taken before a body is read): with room for one large answer, six workers still
    fetch every window, but never hold two windows' large answers at once."""
    from usage_frames._transport import retry, send

    monkeypatch.setattr(retry, "LARGE_BODY", 1000)  # every page of this query is "large"
    monkeypatch.setattr(send, "BODY_BUDGET", 1)
    server.api.faults = Faults(latency=0.02)
    client = uf.Client(secret_key, server.url, cache=False, workers=6)
    frame = client.completions("2026-01-01", "2026-04-01", bucket_width="1h", group_by="model")  # 14 windows
    assert client.body_budget.peak == client.body_budget.limit == 1
    assert client.body_budget.free == 1  # every window gave its bytes back
    assert server.api.faults.max_in_flight > 1  # the requests themselves still overlap
    assert int(frame["input_tokens"].sum()) == org.total("completions", "input_tokens", "2026-01-01", "2026-04-01")


def test_concurrency__waiting_for_the_budget_is_not_a_timeout(server, org, secret_key, monkeypatch):
    """A window that waits while another holds the budget is not slow: the wait is no part of its deadline."""
    from usage_frames._transport import retry, send

    monkeypatch.setattr(retry, "LARGE_BODY", 100)
    monkeypatch.setattr(send, "BODY_BUDGET", 1)
    server.api.faults = Faults(latency=0.25)
    # Deadline 0.8 s a request; each window is 3 pages of 0.25 s, held all along, so the others wait longer.
    client = uf.Client(secret_key, server.url, cache=False, workers=3, timeout=(0.4, 0.4), max_retries=0)
    frame = client.completions("2026-01-01", "2026-04-01", bucket_width="1d", limit=11)  # 3 windows, 3 pages each
    assert len(server.api.faults.requests) == 9
    assert int(frame["input_tokens"].sum()) == org.total("completions", "input_tokens", "2026-01-01", "2026-04-01")


def test_concurrency__429s_slow_every_worker_and_lose_nothing(in_process, org, sleeps, secret_key):
    faults = Faults(rate_limit=0.3, seed=7)
    client = in_process(uf.Client(secret_key, cache=False, workers=4, sleep=sleeps, max_retries=8), faults)
    frame = client.completions("2026-01-01", "2026-11-01", group_by="model")  # the API keeps one year
    truth = org.total("completions", "input_tokens", "2026-01-01", "2026-11-01")
    assert int(frame["input_tokens"].sum()) == truth
    rate_limited = sum(1 for _ in sleeps)
    assert rate_limited >= 1
    assert len(faults.requests) <= 10 * 9  # bounded: 10 windows, at most 9 attempts each


def test_concurrency__an_error_in_one_window_fails_the_whole_fetch(in_process, secret_key):
    faults = Faults()
    faults.push(*[Fault(status=500)] * 40)
    client = in_process(uf.Client(secret_key, cache=False, workers=4, sleep=lambda s: None, max_retries=1), faults)
    with pytest.raises(uf.ServerError):
        client.completions("2026-01-01", "2026-11-01")


def test_plan__counts_windows_requests_and_cached_windows(client):
    plan = client.plan("completions", "2026-01-01", "2026-11-01", bucket_width="1h", group_by="model")
    assert (plan.windows, plan.requests, plan.cached, plan.buckets) == (44, 44, 0, 7296)
    client.completions("2026-09-07", "2026-10-05", bucket_width="1h", group_by="model")
    assert client.plan("completions", "2026-01-01", "2026-11-01", bucket_width="1h", group_by="model").cached == 4


def test_plan__warns_before_a_query_explodes_and_suggests_a_coarser_width(client):
    plan = client.plan("completions", "2026-01-01", "2026-03-01", bucket_width="1m", group_by=["model", "user_id"])
    assert plan.max_rows > 10**7
    assert "bucket_width='1h'" in plan.warnings[0]
    assert client.plan("costs", "2026-01-01", "2026-03-01").warnings == ()


def test_cache_dir_env__is_used_by_default_clients(monkeypatch, tmp_path, in_process, secret_key):
    monkeypatch.setenv("USAGE_FRAMES_CACHE_DIR", str(tmp_path))
    in_process(uf.Client(secret_key)).costs("2026-09-01", "2026-10-01")
    assert os.listdir(tmp_path) == ["http_cache.sqlite"]


def test_cache__database_files_are_readable_by_the_owner_only(client):
    client.costs("2026-09-01", "2026-10-01")
    files = cache_files()
    assert files
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_windows__a_server_answering_outside_the_window_is_an_error(client, in_process, faults, secret_key):
    # Two monthly windows; the second answer repeats September's buckets instead of October's.
    september = client.get(
        "/organization/usage/embeddings", build_query("embeddings", "2026-09-01", "2026-10-01").params()
    )[1].content
    faults.requests.clear()
    faults.push(Fault(kind="pass"), Fault(kind="replace", body=september))
    with pytest.raises(uf.UnexpectedResponseError, match="for another time window: it starts with 2026-09-01"):
        in_process(uf.Client(secret_key, cache=False, workers=1)).embeddings("2026-09-01", "2026-11-01")


def test_progress__a_bar_for_long_fetches_when_asked(in_process, capsys, secret_key):
    in_process(uf.Client(secret_key, cache=False, progress=True)).embeddings("2026-01-01", "2026-11-01")
    assert "usage-frames embeddings" in capsys.readouterr().err
    in_process(uf.Client(secret_key, cache=False, progress=True)).embeddings("2026-09-01", "2026-11-01")
    assert capsys.readouterr().err == ""  # two windows: no bar


def test_cache__each_key_has_its_own_answers(in_process, faults, secret_key):
    first = in_process(uf.Client(secret_key))
    first.costs("2026-09-01", "2026-10-01")
    faults.requests.clear()
    other_org = in_process(uf.Client("sk-admin-another-organization"))
    other_org.costs("2026-09-01", "2026-10-01")
    assert len(faults.requests) == 1  # not answered from the first key's cache
    faults.requests.clear()
    with pytest.raises(uf.AuthenticationError):  # a wrong key is told so, not served someone's cached data
        in_process(uf.Client("sk-user-wrong", sleep=lambda s: None)).costs("2026-09-01", "2026-10-01")
    first.costs("2026-09-01", "2026-10-01")
    assert len(faults.requests) == 1  # the 401 only; the first key still reads its cache


# --- a damaged, locked, read-only or full cache (issue 12): exact answers or a typed error, never a hang -------

SPAN = ("2026-05-01", "2026-10-01")  # five monthly windows


def filled_cache(in_process, folder, secret_key):
    """A cache folder holding the answers of SPAN, and the frame they make."""
    frame = in_process(uf.Client(secret_key, cache=folder)).costs(*SPAN)
    return folder / "http_cache.sqlite", frame


def damage(db: Path, how: str) -> None:
    data = db.read_bytes()
    noise = random.Random(12).randbytes(len(data))
    half, garbage = data[: len(data) // 2], data[:4096] + noise[4096:]
    db.write_bytes({"random bytes": noise, "cut in half": half, "garbage pages": garbage}[how])


@pytest.mark.parametrize("how", ["random bytes", "cut in half", "garbage pages"])
def test_cache__a_damaged_file_is_moved_aside_rebuilt_and_warned_about_once(
    in_process, faults, tmp_path, how, secret_key
):
    db, truth = filled_cache(in_process, tmp_path, secret_key)
    damage(db, how)
    with pytest.warns(uf.UsageFramesWarning, match="was damaged .* moved aside to http_cache.sqlite.damaged-") as seen:
        again = in_process(uf.Client(secret_key, cache=tmp_path)).costs(*SPAN)
    pd.testing.assert_frame_equal(again, truth)
    assert len([w for w in seen if issubclass(w.category, uf.UsageFramesWarning)]) == 1
    assert len(list(tmp_path.glob("http_cache.sqlite.damaged-*"))) == 1
    faults.requests.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the rebuilt cache is healthy: no warning, no request
        pd.testing.assert_frame_equal(in_process(uf.Client(secret_key, cache=tmp_path)).costs(*SPAN), truth)
    assert faults.requests == []


def test_cache__a_file_where_the_folder_should_be_falls_back_to_no_cache_with_a_warning(
    in_process, org, tmp_path, secret_key
):
    folder = tmp_path / "cache"
    folder.write_text("not a folder")
    with pytest.warns(uf.UsageFramesWarning, match=f"cannot use {folder} as the HTTP cache folder .*without a cache"):
        client = in_process(uf.Client(secret_key, cache=folder))
    assert client.session.__class__.__name__ == "Session"
    assert client.costs(*SPAN)["amount"].sum() == pytest.approx(org.total("costs", "amount", *SPAN), rel=1e-9)
    with pytest.raises(uf.CacheError, match=f"cannot use {folder} as the HTTP cache folder"):
        in_process(uf.Client(secret_key, cache=folder, offline=True))


def test_cache__a_folder_inside_a_file_is_a_typed_error_offline(tmp_path, secret_key):
    (tmp_path / "file").write_text("x")
    with pytest.raises(uf.CacheError, match="NotADirectoryError"):
        uf.Client(secret_key, cache=tmp_path / "file" / "cache", offline=True)


def test_cache__a_read_only_folder_holding_the_answer_still_answers(in_process, faults, tmp_path, secret_key):
    _, truth = filled_cache(in_process, tmp_path, secret_key)
    faults.requests.clear()
    with read_only(tmp_path):
        with pytest.raises(OSError, match=r"Read-only file system|Permission denied"):  # even for root
            (tmp_path / "probe").write_text("x")
        with pytest.warns(uf.UsageFramesWarning, match="cannot be written .*answering from it, saving nothing new"):
            client = in_process(uf.Client(secret_key, cache=tmp_path))
        pd.testing.assert_frame_equal(client.costs(*SPAN), truth)
        assert faults.requests == []
        later = client.costs("2026-04-01", "2026-05-01")  # not cached: fetched, not saved, no error
        assert len(faults.requests) == 1 and len(later) == 30
        offline = in_process(uf.Client(secret_key, cache=tmp_path, offline=True))
        pd.testing.assert_frame_equal(offline.costs(*SPAN), truth)
        for session in (client.session, offline.session):
            session.close()  # let go of the file before the folder is unmounted


def test_cache__a_read_only_folder_without_a_cache_falls_back_or_fails_offline(in_process, org, tmp_path, secret_key):
    with read_only(tmp_path):
        with pytest.warns(uf.UsageFramesWarning, match=f"cannot use {tmp_path} as the HTTP cache folder"):
            client = in_process(uf.Client(secret_key, cache=tmp_path))
        assert client.costs(*SPAN)["amount"].sum() == pytest.approx(org.total("costs", "amount", *SPAN), rel=1e-9)
        with pytest.raises(uf.CacheError, match=str(tmp_path)):
            in_process(uf.Client(secret_key, cache=tmp_path, offline=True))


@pytest.mark.parametrize("lock", ["IMMEDIATE", "EXCLUSIVE"])
def test_cache__another_connection_holding_a_lock_delays_a_fetch_at_most_briefly(
    in_process, faults, tmp_path, lock, secret_key
):
    db, truth = filled_cache(in_process, tmp_path, secret_key)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute(f"BEGIN {lock}")
    outcome: list[object] = []

    def fetch() -> None:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            client = in_process(uf.Client(secret_key, cache=tmp_path))
            outcome.append(client.costs(*SPAN))
            outcome.append(client.costs("2026-04-01", "2026-05-01"))  # a write: waits once, then skips the cache
        outcome.append([str(w.message) for w in seen])

    try:
        started = time.monotonic()
        worker = threading.Thread(target=fetch, daemon=True)
        worker.start()
        worker.join(CACHE_LOCK_WAIT * 4 + 10)
        took = time.monotonic() - started
        assert not worker.is_alive(), "blocked by the lock"
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    pd.testing.assert_frame_equal(outcome[0], truth)
    assert len(outcome[1]) == 30
    assert took < CACHE_LOCK_WAIT * 3 + 5
    messages = outcome[2]
    assert messages and all("locked by another process" in m or "without a cache" in m for m in messages), messages


FULL_DISK = """
import json, resource, signal, sys, warnings
import usage_frames as uf
from usage_frames.fake import FakeAPI, FakeServer
from usage_frames.providers.openai.fake import FakeOrganization

folder, limit = sys.argv[1], int(sys.argv[2])
org = FakeOrganization()
with FakeServer(FakeAPI(org)) as server:
    client = uf.Client("sk-admin-full", server.url, cache=folder)  # the default workers
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG, as on a full disk
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    results = []
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        for start, end in (("2026-01-01", "2026-06-01"), ("2026-06-01", "2026-11-01")):  # within the API's year
            for width in ("1d", "1h"):
                frame = client.completions(start, end, bucket_width=width, group_by="model")
                results.append([int(frame["input_tokens"].sum()), org.total("completions", "input_tokens", start, end)])
    print(json.dumps({"results": results, "warnings": sorted({str(w.message)[:200] for w in seen})}))
"""


def test_cache__a_full_disk_never_fails_a_fetch_with_the_default_workers(tmp_path):
    db = tmp_path / "http_cache.sqlite"
    cached_session(tmp_path).close()  # an empty cache: its tables exist, nothing fits beside them
    run = subprocess.run(
        [sys.executable, "-c", FULL_DISK, str(tmp_path), str(db.stat().st_size)],
        capture_output=True,
        text=True,
        timeout=300,
        env=pinned_env(),  # its 2026 windows stay within the fake's year on any machine date
    )
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(run.stdout)
    assert all(got == truth for got, truth in report["results"]), report
    assert report["warnings"] and all("saving failed" in w for w in report["warnings"]), report["warnings"]
    assert db.stat().st_size <= 12 * 4096  # nothing was written past the limit


def test_cache__six_workers_share_one_file_safely(in_process, org, tmp_path, secret_key):
    client = in_process(uf.Client(secret_key, cache=tmp_path, workers=6))
    frame = client.completions("2026-01-01", "2026-11-01", bucket_width="1h", group_by="model")
    assert int(frame["input_tokens"].sum()) == org.total("completions", "input_tokens", "2026-01-01", "2026-11-01")
    again = in_process(uf.Client(secret_key, cache=tmp_path, workers=6, offline=True))
    pd.testing.assert_frame_equal(
        again.completions("2026-01-01", "2026-11-01", bucket_width="1h", group_by="model"), frame
    )


@pytest.mark.parametrize("workers", [{}, {"workers": "auto"}], ids=["the default", "auto"])
def test_concurrency__auto_workers_grow_past_the_default_while_answers_are_clean(in_process, org, secret_key, workers):
    from usage_frames._core.fanout import AUTO_WORKERS_CEILING, DEFAULT_WORKERS

    faults = Faults(latency=0.05)
    client = in_process(uf.Client(secret_key, cache=False, **workers), faults)
    frame = client.completions("2026-01-01", "2026-11-01", bucket_width="1h", group_by="model")  # 44 windows
    assert DEFAULT_WORKERS < faults.max_in_flight <= AUTO_WORKERS_CEILING
    assert int(frame["input_tokens"].sum()) == org.total("completions", "input_tokens", "2026-01-01", "2026-11-01")


def test_concurrency__auto_workers_do_not_grow_on_large_answers(in_process, org, secret_key, monkeypatch):
    """Large pages fill the line with a few requests and would multiply the memory held at once: no growth."""
    from usage_frames._core.fanout import DEFAULT_WORKERS
    from usage_frames._transport import retry

    monkeypatch.setattr(retry, "LARGE_BODY", 1000)  # every page of this query is larger
    faults = Faults(latency=0.05)
    client = in_process(uf.Client(secret_key, cache=False, workers="auto"), faults)
    frame = client.completions("2026-01-01", "2026-11-01", bucket_width="1h", group_by="model")  # 44 windows
    assert faults.max_in_flight == DEFAULT_WORKERS
    assert int(frame["input_tokens"].sum()) == org.total("completions", "input_tokens", "2026-01-01", "2026-11-01")


def test_concurrency__auto_workers_back_off_a_server_that_throttles_above_n_in_flight_and_lose_nothing(
    in_process, org, secret_key
):
    from usage_frames._core.fanout import AUTO_WORKERS_CEILING

    faults = Faults(latency=0.05, max_concurrent=8)
    client = in_process(uf.Client(secret_key, cache=False, workers="auto"), faults)  # real sleeps: Retry-After is 0.1 s
    frame = client.completions("2026-01-01", "2026-11-01", bucket_width="1h", group_by="model")  # 44 windows
    assert faults.throttled > 0  # it found the limit...
    assert len(faults.requests) - faults.throttled == 44  # ...and every window was answered once: none lost
    assert faults.throttled < 44  # it backed off rather than hammering: fewer 429s than windows
    assert faults.max_in_flight <= AUTO_WORKERS_CEILING
    for field in ("input_tokens", "output_tokens"):
        assert int(frame[field].sum()) == org.total("completions", field, "2026-01-01", "2026-11-01")


def test_cache__a_write_does_not_wait_for_the_disk(client):
    """Each commit skips fsync (requests-cache's fast_save): a power cut loses a refetchable cache, and a file it
    damaged is rebuilt, so a year of writes must not cost a disk flush each (about 1 s on this machine)."""
    client.costs("2026-10-01", "2026-10-03")
    with client.session.cache.responses.connection() as con:
        assert con.execute("PRAGMA synchronous").fetchone() == (0,)
        assert con.execute("SELECT count(*) FROM responses").fetchone()[0] >= 1
