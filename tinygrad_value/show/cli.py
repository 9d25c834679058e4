"""``python -m tinygrad_value step|graph|html EXPR``: step backprop in a terminal, draw it, page it.

    python -m tinygrad_value step  "x=2.0; w=-3.0; b=6.88; n=x*w+b; o=n.tanh()"
    python -m tinygrad_value graph "x=2.0; y=x*x+x" -o graph.svg
    python -m tinygrad_value html  "x=2.0; y=x*x+x" -o backprop.html
    python -m tinygrad_value quiz  "x=2.0; w=-3.0; n=x*w; o=n.tanh()"   (answers on stdin)

EXPR is the tiny language of ``tinygrad_value.expr`` (parsed with ``ast``, never evaluated).
A bad expression prints a message on stderr and exits with status 2.
"""

from __future__ import annotations

import argparse
import os
import select
import sys
from collections.abc import Callable

from .expr import ExprError, parse
from .stepper import Walkthrough

PROMPT = "[Enter] next  [b] back  [q] quit > "
KEY_PROMPT = "[Enter/space/→] next  [b/←] back  [q] quit "
# one key press -> the word interact() understands ("" = next)
KEYS = {"\r": "", "\n": "", " ": "", "n": "", "\x1b[C": "", "\x1b[B": "",
        "b": "b", "p": "b", "\x1b[D": "b", "\x1b[A": "b", "q": "q", "\x1b": "q", "\x04": "q"}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m tinygrad_value",
        description="See backprop: step through it, draw the graph, or write a stepper page.",
        epilog='EXPR example: "x=2.0; w=-3.0; b=6.88; n=x*w+b; o=n.tanh()" (the last name is L)')
    sub = p.add_subparsers(dest="command", required=True, metavar="{step,graph,html,quiz}")
    step = sub.add_parser("step", help="print the graph, then each forward and backward step")
    step.add_argument("expr", metavar="EXPR")
    step.add_argument("--all", action="store_true", help="print every step without waiting")
    graph = sub.add_parser("graph", help="draw the graph (SVG, PNG, PDF or DOT by suffix)")
    graph.add_argument("expr", metavar="EXPR")
    graph.add_argument("-o", "--output", default="graph.svg", help="default: graph.svg")
    graph.add_argument("--rankdir", default="LR", choices=["LR", "TB", "RL", "BT"])
    page = sub.add_parser("html", help="write a self-contained page that steps through backprop")
    page.add_argument("expr", metavar="EXPR")
    page.add_argument("-o", "--output", default="backprop.html", help="default: backprop.html")
    page.add_argument("--rankdir", default="LR", choices=["LR", "TB", "RL", "BT"])
    quiz = sub.add_parser("quiz", help="compute each gradient yourself; answers are checked")
    quiz.add_argument("expr", metavar="EXPR")
    quiz.add_argument("--kind", default="grad", choices=["grad", "local"],
                      help="grad: dL/dnode (default); local: each local derivative")
    quiz.add_argument("--upstream", type=float, default=None,
                      help="the upstream gradient g in L = g·root (default: drawn, not ±1)")
    quiz.add_argument("--seed", type=int, default=0)
    for s in (step, graph, page):
        s.add_argument("--decimals", type=int, default=4, choices=range(13), metavar="N",
                       help="digits after the point (default 4)")
    return p


def interact(frames: list[str], read: Callable[[str], str] = input,
             write: Callable[[str], None] = print) -> int:
    """Show frames one at a time: Enter = next, b = back, q = quit. Returns the last index shown.

    ``read(prompt)`` returns the learner's answer: a line, or (in a terminal) one key press
    already mapped to those words by ``KEYS``."""
    i = 0
    write(frames[0])
    while True:
        try:
            answer = read(f"({i + 1}/{len(frames)}) {PROMPT}").strip().lower()
        except EOFError:
            return i
        if answer in ("q", "quit", "exit"):
            return i
        if answer in ("b", "back", "p", "prev"):
            if i == 0:
                write("(already at the first step)")
                continue
            i -= 1
        elif answer in ("", "n", "next"):
            if i == len(frames) - 1:
                return i
            i += 1
        else:
            write("keys: Enter = next step, b = back one step, q = quit")
            continue
        write(frames[i])


def read_key(fd: int) -> str:
    """One key press from the terminal ``fd`` (an arrow key is its whole escape sequence).
    Raises EOFError at end of input."""
    ch = os.read(fd, 1)
    if not ch:
        raise EOFError
    if ch != b"\x1b":
        return ch.decode("utf-8", errors="replace")
    seq = ch
    while len(seq) < 3 and select.select([fd], [], [], 0.05)[0]:  # the rest of \x1b[C
        seq += os.read(fd, 1)
    return seq.decode("utf-8", errors="replace")


def _keys(out) -> Callable[[str], str]:
    """A ``read`` for ``interact`` that takes single keys (no Enter) from the terminal stdin."""
    fd = sys.stdin.fileno()

    def read(prompt: str) -> str:
        import termios
        import tty

        saved = termios.tcgetattr(fd)
        try:
            # Keys arrive one at a time, unechoed; Ctrl-C still interrupts. TCSANOW, and before
            # the prompt: a key typed early must not be flushed away.
            tty.setcbreak(fd, termios.TCSANOW)
            out.write(prompt.replace(PROMPT, KEY_PROMPT))
            out.flush()
            key = read_key(fd)
        finally:
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        out.write("\n")
        return KEYS.get(key, key if key.isprintable() else "?")

    return read


def _step(program, args, out) -> int:
    w = Walkthrough(program.root, decimals=args.decimals)
    plural = "" if len(w.order) == 1 else "s"
    title = f"The graph ({len(w.order)} value{plural}; L = {w.names[w.root]}):"
    # the graph is listed once: its summary is the first frame (the walkthrough's own first
    # frame lists the given values again, which the summary already shows)
    frames = ["\n".join([title] + ["  " + line for line in w.summary()])]
    frames += [f.text() for f in w.frames[1:]]
    tty = sys.stdin.isatty() and out.isatty()
    out.write(program.source.strip() + "\n\n")
    if tty and not args.all:
        try:
            import termios  # noqa: F401  (POSIX terminals: single keys)

            read = _keys(out)
        except ImportError:  # pragma: no cover - Windows: whole lines, ended by Enter
            def read(prompt: str) -> str:
                out.write(prompt)  # written here, not by input(), which may prompt on stderr
                out.flush()
                line = sys.stdin.readline()
                if not line:
                    raise EOFError
                return line

        interact(frames, read, lambda s: out.write(s + "\n\n"))
    else:
        out.write("\n\n".join(frames) + "\n")
    return 0


def _quiz(program, args, out) -> int:
    from .quiz import Quiz, run_in_terminal

    quiz = Quiz(program.root, upstream=args.upstream, kind=args.kind, seed=args.seed)

    def read(prompt: str) -> str:
        out.write(prompt)
        out.flush()
        line = sys.stdin.readline()
        if not line:
            raise EOFError
        if not sys.stdin.isatty():
            out.write(line if line.endswith("\n") else line + "\n")  # echo scripted answers
        return line

    run_in_terminal(quiz, read, lambda s: out.write(s + "\n"))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    out = sys.stdout
    try:
        program = parse(args.expr)
    except ExprError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    from .rundot import DotError, GraphvizNotFound  # graphviz itself is imported only to draw

    try:
        if args.command == "step":
            return _step(program, args, out)
        if args.command == "quiz":
            return _quiz(program, args, out)
        if args.command == "graph":
            from .viz import render_graph

            program.root.backward()  # the drawing shows every gradient
            path = render_graph(program.root, args.output, rankdir=args.rankdir,
                                decimals=args.decimals)
            print(f"wrote {path}")
            return 0
        from .html import backprop_html

        page = backprop_html(program.root, args.output, source=program.source.strip(),
                             rankdir=args.rankdir, decimals=args.decimals)
        print(f"wrote {page.path} ({page.frames} steps); open it in a browser")
        return 0
    except ValueError as e:  # a graph too big to draw (GraphTooLarge), a bad file suffix
        print(f"error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        raise  # handled below, where the program exits
    except (GraphvizNotFound, DotError, ImportError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def run() -> None:
    """Entry point of ``python -m tinygrad_value``: ``main()`` with a quiet broken pipe."""
    try:
        sys.exit(main())
    except BrokenPipeError:  # `... step EXPR | head`: the reader left; not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(0)
