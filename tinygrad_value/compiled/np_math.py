"""The NumPy namespace the op table's rules run against in the compiled replay.

``ops.py`` writes each forward rule and local derivative once, against a namespace ``xp``.
The eager engine passes ``scalar_math`` (floats); ``tinygrad_value.compile`` passes this module,
so the same rule computes a whole level of nodes at once on float64 arrays. Everything here is
NumPy's own IEEE function except ``sigmoid``, which NumPy lacks and which must not overflow.
Only the compiled replay imports this module, so ``import tinygrad_value`` needs no NumPy.
"""

from __future__ import annotations

import numpy as np

nan = np.nan

exp = np.exp
log = np.log
tanh = np.tanh
sqrt = np.sqrt
abs = np.abs  # noqa: A001 - mirrors numpy.abs and scalar_math.abs
sign = np.sign
where = np.where
divide = np.divide
power = np.power


def sigmoid(a):
    """1 / (1 + e⁻ᵃ) elementwise, as ``scalar_math.sigmoid`` computes it: exp only of -|a|."""
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def uniform(rng, n: int):
    """``n`` draws in [0, 1) (float64) from the NumPy generator ``rng``, for a level of nodes of
    an op that draws (``Op.draws``); each compiled program owns its generator."""
    return rng.random(n, dtype=np.float64)
