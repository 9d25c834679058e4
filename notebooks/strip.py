"""Strip the course's notebooks for git: outputs, execution counts and saved widget state.

    python notebooks/strip.py            # every notebooks/*.ipynb, in place
    python notebooks/strip.py a.ipynb    # just these

Uses only the standard library (an .ipynb is JSON), and keeps nbformat's layout: one-space
indent, a trailing newline, non-ASCII text as is.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def strip(nb: dict) -> bool:
    """Clear every code cell's outputs and count, drop widget state; True if anything changed."""
    changed = nb.get("metadata", {}).pop("widgets", None) is not None
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        if cell.get("outputs") or cell.get("execution_count") is not None:
            changed = True
        cell["outputs"], cell["execution_count"] = [], None
        for key in ("execution", "collapsed", "scrolled"):
            changed |= cell.get("metadata", {}).pop(key, None) is not None
    return changed


def strip_file(path: Path) -> bool:
    nb = json.loads(path.read_text(encoding="utf-8"))
    if not strip(nb):
        return False
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return True


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv] or sorted(Path(__file__).parent.glob("*.ipynb"))
    for path in paths:
        if strip_file(path):
            print(f"stripped {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
