"""Every ```python block of docs/nnfs.md runs, each in its own process (the book's listings call
nnfs.init(), which patches NumPy for the whole process), with a temporary working directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import need_module
from test_readme import python_blocks

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "nnfs.md"
BLOCKS = python_blocks(DOC.read_text(encoding="utf-8")) if DOC.exists() else []


def test_the_page_has_blocks_for_the_chapters():
    text = DOC.read_text(encoding="utf-8")
    assert len(BLOCKS) >= 8
    for chapter in ("Chapters 2-3", "Chapter 4", "Chapter 5", "Chapters 6-9", "Chapter 10",
                    "Chapters 14-15", "Chapters 16-17", "Chapters 18-22"):
        assert f"## {chapter}" in text


@pytest.mark.parametrize("block", BLOCKS, ids=[f"line{line}" for line, _ in BLOCKS])
def test_doc_block_runs(block, tmp_path):
    need_module("nnfs", "REQUIRE_DEMO_DEPS")
    line, source = block
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
    code = "\n" * (line - 1) + source  # tracebacks name the page's own line numbers
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, f"docs/nnfs.md block at line {line} failed:\n{done.stderr}"
