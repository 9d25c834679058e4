"""The book's formulas in plain float64 NumPy: the reference nn.nnfs is checked against."""

from __future__ import annotations

import numpy as np

EPS = 1e-7


class Dense:
    def __init__(self, nin, nout, wl1=0.0, wl2=0.0, bl1=0.0, bl2=0.0):
        self.weights = 0.01 * np.random.standard_normal((nin, nout))
        self.biases = np.zeros((1, nout))
        self.wl1, self.wl2, self.bl1, self.bl2 = wl1, wl2, bl1, bl2

    def forward(self, x):
        self.inputs = x
        self.output = x @ self.weights + self.biases

    def backward(self, d):
        self.dweights = self.inputs.T @ d
        self.dbiases = d.sum(axis=0, keepdims=True)
        self.dweights = self.dweights + self.wl1 * np.where(self.weights >= 0, 1.0, -1.0) \
            + 2 * self.wl2 * self.weights
        self.dbiases = self.dbiases + self.bl1 * np.where(self.biases >= 0, 1.0, -1.0) \
            + 2 * self.bl2 * self.biases
        self.dinputs = d @ self.weights.T

    def penalty(self):
        return (self.wl1 * np.abs(self.weights).sum() + self.wl2 * (self.weights ** 2).sum()
                + self.bl1 * np.abs(self.biases).sum() + self.bl2 * (self.biases ** 2).sum())


class ReLU:
    def forward(self, x):
        self.inputs = x
        self.output = np.maximum(0, x)

    def backward(self, d):
        self.dinputs = np.where(self.inputs > 0, d, 0.0)


class Sigmoid:
    def forward(self, x):
        self.output = 1 / (1 + np.exp(-x))

    def backward(self, d):
        self.dinputs = d * (1 - self.output) * self.output


class Linear:
    def forward(self, x):
        self.output = x

    def backward(self, d):
        self.dinputs = d.copy()


class Dropout:
    def __init__(self, rate):
        self.keep = 1 - rate

    def forward(self, x):
        self.mask = np.random.binomial(1, self.keep, size=x.shape) / self.keep
        self.output = x * self.mask

    def backward(self, d):
        self.dinputs = d * self.mask


class SoftmaxCCE:
    """Softmax, then the mean of −log p[y]; backward (p − onehot) / N."""

    def forward(self, x, y):
        e = np.exp(x - x.max(axis=1, keepdims=True))
        self.output = e / e.sum(axis=1, keepdims=True)
        conf = np.clip(self.output, EPS, 1 - EPS)[np.arange(len(x)), y]
        return np.mean(-np.log(conf))

    def backward(self, p, y):
        d = p.copy()
        d[np.arange(len(p)), y] -= 1
        self.dinputs = d / len(p)


class BCE:
    def forward(self, p, y):
        c = np.clip(p, EPS, 1 - EPS)
        return np.mean(np.mean(-(y * np.log(c) + (1 - y) * np.log(1 - c)), axis=-1))

    def backward(self, p, y):
        c = np.clip(p, EPS, 1 - EPS)
        self.dinputs = -(y / c - (1 - y) / (1 - c)) / p.shape[1] / len(p)


class MSE:
    def forward(self, p, y):
        return np.mean(np.mean((y - p) ** 2, axis=-1))

    def backward(self, p, y):
        self.dinputs = -2 * (y - p) / p.shape[1] / len(p)


class MAE:
    def forward(self, p, y):
        return np.mean(np.mean(np.abs(y - p), axis=-1))

    def backward(self, p, y):
        # d|y − p|/dp = −sign(y − p). The book prints np.sign(y_true − dvalues), the opposite
        # sign (an erratum); the engine differentiates |y − p| itself, so the reference is the
        # derivative. test_mae_backward_is_the_derivative pins the difference down.
        self.dinputs = -np.sign(y - p) / p.shape[1] / len(p)


class Optimizer:
    """The book's four rules with decay lr/(1 + decay·t) and ε = 1e-7."""

    def __init__(self, kind, lr, decay=0.0, momentum=0.0, rho=0.9, b1=0.9, b2=0.999):
        self.kind, self.lr, self.decay, self.momentum = kind, lr, decay, momentum
        self.rho, self.b1, self.b2 = rho, b1, b2
        self.t = 0
        self.state = {}

    def step(self, layers):
        lr = self.lr / (1 + self.decay * self.t)
        for layer in layers:
            for name, g in (("weights", layer.dweights), ("biases", layer.dbiases)):
                p = getattr(layer, name)
                m, c = self.state.get((id(layer), name), (np.zeros_like(p), np.zeros_like(p)))
                if self.kind == "sgd":
                    m = self.momentum * m - lr * g
                    p = p + m
                elif self.kind == "adagrad":
                    c = c + g * g
                    p = p - lr * g / (np.sqrt(c) + EPS)
                elif self.kind == "rmsprop":
                    c = self.rho * c + (1 - self.rho) * g * g
                    p = p - lr * g / (np.sqrt(c) + EPS)
                else:
                    m = self.b1 * m + (1 - self.b1) * g
                    c = self.b2 * c + (1 - self.b2) * g * g
                    mh = m / (1 - self.b1 ** (self.t + 1))
                    ch = c / (1 - self.b2 ** (self.t + 1))
                    p = p - lr * mh / (np.sqrt(ch) + EPS)
                self.state[(id(layer), name)] = (m, c)
                setattr(layer, name, p)
        self.t += 1
        return lr
