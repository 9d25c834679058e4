"""A compiled replay follows each batch's data: huber's branch, bce's clamp and softmax's max are
ops re-evaluated at every call, dropout masks are redrawn (seeded), a last partial batch in
fit(compiled=True) reuses the full batch's program, and nnfs.init()'s float32 defaults do not
leak into the replay."""

from __future__ import annotations

import math
import random

import pytest

np = pytest.importorskip("numpy")

import nn  # noqa: E402
import tinygrad_value as tv  # noqa: E402
from nn import losses  # noqa: E402

REL = 1e-9


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=REL, abs_tol=1e-12)


def _loss_case(name, preds, targets):
    if name == "huber":
        return losses.huber(preds, targets, delta=1.0)
    if name == "bce":
        return losses.binary_cross_entropy([p.sigmoid() for p in preds], targets)
    if name == "cross_entropy":
        k = len(preds) // len(targets)
        return losses.cross_entropy([preds[i * k:(i + 1) * k] for i in range(len(targets))],
                                    targets)
    raise AssertionError(name)


# Per case: a batch built into the graph, then a batch that takes the other branch (huber:
# |d| <= 1 vs > 1; bce: a sigmoid that underflows to 0, so log is clamped at -100; softmax:
# a different logit is the max, so large that shifting by the old max would overflow exp).
CASES = {
    "huber": (([0.2, -0.5, 0.9], [0.0, 0.0, 0.0]), ([3.0, -0.1, -4.0], [0.0, 0.5, 0.0])),
    "bce": (([0.3, -0.2, 1.0], [1.0, 0.0, 1.0]), ([-800.0, 0.5, 900.0], [1.0, 0.0, 0.0])),
    "cross_entropy": (([5.0, 1.0, -2.0, 0.0, 3.0, 1.0], [0, 2]),
                      ([-1.0, 2.0, 900.0, 7.0, -3.0, 750.0], [1, 0])),
}


def _eager(name, xs, ts):
    leaves = [tv.Value(x) for x in xs]
    root = _loss_case(name, leaves, ts)
    root.backward()
    return root.data, [v.grad for v in leaves]


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_replay_takes_the_branch_its_new_batch_calls_for(name):
    (xs0, ts0), (xs1, ts1) = CASES[name]
    leaves = [tv.Value(x) for x in xs0]
    targets = ts0 if name == "cross_entropy" else [tv.Value(t) for t in ts0]
    prog = tv.compile(_loss_case(name, leaves, targets))
    if name == "cross_entropy":  # class indices are part of the graph; keep them, move logits
        ts1 = ts0
    for v, x in zip(leaves, xs1):
        v.data = x
    for v, t in zip(targets if name != "cross_entropy" else [], ts1):
        v.data = t
    got = prog()
    want, grads = _eager(name, xs1, ts1)
    assert math.isfinite(got)
    assert close(got, want), (got, want)
    for v, g in zip(leaves, grads):
        assert close(v.grad, g), (v.grad, g)


def test_the_branches_really_differ_between_the_two_batches():
    """The cases above would pass trivially if both batches took the same branch: with the old
    data-frozen graphs (branch chosen at build time) batch 2 gives another number."""
    (xs0, ts0), (xs1, ts1) = CASES["huber"]
    frozen = [0.5 * (x - t) ** 2 for x, t in zip(xs1, ts1)]  # batch 1's quadratic branch
    want, _ = _eager("huber", xs1, ts1)
    assert not close(sum(frozen) / len(frozen), want)


def _masks(prog, outs):
    return [prog.value(o.children[1]) for o in outs]


def test_a_replay_redraws_the_dropout_mask_each_call_and_seeds_reproduce_it():
    p, n = 0.3, 4000
    xs = [tv.Value(1.0) for _ in range(n)]
    outs = [x.dropout(p) for x in xs]
    root = tv.sum(outs)
    prog = tv.compile(root, seed=11)
    prog()
    first = _masks(prog, outs)
    grads = [x.grad for x in xs]
    for x in xs:
        x.grad = 0.0
    prog()
    second = _masks(prog, outs)
    assert first != second  # a new mask at every replay
    assert set(first) == {0.0, 1 / (1 - p)}
    for masks in (first, second):
        assert sum(m != 0.0 for m in masks) / n == pytest.approx(1 - p, abs=0.035)  # ~5 sd
    for g, m in zip(grads, first):  # the gradient is 0 exactly where the unit was dropped
        assert g == m
    again = tv.compile(root, seed=11)
    again()
    assert _masks(again, outs) == first
    prog.manual_seed(11)
    prog()
    assert _masks(prog, outs) == first


def test_random_seed_reproduces_a_replay_without_an_explicit_seed():
    xs = [tv.Value(1.0) for _ in range(64)]
    outs = [x.dropout(0.5) for x in xs]
    runs = []
    for _ in range(2):
        random.seed(5)
        prog = tv.compile(tv.sum(outs))
        prog()
        runs.append(_masks(prog, outs))
    assert runs[0] == runs[1]


def test_manual_seed_fixes_eager_masks_and_the_programs_seed():
    xs = [tv.Value(1.0) for _ in range(64)]
    runs = []
    for _ in range(2):
        tv.manual_seed(9)
        outs = [x.dropout(0.5) for x in xs]
        prog = tv.compile(tv.sum(outs))
        prog()
        runs.append(([o.data for o in outs], _masks(prog, outs)))
    assert runs[0] == runs[1]
    assert runs[0][0] != runs[0][1]  # eager (random) and replay (NumPy) draw independently


def test_one_node_levels_redraw_too():
    """A lone mask is a one-node level, which runs on floats (narrow.py): it redraws as well."""
    x = tv.Value(2.0)
    prog = tv.compile(x.dropout(0.5), seed=0)
    values = {prog() for _ in range(40)}
    assert values == {0.0, 4.0}


def test_eval_mode_dropout_is_the_identity_and_draws_nothing():
    d = nn.Dropout(0.5).eval()
    xs = [tv.Value(float(i)) for i in range(5)]
    root = tv.sum(d(xs))
    assert all(v._fn is None or not v._fn.draws for v in tv.topo_order(root))
    prog = tv.compile(root)
    assert prog() == prog() == 10.0


def _fit_run(compiled, loss, n=23, batch=8, width=1, epochs=3):
    random.seed(3)
    model = nn.MLP(2, [6, width], dropout=0.0)
    rng = random.Random(4)
    X = [[rng.uniform(-2, 2), rng.uniform(-2, 2)] for _ in range(n)]
    if loss == "cross_entropy":
        y = [int(a > 0) + int(b > 0) for a, b in X]
    elif loss == "bce":
        y = [float(a > b) for a, b in X]
        model = nn.Sequential(model, _Sigmoid())
    else:
        y = [3 * a - b for a, b in X]
    history = nn.fit(model, X, y, loss=loss, batch_size=batch, epochs=epochs,
                     compiled=compiled, progress=False, l2=1e-3,
                     optimizer=nn.optim.Adam(model.parameters(), lr=0.05))
    return history, [p.data for p in model.parameters()]


class _Sigmoid(nn.Module):
    def __call__(self, x):
        return x.sigmoid() if isinstance(x, tv.Value) else [v.sigmoid() for v in x]


@pytest.mark.parametrize("loss, width", [("huber", 1), ("mse", 1), ("cross_entropy", 3),
                                         ("bce", 1)])
def test_fit_compiled_with_a_partial_last_batch_equals_eager_and_compiles_once(
        monkeypatch, loss, width):
    compiles = []
    real = tv.compile

    def counting(root, *args, **kwargs):
        compiles.append(root)
        return real(root, *args, **kwargs)

    monkeypatch.setattr(tv, "compile", counting)
    eager, eager_params = _fit_run(False, loss, width=width)
    assert compiles == []
    compiled, compiled_params = _fit_run(True, loss, width=width)
    assert len(compiles) == 1  # 23 rows in batches of 8: 8, 8, 7; one program
    assert len(compiled.loss) == len(eager.loss) == 9
    for a, b in zip(compiled.loss + compiled_params, eager.loss + eager_params):
        assert close(a, b), (a, b)
    assert compiled.accuracy == eager.accuracy


def test_a_loss_without_row_terms_still_gets_one_program_per_batch_size(monkeypatch):
    compiles = []
    real = tv.compile
    monkeypatch.setattr(tv, "compile", lambda root, **kw: compiles.append(1) or real(root, **kw))
    random.seed(0)
    model = nn.MLP(2, [3, 1])
    X = [[0.1 * i, -0.2 * i] for i in range(5)]
    nn.fit(model, X, [0.5] * 5, loss=lambda o, t: losses.mse(o, t), batch_size=2, epochs=1,
           compiled=True, progress=False)
    assert len(compiles) == 2  # sizes 2 and 1


@pytest.fixture
def nnfs_init():
    """nnfs.init() patches np.zeros, np.eye, np.random.randn and np.dot to float32; put them
    back afterwards so no other test sees them."""
    nnfs = pytest.importorskip("nnfs")
    saved = [(np, "zeros", np.zeros), (np, "eye", np.eye), (np, "dot", np.dot),
             (np.random, "randn", np.random.randn)]
    state = np.random.get_state()
    nnfs.init()
    try:
        yield
    finally:
        for mod, name, fn in saved:
            setattr(mod, name, fn)
        np.random.set_state(state)


def test_a_replay_under_nnfs_init_computes_in_float64(nnfs_init):
    assert np.zeros(3).dtype == np.float32  # the patch is in place
    rng = random.Random(2)
    xs = [tv.Value(rng.uniform(-1, 1)) for _ in range(30)]
    ws = [tv.Value(rng.uniform(-1, 1)) for _ in range(30)]
    root = losses.huber([(x * w).tanh() * 1e3 for x, w in zip(xs, ws)], [0.1] * 30)
    prog = tv.compile(root)
    got = prog()
    assert prog._V.dtype == prog._G.dtype == np.float64
    grads = [x.grad for x in xs]
    for x in xs:
        x.grad = 0.0
    root.backward()
    assert close(got, root.data)
    assert all(close(g, x.grad) for g, x in zip(grads, xs))
    # float32 would be off by ~1e-7 relative; float64 agrees with eager far below 1e-9
    assert abs(got - root.data) <= 1e-12 * abs(root.data)
