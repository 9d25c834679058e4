"""tv.custom_op: a wrong derivative is refused with the points; a right one works everywhere."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_value as tv
from tinygrad_value.engine.custom import remove_custom_op
from tinygrad_value.engine.ops import OPS


@pytest.fixture
def defined():
    names = []

    def define(name, *args, **kwargs):
        op = tv.custom_op(name, *args, **kwargs)
        names.append(name)
        return op

    yield define
    for name in names:
        if name in OPS:
            remove_custom_op(name)


def test_a_wrong_derivative_is_refused_listing_points(defined):
    with pytest.raises(tv.GradcheckError) as info:
        defined("badtanh", math.tanh, lambda x, out: 1 - x)
    text = str(info.value)
    assert "badtanh" in text and "x = " in text and "central differences give" in text
    assert "badtanh" not in OPS


def test_a_derivative_wrong_only_near_an_edge_is_caught(defined):
    def deriv(x, out):
        return 1 / x if x > 0.05 else 0.0  # wrong near 0 only

    with pytest.raises(tv.GradcheckError):
        defined("edgylog", math.log, deriv, domain=(0.0, 5.0))


@pytest.mark.parametrize("vectorised", [True, False])
def test_a_right_op_works_in_backward_stepper_draw_dot_and_compile(defined, vectorised):
    if vectorised:
        fwd, der = (lambda x: np.log1p(np.exp(x))), (lambda x, out: 1 / (1 + np.exp(-x)))
    else:  # plain math: compile runs it element by element
        fwd, der = (lambda x: math.log1p(math.exp(x))), (lambda x, out: 1 / (1 + math.exp(-x)))
    softplus = defined("softplus_" + str(vectorised), fwd, der)
    x, w = tv.Value(0.5, label="x"), tv.Value(-1.2, label="w")

    def f(v):
        return softplus(v[0] * v[1]) * v[0]

    assert tv.gradcheck(f, [x, w])
    y = f([x, w])
    y.backward()
    eager = (y.data, x.grad, w.grad)
    steps = list(tv.backprop_steps(y))
    assert any(s.node.op == "softplus_" + str(vectorised) for s in steps)
    assert (x.grad, w.grad) == pytest.approx((2 * eager[1], 2 * eager[2]))
    src = tv.draw_dot(y).source
    assert "softplus_" in src
    x.grad = w.grad = 0.0
    prog = tv.compile(y)
    assert prog() == pytest.approx(eager[0], rel=1e-12)
    assert (x.grad, w.grad) == pytest.approx(eager[1:], rel=1e-9)
    x.data = -0.3  # a new point, replayed
    x.grad = w.grad = 0.0
    again = prog()
    ref = f([tv.Value(-0.3), tv.Value(-1.2)])
    assert again == pytest.approx(ref.data, rel=1e-12)


def test_the_domain_is_enforced_with_a_clear_error(defined):
    mylog = defined("mylog", math.log, lambda x, out: 1 / x, domain=(0.0, math.inf))
    assert mylog(tv.Value(math.e)).data == pytest.approx(1.0)
    with pytest.raises(ValueError, match=r"mylog\(-1.0\).*\(0, inf\).*'q'"):
        mylog(tv.Value(-1.0, label="q"))


def test_names_cannot_shadow_built_ins_and_can_be_redefined(defined):
    with pytest.raises(ValueError, match="built-in"):
        defined("tanh", math.tanh, lambda x, out: 1 - out * out)
    with pytest.raises(ValueError, match="identifier"):
        defined("my op", math.tanh, lambda x, out: 1 - out * out)
    first = defined("twice", lambda x: 2 * x, lambda x, out: 2.0)
    second = defined("twice", lambda x: 2 * x, lambda x, out: 2.0)  # a cell run again
    assert second(tv.Value(3.0)).data == 6.0 and first.op is not second.op
