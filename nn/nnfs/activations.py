"""The book's activations (chapters 4, 9, 16, 17): ReLU, Softmax, Sigmoid, Linear, engine-made.

Softmax subtracts each row's maximum before exp, as the book does, plus 1 (``row_shift``); the
shift enters the graph as a leaf (a constant for differentiation: softmax does not change when
a row is shifted, so the gradient is exact). The extra 1 changes results by rounding only and
keeps every x − shift away from exactly 0, where the compiled replay checks each zero sum for
a signed -0.0: measured, a quarter of a chapter-10 epoch.
"""

from __future__ import annotations

import numpy as np

import tinygrad_value as tv

from .graph import LayerGraph
from .layers import _Engine


def _relu(x):
    out = np.empty(x.shape, dtype=object)
    for index, v in np.ndenumerate(x):
        out[index] = v.relu()
    return out


def _sigmoid(x):
    out = np.empty(x.shape, dtype=object)
    for index, v in np.ndenumerate(x):
        out[index] = v.sigmoid()
    return out


def _identity(x):
    return x


def row_shift(x: np.ndarray) -> np.ndarray:
    """Each row's maximum plus 1, the shift softmax subtracts (see the module docstring)."""
    return np.max(x, axis=1, keepdims=True) + 1.0


def softmax_rows(x, shift):
    """pᵢⱼ = exp(xᵢⱼ − mᵢ) / Σₖ exp(xᵢₖ − mᵢ), mᵢ = ``row_shift`` (a leaf)."""
    out = np.empty(x.shape, dtype=object)
    for i in range(x.shape[0]):
        exps = [(v - shift[i, 0]).exp() for v in x[i]]
        total = tv.sum(exps)
        for j, e in enumerate(exps):
            out[i, j] = e / total
    return out


class _Elementwise(_Engine):
    build = staticmethod(_identity)

    def __init__(self) -> None:
        self.graph = LayerGraph(self.build, labels=("x",))

    def forward(self, inputs, training: bool = False) -> None:
        self.inputs = np.asarray(inputs, dtype=np.float64)
        self._arrays = (self.inputs,)
        self.output = self.graph.forward(*self._arrays)

    def backward(self, dvalues) -> None:
        (self.dinputs,) = self.graph.vjp(self._arrays, dvalues)


class Activation_ReLU(_Elementwise):
    """max(0, x) elementwise; derivative 0 at x <= 0 (the book's dinputs[inputs <= 0] = 0)."""

    build = staticmethod(_relu)

    def predictions(self, outputs):
        return outputs


class Activation_Sigmoid(_Elementwise):
    """σ(x) = 1 / (1 + e⁻ˣ) elementwise."""

    build = staticmethod(_sigmoid)

    def predictions(self, outputs):
        return (outputs > 0.5) * 1


class Activation_Linear(_Elementwise):
    """The identity: output = inputs, dinputs = dvalues (the graph is the input leaves)."""

    def predictions(self, outputs):
        return outputs


class Activation_Softmax(_Engine):
    """Each row to probabilities: exp(x − max) normalised by its sum."""

    def __init__(self) -> None:
        self.graph = LayerGraph(softmax_rows, labels=("x", "max"))

    def forward(self, inputs, training: bool = False) -> None:
        self.inputs = np.asarray(inputs, dtype=np.float64)
        self._arrays = (self.inputs, row_shift(self.inputs))
        self.output = self.graph.forward(*self._arrays)

    def backward(self, dvalues) -> None:
        (self.dinputs,) = self.graph.vjp(self._arrays, dvalues, wrt=(0,))

    def predictions(self, outputs):
        return np.argmax(outputs, axis=1)
