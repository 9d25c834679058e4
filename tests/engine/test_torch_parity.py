"""PyTorch (float64) as an oracle: random expression graphs give the same values and grads."""

from __future__ import annotations

import math
import random

import pytest
from conftest import need_torch
from op_calls import public_call, torch_call

import tinygrad_value as tv

OPS = [op for op in tv.OPS.values() if not op.draws]  # a drawn mask has no oracle to match
SEEDS = range(40)


def _fits(op, xs, k=None):
    """Operands inside the op's test domain, clear of its kinks and of its domain errors."""
    for x, (lo, hi) in zip(xs, op.domain * (len(xs) // len(op.domain) or 1)):
        if not lo <= x <= hi or any(abs(x - kink) < 1e-3 for kink in op.kinks):
            return False
    if op.kink_distance is not None and op.kink_distance(*op.operands(*xs, k=k)) < 1e-3:
        return False
    return op.check is None or not op.check(*xs, *([k] if op.has_param else []))


def _build(rng: random.Random, n_leaves: int, n_ops: int):
    """A random graph as a program: a list of (op, operand indices, constant, reflected) over
    every op of the table, each node's operands inside that op's test domain (``Op.domain``);
    a binary op may get a number on its left (``2.0 - x``, the reflected operator)."""
    data = [rng.uniform(-2, 2) for _ in range(n_leaves)]
    program = []
    values = list(data)
    for _ in range(n_ops):
        for _attempt in range(20):
            op = rng.choice(OPS)
            n = len(op.domain) if op.arity == -1 else op.arity
            idx = tuple(rng.randrange(len(values)) for _ in range(n))
            xs = [values[i] for i in idx]
            k = rng.choice(op.constants) if op.has_param else None
            # (only operators have a reflected form: 2.0 - x, not a method such as max)
            reflected = op.arity == 2 and op.method.startswith("__") and rng.random() < 0.3
            if reflected:  # a constant on the left, drawn from the op's domain
                lo, hi = op.domain[0]
                k = rng.uniform(lo, hi)
                xs = [k] + xs[1:]
            if _fits(op, xs, k):
                break
        else:
            op, idx, k, reflected = tv.OPS["add"], (0, len(values) - 1), None, False
            xs = [values[i] for i in idx]
        program.append((op, idx, k, reflected))
        values.append(_run_tv(op, [tv.Value(x) for x in xs], k, reflected).data)
    return data, program


def _run_tv(op, xs, k, reflected):
    if reflected:
        return public_call(op, [k] + xs[1:], reflected=True)
    return public_call(op, xs, k)


def _run_torch(torch, op, xs, k, reflected):
    if reflected:
        xs = [torch.tensor(k)] + xs[1:]
    return torch_call(torch, op, xs, k)


def test_every_op_of_the_table_is_in_the_random_graphs():
    """A new op cannot escape the parity test: the seeds below exercise every entry."""
    used = set()
    for seed in SEEDS:
        rng = random.Random(seed)
        _data, program = _build(rng, n_leaves=rng.randint(1, 4), n_ops=rng.randint(3, 25))
        used |= {op.name for op, *_ in program}
    every = {op.name for op in OPS}
    assert used == every, f"ops never exercised: {every - used}"


@pytest.mark.parametrize("seed", SEEDS)
def test_random_graphs_match_pytorch(seed):
    torch = need_torch()
    rng = random.Random(seed)
    data, program = _build(rng, n_leaves=rng.randint(1, 4), n_ops=rng.randint(3, 25))
    ours = [tv.Value(x) for x in data]
    theirs = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in data]
    nodes_t, nodes_p = list(ours), list(theirs)
    for op, idx, k, reflected in program:
        nodes_t.append(_run_tv(op, [nodes_t[i] for i in idx], k, reflected))
        nodes_p.append(_run_torch(torch, op, [nodes_p[i] for i in idx], k, reflected))
    # the root touches several nodes so most of the graph matters
    root_t = tv.sum(nodes_t[-3:])
    root_p = sum(nodes_p[-3:])
    if not math.isfinite(root_t.data) or abs(root_t.data) > 1e8:
        pytest.skip("random graph left the comfortable range")
    root_t.backward()
    if root_p.requires_grad:  # every path detached: torch has nothing to backpropagate
        root_p.backward()
    assert root_t.data == pytest.approx(root_p.item(), rel=1e-12, abs=1e-12)
    for mine, ref in zip(ours, theirs):
        expected = ref.grad.item() if ref.grad is not None else 0.0
        assert mine.grad == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_second_backward_matches_pytorch_accumulation():
    torch = need_torch()
    x = tv.Value(0.3)
    xt = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
    y = (x * x).tanh()
    yt = (xt * xt).tanh()
    y.backward()
    y.backward()
    yt.backward(retain_graph=True)
    yt.backward()
    assert x.grad == pytest.approx(xt.grad.item(), rel=1e-12)
