"""Every ```python block of README.md runs, each in a fresh namespace, so the README cannot rot."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


def python_blocks(text: str) -> list[tuple[int, str]]:
    """(line number of the first code line, source) for every ```python fenced block."""
    return [(text.count("\n", 0, m.start(1)) + 1, m.group(1)) for m in FENCE.finditer(text)]


BLOCKS = python_blocks(README.read_text(encoding="utf-8")) if README.exists() else []


def _block_id(block: tuple[int, str]) -> str:
    line, source = block
    first = next((s.strip() for s in source.splitlines() if s.strip()), "")
    return f"line{line}:{first[:40]}"


def test_readme_has_python_blocks():
    assert README.exists(), "README.md is missing"
    assert BLOCKS, "README.md has no ```python blocks; the snippet test would check nothing"


def test_block_extraction_finds_fenced_python_only():
    text = "intro\n```python\na = 1\n```\n```sh\nmake demo\n```\n```python\nb = 2\nc = 3\n```\n"
    assert python_blocks(text) == [(3, "a = 1\n"), (9, "b = 2\nc = 3\n")]


@pytest.mark.parametrize("block", BLOCKS, ids=[_block_id(b) for b in BLOCKS])
def test_readme_block_runs(block, tmp_path, monkeypatch):
    """Run one block as a script would, with the working directory a temporary folder so any
    file it writes lands there; a failing block's traceback names README.md and its line."""
    line, source = block
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    # pad with newlines so tracebacks report README.md's own line numbers
    code = compile("\n" * (line - 1) + source, str(README), "exec")
    namespace = {"__name__": "__main__"}
    try:
        exec(code, namespace)  # noqa: S102 - running the README is the point
    finally:
        plt = sys.modules.get("matplotlib.pyplot")
        if plt is not None:
            plt.close("all")
