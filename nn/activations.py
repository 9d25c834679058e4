"""Activation functions by name: what a neuron applies to its weighted sum.

Derived from the op table: every op with a ``torch.nn`` module (``Op.module``) is an activation
under its op name (relu, tanh, sigmoid), plus ``linear`` (the identity).
"""

from __future__ import annotations

from typing import Callable, Dict

import tinygrad_value as tv


def _activation(op) -> Callable[[tv.Value], tv.Value]:
    return lambda v: op(v)


ACTIVATIONS: Dict[str, Callable[[tv.Value], tv.Value]] = {
    name: _activation(op) for name, op in tv.OPS.items() if op.module and op.arity == 1
    and not op.has_param}
ACTIVATIONS["linear"] = lambda v: v  # x

# How micrograd-style reprs name a neuron with each activation: ReLUNeuron(2), LinearNeuron(16);
# also the torch.nn module class of each (nn/torch_bridge.py).
DISPLAY = {**{name: tv.OPS[name].module for name in ACTIVATIONS if name != "linear"},
           "linear": "Linear"}


def check_activation(name: str) -> str:
    """``name`` if it is a known activation, else a ValueError listing the choices."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}")
    return name
