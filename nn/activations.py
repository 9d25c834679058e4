"""Activation functions by name: what a neuron applies to its weighted sum."""

from __future__ import annotations

from typing import Callable, Dict

import tinygrad_value as tv

ACTIVATIONS: Dict[str, Callable[[tv.Value], tv.Value]] = {
    "relu": lambda v: v.relu(),        # max(0, x)
    "tanh": lambda v: v.tanh(),        # (eˣ - e⁻ˣ) / (eˣ + e⁻ˣ)
    "sigmoid": lambda v: v.sigmoid(),  # 1 / (1 + e⁻ˣ)
    "linear": lambda v: v,             # x
}

# How micrograd-style reprs name a neuron with each activation: ReLUNeuron(2), LinearNeuron(16).
DISPLAY = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid", "linear": "Linear"}


def check_activation(name: str) -> str:
    """``name`` if it is a known activation, else a ValueError listing the choices."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}")
    return name
