"""nn.losses: closed forms, gradients by central differences, PyTorch parity, errors."""

from __future__ import annotations

import math

import pytest
from conftest import need_torch
from hypothesis import given, settings
from hypothesis import strategies as st

import nn
import tinygrad_value as tv
from nn import losses

P = [0.3, -1.2, 2.5, 0.05]
Y = [0.5, -1.0, 0.0, 1.0]


def vals(xs):
    return [tv.Value(x) for x in xs]


def test_mse_mae_closed_forms():
    assert losses.mse(vals(P), Y).data == pytest.approx(
        sum((p - y) ** 2 for p, y in zip(P, Y)) / 4, rel=1e-15)
    assert losses.mae(vals(P), Y).data == pytest.approx(
        sum(abs(p - y) for p, y in zip(P, Y)) / 4, rel=1e-15)
    assert losses.mse(tv.Value(3.0), 1.0).data == 4.0  # a single pair


def test_huber_is_quadratic_inside_delta_and_linear_outside():
    d = 2.0
    assert losses.huber([tv.Value(1.5)], [0.0], delta=d).data == pytest.approx(0.5 * 1.5 ** 2)
    assert losses.huber([tv.Value(-5.0)], [0.0], delta=d).data == pytest.approx(d * (5 - d / 2))
    with pytest.raises(ValueError, match="delta"):
        losses.huber([tv.Value(1.0)], [0.0], delta=0.0)


def test_hinge_is_micrographs_svm_loss():
    s, y = [0.5, -2.0, 3.0], [1, 1, -1]
    expected = (0.5 + 3.0 + 4.0) / 3
    assert losses.hinge(vals(s), y).data == pytest.approx(expected, rel=1e-15)
    with pytest.raises(ValueError, match="must be -1 or \\+1.*y \\* 2 - 1"):
        losses.hinge(vals(s), [1, 0, 1])


def test_penalties():
    ps = vals([0.5, -2.0, 3.0])
    assert losses.l1(ps).data == 5.5
    assert losses.l2(ps).data == 0.25 + 4.0 + 9.0
    losses.l2(ps).backward()
    assert [p.grad for p in ps] == [1.0, -4.0, 6.0]


def test_cross_entropy_closed_form_and_batch_mean():
    z = [1.0, 2.0, 0.5]
    lse = math.log(sum(math.exp(v) for v in z))
    assert losses.cross_entropy(vals(z), 1).data == pytest.approx(lse - 2.0, rel=1e-15)
    batch = [vals(z), vals([0.0, 0.0, 3.0])]
    lse2 = math.log(2 + math.exp(3.0))
    assert losses.cross_entropy(batch, [1, 0]).data == pytest.approx(
        ((lse - 2.0) + lse2) / 2, rel=1e-15)


def test_softmax_plus_cross_entropy_gradient_is_p_minus_y():
    z = vals([0.2, -1.0, 2.2, 0.7])
    loss = losses.cross_entropy(z, 2)
    loss.backward()
    p = [v.data for v in losses.softmax([0.2, -1.0, 2.2, 0.7])]
    assert [v.grad for v in z] == pytest.approx(
        [pk - (k == 2) for k, pk in enumerate(p)], rel=1e-12, abs=1e-15)


def test_cross_entropy_is_stable_for_huge_logits():
    z = vals([1000.0, 0.0, -1000.0])
    loss = losses.cross_entropy(z, 0)
    assert loss.data == 0.0
    assert losses.cross_entropy(vals([1000.0, 0.0]), 1).data == 1000.0
    ls = losses.log_softmax([1000.0, 999.0])
    assert ls[1].data == pytest.approx(-1 - math.log1p(math.exp(-1)), rel=1e-15)
    assert sum(v.data for v in losses.softmax([800.0, 799.0, -900.0])) == pytest.approx(1.0)


def test_soft_targets_match_index_targets_for_one_hot():
    z = [0.1, 1.4, -0.3]
    assert losses.cross_entropy(vals(z), [0.0, 1.0, 0.0]).data == pytest.approx(
        losses.cross_entropy(vals(z), 1).data, rel=1e-15)


def test_binary_cross_entropy_closed_form_and_clamp():
    p, y = [0.9, 0.2, 0.5], [1.0, 0.0, 1.0]
    expected = -(math.log(0.9) + math.log(0.8) + math.log(0.5)) / 3
    assert losses.binary_cross_entropy(vals(p), y).data == pytest.approx(expected, rel=1e-15)
    assert losses.binary_cross_entropy([tv.Value(0.0)], [1.0]).data == 100.0  # log clamped
    assert losses.binary_cross_entropy([tv.Value(1.0)], [1.0]).data == 0.0
    with pytest.raises(ValueError, match="prediction 0 is 1.5, not a probability"):
        losses.binary_cross_entropy([tv.Value(1.5)], [1.0])


def test_bce_with_logits_equals_bce_of_sigmoid_and_is_stable():
    z, y = [0.3, -2.0, 4.0, 0.0], [1.0, 0.0, 0.0, 1.0]
    sig = [1 / (1 + math.exp(-v)) for v in z]
    assert losses.binary_cross_entropy_with_logits(vals(z), y).data == pytest.approx(
        losses.binary_cross_entropy(vals(sig), y).data, rel=1e-13)
    big = losses.binary_cross_entropy_with_logits([tv.Value(-800.0)], [1.0])
    assert big.data == pytest.approx(800.0)
    zero = tv.Value(0.0)
    losses.binary_cross_entropy_with_logits([zero], [1.0]).backward()
    assert zero.grad == -0.5  # σ(0) - 1, exact at the kink of |z|


def test_empty_and_mismatched_inputs():
    with pytest.raises(ValueError, match="3 predictions but 2 targets"):
        losses.mse(vals([1, 2, 3]), [1, 2])
    with pytest.raises(ValueError, match="no predictions"):
        losses.mae([], [])
    with pytest.raises(ValueError, match="class index 3 is out of range for 3 classes"):
        losses.cross_entropy(vals([1, 2, 3]), 3)
    with pytest.raises(TypeError, match="class index"):
        losses.cross_entropy(vals([1, 2, 3]), 1.0)
    with pytest.raises(ValueError, match="2 samples of logits but 1 targets"):
        losses.cross_entropy([vals([1, 2]), vals([3, 4])], [0])
    with pytest.raises(ValueError, match="prediction 0 is a list"):
        losses.mse([vals([1, 2])], [1.0])


# --- gradients: backward agrees with central differences ------------------------------------

GRADCHECKS = {
    "mse": lambda v: losses.mse(v, Y),
    "mae": lambda v: losses.mae(v, Y),
    "huber": lambda v: losses.huber(v, Y, delta=1.0),
    "hinge": lambda v: losses.hinge(v, [1, -1, -1, 1]),
    "bce": lambda v: losses.binary_cross_entropy([x.sigmoid() for x in v], [1, 0, 0.3, 1]),
    "bce_logits": lambda v: losses.binary_cross_entropy_with_logits(v, [1, 0, 0.3, 1]),
    "cross_entropy": lambda v: losses.cross_entropy(v, 2),
    "cross_entropy_batch": lambda v: losses.cross_entropy([v[:2], v[2:]], [0, 1]),
    "soft_cross_entropy": lambda v: losses.cross_entropy(v, [0.1, 0.2, 0.3, 0.4]),
    "log_softmax": lambda v: losses.log_softmax(v)[1] * 2 + losses.log_softmax(v)[3],
    "softmax": lambda v: losses.softmax(v)[0] - 3 * losses.softmax(v)[2],
    "l1": lambda v: losses.l1(v),
    "l2": lambda v: losses.l2(v),
}


@pytest.mark.parametrize("name", sorted(GRADCHECKS))
def test_gradients_match_central_differences(name):
    # P keeps away from every kink (|d| = δ for huber, y·s = 1 for hinge, 0 for l1 / mae)
    assert tv.gradcheck(GRADCHECKS[name], vals(P))


# --- PyTorch parity -------------------------------------------------------------------------


def _torch_case(torch, name):
    F = torch.nn.functional
    t = lambda xs: torch.tensor(xs, dtype=torch.float64)  # noqa: E731
    probs = [0.9, 0.2, 0.5, 0.01]
    cases = {
        "mse": (lambda v: losses.mse(v, Y), lambda x: F.mse_loss(x, t(Y)), P),
        "mae": (lambda v: losses.mae(v, Y), lambda x: F.l1_loss(x, t(Y)), P),
        "huber": (lambda v: losses.huber(v, Y, delta=0.7),
                  lambda x: F.huber_loss(x, t(Y), delta=0.7), P),
        "bce": (lambda v: losses.binary_cross_entropy(v, [1, 0, 0.3, 1]),
                lambda x: F.binary_cross_entropy(x, t([1, 0, 0.3, 1])), probs),
        "bce_logits": (lambda v: losses.binary_cross_entropy_with_logits(v, [1, 0, 0.3, 1]),
                       lambda x: F.binary_cross_entropy_with_logits(x, t([1, 0, 0.3, 1])), P),
        "cross_entropy": (lambda v: losses.cross_entropy([v[:2], v[2:]], [1, 0]),
                          lambda x: F.cross_entropy(x.view(2, 2), torch.tensor([1, 0])), P),
        "soft_cross_entropy": (lambda v: losses.cross_entropy(v, [0.1, 0.2, 0.3, 0.4]),
                               lambda x: F.cross_entropy(x, t([0.1, 0.2, 0.3, 0.4])), P),
        "log_softmax": (lambda v: tv.sum(w * s for w, s in zip([1, 2, 3, 4],
                                                             losses.log_softmax(v))),
                        lambda x: (F.log_softmax(x, 0) * t([1, 2, 3, 4])).sum(), P),
        "softmax": (lambda v: tv.sum(w * s for w, s in zip([1, 2, 3, 4], losses.softmax(v))),
                    lambda x: (F.softmax(x, 0) * t([1, 2, 3, 4])).sum(), P),
        "hinge": (lambda v: losses.hinge(v, [1, -1, -1, 1]),
                  lambda x: torch.relu(1 - t([1, -1, -1, 1]) * x).mean(), P),
    }
    return cases[name]


@pytest.mark.parametrize("name", ["mse", "mae", "huber", "bce", "bce_logits", "cross_entropy",
                                  "soft_cross_entropy", "log_softmax", "softmax", "hinge"])
def test_value_and_gradient_match_torch(name):
    torch = need_torch()
    ours_fn, torch_fn, inputs = _torch_case(torch, name)
    xs = vals(inputs)
    ours = ours_fn(xs)
    ours.backward()
    x = torch.tensor(inputs, dtype=torch.float64, requires_grad=True)
    ref = torch_fn(x)
    ref.backward()
    assert ours.data == pytest.approx(ref.item(), rel=1e-12, abs=1e-15)
    assert [v.grad for v in xs] == pytest.approx(x.grad.tolist(), rel=1e-12, abs=1e-15)


def test_nn_exports_losses_module():
    assert nn.losses is losses


# --- properties over random inputs ----------------------------------------------------------

LOGITS = st.lists(st.floats(-50, 50, allow_nan=False), min_size=2, max_size=6)


@settings(max_examples=60, deadline=None)
@given(LOGITS, st.data())
def test_property_cross_entropy_gradient_is_softmax_minus_onehot(zs, data):
    target = data.draw(st.integers(0, len(zs) - 1))
    logits = vals(zs)
    loss = losses.cross_entropy(logits, target)
    loss.backward()
    p = [v.data for v in losses.softmax(zs)]
    assert sum(p) == pytest.approx(1.0, rel=1e-12)
    assert loss.data >= 0.0
    assert loss.data == pytest.approx(-losses.log_softmax(zs)[target].data, rel=1e-12,
                                      abs=1e-12)
    assert [v.grad for v in logits] == pytest.approx(
        [pk - (k == target) for k, pk in enumerate(p)], rel=1e-9, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-3, 3, allow_nan=False), min_size=1, max_size=5))
def test_property_bce_with_logits_gradient_is_sigmoid_minus_target(zs):
    targets = [float(i % 2) for i in range(len(zs))]
    logits = vals(zs)
    losses.binary_cross_entropy_with_logits(logits, targets).backward()
    expected = [(1 / (1 + math.exp(-z)) - t) / len(zs) for z, t in zip(zs, targets)]
    assert [v.grad for v in logits] == pytest.approx(expected, rel=1e-9, abs=1e-15)
