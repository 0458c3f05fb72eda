"""Every public function has a docstring, and every helper and plot an example that runs (as a doctest)."""

from __future__ import annotations

import importlib
import inspect

import pytest

MODULES = [
    "endpoints",
    "params",
    "frames",
    "client",
    "ops",
    "plot",
    "organization",
    "dataset",
    "sample",
    "report",
    "cli",
    "fake",
    "errors",
    "accessor",
    "focus",
    "allocation",
    "budgets",
]
WITH_EXAMPLES = {"ops", "plot", "params", "focus", "allocation"}


def public_functions(name: str):
    module = importlib.import_module(f"usage_frames.{name}")
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
