"""Dense blocks (tinygrad_value/compiled/dense.py): rows of products sharing their factors run as
matrix products, equal to eager to 1e-9 relative; everything else falls back row by row, exactly.

The random graphs are MLP-shaped (samples × layers × neurons) with the variations the recognition
must survive: micrograd's chain of binary adds, ``tv.dot`` with the bias before or after, factors
swapped, no bias, and per row: a term dropped, a weight used twice, the terms in another order.
"""

from __future__ import annotations

import functools
import math
import random

import pytest

np = pytest.importorskip("numpy")

from hypothesis import HealthCheck, assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import tinygrad_value as tv  # noqa: E402
from tinygrad_value.compiled.replay import Program  # noqa: E402
from tinygrad_value.engine import scalar_math  # noqa: E402

REL, ABS = 1e-9, 1e-12


def close(a: float, b: float) -> bool:
    return a == b or math.isclose(a, b, rel_tol=REL, abs_tol=ABS)


STYLES = ["chain", "dot", "dot_first", "swapped", "nobias"]
VARIATIONS = ["none"] * 5 + ["partial", "twice", "reordered"]


def pre_activation(style: str, w: list, x: list, b: tv.Value) -> tv.Value:
    if style == "chain":  # micrograd's Neuron
        return sum((wi * xi for wi, xi in zip(w, x)), b)
    if style == "dot":
        return b + tv.dot(w, x)
    if style == "dot_first":
        return tv.dot(w, x) + b
    if style == "swapped":
        return sum((xi * wi for wi, xi in zip(w, x)), b)
    return functools.reduce(lambda acc, t: acc + t, [wi * xi for wi, xi in zip(w, x)])


def activate(v: tv.Value, name: str) -> tv.Value:
    return {"relu": v.relu, "tanh": v.tanh, "linear": lambda: v}[name]()


def mlp_graph(rng_draw, samples, nin, widths, styles, acts, variation_of, root="squares"):
    """(root, leaves): every sample through every layer; ``variation_of(s, layer, j)`` says how
    neuron j's row for sample s departs from the shared pattern. ``root="sum"`` adds the
    outputs up, each read once (a linear last layer then folds into the sum)."""
    value = rng_draw
    xs = [[tv.Value(value(), label=f"x{s}.{i}") for i in range(nin)] for s in range(samples)]
    layers, n = [], nin
    for L, width in enumerate(widths):
        W = [[tv.Value(value(), label=f"w{L}.{j}.{i}") for i in range(n)] for j in range(width)]
        B = [tv.Value(value(), label=f"b{L}.{j}") for j in range(width)]
        layers.append((W, B))
        n = width
    outs = []
    for s in range(samples):
        h = xs[s]
        for L, (W, B) in enumerate(layers):
            new = []
            for j, (w, b) in enumerate(zip(W, B)):
                w, x = list(w), list(h)
                kind = variation_of(s, L, j)
                if kind == "partial" and len(w) > 1:
                    w, x = w[:-1], x[:-1]
                elif kind == "twice" and len(w) > 1:
                    w[1] = w[0]
                elif kind == "reordered" and len(w) > 1:
                    w, x = w[::-1], x[::-1]
                new.append(activate(pre_activation(styles[L], w, x, b), acts[L]))
            h = new
        outs.extend(h)
    if root == "sum":
        root = tv.sum(outs)
    else:
        root = tv.sum([o * o for o in outs]) + tv.sum(outs) * 0.5
    leaves = [v for row in xs for v in row] + [
        v for W, B in layers for v in [u for w in W for u in w] + B]
    return root, leaves


def eager(root: tv.Value, leaves: list):
    nodes = tv.topo_order(root)
    for v in nodes:
        v.grad = 0.0
    root.backward()
    grads = [v.grad for v in leaves]
    interior = [(v, v.data, v.grad) for v in nodes if v.children]
    for v in leaves:
        v.grad = 0.0
    return grads, interior


def check(root: tv.Value, leaves: list, **options) -> Program:
    """Value, every leaf grad and every interior value/grad equal eager to 1e-9 relative."""
    want, interior = eager(root, leaves)
    prog = Program(root, **options)
    got = prog()
    assert close(got, root.data), f"root: compiled {got!r} != eager {root.data!r}"
    for v, w in zip(leaves, want):
        assert close(v.grad, w), f"grad of {v.label}: compiled {v.grad!r} != eager {w!r}"
        v.grad = 0.0
    for v, data, grad in interior:
        assert close(prog.value(v), data), f"value of a {v.op} node"
        assert close(prog.grad(v), grad), f"grad of a {v.op} node"
    return prog


@st.composite
def mlps(draw):
    samples = draw(st.integers(1, 4))
    nin = draw(st.integers(1, 4))
    widths = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
    styles = [draw(st.sampled_from(STYLES)) for _ in widths]
    acts = [draw(st.sampled_from(["relu", "tanh", "linear"])) for _ in widths]
    values = st.floats(-2.0, 2.0, allow_nan=False, allow_infinity=False)
    variations = {}

    def variation_of(s, L, j):
        key = (s, L, j)
        if key not in variations:
            variations[key] = draw(st.sampled_from(VARIATIONS))
        return variations[key]

    root, leaves = mlp_graph(lambda: draw(values), samples, nin, widths, styles, acts,
                             variation_of, root=draw(st.sampled_from(["squares", "sum"])))
    # away from relu's kink: BLAS's rounding must not flip a unit on or off
    for v in tv.topo_order(root):
        if v.op == "relu":
            assume(abs(v.children[0].data) > 1e-6)
    return root, leaves


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(graph=mlps(), narrow_levels=st.booleans())
def test_random_mlp_graphs_match_eager(graph, narrow_levels):
    root, leaves = graph
    check(root, leaves, narrow_levels=narrow_levels)
    # and twice more after a change of every leaf: the blocks re-gather their inputs
    for v in leaves:
        v.data = v.data * 0.5 + 0.25
    for v in tv.topo_order(root):  # the eager graph recomputed from the changed leaves
        if v.children:
            v.data = v._fn.forward(scalar_math, *[c.data for c in v.children],
                                   *([v._arg] if v._fn.has_param else []))
    for v in tv.topo_order(root):
        if v.op == "relu":
            assume(abs(v.children[0].data) > 1e-6)
    check(root, leaves, narrow_levels=narrow_levels)


def _seeded(seed):
    rng = random.Random(seed)
    return lambda: rng.uniform(-1.5, 1.5)


@pytest.mark.parametrize("style", STYLES)
def test_a_plain_mlp_becomes_one_block_per_layer(style):
    root, leaves = mlp_graph(_seeded(0), 5, 3, [4, 2], [style, style], ["tanh", "linear"],
                             lambda s, L, j: "none")
    prog = check(root, leaves)
    # (samples, neurons, inputs); which factor is "A" follows the order written (x*w swaps);
    # a bias in the same sum as the products rides along as one more column (b·1)
    bias = style != "nobias"  # b + tv.dot(w, x): the dot is inlined into the bias sum
    shapes = [(max(d.S, d.J), min(d.S, d.J), d.h) for d in prog._p.dense]
    assert shapes == [(5, 4, 3 + bias), (5, 2, 4 + bias)]


@pytest.mark.parametrize("samples", [1, 3])
def test_outputs_folded_into_a_sum_read_their_own_value(samples):
    """nn.predict compiles the sum of a tv.dot MLP's outputs: each output (dot + bias) folds
    into that sum, and its dot's products are inlined into the sum's dense row; value(output)
    must read the output's own terms, not the first terms of the widened row."""
    rng = _seeded(7)
    root, leaves = mlp_graph(rng, samples, 3, [4, 2], ["dot", "dot"],
                             ["relu", "linear"], lambda s, L, j: "none", root="sum")
    prog = check(root, leaves)
    assert prog.dense_blocks, "the layers should run as dense blocks"


def test_a_row_that_inlines_a_dot_keeps_the_ranges_of_what_folded_into_it():
    """t = (b + dot(w, x)) + c, for two x's: t's row inlines the dot, so its group lists more
    terms than it did; b + dot, folded into t, must read its own (now wider) range of t's row,
    not t's first two terms."""
    rng = _seeded(8)
    w, b = [tv.Value(rng()) for _ in range(3)], tv.Value(rng())
    xs = [[tv.Value(rng()) for _ in range(3)] for _ in range(2)]
    cs = [tv.Value(rng()) for _ in range(2)]
    ts = [(b + tv.dot(w, x)) + c for x, c in zip(xs, cs)]
    prog = check(tv.sum([t * t for t in ts]), w + [b] + xs[0] + xs[1] + cs)
    assert [(d.S, d.J) for d in prog._p.dense] == [(2, 1)], "the two t's: one block"


def test_the_exact_path_sums_forward_as_eager_does():
    """Without blocks (``dense=False``) every sum is added in eager's order: sums and products
    come out bit for bit, interior nodes included (NumPy's tanh may differ from math.tanh by an
    ulp, so the layers here are linear; gradients are 1e-9 close, as before)."""
    root, leaves = mlp_graph(_seeded(1), 4, 3, [5, 3], ["chain", "dot"], ["linear", "linear"],
                             lambda s, L, j: "none")
    want, interior = eager(root, leaves)
    prog = Program(root, dense=False)
    assert prog._p.dense == []
    assert prog() == root.data
    assert all(prog.value(v) == data for v, data, _grad in interior)
    assert all(close(v.grad, w) for v, w in zip(leaves, want))


def test_rows_that_share_nothing_fall_back_exactly():
    rng = _seeded(2)
    xs = [tv.Value(rng()) for _ in range(6)]
    ws = [tv.Value(rng()) for _ in range(6)]
    rows = [tv.dot(xs[i:i + 3], ws[i:i + 3]) for i in range(3)]  # overlapping, never equal
    root = tv.sum([r * r for r in rows])
    want, _ = eager(root, xs + ws)
    prog = Program(root)
    assert prog._p.dense == []
    assert prog() == root.data and all(close(v.grad, w) for v, w in zip(xs + ws, want))


def test_a_partial_row_falls_back_and_the_rest_stays_dense():
    """Neuron 0 sees one input fewer for sample 2: that row falls back; the other rows of the
    layer still form blocks (3 neurons × 3 samples, and neuron 0 × samples 0-1)."""
    root, leaves = mlp_graph(_seeded(3), 3, 3, [4], ["chain"], ["tanh"],
                             lambda s, L, j: "partial" if (s, j) == (2, 0) else "none")
    prog = check(root, leaves)
    assert sorted((d.S, d.J) for d in prog._p.dense) == [(2, 1), (3, 3)]


@pytest.mark.parametrize("kind", ["twice", "reordered"])
def test_a_weight_used_twice_or_weights_in_another_order(kind):
    root, leaves = mlp_graph(_seeded(4), 3, 3, [3, 2], ["chain", "dot"], ["relu", "tanh"],
                             lambda s, L, j: kind if j == 1 else "none")
    check(root, leaves)
    check(root, leaves, narrow_levels=False)


def test_a_dot_computed_by_one_block_is_not_inlined_into_another():
    """The outputs' ``tv.dot`` rows form a block (samples × 1) and so do the same outputs'
    ``b + dot`` rows with the dot inlined; the second block, found in a later round, must read
    the first one's outputs instead of inlining them again (the output bias's gradient came
    out 1 instead of 5 when it did)."""
    root, leaves = mlp_graph(_seeded(6), 5, 3, [4, 1], ["dot", "dot"], ["relu", "linear"],
                             lambda s, L, j: "none", root="sum")
    check(root, leaves)
    check(root, leaves, narrow_levels=False)


def test_rows_depending_on_each_other_are_never_one_block():
    """dot(w, x) and dot(w, [dot(w, x), …]) share w, but the second reads the first."""
    rng = _seeded(5)
    w = [tv.Value(rng()) for _ in range(2)]
    x = [tv.Value(rng()) for _ in range(2)]
    first = tv.dot(w, x)
    second = tv.dot(w, [first, x[0]])
    third = tv.dot(w, [x[1], x[0]])
    root = second * third + first
    prog = check(root, w + x)
    for d in prog._p.dense:
        assert d.S * d.J <= 2


def test_the_programs_repr_counts_what_it_runs():
    import random

    import nn
    import tinygrad_value as tv

    random.seed(0)
    model = nn.MLP(3, [4, 1], use_dot=True)
    xs = [[tv.Value(random.uniform(-1, 1)) for _ in range(3)] for _ in range(5)]
    loss = tv.sum([model(x) for x in xs])
    prog = tv.compile(loss)
    text = repr(prog)
    assert text.startswith(f"<tv.compile: {len(prog)} nodes, ")
    assert f"{len(prog.dense_blocks)} dense blocks>" in text
