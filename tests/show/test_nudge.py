"""Nudges in Python: the nudged forward pass is the engine's own, and the graph is untouched."""

from __future__ import annotations

import pytest

import tinygrad_value as tv
from tinygrad_value.show.nudge import downstream, nudge, nudge_data
from tinygrad_value.show.stepper import Walkthrough


def graph(x0=1.5, y0=-2.0):
    x, y = tv.Value(x0, label="x"), tv.Value(y0, label="y")
    a = x * y
    return (a + x).tanh() * a + (y ** 2).log(), x, y


@pytest.mark.parametrize("h", [0.5, 1e-3, -0.25])
def test_a_nudge_equals_a_graph_built_at_x_plus_h(h):
    L, x, y = graph()
    n = nudge(L, x, h)
    again, _, _ = graph(1.5 + h)
    assert n.delta == again.data - L.data
    for v, w in zip(tv.topo_order(L), tv.topo_order(again)):
        if v in n.values:
            assert n.values[v] == w.data
        else:
            assert v.data == w.data  # not downstream of x: unchanged
    L.backward()
    assert n.grad == x.grad and n.guess == x.grad * h


def test_the_ratio_tends_to_one_and_nothing_changes():
    L, x, y = graph()
    before = [(v.data, v.grad) for v in tv.topo_order(L)]
    gaps = [abs(nudge(L, y, h).ratio - 1) for h in (0.1, 0.01, 0.001, 0.0001)]
    assert gaps == sorted(gaps, reverse=True) and gaps[-1] < 1e-3
    nudge_data(Walkthrough(L))
    assert [(v.data, v.grad) for v in tv.topo_order(L)] == before


def test_downstream_and_domain_errors():
    L, x, y = graph()
    order = tv.topo_order(L)
    assert downstream(order, x)[0] is x and L in downstream(order, x)
    log_in = tv.Value(0.5, label="p")
    out = log_in.log()
    n = nudge(out, log_in, -1.0)
    assert n.delta is None and n.ratio is None and "log(-0.5)" in n.error


def test_bad_nudges_say_what_to_pass():
    L, x, y = graph()
    with pytest.raises(ValueError, match="needs a leaf"):
        nudge(L, L, 0.1)
    with pytest.raises(ValueError, match="finite non-zero"):
        nudge(L, x, 0)
    with pytest.raises(ValueError, match="finite non-zero step sizes"):
        tv.backprop_html(L, nudges=(0.1, float("nan")))
