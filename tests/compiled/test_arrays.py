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


def test_slices_are_positions_too():
    """load, values, grads and run_backward take a slice of consecutive positions as well as an
    index array, with the same results; what they return is a copy, not a view."""
    rng = random.Random(2)
    x_leaves = [tv.Value(rng.uniform(-1, 1)) for _ in range(6)]
    outs = [x.tanh() for x in x_leaves]  # leaves, then outputs, each in consecutive slots
    root = tv.dot(outs, [tv.Value(0.0) for _ in outs]) * tv.sum(x_leaves)
    prog = tv.compile(root)
    ix, io = prog.index(x_leaves), prog.index(outs)
    assert (np.diff(ix) == 1).all() and (np.diff(io) == 1).all()
    sx, so = slice(int(ix[0]), int(ix[-1]) + 1), slice(int(io[0]), int(io[-1]) + 1)
    new_x = np.linspace(-0.5, 0.5, len(ix))
    seeds = np.linspace(1.0, 2.0, len(io))
    results = []
    for at_x, at_o in ((ix, io), (sx, so)):
        prog.load(at_x, new_x)
        prog.run()
        prog.run_backward(at_o, seeds)
        results.append((prog.values(at_o), prog.grads(at_x)))
    for a, b in zip(*results):
        assert np.array_equal(a, b)
    assert close(results[1][1].tolist(), [s * (1 - np.tanh(x) ** 2) for x, s in zip(new_x, seeds)])
    got = prog.values(so)
    prog.load(sx, new_x + 1.0)
    prog.run()
    assert np.array_equal(got, results[0][0])  # the earlier result did not change with the run
    top = int(prog.index([root])[0])
    with pytest.raises(ValueError, match="leaves only"):
        prog.load(slice(0, top + 1), np.zeros(top + 1))


def test_run_without_the_root_leaves_its_level_until_it_is_needed():
    """run(root=False) returns None and skips the root's own level; the root's value, and a
    backward that starts from the root, compute it first, so every answer is the same."""
    xs, ws, outs, root = layer(3)
    seed_leaves = list(root.children[len(outs):])
    for v, s in zip(seed_leaves, np.linspace(-1.0, 1.0, len(outs)).tolist()):
        v.data = s
    prog = tv.compile(root)
    leaves = [v for row in xs + ws for v in row]
    idx, io, iroot = prog.index(leaves), prog.index(outs), prog.index([root])
    want_value = prog.run()
    prog.run_backward()
    want_grads = prog.grads(idx)
    assert prog.run(root=False) is None
    assert np.array_equal(prog.values(iroot), [want_value])  # computed when asked for
    assert prog.run(root=False) is None
    prog.run_backward()  # d root / d node: needs the root's level
    assert np.array_equal(prog.grads(idx), want_grads)
    assert prog.run(root=False) is None
    assert prog.value(root) == want_value
    prog.run(root=False)
    seeds = np.arange(1.0, len(outs) + 1.0)
    prog.run_backward(io, seeds)  # the root is not seeded: its level is not needed
    assert close(prog.grads(idx).tolist(), tv.grad(outs, leaves, seeds.tolist()))


def test_an_unseeded_root_contributes_nothing_even_where_it_would_make_nan():
    """With the outputs seeded and the root not, the root adds nothing to any gradient, as
    tv.backward(outputs, seeds) never visits it: no 0 · inf = NaN from the root's own rule."""
    x = tv.Value(2.0)
    outs = [x * 3.0, x.exp()]
    big = tv.Value(float("inf"))
    root = tv.dot(outs, [tv.Value(0.0), big])  # ∂root/∂outs[1] = inf, times a seed of 0
    prog = tv.compile(root)
    io, ix = prog.index(outs), prog.index([x])
    prog.run()
    prog.run_backward()  # the root's own backward fills its edges (with inf)
    prog.run_backward(io, [1.0, 1.0])
    assert prog.grads(ix).tolist() == tv.grad(outs, [x], [1.0, 1.0])
    assert prog.grads(prog.index([big])).tolist() == [0.0]


def test_a_single_contribution_of_minus_zero_gathers_as_plus_zero():
    """Eager backward adds every contribution onto 0.0, so one contribution of -0.0 gives +0.0;
    the replay's gradient gather (a copy of each slot's first contribution) does the same."""
    import math

    from tinygrad_value.compiled.replay import Program

    x, z = tv.Value(1.5), tv.Value(-0.0)
    ns = [(x * k).tanh() for k in (1.0, 2.0, 3.0)]  # one level, each read once
    root = tv.sum([n * z for n in ns]) + x
    root.backward()
    assert all(math.copysign(1.0, n.grad) == 1.0 for n in ns)
    for narrow_levels in (True, False):
        prog = Program(root, narrow_levels=narrow_levels)
        prog()
        for n in ns:
            assert prog.grad(n) == 0.0 and math.copysign(1.0, prog.grad(n)) == 1.0


@pytest.mark.parametrize("coefs", [(1e16, 1.0, -1e16), (1.0, -1e16, 1e16), (-1e16, 1e16, 1.0)])
def test_a_copy_then_add_at_gather_adds_in_eager_order(coefs):
    """Most leaves get one contribution, x gets three that cancel differently in each order:
    the gather copies every first contribution and adds the rest with np.add.at, in the
    order backward() adds them, so x's gradient is eager's bit for bit."""
    x = tv.Value(0.5)
    others = [tv.Value(0.1 * i) for i in range(20)]
    ks = [tv.Value(c) for c in coefs]
    root = tv.sum([(k * x).tanh() * 0.0 + k * x for k in ks] + [o.exp() for o in others])
    root.backward()
    want = [v.grad for v in [x] + others]
    prog = tv.compile(root)
    for v in [x] + others:
        v.grad = 0.0
    prog()
    assert [v.grad for v in [x] + others] == want
    leaves_gather = prog._plain.calls[-1]  # level 0's gradients: not a segment sum
    assert leaves_gather.__name__ == "gather"
