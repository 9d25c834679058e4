"""Dropout: randomly silence activations while training, so no unit can be relied on alone."""

from __future__ import annotations

from typing import List, Union

import tinygrad_value as tv
from tinygrad_value.engine.value import as_value as _as_value

from .module import Module


class Dropout(Module):
    """Inverted dropout. In train mode each input xᵢ becomes ``xᵢ · xᵢ.dropout_mask(p)``: the
    op ``dropout_mask`` draws mᵢ = 0 with probability p, else 1/(1-p), so E[mᵢ·xᵢ] = xᵢ and
    nothing needs rescaling at evaluation time. In eval mode it is the identity. Takes a Value
    or a list of them and returns the same shape.

    The eager engine draws the mask from Python's ``random`` (``random.seed`` reproduces it);
    the mask is an op of the graph, so a compiled replay (``tv.compile``, ``fit(compiled=True)``)
    draws a new one at every call, from the program's seeded generator.
    """

    def __init__(self, p: float = 0.5) -> None:
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability must be a number in [0, 1], got {p!r}")
        self.p = float(p)

    def __call__(self, x: Union[tv.Value, List[tv.Value]]):
        if isinstance(x, (list, tuple)):
            return [self._one(v) for v in x]
        return self._one(x)

    def _one(self, v):
        if not self.training or self.p == 0.0:
            return v
        return _as_value(v).dropout(self.p)

    def describe(self) -> str:
        return f"Dropout(p={self.p})"

    def __repr__(self) -> str:
        return f"Dropout(p={self.p})"
