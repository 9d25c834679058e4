"""Bad input gets an error that names what was wrong."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_value as tv


@pytest.mark.parametrize("bad", ["3", None, [1.0], 1 + 2j, {"a": 1}])
def test_value_rejects_non_reals_naming_the_type(bad):
    with pytest.raises(TypeError, match=type(bad).__name__):
        tv.Value(bad)


def test_label_must_be_text():
    with pytest.raises(TypeError, match="label"):
        tv.Value(1.0, label=3)


@pytest.mark.parametrize("good", [3, 2.5, np.float64(1.5), np.int64(-2), np.float32(0.25), True])
def test_value_accepts_reals_and_stores_float(good):
    v = tv.Value(good)
    assert type(v.data) is float and v.data == float(good)


def test_numpy_scalars_on_the_left_defer_to_value():
    v = tv.Value(2.0)
    for result in (np.int64(-1) * v, np.float64(2.0) + v, np.float32(3.0) - v,
                   np.float64(1.0) / v, np.float64(2.0) ** v):
        assert isinstance(result, tv.Value), type(result)
    assert (np.int64(-1) * v).data == -2.0
    assert (np.float64(3.0) - v).data == 1.0


def test_operator_with_a_string_is_a_type_error():
    v = tv.Value(1.0)
    with pytest.raises(TypeError):
        v + "1"
    with pytest.raises(TypeError):
        "1" * v
    with pytest.raises(TypeError):
        v ** "2"


@pytest.mark.parametrize("make, words", [
    (lambda: tv.Value(-1.0, label="x3").log(), ["log(-1.0)", "> 0", "x3"]),
    (lambda: tv.Value(0.0).log(), ["log(0.0)"]),
    (lambda: tv.Value(0.0) ** -1, ["0.0 ** -1.0", "negative"]),
    (lambda: tv.Value(0.0) ** tv.Value(-2.0), ["0.0 ** -2.0"]),
    (lambda: tv.Value(-8.0) ** (1 / 3), ["-8.0", "not a real"]),
    (lambda: tv.Value(-2.0, label="q").sqrt(), ["sqrt(-2.0)", "'q'"]),
    (lambda: tv.Value(1.0) / 0, ["division by zero"]),
    (lambda: 1.0 / tv.Value(0.0, label="d"), ["division by zero", "'d'"]),
])
def test_domain_errors_name_op_and_operand(make, words):
    with pytest.raises(ValueError) as info:
        make()
    for w in words:
        assert w in str(info.value)


def test_overflow_is_inf_not_an_error():
    assert tv.Value(1000.0).exp().data == math.inf
    assert (tv.Value(10.0) ** 400).data == math.inf
    assert (tv.Value(-10.0) ** 401).data == -math.inf


def test_repr_is_for_people():
    h = tv.Value(0.5, label="h1").tanh()
    h.label = "h1"
    h.grad = 0.42
    assert repr(h) == "Value(data=0.4621, grad=0.42, op='tanh', label='h1')"
    assert repr(tv.Value(2)) == "Value(data=2.0, grad=0.0)"
