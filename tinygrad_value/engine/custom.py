"""Your own op: a forward rule and its derivative as plain float functions, checked, then real.

``custom_op("softplus", forward, derivative, domain=(lo, hi))`` first compares ``derivative``
with central differences of ``forward`` at random points of the domain and near its edges; a
wrong derivative raises ``GradcheckError`` listing the points. A right one is registered in the
op table like any built-in, so backward(), the stepper, draw_dot and tv.compile all use it.
"""

from __future__ import annotations

import math
import random
from typing import Callable, List, Optional, Tuple

from . import scalar_math
from .gradcheck import GradcheckError
from .ops import OPS, Op, register
from .value import Value, apply, as_value

Real = float
_WINDOW = 10.0  # where an unbounded side of the domain is sampled up to
_CUSTOM = set()  # names registered here, which may be redefined (a notebook cell run twice)


def _check_points(lo: float, hi: float, n: int, seed: int) -> List[float]:
    """n random points strictly inside (lo, hi), plus points near each edge."""
    a = lo if math.isfinite(lo) else min(-_WINDOW, hi - _WINDOW)
    b = hi if math.isfinite(hi) else max(_WINDOW, lo + _WINDOW)
    width = b - a
    rng = random.Random(seed)
    inside = [rng.uniform(a + 0.01 * width, b - 0.01 * width) for _ in range(n)]
    edges = [a + 1e-3 * width, a + 1e-2 * width, b - 1e-2 * width, b - 1e-3 * width]
    return inside + edges


def _central(forward: Callable, x: float, lo: float, hi: float) -> float:
    """(f(x+h) - f(x-h)) / 2h, with h shrunk so that both points stay inside the domain."""
    h = 1e-6 * max(1.0, abs(x))
    h = min(h, (x - lo) / 2 if math.isfinite(lo) else h, (hi - x) / 2 if math.isfinite(hi) else h)
    return (float(forward(x + h)) - float(forward(x - h))) / (2 * h)


def _elementwise(fn: Callable) -> Callable:
    """``fn`` on NumPy arrays: directly when it accepts arrays (np.exp-style code), else
    element by element. Which of the two works is found out once, on the first call."""
    mode: List[Optional[str]] = [None]

    def run(*arrays):
        import numpy as np

        if mode[0] in (None, "array"):
            try:
                out = np.asarray(fn(*arrays), dtype=np.float64)
                if out.shape == np.broadcast(*arrays).shape:
                    mode[0] = "array"
                    return out
            except Exception:  # math.exp on an array, `if x > 0` on an array, ...
                pass
            mode[0] = "elements"
        return np.vectorize(lambda *xs: float(fn(*xs)), otypes=[np.float64])(*arrays)

    return run


def custom_op(name: str, forward: Callable[[Real], Real], derivative: Callable[[Real, Real], Real],
              domain: Tuple[float, float] = (-math.inf, math.inf), *, points: int = 20,
              seed: int = 0, atol: float = 1e-6, rtol: float = 1e-4) -> Callable[[Value], Value]:
    """Check ``derivative(x, out)`` (∂out/∂x, where ``out = forward(x)``) against central
    differences, then register the op and return ``op(value) -> Value``.

    ``domain`` is the open interval where the op is defined: checks sample it, and a Value
    outside it raises ``ValueError`` naming the op. ``forward``/``derivative`` take and return
    floats; if they also accept NumPy arrays, ``tv.compile`` runs them vectorised.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"custom_op: name must be an identifier such as 'softplus', got {name!r}")
    if name in OPS and name not in _CUSTOM:
        raise ValueError(f"custom_op: {name!r} is a built-in op; choose another name")
    lo, hi = (float(v) for v in domain)
    if not lo < hi:
        raise ValueError(f"custom_op: domain must be (lo, hi) with lo < hi, got {domain!r}")
    problems = []
    for x in _check_points(lo, hi, points, seed):
        out = float(forward(x))
        given = float(derivative(x, out))
        expected = _central(forward, x, lo, hi)
        if not abs(given - expected) <= atol + rtol * abs(expected):
            problems.append(f"  x = {x:.6g}: your derivative gives {given:.6g}, central "
                            f"differences give {expected:.6g}")
    if problems:
        shown = problems[:8] + ([f"  ... and {len(problems) - 8} more"] if len(problems) > 8
                                else [])
        raise GradcheckError(f"custom_op {name!r}: the derivative disagrees with central "
                             f"differences of the forward rule at {len(problems)} of "
                             f"{points + 4} points:\n" + "\n".join(shown))

    vector_forward = _elementwise(forward)
    vector_derivative = _elementwise(derivative)

    def op_forward(xp, a):
        return float(forward(a)) if xp is scalar_math else vector_forward(a)

    def op_local(xp, a, out):
        return (float(derivative(a, out)) if xp is scalar_math else vector_derivative(a, out),)

    def check(a):
        if not lo < a < hi:
            return f"{name}({float(a)!r}): {name} is defined for inputs in ({lo:g}, {hi:g})"
        return None

    unbounded = not (math.isfinite(lo) or math.isfinite(hi))
    if name in OPS:  # redefining a custom op (a notebook cell run again)
        del OPS[name]
    op = register(Op(name, name, 1, op_forward, op_local, check=None if unbounded else check))
    _CUSTOM.add(name)

    def call(x) -> Value:
        return apply(op, (as_value(x),))  # the engine's one path: domain check, forward, record

    call.__name__ = name
    call.__doc__ = f"The custom op {name!r} (checked against central differences)."
    call.op = op  # type: ignore[attr-defined]
    return call


def remove_custom_op(name: str) -> None:
    """Take a custom op out of the op table again (built-in ops cannot be removed)."""
    if name not in _CUSTOM:
        raise ValueError(f"{name!r} is not a custom op")
    _CUSTOM.discard(name)
    del OPS[name]
