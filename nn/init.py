"""Weight initialisation: how a neuron draws its starting weights from Python's ``random``."""

from __future__ import annotations

import math
import random

INITS = ("uniform", "xavier", "he")


def draw_weight(init: str, fan_in: int, fan_out: int) -> float:
    """One weight, drawn with ``random.uniform`` (Python's global generator, so seeds reproduce):

    * ``uniform``: U(-1, 1), micrograd's choice;
    * ``xavier``: U(-a, a), a = √(6 / (fan_in + fan_out)) (Glorot; keeps tanh/sigmoid variance);
    * ``he``: U(-a, a), a = √(6 / fan_in) (Kaiming; variance 2/fan_in, for ReLU).
    """
    if init == "uniform":
        return random.uniform(-1, 1)
    if init == "xavier":
        a = math.sqrt(6.0 / (fan_in + fan_out))
        return random.uniform(-a, a)
    if init == "he":
        a = math.sqrt(6.0 / fan_in)
        return random.uniform(-a, a)
    raise ValueError(f"unknown init {init!r}; choose one of {', '.join(INITS)}")
