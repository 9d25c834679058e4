"""backward(): ordering, reuse, accumulation semantics, depth, no_grad, sum/dot."""

from __future__ import annotations

import gc
import random
import sys

import pytest

import tinygrad_value as tv


def test_neuron_example_from_the_lectures():
    x1, x2 = tv.Value(2.0, label="x1"), tv.Value(0.0, label="x2")
    w1, w2 = tv.Value(-3.0, label="w1"), tv.Value(1.0, label="w2")
    b = tv.Value(6.8813735870195432, label="b")
    o = (x1 * w1 + x2 * w2 + b).tanh()
    o.backward()
    assert o.data == pytest.approx(0.7071067811865476)
    assert x1.grad == pytest.approx(-1.5)
    assert w1.grad == pytest.approx(1.0)
    assert x2.grad == pytest.approx(0.5)
    assert w2.grad == pytest.approx(0.0)
    assert b.grad == pytest.approx(0.5)


def test_a_value_used_twice_keeps_both_edges():
    x = tv.Value(3.0)
    y = x * x
    assert y.children == (x, x)
    y.backward()
    assert x.grad == 6.0
    z = tv.Value(3.0)
    w = z + z
    w.backward()
    assert z.grad == 2.0


def test_diamond():
    a = tv.Value(1.5)
    b = a * 2.0
    c = a.exp()
    d = b * c  # d = 2a·eᵃ, d' = 2eᵃ + 2a·eᵃ
    d.backward()
    import math

    assert a.grad == pytest.approx(2 * math.exp(1.5) * (1 + 1.5))


def test_second_backward_doubles_leaves_but_not_interior():
    x = tv.Value(2.0)
    h = x * 3.0
    y = h.tanh()
    y.backward()
    g_leaf, g_inner = x.grad, h.grad
    y.backward()
    assert x.grad == pytest.approx(2 * g_leaf)
    assert h.grad == pytest.approx(g_inner)
    assert y.grad == 1.0


def test_backward_on_a_leaf_adds_one():
    x = tv.Value(4.0)
    x.backward()
    x.backward()
    assert x.grad == 2.0


def test_topo_order_puts_children_first_and_lists_each_node_once():
    rng = random.Random(0)
    leaves = [tv.Value(rng.uniform(-1, 1)) for _ in range(5)]
    nodes = list(leaves)
    for _ in range(60):
        a, b = rng.choice(nodes), rng.choice(nodes)
        nodes.append(a * b if rng.random() < 0.5 else a + b)
    root = tv.sum(nodes[-10:])
    order = tv.topo_order(root)
    position = {id(n): i for i, n in enumerate(order)}
    assert len(position) == len(order)
    assert order[-1] is root
    for n in order:
        for c in n.children:
            assert position[id(c)] < position[id(n)]


def test_a_million_deep_chain(monkeypatch):
    assert sys.getrecursionlimit() < 10**6
    x = tv.Value(1.0)
    y = x
    for _ in range(10**6):
        y = y + 1e-6
    y.backward()
    assert x.grad == 1.0
    assert y.data == pytest.approx(2.0)


def test_backward_restores_the_callers_gc_setting():
    x = tv.Value(1.0)
    y = x * 2
    assert gc.isenabled()
    y.backward()
    assert gc.isenabled()
    gc.disable()
    try:
        y.backward()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_no_grad_makes_leaves():
    x = tv.Value(2.0)
    with tv.no_grad():
        assert not tv.is_grad_enabled()
        y = (x * 3 + 1).tanh()
    assert tv.is_grad_enabled()
    assert y.children == () and y.op == ""
    y.backward()
    assert x.grad == 0.0
    z = x * 3
    assert z.children[0] is x


def test_no_grad_restores_on_error():
    with pytest.raises(RuntimeError):
        with tv.no_grad():
            raise RuntimeError("boom")
    assert tv.is_grad_enabled()


def test_sum_is_one_nary_node():
    xs = [tv.Value(float(i)) for i in range(5)]
    s = tv.sum(xs)
    assert s.op == "sum" and s.children == tuple(xs)
    assert s.data == 10.0
    (s * s).backward()
    assert [x.grad for x in xs] == [20.0] * 5
    assert tv.sum([]).data == 0.0
    assert tv.sum([1, 2.5, tv.Value(1.0)]).data == 4.5


def test_dot_is_one_nary_node():
    xs = [tv.Value(1.0), tv.Value(2.0), tv.Value(3.0)]
    ws = [tv.Value(-1.0), tv.Value(0.5), tv.Value(2.0)]
    d = tv.dot(xs, ws)
    assert d.op == "dot" and d.children == tuple(xs + ws)
    assert d.data == 6.0
    d.backward()
    assert [x.grad for x in xs] == [-1.0, 0.5, 2.0]
    assert [w.grad for w in ws] == [1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match="equal length"):
        tv.dot(xs, ws[:2])


def test_dot_with_a_shared_value():
    x = tv.Value(3.0)
    d = tv.dot([x, x], [x, 2.0])  # x² + 2x
    d.backward()
    assert x.grad == pytest.approx(2 * 3.0 + 2)


def test_gradcheck_passes_on_a_correct_graph_and_restores_grads():
    a, b = tv.Value(0.7, label="a"), tv.Value(-0.4, label="b")
    a.grad = 5.0
    assert tv.gradcheck(lambda v: (v[0] * v[1] + v[0] ** 3).sigmoid() / (1 + v[1] ** 2), [a, b])
    assert a.grad == 5.0 and b.grad == 0.0


def test_gradcheck_catches_a_path_the_graph_misses():
    a, b = tv.Value(0.7, label="a"), tv.Value(-0.4, label="b")
    # a.data bypasses the graph: f = a·a numerically, but the graph only sees one a.
    with pytest.raises(tv.GradcheckError) as info:
        tv.gradcheck(lambda v: v[0] * v[0].data + v[1], [a, b])
    message = str(info.value)
    assert "input 0 'a'" in message and "input 1" not in message
    assert isinstance(info.value, RuntimeError)


def test_gradcheck_restores_grads_even_of_captured_leaves():
    w = tv.Value(2.0)
    x = tv.Value(1.0)
    tv.gradcheck(lambda v: v[0] * w, [x])
    assert w.grad == 0.0 and x.grad == 0.0


def test_no_grad_in_one_thread_does_not_affect_another():
    """A drawing thread inside no_grad() must not turn the training thread's nodes into leaves."""
    import threading

    inside = threading.Event()
    release = threading.Event()

    def drawer():
        with tv.no_grad():
            assert not tv.is_grad_enabled()
            inside.set()
            release.wait(5)

    t = threading.Thread(target=drawer)
    t.start()
    try:
        assert inside.wait(5)
        assert tv.is_grad_enabled()
        x = tv.Value(2.0)
        y = (x * 3 + 1).relu()
        assert y.children and y.op == "ReLU"
        y.backward()
        assert x.grad == 3.0
    finally:
        release.set()
        t.join()
    assert tv.is_grad_enabled()


def test_nested_no_grad():
    with tv.no_grad():
        with tv.no_grad():
            pass
        assert not tv.is_grad_enabled()
        assert (tv.Value(1.0) * 2).children == ()
    assert tv.is_grad_enabled()
