"""Every public function has a docstring, every helper and plot an example that runs (as a doctest), and every
``>>>`` example of README.md runs and prints what the README shows."""

from __future__ import annotations

import doctest
import importlib
import inspect
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import pinned_env

PACKAGE = Path(__file__).resolve().parent.parent / "usage_frames"
# Every module of the package, found on disk (a new module is checked without a line here).
MODULES = sorted(
    ".".join(path.relative_to(PACKAGE).with_suffix("").parts).removesuffix(".__init__").removesuffix("__init__")
    for path in PACKAGE.rglob("*.py")
    if path.name != "__main__.py"
)
WITH_EXAMPLES = {"ops", "plot", "_core.query", "focus", "allocation"}


def public_functions(name: str):
    module = importlib.import_module(f"usage_frames.{name}".rstrip("."))
    for attr, value in vars(module).items():
        if not attr.startswith("_") and inspect.isfunction(value) and value.__module__ == module.__name__:
            yield attr, value


@pytest.mark.parametrize("name", MODULES)
def test_docs__every_public_function_is_documented(name):
    missing = [attr for attr, fn in public_functions(name) if not (fn.__doc__ or "").strip()]
    assert missing == []


@pytest.mark.parametrize("name", sorted(WITH_EXAMPLES))
def test_docs__helpers_and_plots_have_a_runnable_example(name):
    missing = [attr for attr, fn in public_functions(name) if ">>> " not in (fn.__doc__ or "")]
    assert missing == []


README = Path(__file__).resolve().parent.parent / "README.md"


def readme_examples() -> list[tuple[int, str]]:
    """Every fenced python block of README.md that holds ``>>>`` examples, with its first line number."""
    text = README.read_text()
    blocks = re.finditer(r"^```python\n(.*?)^```", text, flags=re.S | re.M)
    return [(text[: m.start()].count("\n") + 2, m.group(1)) for m in blocks if ">>>" in m.group(1)]


def run_readme_example(lineno: int, source: str) -> str:
    """Run one README block as a doctest in fresh globals (blocks are self-contained); the failure report or ""."""
    test = doctest.DocTestParser().get_doctest(source, {}, f"README.md:{lineno}", str(README), lineno - 1)
    report = io.StringIO()
    doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE).run(test, out=report.write)
    return report.getvalue()


def test_readme__has_examples_to_run():
    assert len(readme_examples()) >= 2


@pytest.mark.parametrize(("lineno", "source"), readme_examples(), ids=lambda v: str(v) if isinstance(v, int) else "")
def test_readme__every_example_runs_and_prints_what_the_readme_shows(lineno, source):
    assert run_readme_example(lineno, source) == ""


def test_readme__examples_do_not_depend_on_the_machine_time_zone():
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import test_docs\n"
        "print(''.join(test_docs.run_readme_example(n, s) for n, s in test_docs.readme_examples()) or 'ok')\n"
    )
    for zone in ("Pacific/Kiritimati", "America/Adak"):  # UTC+14 and UTC-10: another calendar day than UTC
        env = pinned_env(TZ=zone)  # and the suite's clock, as in this process
        result = subprocess.run([sys.executable, "-c", code, str(Path(__file__).parent)], env=env,
                                capture_output=True, text=True, check=True)  # fmt: skip
        assert result.stdout.strip() == "ok", result.stdout


def test_readme__quick_start_test_command_is_what_ci_runs():
    block = README.read_text().split("## Quick start", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    commands = [line for line in block.splitlines() if line and not line.startswith("#")]
    ci = (README.parent / ".ci" / "run").read_text().splitlines()
    assert len(commands) == 2 and "report --sample" in commands[0]
    assert commands[1] == ci[-1] and "pytest" in ci[-1]
