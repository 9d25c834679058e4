"""The book's losses (chapters 5, 9, 14, 16, 17, 19): per-sample losses built from Values.

``forward(y_pred, y_true)`` returns the per-sample losses; ``backward(dvalues, y_true)`` the
gradient of their mean, the engine's VJP with every seed 1/N. Clipping to [1e-7, 1 − 1e-7]
enters the graph as a leaf offset c = p + (clip(p) − p), so the forward value is the book's and
the derivative is taken at the clipped value (what the book's BCE backward does).
"""

from __future__ import annotations

import numpy as np

import tinygrad_value as tv

from .graph import LayerGraph
from .layers import _Engine

EPS = 1e-7


def _onehot(y_true, shape) -> np.ndarray:
    y_true = np.asarray(y_true)
    if y_true.ndim == 1:
        if len(y_true) != shape[0]:
            raise ValueError(f"{len(y_true)} labels for {shape[0]} samples")
        onehot = np.zeros(shape, dtype=np.float64)
        onehot[np.arange(shape[0]), y_true.astype(np.int64)] = 1.0
        return onehot
    if y_true.shape != shape:
        raise ValueError(f"one-hot labels of shape {y_true.shape} for predictions {shape}")
    return y_true.astype(np.float64)


def _clip_offset(p: np.ndarray) -> np.ndarray:
    return np.clip(p, EPS, 1 - EPS) - p


class Loss(_Engine):
    """calculate(output, y) = mean of forward's per-sample losses (+ regularisation)."""

    def regularization_loss(self, layer=None) -> float:
        """λ₁Σ|w| + λ₂Σw² (+ the same for biases), over ``layer`` or every trainable layer
        given to ``remember_trainable_layers``."""
        layers = [layer] if layer is not None else getattr(self, "trainable_layers", [])
        total = 0.0
        for lay in layers:
            if lay.weight_regularizer_l1 > 0:
                total += lay.weight_regularizer_l1 * np.sum(np.abs(lay.weights))
            if lay.weight_regularizer_l2 > 0:
                total += lay.weight_regularizer_l2 * np.sum(lay.weights * lay.weights)
            if lay.bias_regularizer_l1 > 0:
                total += lay.bias_regularizer_l1 * np.sum(np.abs(lay.biases))
            if lay.bias_regularizer_l2 > 0:
                total += lay.bias_regularizer_l2 * np.sum(lay.biases * lay.biases)
        return total

    def remember_trainable_layers(self, trainable_layers) -> None:
        self.trainable_layers = trainable_layers

    def calculate(self, output, y, *, include_regularization: bool = False):
        sample_losses = self.forward(output, y)
        data_loss = np.mean(sample_losses)
        self.accumulated_sum = getattr(self, "accumulated_sum", 0.0) + np.sum(sample_losses)
        self.accumulated_count = getattr(self, "accumulated_count", 0) + len(sample_losses)
        if not include_regularization:
            return data_loss
        return data_loss, self.regularization_loss()

    def calculate_accumulated(self, *, include_regularization: bool = False):
        data_loss = self.accumulated_sum / self.accumulated_count
        if not include_regularization:
            return data_loss
        return data_loss, self.regularization_loss()

    def new_pass(self) -> None:
        self.accumulated_sum = 0.0
        self.accumulated_count = 0

    def forward(self, y_pred, y_true) -> np.ndarray:
        self._arrays = self._leaves(np.asarray(y_pred, dtype=np.float64), y_true)
        return self.graph.forward(*self._arrays)

    def backward(self, dvalues, y_true) -> None:
        arrays = self._leaves(np.asarray(dvalues, dtype=np.float64), y_true)
        samples = len(dvalues)
        (self.dinputs,) = self.graph.vjp(arrays, np.full(samples, 1.0 / samples), wrt=(0,))


def _cce(p, onehot, offset):
    """−log(Σⱼ pᵢⱼ·yᵢⱼ + offsetᵢ): the confidence in the true class, clipped."""
    return np.array([-(tv.dot(list(p[i]), list(onehot[i])) + offset[i]).log()
                     for i in range(p.shape[0])], dtype=object)


class Loss_CategoricalCrossentropy(Loss):
    """−log of the predicted probability of the true class (labels sparse or one-hot)."""

    def __init__(self) -> None:
        self.graph = LayerGraph(_cce, labels=("p", "y", "clip"))

    def _leaves(self, p, y_true):
        onehot = _onehot(y_true, p.shape)
        conf = np.sum(p * onehot, axis=1)
        return p, onehot, _clip_offset(conf)

    def backward(self, dvalues, y_true) -> None:
        # the book's -y/p / N is unclipped: the offset leaf is 0 here
        p = np.asarray(dvalues, dtype=np.float64)
        onehot = _onehot(y_true, p.shape)
        samples = len(p)
        (self.dinputs,) = self.graph.vjp((p, onehot, np.zeros(samples, dtype=np.float64)),
                                         np.full(samples, 1.0 / samples), wrt=(0,))


def _bce(p, y, offset):
    """mean over outputs of −(y·log c + (1 − y)·log(1 − c)), c = p + offset."""
    n = p.shape[1]
    out = np.empty(p.shape[0], dtype=object)
    for i in range(p.shape[0]):
        terms = []
        for j in range(n):
            c = p[i, j] + offset[i, j]
            terms.append(y[i, j] * c.log() + (1 - y[i, j]) * (1 - c).log())
        out[i] = tv.sum(terms) * (-1.0 / n)
    return out


class Loss_BinaryCrossentropy(Loss):
    """Binary cross-entropy per output, averaged over outputs (chapter 16)."""

    def __init__(self) -> None:
        self.graph = LayerGraph(_bce, labels=("p", "y", "clip"))

    def _leaves(self, p, y_true):
        y = np.asarray(y_true, dtype=np.float64).reshape(p.shape)
        return p, y, _clip_offset(p)


def _mse(p, y):
    n = p.shape[1]
    return np.array([tv.sum([(y[i, j] - p[i, j]) ** 2 for j in range(n)]) * (1.0 / n)
                     for i in range(p.shape[0])], dtype=object)


def _mae(p, y):
    n = p.shape[1]
    return np.array([tv.sum([(y[i, j] - p[i, j]).abs() for j in range(n)]) * (1.0 / n)
                     for i in range(p.shape[0])], dtype=object)


class Loss_MeanSquaredError(Loss):
    """mean over outputs of (y − p)² (chapter 17)."""

    def __init__(self) -> None:
        self.graph = LayerGraph(_mse, labels=("p", "y"))

    def _leaves(self, p, y_true):
        return p, np.asarray(y_true, dtype=np.float64).reshape(p.shape)


class Loss_MeanAbsoluteError(Loss):
    """mean over outputs of |y − p| (chapter 17); derivative sign(p − y), 0 where equal."""

    def __init__(self) -> None:
        self.graph = LayerGraph(_mae, labels=("p", "y"))

    def _leaves(self, p, y_true):
        return p, np.asarray(y_true, dtype=np.float64).reshape(p.shape)
