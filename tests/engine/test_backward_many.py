"""tv.backward / tv.grad: several outputs, upstream seeds, against torch.autograd."""

from __future__ import annotations

import random

import pytest

import tinygrad_value as tv
from tests.conftest import need_torch


def _graph(xs):
    """Three outputs sharing nodes, one of them also an input of another."""
    a, b, c = xs
    h = (a * b + c).tanh()
    o1 = h * a + b.exp()
    o2 = (h + c * c).sigmoid() * o1
    o3 = tv.dot([a, b, c], [h, o1, o2]).relu() + a.log()
    return [o1, o2, o3]


def _torch_graph(torch, xs):
    a, b, c = xs
    h = torch.tanh(a * b + c)
    o1 = h * a + torch.exp(b)
    o2 = torch.sigmoid(h + c * c) * o1
    o3 = torch.relu(a * h + b * o1 + c * o2) + torch.log(a)
    return [o1, o2, o3]


DATA = [0.7, -0.4, 1.3]
SEEDS = [0.5, -2.0, 1.5]


def _torch_grads(seeds, interior=False):
    torch = need_torch()
    xs = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in DATA]
    outs = _torch_graph(torch, xs)
    return [float(g) for g in torch.autograd.grad(outs, xs, [torch.tensor(s) for s in seeds])]


def test_backward_matches_torch_autograd_backward():
    xs = [tv.Value(v) for v in DATA]
    tv.backward(_graph(xs), SEEDS)
    expected = _torch_grads(SEEDS)
    assert [x.grad for x in xs] == pytest.approx(expected, rel=1e-12)


def test_backward_accumulates_leaves_and_resets_interior():
    xs = [tv.Value(v) for v in DATA]
    outs = _graph(xs)
    tv.backward(outs, SEEDS)
    first_leaf = [x.grad for x in xs]
    first_interior = [o.grad for o in outs]
    tv.backward(outs, SEEDS)
    assert [x.grad for x in xs] == pytest.approx([2 * g for g in first_leaf], rel=1e-12)
    assert [o.grad for o in outs] == first_interior
    # o1 feeds o2 and o3, so its grad is its seed plus what flows back from them
    assert outs[0].grad != SEEDS[0]
    assert outs[2].grad == SEEDS[2]


def test_grad_matches_torch_and_touches_no_grad():
    xs = [tv.Value(v) for v in DATA]
    outs = _graph(xs)
    for x in xs:
        x.grad = 0.25
    got = tv.grad(outs, xs, SEEDS)
    assert got == pytest.approx(_torch_grads(SEEDS), rel=1e-12)
    assert [x.grad for x in xs] == [0.25, 0.25, 0.25]
    assert all(o.grad == 0.0 for o in outs)
    assert all(isinstance(g, float) for g in got)


def test_grad_defaults_to_ones_and_equals_backward_of_the_sum():
    xs = [tv.Value(v) for v in DATA]
    outs = _graph(xs)
    got = tv.grad(outs, xs)
    assert got == pytest.approx(_torch_grads([1.0, 1.0, 1.0]), rel=1e-12)
    total = outs[0] + outs[1] + outs[2]
    total.backward()
    assert got == pytest.approx([x.grad for x in xs], rel=1e-12)


def test_single_output_and_interior_inputs():
    a = tv.Value(2.0)
    h = a * a
    y = h * 3.0
    assert tv.grad(y, [h, a]) == [3.0, 12.0]
    assert tv.grad([y], a, [2.0]) == [24.0]


def test_leaf_output_accumulates_its_seed():
    a = tv.Value(1.0)
    tv.backward([a, a * 2.0], [3.0, 1.0])
    assert a.grad == 5.0


def test_errors_name_the_problem():
    a = tv.Value(1.0)
    b = tv.Value(2.0)
    y = a * 2.0
    with pytest.raises(ValueError, match="1 outputs but 2 grad_outputs"):
        tv.backward([y], [1.0, 2.0])
    with pytest.raises(ValueError, match="not part of the outputs' graph"):
        tv.grad([y], [b])
    assert tv.grad([y], [a, b], allow_unused=True) == [2.0, 0.0]
    with pytest.raises(TypeError, match=r"outputs\[0\] is a float"):
        tv.backward([1.0], [1.0])
    with pytest.raises(ValueError, match="empty"):
        tv.grad([], [a])


def test_works_inside_no_grad_on_a_graph_built_outside():
    a = tv.Value(3.0)
    y = a * a
    with tv.no_grad():
        assert tv.grad([y], [a]) == [6.0]
        tv.backward([y], [1.0])
    assert a.grad == 6.0


def test_deep_graph_is_iterative():
    x = tv.Value(1.0)
    y = x
    for _ in range(200_000):
        y = y + 1e-6
    assert tv.grad([y], [x]) == [1.0]
    tv.backward([y], [2.0])
    assert x.grad == 2.0


def test_random_graphs_against_torch():
    torch = need_torch()
    rng = random.Random(3)
    for _ in range(20):
        data = [rng.uniform(0.5, 2.0) for _ in range(3)]
        seeds = [rng.uniform(-2, 2) for _ in range(3)]
        xs = [tv.Value(v) for v in data]
        ts = [torch.tensor(v, requires_grad=True) for v in data]
        got = tv.grad(_graph(xs), xs, seeds)
        want = torch.autograd.grad(_torch_graph(torch, ts), ts, [torch.tensor(s) for s in seeds])
        assert got == pytest.approx([float(g) for g in want], rel=1e-10)
