"""Compiled fit in array mode: parameters, grads and optimizer state in NumPy arrays between
steps, and everything a user can see equal to what the eager path leaves."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nn
import tinygrad_value as tv
from nn import optim

OPTIMIZERS = {
    "sgd": lambda ps: optim.SGD(ps, lr=0.1),
    "sgd-momentum": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, dampening=0.1,
                                         weight_decay=1e-3),
    "sgd-nesterov": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
    "adagrad": lambda ps: optim.Adagrad(ps, lr=0.1, lr_decay=0.01, weight_decay=1e-3),
    "rmsprop": lambda ps: optim.RMSprop(ps, lr=0.01, weight_decay=1e-3),
    "rmsprop-centered-momentum": lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.5,
                                                          centered=True),
    "adam": lambda ps: optim.Adam(ps, lr=0.02, decay=0.01),
    "adam-amsgrad": lambda ps: optim.Adam(ps, lr=0.02, amsgrad=True, weight_decay=1e-3),
    "adamw": lambda ps: optim.AdamW(ps, lr=0.02),
}


def _data(n=22, seed=5):  # 22 rows in batches of 4: a partial last batch of 2
    rng = random.Random(seed)
    X = [[rng.uniform(-1, 1) for _ in range(3)] for _ in range(n)]
    y = [int(a + b * c > 0) for a, b, c in X]
    return X, y


def _fit(make_opt, compiled, callback=None, **kwargs):
    X, y = _data()
    random.seed(4)
    model = nn.MLP(3, [5, 2])
    opt = make_opt(model.parameters())
    history = nn.fit(model, X, y, loss="cross_entropy", optimizer=opt, epochs=3, batch_size=4,
                     compiled=compiled, progress=False, callback=callback, **kwargs)
    return model, opt, history


def _close(a, b):
    assert a == pytest.approx(b, rel=1e-9, abs=1e-12)


def _same_state(opt_a, opt_b):
    assert opt_a.t == opt_b.t
    for name in opt_a.state_names:
        a, b = getattr(opt_a, name), getattr(opt_b, name)
        assert isinstance(a, list) and len(a) == len(b)
        _close(a, b)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_array_step_equals_the_scalar_rule(name):
    import numpy as np

    random.seed(1)
    model = nn.MLP(3, [4, 2])
    ps = model.parameters()
    scalar, arrays = OPTIMIZERS[name](ps), OPTIMIZERS[name](ps)
    assert arrays.supports_arrays()
    P = np.array([p.data for p in ps])
    state = arrays.state_arrays()
    rng = random.Random(2)
    for _ in range(4):
        grads = [rng.uniform(-1, 1) for _ in ps]
        for p, g in zip(ps, grads):
            p.grad = g
        scalar.step()
        P, state = arrays.step_arrays(P, np.array(grads), state)
        assert P.tolist() == [p.data for p in ps]  # same operations, same bits
    arrays.load_state_arrays(state)
    for n in scalar.state_names:
        assert getattr(arrays, n) == getattr(scalar, n)
    assert arrays.t == scalar.t


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_compiled_fit_equals_eager_with_every_optimizer(name):
    eager_model, eager_opt, eager_h = _fit(OPTIMIZERS[name], False)
    model, opt, h = _fit(OPTIMIZERS[name], True)
    _close(h.loss, eager_h.loss)
    assert h.accuracy == eager_h.accuracy
    _close([p.data for p in model.parameters()], [p.data for p in eager_model.parameters()])
    _close([p.grad for p in model.parameters()], [p.grad for p in eager_model.parameters()])
    _same_state(opt, eager_opt)


def test_a_subclass_that_changes_the_rule_runs_through_the_values():
    class Halved(optim.SGD):
        def _update(self, i, p, g, lr):
            return p - 0.5 * lr * g

    assert not Halved([nn.MLP(1, [1]).parameters()[0]]).supports_arrays()
    eager_model, _, eager_h = _fit(lambda ps: Halved(ps, lr=0.1), False)
    model, _, h = _fit(lambda ps: Halved(ps, lr=0.1), True)
    _close(h.loss, eager_h.loss)
    _close([p.data for p in model.parameters()], [p.data for p in eager_model.parameters()])


def test_a_callback_sees_the_current_step_and_can_change_it():
    def watch(seen):
        def callback(step, history, model):
            ps = model.parameters()
            seen.append(([p.data for p in ps], [p.grad for p in ps]))
            if step == 3:  # a change made here is what the next step starts from
                ps[0].data += 0.5
        return callback

    eager_seen, seen = [], []
    eager_model, eager_opt, _ = _fit(OPTIMIZERS["adam"], False, callback=watch(eager_seen))
    model, opt, _ = _fit(OPTIMIZERS["adam"], True, callback=watch(seen))
    assert len(seen) == len(eager_seen) == 18
    for (data, grad), (eager_data, eager_grad) in zip(seen, eager_seen):
        _close(data, eager_data)
        _close(grad, eager_grad)
    _close([p.data for p in model.parameters()], [p.data for p in eager_model.parameters()])
    _same_state(opt, eager_opt)


def test_early_stop_leaves_the_model_at_the_stopping_step():
    def stop(step, history, model):
        return step < 6

    eager_model, eager_opt, eager_h = _fit(OPTIMIZERS["rmsprop"], False, callback=stop)
    model, opt, h = _fit(OPTIMIZERS["rmsprop"], True, callback=stop)
    assert h.stopped_early and len(h) == len(eager_h) == 7
    _close([p.data for p in model.parameters()], [p.data for p in eager_model.parameters()])
    _same_state(opt, eager_opt)


def test_ctrl_c_during_a_compiled_step_leaves_the_last_whole_step(monkeypatch):
    from nn import train

    calls = []
    real = train._CompiledStep._run_arrays

    def interrupted(self, *args):
        calls.append(1)
        if len(calls) == 5:
            raise KeyboardInterrupt  # in the middle of step 5: after 4 whole steps
        return real(self, *args)

    monkeypatch.setattr(train._CompiledStep, "_run_arrays", interrupted)
    model, opt, h = _fit(OPTIMIZERS["adam"], True)
    assert h.interrupted and len(h) == 4 and opt.t == 4
    monkeypatch.undo()
    X, y = _data()
    random.seed(4)
    ref_model = nn.MLP(3, [5, 2])
    ref_opt = OPTIMIZERS["adam"](ref_model.parameters())
    ref_h = nn.fit(ref_model, X, y, loss="cross_entropy", optimizer=ref_opt, steps=4,
                   batch_size=4, progress=False)
    _close(h.loss, ref_h.loss)
    _close([p.data for p in model.parameters()], [p.data for p in ref_model.parameters()])
    _close([p.grad for p in model.parameters()], [p.grad for p in ref_model.parameters()])
    _same_state(opt, ref_opt)


class _WithUnused(nn.Module):
    """An MLP and a parameter its forward never uses (its grad stays 0, as in eager)."""

    def __init__(self):
        self.net = nn.MLP(3, [5, 2])
        self.unused = tv.Value(0.25)

    def __call__(self, x):
        return self.net(x)


def test_a_parameter_the_loss_does_not_use_is_left_as_eager_leaves_it():
    results = []
    for compiled in (False, True):
        X, y = _data()
        random.seed(4)
        model = _WithUnused()
        opt = optim.Adam(model.parameters(), lr=0.02)
        h = nn.fit(model, X, y, loss="cross_entropy", optimizer=opt, epochs=2, batch_size=4,
                   compiled=compiled, progress=False)
        assert any(p is model.unused for p in model.parameters())
        assert (model.unused.data, model.unused.grad) == (0.25, 0.0)
        results.append((h.loss, [p.data for p in model.parameters()],
                        [p.grad for p in model.parameters()], opt))
    (eager_loss, eager_data, eager_grad, eager_opt), (loss, data, grad, opt) = results
    _close(loss, eager_loss)
    _close(data, eager_data)
    _close(grad, eager_grad)
    _same_state(opt, eager_opt)


# --- accuracy counted in NumPy ---------------------------------------------------------------

# scores from a handful of values, so ties (first maximum wins) are common, and sometimes NaN
_score = st.sampled_from([-1.0, 0.0, 0.5, 1.0, 2.0, float("nan")])


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 6), st.integers(1, 4), st.data())
def test_accuracy_on_an_array_counts_as_on_lists(rows, width, data):
    np = pytest.importorskip("numpy")
    scores = data.draw(st.lists(st.lists(_score, min_size=width, max_size=width),
                                min_size=rows, max_size=rows))
    labels = data.draw(st.lists(st.integers(0, width - 1), min_size=rows, max_size=rows))
    a = np.array(scores, dtype=np.float64)
    assert nn.accuracy(a, labels) == nn.accuracy(scores, labels)
    one = [row[0] for row in scores]  # one score per sample: the threshold rule
    signs = data.draw(st.lists(st.sampled_from([-1, 0, 1]), min_size=rows, max_size=rows))
    for threshold in (0.0, 0.5):
        assert (nn.accuracy(np.array(one), signs, threshold=threshold)
                == nn.accuracy(one, signs, threshold=threshold))


def test_a_metric_of_the_users_gets_lists_from_a_compiled_fit():
    X, y = _data()
    seen = []

    def metric(outputs, targets):
        seen.append(type(outputs[0]))
        return 0.0

    random.seed(4)
    model = nn.MLP(3, [5, 2])
    nn.fit(model, X, y, loss="cross_entropy", optimizer=optim.Adam(model.parameters()),
           epochs=1, batch_size=4, compiled=True, metric=metric, progress=False)
    assert seen and set(seen) == {list}
