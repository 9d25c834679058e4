"""Bug hunts: one op of a small network has a planted wrong derivative; find which.

``hunt = tv.bug_hunt(seed)`` builds a two-input network whose loss uses a *copy* of one op with
a classic mistake in its local derivative (tanh′ = 1 − x, the 2 of x² forgotten, a sign lost,
...). The forward pass is right, so central differences disagree with backward(): use
``tv.gradcheck(hunt.f, hunt.inputs)`` to see that something is wrong, the stepper
(``tv.backprop_steps(hunt.loss)``) to see where, then ``hunt.guess("tanh")``. The op table
itself is never changed.
"""

from __future__ import annotations

import dataclasses
import random
from typing import Callable, Dict, List, NamedTuple

from ..engine.backward import topo_order
from ..engine.gradcheck import GradcheckError, gradcheck
from ..engine.ops import OPS, Op
from ..engine.value import Value


class Bug(NamedTuple):
    op: str  # the op table name of the op with the planted mistake
    mistake: str  # what is wrong, for the reveal
    local: Callable  # the wrong local rule, same signature as Op.local


BUGS: List[Bug] = [
    Bug("tanh", "tanh′(x) was written 1 − x instead of 1 − tanh²(x)",
        lambda xp, a, out: (1.0 - a,)),
    Bug("relu", "relu′(x) = 1 for every x: the step to 0 for x ≤ 0 was forgotten",
        lambda xp, a, out: (1.0,)),
    Bug("powc", "d(x²)/dx was written x: the factor 2 was forgotten",
        lambda xp, a, k, out: (xp.power(a, k - 1.0),)),
    Bug("sigmoid", "σ′(x) was written σ(x) instead of σ(x)·(1 − σ(x))",
        lambda xp, a, out: (out,)),
    Bug("mul", "∂(a·b)/∂a was written a instead of b (the two partials swapped)",
        lambda xp, a, b, out: (a, b)),
    Bug("sub", "∂(a − b)/∂b was written +1: the minus sign was lost",
        lambda xp, a, b, out: (1.0, 1.0)),
]

_ALIASES = {"*": "mul", "-": "sub", "**": "powc", "pow": "powc", "square": "powc",
            "σ": "sigmoid", "ReLU": "relu"}


class Verdict(NamedTuple):
    correct: bool
    message: str


class BugHunt:
    """A network with one planted wrong derivative. ``f(inputs) -> loss`` rebuilds it (for
    gradcheck), ``inputs`` are its leaves (the two inputs, weights, biases, the target),
    ``loss`` one built graph, ``suspects`` the names of the ops it uses."""

    def __init__(self, seed: int = 0) -> None:
        rng = random.Random(seed)
        self.seed = seed
        self._bug = rng.choice(BUGS)
        self._wrong: Op = dataclasses.replace(OPS[self._bug.op], local=self._bug.local,
                                              constant_local=None)
        self.guesses = 0
        for _ in range(200):  # draw numbers until the mistake shows in the gradients
            self.inputs = self._draw(rng)
            if not self._passes_gradcheck():
                break
        else:  # pragma: no cover - every bug above shows for almost any numbers
            raise RuntimeError(f"bug_hunt({seed}): could not make the bug visible")
        self.loss = self.f(self.inputs)
        self.suspects = sorted({n._fn.name for n in topo_order(self.loss) if n._fn is not None})

    def _draw(self, rng: random.Random) -> List[Value]:
        names = ["x1", "x2", "w11", "w12", "b1", "w21", "w22", "b2", "v1", "v2", "c", "y"]
        values = [round(rng.uniform(-2, 2), 2) for _ in names]
        values[-1] = 1.0  # the target
        if self._bug.op == "relu":  # the mistake only shows where relu's input is negative
            values[7] = -abs(values[7]) - abs(values[5] * values[0]) - abs(values[6] * values[1])
        return [Value(v, label=n) for v, n in zip(values, names)]

    def _passes_gradcheck(self) -> bool:
        try:
            return gradcheck(self.f, self.inputs)
        except GradcheckError:
            return False

    def f(self, inputs: List[Value]) -> Value:
        """The network on these leaves: two hidden units (tanh, relu), a sigmoid output, and a
        squared error against the target y; the planted op swapped into the graph."""
        x1, x2, w11, w12, b1, w21, w22, b2, v1, v2, c, y = inputs
        h1 = (w11 * x1 + w12 * x2 + b1).tanh()
        h2 = (w21 * x1 + w22 * x2 + b2).relu()
        out = (v1 * h1 + v2 * h2 + c).sigmoid()
        loss = (out - y) ** 2
        h1.label, h2.label, out.label, loss.label = "h1", "h2", "out", "loss"
        right = OPS[self._bug.op]
        for node in topo_order(loss):
            if node._fn is right:
                node._fn = self._wrong
        return loss

    def guess(self, op: str) -> Verdict:
        """Name the op you think is wrong ('tanh', 'mul' or '*', ...)."""
        self.guesses += 1
        name = _ALIASES.get(op, op)
        if name not in self.suspects:
            return Verdict(False, f"{op!r} is not an op of this network; its ops are "
                                  f"{', '.join(self.suspects)}")
        if name == self._bug.op:
            return Verdict(True, f"Found it in {self.guesses} guess"
                                 f"{'' if self.guesses == 1 else 'es'}: {self._bug.mistake}.")
        return Verdict(False, f"No: {name}'s local derivatives are right here. Compare each "
                              f"step's local derivative in tv.backprop_steps(hunt.loss) with "
                              f"the op's formula.")

    def reveal(self) -> str:
        return f"The planted bug is in {self._bug.op}: {self._bug.mistake}."

    def __repr__(self) -> str:
        return (f"BugHunt(seed={self.seed}, suspects={self.suspects}): one op's derivative is "
                f"wrong; find it with tv.gradcheck(hunt.f, hunt.inputs) and the stepper")


def bug_hunt(seed: int = 0) -> BugHunt:
    """A small network with one planted wrong local derivative, drawn from ``seed``."""
    return BugHunt(seed)


def bugs_by_op() -> Dict[str, str]:
    """Every planted mistake, by op name (for teachers and tests)."""
    return {b.op: b.mistake for b in BUGS}
