"""The softmax + cross-entropy lens and the dense-layer lens agree with NumPy's formulas."""

from __future__ import annotations

import random

import numpy as np
import pytest

import nn
from nn.lens import layer_lens, softmax_ce_lens


@pytest.mark.parametrize("logits,target", [([2.0, 1.0, 0.1], 0), ([0.3, -1.2, 2.5, 0.0], 3),
                                           ([40.0, 39.0, 30.0], 1)])
def test_softmax_ce_lens(logits, target):
    lens = softmax_ce_lens(logits, target)
    z = np.array(logits)
    p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    y = np.eye(len(z))[target]
    np.testing.assert_allclose(lens.p, p, rtol=0, atol=1e-12)
    np.testing.assert_allclose(lens.jacobian_engine, np.diag(p) - np.outer(p, p), atol=1e-12,
                               rtol=0)
    np.testing.assert_allclose(lens.jacobian_formula, np.diag(p) - np.outer(p, p), atol=1e-12,
                               rtol=0)
    np.testing.assert_allclose(lens.dl_dp_engine, -y / p, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(lens.chain, p - y, atol=1e-12, rtol=0)
    np.testing.assert_allclose(lens.dl_dz_engine, p - y, atol=1e-12, rtol=0)
    assert lens.max_error() <= 1e-12
    assert lens.root.data == pytest.approx(-np.log(p[target]), rel=1e-12)
    with pytest.raises(ValueError, match="target must be a class index"):
        softmax_ce_lens(logits, len(logits))


@pytest.mark.parametrize("activation", ["linear", "relu", "tanh"])
def test_layer_lens(activation):
    random.seed(3)
    layer = nn.Layer(4, 3, activation=activation)
    before = [(p.data, p.grad) for p in layer.parameters()]
    rng = random.Random(1)
    X = [[rng.uniform(-2, 2) for _ in range(4)] for _ in range(5)]
    lens = layer_lens(layer, X)
    assert [(p.data, p.grad) for p in layer.parameters()] == before
    W = np.array([[n.w[k].data for n in layer.neurons] for k in range(4)])
    b = np.array([n.b.data for n in layer.neurons])
    Xa = np.array(X)
    np.testing.assert_array_equal(lens.weights, W)
    # dvalues by hand: upstream times the activation's derivative at z = XW + b
    rng2 = random.Random(0)
    G = np.array([[rng2.uniform(-1, 1) for _ in range(3)] for _ in range(5)])
    Z = Xa @ W + b
    d = {"linear": np.ones_like(Z), "relu": (Z > 0).astype(float),
         "tanh": 1 - np.tanh(Z) ** 2}[activation]
    D = G * d
    np.testing.assert_allclose(lens.dvalues, D, atol=1e-12, rtol=0)
    np.testing.assert_allclose(lens.dweights_engine, Xa.T @ D, atol=1e-12, rtol=0)
    np.testing.assert_allclose(lens.dbiases_engine, D.sum(axis=0), atol=1e-12, rtol=0)
    np.testing.assert_allclose(lens.dinputs_engine, D @ W.T, atol=1e-12, rtol=0)
    np.testing.assert_allclose(lens.dweights_formula, Xa.T @ D, atol=1e-12, rtol=0)
    assert lens.max_error() <= 1e-12
