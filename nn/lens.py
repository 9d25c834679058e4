"""Lenses from the scalar graph to the matrix formulas: softmax + cross-entropy, and a dense layer.

``softmax_ce_lens(logits, target)`` builds softmax then CE from scalar ops and reads, from the
grads the engine computed, the Jacobian ∂pᵢ/∂zⱼ (beside diag(p) − ppᵀ), dL/dp (beside −y/p),
the chain Jᵀ·(−y/p) and the engine's dL/dz (beside the fused p − y). ``layer_lens(layer, X)``
runs an ``nn.Layer`` on a small batch and assembles dweights, dbiases, dinputs from the scalar
grads, beside inputsᵀ·dvalues, Σ dvalues and dvalues·weightsᵀ; it takes an ``nn.nnfs.Layer_Dense``
too, whose own engine graph (the same ``tv.dot`` per output it trains with) is rebuilt on fresh
leaves. NumPy is imported when used.
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass
from typing import List, Optional, Sequence

import tinygrad_value as tv


@dataclass
class SoftmaxLens:
    """``root`` is L = −log p_target (draw it with ``tv.draw_dot``); ``p`` the probabilities;
    each ``*_engine`` matrix is read from ``.grad``s, each ``*_formula`` one from NumPy."""

    root: tv.Value
    p: List[float]
    jacobian_engine: list
    jacobian_formula: list
    dl_dp_engine: list
    dl_dp_formula: list
    chain: list
    dl_dz_engine: list
    fused: list

    def pairs(self) -> List[tuple]:
        """(what, engine's matrix, its caption, formula's matrix, its caption), as shown."""
        return [("∂p/∂z", self.jacobian_engine, "from the engine's grads", self.jacobian_formula,
                 "diag(p) − ppᵀ"),
                ("dL/dp", self.dl_dp_engine, "from the engine's grads", self.dl_dp_formula,
                 "−y/p"),
                ("dL/dz", self.chain, "the chain Jᵀ·(−y/p)", self.fused, "fused p − y"),
                ("dL/dz", self.dl_dz_engine, "from the engine's grads", self.fused,
                 "fused p − y")]

    def max_error(self) -> float:
        return _max_error(self.pairs())

    def _repr_html_(self) -> str:
        return _pairs_html("softmax + cross-entropy, L = " + f"{self.root.data:.6g}", self.pairs(),
                           self.max_error())


def softmax_ce_lens(logits: Sequence[float], target: int) -> SoftmaxLens:
    """pᵢ = e^(zᵢ − max z) / Σⱼ e^(zⱼ − max z), L = −log p_target, all as scalar Values."""
    import numpy as np

    n = len(logits)
    if not 0 <= target < n:
        raise ValueError(f"target must be a class index in 0..{n - 1}, got {target!r}")
    z = [tv.Value(float(x), label=f"z{i}") for i, x in enumerate(logits)]
    top = max(float(x) for x in logits)  # a constant shift: softmax is unchanged, exp is safe
    e = [(zi - top).exp() for zi in z]
    s = tv.sum(e)
    p = [ei / s for ei in e]
    for i, pi in enumerate(p):
        pi.label = f"p{i}"
    jac = []
    for pi in p:  # row i of ∂p/∂z: one backward pass from pᵢ
        for zj in z:
            zj.grad = 0.0
        pi.backward()
        jac.append([zj.grad for zj in z])
    root = -p[target].log()
    root.label = "L"
    for v in z + p:  # our own Values: a p outside L's graph keeps dL/dp = 0
        v.grad = 0.0
    root.backward()
    pv = np.array([pi.data for pi in p])
    y = np.zeros(n)
    y[target] = 1.0
    dl_dp = -y / pv
    return SoftmaxLens(root, pv.tolist(), jac, (np.diag(pv) - np.outer(pv, pv)).tolist(),
                       [pi.grad for pi in p], dl_dp.tolist(), (np.array(jac).T @ dl_dp).tolist(),
                       [zj.grad for zj in z], (pv - y).tolist())


@dataclass
class LayerLens:
    """A layer on a batch: ``inputs`` (rows), ``weights`` (n_inputs × n_neurons, the book's
    layout), ``dvalues`` = dL/dz read from the engine; each gradient twice: ``*_engine`` from
    the scalar ``.grad``s, ``*_formula`` from the matrix formula."""

    inputs: list
    weights: list
    dvalues: list
    dweights_engine: list
    dweights_formula: list
    dbiases_engine: list
    dbiases_formula: list
    dinputs_engine: list
    dinputs_formula: list

    def pairs(self) -> List[tuple]:
        """(what, engine's matrix, its caption, formula's matrix, its caption), as shown."""
        grads = "from the engine's grads"
        return [("dweights", self.dweights_engine, grads, self.dweights_formula,
                 "inputsᵀ · dvalues"),
                ("dbiases", self.dbiases_engine, grads, self.dbiases_formula, "Σ dvalues"),
                ("dinputs", self.dinputs_engine, grads, self.dinputs_formula,
                 "dvalues · weightsᵀ")]

    def max_error(self) -> float:
        return _max_error(self.pairs())

    def _repr_html_(self) -> str:
        return _pairs_html(f"a dense layer on {len(self.inputs)} samples", self.pairs(),
                           self.max_error())


def _max_error(pairs) -> float:
    import numpy as np

    return max(float(np.max(np.abs(np.array(a) - np.array(b)))) for _, a, _, b, _ in pairs)


def _matrix_html(m, caption: str) -> str:
    import html

    rows = m if m and isinstance(m[0], (list, tuple)) else [m]  # a vector is one row
    body = "".join("<tr>" + "".join(f"<td>{x:.6g}</td>" for x in r) + "</tr>" for r in rows)
    return (f'<table style="display:inline-table;margin-right:1.5em"><caption>'
            f"{html.escape(caption)}</caption>{body}</table>")


def _pairs_html(title: str, pairs, error: float) -> str:
    """Each gradient twice, side by side: as the engine computed it, and by its formula."""
    import html

    parts = [f"<h4>{html.escape(title)}</h4>"]
    for what, a, ca, b, cb in pairs:
        parts.append(f"<div><b>{html.escape(what)}</b><br>{_matrix_html(a, ca)}"
                     f"{_matrix_html(b, cb)}</div>")
    parts.append(f"<p>largest difference: {error:.3g}</p>")
    return "<div class=\"tv-lens\">" + "".join(parts) + "</div>"


def layer_lens(layer, X: Sequence[Sequence[float]], upstream: Optional[list] = None,
               seed: int = 0) -> LayerLens:
    """Run ``layer`` (an ``nn.Layer`` or an ``nn.nnfs.Layer_Dense``) on the rows X with
    L = Σᵢⱼ gᵢⱼ·outᵢⱼ, g the ``upstream`` matrix (random in [-1, 1] from ``seed`` when None),
    backpropagate, and read dvalues = dL/dz (z the weighted sums, before any activation; for
    a Layer_Dense z is its output, so dvalues = g) and every scalar grad.
    The formulas: dweights = inputsᵀ·dvalues, dbiases = Σ over rows of dvalues,
    dinputs = dvalues·weightsᵀ. The given layer is not touched (a Layer_Dense's penalties are
    not part of its graph, so they are not in the lens either)."""
    X = [list(map(float, x)) for x in X]
    if not X or any(len(x) != len(X[0]) for x in X):
        raise ValueError("X must be a non-empty list of rows of equal length (one row per "
                         "sample)")
    if hasattr(layer, "neurons"):
        dvalues, W, dW, db, dX = _nn_layer(layer, X, upstream, seed)
    elif hasattr(layer, "weights") and hasattr(layer, "biases") and hasattr(layer, "graph"):
        dvalues, W, dW, db, dX = _dense_layer(layer, X, upstream, seed)
    else:
        raise TypeError(f"layer_lens needs an nn.Layer or an nn.nnfs.Layer_Dense, got "
                        f"{type(layer).__name__}")
    import numpy as np

    Xa, D, Wa = np.array(X), np.array(dvalues), np.array(W)
    return LayerLens(X, W, dvalues, dW, (Xa.T @ D).tolist(),
                     db, D.sum(axis=0).tolist(), dX, (D @ Wa.T).tolist())


def _upstream(upstream, n_rows: int, n_out: int, seed: int) -> list:
    if upstream is None:
        rng = random.Random(seed)
        return [[rng.uniform(-1, 1) for _ in range(n_out)] for _ in range(n_rows)]
    if len(upstream) != n_rows or any(len(g) != n_out for g in upstream):
        raise ValueError(f"upstream must be {n_rows} rows of {n_out} numbers (one per output "
                         f"of each sample), got {[len(g) for g in upstream]}")
    return [[float(x) for x in g] for g in upstream]


def _nn_layer(layer, X, upstream, seed) -> tuple:
    twin = copy.deepcopy(layer)
    if len(X[0]) != len(twin.neurons[0].w):
        raise ValueError(f"this layer takes rows of {len(twin.neurons[0].w)} inputs, got "
                         f"{len(X[0])}")
    rows = [[tv.Value(a, label=f"x{i}.{k}") for k, a in enumerate(x)] for i, x in enumerate(X)]
    outs = []
    for r in rows:
        o = twin(r)
        outs.append(o if isinstance(o, list) else [o])
    n_out = len(outs[0])
    upstream = _upstream(upstream, len(rows), n_out, seed)
    root = tv.sum([g * o for grow, orow in zip(upstream, outs) for g, o in zip(grow, orow)])
    root.backward()
    neurons = twin.neurons
    # z, the weighted sum, is the output itself for a linear neuron, else the activation's input
    dvalues = [[(o if n.activation == "linear" else o.children[0]).grad
                for n, o in zip(neurons, orow)] for orow in outs]
    W = [[neurons[j].w[k].data for j in range(n_out)] for k in range(len(X[0]))]
    dW = [[neurons[j].w[k].grad for j in range(n_out)] for k in range(len(X[0]))]
    db = [neurons[j].b.grad for j in range(n_out)]
    dX = [[v.grad for v in r] for r in rows]
    return dvalues, W, dW, db, dX


def _dense_layer(layer, X, upstream, seed) -> tuple:
    """The Layer_Dense's own build (``layer.graph.build``: one ``tv.dot`` per output, as in
    training) on fresh leaf Values for the inputs, weights and biases."""
    import numpy as np

    from .nnfs.graph import leaf_array

    weights, biases = np.asarray(layer.weights, float), np.asarray(layer.biases, float)
    if len(X[0]) != weights.shape[0]:
        raise ValueError(f"this Layer_Dense takes rows of {weights.shape[0]} inputs, got "
                         f"{len(X[0])}")
    x, w, b = (leaf_array(a, lab) for a, lab in ((np.array(X), "x"), (weights, "w"),
                                                   (biases.reshape(1, -1), "b")))
    out = np.asarray(layer.graph.build(x, w, b), dtype=object)
    upstream = _upstream(upstream, *out.shape, seed)
    root = tv.sum([g * o for grow, orow in zip(upstream, out.tolist()) for g, o in zip(grow, orow)])
    root.backward()

    def grads(a):
        return [[v.grad for v in row] for row in a.tolist()]

    return grads(out), weights.tolist(), grads(w), grads(b)[0], grads(x)
