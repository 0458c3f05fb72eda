"""Side-by-side benchmarks of usage_frames against the cookbook loop, printed as ratios measured in one run.

Run: ``python benchmarks/bench_fetch.py`` (``--quick`` for a smoke run). The fake API runs in its own process
(``usage-frames serve-fake``) with a realistic 40 ms latency per request, so client and server do not share a GIL.

(a) cold fetch of 365 days at 1h grouped by project and model: usage_frames (cold cache) vs. a cookbook-style
    sequential loop with the API's default page size, totals compared to the token; and by worker count;
(b) pages -> frame vs. ``orjson.loads`` of the same bytes; frame memory vs. a naive records DataFrame, as built
    (strings as objects, ints as int64 or float64 where absent) and with its strings made categorical. Our frame
    keeps every count as ``Int64`` (8 bytes and a mask byte per value, 17 of them for completions), so most of
    its memory is counts, and the ratio says what the strings cost a naive frame;
(c) requests sent by a warm refresh of the same 365-day query;
(d) a year of 1m buckets (525,600) fetched and framed, with the peak memory of the process.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from typing import Any

import orjson
import pandas as pd
import requests

import usage_frames as uf
from usage_frames.frames import decode_page, to_frame
from usage_frames.paging import check_page
from usage_frames.params import build_query

KEY = "sk-admin-benchmark"
NOW = pd.Timestamp.now(tz="UTC").floor("h")


@contextmanager
def fake_server(latency: float):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "usage_frames.cli", "serve-fake", "--port", str(port), "--latency", str(latency)],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/v1"
    for _ in range(100):
        try:
            requests.get(url + "/organization/costs", timeout=1)
            break
        except requests.ConnectionError:
            time.sleep(0.05)
    try:
        yield url
    finally:
        proc.terminate()
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


def bench_cold(url: str, days: int) -> list[tuple[str, str]]:
    start, end = NOW - pd.Timedelta(days=days), NOW - pd.Timedelta(hours=1)
    t_cook, cook = timed(lambda: cookbook_fetch(url, start, end))
    rows = [("(a) cookbook loop, sequential, default page size", f"{t_cook:.2f} s, {len(cook):,} rows")]
    for workers in (1, 2, 4, 6, 8):
        with tempfile.TemporaryDirectory() as cache:
            client = uf.Client(KEY, url, cache=cache, workers=workers, progress=False)
            t, ours = timed(
                lambda client=client: client.completions(
                    start, end, bucket_width="1h", group_by=["project_id", "model"]
                )
            )
        same = int(ours["input_tokens"].sum()) == int(cook["input_tokens"].sum()) and len(ours) == len(cook)
        rows.append(
            (
                f"(a) usage_frames cold, workers={workers}",
                f"{t:.2f} s = {t_cook / t:.1f}x faster; same totals to the token: {same}",
            )
        )
    return rows


def bench_parse(url: str, days: int) -> list[tuple[str, str]]:
    query = build_query(
        "completions",
        NOW - pd.Timedelta(days=days),
        NOW - pd.Timedelta(hours=1),
        bucket_width="1h",
        group_by=["project_id", "model"],
    )
    client = uf.Client(KEY, url, cache=False)
    bodies = []
    for window in uf.params.windows(query):
        _, response = client.get(query.endpoint.path, window.params())
        bodies.append(response.content)
    size = sum(map(len, bodies))

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
    runs: dict[str, list[float]] = {"orjson": [], "ours": [], "naive": []}
    for _ in range(7):
        for name, fn in (("orjson", lambda: [orjson.loads(b) for b in bodies]), ("ours", ours), ("naive", naive)):
            runs[name].append(timed(fn, collect=False)[0])
    best = {name: min(times) for name, times in runs.items()}
    frame, plain = ours(), naive()
    ours_mem, naive_mem = frame.memory_usage(deep=True).sum(), plain.memory_usage(deep=True).sum()
    strings = plain.select_dtypes(include=["object", "string"]).columns
    categorical = plain.astype(dict.fromkeys(strings, "category"))
    categorical_mem = categorical.memory_usage(deep=True).sum()
    return [
        ("(b) bytes parsed", f"{size / 1e6:.1f} MB in {len(bodies)} pages, {len(frame):,} rows"),
        ("(b) orjson.loads only", f"{best['orjson'] * 1000:.1f} ms"),
        (
            "(b) pages -> frame (decode, check, build)",
            f"{best['ours'] * 1000:.1f} ms = {best['ours'] / best['orjson']:.2f}x orjson.loads",
        ),
        ("(b) naive json.loads + records DataFrame", f"{best['naive'] * 1000:.1f} ms"),
        (
            "(b) frame memory",
            f"{ours_mem / 1e6:.2f} MB vs naive {naive_mem / 1e6:.2f} MB = {naive_mem / ours_mem:.1f}x smaller",
        ),
        (
            "(b) naive frame with categoricals",
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


def bench_minutes(url: str, days: int) -> list[tuple[str, str]]:
    code = f"""
import resource, time, pandas as pd, usage_frames as uf
end = pd.Timestamp.now(tz="UTC").floor("D")
t0 = time.perf_counter()
df = uf.Client("{KEY}", "{url}", cache=False, progress=False).completions(
    end - pd.Timedelta(days={days}), end, bucket_width="1m")
print(len(df), time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    rows, seconds, peak = int(out[0]), float(out[1]), float(out[2])
    return [(f"(d) {days} days at 1m, one group", f"{rows:,} rows in {seconds:.1f} s, peak memory {peak:.0f} MiB")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="30 days instead of 365 (a smoke run)")
    parser.add_argument("--latency", type=float, default=0.04)
    args = parser.parse_args()
    days = 30 if args.quick else 365
    print(
        f"usage_frames {uf.__version__}, pandas {pd.__version__}, fake API latency {args.latency * 1000:.0f} ms, "
        f"{days} days; {resource.getpagesize()} B pages"
    )
    with fake_server(args.latency) as url:
        rows = bench_cold(url, days) + bench_parse(url, days) + bench_warm(url, days) + bench_minutes(url, days)
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()
