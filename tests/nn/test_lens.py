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


def _dense(seed=0, n_in=4, n_out=3):
    from nn.nnfs import Layer_Dense

    np.random.seed(seed)
    layer = Layer_Dense(n_in, n_out)
    layer.weights = np.random.uniform(-1, 1, layer.weights.shape)  # not the book's 0.01 scale
    layer.biases = np.random.uniform(-1, 1, layer.biases.shape)
    return layer


def test_layer_lens_takes_a_layer_dense():
    layer = _dense()
    W, b = layer.weights.copy(), layer.biases.copy()
    X = np.random.RandomState(5).uniform(-2, 2, (5, 4))
    G = np.random.RandomState(6).uniform(-1, 1, (5, 3))
    lens = layer_lens(layer, X.tolist(), upstream=G.tolist())
    assert np.array_equal(layer.weights, W) and np.array_equal(layer.biases, b)
    assert not hasattr(layer, "dweights")  # the lens ran no backward of the layer itself
    np.testing.assert_array_equal(lens.weights, W)
    np.testing.assert_allclose(lens.dvalues, G, atol=1e-12, rtol=0)  # z is the output itself
    np.testing.assert_allclose(lens.dweights_engine, X.T @ G, atol=1e-12, rtol=0)
    np.testing.assert_allclose(lens.dbiases_engine, G.sum(axis=0), atol=1e-12, rtol=0)
    np.testing.assert_allclose(lens.dinputs_engine, G @ W.T, atol=1e-12, rtol=0)
    np.testing.assert_allclose(lens.dinputs_formula, G @ W.T, atol=1e-12, rtol=0)
    assert lens.max_error() <= 1e-12
    # the same numbers as the layer's own backward (the engine's vjp, compiled or not)
    layer.forward(X)
    layer.backward(G)
    np.testing.assert_allclose(lens.dweights_engine, layer.dweights, atol=1e-12, rtol=0)
    np.testing.assert_allclose(lens.dbiases_engine, layer.dbiases[0], atol=1e-12, rtol=0)
    np.testing.assert_allclose(lens.dinputs_engine, layer.dinputs, atol=1e-12, rtol=0)


def test_layer_lens_same_numbers_for_layer_and_layer_dense():
    """An nn.Layer and a Layer_Dense with the same weights give the same lens (linear)."""
    random.seed(4)
    layer = nn.Layer(3, 2, activation="linear")
    dense = _dense(n_in=3, n_out=2)
    dense.weights = np.array([[n.w[k].data for n in layer.neurons] for k in range(3)])
    dense.biases = np.array([[n.b.data for n in layer.neurons]])
    X = [[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]]
    a, b = layer_lens(layer, X, seed=2), layer_lens(dense, X, seed=2)
    for name in ("dvalues", "dweights_engine", "dbiases_engine", "dinputs_engine"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), atol=1e-12, rtol=0)


def test_layer_lens_errors():
    with pytest.raises(TypeError, match="nn.Layer or an nn.nnfs.Layer_Dense"):
        layer_lens(object(), [[1.0]])
    with pytest.raises(ValueError, match="takes rows of 4 inputs"):
        layer_lens(_dense(), [[1.0, 2.0]])
    with pytest.raises(ValueError, match="upstream must be 1 rows of 3"):
        layer_lens(_dense(), [[1.0, 2.0, 3.0, 4.0]], upstream=[[1.0]])
    with pytest.raises(ValueError, match="non-empty list of rows"):
        layer_lens(_dense(), [])


def _tables(html_text):
    """[(caption, [[cell text]])] of every table in the lens's HTML."""
    from html.parser import HTMLParser

    class P(HTMLParser):
        def __init__(self):
            super().__init__()
            self.tables, self.tag = [], None

        def handle_starttag(self, tag, attrs):
            self.tag = tag
            if tag == "table":
                self.tables.append(["", []])
            elif tag == "tr":
                self.tables[-1][1].append([])

        def handle_data(self, data):
            if self.tag == "caption":
                self.tables[-1][0] += data
            elif self.tag == "td":
                self.tables[-1][1][-1].append(data)

        def handle_endtag(self, tag):
            self.tag = None

    p = P()
    p.feed(html_text)
    return [(c, rows) for c, rows in p.tables]


def _cells(m):
    rows = m if isinstance(m[0], list) else [m]
    return [[f"{x:.6g}" for x in r] for r in rows]


def test_lenses_show_engine_and_formula_side_by_side():
    soft = softmax_ce_lens([0.3, -1.2, 2.5], 1)
    tables = _tables(soft._repr_html_())
    expected = []
    for _, a, ca, b, cb in soft.pairs():
        expected += [(ca, _cells(a)), (cb, _cells(b))]
    assert tables == expected
    assert tables[1] == ("diag(p) − ppᵀ", _cells(soft.jacobian_formula))
    assert "largest difference" in soft._repr_html_()
    random.seed(0)
    dense = layer_lens(nn.Layer(3, 2), [[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]])
    tables = _tables(dense._repr_html_())
    assert [c for c, _ in tables] == ["from the engine's grads", "inputsᵀ · dvalues",
                                      "from the engine's grads", "Σ dvalues",
                                      "from the engine's grads", "dvalues · weightsᵀ"]
    assert tables[0][1] == _cells(dense.dweights_engine)
    assert tables[3][1] == _cells(dense.dbiases_formula)
    assert tables[5][1] == _cells(dense.dinputs_formula)
    assert len(tables[4][1]) == 2 and len(tables[4][1][0]) == 3  # dinputs: samples × inputs
