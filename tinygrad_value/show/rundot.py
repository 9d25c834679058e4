"""Running graphviz's ``dot`` program: one way, with a time limit, for every picture we make.

``render_graph``, the backprop page, the network page and the widget lay out graphs through
``run_dot``, so a missing ``dot``, a failing one and one that hangs read the same everywhere.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

DOT_TIMEOUT = 30.0  # seconds; a graph a person can read lays out in well under one
INSTALL_DOT = ("install graphviz's `dot` program: apt-get install graphviz (Debian/Ubuntu), "
               "brew install graphviz (macOS), or see https://graphviz.org/download/")


class GraphvizNotFound(RuntimeError):
    """graphviz's ``dot`` is missing; ``source`` holds the DOT text, ``dot_path`` its file."""

    def __init__(self, message: str, source: str, dot_path: Path | None) -> None:
        super().__init__(message)
        self.source = source
        self.dot_path = dot_path


class DotError(RuntimeError):
    """``dot`` ran but failed (``stderr`` holds its message) or took longer than the limit."""

    def __init__(self, message: str, stderr: str = "") -> None:
        super().__init__(message)
        self.stderr = stderr


def run_dot(source: str, fmt: str = "svg", timeout: float = DOT_TIMEOUT) -> bytes:
    """``dot -T<fmt>`` on the DOT text ``source``; returns what dot wrote (SVG, PNG or PDF bytes).

    Raises ``GraphvizNotFound`` when ``dot`` is not on PATH and ``DotError`` when it exits with
    an error or runs longer than ``timeout`` seconds (then it is killed).
    """
    if fmt not in ("svg", "png", "pdf"):
        raise ValueError(f"fmt must be 'svg', 'png' or 'pdf', got {fmt!r}")
    exe = shutil.which("dot")
    if exe is None:
        raise GraphvizNotFound(f"cannot render {fmt.upper()}: graphviz's `dot` program is not "
                               f"installed. To get pictures, {INSTALL_DOT}.", source, None)
    try:
        done = subprocess.run([exe, f"-T{fmt}"], input=source.encode("utf-8"),
                              capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise DotError(f"graphviz's dot took longer than {timeout:g} s to lay out this graph; "
                       "draw a smaller graph (or pass a longer timeout)") from None
    if done.returncode != 0:
        err = done.stderr.decode("utf-8", errors="replace").strip()
        raise DotError(f"graphviz's dot failed (exit {done.returncode}): {err[:300]}", err)
    return done.stdout
