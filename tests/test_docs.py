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
# The helpers users call on frames, the plots and the FinOps outputs: each public function shows itself at work.
# (analysis/frame.py is the helpers' own plumbing, not a helper.)
WITH_EXAMPLES = {"ops", "plot", "_core.query",
                 *(m for m in MODULES if m.startswith(("analysis.", "finops.")) and m != "analysis.frame")}  # fmt: skip


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


FAKE_TRAFFIC = "# the fake's traffic"
"""The comment on a doctest line whose output is a figure of the fake's traffic (it changes if the traffic does)."""
MOST_TRAFFIC_EXAMPLES = 12  # the fakes' own modules, and Client.fake


def _failing_doctests() -> set[str]:
    """The names of the package's doctests that fail, each run in fresh globals as pytest runs them."""
    import matplotlib.pyplot as plt

    failing = set()
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    for name in MODULES:
        module = importlib.import_module(f"usage_frames.{name}".rstrip("."))
        for test in doctest.DocTestFinder().find(module):
            runner = doctest.DocTestRunner(optionflags=flags)
            if test.examples and runner.run(test, out=lambda _: None).failed:
                failing.add(test.name)
            plt.close("all")  # as after every test of the suite: an example's figures are its own
    return failing


def test_docs__the_examples_that_print_the_fakes_traffic_are_few_and_say_so(monkeypatch):
    """Docstring examples show what users see, mostly on the recorded sample; the few that print a figure of the
    fake's traffic carry ``# the fake's traffic`` on that line. Found by changing the traffic (its noise) and
    running every example: exactly the marked ones change."""
    import usage_frames.fake.traffic as traffic

    before = _failing_doctests()
    noise = traffic._uniform
    monkeypatch.setattr(traffic, "_uniform", lambda seed, values: noise(seed + 7, values))
    changed = _failing_doctests() - before
    marked = {
        test.name
        for name in MODULES
        for test in doctest.DocTestFinder().find(importlib.import_module(f"usage_frames.{name}".rstrip(".")))
        if any(FAKE_TRAFFIC in example.source for example in test.examples)
    }
    assert changed, "the fake's noise no longer changes any example: the check sees nothing"
    unmarked = sorted(changed - marked)
    assert not unmarked, f"these print the fake's traffic: mark the line {FAKE_TRAFFIC!r}: {unmarked}"
    assert not marked - changed, f"marked, yet they print nothing of the fake's traffic: {sorted(marked - changed)}"
    assert len(marked) <= MOST_TRAFFIC_EXAMPLES
