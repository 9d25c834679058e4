"""The compiled program's array interface (index, load, run, run_backward, values, grads): the
same numbers as the Value interface and as tv.grad with seeded outputs, and clear errors."""

from __future__ import annotations

import math
import random

import pytest

np = pytest.importorskip("numpy")

import tinygrad_value as tv  # noqa: E402


def close(a, b) -> bool:
    return all(math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12) for x, y in zip(a, b))


def layer(seed: int, samples: int = 4, nin: int = 3, nout: int = 2):
    rng = random.Random(seed)
    xs = [[tv.Value(rng.uniform(-1, 1)) for _ in range(nin)] for _ in range(samples)]
    ws = [[tv.Value(rng.uniform(-1, 1)) for _ in range(nin)] for _ in range(nout)]
    outs = [(tv.dot(w, x) + 0.1).tanh() for x in xs for w in ws]
    root = tv.dot(outs, [tv.Value(0.0) for _ in outs])
    return xs, ws, outs, root


@pytest.mark.parametrize("dense", [True, False])
def test_seeded_backward_is_tv_grad_of_the_outputs(dense):
    from tinygrad_value.compiled.replay import Program

    xs, ws, outs, root = layer(0)
    prog = Program(root, dense=dense)
    x_leaves = [v for row in xs for v in row]
    w_leaves = [v for row in ws for v in row]
    ix, iw, io = prog.index(x_leaves), prog.index(w_leaves), prog.index(outs)
    new_x = np.linspace(-1.0, 1.0, len(x_leaves))
    prog.load(ix, new_x)
    prog.run()
    seeds = np.arange(1.0, len(outs) + 1.0)
    prog.run_backward(io, seeds)
    for v, x in zip(x_leaves, new_x.tolist()):  # the same through Values and tv.grad
        v.data = x
    fresh = [(tv.dot(w, x) + 0.1).tanh() for x in xs for w in ws]
    assert close(prog.values(io), [o.data for o in fresh])
    want = tv.grad(fresh, x_leaves + w_leaves, seeds.tolist())
    assert close(prog.grads(ix).tolist() + prog.grads(iw).tolist(), want)
    assert all(v.grad == 0.0 for v in x_leaves + w_leaves)  # no .grad touched


def test_run_backward_without_seeds_is_the_call():
    xs, ws, outs, root = layer(1)
    root.children[-1].data = 2.0  # one nonzero seed leaf: the root depends on the outputs
    prog = tv.compile(root)
    leaves = [v for row in xs + ws for v in row]
    idx = prog.index(leaves)
    value = prog.run()
    prog.run_backward()
    grads = prog.grads(idx).tolist()
    assert prog() == value
    assert close([v.grad for v in leaves], grads)


def test_errors_say_what_to_do():
    x, y = tv.Value(1.0), tv.Value(2.0)
    inner = x * y  # folded into the sum below
    root = (inner + x).tanh()
    prog = tv.compile(root)
    with pytest.raises(ValueError, match="folded"):
        prog.index([inner])
    with pytest.raises(KeyError):
        prog.index([tv.Value(3.0)])
    with pytest.raises(ValueError, match="leaves only"):
        prog.load(prog.index([root]), [1.0])
    with pytest.raises(RuntimeError, match="run"):
        prog.run_backward()
    prog.run()
    with pytest.raises(RuntimeError, match="backward"):
        prog.grads(prog.index([x]))
    with pytest.raises(ValueError, match="seeds"):
        prog.run_backward(prog.index([root]), [1.0, 2.0])
