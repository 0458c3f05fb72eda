"""Side-by-side benchmarks of usage_frames against the cookbook loop, printed as ratios measured in one run.

Run: ``python benchmarks/bench_fetch.py`` (``--quick`` for a smoke run). The fake API runs in its own process with
a realistic 40 ms latency per request, so client and server do not share a GIL. Its answers leave out the two
fields that answers of spec 2.3.0 lack (``input_cache_write_30m_tokens``, ``_12h_tokens``), as real answers do;
(b) also measures complete answers.

(a) cold fetch of 365 days at 1h grouped by project and model: usage_frames with the default (cached) client at
    1, 6 and the adaptive (default) number of workers, and with ``cache=False``, against a cookbook-style sequential
    loop with the API's default page size; ours best of 5 cold runs; totals compared to the token;
(b) pages -> frame vs. ``orjson.loads`` of the same bytes, for answers with fields absent and complete; frame
    memory vs. a naive records DataFrame, as built and with its counts made ``Int64`` like ours (8 bytes and a mask
    byte per value, 17 of them for completions, so most of our memory is counts);
(c) requests sent by a warm refresh of the same 365-day query;
(d) a year of 1m buckets (525,600) and (e) 1,000 users for 30 days at 1h fetched and framed, each in a fresh
    process: peak memory above what the imports took;
(f) ``usage-frames report --sample --provider openai`` (and of both providers) against ``report --sample`` at
    bc1195d (the commit before issue 14, exported by ``git archive`` into a temporary folder), all byte-compiled as
    installed, interleaved, best of each.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import orjson
import pandas as pd
import requests
from requests.adapters import BaseAdapter
from urllib3.response import HTTPResponse

import usage_frames as uf
from usage_frames._core.frames import to_frame
from usage_frames._core.pages import decode_page
from usage_frames._core.paging import check_page
from usage_frames._core.query import build_query, windows
from usage_frames.providers.openai.endpoints import ENDPOINTS

KEY = "sk-admin-benchmark"
NOW = pd.Timestamp.now(tz="UTC").floor("h")
ABSENT = ("input_cache_write_30m_tokens", "input_cache_write_12h_tokens")  # not in answers of spec 2.3.0
BASELINE = "bc1195d"  # main before issue 14, for (f)
ROOT = Path(__file__).resolve().parent.parent

SERVER = """
import sys, threading
from usage_frames import fake
from usage_frames.providers.openai.fake import FakeOrganization, completion, default_streams
omit, users, latency, most = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
streams = default_streams() if not users else tuple(
    completion("proj_team", f"user-{i:04d}", "key_team", "gpt-4o-mini-2024-07-18", 20, 900, 200)
    for i in range(users))
organization = FakeOrganization(streams=streams, omit_fields=frozenset(filter(None, omit.split(","))))
server = fake.FakeServer(fake.FakeAPI(organization, fake.Faults(latency=latency, max_concurrent=most)))
server.start()
print(server.url, flush=True)
sys.stdin.read()
"""


@contextmanager
def fake_server(latency: float, omit: tuple[str, ...] = ABSENT, users: int = 0, max_concurrent: int = 0):
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER, ",".join(omit), str(users), str(latency), str(max_concurrent)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        yield proc.stdout.readline().strip()
    finally:
        proc.stdin.close()
        proc.wait()


def cookbook_fetch(url: str, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """The OpenAI cookbook's loop: sequential pages at the default size, a naive-time frame built by hand."""
    params: dict[str, Any] = {
        "start_time": int(start.timestamp()),
        "end_time": int(end.timestamp()),
        "bucket_width": "1h",
        "group_by": ["project_id", "model"],
    }
    headers = {"Authorization": f"Bearer {KEY}"}
    all_data, cursor = [], None
    while True:
        if cursor:
            params["page"] = cursor
        response = requests.get(url + "/organization/usage/completions", headers=headers, params=params)
        if response.status_code != 200:
            print("Error:", response.status_code)
            break  # the cookbook returns what it has: silent partial data
        data = response.json()
        all_data.extend(data.get("data", []))
        cursor = data.get("next_page")
        if not cursor:
            break
    records = []
    for bucket in all_data:
        for result in bucket.get("results", []):
            records.append({"start_time": bucket["start_time"], "end_time": bucket["end_time"], **result})
    frame = pd.DataFrame(records)
    frame["start_datetime"] = pd.to_datetime(frame["start_time"], unit="s")
    return frame


def timed(fn, collect: bool = True):
    """Seconds and value of ``fn()``; ``collect=False`` pauses the garbage collector, as timeit does."""
    if not collect:
        gc.collect()
        gc.disable()
    try:
        t0 = time.perf_counter()
        value = fn()
        return time.perf_counter() - t0, value
    finally:
        gc.enable()


def bench_cold(url: str, days: int, latency: float) -> list[tuple[str, str]]:
    start, end = NOW - pd.Timedelta(days=days), NOW - pd.Timedelta(hours=1)
    t_cook, cook = timed(lambda: cookbook_fetch(url, start, end))
    rows = [("(a) cookbook loop, sequential, default page size", f"{t_cook:.2f} s, {len(cook):,} rows")]

    def ours(at: str, workers: int | str, cached: bool, label: str) -> None:
        times = []
        for _ in range(5):  # best of 5, each cold (a new cache): a 0.5 s run is at the mercy of a moment's load
            with tempfile.TemporaryDirectory() as cache:
                client = uf.Client(KEY, at, cache=cache if cached else False, workers=workers, progress=False)
                fetch = partial(client.completions, start, end, bucket_width="1h", group_by=["project_id", "model"])
                t, frame = timed(fetch)
            times.append(t)
        t = min(times)
        same = all(int(frame[c].sum()) == int(cook[c].sum()) for c in ("input_tokens", "output_tokens"))
        same = same and len(frame) == len(cook)
        rows.append(
            (f"(a) usage_frames cold, {label}", f"{t:.2f} s = {t_cook / t:.1f}x; same totals to the token: {same}")
        )

    ours(url, 1, True, "workers=1, cached (default)")
    ours(url, 6, True, "workers=6, cached (default)")
    ours(url, "auto", True, "default settings (workers='auto', cached)")
    ours(url, "auto", False, "workers='auto', cache=False")
    with fake_server(latency, max_concurrent=16) as throttled:
        ours(throttled, 6, True, "workers=6, server throttles > 16 in flight")
        ours(throttled, "auto", True, "default settings, server throttles > 16 in flight")
    return rows


class Replay(BaseAdapter):
    """Answers each URL with the bytes the fake server sent for it, in-process: the requests transport, no socket.

    The body comes read, as the client's own adapter leaves it (``DeadlineAdapter`` reads it in 64 KiB pieces
    against the deadline): what is timed is everything of ours and of requests' but the socket.
    """

    def __init__(self, bodies: dict[str, bytes]) -> None:
        super().__init__()
        self.bodies = bodies

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        response = requests.Response()
        response.status_code, response.request, response.url = 200, request, request.url or ""
        response.headers = requests.structures.CaseInsensitiveDict({"Content-Type": "application/json"})
        response.raw = HTTPResponse(body=io.BytesIO(b""), status=200, preload_content=False)
        response._content = self.bodies[request.url or ""]
        response._content_consumed = True  # type: ignore[attr-defined]
        response.reason, response.encoding = "OK", "utf-8"
        return response

    def close(self) -> None:
        pass


def bench_parse(url: str, days: int, label: str) -> list[tuple[str, str]]:
    query = build_query(
        ENDPOINTS["completions"],
        NOW - pd.Timedelta(days=days),
        NOW - pd.Timedelta(hours=1),
        bucket_width="1h",
        group_by=["project_id", "model"],
    )
    client = uf.Client(KEY, url, cache=False)
    bodies, by_url = [], {}
    for window in windows(query):
        _, response = client.get(query.endpoint.path, window.params())
        bodies.append(response.content)
        by_url[response.url] = response.content
    size = sum(map(len, bodies))
    replayed = uf.Client(KEY, url, cache=False, workers=1, transport=Replay(by_url), now=NOW)

    def end_to_end() -> pd.DataFrame:
        """What a user calls, through the requests transport (one worker: the CPU of one thread)."""
        return replayed.completions(query.start, query.end, bucket_width="1h", group_by=["project_id", "model"])

    def ours() -> pd.DataFrame:
        pages = [decode_page(b, query.endpoint) for b in bodies]
        after = None
        for page in pages:
            after = check_page(page, query.endpoint, after)
        return to_frame(pages, query)

    def naive() -> pd.DataFrame:
        records = [
            {"start_time": b["start_time"], "end_time": b["end_time"], **r}
            for body in bodies
            for b in json.loads(body)["data"]
            for r in b["results"]
        ]
        return pd.DataFrame(records)

    # Interleaved rounds, best of each, with the garbage collector paused (as timeit does): this machine's speed
    # drifts, and GC pauses grow with the heap, which makes millions of small dicts (orjson's output) erratic.
    runs: dict[str, list[float]] = {"orjson": [], "ours": [], "naive": [], "end": []}
    for _ in range(7):
        for name, fn in (("orjson", lambda: [orjson.loads(b) for b in bodies]), ("ours", ours), ("naive", naive),
                         ("end", end_to_end)):  # fmt: skip
            runs[name].append(timed(fn, collect=False)[0])
    assert len(end_to_end()) == len(ours())
    best = {name: min(times) for name, times in runs.items()}
    frame, plain = ours(), naive()
    ours_mem, naive_mem = frame.memory_usage(deep=True).sum(), plain.memory_usage(deep=True).sum()
    strings = plain.select_dtypes(include=["object", "string"]).columns
    counts = [c for c in plain.columns if c in frame.columns and str(frame[c].dtype) == "Int64"]
    naive_int64 = plain.astype(dict.fromkeys(counts, "Int64"))
    int64_mem = naive_int64.memory_usage(deep=True).sum()
    categorical = plain.astype(dict.fromkeys(strings, "category"))
    categorical_mem = categorical.memory_usage(deep=True).sum()
    return [
        (f"(b) {label}: bytes parsed", f"{size / 1e6:.1f} MB in {len(bodies)} pages, {len(frame):,} rows"),
        (f"(b) {label}: orjson.loads only", f"{best['orjson'] * 1000:.1f} ms"),
        (
            f"(b) {label}: pages -> frame (decode, check, build)",
            f"{best['ours'] * 1000:.1f} ms = {best['ours'] / best['orjson']:.2f}x orjson.loads",
        ),
        (
            f"(b) {label}: bytes -> frame end to end (client.completions, requests transport)",
            f"{best['end'] * 1000:.1f} ms = {best['end'] / best['orjson']:.2f}x orjson.loads",
        ),
        (f"(b) {label}: naive json.loads + records DataFrame", f"{best['naive'] * 1000:.1f} ms"),
        (
            f"(b) {label}: frame memory",
            f"{ours_mem / 1e6:.2f} MB vs naive {naive_mem / 1e6:.2f} MB = {naive_mem / ours_mem:.1f}x smaller",
        ),
        (
            f"(b) {label}: naive frame with Int64 counts",
            f"{int64_mem / 1e6:.2f} MB = {int64_mem / ours_mem:.1f}x ours",
        ),
        (
            f"(b) {label}: naive frame with categoricals",
            f"{categorical_mem / 1e6:.2f} MB = {categorical_mem / ours_mem:.1f}x ours",
        ),
    ]


def bench_warm(url: str, days: int) -> list[tuple[str, str]]:
    start = NOW - pd.Timedelta(days=days)
    with tempfile.TemporaryDirectory() as cache:
        client = uf.Client(KEY, url, cache=cache, progress=False)
        client.completions(start, bucket_width="1h", group_by=["project_id", "model"])
        time.sleep(1.1)  # a later refresh: "now", and so the open window's request, has moved on
        sent = []
        client.session.hooks["response"].append(lambda r, *a, **k: sent.append(not getattr(r, "from_cache", False)))
        t, _ = timed(lambda: client.completions(start, bucket_width="1h", group_by=["project_id", "model"]))
    return [("(c) warm refresh of the same query", f"{sum(sent)} request(s) sent of {len(sent)}, {t:.2f} s")]


# Peak RSS from VmHWM: ru_maxrss carries the benchmark's own peak across fork and exec.
MEASURE = """
import sys, time, pandas as pd, usage_frames as uf
def peak():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1024
key, url, days, width, group = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5:]
before = peak()
end = pd.Timestamp.now(tz="UTC").floor("D")
t0 = time.perf_counter()
df = uf.Client(key, url, cache=False, progress=False).completions(
    end - pd.Timedelta(days=days), end, bucket_width=width, group_by=group or None)
seconds = time.perf_counter() - t0
print(len(df), seconds, before, peak(), df.memory_usage(deep=True).sum() / 2**20, int(df["input_tokens"].sum()))
"""


def measured(url: str, days: int, width: str, *group: str) -> tuple[int, float, float, float, float]:
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, KEY, url, str(days), width, *group], capture_output=True, text=True, check=True
    ).stdout.split()
    return int(out[0]), float(out[1]), float(out[2]), float(out[3]), float(out[4])


def bench_minutes(url: str, days: int) -> list[tuple[str, str]]:
    rows, seconds, before, peak, frame = measured(url, days, "1m")
    return [
        (
            f"(d) {days} days at 1m, one group",
            f"{rows:,} rows in {seconds:.1f} s; peak {peak - before:.0f} MiB above the imports ({before:.0f}), "
            f"frame {frame:.0f} MiB",
        )
    ]


def bench_users(latency: float, days: int, users: int) -> list[tuple[str, str]]:
    with fake_server(latency, users=users) as url:
        rows, seconds, before, peak, frame = measured(url, days, "1h", "user_id")
    return [
        (
            f"(e) {users:,} users, {days} days at 1h by user",
            f"{rows:,} rows in {seconds:.1f} s; peak {peak - before:.0f} MiB above the imports ({before:.0f}), "
            f"frame {frame:.0f} MiB",
        )
    ]


def bench_report(rounds: int = 5) -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as old:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", BASELINE], capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", old], input=archive.stdout, check=True)
        out = Path(old) / "report.html"
        # Both trees byte-compiled first, as pip does when it installs a wheel (PYTHONDONTWRITEBYTECODE=1 would
        # otherwise make each run compile every module of the package again).
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "usage_frames"), old], check=True)
        cli = [sys.executable, "-m", "usage_frames.cli", "report", "--sample", "-o", str(out)]
        # The baseline's job (OpenAI only), and today's default: every provider's sample in one report.
        commands = {
            "ours": ([*cli, "--provider", "openai"], os.environ.copy()),
            "both": (cli, os.environ.copy()),
            "main": (cli, {**os.environ, "PYTHONPATH": old}),
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(rounds):
            for name, (argv, env) in commands.items():
                cwd = old if name == "main" else str(ROOT)
                t0 = time.perf_counter()
                subprocess.run(argv, env=env, cwd=cwd, check=True, capture_output=True)
                times[name].append(time.perf_counter() - t0)
    ours, both, main = min(times["ours"]), min(times["both"]), min(times["main"])
    return [
        ("(f) usage-frames report --sample --provider openai", f"{ours:.2f} s vs {main:.2f} s at {BASELINE} "
         f"(OpenAI only) = {ours / main:.2f}x"),
        ("(f) usage-frames report --sample (OpenAI and Anthropic)", f"{both:.2f} s = {both / main:.2f}x"),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="30 days instead of 365, 100 users (a smoke run)")
    parser.add_argument("--latency", type=float, default=0.04)
    parser.add_argument("--only", help="comma-separated sections to run (a,b,c,d,e,f)", default="a,b,c,d,e,f")
    args = parser.parse_args()
    days = 30 if args.quick else 365
    only = set(args.only.split(","))
    print(
        f"usage_frames {uf.__version__}, pandas {pd.__version__}, fake API latency {args.latency * 1000:.0f} ms, "
        f"{days} days; answers without {', '.join(ABSENT)}"
    )
    rows: list[tuple[str, str]] = []
    with fake_server(args.latency) as url:
        rows += bench_cold(url, days, args.latency) if "a" in only else []
        rows += bench_parse(url, days, "fields absent") if "b" in only else []
        rows += bench_warm(url, days) if "c" in only else []
        rows += bench_minutes(url, days) if "d" in only else []
    if "b" in only:
        with fake_server(args.latency, omit=()) as url:
            rows += bench_parse(url, days, "complete")
    rows += bench_users(args.latency, 30, 100 if args.quick else 1000) if "e" in only else []
    rows += bench_report() if "f" in only else []
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()
