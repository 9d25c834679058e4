"""An op added through the public path (an ``Op`` entry, ``register``) works everywhere."""

from __future__ import annotations

import math

import pytest
from conftest import need_dot

import tinygrad_value as tv
from tinygrad_value.engine.ops import Op, register, unregister


@pytest.fixture
def cube():
    """x³ with ∂/∂x = 3x², registered for one test and removed afterwards."""
    op = register(Op("cube_for_test", "cube", 1, lambda xp, a: a * a * a,
                     lambda xp, a, out: (3.0 * a * a,), method="", torch="torch.pow",
                     domain=((-2, 2),)))
    try:
        yield op
    finally:
        unregister(op.name)
    assert "cube_for_test" not in tv.OPS


def _graph(cube):
    x = tv.Value(1.5, label="x")
    w = tv.Value(-0.5, label="w")
    return x, w, (cube(x * w) + x).tanh()


def _expected_grads(x, w):
    u = x * w
    t = 1 - math.tanh(u ** 3 + x) ** 2
    return t * (3 * u * u * w + 1), t * 3 * u * u * x


def test_registered_op_applies_and_backpropagates(cube):
    x, w, root = _graph(cube)
    node = root.children[0].children[0]
    assert node.op == "cube" and node._fn is cube and node.data == (1.5 * -0.5) ** 3
    root.backward()
    gx, gw = _expected_grads(1.5, -0.5)
    assert x.grad == pytest.approx(gx, rel=1e-12) and w.grad == pytest.approx(gw, rel=1e-12)
    assert tv.gradcheck(lambda v: (cube(v[0] * v[1]) + v[0]).tanh(), [x, w])


def test_registered_op_in_the_stepper(cube):
    x, w, root = _graph(cube)
    steps = list(tv.backprop_steps(root))
    (step,) = [s for s in steps if s.node._fn is cube]
    ((child, local, contribution),) = step.contributions
    assert local == pytest.approx(3 * (1.5 * -0.5) ** 2)
    assert contribution == pytest.approx(local * step.upstream)
    assert x.grad == pytest.approx(_expected_grads(1.5, -0.5)[0], rel=1e-12)


def test_registered_op_in_draw_dot(cube):
    pytest.importorskip("graphviz")
    need_dot()
    _x, _w, root = _graph(cube)
    source = tv.draw_dot(root).source
    assert "cube" in source


def test_registered_op_in_compile(cube):
    pytest.importorskip("numpy")
    x, w, root = _graph(cube)
    prog = tv.compile(root)
    x.data, w.data = 0.7, 1.3
    value = prog()
    expected = math.tanh((0.7 * 1.3) ** 3 + 0.7)
    assert value == pytest.approx(expected, rel=1e-12)
    gx, gw = _expected_grads(0.7, 1.3)
    assert x.grad == pytest.approx(gx, rel=1e-9) and w.grad == pytest.approx(gw, rel=1e-9)


def test_register_refuses_a_constant_on_a_two_input_op():
    bad = Op("scaled_add_for_test", "+k", 2, lambda xp, a, b, k: a + k * b,
             lambda xp, a, b, k, out: (1.0, k), has_param=True)
    with pytest.raises(ValueError, match="only a one-input op may carry a constant"):
        register(bad)
    assert "scaled_add_for_test" not in tv.OPS


def test_register_refuses_a_taken_name():
    with pytest.raises(ValueError, match="already registered"):
        register(Op("tanh", "tanh", 1, lambda xp, a: a, lambda xp, a, out: (1.0,)))


def test_ops_are_callable_as_the_table_states_them():
    x = tv.Value(0.5)
    assert tv.OPS["tanh"](x).data == math.tanh(0.5)
    assert tv.OPS["leaky_relu"](tv.Value(-2.0), 0.1).data == pytest.approx(-0.2)
    assert tv.OPS["dot"]([1.0, 2.0], [3.0, 4.0]).data == 11.0
    with pytest.raises(TypeError, match="takes 2 argument"):
        tv.OPS["add"](x)
