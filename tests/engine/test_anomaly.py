"""tv.detect_anomaly(), comparisons and float(v): the plain-number views of a Value."""

from __future__ import annotations

import math
import threading

import pytest

import tinygrad_value as tv


def test_forward_anomaly_names_op_operands_and_labels():
    a = tv.Value(1e200, label="a")
    b = tv.Value(1e200, label="b")
    with tv.detect_anomaly():
        with pytest.raises(ValueError) as info:
            a * b
    text = str(info.value)
    for word in ("detect_anomaly", "mul", "inf", "'a' = 1e+200", "'b' = 1e+200"):
        assert word in text, text
    assert (a * b).data == math.inf  # outside the block overflow is inf, not an error


def test_a_nan_leaf_is_allowed_and_the_first_op_using_it_raises():
    x = tv.Value(math.nan, label="x")
    w = tv.Value(2.0, label="w")
    with tv.detect_anomaly():
        assert math.isnan(x.data)
        with pytest.raises(ValueError, match=r"tanh gave nan.*'x' = nan"):
            (x.tanh() * w).relu()


def test_every_op_is_checked_inside_the_block():
    with tv.detect_anomaly():
        for make in (lambda: tv.Value(math.inf) + tv.Value(-math.inf),
                     lambda: tv.Value(math.nan).relu(), lambda: tv.Value(1000.0).exp(),
                     lambda: tv.sum([math.inf, 1.0]), lambda: tv.dot([math.inf], [0.0]),
                     lambda: tv.Value(math.nan) ** 2):
            with pytest.raises(ValueError, match="detect_anomaly"):
                make()


def test_backward_anomaly_names_the_op_and_nodes():
    x = tv.Value(0.0, label="x")
    y = x.sqrt()
    y.label = "y"
    with tv.detect_anomaly():
        loss = y * 2.0
        with pytest.raises(ValueError) as info:
            loss.backward()
    text = str(info.value)
    for word in ("backward of sqrt", "'y'", "'x'", "inf"):
        assert word in text, text
    loss.backward()  # outside the block: IEEE inf, no error
    assert x.grad == math.inf


def test_the_checked_backward_gives_the_same_grads():
    x, w = tv.Value(0.3), tv.Value(-1.2)
    loss = ((x * w).tanh() + x ** 2).sigmoid()
    loss.backward()
    plain = (x.grad, w.grad)
    x.grad = w.grad = 0.0
    with tv.detect_anomaly():
        assert tv.is_anomaly_enabled()
        loss.backward()
    assert (x.grad, w.grad) == plain
    assert not tv.is_anomaly_enabled()


def test_no_grad_still_applies_inside_detect_anomaly():
    with tv.detect_anomaly(), tv.no_grad():
        y = tv.Value(2.0) * 3.0 + 1.0
    assert y.data == 7.0 and y.children == ()
    with tv.detect_anomaly():
        z = tv.Value(2.0) * 3.0 + 1.0
    assert z.op == "+" and z.children[0].op == "*"


def test_anomaly_mode_is_left_on_exit_even_after_an_error():
    with pytest.raises(ValueError):
        with tv.detect_anomaly():
            tv.Value(math.inf) - math.inf
    assert not tv.is_anomaly_enabled()
    assert math.isnan((tv.Value(math.inf) - math.inf).data)


def test_detect_anomaly_reaches_other_threads():
    results = []
    with tv.detect_anomaly():
        def work():
            try:
                tv.Value(math.inf) * 0.0
            except ValueError as error:
                results.append(str(error))
        t = threading.Thread(target=work)
        t.start()
        t.join()
    assert results and "detect_anomaly" in results[0]


def test_comparisons_read_data_and_return_bools():
    a, b = tv.Value(1.0), tv.Value(2.0)
    assert (a < b) is True and (a <= b) is True and (a > b) is False and (a >= b) is False
    assert (a < 1.5) is True and (2 > a) is True and (b >= 2) is True and (0.5 >= a) is False
    assert max([a, b]) is b and sorted([b, a]) == [a, b]
    with pytest.raises(TypeError):
        _ = a < "1"


def test_equality_and_hash_stay_identity():
    a, b = tv.Value(1.0), tv.Value(1.0)
    assert a != b and a == a and len({a, b}) == 2


def test_float_of_a_value_is_its_data_and_records_nothing():
    x = tv.Value(2.5)
    y = x * 2.0
    assert float(y) == 5.0 and math.sqrt(y) == math.sqrt(5.0)
    y.backward()
    assert x.grad == 2.0
