"""Every op of the table at the IEEE edge cases (NaN, ±inf, ±0) against PyTorch (float64),
forward and gradient. Where the engine raises instead, it must be the op's own domain error
(``Op.check``: log of <= 0, division by zero, ...), as ../shared/DESIGN.md chooses."""

from __future__ import annotations

import itertools
import math

import pytest
from conftest import need_torch
from op_calls import public_call, torch_call

import tinygrad_value as tv

NAN, INF = math.nan, math.inf
EDGES = [NAN, INF, -INF, 0.0, -0.0, 1.5, -2.0]
# Where we knowingly differ from PyTorch: (op, inputs, constant) -> our forward result.
# PyTorch computes x ** 0.5 as sqrt(x), which keeps -0.0; C's pow (and NumPy) give +0.0.
DEVIATIONS = {("powc", (-0.0,), 0.5): 0.0}


def _cases():
    for name, op in sorted(tv.OPS.items()):
        if op.draws:  # random output: tests/engine/test_max_clamp_dropout.py covers it
            continue
        if op.arity == 1:
            inputs = [[x] for x in EDGES]
        else:
            inputs = [list(p) for p in itertools.product(EDGES, repeat=2)]
            if op.arity == -1:
                inputs = [xs + [1.5, -0.5][: 2 * op.parts - 2] for xs in inputs]
        for xs in inputs:
            for k in op.constants or [None]:
                yield pytest.param(name, xs, k, id=f"{name}-{xs}-{k}")


def _same(ours: float, theirs: float, rel: float = 1e-12) -> bool:
    """Equal as IEEE numbers: NaN matches NaN, infinities match exactly, zeros match in sign."""
    if math.isnan(theirs) or math.isnan(ours):
        return math.isnan(theirs) and math.isnan(ours)
    if ours == 0 and theirs == 0:
        return math.copysign(1.0, ours) == math.copysign(1.0, theirs)
    return ours == theirs or abs(ours - theirs) <= rel * abs(theirs)


@pytest.mark.parametrize("name, xs, k", list(_cases()))
def test_edge_cases_match_pytorch(name, xs, k):
    torch = need_torch()
    op = tv.OPS[name]
    leaves = [tv.Value(x) for x in xs]
    try:
        out = public_call(op, leaves, k)
    except ValueError as error:
        args = xs + ([k] if op.has_param else [])
        assert op.check is not None and op.check(*args), f"unexpected error: {error}"
        return
    known = DEVIATIONS.get((name, tuple(xs), k))
    if known is not None:
        assert _same(out.data, known)
        return
    ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    ref = torch_call(torch, op, ts, k)
    assert _same(out.data, ref.item()), (out.data, ref.item())
    out.backward()
    if ref.requires_grad:  # a detached result has no backward
        ref.backward()
    for mine, t in zip(leaves, ts):  # a zero gradient may differ from PyTorch's in sign
        theirs = 0.0 if t.grad is None else t.grad.item()  # None: no path (detach)
        assert _same(mine.grad, theirs) or (mine.grad == 0 and theirs == 0), \
            (name, xs, k, mine.grad, theirs)


def test_relu_of_nan_is_nan():
    assert math.isnan(tv.Value(NAN).relu().data)
    assert math.isnan(tv.Value(NAN).leaky_relu().data)
    assert math.isnan(abs(tv.Value(NAN)).data)


def test_gradient_of_x_to_the_zero_at_zero_is_zero():
    for make in (lambda x: x ** 0, lambda x: x ** tv.Value(0.0)):
        x = tv.Value(0.0)
        y = make(x)
        y.backward()
        assert y.data == 1.0 and x.grad == 0.0


def test_negative_base_to_nan_or_inf_is_not_a_fractional_power():
    assert math.isnan((tv.Value(-2.0) ** NAN).data)
    assert math.isnan((tv.Value(-2.0) ** tv.Value(NAN)).data)
    assert (tv.Value(-2.0) ** INF).data == INF
    with pytest.raises(ValueError, match="fractional power"):
        tv.Value(-2.0) ** 0.5


def test_an_int_too_large_for_a_float_says_so():
    for make in (lambda: tv.Value(10**400), lambda: tv.Value(1.0) + 10**400,
                 lambda: tv.Value(2.0) ** -(10**400)):
        with pytest.raises(OverflowError, match="too large for a float") as info:
            make()
        assert isinstance(info.value, ValueError)
    assert math.isnan(tv.Value(NAN).data)  # NaN itself stays allowed, as in PyTorch
