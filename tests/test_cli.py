"""The usage-frames command: fetch to a preview or a file, clear one-line errors, exit codes, no key in output."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest
from conftest import SECRET_KEY

from usage_frames.cli import main


def test_fetch__preview_shows_window_totals_and_rows(capsys, org):
    assert (
        main(["fetch", "embeddings", "--fake", "--start", "2026-10-01", "--end", "2026-10-08", "--group-by", "model"])
        == 0
    )
    out = capsys.readouterr().out
    assert out.startswith("embeddings 2026-10-01 00:00 .. 2026-10-08 00:00 UTC, 1d buckets, grouped by model: 14 rows")
    truth = org.total("embeddings", "input_tokens", "2026-10-01", "2026-10-08")
    assert f"input_tokens={truth:,}" in out
    assert "text-embedding-3-small" in out


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".json"])
def test_fetch__writes_the_frame_by_suffix(tmp_path, capsys, org, suffix):
    path = tmp_path / f"out{suffix}"
    assert (
        main(
            [
                "fetch",
                "costs",
                "--fake",
                "--start",
                "2026-10-01",
                "--end",
                "2026-10-05",
                "--group-by",
                "line_item",
                "--line-item",
                "gpt-4o-2024-08-06, output",
                "-o",
                str(path),
            ]
        )
        == 0
    )
    assert capsys.readouterr().out.startswith("wrote 4 rows")
    frame = {".csv": pd.read_csv, ".parquet": pd.read_parquet, ".json": pd.read_json}[suffix](path)
    truth = org.total("costs", "amount", "2026-10-01", "2026-10-05", line_item="gpt-4o-2024-08-06, output")
    assert frame["amount"].sum() == pytest.approx(truth)
    if suffix == ".parquet":
        assert frame.attrs["endpoint"] == "costs" and str(frame.index.tz) == "UTC"


def test_fetch__filters_and_boolean_flags(capsys, org):
    assert (
        main(
            [
                "fetch",
                "completions",
                "--fake",
                "--start",
                "2026-10-01",
                "--end",
                "2026-10-03",
                "--batch",
                "--model",
                "gpt-4o-2024-08-06",
                "--model",
                "o3-2025-04-16",
            ]
        )
        == 0
    )
    truth = org.total(
        "completions",
        "output_tokens",
        "2026-10-01",
        "2026-10-03",
        batch=True,
        model=["gpt-4o-2024-08-06", "o3-2025-04-16"],
    )
    assert f"output_tokens={truth:,}" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["fetch", "costs", "--fake", "--bucket-width", "1h"], "bucket_width: '1h' is not allowed for costs"),
        (["fetch", "costs", "--fake", "--group-by", "model"], "group_by: 'model' is not allowed for costs"),
        (["fetch", "vector_stores", "--fake", "--model", "x"], "filter: 'models' is not a filter of vector_stores"),
        (["fetch", "costs", "--fake", "--start", "2026-10-02", "--end", "2026-10-01"], "must be before end"),
        (["fetch", "costs", "--fake", "-o", "out.xlsx"], "has an unknown suffix"),
        (["fetch", "costs"], "No admin key"),
    ],
)
def test_errors__one_clear_line_and_exit_2(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage-frames: error: ") and message in err
    assert err.count("\n") == 1


def test_errors__api_failure_exits_1_without_the_key(capsys, server, faults, monkeypatch):
    monkeypatch.setenv("OPENAI_ADMIN_KEY", "sk-legacy-" + SECRET_KEY)
    assert main(["fetch", "costs", "--base-url", server.url, "--start", "2026-10-01", "--end", "2026-10-02"]) == 1
    captured = capsys.readouterr()
    assert "AuthenticationError: 401" in captured.err
    assert SECRET_KEY not in captured.err + captured.out


def test_fetch__against_the_server_with_the_environment_key_never_prints_it(capsys, server, monkeypatch):
    monkeypatch.setenv("OPENAI_ADMIN_KEY", SECRET_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", server.url)
    assert main(["fetch", "costs", "--start", "2026-10-01", "--end", "2026-10-03"]) == 0
    captured = capsys.readouterr()
    assert "costs 2026-10-01" in captured.out
    assert SECRET_KEY not in captured.out + captured.err


def test_console_script__is_installed_and_lists_endpoints():
    out = subprocess.run(
        [sys.executable, "-m", "usage_frames.cli", "fetch", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert "code_interpreter_sessions" in out and "--vector-store-id" in out and "--no-batch" in out


def test_fetch__an_image_size_outside_the_spec_enum_is_accepted(capsys, org):
    argv = ["fetch", "images", "--fake", "--start", "2026-10-01", "--end", "2026-10-08", "--size", "1536x1024"]
    assert main(argv) == 0
    truth = org.total("images", "images", "2026-10-01", "2026-10-08", size="1536x1024")
    assert f"images={truth:,}" in capsys.readouterr().out


def test_dry_run__warns_about_a_start_beyond_the_one_year_lookback(capsys):
    start = (pd.Timestamp.now(tz="UTC") - pd.Timedelta(days=400)).strftime("%Y-%m-%d")
    assert main(["fetch", "costs", "--fake", "--dry-run", "--start", start]) == 0
    assert "warning: start " + start + " is more than a year back" in capsys.readouterr().out
