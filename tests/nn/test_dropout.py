"""nn.Dropout: inverted dropout statistics in train mode, identity in eval mode."""

from __future__ import annotations

import random

import pytest

import nn
import tinygrad_value as tv


def test_eval_mode_is_the_identity():
    d = nn.Dropout(0.5).eval()
    xs = [tv.Value(float(i)) for i in range(10)]
    assert d(xs) == xs
    assert d(xs[3]) is xs[3]


def test_train_mode_keeps_the_mean_and_drops_a_fraction_p():
    random.seed(0)
    p, n = 0.3, 20000
    out = nn.Dropout(p)([tv.Value(2.0) for _ in range(n)])
    assert len(out) == n
    dropped = sum(v.data == 0.0 for v in out) / n
    assert dropped == pytest.approx(p, abs=0.015)  # ~4.6 standard deviations
    kept = {v.data for v in out if v.data != 0.0}
    assert kept == {2.0 / (1 - p)}
    assert sum(v.data for v in out) / n == pytest.approx(2.0, rel=0.03)


def test_gradient_flows_through_kept_units_only():
    random.seed(5)
    xs = [tv.Value(1.0) for _ in range(50)]
    out = nn.Dropout(0.5)(xs)
    tv.sum(out).backward()
    for x, o in zip(xs, out):
        assert x.grad == (0.0 if o.data == 0.0 else 2.0)


def test_value_in_value_out_and_p_edges():
    x = tv.Value(3.0)
    assert isinstance(nn.Dropout(0.5)(x), tv.Value)
    assert nn.Dropout(0.0)(x) is x
    assert nn.Dropout(1.0)(x).data == 0.0
    for bad in (-0.1, 1.5, "0.5", True):
        with pytest.raises(ValueError, match="dropout probability"):
            nn.Dropout(bad)
