"""Activation_Softmax_Loss_CategoricalCrossentropy: softmax and CCE as one step (chapter 9).

Its backward is the engine's VJP of mean(−log softmax(z)[y]) with respect to the logits z,
which the book writes out as (p − onehot(y)) / N. The book passes the probabilities p, not the
logits; since softmax(log p) = p for rows summing to 1, the graph is evaluated at z = log p
(this is what lets the chapter-9 example call backward without a forward).
"""

from __future__ import annotations

import numpy as np

import tinygrad_value as tv

from .activations import Activation_Softmax, row_shift, softmax_rows
from .graph import LayerGraph
from .layers import _Engine
from .losses import Loss_CategoricalCrossentropy, _onehot


def _softmax_cce(z, shift, onehot):
    """−log(Σⱼ softmax(z)ᵢⱼ·yᵢⱼ) per row, unclipped, as the book's combined derivative is."""
    p = softmax_rows(z, shift)
    return np.array([-tv.dot(list(p[i]), list(onehot[i])).log() for i in range(p.shape[0])],
                    dtype=object)


class Activation_Softmax_Loss_CategoricalCrossentropy(_Engine):
    """Softmax followed by categorical cross-entropy, with the short combined gradient."""

    def __init__(self) -> None:
        self.activation = Activation_Softmax()
        self.loss = Loss_CategoricalCrossentropy()
        self.graph = LayerGraph(_softmax_cce, labels=("z", "max", "y"))

    def forward(self, inputs, y_true):
        """Probabilities into ``output``; returns the mean loss (chapters 9-18 form)."""
        self.activation.forward(inputs)
        self.output = self.activation.output
        return self.loss.calculate(self.output, y_true)

    def backward(self, dvalues, y_true) -> None:
        p = np.asarray(dvalues, dtype=np.float64)
        if dvalues is getattr(self, "output", None):
            z = self.activation.inputs  # the logits this output came from
        else:
            with np.errstate(divide="ignore"):
                z = np.log(np.maximum(p, 1e-300))
        samples = len(p)
        arrays = (z, row_shift(z), _onehot(y_true, p.shape))
        self._arrays = arrays
        (self.dinputs,) = self.graph.vjp(arrays, np.full(samples, 1.0 / samples), wrt=(0,))
