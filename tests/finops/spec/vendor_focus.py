"""Re-extract tests/finops/spec/focus-columns.json from a clone of the FOCUS specification's sources.

Usage: python tests/finops/spec/vendor_focus.py PATH_TO_A_CLONE_OF_FinOps-Open-Cost-and-Usage-Spec/FOCUS_Spec
"""

import json
import re
import subprocess
import sys
from pathlib import Path

repo = sys.argv[1] if __name__ == "__main__" else ""
ABOUT = (
    "FOCUS column requirements, extracted from the FinOps Foundation's specification sources: per column its feature "
    "level, nullability, data type and allowed values. Custom columns: 'Custom columns MUST be prefixed with a "
    "consistent x_ prefix' (v1.2 specification/attributes/column_handling.md; v1.0 column_naming_and_ordering.md "
    "says the same)."
)
ALLOWED = re.compile(r"Allowed [vV]alues:")


def extract(tag):
    commit = subprocess.run(
        ["git", "-C", repo, "rev-parse", tag + "^{commit}"], capture_output=True, text=True
    ).stdout.strip()
    files = subprocess.run(
        ["git", "-C", repo, "ls-tree", "--name-only", tag, "specification/columns/"], capture_output=True, text=True
    ).stdout.split()
    cols = {}
    for f in files:
        if not f.endswith(".md"):
            continue
        text = subprocess.run(["git", "-C", repo, "show", f"{tag}:{f}"], capture_output=True, text=True).stdout
        m = re.search(r"## Column ID\s+(\S+)", text)
        if not m:
            continue
        sec = re.split(r"## Content [Cc]onstraints", text)[1].split("## Introduced")[0]
        head, rest = [*ALLOWED.split(sec, maxsplit=1), ""][:2]
        cons = {}
        for line in head.splitlines():
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) == 2 and cells[0] and not re.match(r"^[:\-]", cells[0]) and cells[0] != "Constraint":
                cons[cells[0].lower()] = cells[1]
        allowed = []
        rows = [row for row in rest.split("\n\n#")[0].splitlines() if row.strip().startswith("|")]
        col = 1 if m.group(1) == "ServiceSubcategory" else 0
        for line in rows[1:]:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if re.match(r"^[:\-]+$", cells[0]):
                continue
            allowed.append(cells[col])
        entry = {
            "feature_level": cons.get("feature level") or cons.get("column required"),
            "allows_nulls": cons["allows nulls"] == "True",
            "data_type": cons["data type"],
        }
        if allowed:
            entry["allowed_values"] = allowed
        cols[m.group(1)] = entry
    return {
        "source": f"FinOps-Open-Cost-and-Usage-Spec/FOCUS_Spec, tag v{tag.lstrip('v')} (commit {commit}), "
        "specification/columns/*.md: the 'Content Constraints' and 'Allowed values' tables",
        "columns": dict(sorted(cols.items())),
    }


def main() -> None:
    out = {
        "about": ABOUT,
        "1.2": extract("v1.2"),
        "1.0": extract("v1.0"),
    }
    (Path(__file__).parent / "focus-columns.json").write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
