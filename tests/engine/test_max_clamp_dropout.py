"""max, clamp and dropout_mask in the eager engine: PyTorch's choices at ties and boundaries, the
clamp composition, and a mask drawn from Python's ``random`` (seeded, p-rate, gradient 0 where
dropped); the stepper, draw_dot and the expression language read them from the op table."""

from __future__ import annotations

import math
import random

import pytest
from conftest import need_torch

import tinygrad_value as tv
from tinygrad_value.show.expr import METHODS, ExprError, evaluate, parse


def _torch_grads(torch, fn, *xs):
    ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    out = fn(*ts)
    out.backward()
    return out.item(), [t.grad.item() for t in ts]


@pytest.mark.parametrize("a, b", [(1.0, 1.0), (2.0, -1.0), (-3.0, 0.5), (0.0, -0.0),
                                  (-0.0, 0.0), (math.inf, math.inf), (-math.inf, 2.0)])
def test_max_matches_torch_maximum_at_ties_and_zeros(a, b):
    torch = need_torch()
    x, y = tv.Value(a), tv.Value(b)
    out = x.max(y)
    out.backward()
    want, (ga, gb) = _torch_grads(torch, torch.maximum, a, b)
    assert out.data == want and math.copysign(1, out.data) == math.copysign(1, want)
    assert (x.grad, y.grad) == (ga, gb)


def test_max_of_a_value_with_itself_and_with_a_number():
    x = tv.Value(1.5)
    x.max(x).backward()  # a tie with itself: ½ + ½
    assert x.grad == 1.0
    z = tv.Value(-1.0)
    out = z.max(0.0)
    out.backward()
    assert out.data == 0.0 and z.grad == 0.0
    with pytest.raises(TypeError, match="max needs a Value or a real number"):
        z.max("1")


@pytest.mark.parametrize("lo, hi", [(0.0, 1.0), (None, 1.0), (0.0, None), (1.0, 1.0), (2.0, 1.0)])
@pytest.mark.parametrize("x", [-1.0, 0.0, 0.5, 1.0, 1.5, 2.0, math.nan])
def test_clamp_matches_torch_clamp_on_the_boundary_and_beyond(x, lo, hi):
    torch = need_torch()
    v = tv.Value(x)
    out = v.clamp(lo, hi)
    out.backward()
    want, (g,) = _torch_grads(torch, lambda t: torch.clamp(t, lo, hi), x)
    assert out.data == want or (math.isnan(out.data) and math.isnan(want))
    assert v.grad == g, (x, lo, hi, v.grad, g)


def test_clamp_refuses_no_bounds_and_value_bounds():
    x = tv.Value(0.5)
    with pytest.raises(ValueError, match="clamp needs lo, hi or both"):
        x.clamp()
    with pytest.raises(TypeError, match=r"clamp_min takes a number.*x\.max\(v\)"):
        x.clamp_min(tv.Value(0.0))
    with pytest.raises(TypeError, match="clamp_max takes a number"):
        x.clamp_max("1")


def test_dropout_mask_is_drawn_from_python_random_and_reproducible():
    xs = [tv.Value(2.0) for _ in range(200)]
    random.seed(7)
    first = [x.dropout_mask(0.3).data for x in xs]
    random.seed(7)
    again = [x.dropout_mask(0.3).data for x in xs]
    assert first == again
    assert set(first) == {0.0, 1 / 0.7}
    random.seed(8)
    assert [x.dropout_mask(0.3).data for x in xs] != first


def test_dropout_keeps_a_fraction_one_minus_p_and_grads_vanish_where_dropped():
    random.seed(0)
    p, n = 0.25, 20000
    xs = [tv.Value(1.0) for _ in range(n)]
    outs = [x.dropout(p) for x in xs]
    tv.sum(outs).backward()
    kept = sum(o.data != 0.0 for o in outs) / n
    assert kept == pytest.approx(1 - p, abs=0.015)  # ~5 standard deviations
    for x, o in zip(xs, outs):
        assert x.grad == (0.0 if o.data == 0.0 else 1 / (1 - p))
    assert all(o.children[1].op == "dropout_mask0.25" for o in outs[:3])
    assert tv.Value(3.0).dropout(1.0).data == 0.0
    with pytest.raises(ValueError, match="drop probability p must be in"):
        tv.Value(1.0).dropout_mask(1.5)


def test_the_op_table_marks_the_drawing_op():
    assert [name for name, op in tv.OPS.items() if op.draws] == ["dropout_mask"]
    assert not tv.OPS["max"].draws


def test_stepper_and_draw_dot_show_max_clamp_and_mask():
    random.seed(1)
    a, b = tv.Value(0.5, label="a"), tv.Value(-2.0, label="b")
    root = (a.max(b).clamp(0.0, 0.4) + b.clamp_min(-1.0) * a).dropout(0.0) + a.dropout(0.5)
    steps = list(tv.backprop_steps(root))
    got = (a.grad, b.grad)
    for v in tv.topo_order(root):
        v.grad = 0.0
    root.backward()
    assert got == (a.grad, b.grad)
    ops = {s.node.op for s in steps}
    assert {"max", "clamp_max0.4", "clamp_min-1", "dropout_mask0.5"} <= ops
    src = tv.draw_dot(root).source
    assert "max" in src and "clamp_min" in src and "dropout_mask" in src


@pytest.mark.parametrize("src, expected", [
    ("a=1.0; b=2.0; m=max(a, b)", 2.0),
    ("a=1.0; b=2.0; m=a.max(b) * 3", 6.0),
    ("a=1.0; m=max(2, a)", 2.0),
    ("a=3.0; m=clamp_max(a, 1.5) + a.clamp_min(4)", 5.5),
])
def test_the_expression_language_offers_max_and_clamp(src, expected):
    assert evaluate(src).data == expected


def test_max_with_a_number_first_keeps_the_graph():
    p = parse("a=1.0; m=max(2, a)")
    assert p.root.op == "max" and p.root.children[1] is p.names["a"]


def test_the_expression_language_leaves_out_drawing_ops():
    assert "dropout_mask" not in METHODS and "max" in METHODS
    with pytest.raises(ExprError, match="unknown"):
        evaluate("a=1.0; m=a.dropout_mask(0.5)")
    with pytest.raises(ExprError, match="takes exactly two arguments"):
        evaluate("a=1.0; m=max(a)")
