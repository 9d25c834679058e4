"""tv.compile: the vectorised replay equals the eager engine (values, leaf grads, interior nodes,
errors), across random graphs over every op, repeated calls, accumulation and big graphs."""

from __future__ import annotations

import math
import random

import pytest

np = pytest.importorskip("numpy")

from hypothesis import HealthCheck, assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import tinygrad_value as tv  # noqa: E402
from tinygrad_value.compiled import np_math  # noqa: E402
from tinygrad_value.compiled.replay import Program  # noqa: E402
from tinygrad_value.engine import ops  # noqa: E402
from tinygrad_value.engine.value import _make  # noqa: E402

REL, ABS = 1e-9, 1e-12


def close(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b or math.isclose(a, b, rel_tol=REL, abs_tol=ABS)


def same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def assert_close(got: float, want: float, what: str) -> None:
    assert close(got, want), f"{what}: compiled {got!r} != eager {want!r}"


def eager_grads(root: tv.Value, leaves: list) -> list:
    for x in leaves:
        x.grad = 0.0
    root.backward()
    grads = [x.grad for x in leaves]
    for x in leaves:
        x.grad = 0.0
    return grads


# --- random expression graphs over every op ------------------------------------------------

# ops that draw (dropout masks) differ from eager by design: tests/compiled/test_replay_per_batch.py
DETERMINISTIC = [name for name, op in tv.OPS.items() if not op.draws]
POWC_EXPONENTS = [2.0, 3.0, -1.0, 0.5, 1.5, -2.0, 0.0, 1.0]


def apply(name: str, a: tv.Value, b: tv.Value, pool: list, draw_int, const: float) -> tv.Value:
    """Build one node of op ``name`` from pool members (eager; may raise ValueError)."""
    if name == "add":
        return [a + b, a + const, const + a][draw_int(2)]
    if name == "sub":
        return [a - b, a - const, const - a][draw_int(2)]
    if name == "mul":
        return [a * b, a * const, const * a, a * a][draw_int(3)]
    if name == "div":
        return [a / b, a / const, const / a][draw_int(2)]
    if name == "neg":
        return -a
    if name == "pow":
        return [a ** b, abs(const) ** b][draw_int(1)]
    if name == "powc":
        return a ** POWC_EXPONENTS[draw_int(len(POWC_EXPONENTS) - 1)]
    if name == "leaky_relu":
        return a.leaky_relu([0.01, 0.2, -0.5][draw_int(2)])
    if name == "max":
        return [a.max(b), a.max(const), a.max(a)][draw_int(2)]
    if name in ("clamp_min", "clamp_max"):
        return getattr(a, name)(const)
    if name == "sum":
        k = 1 + draw_int(min(5, len(pool)) - 1)
        return tv.sum([pool[draw_int(len(pool) - 1)] for _ in range(k)] + [const][: draw_int(1)])
    if name == "dot":
        k = 1 + draw_int(min(4, len(pool)) - 1)
        xs = [pool[draw_int(len(pool) - 1)] for _ in range(k)]
        ws = [pool[draw_int(len(pool) - 1)] for _ in range(k)]
        return tv.dot(xs, ws)
    return getattr(a, name)()


@st.composite
def graphs(draw, must_have: str):
    """(root, leaves, nodes): a random graph that uses op ``must_have`` at least once."""
    values = st.floats(-3.0, 3.0, allow_nan=False).filter(lambda v: abs(v) > 1e-3)
    nleaf = draw(st.integers(1, 4))
    leaves = [tv.Value(draw(values), label=f"x{i}") for i in range(nleaf)]
    pool = list(leaves)
    names = DETERMINISTIC
    steps = draw(st.integers(1, 12))
    forced = draw(st.integers(0, steps - 1))

    def draw_int(hi: int) -> int:
        return draw(st.integers(0, hi))

    for i in range(steps):
        name = must_have if i == forced else draw(st.sampled_from(names))
        a = pool[draw_int(len(pool) - 1)]
        b = pool[draw_int(len(pool) - 1)]
        const = draw(values)
        try:
            out = apply(name, a, b, pool, draw_int, const)
        except ValueError:
            assume(False)
        assume(math.isfinite(out.data) and abs(out.data) < 1e6)
        # away from kinks: a tiny rounding difference must not flip relu/abs/leaky_relu
        if name in ("relu", "abs", "leaky_relu"):
            assume(abs(a.data) > 1e-6)
        if name in ("clamp_min", "clamp_max"):
            assume(abs(a.data - const) > 1e-6)
        if name == "max" and out.children[0] is not out.children[1]:  # a.max(a) is a tie
            assume(abs(out.children[0].data - out.children[1].data) > 1e-6)
        pool.append(out)
    # the root uses the last node and, often, a reused earlier one (shared subgraphs)
    root = pool[-1]
    if draw(st.booleans()) and len(pool) > 2:
        root = root * pool[draw_int(len(pool) - 2)] + pool[-2]
    return root, leaves


def check_against_eager(root: tv.Value, leaves: list) -> None:
    """Both ways of running a level: one-node levels on floats (default), and all vectorised."""
    _check_against_eager(root, leaves, tv.compile)
    for n in tv.topo_order(root):
        n.grad = 0.0
    _check_against_eager(root, leaves, lambda r: Program(r, narrow_levels=False))


def _check_against_eager(root: tv.Value, leaves: list, compile_) -> None:
    nodes = tv.topo_order(root)
    want = eager_grads(root, leaves)
    interior = [(n, n.data, n.grad) for n in nodes if n.children]
    # constants lifted from numbers are leaves too; one eager backward left their grad in place
    constants = [(n, n.grad) for n in nodes if not n.children and n not in leaves]
    prog = compile_(root)
    got = prog()
    assert_close(got, root.data, "root value")
    for x, w in zip(leaves, want):
        assert_close(x.grad, w, f"grad of leaf {x.label}")
    for n, data, grad in interior:
        assert same(n.data, data) and same(n.grad, grad), "an interior Value was modified"
        assert_close(prog.value(n), data, f"value of interior node {n.op}")
        assert_close(prog.grad(n), grad, f"grad of interior node {n.op}")
    for n, grad in constants:
        assert_close(prog.grad(n), grad, "grad of a constant leaf (this call)")
        assert_close(n.grad, 2 * grad, "grad of a constant leaf (accumulated)")


@pytest.mark.parametrize("name", DETERMINISTIC)
@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(data=st.data())
def test_random_graphs_match_eager(name, data):
    root, leaves = data.draw(graphs(name))
    check_against_eager(root, leaves)


# --- hand-built cases ---------------------------------------------------------------------


def test_readme_style_neuron_and_shared_nodes():
    x = [tv.Value(v, label=f"x{i}") for i, v in enumerate([0.5, -1.5, 2.0])]
    w = [tv.Value(v) for v in [0.3, -0.7, 0.1]]
    b = tv.Value(0.25)
    act = sum((wi * xi for wi, xi in zip(w, x)), b)  # micrograd's chain of binary adds
    h = act.tanh()
    root = h * h - (x[0] - act) / (act * act + 1.0) + (-act) + tv.dot(x, w) * x[1]
    check_against_eager(root, x + w + [b])


def test_duplicate_children_and_sub_chains():
    x, y = tv.Value(1.3, label="x"), tv.Value(-0.4, label="y")
    chain = x - y - x * y - 2.0 - (x - y) + x * x
    root = (chain - (-chain)) * (y * y)
    check_against_eager(root, [x, y])


@pytest.mark.parametrize("coefs", [(1e16, 1.0, -1e16), (1e16, -1e16, 1.0), (1.0, 1e16, -1e16),
                                   (-1e16, 1.0, 1e16), (1.0, -1e16, 1e16), (-1e16, 1e16, 1.0)])
def test_gradient_contributions_are_added_in_eager_order(coefs):
    """Contributions 1e16, 1, -1e16 sum to 0 or 1 depending on the order: the replay adds them
    in backward()'s order, so even this cancellation comes out bit for bit."""
    x = tv.Value(0.5, label="x")
    ks = [tv.Value(c) for c in coefs]
    root = ks[0] * x + (ks[1] * x).tanh() * 0.0 + x * ks[1] + tv.dot([ks[2]], [x])
    root.backward()
    want = x.grad
    x.grad = 0.0
    for narrow_levels in (True, False):
        Program(root, narrow_levels=narrow_levels)()
        assert x.grad == want
        x.grad = 0.0


def test_root_is_a_leaf():
    x = tv.Value(3.0)
    prog = tv.compile(x)
    assert prog() == 3.0 and x.grad == 1.0
    assert prog.value(x) == 3.0 and prog.grad(x) == 1.0
    x.data = 5.0
    assert prog() == 5.0 and x.grad == 2.0


def test_repeated_calls_follow_changed_leaves_like_an_optimizer_step():
    rng = random.Random(0)
    n_in, n_h = 3, 4

    def loss_of(params, xs, ys):
        w1, b1, w2, b2 = params[:n_in * n_h], params[n_in * n_h:n_in * n_h + n_h], \
            params[n_in * n_h + n_h:-1], params[-1]
        total = 0
        for x, y in zip(xs, ys):
            hidden = [sum((w1[j * n_in + i] * x[i] for i in range(n_in)), b1[j]).tanh()
                      for j in range(n_h)]
            out = sum((w2[j] * hidden[j] for j in range(n_h)), b2)
            total = total + (out - y) ** 2
        return total / len(xs)

    n_params = n_in * n_h + n_h + n_h + 1
    data = [rng.uniform(-1, 1) for _ in range(n_params)]
    xs = [[tv.Value(rng.uniform(-2, 2)) for _ in range(n_in)] for _ in range(5)]
    ys = [tv.Value(rng.uniform(-1, 1)) for _ in range(5)]
    params = [tv.Value(d) for d in data]
    prog = tv.compile(loss_of(params, xs, ys))
    for step in range(4):
        for p in params:
            p.grad = 0.0
        got = prog()
        fresh = [tv.Value(p.data) for p in params]
        fresh_x = [[tv.Value(v.data) for v in row] for row in xs]
        fresh_y = [tv.Value(v.data) for v in ys]
        want_root = loss_of(fresh, fresh_x, fresh_y)
        want_root.backward()
        assert_close(got, want_root.data, f"loss at step {step}")
        for p, q in zip(params, fresh):
            assert_close(p.grad, q.grad, f"param grad at step {step}")
        for p in params:  # SGD step, then a new "mini-batch" written into the input leaves
            p.data -= 0.1 * p.grad
        for row in xs:
            for v in row:
                v.data = rng.uniform(-2, 2)


def test_grads_accumulate_across_calls_like_two_backward_calls():
    x, y = tv.Value(0.7), tv.Value(-1.1)
    root = (x * y).exp() + (x + y).sigmoid() * x
    root.backward()
    root.backward()
    want = (x.grad, y.grad)
    x.grad = y.grad = 0.0
    prog = tv.compile(root)
    prog()
    prog()
    assert_close(x.grad, want[0], "x.grad after two calls")
    assert_close(y.grad, want[1], "y.grad after two calls")


def test_interior_values_are_untouched_and_readable_through_the_program():
    x = tv.Value(2.0, label="x")
    h = (x * 3.0).tanh()
    root = h * x
    prog = tv.compile(root)
    with pytest.raises(RuntimeError):
        prog.value(h)
    x.data = 0.1
    prog()
    assert h.data == math.tanh(6.0) and h.grad == 0.0  # still the eager build's numbers
    assert_close(prog.value(h), math.tanh(0.3), "value(h)")
    assert_close(prog.grad(h), 0.1, "grad(h)")
    assert_close(prog.value(root), math.tanh(0.3) * 0.1, "value(root)")
    with pytest.raises(KeyError):
        prog.value(tv.Value(1.0))


def test_forward_only_replay_computes_values_and_touches_no_grad():
    x = tv.Value(2.0, label="x")
    w = tv.Value(-0.5, label="w")
    h = (x * w).tanh()
    root = h * x + w.exp()
    prog = tv.compile(root)
    x.data, w.data = 0.3, 1.5
    x.grad = w.grad = 7.0
    value = prog.forward()
    assert x.grad == 7.0 and w.grad == 7.0
    assert_close(value, math.tanh(0.45) * 0.3 + math.exp(1.5), "forward()")
    assert_close(prog.value(h), math.tanh(0.45), "value(h) after forward()")
    with pytest.raises(RuntimeError, match="full call"):
        prog.grad(h)
    assert prog() == value  # a full call then adds the gradients as backward() would
    assert_close(x.grad - 7.0, (1 - math.tanh(0.45) ** 2) * 1.5 * 0.3 + math.tanh(0.45), "dx")


def _eager_message(build) -> str:
    with pytest.raises(ValueError) as info:
        build()
    return str(info.value)


@pytest.mark.parametrize("case", ["log", "sqrt", "div", "zero_pow_negative",
                                  "negative_pow_fraction", "pow_value"])
def test_replay_raises_the_eager_domain_error(case):
    x = tv.Value(2.0, label="x")
    k = tv.Value(0.5, label="k")
    build = {
        "log": lambda: x.log() * 3.0,
        "sqrt": lambda: (x * 2.0).sqrt() + 1.0,
        "div": lambda: 1.0 / x,
        "zero_pow_negative": lambda: x ** -2,
        "negative_pow_fraction": lambda: x ** 1.5,
        "pow_value": lambda: x ** k,
    }[case]
    prog = tv.compile(build().tanh())
    prog()
    x.data = 0.0 if case in ("div", "zero_pow_negative") else -1.0
    expected = _eager_message(build)
    with pytest.raises(ValueError) as info:
        prog()
    assert str(info.value) == expected
    with pytest.raises(RuntimeError):  # no half-computed values from the failed call
        prog.value(x)


@pytest.mark.parametrize("narrow_levels", [True, False])
def test_domain_error_in_a_wide_level_names_the_offending_node(narrow_levels):
    xs = [tv.Value(v, label=f"x{i}") for i, v in enumerate([1.0, 2.0, 3.0])]
    prog = Program(tv.sum([x.log() for x in xs]), narrow_levels=narrow_levels)
    prog()
    xs[1].data = -0.5
    with pytest.raises(ValueError) as info:
        prog()
    assert str(info.value) == "log(-0.5): log is defined for inputs > 0 (node 'x1')"


def test_overflow_is_not_an_error():
    x = tv.Value(1.0)
    prog = tv.compile(x.exp() * 2.0)
    x.data = 1000.0
    assert prog() == math.inf


def test_unknown_ops_raise_a_clear_error():
    stray = ops.Op("cube", "cube", 1, lambda xp, a: a * a * a, lambda xp, a, out: (3 * a * a,))
    node = _make(8.0, stray, tv.Value(2.0))
    with pytest.raises(TypeError, match="'cube' is not in the op table"):
        tv.compile(node + 1.0)


def test_nary_ops_other_than_sum_and_dot_raise_a_clear_error():
    prod = ops.Op("prod", "prod", -1, lambda xp, *xs: xs[0] * xs[1],
                  lambda xp, *args: (args[1], args[0]))
    ops.OPS["prod"] = prod  # registered for this test only
    try:
        node = _make(6.0, prod, (tv.Value(2.0), tv.Value(3.0)))
        with pytest.raises(TypeError, match="n-ary op 'prod' is not supported"):
            tv.compile(node * 2.0)
    finally:
        del ops.OPS["prod"]


def test_dot_is_a_sum_of_mul_products_in_the_table():
    """The replay multiplies a sum's terms with MUL's forward and differentiates them with DOT's
    local rule (a term a·b is a one-pair dot); this pins that the table's two agree."""
    rng = np.random.default_rng(0)
    xs = list(rng.normal(size=4))
    ws = list(rng.normal(size=4))
    out = ops.DOT.forward(np_math, *xs, *ws)
    assert out == sum((ops.MUL.forward(np_math, x, w) for x, w in zip(xs, ws)), 0.0)
    locals_ = ops.DOT.local(np_math, *xs, *ws, out)
    assert list(locals_) == [ops.MUL.local(np_math, x, w, 0.0)[0] for x, w in zip(xs, ws)] + \
        [ops.MUL.local(np_math, x, w, 0.0)[1] for x, w in zip(xs, ws)]
    a, b = np.array(xs), np.array(ws)  # one pair, on arrays, as the replay calls it
    for got, want in zip(ops.DOT.local(np_math, a, b, None), ops.MUL.local(np_math, a, b, None)):
        assert np.array_equal(got, want)


def test_import_stays_numpy_free():
    import subprocess
    import sys

    code = "import sys, tinygrad_value; print('numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --- size ---------------------------------------------------------------------------------


def test_a_million_node_chain_compiles_and_replays():
    x = tv.Value(0.5, label="x")
    y = x
    for _ in range(500_000):  # 10⁶ nodes: an add node and a constant leaf per step
        y = y + 0.25
    prog = tv.compile(y)
    assert len(prog) == 1_000_001
    assert_close(prog(), 0.5 + 0.25 * 500_000, "chain value")
    assert x.grad == 1.0
    x.data = 1.5
    assert_close(prog(), 1.5 + 0.25 * 500_000, "chain value after a change")


def test_a_deep_elementwise_chain_replays_level_by_level():
    x = tv.Value(0.3)
    y = x
    for _ in range(3000):
        y = (y * 0.99 + 0.01).tanh()
    check_against_eager(y, [x])


def test_a_chain_a_hundred_thousand_levels_deep():
    x = tv.Value(0.3)
    y = x
    for _ in range(100_000):  # every level one node wide: the float path, no recursion
        y = y.tanh()
    y.backward()
    want = x.grad
    x.grad = 0.0
    prog = tv.compile(y)
    assert_close(prog(), y.data, "deep chain value")
    assert_close(x.grad, want, "deep chain grad")


# --- with nn: every loss ------------------------------------------------------------------

LOSS_CASES = ["mse", "mae", "huber", "hinge", "binary_cross_entropy", "bce",
              "binary_cross_entropy_with_logits", "cross_entropy", "cross_entropy_soft",
              "l1", "l2"]


def test_every_loss_in_nn_is_covered():
    nn = pytest.importorskip("nn")
    table = getattr(nn.losses, "LOSSES", {})
    assert set(table) <= set(LOSS_CASES), f"add {set(table) - set(LOSS_CASES)} to LOSS_CASES"


@pytest.mark.parametrize("loss", LOSS_CASES)
def test_mlp_losses_match_eager(loss):
    nn = pytest.importorskip("nn")
    fn = getattr(nn.losses, loss.replace("_soft", ""), None)
    fn = nn.losses.LOSSES.get(loss, fn) if hasattr(nn.losses, "LOSSES") else fn
    if fn is None:
        pytest.skip(f"nn.losses has no {loss}")
    random.seed(3)
    n_out = 3 if loss.startswith("cross_entropy") else 1
    model = nn.MLP(2, [5, 4, n_out])
    xs = [[tv.Value(random.uniform(-2, 2)) for _ in range(2)] for _ in range(6)]
    outs = [model(x) for x in xs]
    if loss == "cross_entropy":
        root = fn(outs, [random.randrange(3) for _ in xs])
    elif loss == "cross_entropy_soft":  # one-hot target leaves, as nn.fit(compiled=True) feeds
        targets = [[tv.Value(float(k == random.randrange(3))) for k in range(3)] for _ in xs]
        root = fn(outs, targets)
    elif loss == "hinge":
        root = fn(outs, [random.choice([-1, 1]) for _ in xs])
    elif loss == "binary_cross_entropy_with_logits":
        root = fn(outs, [random.choice([0.0, 1.0]) for _ in xs])
    elif loss in ("binary_cross_entropy", "bce"):
        root = fn([o.sigmoid() for o in outs], [random.choice([0.0, 1.0]) for _ in xs])
    elif loss in ("l1", "l2"):
        root = fn(model.parameters()) * 1e-2 + nn.losses.mse(outs, [0.5] * len(xs))
    else:
        root = fn(outs, [random.uniform(-1, 1) for _ in xs])
    check_against_eager(root, model.parameters() + [v for x in xs for v in x])


# --- the sign of a zero sum ---------------------------------------------------------------


@pytest.mark.parametrize("narrow_levels", [True, False])
def test_a_chain_of_negative_zero_products_keeps_eager_sign(narrow_levels):
    """x*y + z*w with both products -0.0: a chain of binary adds starts from its first term, so
    eager gives -0.0; tv.sum starts from +0.0 and gives +0.0. The replay gives each the same."""
    x, y, z, w = tv.Value(-0.0), tv.Value(1.0), tv.Value(0.0), tv.Value(-3.0)
    chain = x * y + z * w
    summed = tv.sum([x * y, z * w])
    assert math.copysign(1.0, chain.data) == -1.0 and math.copysign(1.0, summed.data) == 1.0
    for root in (chain * 1.0, summed * 1.0, (chain * 1.0).tanh() + tv.Value(2.0) * 0.0):
        prog = Program(root, narrow_levels=narrow_levels)
        prog()
        for node in tv.topo_order(root):
            if node.children:
                got = prog.value(node)
                assert got == node.data and math.copysign(1.0, got) == math.copysign(
                    1.0, node.data), f"{node.op}: compiled {got!r}, eager {node.data!r}"


def test_zero_sums_of_one_level_each_keep_eager_sign():
    """One level of several sums, some zero: a chain of -0.0 products is -0.0, a chain with a
    +0.0 term, a tv.sum of -0.0 products and x + (-x) are +0.0; the replay checks them all at
    once and gives each its eager sign. (Dense blocks are off: a matrix product adds from +0.0,
    and these rows share their factors.)"""
    x, y, z, w = tv.Value(-0.0), tv.Value(1.0), tv.Value(0.0), tv.Value(-3.0)
    a = tv.Value(2.5)
    sums = [x * y + z * w,  # -0.0 + -0.0
            x * y + z * y,  # -0.0 + 0.0
            tv.sum([x * y, z * w]),  # from +0.0
            a * y + (-a) * y,  # 2.5 - 2.5
            a * y + x * y]  # 2.5
    root = tv.sum([s_.tanh() for s_ in sums])
    want = [math.copysign(1.0, s_.data) for s_ in sums]
    assert want == [-1.0, 1.0, 1.0, 1.0, 1.0]
    for narrow_levels in (True, False):
        prog = Program(root, narrow_levels=narrow_levels, dense=False)
        prog()
        got = [prog.value(s_) for s_ in sums]
        assert got == [s_.data for s_ in sums]
        assert [math.copysign(1.0, g) for g in got] == want
