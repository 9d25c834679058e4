"""Dropout: randomly silence activations while training, so no unit can be relied on alone."""

from __future__ import annotations

import random
from typing import List, Union

import tinygrad_value as tv

from .module import Module


class Dropout(Module):
    """Inverted dropout. In train mode each input is multiplied by a mask mᵢ drawn with Python's
    ``random``: mᵢ = 0 with probability p, else 1/(1-p), so E[mᵢ·xᵢ] = xᵢ and nothing needs
    rescaling at evaluation time. In eval mode it is the identity. Takes a Value or a list of
    them and returns the same shape.

    The mask enters the graph as constant leaves: a compiled replay keeps the mask it was built
    with, so rebuild the graph to draw a new one.
    """

    def __init__(self, p: float = 0.5) -> None:
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability must be a number in [0, 1], got {p!r}")
        self.p = float(p)

    def __call__(self, x: Union[tv.Value, List[tv.Value]]):
        keep = 0.0 if self.p == 1.0 else 1.0 / (1.0 - self.p)  # a survivor's scale
        if isinstance(x, (list, tuple)):
            return [self._one(v, keep) for v in x]
        return self._one(x, keep)

    def _one(self, v, keep: float):
        if not self.training or self.p == 0.0:
            return v
        return v * (0.0 if random.random() < self.p else keep)

    def describe(self) -> str:
        return f"Dropout(p={self.p})"

    def __repr__(self) -> str:
        return f"Dropout(p={self.p})"
