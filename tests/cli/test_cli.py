"""The usage-frames command: fetch to a preview or a file, clear one-line errors, exit codes, no key in output.

Scenarios a script or cron job meets run the installed console script as a subprocess with stdin closed.
"""

from __future__ import annotations

import argparse
import re
import signal
import socket
import subprocess
import sys
import warnings
from pathlib import Path

import pandas as pd
import pytest
import requests
from conftest import NOW, pinned_env

import usage_frames as uf
from usage_frames.cli import _run, main


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
        (["fetch", "costs", "--fake", "-o", "out.xlsx"], "unknown suffix '.xlsx'; allowed: .csv, .parquet, .json"),
        (["fetch", "costs"], "No admin key"),
    ],
)
def test_errors__one_clear_line_and_exit_2(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage-frames: error: ") and message in err
    assert err.count("\n") == 1


def test_errors__api_failure_exits_1_without_the_key(secret_key, capsys, server, faults, monkeypatch):
    monkeypatch.setenv("OPENAI_ADMIN_KEY", "sk-legacy-" + secret_key)
    assert main(["fetch", "costs", "--base-url", server.url, "--start", "2026-10-01", "--end", "2026-10-02"]) == 1
    captured = capsys.readouterr()
    assert "AuthenticationError: 401" in captured.err
    assert secret_key not in captured.err + captured.out


def test_fetch__against_the_server_with_the_environment_key_never_prints_it(secret_key, capsys, server, monkeypatch):
    monkeypatch.setenv("OPENAI_ADMIN_KEY", secret_key)
    monkeypatch.setenv("OPENAI_BASE_URL", server.url)
    assert main(["fetch", "costs", "--start", "2026-10-01", "--end", "2026-10-03"]) == 0
    captured = capsys.readouterr()
    assert "costs 2026-10-01" in captured.out
    assert secret_key not in captured.out + captured.err


def test_console_script__is_installed_and_lists_endpoints():
    out = subprocess.run(
        [sys.executable, "-m", "usage_frames.cli", "fetch", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert "code_interpreter_sessions" in out and "--vector-store-id" in out and "--no-batch" in out


SCRIPT = str(Path(sys.executable).with_name("usage-frames"))


def run(*argv: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The console script as cron runs it: stdin closed, no terminal, the test's environment (no key), on the
    suite's clock (``NOW``, see conftest ``pinned_env``) unless ``env`` says otherwise."""
    return subprocess.run(
        [SCRIPT, *argv], stdin=subprocess.DEVNULL, capture_output=True, text=True, cwd=cwd, env=env or pinned_env(),
        timeout=120,
    )  # fmt: skip


def assert_one_line_error(result: subprocess.CompletedProcess[str], status: int, message: str) -> None:
    assert result.returncode == status, result.stderr
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("usage-frames") and message in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["fetch", "costs", "--fake", "--bucket-width", "1w"], "invalid choice: '1w'"),
        (["fetch", "costs", "--fake", "--bucket", "1d"], "unrecognized arguments: --bucket"),  # no abbreviations
        (["sync", "data", "--endp", "costs"], "unrecognized arguments: --endp"),
        (["fetch", "costs", "--fake", "--sample"], "not allowed with argument --fake"),
        (["fetch", "costs", "--fake", "--workers", "0"], "workers: 0 must be an int >= 1"),
        (["fetch", "costs", "--fake", "--workers", "many"], "--workers: 'many' is not a number of workers or 'auto'"),
        (["fetch", "costs", "--fake", "--start", "last tuesday"], "start: 'last tuesday' is not a readable time"),
        (["fetch", "costs", "--fake", "-o", "x.xlsx"], "unknown suffix '.xlsx'"),
        (["report", "--sample", "-o", "r.pdf"], "-o r.pdf: unknown suffix '.pdf'; allowed: .html"),
        (["fetch", "costs"], "No admin key"),
        (["report"], "No admin key"),
        (["fetch", "completions", "--sample", "--start", "2025-01-01", "--end", "2025-02-01"], "not in the sample"),
        (["sync", "data", "--fake"], "start: None is needed for the first sync of completions into data"),
        (["sync", "data", "--fake", "--start", "2026-10-01", "--group-by", "modle"], "group_by: 'modle' is not"),
    ],
)
def test_cli__bad_input_is_one_line_and_exit_2_without_a_traceback(tmp_path, argv, message):
    result = run(*argv, cwd=tmp_path)
    assert_one_line_error(result, 1 if "sample" in message else 2, message)
    assert list(tmp_path.iterdir()) == []  # nothing written, no folder left behind


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_cli__no_key_says_which_variable_to_set_not_how_python_passes_one(tmp_path, provider):
    result = run("fetch", "costs", "--provider", provider, cwd=tmp_path)
    env = uf.Client.providers[provider].credentials.env
    assert_one_line_error(result, 2, f"set the {env} environment variable.")
    assert "Client(" not in result.stderr and "api_key" not in result.stderr


def test_cli__report_without_any_key_names_every_providers_variable_and_its_help_says_all(tmp_path):
    """report reads every provider with a key by default: its error and its help say so (they said OpenAI's)."""
    result = run("report", cwd=tmp_path)
    assert_one_line_error(result, 2, "No admin key: report reads every provider whose key is set: OPENAI_ADMIN_KEY")
    assert "ANTHROPIC_ADMIN_KEY" in result.stderr
    assert "(default all;" in " ".join(run("report", "--help", cwd=tmp_path).stdout.split())


def test_cli__api_failure_is_one_line_and_exit_1(secret_key, server, faults, tmp_path):
    env = pinned_env(OPENAI_ADMIN_KEY="sk-legacy-" + secret_key)
    result = run("fetch", "costs", "--base-url", server.url, "--start", "2026-10-01", "--end", "2026-10-02", env=env)
    assert_one_line_error(result, 1, "AuthenticationError: 401")
    assert secret_key not in result.stdout + result.stderr


def test_cli__output_folders_are_created(tmp_path, org):
    out = tmp_path / "sub" / "dir" / "x.csv"
    result = run("fetch", "costs", "--fake", "--start", "2026-10-01", "--end", "2026-10-04", "-o", str(out))
    assert result.returncode == 0, result.stderr
    truth = org.total("costs", "amount", "2026-10-01", "2026-10-04")
    assert pd.read_csv(out)["amount"].sum() == pytest.approx(truth)
    report = run("report", "--sample", "-o", "sub/r.html", cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    assert (tmp_path / "sub" / "r.html").read_text().startswith("<!DOCTYPE html>")


def test_cli__report_accepts_fake_and_sample(tmp_path):
    fake = run("report", "--fake", "--start", "2026-10-01", "--end", "2026-10-15", "-o", "fake.html", cwd=tmp_path)
    assert fake.returncode == 0, fake.stderr
    page = (tmp_path / "fake.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "2026-10-01" in page


def test_cli__sample_is_accepted_where_data_is_read(tmp_path):
    from usage_frames import Client

    fetched = run("fetch", "costs", "--sample", "--start", "2026-10-01", "--end", "2026-10-08", "-o", "c.json",
                  cwd=tmp_path)  # fmt: skip
    assert fetched.returncode == 0, fetched.stderr
    expected = Client.sample().costs("2026-10-01", "2026-10-08")["amount"].sum()
    assert pd.read_json(tmp_path / "c.json")["amount"].sum() == pytest.approx(expected)
    synced = run("sync", "data", "--sample", "--endpoint", "costs", "--start", "2026-09-01", cwd=tmp_path)
    assert synced.returncode == 0, synced.stderr
    assert pd.read_parquet(tmp_path / "data" / "endpoint=costs")["amount"].sum() == pytest.approx(
        Client.sample().costs("2026-09-01")["amount"].sum()
    )


def test_cli__dry_run_needs_no_key(tmp_path):
    result = run("fetch", "completions", "--start", "2026-01-01", "--end", "2026-02-01", "--bucket-width", "1m",
                 "--dry-run", cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "31 request(s) in 31 window(s)" in result.stdout


def test_cli__parquet_without_pyarrow_is_one_line_and_leaves_no_folder(tmp_path):
    code = (
        "import sys; sys.modules['pyarrow'] = None  # as if it were not installed\n"
        "from usage_frames.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    syncing = ["sync", "data", "--sample", "--start", "2026-09-01"]
    for argv in (syncing, ["fetch", "costs", "--sample", "-o", "d/x.parquet"]):
        result = subprocess.run([sys.executable, "-c", code, *argv], stdin=subprocess.DEVNULL, capture_output=True,
                                text=True, cwd=tmp_path)  # fmt: skip
        assert_one_line_error(result, 2, 'pip install "usage-frames[parquet]"')
        assert list(tmp_path.iterdir()) == []


def test_cli__help_and_import_do_not_load_matplotlib():
    code = (
        "import sys, contextlib, io\n"
        "import usage_frames\n"
        "assert 'matplotlib' not in sys.modules, 'import usage_frames loaded matplotlib'\n"
        "from usage_frames.cli import main\n"
        "for argv in (['--help'], ['report', '--help'], ['fetch', '--help']):\n"
        "    with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
        "        main(argv)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib'))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def serve_fake() -> subprocess.Popen[str]:
    return subprocess.Popen(
        [SCRIPT, "serve-fake", "--port", "0"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=pinned_env(),
    )  # fmt: skip


def test_serve_fake__serves_with_stdin_closed_until_sigterm_and_frees_the_port():
    with serve_fake() as process:
        try:
            assert process.stdout is not None and process.stderr is not None
            banner = process.stdout.readline()
            match = re.search(r"http://127\.0\.0\.1:(\d+)/v1", banner)
            assert match, banner
            answer = requests.get(
                match.group(0) + "/organization/costs",
                params={"start_time": 1790812800, "end_time": 1790899200},
                headers={"Authorization": "Bearer sk-admin-fake"},
                timeout=10,
            )
            assert answer.status_code == 200 and answer.json()["object"] == "page"
            assert process.poll() is None  # still serving although stdin is closed
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=10) == 0
            assert "Traceback" not in process.stderr.read()
        finally:
            if process.poll() is None:
                process.kill()
    with socket.socket() as probe:  # the port is free again: a new server can listen on it
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as HTTPServer does (TIME_WAIT is no listener)
        probe.bind(("127.0.0.1", int(match.group(1))))
        probe.listen()


def test_serve_fake__stops_cleanly_on_sigint():
    with serve_fake() as process:
        try:
            assert process.stdout is not None and "fake OpenAI organization on" in process.stdout.readline()
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=10) == 0
        finally:
            if process.poll() is None:
                process.kill()


def test_serve_fake__a_port_in_use_is_one_line_and_exit_1():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = run("serve-fake", "--port", str(taken.getsockname()[1]))
    assert_one_line_error(result, 1, "usage-frames: error: Address already in use")


def test_fetch__an_image_size_outside_the_spec_enum_is_accepted(capsys, org):
    argv = ["fetch", "images", "--fake", "--start", "2026-10-01", "--end", "2026-10-08", "--size", "1536x1024"]
    assert main(argv) == 0
    truth = org.total("images", "images", "2026-10-01", "2026-10-08", size="1536x1024")
    assert f"images={truth:,}" in capsys.readouterr().out


def test_dry_run__warns_about_a_start_beyond_the_one_year_lookback(capsys):
    start = (NOW - pd.Timedelta(days=400)).strftime("%Y-%m-%d")
    assert main(["fetch", "costs", "--fake", "--dry-run", "--start", start]) == 0
    assert "warning: start " + start + " is more than a year back" in capsys.readouterr().out


# --- warnings: one line each, from every subcommand (issue 19) -------------------------------------------------


def test_cli__a_sync_beyond_the_lookback_warns_in_one_line_naming_the_start_asked_and_used(tmp_path):
    result = run("sync", "data", "--fake", "--endpoint", "costs", "--start", "2025-01-01", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == (
        "usage-frames: warning: sync costs: the API keeps one year of data, so the backfill starts at 2025-11-29 "
        "instead of 2025-01-01; months 2025-01 to 2025-10 are left out\n"
    )  # NOW is 2026-11-28 12:00: the API answers from 2025-11-28, a day's margin
    assert result.stdout.startswith("costs: wrote 2025-11, 2025-12, 2026-01,")
    back = pd.read_parquet(tmp_path / "data" / "endpoint=costs")
    assert back.index.min() == pd.Timestamp("2025-11-29", tz="UTC")  # the start named is the start used


def test_cli__sync_keeps_one_layout_per_folder_never_the_same_data_at_two_levels(tmp_path):
    """With and without --provider (even the default one) the same data landed twice in one folder."""
    plain = run("sync", "data", "--sample", "--endpoint", "costs", "--start", "2026-10-01", cwd=tmp_path)
    assert plain.returncode == 0, plain.stderr
    layered = run("sync", "data", "--sample", "--provider", "openai", "--start", "2026-10-01", cwd=tmp_path)
    assert_one_line_error(layered, 2, "data holds a dataset without a provider= level: sync it without --provider")
    assert sorted(p.name for p in (tmp_path / "data").glob("*=*")) == ["endpoint=costs"]
    both = run("sync", "both", "--sample", "--provider", "all", "--start", "2026-10-01", cwd=tmp_path)
    assert both.returncode == 0, both.stderr
    assert sorted(p.name for p in (tmp_path / "both").glob("*=*")) == ["provider=anthropic", "provider=openai"]
    again = run("sync", "both", "--sample", "--endpoint", "costs", "--start", "2026-10-01", cwd=tmp_path)
    assert_one_line_error(again, 2, "both holds a dataset with a provider= level: sync it with --provider")


def test_cli__a_sync_all_beyond_the_lookback_warns_naming_the_months_and_creates_nothing(tmp_path):
    result = run("sync", "data", "--fake", "--start", "2024-01-01", "--end", "2024-06-01", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        f"usage-frames: warning: sync {name}: the API keeps one year of data (from 2025-11-29), so nothing from "
        "2024-01-01 to 2024-06-01 can be fetched; months 2024-01 to 2024-05 are left out"
        for name in ("completions", "costs")
    ]
    assert list(tmp_path.iterdir()) == []  # no dataset folder, no endpoint=costs/ folder


def test_cli__a_warning_of_fetch_is_one_line_without_file_line_or_source(tmp_path):
    result = run("fetch", "images", "--fake", "--start", "2026-10-01", "--end", "2026-10-03", "--size", "9x9")
    assert result.returncode == 0, result.stderr
    assert result.stderr == (
        "usage-frames: warning: sizes: '9x9' is not a value known for images ('256x256', '512x512', '1024x1024', "
        "'1792x1792', '1024x1792', '1536x1024', '1024x1536', '1792x1024'); sent as given, since the API's list is "
        "known to be incomplete\n"
    )


def test_cli__every_subcommand_shows_its_warnings_as_lines_and_python_callers_keep_theirs(capsys):
    def noisy(args: object) -> int:
        warnings.warn("a message\nover two lines", uf.UsageFramesWarning, stacklevel=1)
        warnings.warn("another", UserWarning, stacklevel=1)
        return 0

    shown = warnings.showwarning
    with warnings.catch_warnings():
        warnings.simplefilter("default")  # as outside pytest (which turns warnings into errors)
        assert _run(argparse.Namespace(run=noisy)) == 0
    assert (
        capsys.readouterr().err == "usage-frames: warning: a message over two lines\nusage-frames: warning: another\n"
    )
    assert warnings.showwarning is shown  # restored for the Python API
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        noisy(None)
    assert [w.category for w in caught] == [uf.UsageFramesWarning, UserWarning]
