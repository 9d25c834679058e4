"""nn.optim's one update rule per optimizer: run on ARRAYS (all parameters at once, what
``step()`` does) it leaves the bits that FLOATS (one parameter at a time) leaves, and every older
way into an optimizer (``_update``, ``_update_arrays``, ``step_arrays``) still works."""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import need_module, need_torch
from hypothesis import given, settings
from hypothesis import strategies as st

import nn
import tinygrad_value as tv
from nn import optim

np = pytest.importorskip("numpy")

ROOT = Path(__file__).resolve().parents[2]

# every option of every optimizer, alone and together, with and without lr decay
CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.5, dampening=0.3, weight_decay=0.01, decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.02)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.02, initial_accumulator_value=0.1,
                     decay=0.05)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, weight_decay=0.01)),
    ("RMSprop", dict(lr=0.005, alpha=0.9, momentum=0.5, centered=True, weight_decay=0.01,
                     decay=0.1)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.02, amsgrad=True, weight_decay=0.01, decay=0.1)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.02, weight_decay=0.1, amsgrad=True)),
]
IDS = [f"{name}-{i}" for i, (name, _) in enumerate(CONFIGS)]


def per_parameter(cls):
    """``cls`` with ``_update`` overridden (by itself): step() must go one parameter at a time,
    through FLOATS, the way every step went before the arrays."""

    class PerParameter(cls):
        def _update(self, i, p, g, lr):
            return super()._update(i, p, g, lr)

    return PerParameter


def _bits(values):
    """Exact text of each number (-0.0 and 0.0 differ); every NaN reads the same."""
    return ["nan" if x != x else float(x).hex() for x in values]


def _snapshot(opt):
    return (_bits(p.data for p in opt.params),
            {name: _bits(getattr(opt, name)) for name in opt.state_names}, opt.t)


def _pair(name, kwargs, data):
    """The optimizer on ARRAYS and its per-parameter twin, on two copies of the parameters."""
    cls = getattr(optim, name)
    fast = cls([tv.Value(x) for x in data], **kwargs)
    slow = per_parameter(cls)([tv.Value(x) for x in data], **kwargs)
    return fast, slow


def _step_both(fast, slow, grads):
    """One step of each from the same gradients; an error must be the same error, and leave
    both where they were."""
    for a, b, g in zip(fast.params, slow.params, grads):
        a.grad = b.grad = g
    before = _snapshot(fast)
    try:
        slow.step()
    except (ValueError, ZeroDivisionError) as e:
        with pytest.raises(type(e)):
            fast.step()
        assert _snapshot(fast) == before
        return False
    fast.step()
    assert _snapshot(fast) == _snapshot(slow)
    return True


NUMBERS = st.one_of(st.floats(-10.0, 10.0), st.sampled_from([0.0, -0.0, 1e-300, -3e-12, 1e6]))


@pytest.mark.parametrize("name,kwargs", CONFIGS, ids=IDS)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_arrays_give_the_bits_floats_give(name, kwargs, data):
    n = data.draw(st.integers(1, 12), label="n")
    fast, slow = _pair(name, kwargs, data.draw(st.lists(NUMBERS, min_size=n, max_size=n)))
    assert fast.supports_arrays() and not slow.supports_arrays()
    for _ in range(data.draw(st.integers(1, 30), label="steps")):
        grads = data.draw(st.lists(NUMBERS, min_size=n, max_size=n))
        if not _step_both(fast, slow, grads):
            break


@pytest.mark.parametrize("name,kwargs", CONFIGS, ids=IDS)
def test_many_steps_on_a_model_stay_equal_to_the_bit(name, kwargs, monkeypatch):
    random.seed(3)
    model = nn.MLP(5, [8, 3])
    fast, slow = _pair(name, kwargs, [p.data for p in model.parameters()])
    per_parameter_steps = []
    real = optim.Optimizer._step_per_parameter

    def counted(self, work, lr):
        per_parameter_steps.append(type(self).__name__)
        return real(self, work, lr)

    monkeypatch.setattr(optim.Optimizer, "_step_per_parameter", counted)
    rng = random.Random(7)
    for _ in range(80):
        assert _step_both(fast, slow, [rng.gauss(0.0, 1.0) for _ in fast.params])
    # every step of the built-in went through the arrays, every step of the twin did not
    assert per_parameter_steps == ["PerParameter"] * 80


@pytest.mark.parametrize("name,kwargs", CONFIGS, ids=IDS)
def test_step_arrays_runs_the_same_rule_even_where_numbers_break(name, kwargs):
    """``step_arrays`` never falls back, so NaN, inf and huge gradients reach the ARRAYS rule
    itself; wherever FLOATS computes a value (no exception) the bits agree."""
    rng = random.Random(11)
    data = [rng.uniform(-2, 2) for _ in range(9)]
    fast, slow = _pair(name, kwargs, data)
    P, state = np.array(data, dtype=np.float64), fast.state_arrays()
    specials = [math.nan, math.inf, -math.inf, 1e200, -1e-320, 0.0, -0.0]
    for step in range(12):
        grads = [rng.uniform(-1, 1) for _ in data]
        grads[step % len(grads)] = specials[step % len(specials)]
        for p, g in zip(slow.params, grads):
            p.grad = g
        slow.step()
        with np.errstate(all="ignore"):
            P, state = fast.step_arrays(P, np.array(grads, dtype=np.float64), state)
        assert P.dtype == np.float64
        assert _bits(P.tolist()) == _bits(p.data for p in slow.params)
        for key in fast.state_names:
            assert state[key].dtype == np.float64
            assert _bits(state[key].tolist()) == _bits(getattr(slow, key)), key
    fast.load_state_arrays(state)
    assert fast.t == slow.t == 12


@pytest.mark.parametrize("name,kwargs", CONFIGS, ids=IDS)
def test_step_arrays_leaves_its_inputs_and_keeps_none_of_them(name, kwargs):
    """The inputs are not modified, and the compiled fit may reuse its parameter and gradient
    buffers for the next batch: the state a step returns must not change when it does."""
    opt = getattr(optim, name)([tv.Value(x) for x in (0.5, -1.0, 2.0)], **kwargs)
    P = np.array([0.5, -1.0, 2.0], dtype=np.float64)
    G = np.array([0.25, -0.5, 1.0], dtype=np.float64)
    state = opt.state_arrays()
    inputs = [_bits(a.tolist()) for a in (P, G, *state.values())]
    new_p, new_state = opt.step_arrays(P, G, state)
    assert [_bits(a.tolist()) for a in (P, G, *state.values())] == inputs
    kept = {key: _bits(a.tolist()) for key, a in new_state.items()}
    P[:], G[:] = 9.0, 9.0
    assert {key: _bits(a.tolist()) for key, a in new_state.items()} == kept
    assert not np.shares_memory(new_p, P) and not np.shares_memory(new_p, G)


# --- NaN in amsgrad: the maximum keeps it, as torch.maximum does --------------------------

def test_the_maximum_is_torchs_on_floats_and_arrays():
    xp = optim._arrays()
    pairs = [(0.0, math.nan), (math.nan, 0.0), (math.nan, math.nan), (1.0, 2.0), (2.0, 1.0),
             (-0.0, 0.0), (0.0, -0.0), (math.inf, 1.0)]
    on_floats = [optim.FLOATS.maximum(a, b) for a, b in pairs]
    a, b = (np.array(col, dtype=np.float64) for col in zip(*pairs))
    assert _bits(on_floats) == _bits(xp.maximum(a, b).tolist())
    assert _bits(on_floats) == _bits([math.nan, math.nan, math.nan, 2.0, 2.0, -0.0, 0.0,
                                      math.inf])  # a on a tie


def _amsgrad_with_a_nan():
    fast, slow = _pair("Adam", dict(lr=0.1, amsgrad=True), [1.0, 2.0, -0.5])
    for grads in ([0.5, 0.1, 0.2], [math.nan, 0.1, 0.3], [0.5, -0.1, 0.2]):
        assert _step_both(fast, slow, grads)
    return fast


def test_amsgrad_keeps_a_nan_in_its_maximum():
    opt = _amsgrad_with_a_nan()
    assert math.isnan(opt.v_max[0]) and math.isnan(opt.params[0].data)
    assert all(math.isfinite(x) for x in opt.v_max[1:] + [p.data for p in opt.params[1:]])


def test_amsgrad_with_a_nan_follows_torch():
    torch = need_torch()
    ours = _amsgrad_with_a_nan()
    p = torch.tensor([1.0, 2.0, -0.5], dtype=torch.float64, requires_grad=True)
    theirs = torch.optim.Adam([p], lr=0.1, amsgrad=True)
    for grads in ([0.5, 0.1, 0.2], [math.nan, 0.1, 0.3], [0.5, -0.1, 0.2]):
        p.grad = torch.tensor(grads, dtype=torch.float64)
        theirs.step()
    state = theirs.state[p]
    for mine, ref in ((ours.v_max, state["max_exp_avg_sq"]), (ours.v, state["exp_avg_sq"]),
                      ([q.data for q in ours.params], p.detach())):
        ref = ref.tolist()
        assert math.isnan(mine[0]) and math.isnan(ref[0])
        assert mine[1:] == pytest.approx(ref[1:], rel=1e-12)


# --- where Python raises, step() still raises, and changes nothing ------------------------

@pytest.mark.parametrize("make", [
    lambda ps: optim.Adam(ps, eps=0.0),
    lambda ps: optim.Adagrad(ps, eps=0.0),
    lambda ps: optim.RMSprop(ps, eps=0.0),
    lambda ps: optim.RMSprop(ps, eps=0.0, momentum=0.9, centered=True),
], ids=["Adam", "Adagrad", "RMSprop", "RMSprop-centered-momentum"])
def test_a_step_python_cannot_take_raises_as_it_always_did(make):
    """With eps=0 a zero gradient is 0/0: NaN on arrays, a ZeroDivisionError in Python."""
    params = [tv.Value(x) for x in (1.0, 2.0, 3.0)]
    opt = make(params)
    for p, g in zip(params, (0.5, 0.0, -0.5)):
        p.grad = g
    before = _snapshot(opt)
    with pytest.raises(ZeroDivisionError):
        opt.step()
    assert _snapshot(opt) == before
    params[1].grad = 0.25
    opt.step()  # and without the zero it steps
    assert _snapshot(opt) != before


def test_the_root_of_a_negative_variance_is_a_value_error_on_floats_nan_on_arrays():
    params = [tv.Value(1.0), tv.Value(2.0)]
    opt = optim.RMSprop(params, centered=True)
    opt.square_avg, opt.grad_avg = [0.0, 1.0], [1.0, 0.0]  # v - m² < 0 for the first
    for p in params:
        p.grad = 0.0
    before = _snapshot(opt)
    with pytest.raises(ValueError, match="math domain"):
        opt.step()
    assert _snapshot(opt) == before
    with np.errstate(invalid="ignore"):
        P, _ = opt.step_arrays(np.array([1.0, 2.0], dtype=np.float64),
                               np.array([0.0, 0.0], dtype=np.float64), opt.state_arrays())
    assert math.isnan(P[0]) and P[1] == 2.0  # what torch computes


# --- anything but Python floats goes through the per-parameter path -----------------------

@pytest.mark.parametrize("odd", [3, True, np.float32(0.1), np.float64(0.1)],
                         ids=["int", "bool", "float32", "float64-scalar"])
def test_a_gradient_that_is_not_a_python_float_steps_as_it_always_did(odd):
    fast, slow = _pair("Adam", dict(lr=0.1, amsgrad=True), [1.0, 2.0, 3.0])
    for opt in (fast, slow):
        for p, g in zip(opt.params, [0.5, odd, -0.25]):
            p.grad = g
        opt.step()
    assert [type(p.data) for p in fast.params] == [type(p.data) for p in slow.params]
    assert _snapshot(fast) == _snapshot(slow)


def test_a_state_entry_that_is_not_a_float_steps_as_it_always_did():
    fast, slow = _pair("SGD", dict(lr=0.1, momentum=0.9), [1.0, 2.0])
    for opt in (fast, slow):
        for p in opt.params:
            p.grad = 0.5
        opt.step()
        opt.buf = [np.float32(0.3), 1]  # a hand-made state: float32 arithmetic, an int
        opt.step()
    assert _snapshot(fast) == _snapshot(slow)
    fast.buf = ["0.3", 0.1]
    before = _snapshot(fast)
    with pytest.raises(TypeError):
        fast.step()
    assert _snapshot(fast) == before


def test_a_wrong_length_state_list_fails_as_it_always_did():
    opt = optim.Adam([tv.Value(1.0), tv.Value(2.0)])
    opt.m = [0.0]  # NumPy would broadcast it over both
    with pytest.raises(IndexError):
        opt.step()


# --- all or nothing, on the arrays too ----------------------------------------------------

@pytest.mark.parametrize("raised", [RuntimeError("boom"), KeyboardInterrupt()],
                         ids=["error", "ctrl-c"])
def test_a_step_interrupted_inside_the_array_rule_changes_nothing(raised, monkeypatch):
    random.seed(5)
    model = nn.MLP(3, [4, 2])
    opt = optim.Adam(model.parameters(), lr=0.1)
    for p in model.parameters():
        p.grad = 0.3
    opt.step()
    before = (model.state_dict(), _snapshot(opt))
    calls = []

    def sqrt(x):
        calls.append(len(x))
        raise raised

    monkeypatch.setattr(optim._arrays(), "sqrt", sqrt)
    with pytest.raises(type(raised)):
        opt.step()
    assert calls == [len(opt.params)]  # it was the arrays, all parameters at once
    assert (model.state_dict(), _snapshot(opt)) == before


# --- custom optimizers: the old hooks are honoured ----------------------------------------

def test_a_subclass_overriding_update_is_stepped_through_it():
    calls = []

    class Halved(optim.SGD):
        def _update(self, i, p, g, lr):
            calls.append(i)
            return p - 0.5 * lr * g

    params = [tv.Value(1.0), tv.Value(-2.0)]
    opt = Halved(params, lr=0.2, weight_decay=0.5)
    params[0].grad, params[1].grad = 1.0, 3.0
    opt.step()
    assert calls == [0, 1] and not opt.supports_arrays()
    assert [p.data for p in params] == [1.0 - 0.5 * 0.2 * (1.0 + 0.5 * 1.0),
                                        -2.0 - 0.5 * 0.2 * (3.0 + 0.5 * -2.0)]


def test_an_optimizer_written_the_old_way_keeps_working():
    """CONTRIBUTING's recipe: subclass Optimizer, write ``_update``, keep a state list."""

    class Counting(optim.Optimizer):
        state_names = ("seen",)

        def __init__(self, params, lr=0.1):
            super().__init__(params, lr)
            self.seen = [0.0] * len(self.params)

        def _update(self, i, p, g, lr):
            self.seen[i] = self.seen[i] + 1.0
            if g == "stop":
                raise ValueError("stop")
            return p - lr * g * self.seen[i]

    params = [tv.Value(1.0), tv.Value(2.0)]
    opt = Counting(params)
    params[0].grad = params[1].grad = 1.0
    opt.step()
    opt.step()
    assert opt.seen == [2.0, 2.0] and [p.data for p in params] == [1.0 - 0.1 - 0.2,
                                                                   2.0 - 0.1 - 0.2]
    assert not opt.supports_arrays()
    params[1].grad = "stop"
    with pytest.raises(ValueError):
        opt.step()
    assert opt.seen == [2.0, 2.0] and opt.t == 2  # the scratch copy took the first write


def test_a_subclass_with_its_own_update_and_update_arrays_keeps_both():
    """The pair the built-ins used to have: step() goes through ``_update``, step_arrays
    through ``_update_arrays``."""
    used = []

    class Pair(optim.SGD):
        def _update(self, i, p, g, lr):
            used.append("floats")
            return p + (-lr) * g * 2.0

        def _update_arrays(self, state, p, g, lr):
            used.append("arrays")
            return p + (-lr) * g * 2.0

    params = [tv.Value(1.0), tv.Value(2.0)]
    opt = Pair(params, lr=0.1)
    assert opt.supports_arrays()
    params[0].grad = params[1].grad = 0.5
    opt.step()
    P, _ = opt.step_arrays(np.array([1.0, 2.0], dtype=np.float64),
                           np.array([0.5, 0.5], dtype=np.float64), {"buf": None})
    assert used == ["floats", "floats", "arrays"]
    assert P.tolist() == [p.data for p in params] == [0.9, 1.9]


def test_a_subclass_writing_its_own_rule_gets_both_paths():
    class Clipped(optim.SGD):
        """SGD on g clipped below at -1, written once with xp."""

        def _rule(self, xp, s, p, g, lr):
            return super()._rule(xp, s, p, xp.maximum(g, -1.0), lr)

    data, grads = [1.0, 2.0, 3.0, 4.0], [0.5, -3.0, math.pi, -0.75]
    fast, slow = (cls([tv.Value(x) for x in data], lr=0.1, momentum=0.9)
                  for cls in (Clipped, per_parameter(Clipped)))
    assert fast.supports_arrays()
    for _ in range(3):
        assert _step_both(fast, slow, grads)
    assert fast.buf[1] == 0.9 * (0.9 * -1.0 + -1.0) + -1.0


def test_a_subclass_changing_start_step_only_is_stepped_per_parameter():
    class Halfway(optim.Adam):
        def _start_step(self, lr):
            super()._start_step(lr)
            self._step_size /= 2

    plain, halfway = (cls([tv.Value(1.0)], lr=0.1) for cls in (optim.Adam, Halfway))
    assert not halfway.supports_arrays()
    for opt in (plain, halfway):
        opt.params[0].grad = 0.5
        opt.step()
    assert halfway.params[0].data - 1.0 == pytest.approx((plain.params[0].data - 1.0) / 2,
                                                         rel=1e-12)


def test_a_rule_may_only_keep_the_state_it_declares():
    class Leaky(optim.SGD):
        def _rule(self, xp, s, p, g, lr):
            s["undeclared"] = g
            return p

    params = [tv.Value(1.0)]
    params[0].grad = 1.0
    for opt in (Leaky(params), per_parameter(Leaky)(params)):
        with pytest.raises(KeyError, match="undeclared"):
            opt.step()
        assert opt.t == 0 and params[0].data == 1.0


# --- the state stays plain lists of floats: checkpoints and resuming ----------------------

def test_state_after_array_steps_is_plain_floats_and_resumes_exactly(tmp_path):
    random.seed(8)
    model = nn.MLP(4, [6, 2])
    opt = optim.Adam(model.parameters(), lr=0.05, amsgrad=True)
    rng = random.Random(1)

    def steps(opt, k):
        for _ in range(k):
            for p in opt.params:
                p.grad = rng.uniform(-1, 1)
            opt.step()

    steps(opt, 5)
    for name in opt.state_names:
        values = getattr(opt, name)
        assert isinstance(values, list) and {type(x) for x in values} == {float}
    assert {type(p.data) for p in opt.params} == {float}
    model.save(tmp_path / "model.json")
    saved = json.dumps({"t": opt.t, **{n: getattr(opt, n) for n in opt.state_names}})

    random.seed(99)  # a different start, replaced by the checkpoint
    resumed_model = nn.MLP(4, [6, 2]).load(tmp_path / "model.json")
    resumed = optim.Adam(resumed_model.parameters(), lr=0.05, amsgrad=True)
    for key, value in json.loads(saved).items():
        setattr(resumed, key, value)
    assert resumed_model.state_dict() == model.state_dict()

    rng_state = rng.getstate()
    steps(opt, 7)
    rng.setstate(rng_state)
    steps(resumed, 7)
    assert _snapshot(resumed) == _snapshot(opt)


def test_the_compiled_fit_and_step_agree_on_the_state_lists():
    X = [[0.5, -1.0], [1.5, 0.3], [-0.7, 0.8], [0.1, 0.1], [-1.2, -0.4], [2.0, -0.5]]
    y = [0, 1, 1, 0, 0, 1]
    ends = []
    for compiled in (False, True):
        random.seed(4)
        model = nn.MLP(2, [5, 2])
        opt = optim.RMSprop(model.parameters(), lr=0.01, momentum=0.5, centered=True)
        nn.fit(model, X, y, loss="cross_entropy", optimizer=opt, epochs=4, batch_size=4,
               compiled=compiled, progress=False)
        for name in opt.state_names:
            assert {type(x) for x in getattr(opt, name)} == {float}
        ends.append([p.data for p in model.parameters()] + opt.square_avg + opt.buf)
    assert ends[1] == pytest.approx(ends[0], rel=1e-9, abs=1e-12)


# --- NumPy's float32 defaults under nnfs.init(), and no NumPy at all ----------------------

def test_nnfs_init_does_not_change_a_step():
    nnfs = need_module("nnfs", "REQUIRE_DEMO_DEPS")
    ref = _pair("RMSprop", dict(lr=0.01, momentum=0.5, centered=True), [0.3, -1.2, 2.5])
    ref_grads = [[0.25, -0.5, 0.125], [1.5, 0.1, -0.2]]
    for grads in ref_grads:
        assert _step_both(*ref, grads)
    with pytest.MonkeyPatch.context() as mp:
        for owner, attr in ((np, "zeros"), (np, "eye"), (np, "dot"), (np.random, "randn")):
            mp.setattr(owner, attr, getattr(owner, attr))  # put back when the block ends
        nnfs.init()
        assert np.zeros(1).dtype == np.float32
        fast, slow = _pair("RMSprop", dict(lr=0.01, momentum=0.5, centered=True),
                           [0.3, -1.2, 2.5])
        for grads in ref_grads:
            assert _step_both(fast, slow, grads)
    assert _snapshot(fast) == _snapshot(ref[0])


# six amsgrad steps; run here and in a process where NumPy cannot be imported
SIX_STEPS = """
import random
import nn
from nn import optim
random.seed(0)
model = nn.MLP(3, [4, 2])
opt = optim.Adam(model.parameters(), lr=0.05, amsgrad=True, weight_decay=0.01)
rng = random.Random(1)
for _ in range(6):
    for p in opt.params:
        p.grad = rng.uniform(-1, 1)
    opt.step()
result = [p.data.hex() for p in opt.params] + [x.hex() for x in opt.v_max]
"""
NO_NUMPY = ("import sys\nsys.modules['numpy'] = None  # import numpy now raises ImportError\n"
            + SIX_STEPS + "assert optim._arrays() is None\nprint(result)\n")


def test_without_numpy_step_runs_per_parameter_to_the_same_bits():
    out = subprocess.run([sys.executable, "-c", NO_NUMPY], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, env={"PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr
    here: dict = {}
    exec(SIX_STEPS, here)  # noqa: S102 - the same steps, with NumPy
    assert out.stdout.strip() == str(here["result"])
