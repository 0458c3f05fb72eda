"""Regenerate ``usage-openapi-excerpt.json`` from a copy of the official OpenAPI spec.

Usage: ``python tests/providers/openai/spec/vendor.py PATH/TO/openapi.yaml`` (needs PyYAML). The excerpt keeps
the Usage and Costs paths, the schemas they reference and the 429 response, so the tests never read anything
outside the repo.
Source: openai/openai-openapi ``openapi.yaml`` @ f85dbe223d40e1a31cba812ab2d755c7e98a92a3 (2.3.0, 2026-08-21).
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).parent


def refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"].rsplit("/", 1)[-1]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(refs(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(refs(v) for v in node))
    return set()


def main(source: str) -> None:
    raw = Path(source).read_bytes()
    spec = yaml.safe_load(raw)
    paths = {
        p: v for p, v in spec["paths"].items() if p.startswith("/organization/usage/") or p == "/organization/costs"
    }
    schemas: dict[str, Any] = {}
    todo = refs(paths) | {"ErrorResponse"}
    while todo:
        name = todo.pop()
        if name in schemas or name not in spec["components"]["schemas"]:
            continue
        schemas[name] = spec["components"]["schemas"][name]
        todo |= refs(schemas[name])
    excerpt = {
        "source": {
            "repository": "openai/openai-openapi",
            "file": "openapi.yaml",
            "commit": "f85dbe223d40e1a31cba812ab2d755c7e98a92a3",
            "version": spec["info"]["version"],
            "sha256": hashlib.sha256(raw).hexdigest(),
        },
        "paths": paths,
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "responses": {"TooManyRequests": spec["components"]["responses"]["TooManyRequests"]},
        },
    }
    (HERE / "usage-openapi-excerpt.json").write_text(json.dumps(excerpt, indent=1, sort_keys=False) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
