"""Parquet sync: backfill, idempotent re-runs, resume after a crash, reading the dataset back."""

from __future__ import annotations

import fcntl
import json
import re
import subprocess
import sys
import threading
import time

import pandas as pd
import pytest
from conftest import pinned_env, read_only

import usage_frames as uf
import usage_frames._core.query
import usage_frames.dataset as sync_module
from usage_frames.cli import main


def read(path, endpoint):
    frame = pd.read_parquet(path / f"endpoint={endpoint}")
    return frame.drop(columns="month").sort_index(kind="stable")


def direct(client, endpoint, start, end, **kwargs):
    return client.fetch(endpoint, start, end, **kwargs).sort_index(kind="stable")


def test_sync__first_run_backfills_and_reads_back_like_a_direct_fetch(tmp_path, client):
    result = uf.sync(
        tmp_path, ["completions", "costs"], group_by=["project_id"], start="2026-07-10", end="2026-10-01", client=client
    )
    assert result["completions"].written == ["2026-07", "2026-08", "2026-09"]
    for endpoint in ("completions", "costs"):
        back = read(tmp_path, endpoint)
        fetched = direct(client, endpoint, "2026-07-10", "2026-10-01", group_by="project_id")
        assert len(back) == len(fetched)
        assert back["project_id"].astype(str).tolist() == fetched["project_id"].astype(str).tolist()
        value = "amount" if endpoint == "costs" else "input_tokens"
        assert back[value].sum() == pytest.approx(fetched[value].sum())
        assert str(back.index.tz) == "UTC"


@pytest.mark.parametrize(
    ("now", "rewritten"),
    [
        ("2026-11-28 12:00", ["2026-11"]),
        ("2026-11-30 23:59:59.9", ["2026-11"]),  # the last instant of a month
        ("2026-12-01 00:00:30", ["2026-11", "2026-12"]),  # November settles 6 hours after it ends
        ("2026-12-01 06:00:00.5", ["2026-12"]),
        ("2027-01-01 00:00:00.5", ["2026-12"]),  # January has no whole second yet
        ("2027-01-01 00:00:30", ["2026-12", "2027-01"]),  # across a year
    ],
)
def test_sync__rerun_is_idempotent_and_rewrites_only_open_months(tmp_path, client, faults, monkeypatch, now, rewritten):
    # Every figure is taken at one instant: the open bucket of a direct fetch read a second later is another figure.
    now = pd.Timestamp(now, tz="UTC")
    monkeypatch.setattr(usage_frames._core.query, "wall_clock", lambda: now)
    start = (now - pd.Timedelta(days=75)).strftime("%Y-%m-%d")
    uf.sync(tmp_path, ["embeddings"], start=start, client=client)
    files = sorted((tmp_path / "endpoint=embeddings").rglob("*.parquet"))
    before = {p: p.read_bytes() for p in files}
    faults.requests.clear()
    again = uf.sync(tmp_path, ["embeddings"], client=client)
    assert again["embeddings"].written == rewritten
    assert len(again["embeddings"].skipped) >= 2
    assert len(faults.requests) <= 2  # only the open windows (the cache answers the rest)
    for path, data in before.items():
        if not any(month in str(path) for month in rewritten):
            assert path.read_bytes() == data
    total = read(tmp_path, "embeddings")["input_tokens"].sum()
    assert total == direct(client, "embeddings", start, None)["input_tokens"].sum()


def test_sync__an_interrupted_run_leaves_a_readable_dataset_and_resumes(tmp_path, client, monkeypatch):
    real_write = sync_module._write_month
    calls = []

    def crash_on_third(frame, directory):
        calls.append(directory)
        if len(calls) == 3:
            raise KeyboardInterrupt("power cut")
        real_write(frame, directory)

    monkeypatch.setattr(sync_module, "_write_month", crash_on_third)
    with pytest.raises(KeyboardInterrupt):
        uf.sync(tmp_path, ["costs"], group_by="line_item", start="2026-05-01", end="2026-10-01", client=client)
    state = json.loads((tmp_path / "endpoint=costs" / "_sync.json").read_text())
    assert sorted(state["months"]) == ["2026-05", "2026-06"]
    partial = read(tmp_path, "costs")
    assert sorted(partial.index.strftime("%Y-%m").unique()) == ["2026-05", "2026-06"]

    monkeypatch.setattr(sync_module, "_write_month", real_write)
    resumed = uf.sync(tmp_path, ["costs"], group_by="line_item", end="2026-10-01", client=client)
    assert resumed["costs"].written == ["2026-07", "2026-08", "2026-09"]
    assert resumed["costs"].skipped == ["2026-05", "2026-06"]
    back = read(tmp_path, "costs")
    fetched = direct(client, "costs", "2026-05-01", "2026-10-01", group_by="line_item")
    assert len(back) == len(fetched)
    assert back["amount"].sum() == pytest.approx(fetched["amount"].sum())


def test_sync__refuses_to_mix_group_keys_in_one_dataset(tmp_path, client):
    uf.sync(tmp_path, ["costs"], group_by="project_id", start="2026-09-01", end="2026-10-01", client=client)
    with pytest.raises(uf.InvalidParameterError, match="differs from the dataset"):
        uf.sync(tmp_path, ["costs"], group_by="line_item", client=client)


def test_sync__first_run_needs_a_start(tmp_path, client):
    with pytest.raises(uf.InvalidParameterError, match="start: None is needed for the first sync of costs"):
        uf.sync(tmp_path, ["costs"], client=client)


def test_cli__sync_and_dry_run(tmp_path, capsys):
    assert main(["sync", str(tmp_path), "--fake", "--endpoint", "images", "--start", "2026-09-01"]) == 0
    assert capsys.readouterr().out.startswith("images: wrote 2026-09, 2026-10, 2026-11")
    assert (
        main(
            [
                "fetch",
                "completions",
                "--fake",
                "--dry-run",
                "--start",
                "2026-01-01",
                "--bucket-width",
                "1m",
                "--group-by",
                "model",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "window(s)" in out and "bucket_width='1h'" in out


# --- concurrency, damage, full disks and argument mistakes (issue 12) ----------------------------------------


def files(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


def test_sync__concurrent_syncs_into_one_folder_never_crash_and_give_the_exact_dataset(tmp_path, client, org):
    errors: list[BaseException] = []

    def one() -> None:
        try:
            uf.sync(tmp_path, ["costs", "images"], start="2026-06-10", end="2026-10-01", client=client)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=one, daemon=True) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(t.is_alive() for t in threads), "a sync hung"
    assert errors == []
    assert not [f for f in files(tmp_path) if f.endswith(".tmp")]
    back = read(tmp_path, "costs")
    assert back["amount"].sum() == pytest.approx(org.total("costs", "amount", "2026-06-10", "2026-10-01"), rel=1e-9)
    assert int(read(tmp_path, "images")["images"].sum()) == org.total("images", "images", "2026-06-10", "2026-10-01")


SYNC_PROCESS = """
import sys
import usage_frames as uf
uf.sync(sys.argv[1], "embeddings", start="2026-07-01", end="2026-10-01", client=uf.Client("sk-admin-p", sys.argv[2]))
"""


def test_sync__concurrent_processes_share_one_dataset(tmp_path, server, org):
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", SYNC_PROCESS, str(tmp_path), server.url], stderr=subprocess.PIPE, env=pinned_env()
        )
        for _ in range(4)
    ]
    for run in runs:
        assert run.wait(timeout=120) == 0, run.stderr.read().decode()[-2000:] if run.stderr else ""
        if run.stderr:
            run.stderr.close()
    total = int(read(tmp_path, "embeddings")["input_tokens"].sum())
    assert total == org.total("embeddings", "input_tokens", "2026-07-01", "2026-10-01")


def test_sync__a_second_sync_waits_a_bounded_time_then_fails_clearly(tmp_path, client, monkeypatch):
    monkeypatch.setattr(sync_module, "LOCK_WAIT", 0.5)
    tmp_path.joinpath(sync_module.LOCK_FILE).touch()
    with open(tmp_path / sync_module.LOCK_FILE) as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        started = time.monotonic()
        with pytest.raises(uf.DatasetError, match=f"another sync has been writing {tmp_path} for more than 0.5 s"):
            uf.sync(tmp_path, "costs", start="2026-09-01", end="2026-10-01", client=client)
        assert time.monotonic() - started < 5
    assert not (tmp_path / "endpoint=costs").exists()
    assert uf.sync(tmp_path, "costs", start="2026-09-01", end="2026-10-01", client=client)["costs"].written


@pytest.mark.parametrize(
    "state",
    [
        "{",
        "[]",
        '{"months": []}',
        '{"months": {"2026-13": {}}}',
        '{"months": {"2026-09": 1}}',
        '{"months": {"2026-09": {"from": "soon"}}}',
        '{"start": 5, "months": {}}',
        "\x00\xff",
    ],
    ids=["cut", "a list", "months a list", "a bad month", "a bad entry", "a bad from", "a bad start", "binary"],
)
def test_sync__a_damaged_state_file_is_a_typed_error_that_says_how_to_recover(tmp_path, client, state):
    uf.sync(tmp_path, "costs", start="2026-09-01", end="2026-10-01", client=client)
    path = tmp_path / "endpoint=costs" / "_sync.json"
    path.write_bytes(state.encode("latin-1"))
    with pytest.raises(uf.DatasetError, match=f"the dataset state {path} is damaged .*delete it"):
        uf.sync(tmp_path, "costs", client=client)


def test_sync__a_read_only_folder_is_a_typed_error_and_changes_nothing(tmp_path, client):
    uf.sync(tmp_path, "costs", start="2026-09-01", end="2026-10-01", client=client)
    before = {f: (tmp_path / f).read_bytes() for f in files(tmp_path) if (tmp_path / f).is_file()}
    with read_only(tmp_path), pytest.raises(uf.DatasetError, match=str(tmp_path)):
        uf.sync(tmp_path, "costs", start="2026-08-01", end="2026-10-01", client=client)
    assert {f: (tmp_path / f).read_bytes() for f in files(tmp_path) if (tmp_path / f).is_file()} == before


FULL_SYNC = """
import resource, signal, sys
import usage_frames as uf
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG, as on a full disk
resource.setrlimit(resource.RLIMIT_FSIZE, (2000, 2000))
try:
    uf.sync(sys.argv[1], "costs", group_by="line_item", start="2026-08-01", end="2026-10-01",
            client=uf.Client("sk-admin-full", sys.argv[2], cache=False))
except uf.DatasetError as exc:
    print(exc)
"""


def test_sync__a_full_disk_is_a_typed_error_leaving_nothing_half_written(tmp_path, server):
    run = subprocess.run(
        [sys.executable, "-c", FULL_SYNC, str(tmp_path), server.url],
        capture_output=True,
        text=True,
        timeout=120,
        env=pinned_env(),
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.startswith(f"cannot write {tmp_path}/endpoint=costs/month=2026-08/part-0.parquet")
    assert [f for f in files(tmp_path) if f.endswith((".tmp", ".parquet", "_sync.json"))] == []


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"endpoints": "completion"}, "endpoints"),
        ({"endpoints": ["costs", "nope"]}, "endpoints"),
        ({"endpoints": []}, "endpoints"),
        ({"endpoints": 3}, "endpoints"),
        ({"group_by": "modle"}, "group_by"),
        ({"group_by": {"images": ["size"]}}, "group_by"),
        ({"bucket_width": "1w"}, "bucket_width"),
        ({"start": "last tuesday"}, "start"),
        ({"end": [2026]}, "end"),
        ({"client": "sk-admin-x"}, "client"),
        ({"models": 3}, "models"),
        ({"projects": "x"}, "filter"),
        ({"start": None}, "start"),  # a first sync needs one
        ({"start": "2023-01-01", "bucket_width": "1m"}, "start"),  # more than max_requests
    ],
    ids=lambda v: v if isinstance(v, str) else "-".join(map(str, v)),
)
def test_sync__an_argument_mistake_creates_nothing(tmp_path, client, kwargs, argument):
    root = tmp_path / "data"
    options = {"endpoints": ["completions"], "start": "2026-09-01", "end": "2026-10-01", "client": client, **kwargs}
    with pytest.raises(uf.InvalidParameterError) as info:
        uf.sync(root, **options)
    assert info.value.argument == argument
    assert not root.exists()


def test_sync__a_path_that_is_not_a_path_is_refused(client):
    with pytest.raises(uf.InvalidParameterError, match="path: 3 must be a folder path"):
        uf.sync(3, "costs", start="2026-09-01", client=client)


def test_sync__a_single_endpoint_name_is_one_endpoint_not_its_letters(tmp_path, client):
    result = uf.sync(tmp_path, "images", start="2026-09-01", end="2026-10-01", client=client)
    assert list(result) == ["images"]
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == ["endpoint=images"]


def test_sync__a_resumed_sync_without_start_keeps_the_window_asked_for(tmp_path, client):
    uf.sync(tmp_path, "completions", start="2026-10-10", end="2026-10-20", client=client)
    uf.sync(tmp_path, "completions", end="2026-10-25", client=client)
    back = read(tmp_path, "completions")
    assert back.index.min() == pd.Timestamp("2026-10-10", tz="UTC")
    fetched = direct(client, "completions", "2026-10-10", "2026-10-25")
    assert len(back) == len(fetched) and int(back["input_tokens"].sum()) == int(fetched["input_tokens"].sum())


def test_sync__an_earlier_start_extends_the_window_and_later_runs_keep_it(tmp_path, client):
    uf.sync(tmp_path, "costs", start="2026-09-15", end="2026-10-01", client=client)
    uf.sync(tmp_path, "costs", start="2026-08-20", end="2026-10-01", client=client)
    uf.sync(tmp_path, "costs", end="2026-10-05", client=client)
    back = read(tmp_path, "costs")
    assert back.index.min() == pd.Timestamp("2026-08-20", tz="UTC")
    assert back["amount"].sum() == pytest.approx(direct(client, "costs", "2026-08-20", "2026-10-05")["amount"].sum())


def test_sync__temporary_files_left_by_a_killed_run_are_removed(tmp_path, client):
    uf.sync(tmp_path, "costs", start="2026-09-01", end="2026-10-01", client=client)
    folder = tmp_path / "endpoint=costs"
    stale = [folder / "._sync.json.abc.tmp", folder / "month=2026-09" / ".part-0.parquet.x.tmp"]
    for path in stale:
        path.write_bytes(b"half")
    uf.sync(tmp_path, "costs", client=client)
    assert not any(path.exists() for path in stale)


def test_sync__later_months_beyond_2_31_still_read_as_one_int64_dataset(tmp_path):
    # Three runs into one dataset: a month without rows, months of ordinary counts, then a month whose counts
    # exceed 2**31. Narrow or inferred types differed per file and pd.read_parquet raised ArrowInvalid.
    from usage_frames.fake import Stream
    from usage_frames.providers.openai.fake import FakeOrganization

    small = FakeOrganization()
    huge = FakeOrganization(
        streams=(
            Stream("embeddings", {"project_id": "proj_big", "model": "text-embedding-3-small"}, 10**6,
                   {"requests": 1, "input_tokens": 10**5}, profile="flat"),
        )
    )  # fmt: skip
    runs = [
        (FakeOrganization(streams=()), "2026-07-01", "2026-08-01"),
        (small, None, "2026-10-01"),
        (huge, None, "2026-11-01"),
    ]
    for org, start, end in runs:
        uf.sync(tmp_path, ["embeddings"], group_by="model", start=start, end=end, client=uf.Client.fake(org))
    back = pd.read_parquet(tmp_path / "endpoint=embeddings")
    assert str(back["input_tokens"].dtype) == "Int64" and str(back["num_model_requests"].dtype) == "Int64"
    assert int(back["input_tokens"].max()) > 2**31
    truth = small.total("embeddings", "input_tokens", "2026-08-01", "2026-10-01") + huge.total(
        "embeddings", "input_tokens", "2026-10-01", "2026-11-01"
    )
    assert sum(int(v) for v in back["input_tokens"]) == truth
    assert sorted(back["model"].astype(str).unique()) == ["text-embedding-3-large", "text-embedding-3-small"]


def test_sync__a_start_beyond_the_one_year_lookback_backfills_from_the_earliest_date(tmp_path, org):
    client = uf.Client.fake(org)
    now = client.clock()
    start = now - pd.Timedelta(days=500)
    earliest = (now - pd.DateOffset(years=1)).floor("D") + pd.Timedelta(days=1)
    message = (
        f"sync costs: the API keeps one year of data, so the backfill starts at {earliest:%Y-%m-%d} instead of "
        f"{start:%Y-%m-%d}; months {start:%Y-%m} to {earliest.replace(day=1) - pd.Timedelta(days=1):%Y-%m} are left out"
    )  # the start asked for, the start used, and why
    with pytest.warns(uf.UsageFramesWarning, match=f"^{re.escape(message)}$"):
        result = uf.sync(tmp_path, ["costs"], start=start, client=client)
    assert result["costs"].unavailable and result["costs"].unavailable[-1] < f"{earliest:%Y-%m}"
    assert result["costs"].written[0] == f"{earliest:%Y-%m}"
    back = read(tmp_path, "costs")
    assert back.index.min() >= earliest
    assert back["amount"].sum() == pytest.approx(org.total("costs", "amount", earliest, now))


def test_sync__a_window_all_beyond_the_lookback_warns_and_creates_nothing(tmp_path, client, faults):
    root = tmp_path / "data"
    with pytest.warns(uf.UsageFramesWarning) as caught:
        result = uf.sync(root, ["costs", "images"], start="2025-06-10", end="2025-10-01", client=client)
    assert [str(w.message) for w in caught] == [
        f"sync {name}: the API keeps one year of data (from 2025-11-29), so nothing from 2025-06-10 to 2025-10-01 "
        "can be fetched; months 2025-06 to 2025-09 are left out"
        for name in ("costs", "images")
    ]
    assert result["costs"].unavailable == ["2025-06", "2025-07", "2025-08", "2025-09"] and not result["costs"].written
    assert not root.exists() and faults.requests == []


def test_sync__an_endpoint_with_nothing_to_fetch_gets_no_folder_in_a_dataset(tmp_path, client):
    uf.sync(tmp_path, ["costs"], start="2026-09-01", end="2026-10-01", client=client)
    with pytest.warns(uf.UsageFramesWarning, match="sync images: .* months 2025-06 to 2025-09 are left out"):
        uf.sync(tmp_path, ["images"], start="2025-06-10", end="2025-10-01", client=client)
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == ["endpoint=costs"]


def remote_tree(tmp_path):
    """A pyarrow filesystem that is not the local one as the dataset code sees it (no file locks, no modes)."""
    from pyarrow.fs import LocalFileSystem, SubTreeFileSystem

    (tmp_path / "bucket").mkdir()
    return SubTreeFileSystem(str(tmp_path / "bucket"), LocalFileSystem())


def test_sync__a_pyarrow_filesystem_gets_the_same_dataset_resumes_and_leaves_no_temporaries(
    tmp_path, client, org, monkeypatch
):
    import pyarrow.dataset as ds

    fs = remote_tree(tmp_path)
    real_write = sync_module._write_month
    calls = []

    def crash_on_second(frame, directory):
        calls.append(str(directory))
        if len(calls) == 2:
            raise KeyboardInterrupt("power cut")
        real_write(frame, directory)

    monkeypatch.setattr(sync_module, "_write_month", crash_on_second)
    with pytest.raises(KeyboardInterrupt):
        uf.sync("usage", ["costs"], start="2026-07-01", end="2026-10-01", client=client, filesystem=fs)
    monkeypatch.setattr(sync_module, "_write_month", real_write)
    resumed = uf.sync("usage", ["costs"], end="2026-10-01", client=client, filesystem=fs)
    assert resumed["costs"].skipped == ["2026-07"] and resumed["costs"].written == ["2026-08", "2026-09"]
    files = sorted(
        p.relative_to(tmp_path / "bucket").as_posix() for p in (tmp_path / "bucket").rglob("*") if p.is_file()
    )
    assert files == [
        "usage/endpoint=costs/_sync.json",
        *(f"usage/endpoint=costs/month=2026-0{m}/part-0.parquet" for m in (7, 8, 9)),
    ]  # no lock file and no temporary name left on a filesystem without locks
    table = ds.dataset("usage/endpoint=costs", filesystem=fs, format="parquet", partitioning="hive").to_table()
    assert sum(table.column("amount").to_pylist()) == pytest.approx(
        org.total("costs", "amount", "2026-07-01", "2026-10-01")
    )


def test_sync__a_file_url_is_a_local_path_with_its_lock_and_owner_only_files(tmp_path, client):
    import stat

    uf.sync(f"file://{tmp_path}/usage", ["costs"], start="2026-09-01", end="2026-10-01", client=client)
    root = tmp_path / "usage"
    assert (root / sync_module.LOCK_FILE).exists()
    part = root / "endpoint=costs" / "month=2026-09" / "part-0.parquet"
    assert stat.S_IMODE(part.stat().st_mode) == 0o600
    assert read(root, "costs")["amount"].sum() == pytest.approx(
        direct(client, "costs", "2026-09-01", "2026-10-01")["amount"].sum()
    )


def test_sync__a_filesystem_url_goes_through_pyarrow(client):
    # mock:// is pyarrow's in-memory filesystem (a new one per URL): the write, move and state round trip in one run
    result = uf.sync("mock:///usage", ["costs"], start="2026-08-01", end="2026-10-01", client=client)
    assert result["costs"].written == ["2026-08", "2026-09"] and result["costs"].rows > 0


def test_sync__duckdb_reads_the_dataset_back_with_the_same_totals_as_pandas(tmp_path, client, org):
    import duckdb

    uf.sync(tmp_path, ["completions"], group_by=["project_id", "model"], start="2026-08-01", end="2026-10-01",
            client=client)  # fmt: skip
    query = f"""
        SELECT project_id, model, sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens
        FROM read_parquet('{tmp_path}/endpoint=completions/*/*.parquet', hive_partitioning = true)
        GROUP BY ALL ORDER BY ALL
    """
    on_duckdb = duckdb.sql(query).df()
    frame = pd.read_parquet(tmp_path / "endpoint=completions")
    on_pandas = (
        frame.groupby(["project_id", "model"], observed=True)[["input_tokens", "output_tokens"]].sum().reset_index()
    )
    assert len(on_duckdb) == len(on_pandas) > 1
    merged = on_duckdb.astype({"project_id": str, "model": str}).merge(
        on_pandas.astype({"project_id": str, "model": str}), on=["project_id", "model"], suffixes=("_db", "_pd")
    )
    assert len(merged) == len(on_pandas)
    for column in ("input_tokens", "output_tokens"):
        assert merged[f"{column}_db"].astype("int64").tolist() == merged[f"{column}_pd"].astype("int64").tolist()
        assert int(merged[f"{column}_db"].sum()) == org.total("completions", column, "2026-08-01", "2026-10-01")


def test_cli__sync_takes_a_filesystem_url(tmp_path, capsys):
    # Path("file:///x") would have made a folder named "file:" in the working directory
    assert main(["sync", f"file://{tmp_path}/usage", "--fake", "--endpoint", "costs", "--start", "2026-09-01"]) == 0
    assert capsys.readouterr().out.startswith("costs: wrote 2026-09")
    assert (tmp_path / "usage" / "endpoint=costs" / "month=2026-09" / "part-0.parquet").exists()
