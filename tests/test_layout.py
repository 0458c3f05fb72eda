"""The package's shape: no import cycle (imports inside functions included), no shim, no private name imported
across modules, no module-level ``__getattr__`` but the package's own (``uf.plot``), no provider named outside its
folder, no module or class too long to read, every ops helper on ``df.usage``."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pandas as pd
from conftest import NOW

import usage_frames as uf

PACKAGE = Path(uf.__file__).parent
MAX_MODULE_LINES = 500
MAX_CLASS_LINES = 300
# The namespaces users import from: they re-export on purpose (and say so), every other module defines what it offers.
NAMESPACES = {"usage_frames", "usage_frames.ops", "usage_frames.fake", "usage_frames.providers"}


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = ["usage_frames", *path.relative_to(PACKAGE).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _imported(node: ast.AST, package: str) -> list[str]:
    """The modules an import statement (or a literal ``importlib.import_module("x")``) names."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:  # relative: from the package, up level - 1
            up = package.split(".")[: len(package.split(".")) - node.level + 1]
            base = ".".join([*up, base]).strip(".")
        return [base, *[f"{base}.{a.name}" for a in node.names]]
    if (
        isinstance(node, ast.Call)
        and ast.unparse(node.func).endswith("import_module")
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ):
        return [node.args[0].value]
    return []


def import_graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports anywhere: module level, inside functions, under TYPE_CHECKING.

    Parent packages are left out (importing ``a.b`` runs ``a/__init__``, which is not a dependency of ``a.b``'s
    code); a package that imports its own submodule is an edge like any other.
    """
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text())):
            targets = _imported(node, package)
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


def test_import_graph__sees_imports_inside_functions_and_through_importlib():
    code = "def f():\n    from usage_frames.plot import spend\n    importlib.import_module('usage_frames.ops')"
    tree = ast.parse(code)
    found = [t for node in ast.walk(tree) for t in _imported(node, "usage_frames")]
    assert "usage_frames.plot" in found and "usage_frames.ops" in found


def test_import_graph__sees_the_client_importing_its_rooms():
    graph = import_graph()
    rooms = {"usage_frames._transport.send", "usage_frames._core.paging", "usage_frames._core.plan"}
    assert rooms <= graph["usage_frames._core.client"]


def test_import_graph__has_no_cycle_even_through_imports_inside_functions():
    assert find_cycle(import_graph()) is None


def test_core__imports_no_provider_and_no_helper():
    """One direction: providers build on the core; the core knows no provider, helper or output."""
    graph = import_graph()
    for name, targets in graph.items():
        if name.startswith(("usage_frames._core", "usage_frames._transport")):
            upward = {t for t in targets if not t.startswith(("usage_frames._core", "usage_frames._transport"))}
            assert not upward, (name, upward)


def _private_imports(tree: ast.Module) -> list[str]:
    return [
        f"from {node.module} import {alias.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("usage_frames")
        for alias in node.names
        if alias.name.startswith("_") and not alias.name.startswith("__")
    ]


def test_modules__import_no_private_name_of_another_module():
    found = {name: bad for name, path in _modules().items() if (bad := _private_imports(ast.parse(path.read_text())))}
    assert not found


def test_modules__have_no_module_level_getattr_but_the_package_plot():
    found = [
        name
        for name, path in _modules().items()
        for node in ast.parse(path.read_text()).body
        if isinstance(node, ast.FunctionDef) and node.name == "__getattr__" and name != "usage_frames"
    ]
    assert not found


def test_modules__are_no_shims():
    """No module exists only to keep an old import path working: it re-exports and defines nothing."""
    shims = []
    for name, path in _modules().items():
        tree = ast.parse(path.read_text())
        doc = (ast.get_docstring(tree) or "").lower()
        defines = any(not isinstance(n, ast.Import | ast.ImportFrom | ast.Expr | ast.If) and not _is_all(n)
                      for n in tree.body)  # fmt: skip
        reexports = any(isinstance(n, ast.ImportFrom) for n in tree.body)
        runs = name.endswith(".__main__")  # ``python -m``: it runs its package's entry point
        if "old name" in doc or "kept so that" in doc or (reexports and not defines and name not in NAMESPACES | {""}
                                                          and not runs):
            shims.append(name)
    assert not shims


def _is_all(node: ast.stmt) -> bool:
    return isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "__all__" for t in node.targets)


# A provider's name, or its key prefixes: model names in examples' output are data, not facts of a provider.
PROVIDER_NAMES = re.compile(r"openai|anthropic|sk-admin|sk-ant", re.IGNORECASE)


def test_providers__are_named_only_in_their_folders():
    """Outside ``providers/`` no code names a provider: no import, name, attribute or string the code runs with
    (docstrings and comments may: their examples show users how to ask for one). The package's public API is the
    exception: it is where the default provider's functions are imported."""
    found = []
    for name, path in _modules().items():
        if name.startswith("usage_frames.providers") or name == "usage_frames":
            continue
        for number, text in _code_words(ast.parse(path.read_text())):
            if PROVIDER_NAMES.search(text):
                found.append(f"{name}:{number}: {text[:100]}")
    assert not found, "\n".join(found[:40])


def _code_words(tree: ast.Module) -> list[tuple[int, str]]:
    """Every imported module, name, attribute and string constant of a module's code, docstrings left out."""
    docstrings = {  # a string standing alone: a module's, class's, function's or attribute's docstring
        id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    words: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            words.append((node.lineno, f"{node.module} {' '.join(a.name for a in node.names)}"))
        elif isinstance(node, ast.Import):
            words.append((node.lineno, " ".join(a.name for a in node.names)))
        elif isinstance(node, ast.Name):
            words.append((node.lineno, node.id))
        elif isinstance(node, ast.Attribute):
            words.append((node.lineno, node.attr))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            words.append((node.lineno, node.value))
    return words


def test_code_words__see_code_and_leave_docstrings_out():
    tree = ast.parse('"""Ask uf.Client(provider=\'anthropic\')."""\nimport openai\nX = "sk-admin-"  # anthropic\n')
    assert [w for _, w in _code_words(tree)] == ["openai", "X", "sk-admin-"]


def test_only_send__opens_sockets_among_the_core_modules():
    """I/O lives in _transport/send.py (and the fake's server): the other rooms of the core import no HTTP."""
    for name in ("_core/paging", "_core/plan", "_core/query", "_core/frames", "_core/pages", "_core/schema",
                 "_core/provider", "_transport/retry"):  # fmt: skip
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


def _compares_costs(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Compare)
        and any(isinstance(op, ast.Eq | ast.NotEq) for op in node.ops)
        and any(isinstance(c, ast.Constant) and c.value == "costs" for c in [node.left, *node.comparators])
    )


def test_per_endpoint_facts__are_table_fields_not_costs_branches():
    """No ``if name == "costs"`` anywhere: what differs per endpoint is a field of its row."""
    found = []
    for name, path in _modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if _compares_costs(node) and "endpoint_of(" not in ast.unparse(node):
                found.append(f"{name}:{node.lineno}: {ast.unparse(node)}")
    assert not found


# What a frame is, not a helper that makes a new one: these stay functions of ops only.
INTROSPECTION = {"endpoint_of", "keys_of", "provider_of"}


def test_accessor__offers_every_public_helper_of_ops():
    from usage_frames import ops
    from usage_frames.accessor import UsageAccessor

    helpers = set()
    for name in ops.__all__:
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
