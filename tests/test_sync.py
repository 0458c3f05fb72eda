"""Parquet sync: backfill, idempotent re-runs, resume after a crash, reading the dataset back."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import usage_frames as uf
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


def test_sync__rerun_is_idempotent_and_rewrites_only_open_months(tmp_path, client, faults):
    start = (pd.Timestamp.now(tz="UTC") - pd.Timedelta(days=75)).strftime("%Y-%m-%d")
    uf.sync(tmp_path, ["embeddings"], start=start, client=client)
    files = sorted((tmp_path / "endpoint=embeddings").rglob("*.parquet"))
    before = {p: p.read_bytes() for p in files}
    faults.requests.clear()
    again = uf.sync(tmp_path, ["embeddings"], client=client)
    assert again["embeddings"].written == [pd.Timestamp.now(tz="UTC").strftime("%Y-%m")]
    assert len(again["embeddings"].skipped) >= 2
    assert len(faults.requests) <= 2  # only the open window (the cache answers the rest)
    for path, data in before.items():
        if pd.Timestamp.now(tz="UTC").strftime("%Y-%m") not in str(path):
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


def test_sync__later_months_beyond_2_31_still_read_as_one_int64_dataset(tmp_path):
    # Three runs into one dataset: a month without rows, months of ordinary counts, then a month whose counts
    # exceed 2**31. Narrow or inferred types differed per file and pd.read_parquet raised ArrowInvalid.
    from usage_frames.fake import FakeOrganization, Stream

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
    with pytest.warns(uf.UsageFramesWarning, match="the API keeps one year of data, so the backfill starts at"):
        result = uf.sync(tmp_path, ["costs"], start=now - pd.Timedelta(days=500), client=client)
    earliest = (now - pd.DateOffset(years=1)).floor("D") + pd.Timedelta(days=1)
    assert result["costs"].unavailable and result["costs"].unavailable[-1] < f"{earliest:%Y-%m}"
    assert result["costs"].written[0] == f"{earliest:%Y-%m}"
    back = read(tmp_path, "costs")
    assert back.index.min() >= earliest
    assert back["amount"].sum() == pytest.approx(org.total("costs", "amount", earliest, now))
