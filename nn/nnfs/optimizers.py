"""The book's optimizers (chapter 10): SGD with momentum, Adagrad, RMSprop, Adam, in NumPy.

All share inverse-time decay: lrₜ = lr / (1 + decay·t), t = ``iterations``, counted in
``post_update_params``; ε = 1e-7. The rules, with g = dweights (or dbiases):
SGD v ← μ·v − lrₜ·g, p ← p + v (without momentum p ← p − lrₜ·g); Adagrad c ← c + g²;
RMSprop c ← ρ·c + (1 − ρ)·g²; both p ← p − lrₜ·g / (√c + ε); Adam m ← β₁m + (1 − β₁)g,
c ← β₂c + (1 − β₂)g², p ← p − lrₜ·m̂ / (√ĉ + ε) with m̂ = m / (1 − β₁ᵗ⁺¹), ĉ = c / (1 − β₂ᵗ⁺¹).
"""

from __future__ import annotations

import numpy as np


class _Optimizer:
    def __init__(self, learning_rate: float, decay: float) -> None:
        self.learning_rate = learning_rate
        self.current_learning_rate = learning_rate
        self.decay = decay
        self.iterations = 0

    def pre_update_params(self) -> None:
        if self.decay:
            self.current_learning_rate = self.learning_rate * \
                (1. / (1. + self.decay * self.iterations))

    def post_update_params(self) -> None:
        self.iterations += 1

    def config(self) -> dict:
        """Hyperparameters (what ``Model.save`` stores; state such as momentums is not)."""
        return {k: getattr(self, k) for k in self._hyper}


class Optimizer_SGD(_Optimizer):
    _hyper = ("learning_rate", "decay", "momentum")

    def __init__(self, learning_rate: float = 1., decay: float = 0., momentum: float = 0.):
        super().__init__(learning_rate, decay)
        self.momentum = momentum

    def update_params(self, layer) -> None:
        if self.momentum:
            if not hasattr(layer, "weight_momentums"):
                layer.weight_momentums = np.zeros_like(layer.weights)
                layer.bias_momentums = np.zeros_like(layer.biases)
            weight_updates = self.momentum * layer.weight_momentums - \
                self.current_learning_rate * layer.dweights
            layer.weight_momentums = weight_updates
            bias_updates = self.momentum * layer.bias_momentums - \
                self.current_learning_rate * layer.dbiases
            layer.bias_momentums = bias_updates
        else:
            weight_updates = -self.current_learning_rate * layer.dweights
            bias_updates = -self.current_learning_rate * layer.dbiases
        layer.weights += weight_updates
        layer.biases += bias_updates


class Optimizer_Adagrad(_Optimizer):
    _hyper = ("learning_rate", "decay", "epsilon")

    def __init__(self, learning_rate: float = 1., decay: float = 0., epsilon: float = 1e-7):
        super().__init__(learning_rate, decay)
        self.epsilon = epsilon

    def update_params(self, layer) -> None:
        if not hasattr(layer, "weight_cache"):
            layer.weight_cache = np.zeros_like(layer.weights)
            layer.bias_cache = np.zeros_like(layer.biases)
        layer.weight_cache += layer.dweights ** 2
        layer.bias_cache += layer.dbiases ** 2
        layer.weights += -self.current_learning_rate * layer.dweights / \
            (np.sqrt(layer.weight_cache) + self.epsilon)
        layer.biases += -self.current_learning_rate * layer.dbiases / \
            (np.sqrt(layer.bias_cache) + self.epsilon)


class Optimizer_RMSprop(_Optimizer):
    _hyper = ("learning_rate", "decay", "epsilon", "rho")

    def __init__(self, learning_rate: float = 0.001, decay: float = 0., epsilon: float = 1e-7,
                 rho: float = 0.9):
        super().__init__(learning_rate, decay)
        self.epsilon = epsilon
        self.rho = rho

    def update_params(self, layer) -> None:
        if not hasattr(layer, "weight_cache"):
            layer.weight_cache = np.zeros_like(layer.weights)
            layer.bias_cache = np.zeros_like(layer.biases)
        layer.weight_cache = self.rho * layer.weight_cache + (1 - self.rho) * layer.dweights ** 2
        layer.bias_cache = self.rho * layer.bias_cache + (1 - self.rho) * layer.dbiases ** 2
        layer.weights += -self.current_learning_rate * layer.dweights / \
            (np.sqrt(layer.weight_cache) + self.epsilon)
        layer.biases += -self.current_learning_rate * layer.dbiases / \
            (np.sqrt(layer.bias_cache) + self.epsilon)


class Optimizer_Adam(_Optimizer):
    _hyper = ("learning_rate", "decay", "epsilon", "beta_1", "beta_2")

    def __init__(self, learning_rate: float = 0.001, decay: float = 0., epsilon: float = 1e-7,
                 beta_1: float = 0.9, beta_2: float = 0.999):
        super().__init__(learning_rate, decay)
        self.epsilon = epsilon
        self.beta_1 = beta_1
        self.beta_2 = beta_2

    def update_params(self, layer) -> None:
        if not hasattr(layer, "weight_cache"):
            layer.weight_momentums = np.zeros_like(layer.weights)
            layer.weight_cache = np.zeros_like(layer.weights)
            layer.bias_momentums = np.zeros_like(layer.biases)
            layer.bias_cache = np.zeros_like(layer.biases)
        b1, b2, t = self.beta_1, self.beta_2, self.iterations + 1
        layer.weight_momentums = b1 * layer.weight_momentums + (1 - b1) * layer.dweights
        layer.bias_momentums = b1 * layer.bias_momentums + (1 - b1) * layer.dbiases
        weight_momentums_corrected = layer.weight_momentums / (1 - b1 ** t)
        bias_momentums_corrected = layer.bias_momentums / (1 - b1 ** t)
        layer.weight_cache = b2 * layer.weight_cache + (1 - b2) * layer.dweights ** 2
        layer.bias_cache = b2 * layer.bias_cache + (1 - b2) * layer.dbiases ** 2
        weight_cache_corrected = layer.weight_cache / (1 - b2 ** t)
        bias_cache_corrected = layer.bias_cache / (1 - b2 ** t)
        layer.weights += -self.current_learning_rate * weight_momentums_corrected / \
            (np.sqrt(weight_cache_corrected) + self.epsilon)
        layer.biases += -self.current_learning_rate * bias_momentums_corrected / \
            (np.sqrt(bias_cache_corrected) + self.epsilon)
