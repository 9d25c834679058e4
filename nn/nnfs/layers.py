"""The book's layers (chapters 2-3, 9, 14-15, 19): Layer_Dense, Layer_Dropout, Layer_Input.

Each computes its output with scalar Values (``LayerGraph``); ``backward(dvalues)`` is the
engine's vector-Jacobian product, so ``dweights`` is inputs.T @ dvalues because every
∂output/∂weight was multiplied out node by node. Regularisation terms are the book's NumPy.
"""

from __future__ import annotations

import numpy as np

import tinygrad_value as tv

from .graph import LayerGraph


class _Engine:
    """What every layer shares: its LayerGraph, the last leaf arrays, and ``values``."""

    graph: LayerGraph
    _arrays: tuple = ()

    @property
    def values(self) -> np.ndarray:
        """The tv.Values of the last output (an object array shaped like ``output``), built
        fresh from the last inputs, so their graph can be drawn: tv.draw_dot(values[0, 0])."""
        if not self._arrays:
            raise RuntimeError("call forward() first; values are the Values of its output")
        return self.graph.fresh_values(self._arrays)


def _dense(x, w, b):
    """output[i, j] = Σₖ x[i, k]·w[k, j] + 1·b[0, j]: one dot node per output."""
    one = tv.Value(1.0, label="1")
    out = np.empty((x.shape[0], w.shape[1]), dtype=object)
    for j in range(w.shape[1]):
        ws = list(w[:, j]) + [b[0, j]]
        for i in range(x.shape[0]):
            out[i, j] = tv.dot(list(x[i]) + [one], ws)
    return out


class Layer_Dense(_Engine):
    """A fully connected layer: output = inputs @ weights + biases."""

    def __init__(self, n_inputs: int, n_neurons: int, weight_regularizer_l1: float = 0,
                 weight_regularizer_l2: float = 0, bias_regularizer_l1: float = 0,
                 bias_regularizer_l2: float = 0) -> None:
        # the book's draw, from NumPy's global random state (np.random.seed(0) reproduces it);
        # standard_normal is what randn calls, and nnfs.init() does not patch it to float32
        self.weights = 0.01 * np.random.standard_normal((n_inputs, n_neurons))
        self.biases = np.zeros((1, n_neurons), dtype=np.float64)
        self.weight_regularizer_l1 = weight_regularizer_l1
        self.weight_regularizer_l2 = weight_regularizer_l2
        self.bias_regularizer_l1 = bias_regularizer_l1
        self.bias_regularizer_l2 = bias_regularizer_l2
        self.graph = LayerGraph(_dense, labels=("x", "w", "b"))

    def forward(self, inputs, training: bool = False) -> None:
        self.inputs = np.asarray(inputs, dtype=np.float64)
        if self.inputs.ndim != 2 or self.inputs.shape[1] != self.weights.shape[0]:
            raise ValueError(f"Layer_Dense expects inputs of shape (samples, "
                             f"{self.weights.shape[0]}), got {self.inputs.shape}")
        self._arrays = (self.inputs, self.weights, self.biases)
        self.output = self.graph.forward(*self._arrays)

    def backward(self, dvalues) -> None:
        dx, dw, db = self.graph.vjp(self._arrays, dvalues)
        self.dweights, self.dbiases, self.dinputs = dw, db, dx
        # the penalties' derivatives, as the book writes them (dL1 = +1 at exactly 0)
        if self.weight_regularizer_l1 > 0:
            dl1 = np.ones_like(self.weights)
            dl1[self.weights < 0] = -1
            self.dweights += self.weight_regularizer_l1 * dl1
        if self.weight_regularizer_l2 > 0:
            self.dweights += 2 * self.weight_regularizer_l2 * self.weights
        if self.bias_regularizer_l1 > 0:
            dl1 = np.ones_like(self.biases)
            dl1[self.biases < 0] = -1
            self.dbiases += self.bias_regularizer_l1 * dl1
        if self.bias_regularizer_l2 > 0:
            self.dbiases += 2 * self.bias_regularizer_l2 * self.biases

    def get_parameters(self) -> tuple:
        return self.weights, self.biases

    def set_parameters(self, weights, biases) -> None:
        self.weights = np.array(weights, dtype=np.float64)
        self.biases = np.array(biases, dtype=np.float64).reshape(1, -1)


def _times(x, m):
    return x * m  # elementwise over object arrays: one * node per element


class Layer_Dropout(_Engine):
    """Inverted dropout: ``rate`` is the fraction of inputs zeroed; the rest are scaled by
    1/(1 - rate), with the mask drawn from np.random.binomial in forward."""

    def __init__(self, rate: float) -> None:
        if not 0 <= rate < 1:
            raise ValueError(f"Layer_Dropout(rate) needs 0 <= rate < 1 (the fraction dropped), "
                             f"got {rate}")
        self.rate = 1 - rate  # the book stores the keep probability under this name
        self.graph = LayerGraph(_times, labels=("x", "mask"))

    def forward(self, inputs, training: bool = True) -> None:
        self.inputs = np.asarray(inputs, dtype=np.float64)
        if not training:
            self.binary_mask = np.ones_like(self.inputs)
        else:
            self.binary_mask = np.random.binomial(1, self.rate, size=self.inputs.shape) \
                / self.rate
        self._arrays = (self.inputs, self.binary_mask)
        self.output = self.graph.forward(*self._arrays)

    def backward(self, dvalues) -> None:
        (self.dinputs,) = self.graph.vjp(self._arrays, dvalues, wrt=(0,))


class Layer_Input:
    """The model's first "layer": its output is the data (chapter 19)."""

    def forward(self, inputs, training: bool = False) -> None:
        self.output = inputs
