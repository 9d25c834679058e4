"""``python -m tinygrad_value``: the terminal stepper, graph and page commands, and bad input."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time

import pytest
from conftest import need_dot

EXAMPLE = "x=2.0; w=-3.0; b=6.8813735870195432; n=x*w+b; o=n.tanh()"


def run(*args, cwd=None, timeout=30):
    return subprocess.run([sys.executable, "-m", "tinygrad_value", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=timeout)


def test_step_prints_nodes_then_forward_then_backward_arithmetic():
    r = run("step", EXAMPLE)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "The graph (6 values; L = o):" in out
    assert "n1  *(x, w) = -6.0000" in out
    fwd = out.index("n1 = x * w = 2.0000 * -3.0000 = -6.0000")
    seed = out.index("dL/do = 1")
    back = out.index("dL/dx += dL/dn1 · ∂n1/∂x = 0.5000 · -3.0000 = -1.5000")
    assert out.index("o = tanh(n) = tanh(0.8814) = 0.7071") < seed
    assert fwd < seed < back
    assert "dL/dn += dL/do · ∂o/∂n = 1.0000 · 0.5000 = 0.5000" in out
    assert "dL/dw = 1.0000" in out  # the summary at the end
    assert r.stderr == ""


def test_step_decimals_option():
    r = run("step", "x=1.0; y=x/3", "--decimals", "2")
    assert r.returncode == 0
    assert "y = x / 3 = 1.00 / 3.00 = 0.33" in r.stdout
    assert "3  const  = 3.00" in r.stdout


HOSTILE = ["__import__('os').system('echo hi')", "x=1; x.__class__", "open('f')",
           "x=1; y=x.__class__.__mro__", "exec('print(1)')", "x='hi'", "x=1 +", "",
           "x=1; y=log(x-1)"]


@pytest.mark.parametrize("expr", HOSTILE)
@pytest.mark.parametrize("command", ["step", "graph", "html"])
def test_bad_expressions_exit_2_with_a_message_and_no_traceback(expr, command, tmp_path):
    r = run(command, expr, cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.startswith("error: ")
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout
    assert "hi" not in r.stdout
    assert list(tmp_path.iterdir()) == []  # nothing written, nothing run


def test_error_shows_where():
    r = run("step", "x=1; y=x.__class__")
    assert r.returncode == 2
    assert "x=1; y=x.__class__" in r.stderr and "^^^" in r.stderr


def test_usage_errors_exit_2():
    assert run().returncode == 2
    assert run("frobnicate", "x=1").returncode == 2
    assert run("graph", "x=1", "-o", "g.jpeg").returncode == 2


def test_graph_writes_svg(tmp_path):
    need_dot()
    r = run("graph", "x=2.0; y=x*x+x", "-o", "out/g.svg", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    svg = (tmp_path / "out" / "g.svg").read_text()
    assert "<svg" in svg and "data 6.0000" in svg and "grad 5.0000" in svg


def test_html_writes_the_page(tmp_path):
    need_dot()
    r = run("html", EXAMPLE, "-o", "page.html", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    text = (tmp_path / "page.html").read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and 'id="tv-data"' in text
    assert "x=2.0; w=-3.0" in text  # the expression is shown on the page


def test_graph_without_dot_explains_and_writes_dot(tmp_path):
    env = dict(os.environ, PATH=str(tmp_path / "no-bin"))
    r = subprocess.run([sys.executable, "-m", "tinygrad_value", "graph", "x=2.0; y=x*x",
                        "-o", "g.svg"], capture_output=True, text=True, cwd=tmp_path, env=env,
                       timeout=30)
    assert r.returncode == 1
    assert "apt-get install graphviz" in r.stderr and "Traceback" not in r.stderr
    assert (tmp_path / "g.dot").read_text().startswith("digraph")


def test_interactive_in_a_terminal_enter_back_quit():
    """With stdin and stdout a terminal, the stepper waits: Enter = next, b = back, q = quit."""
    pty = pytest.importorskip("pty")
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "tinygrad_value", "step", "x=3.0; y=x*x"],
                            stdin=slave, stdout=slave, stderr=subprocess.PIPE, close_fds=True)
    os.close(slave)
    buf = b""

    def read_until(token: bytes, count: int = 1, timeout: float = 15.0) -> None:
        nonlocal buf
        end = time.time() + timeout
        while buf.count(token) < count:
            left = end - time.time()
            assert left > 0, f"timed out waiting for {token!r}; got {buf[-400:]!r}"
            ready, _, _ = select.select([master], [], [], left)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # the child closed the terminal
                    chunk = b""
                assert chunk, f"the stepper exited early; got {buf[-400:]!r}"
                buf += chunk

    try:
        read_until(b"(1/")  # the first prompt: only the first frame shown so far
        assert b"y = x * x" not in buf
        os.write(master, b"\n")
        read_until(b"(2/")
        assert b"y = x * x = 3.0000 * 3.0000 = 9.0000" in buf
        os.write(master, b"b\n")
        read_until(b"(1/", count=2)  # back to the first frame
        mark = len(buf)
        os.write(master, b"q\n")
        assert proc.wait(timeout=15) == 0
        assert b"dL/dx +=" not in buf[mark:] and b"dL/dx +=" not in buf  # quit before backward
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)


HUGE = ["x=1" + "0" * 400, "x=0x" + "f" * 300, "x=2.0; y=x*1" + "0" * 400]


@pytest.mark.parametrize("expr", HUGE, ids=["decimal", "hex", "in-expression"])
def test_huge_integer_literals_are_a_clear_error(expr):
    r = run("step", expr)
    assert r.returncode == 2
    assert r.stderr.startswith("error: this number (") and "too large" in r.stderr
    assert "OverflowError" not in r.stderr and "Traceback" not in r.stderr


def test_python_syntax_warnings_do_not_leak_into_the_output():
    r = run("step", "x=1; y=1if x else 2")
    assert r.returncode == 2
    assert "SyntaxWarning" not in r.stderr + r.stdout
    assert r.stderr.startswith("error: if/else is not allowed")


def test_step_lists_the_graph_once_and_never_prints_minus_zero():
    r = run("step", "x=-0.00001; w=2.0; y=x*w")
    assert r.returncode == 0, r.stderr
    assert "-0.0000" not in r.stdout.split("\n", 1)[1]  # (the first line echoes the source)
    assert r.stdout.count("The graph") == 1
    assert r.stdout.count("x  input  = 0.0000") == 1  # the given values listed once


def test_single_keys_without_enter_in_a_terminal():
    """In a terminal: space and the right arrow step on, b and the left arrow step back, q
    quits; no Enter needed."""
    pty = pytest.importorskip("pty")
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "tinygrad_value", "step", "x=3.0; y=x*x"],
                            stdin=slave, stdout=slave, stderr=subprocess.PIPE, close_fds=True)
    os.close(slave)
    buf = b""

    def read_until(token: bytes, count: int = 1, timeout: float = 15.0) -> None:
        nonlocal buf
        end = time.time() + timeout
        while buf.count(token) < count:
            left = end - time.time()
            assert left > 0, f"timed out waiting for {token!r}; got {buf[-400:]!r}"
            if select.select([master], [], [], left)[0]:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    chunk = b""
                assert chunk, f"the stepper exited early; got {buf[-400:]!r}"
                buf += chunk

    try:
        read_until(b"(1/")
        assert "[b/←] back".encode() in buf
        os.write(master, b" ")
        read_until(b"(2/")
        os.write(master, b"\x1b[C")  # right arrow
        read_until(b"(3/")
        os.write(master, b"\x1b[D")  # left arrow
        read_until(b"(2/", count=2)
        os.write(master, b"b")
        read_until(b"(1/", count=2)
        os.write(master, b"q")
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
