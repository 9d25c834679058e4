"""Float versions of the few NumPy functions the op table's rules use, with NumPy's IEEE answers.

The local-derivative rules in ``ops.py`` are written once against a namespace ``xp``:
NumPy for the compiled replay, this module for the eager scalar engine. Python's ``math``
raises where NumPy returns ``inf`` or ``nan`` (``math.log(0)``, ``1.0 / 0.0``,
``math.exp(1000)``); these wrappers return what NumPy would, so one rule serves both.
Domain errors for users are raised by ``Value``'s methods *before* these are reached.
"""

from __future__ import annotations

import math
import random

inf = math.inf
nan = math.nan


def exp(a: float) -> float:
    try:
        return math.exp(a)
    except OverflowError:
        return inf


def log(a: float) -> float:
    if a > 0:
        return math.log(a)
    if a == 0:
        return -inf
    return nan


def tanh(a: float) -> float:
    return math.tanh(a)


def sqrt(a: float) -> float:
    return math.sqrt(a) if a >= 0 else nan


def abs(a: float) -> float:  # noqa: A001 - mirrors numpy.abs
    return math.fabs(a)


def sign(a: float) -> float:
    return 1.0 if a > 0 else (-1.0 if a < 0 else 0.0)


def where(cond: bool, x: float, y: float) -> float:
    return x if cond else y


def divide(x: float, y: float) -> float:
    """x / y with IEEE results for y == 0 (±inf, or nan for 0/0)."""
    if y != 0:
        return x / y
    if x == 0 or x != x:
        return nan
    return math.copysign(inf, x) * math.copysign(1.0, y)


def power(x: float, y: float) -> float:
    """x ** y as NumPy computes it for float64: inf on overflow and for 0 ** negative,
    nan where the real result does not exist (negative base, fractional exponent)."""
    try:
        r = x**y
    except ZeroDivisionError:  # 0.0 ** negative
        return inf if (y != int(y) or int(y) % 2 == 0 or math.copysign(1.0, x) > 0) else -inf
    except OverflowError:
        if x < 0 and y == int(y) and int(y) % 2 == 1:
            return -inf
        return inf
    if isinstance(r, complex):
        return nan
    return r


def sigmoid(a: float) -> float:
    """Logistic function in a form that never overflows: exp is only taken of -|a|."""
    if a >= 0:
        return 1.0 / (1.0 + math.exp(-a))
    e = math.exp(a)
    return e / (1.0 + e)


def uniform() -> float:
    """One draw in [0, 1) for an op that draws (``Op.draws``), from Python's ``random`` module:
    ``random.seed(s)`` makes the eager engine's draws (dropout masks) reproducible."""
    return random.random()


def manual_seed(seed) -> None:
    """Seed every draw the engine makes, as ``torch.manual_seed`` does: this is
    ``random.seed(seed)``, which fixes the eager dropout masks, ``nn``'s weight init (micrograd's
    ``random.uniform``) and the seed each new ``tv.compile`` program takes for its own draws."""
    random.seed(seed)
