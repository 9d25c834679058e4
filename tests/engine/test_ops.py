"""Every op of the table: its local derivatives against central differences, parametrized
over the table itself so a new op is tested the day it is added."""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from op_calls import public_call

import tinygrad_value as tv
from tinygrad_value.engine import scalar_math
from tinygrad_value.engine.ops import OPS


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_op_states_its_test_domain_public_spelling_and_torch_oracle(name):
    """What the table-driven tests need from an entry; a new op without them fails here."""
    op = OPS[name]
    n = len(op.domain)
    assert n and (n == op.arity or (op.arity == -1 and n % op.parts == 0)), \
        f"give op {name!r} a domain: one (lo, hi) per input"
    assert all(lo < hi for lo, hi in op.domain)
    assert bool(op.constants) == op.has_param, f"give op {name!r} constants to try"
    assert op.method and (hasattr(tv.Value, op.method) if op.arity != -1
                          else hasattr(tv, op.method)), f"op {name!r}: method names no function"
    assert op.torch.startswith("torch."), f"op {name!r}: name its PyTorch function"


def _floats(lo, hi):
    return st.floats(min_value=lo, max_value=hi, allow_nan=False, allow_infinity=False)


def _inputs(name):
    return st.tuples(*[_floats(lo, hi) for lo, hi in OPS[name].domain])


def _draw_inputs(name, data):
    """Inputs inside the op's domain and 1e-3 away from its kinks, plus its parameter."""
    op = OPS[name]
    xs = list(data.draw(_inputs(name)))
    k = data.draw(st.sampled_from(op.constants)) if op.has_param else None
    for x in xs:
        for kink in op.kinks:
            assume(abs(x - kink) > 1e-3)
    if op.kink_distance is not None:
        assume(op.kink_distance(*op.operands(*xs, k=k)) > 1e-3)
    return xs, k


# Ops that draw (dropout masks) give a new number at every call: central differences and
# gradcheck do not apply; their own tests are below.
DETERMINISTIC = sorted(name for name, op in OPS.items() if not op.draws)
# ... and ops whose derivative is 0 by definition (detach) are not the slope of their forward.
DIFFERENTIABLE = sorted(name for name, op in OPS.items()
                        if not op.draws and not op.stops_gradient)
DRAWING = sorted(name for name, op in OPS.items() if op.draws)


def _apply(op, xs, k):
    """The op applied with the scalar namespace, as the table states it (an op that draws gets
    its uniform draw, as ``value.apply`` gives it one)."""
    args = [*xs, k] if op.has_param else list(xs)
    if op.draws:
        args.append(scalar_math.uniform())
    return op.forward(scalar_math, *args)


@pytest.mark.parametrize("name", DIFFERENTIABLE)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_local_derivatives_match_central_differences(name, data):
    op = OPS[name]
    xs, k = _draw_inputs(name, data)
    out = _apply(op, xs, k)
    local = op.local_scalar(tuple(xs), k, out)
    assert len(local) == len(xs)
    h = 1e-6
    for i in range(len(xs)):
        plus = list(xs)
        minus = list(xs)
        plus[i] += h
        minus[i] -= h
        numeric = (_apply(op, plus, k) - _apply(op, minus, k)) / (2 * h)
        assert local[i] == pytest.approx(numeric, rel=1e-5, abs=1e-6), (name, i, xs, k)


@pytest.mark.parametrize("name", DETERMINISTIC)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_value_method_agrees_with_table_and_gradcheck(name, data):
    """The public spelling (``Op.method``) runs the table's forward, records the right op,
    and backward through it passes gradcheck."""
    op = OPS[name]
    xs, k = _draw_inputs(name, data)
    vals = [tv.Value(x) for x in xs]
    out = public_call(op, vals, k)
    assert out._fn is op
    assert out.children == tuple(vals)
    assert out.data == pytest.approx(_apply(op, xs, k), rel=1e-12, abs=1e-300)
    if not op.stops_gradient:
        assert tv.gradcheck(lambda v: public_call(op, v, k), vals, atol=1e-6, rtol=1e-5)


def test_detach_passes_the_value_and_stops_the_gradient():
    x = tv.Value(1.5)
    y = x * x.detach()
    y.backward()
    assert y.data == 2.25 and x.grad == 1.5  # only the undetached factor's path


@pytest.mark.parametrize("name", ["relu", "abs"])
def test_derivative_at_the_kink_is_zero(name):
    x = tv.Value(0.0)
    getattr(x, name)().backward()
    assert x.grad == 0.0


def test_leaky_relu_kink_uses_the_slope():
    x = tv.Value(0.0)
    x.leaky_relu(0.1).backward()
    assert x.grad == pytest.approx(0.1)


@pytest.mark.parametrize("x", [-1000.0, -745.5, -50.0, 0.0, 50.0, 709.0, 1000.0])
def test_sigmoid_and_exp_never_overflow(x):
    s = tv.Value(x).sigmoid()
    assert 0.0 <= s.data <= 1.0
    expected = 1 / (1 + math.exp(-x)) if x > -700 else 0.0
    assert s.data == pytest.approx(expected, rel=1e-12, abs=1e-300)
    e = tv.Value(x).exp()
    assert e.data == (math.inf if x > 709.78 else math.exp(x))
    s.backward()  # the local derivative is finite too
    assert math.isfinite(s.children[0].grad)


def test_pow_exponent_gradient_at_zero_base_follows_pytorch():
    a, b = tv.Value(0.0), tv.Value(2.0)
    (a ** b).backward()
    assert a.grad == 0.0 and b.grad == 0.0


def test_number_to_the_power_of_a_value():
    x = tv.Value(3.0)
    y = 2 ** x
    y.backward()
    assert y.data == 8.0
    assert x.grad == pytest.approx(8.0 * math.log(2.0))


def test_op_symbols_follow_micrograd():
    x = tv.Value(2.0)
    assert (x + 1)._op == "+"
    assert (x * 1)._op == "*"
    assert (x ** 2)._op == "**2"
    assert (x ** 0.5).op == "**0.5"
    assert x.relu()._op == "ReLU"
    assert x.tanh().op == "tanh"
    assert x._op == x.op == ""


@pytest.mark.parametrize("name", [n for n, op in sorted(OPS.items()) if op.constant_local])
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_declared_constant_locals_equal_the_rule(name, data):
    """backward() uses ``constant_local`` instead of calling ``local``: they must agree."""
    op = OPS[name]
    xs = data.draw(_inputs(name))
    k = data.draw(st.sampled_from(op.constants)) if op.has_param else None
    out = _apply(op, xs, k)
    assert op.local_scalar(tuple(xs), k, out) == op.constant_local


@pytest.mark.parametrize("name", [n for n, op in sorted(OPS.items()) if op.linear])
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_declared_linear_ops_have_unit_coefficients(name, data):
    """The compiled replay folds ``linear`` ops into sums Σ cᵢ·childᵢ with cᵢ = ±1 read from
    ``local``: the declaration must match the rule at any inputs."""
    op = OPS[name]
    xs = data.draw(_inputs(name))
    out = _apply(op, xs, None)
    coefs = op.local_scalar(tuple(xs), None, out)
    assert all(c in (1.0, -1.0) for c in coefs)
    assert out == pytest.approx(sum(c * x for c, x in zip(coefs, xs)))
