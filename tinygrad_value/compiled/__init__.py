"""tv.compile(root): replay a fixed scalar graph, forward and backward, at NumPy speed.

The NumPy replay, optional: nothing else in the package imports it. May import ``engine``.
This ``__init__`` is only the entry point, so ``import tinygrad_value`` stays free of NumPy; the
graph is flattened by ``schedule.py`` and replayed by ``replay.Program``, both of which evaluate
the op table's own rules on arrays (``np_math`` is their ``xp``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from ..engine.value import Value
    from .replay import Program


def compile(root: Value, seed=None) -> Program:  # noqa: A001 - tv.compile is the public name
    """Flatten ``root``'s graph once and return a program that replays it.

    Calling the program re-reads every leaf's ``.data``, recomputes forward and backward, *adds*
    into leaf ``.grad`` exactly as ``root.backward()`` would and returns root's new value;
    ``prog.value(node)`` / ``prog.grad(node)`` read any node afterwards. Interior Values keep
    their eager ``.data`` and ``.grad``. A replay that leaves an op's domain (log of a leaf that
    became negative, ...) raises the eager engine's ``ValueError``. Data-dependent ops (``max``,
    ``clamp_min``/``clamp_max``, ``relu``, ``abs``) take the branch each replay's data calls
    for, and ops that draw (``dropout_mask``) draw afresh at every replay from the program's
    own NumPy generator: ``seed`` fixes it (``prog.manual_seed(s)`` restarts it), and ``None``
    takes a seed from Python's ``random``, so ``random.seed(s)`` reproduces a whole run.

        prog = tv.compile(loss)
        for step in range(100):
            model.zero_grad()
            prog()
            optimizer.step()
    """
    from .replay import Program

    return Program(root, seed=seed)
