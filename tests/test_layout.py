"""The package's shape: no import cycles, no module or class too long to read, every ops helper on ``df.usage``."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pandas as pd
from conftest import NOW

import usage_frames as uf

PACKAGE = Path(uf.__file__).parent
MAX_MODULE_LINES = 500
MAX_CLASS_LINES = 300


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = ["usage_frames", *path.relative_to(PACKAGE).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _module_level_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Imports that run when the module is imported: top level, and inside top-level try/if (not TYPE_CHECKING)."""
    found: list[ast.Import | ast.ImportFrom] = []
    body = list(tree.body)
    while body:
        node = body.pop(0)
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif isinstance(node, ast.If) and "TYPE_CHECKING" not in ast.unparse(node.test):
            body += node.body + node.orelse
        elif isinstance(node, ast.Try):
            body += node.body + node.orelse + node.finalbody + [n for h in node.handlers for n in h.body]
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports at module level (ast only; parent packages left out)."""
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in _module_level_imports(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                base = node.module or ""
                if node.level:  # relative: from the package, up level - 1
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*up, base]).strip(".")
                targets = [base, *[f"{base}.{a.name}" for a in node.names]]
            graph[name] |= {t for t in targets if t in modules and t != name and not name.startswith(t + ".")}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of the graph, as a path that ends where it starts, or ``None``."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_find_cycle__finds_a_planted_cycle_and_accepts_a_tree():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_import_graph__sees_the_client_importing_its_rooms():
    graph = import_graph()
    assert {"usage_frames.transport.send", "usage_frames.paging", "usage_frames.plan"} <= graph["usage_frames.client"]


def test_import_graph__has_no_cycle():
    assert find_cycle(import_graph()) is None


def test_sample_and_fake__do_not_import_the_client_at_module_level():
    graph = import_graph()
    names = [n for n in graph if n == "usage_frames.sample" or n.startswith("usage_frames.fake")]
    assert "usage_frames.fake.organization" in names
    for name in names:
        assert "usage_frames.client" not in graph[name], name


def _compares_costs(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Compare)
        and any(isinstance(op, ast.Eq | ast.NotEq) for op in node.ops)
        and any(isinstance(c, ast.Constant) and c.value == "costs" for c in [node.left, *node.comparators])
    )


def test_per_endpoint_facts__are_table_fields_not_costs_branches():
    """``if name == "costs"`` lives in endpoints.py only; ops checks of what a frame is (``endpoint_of``) may stay."""
    found = []
    for name, path in _modules().items():
        if name == "usage_frames.endpoints":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if _compares_costs(node) and "endpoint_of(" not in ast.unparse(node):
                found.append(f"{name}:{node.lineno}: {ast.unparse(node)}")
    assert not found


def test_only_send__opens_sockets_among_the_client_modules():
    """I/O lives in transport/send.py (and the fake's server): the other rooms of the client import no HTTP."""
    for name in ("paging", "plan", "query", "frames", "endpoints", "transport/retry"):
        source = (PACKAGE / f"{name}.py").read_text()
        assert "import requests" not in source and "import socket" not in source and "urllib3" not in source, name


def test_modules__are_at_most_500_lines():
    lines = {name: len(path.read_text().splitlines()) for name, path in _modules().items()}
    long = {name: n for name, n in lines.items() if n > MAX_MODULE_LINES}
    assert not long, long


def test_classes__are_at_most_300_lines():
    long = []
    for name, path in _modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and node.end_lineno - node.lineno + 1 > MAX_CLASS_LINES:
                long.append(f"{name}.{node.name}: {node.end_lineno - node.lineno + 1} lines")
    assert not long


# What a frame is, not a helper that makes a new one: these stay functions of ops only.
INTROSPECTION = {"endpoint_of", "keys_of"}


def test_accessor__offers_every_public_helper_of_ops():
    from usage_frames import ops
    from usage_frames.accessor import UsageAccessor

    helpers = set()
    for name in [n for n in dir(ops) if not n.startswith("_")] + list(ops._FINOPS):
        function = getattr(ops, name)
        if not inspect.isfunction(function) or name in INTROSPECTION:
            continue
        first = next(iter(inspect.signature(function).parameters.values()), None)
        if first is not None and "DataFrame" in str(first.annotation):
            helpers.add(name)
    assert "daily_spend" in helpers and "to_focus" in helpers
    assert helpers - set(dir(UsageAccessor)) == set()


def test_accessor__daily_spend_is_ops_daily_spend():
    costs = uf.Client.fake(now=NOW).costs("2026-10-01", "2026-10-08")
    pd.testing.assert_series_equal(costs.usage.daily_spend(), uf.ops.daily_spend(costs))


def test_old_module_names__still_work_in_a_fresh_interpreter():
    """The names moved by the split stay importable, without relying on another test having imported them first."""
    import subprocess
    import sys

    code = (
        "import usage_frames as uf; uf.params.build_query; uf.organization.projects; "
        "from usage_frames.client import Client, retry_delay, should_retry, cached_session, status_error, deadline; "
        "from usage_frames.ops import to_focus, allocate, check_budgets; "
        "from usage_frames.frames import to_frame, decode_page; from usage_frames.fake import FakeServer; print('ok')"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "ok", done.stderr
