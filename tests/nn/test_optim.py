"""nn.optim: one or two steps against the formulas, many steps against torch.optim."""

from __future__ import annotations

import math
import random

import pytest
from conftest import need_torch

import nn
import tinygrad_value as tv
from nn import optim


def _param(data, grad):
    p = tv.Value(data)
    p.grad = grad
    return p


def test_defaults_are_pytorchs():
    p = [tv.Value(1.0)]
    assert optim.SGD(p).lr == 1e-3
    assert (optim.Adagrad(p).lr, optim.Adagrad(p).eps) == (1e-2, 1e-10)
    r = optim.RMSprop(p)
    assert (r.lr, r.alpha, r.eps) == (1e-2, 0.99, 1e-8)
    a = optim.Adam(p)
    assert (a.lr, a.betas, a.eps, a.weight_decay) == (1e-3, (0.9, 0.999), 1e-8, 0.0)
    assert optim.AdamW(p).weight_decay == 1e-2


def test_sgd_plain_and_momentum_by_hand():
    p = _param(1.0, 0.5)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    opt.step()  # buf = g
    assert p.data == pytest.approx(1.0 - 0.1 * 0.5, rel=1e-15)
    p.grad = 0.2
    opt.step()  # buf = 0.9·0.5 + 0.2
    assert p.data == pytest.approx(0.95 - 0.1 * 0.65, rel=1e-15)
    q = _param(1.0, 0.5)
    nesterov = optim.SGD([q], lr=0.1, momentum=0.9, nesterov=True)
    nesterov.step()  # g + μ·buf = 0.5 + 0.45
    assert q.data == pytest.approx(1.0 - 0.1 * 0.95, rel=1e-15)


def test_adagrad_rmsprop_by_hand():
    p = _param(1.0, 0.5)
    opt = optim.Adagrad([p], lr=0.1)
    opt.step()
    first = 1.0 - 0.1 * 0.5 / (0.5 + 1e-10)
    assert p.data == pytest.approx(first, rel=1e-15)
    p.grad = 0.2
    opt.step()  # the accumulator holds 0.5² + 0.2²
    assert p.data == pytest.approx(first - 0.1 * 0.2 / (math.sqrt(0.29) + 1e-10), rel=1e-15)
    q = _param(1.0, 0.5)
    rms = optim.RMSprop([q], lr=0.01)
    rms.step()
    assert q.data == pytest.approx(1.0 - 0.01 * 0.5 / (math.sqrt(0.01 * 0.25) + 1e-8), rel=1e-15)


def test_adam_two_steps_by_hand():
    p = _param(1.0, 0.5)
    opt = optim.Adam([p], lr=0.1)
    opt.step()  # bias correction makes the first step ≈ lr·sign(g)
    assert p.data == pytest.approx(1.0 - 0.1 * 0.5 / (0.5 + 1e-8), rel=1e-14)
    p.grad = -0.3
    opt.step()
    m = 0.9 * 0.05 + 0.1 * -0.3
    v = 0.999 * 0.001 * 0.25 + 0.001 * 0.09
    m_hat, v_hat = m / (1 - 0.9 ** 2), v / (1 - 0.999 ** 2)
    expected = (1.0 - 0.1 * 0.5 / (0.5 + 1e-8)) - 0.1 * m_hat / (math.sqrt(v_hat) + 1e-8)
    assert p.data == pytest.approx(expected, rel=1e-14)


def test_adamw_decays_the_weight_not_the_gradient():
    p = _param(2.0, 0.0)
    optim.AdamW([p], lr=0.1, weight_decay=0.5).step()
    assert p.data == pytest.approx(2.0 * (1 - 0.1 * 0.5), rel=1e-15)  # zero grad: only decay
    q = _param(2.0, 0.0)
    optim.Adam([q], lr=0.1, weight_decay=0.5).step()  # L2: g = 0.5·2 = 1 → an Adam step
    assert q.data == pytest.approx(2.0 - 0.1, rel=1e-7)


@pytest.mark.parametrize("cls", [optim.SGD, optim.Adagrad, optim.RMSprop, optim.Adam,
                                 optim.AdamW])
def test_inverse_time_decay(cls):
    p = _param(1.0, 1.0)
    opt = cls([p], lr=0.3, decay=0.5)
    seen = []
    for _ in range(4):
        seen.append(opt.current_lr)
        opt.step()
    assert seen == [0.3, 0.3 / 1.5, 0.3 / 2.0, 0.3 / 2.5]  # t = completed steps
    sgd = optim.SGD([_param(0.0, 1.0)], lr=0.3, decay=0.5)
    for _ in range(3):
        sgd.step()
    assert sgd.params[0].data == pytest.approx(-(0.3 + 0.2 + 0.15), rel=1e-15)


def test_zero_grad_and_validation():
    ps = [_param(1.0, 3.0), _param(2.0, -1.0)]
    opt = optim.Adam(ps)
    opt.zero_grad()
    assert [p.grad for p in ps] == [0.0, 0.0]
    with pytest.raises(ValueError, match="invalid lr"):
        optim.SGD(ps, lr=-1)
    with pytest.raises(ValueError, match="beta2"):
        optim.Adam(ps, betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([])
    with pytest.raises(TypeError, match="parameter 0 is a float"):
        optim.SGD([1.0])
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD(ps, momentum=0.0, nesterov=True)


# --- many steps against torch.optim ---------------------------------------------------------

X = [[0.5, -1.0], [1.5, 0.3], [-0.7, 0.8], [0.1, 0.1], [-1.2, -0.4], [2.0, -0.5]]
Y = [1.0, -0.5, 0.3, 0.0, -1.0, 0.7]

CONFIGS = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.5, dampening=0.3)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.02, initial_accumulator_value=0.1)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.005, momentum=0.9, centered=True, weight_decay=0.01)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.05, amsgrad=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.02, weight_decay=0.1, amsgrad=True)),
]


@pytest.mark.parametrize("name,kwargs", CONFIGS, ids=[f"{n}-{i}" for i, (n, _) in
                                                      enumerate(CONFIGS)])
def test_trajectory_matches_torch_optim(name, kwargs):
    torch = need_torch()
    random.seed(4)
    model = nn.MLP(2, [4, 1], activation="tanh")
    seq = model.to_torch()
    ours = getattr(optim, name)(model.parameters(), **kwargs)
    theirs = getattr(torch.optim, name)(seq.parameters(), **kwargs)
    xt = torch.tensor(X, dtype=torch.float64)
    yt = torch.tensor(Y, dtype=torch.float64)
    for _ in range(60):
        loss = nn.losses.mse([model(x) for x in X], Y)
        ours.zero_grad()
        loss.backward()
        ours.step()
        theirs.zero_grad()
        ref = torch.nn.functional.mse_loss(seq(xt).squeeze(1), yt)
        ref.backward()
        theirs.step()
        assert loss.data == pytest.approx(ref.item(), rel=1e-11)
    flat = [v for p in seq.parameters() for v in p.detach().flatten().tolist()]
    # torch stores Linear weights row by row (= neuron by neuron), biases after them
    ref_params = []
    i = 0
    for layer in model.layers:
        nin, nout = layer.neurons[0].nin, len(layer.neurons)
        weights, biases = flat[i:i + nin * nout], flat[i + nin * nout:i + nin * nout + nout]
        i += nin * nout + nout
        for j in range(nout):
            ref_params += weights[j * nin:(j + 1) * nin] + [biases[j]]
    assert [p.data for p in model.parameters()] == pytest.approx(ref_params, rel=1e-12,
                                                                 abs=1e-14)
