"""The installed product: the sdist and the wheel built from it carry the sample data, and the wheel, installed
into a fresh virtual environment without extras, runs the README's main job from an empty folder, offline."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_FILES = sorted(p.name for p in (ROOT / "sample_data" / "http").glob("*.json"))
ANTHROPIC_FILES = sorted(p.name for p in (ROOT / "sample_data" / "anthropic" / "http").glob("*.json"))


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """`python -m build` (the sdist, then the wheel from it) and a fresh venv with the wheel: (dist, venv)."""
    work = tmp_path_factory.mktemp("wheel")
    dist, venv = work / "dist", work / "venv"
    # Offline: the build backend comes from this environment, and the fresh venv installs the wheel alone; its
    # dependencies (without pyarrow) are seen through a .pth file instead of being fetched from a package index.
    run_ok([sys.executable, "-m", "build", "-q", "--no-isolation", "--outdir", dist, ROOT])
    run_ok([sys.executable, "-m", "venv", venv])
    run_ok([venv / "bin" / "pip", "install", "-q", "--no-input", "--no-index", "--no-deps", next(dist.glob("*.whl"))])
    # What this environment has installed stands in for the index, less this project and pyarrow (the extra).
    here = Path(sysconfig.get_paths()["purelib"])
    deps = tmp_path_factory.mktemp("deps")
    for found in here.iterdir():
        if not found.name.lower().startswith(("usage_frames", "usage-frames", "_usage_frames", "pyarrow", "__")):
            (deps / found.name).symlink_to(found)
    site = Path(sysconfig.get_paths(vars={"base": str(venv), "platbase": str(venv)})["purelib"])
    (site / "test_dependencies.pth").write_text(f"{deps}\n")
    return dist, venv


def run_ok(argv: list[object]) -> None:
    done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    assert done.returncode == 0, f"{argv} failed: {done.stderr[-2000:]}"


def offline_env(home: Path) -> dict[str, str]:
    """No key, no sample override, a fresh home, and proxies that go nowhere: any request off this machine fails."""
    unset = ("OPENAI_", "ANTHROPIC_", "USAGE_FRAMES_", "PYTHON")
    env = {k: v for k, v in os.environ.items() if not k.startswith(unset)}
    dead = "http://127.0.0.1:9"
    return {**env, "HOME": str(home), "HTTP_PROXY": dead, "HTTPS_PROXY": dead, "http_proxy": dead, "https_proxy": dead}


def test_sdist_and_wheel__ship_the_sample_data(installed):
    dist, _ = installed
    with tarfile.open(next(dist.glob("*.tar.gz"))) as sdist:
        in_sdist = sorted(Path(n).name for n in sdist.getnames() if "/sample_data/http/" in n and n.endswith(".json"))
    with zipfile.ZipFile(next(dist.glob("*.whl"))) as wheel:
        names = wheel.namelist()
    in_wheel = sorted(Path(n).name for n in names if n.startswith("usage_frames/sample_data/http/"))
    assert in_sdist == SAMPLE_FILES and in_wheel == SAMPLE_FILES
    with tarfile.open(next(dist.glob("*.tar.gz"))) as sdist:
        anthropic_sdist = sorted(Path(n).name for n in sdist.getnames() if "/sample_data/anthropic/http/" in n)
    anthropic_wheel = sorted(Path(n).name for n in names if n.startswith("usage_frames/sample_data/anthropic/http/"))
    assert len(ANTHROPIC_FILES) > 20 and anthropic_sdist == ANTHROPIC_FILES and anthropic_wheel == ANTHROPIC_FILES
    assert "usage_frames/py.typed" in names and not any(n.endswith(".sqlite") for n in names)


def test_wheel__runs_the_main_job_from_an_empty_folder_offline(installed, tmp_path):
    _, venv = installed
    empty = tmp_path / "empty"
    empty.mkdir()
    env = offline_env(tmp_path / "home")
    result = subprocess.run([venv / "bin" / "usage-frames", "report", "--sample", "-o", "report.html"], cwd=empty,
                            env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert [p.name for p in empty.iterdir()] == ["report.html"]
    page = (empty / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "<img" in page and "proj_chat" in page
    code = "from usage_frames.providers.openai.sample import sample_dir; print(sample_dir())"
    where = subprocess.run([venv / "bin" / "python", "-c", code], env=env, cwd=empty, capture_output=True, text=True,
                           check=True).stdout.strip()  # fmt: skip
    assert where.startswith(str(venv)) and where.endswith("usage_frames/sample_data")
    assert sorted(p.name for p in (Path(where) / "http").iterdir()) == SAMPLE_FILES  # read, never written to


def test_wheel__answers_anthropic_from_its_installed_sample_offline(installed, tmp_path):
    _, venv = installed
    code = (
        "import usage_frames as uf; from usage_frames.providers.anthropic.sample import sample_dir; "
        "c = uf.Client.sample(provider='anthropic'); "
        "print(sample_dir()); print(round(float(c.costs('2026-10-01', '2026-10-02')['amount'].sum()), 2))"
    )
    done = subprocess.run([venv / "bin" / "python", "-c", code], env=offline_env(tmp_path / "home"), cwd=tmp_path,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    where, dollars = done.stdout.split()
    assert where.startswith(str(venv)) and where.endswith("usage_frames/sample_data/anthropic")
    assert sorted(p.name for p in (Path(where) / "http").iterdir()) == ANTHROPIC_FILES  # read, never written to
    assert dollars == "205.59"


def test_wheel__parquet_without_the_extra_is_one_line_naming_it(installed, tmp_path):
    _, venv = installed
    result = subprocess.run([venv / "bin" / "usage-frames", "sync", "data", "--sample", "--start", "2026-09-01"],
                            cwd=tmp_path, env=offline_env(tmp_path / "home"), stdin=subprocess.DEVNULL,
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    assert result.returncode == 2
    assert result.stderr == 'usage-frames: error: Parquet needs pyarrow: pip install "usage-frames[parquet]"\n'
    assert not (tmp_path / "data").exists()
