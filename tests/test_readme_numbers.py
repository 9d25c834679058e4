"""The numbers README.md quotes are the numbers its code prints.

Two kinds of quote are checked against a real run:

* ``print(...)  # <output>`` in a ```python block, where the comment reads as output (it starts
  with a number, a bracket, True/False, or a repr such as ``Value(`` / ``History(``): the line
  that print writes must start with the quoted text (``...`` stands for anything; a ``: why`` or
  `` (note)`` after the quote is prose and is not compared);
* the CLI arithmetic quoted in prose (``dL/dx += ... = -1.5029``) must be a line of what the
  quoted command prints.

Timings are not quoted here: they belong to ``make bench`` and its tables.
"""

from __future__ import annotations

import builtins
import io
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
BLOCKS = [(README.read_text(encoding="utf-8").count("\n", 0, m.start(1)) + 1, m.group(1))
          for m in FENCE.finditer(README.read_text(encoding="utf-8"))]

OUTPUT_LIKE = re.compile(
    r"^(-?\d|\[|\(|True\b|False\b|Value\(|History\(|MLP |loss |layer\d|dot |Found it)")
PRINT_QUOTE = re.compile(r"^\s*print\(.*\)\s+#\s(?P<quote>.+)$")
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e-?\d+)?")


def quoted_output(comment: str):
    """The part of a ``# comment`` after a print that claims to be its output, or None."""
    if not OUTPUT_LIKE.match(comment):
        return None
    text = comment
    cut = text.find(": ")
    if cut > 0:
        text = text[:cut]
    note = text.find(" (", 1)
    if note > 0 and text.endswith(")") and not text.startswith(("(", "History(")):
        text = text[:note]
    return text.rstrip()


def test_quoted_output_reading():
    assert quoted_output("0.7071 -1.5000 1.0000") == "0.7071 -1.5000 1.0000"
    assert quoted_output("5.0: still one backward pass, not two") == "5.0"
    assert quoted_output("-1.5 1.0 (up to rounding)") == "-1.5 1.0"
    assert quoted_output("(0, 3)") == "(0, 3)"
    assert quoted_output("the same: p - onehot(0)") is None
    assert quoted_output("per-layer norms of weights and grads") is None


def _matches(quote: str, printed: str, approximate: bool) -> bool:
    pattern = "".join(".*?" if part in ("...", "…") else re.escape(part)
                      for part in re.split(r"(\.\.\.|…)", quote))
    if re.match(pattern, printed):
        return True
    if approximate:  # "(up to rounding)": the same numbers to the digits shown
        want, got = NUMBER.findall(quote), NUMBER.findall(printed)
        return len(want) <= len(got) and all(
            math.isclose(float(w), float(g), rel_tol=1e-6, abs_tol=1e-9) for w, g in zip(want, got))
    return False


def _checked_blocks():
    out = []
    for line, source in BLOCKS:
        quotes = {}
        for k, text in enumerate(source.splitlines()):
            m = PRINT_QUOTE.match(text)
            if m and quoted_output(m.group("quote")) is not None:
                quotes[line + k] = (quoted_output(m.group("quote")), "rounding" in m.group("quote"))
        if quotes:
            out.append((line, source, quotes))
    return out


CHECKED = _checked_blocks()


def test_some_quotes_are_checked():
    assert sum(len(q) for _, _, q in CHECKED) >= 10, "the README's printed numbers went unchecked"


@pytest.mark.parametrize("block", CHECKED, ids=[f"line{b[0]}" for b in CHECKED])
def test_printed_output_matches_the_quote(block, tmp_path, monkeypatch):
    line, source, quotes = block
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    printed = {}
    real_print = builtins.print

    def recording_print(*args, **kwargs):
        caller = sys._getframe(1)
        if caller.f_code.co_filename == str(README) and "file" not in kwargs:
            buf = io.StringIO()
            real_print(*args, file=buf, **kwargs)
            printed.setdefault(caller.f_lineno, []).append(buf.getvalue().rstrip("\n"))
        else:
            real_print(*args, **kwargs)

    code = compile("\n" * (line - 1) + source, str(README), "exec")
    namespace = {"__name__": "__main__", "print": recording_print}
    try:
        exec(code, namespace)  # noqa: S102 - running the README is the point
    finally:
        plt = sys.modules.get("matplotlib.pyplot")
        if plt is not None:
            plt.close("all")
    for at, (quote, approximate) in quotes.items():
        outputs = printed.get(at)
        assert outputs, f"README.md:{at} quotes {quote!r} but that print never ran"
        assert any(_matches(quote, o, approximate) for o in outputs), (
            f"README.md:{at} quotes {quote!r}; the code printed {outputs!r}")


CLI_QUOTE = re.compile(r"`(dL/d\w+ \+= [^`]+)`")


def test_cli_arithmetic_quoted_in_prose_is_printed():
    text = README.read_text(encoding="utf-8")
    command = re.search(r'^python -m tinygrad_value step\s+"([^"]+)"', text, re.MULTILINE)
    assert command, "README.md no longer shows the step command"
    quotes = CLI_QUOTE.findall(text[command.end():command.end() + 2000])
    assert quotes, "README.md no longer quotes the step command's arithmetic"
    run = subprocess.run([sys.executable, "-m", "tinygrad_value", "step", command.group(1)],
                         capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60,
                         cwd=README.parent)
    assert run.returncode == 0, run.stderr
    lines = [s.strip() for s in run.stdout.splitlines()]
    for quote in quotes:
        assert any(quote in s for s in lines), (
            f"README quotes {quote!r}; step printed:\n{run.stdout}")


SPIRAL_QUOTE = re.compile(r"SGD (\d\.\d{4}), SGD with momentum and decay (\d\.\d{4}), "
                          r"Adagrad (\d\.\d{4}), RMSprop (\d\.\d{4}), Adam (\d\.\d{4})")


# OpenBLAS picks its kernels by CPU (an AVX-512 machine rounds a product differently from an
# AVX2 one), and the momentum and Adam trajectories amplify the last bit: the quoted losses are
# those of its Haswell kernels on one thread, which every x86-64 machine with AVX2 can run.
SAME_BLAS = {"OPENBLAS_CORETYPE": "Haswell", "OPENBLAS_NUM_THREADS": "1"}


def test_spiral_losses_quoted_are_printed(tmp_path):
    text = " ".join(README.read_text(encoding="utf-8").split())
    quoted = SPIRAL_QUOTE.search(text)
    assert quoted, "README.md no longer quotes the spiral demo's five final losses"
    run = subprocess.run([sys.executable, "-m", "demos.spiral", "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=300, cwd=README.parent,
                         env={**os.environ, "MPLBACKEND": "Agg", **SAME_BLAS})
    assert run.returncode == 0, run.stderr
    printed = re.findall(r"loss (\d\.\d{4})", run.stdout)
    assert printed == list(quoted.groups()), (
        f"README quotes {quoted.groups()}; demos.spiral printed:\n{run.stdout}")
