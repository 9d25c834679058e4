"""nn.nnfs against the book's formulas in plain NumPy (book.py): 100 epochs, same seed, same draws;
loss, accuracy, gradients and parameters agree to 1e-9 relative."""

from __future__ import annotations

import numpy as np
import pytest
from nnfs.datasets import sine_data, spiral_data

import nn.nnfs as F
from tests.nn.nnfs import book

RTOL = 1e-9


def close(ours, ref, what):
    """Each entry within 1e-9 of the reference, relative to the entry or to the array's largest
    entry (normwise): an entry that is a cancelling sum (a dweight near 0 summed over 300
    samples) is rounded differently by BLAS and by the engine's sum of nodes, so only its
    error relative to the terms' scale is meaningful."""
    ours = np.asarray(ours)
    assert ours.dtype == np.float64, f"{what} is {ours.dtype}, not float64"
    ref = np.asarray(ref, dtype=np.float64)
    scale = float(np.max(np.abs(ref))) if ref.size else 0.0
    np.testing.assert_allclose(ours, ref, rtol=RTOL, atol=max(RTOL * scale, 1e-300),
                               err_msg=what)


def spiral(seed=0):
    np.random.seed(seed)
    return spiral_data(samples=100, classes=3)


def pair(seed, *shapes, **reg):
    """Our dense layers and the reference's, drawn from the same seed in the same order."""
    np.random.seed(seed)
    ours = [F.Layer_Dense(a, b, **reg) for a, b in shapes]
    np.random.seed(seed)
    keys = {"weight_regularizer_l1": "wl1", "weight_regularizer_l2": "wl2",
            "bias_regularizer_l1": "bl1", "bias_regularizer_l2": "bl2"}
    ref = [book.Dense(a, b, **{keys[k]: v for k, v in reg.items()}) for a, b in shapes]
    for o, r in zip(ours, ref):
        close(o.weights, r.weights, "initial weights")
    return ours, ref


OPTIMIZERS = [
    ("sgd", lambda: F.Optimizer_SGD(decay=1e-3, momentum=0.9), dict(lr=1.0, decay=1e-3,
                                                                     momentum=0.9)),
    ("sgd-plain", lambda: F.Optimizer_SGD(learning_rate=0.5, decay=1e-2), dict(lr=0.5,
                                                                               decay=1e-2)),
    ("adagrad", lambda: F.Optimizer_Adagrad(decay=1e-4), dict(lr=1.0, decay=1e-4)),
    ("rmsprop", lambda: F.Optimizer_RMSprop(learning_rate=0.02, decay=1e-5, rho=0.999),
     dict(lr=0.02, decay=1e-5, rho=0.999)),
    # at the book's lr=0.05 this net's trajectory amplifies rounding (BLAS's sums vs the
    # engine's) about 10x every 5 epochs, past 1e-9 by epoch 60: chaos, not a wrong formula
    ("adam", lambda: F.Optimizer_Adam(learning_rate=0.005, decay=5e-7), dict(lr=0.005,
                                                                              decay=5e-7)),
]


@pytest.mark.parametrize("name,make,kw", OPTIMIZERS, ids=[o[0] for o in OPTIMIZERS])
def test_spiral_classifier_follows_the_book_for_100_epochs(name, make, kw):
    X, y = spiral()
    reg = dict(weight_regularizer_l2=5e-4, bias_regularizer_l2=5e-4) if name == "adam" else \
        dict(weight_regularizer_l1=1e-4, bias_regularizer_l1=1e-4) if name == "rmsprop" else {}
    (d1, d2), (r1, r2) = pair(1, (2, 16), (16, 3), **reg)
    relu, rrelu = F.Activation_ReLU(), book.ReLU()
    head, rhead = F.Activation_Softmax_Loss_CategoricalCrossentropy(), book.SoftmaxCCE()
    opt = make()
    ropt = book.Optimizer("sgd" if name.startswith("sgd") else name, **kw)
    for epoch in range(100):
        d1.forward(X)
        relu.forward(d1.output)
        d2.forward(relu.output)
        loss = head.forward(d2.output, y)
        reg_loss = head.loss.regularization_loss(d1) + head.loss.regularization_loss(d2)
        acc = np.mean(np.argmax(head.output, axis=1) == y)
        r1.forward(X)
        rrelu.forward(r1.output)
        r2.forward(rrelu.output)
        rloss = rhead.forward(r2.output, y)
        close(loss, rloss, f"loss at epoch {epoch}")
        close(reg_loss, r1.penalty() + r2.penalty(), f"regularisation loss at epoch {epoch}")
        assert acc == np.mean(np.argmax(rhead.output, axis=1) == y)
        head.backward(head.output, y)
        d2.backward(head.dinputs)
        relu.backward(d2.dinputs)
        d1.backward(relu.dinputs)
        rhead.backward(rhead.output, y)
        r2.backward(rhead.dinputs)
        rrelu.backward(r2.dinputs)
        r1.backward(rrelu.dinputs)
        for o, r, k in ((d1, r1, "1"), (d2, r2, "2")):
            close(o.dweights, r.dweights, f"dense{k}.dweights at epoch {epoch}")
            close(o.dbiases, r.dbiases, f"dense{k}.dbiases at epoch {epoch}")
            close(o.dinputs, r.dinputs, f"dense{k}.dinputs at epoch {epoch}")
        opt.pre_update_params()
        opt.update_params(d1)
        opt.update_params(d2)
        opt.post_update_params()
        lr = ropt.step([r1, r2])
        assert opt.current_learning_rate == pytest.approx(lr, rel=1e-15)
        close(d1.weights, r1.weights, f"weights at epoch {epoch}")
        close(d2.biases, r2.biases, f"biases at epoch {epoch}")
    assert opt.iterations == 100
    assert loss < 1.0986  # it learned something: below log 3


def test_dropout_draws_the_books_masks():
    X, y = spiral(2)
    (d1, d2), (r1, r2) = pair(3, (2, 32), (32, 3))
    relu, drop, head = F.Activation_ReLU(), F.Layer_Dropout(0.1), \
        F.Activation_Softmax_Loss_CategoricalCrossentropy()
    rrelu, rdrop, rhead = book.ReLU(), book.Dropout(0.1), book.SoftmaxCCE()
    opt, ropt = F.Optimizer_Adam(learning_rate=0.05, decay=5e-5), \
        book.Optimizer("adam", lr=0.05, decay=5e-5)
    for epoch in range(100):
        state = np.random.get_state()
        d1.forward(X)
        relu.forward(d1.output)
        drop.forward(relu.output)  # no training argument: drops, as chapter 15 does
        d2.forward(drop.output)
        loss = head.forward(d2.output, y)
        np.random.set_state(state)
        r1.forward(X)
        rrelu.forward(r1.output)
        rdrop.forward(rrelu.output)
        r2.forward(rdrop.output)
        close(loss, rhead.forward(r2.output, y), f"loss at epoch {epoch}")
        close(drop.binary_mask, rdrop.mask, "dropout mask")
        head.backward(head.output, y)
        d2.backward(head.dinputs)
        drop.backward(d2.dinputs)
        relu.backward(drop.dinputs)
        d1.backward(relu.dinputs)
        rhead.backward(rhead.output, y)
        r2.backward(rhead.dinputs)
        rdrop.backward(r2.dinputs)
        rrelu.backward(rdrop.dinputs)
        r1.backward(rrelu.dinputs)
        close(drop.dinputs, rdrop.dinputs, f"dropout dinputs at epoch {epoch}")
        close(d1.dweights, r1.dweights, f"dweights at epoch {epoch}")
        opt.pre_update_params()
        opt.update_params(d1)
        opt.update_params(d2)
        opt.post_update_params()
        ropt.step([r1, r2])
    close(d1.weights, r1.weights, "weights after 100 epochs")
    assert (drop.binary_mask == 0).any()
    drop.forward(X, training=False)
    assert np.array_equal(drop.output, X)


def test_sigmoid_and_binary_cross_entropy():
    X, y = spiral(4)
    X, y = X[:200], (y[:200] == 1).astype(np.float64).reshape(-1, 1)
    (d1, d2), (r1, r2) = pair(5, (2, 16), (16, 1), weight_regularizer_l2=5e-4)
    relu, sig, loss_fn = F.Activation_ReLU(), F.Activation_Sigmoid(), F.Loss_BinaryCrossentropy()
    rrelu, rsig, rloss_fn = book.ReLU(), book.Sigmoid(), book.BCE()
    opt, ropt = F.Optimizer_Adam(decay=5e-7), book.Optimizer("adam", lr=0.001, decay=5e-7)
    for epoch in range(100):
        d1.forward(X)
        relu.forward(d1.output)
        d2.forward(relu.output)
        sig.forward(d2.output)
        loss = loss_fn.calculate(sig.output, y)
        r1.forward(X)
        rrelu.forward(r1.output)
        r2.forward(rrelu.output)
        rsig.forward(r2.output)
        close(loss, rloss_fn.forward(rsig.output, y), f"BCE at epoch {epoch}")
        acc = F.Accuracy_Categorical(binary=True).calculate(sig.predictions(sig.output), y)
        assert acc == np.mean((rsig.output > 0.5) * 1 == y)
        loss_fn.backward(sig.output, y)
        sig.backward(loss_fn.dinputs)
        d2.backward(sig.dinputs)
        relu.backward(d2.dinputs)
        d1.backward(relu.dinputs)
        rloss_fn.backward(rsig.output, y)
        rsig.backward(rloss_fn.dinputs)
        r2.backward(rsig.dinputs)
        rrelu.backward(r2.dinputs)
        r1.backward(rrelu.dinputs)
        close(loss_fn.dinputs, rloss_fn.dinputs, "BCE dinputs")
        close(sig.dinputs, rsig.dinputs, "sigmoid dinputs")
        close(d1.dweights, r1.dweights, f"dweights at epoch {epoch}")
        opt.pre_update_params()
        opt.update_params(d1)
        opt.update_params(d2)
        opt.post_update_params()
        ropt.step([r1, r2])
    close(d2.weights, r2.weights, "weights after 100 epochs")


def test_bce_clips_its_backward_like_the_book():
    p = np.array([[0.0, 1.0, 0.3]])
    y = np.array([[0.0, 1.0, 1.0]])
    ours, ref = F.Loss_BinaryCrossentropy(), book.BCE()
    close(ours.calculate(p, y), ref.forward(p, y), "clipped BCE")
    ours.backward(p, y)
    ref.backward(p, y)
    close(ours.dinputs, ref.dinputs, "clipped BCE dinputs")


@pytest.mark.parametrize("loss_name", ["mse", "mae"])
def test_linear_regression_on_sine_data(loss_name):
    np.random.seed(0)
    X, y = sine_data()
    X, y = X[::5], y[::5]
    (d1, d2, d3), (r1, r2, r3) = pair(6, (1, 16), (16, 16), (16, 1))
    acts = [F.Activation_ReLU(), F.Activation_ReLU(), F.Activation_Linear()]
    racts = [book.ReLU(), book.ReLU(), book.Linear()]
    loss_fn = F.Loss_MeanSquaredError() if loss_name == "mse" else F.Loss_MeanAbsoluteError()
    rloss_fn = book.MSE() if loss_name == "mse" else book.MAE()
    opt, ropt = F.Optimizer_Adam(learning_rate=0.005, decay=1e-3), \
        book.Optimizer("adam", lr=0.005, decay=1e-3)
    accuracy = F.Accuracy_Regression()
    accuracy.init(y)
    assert accuracy.precision == np.std(y) / 250
    for epoch in range(100):
        out, rout = X, X
        for layer, act, rlayer, ract in zip((d1, d2, d3), acts, (r1, r2, r3), racts):
            layer.forward(out)
            act.forward(layer.output)
            out = act.output
            rlayer.forward(rout)
            ract.forward(rlayer.output)
            rout = ract.output
        close(loss_fn.calculate(out, y), rloss_fn.forward(rout, y), f"loss at epoch {epoch}")
        assert accuracy.calculate(out, y) == np.mean(np.abs(rout - y) < np.std(y) / 250)
        loss_fn.backward(out, y)
        rloss_fn.backward(rout, y)
        close(loss_fn.dinputs, rloss_fn.dinputs, "loss dinputs")
        d, rd = loss_fn.dinputs, rloss_fn.dinputs
        for layer, act, rlayer, ract in zip((d3, d2, d1), acts[::-1], (r3, r2, r1), racts[::-1]):
            act.backward(d)
            layer.backward(act.dinputs)
            d = layer.dinputs
            ract.backward(rd)
            rlayer.backward(ract.dinputs)
            rd = rlayer.dinputs
            close(layer.dweights, rlayer.dweights, f"dweights at epoch {epoch}")
        opt.pre_update_params()
        for layer in (d1, d2, d3):
            opt.update_params(layer)
        opt.post_update_params()
        ropt.step([r1, r2, r3])
    close(d3.weights, r3.weights, "weights after 100 epochs")


def test_mae_backward_is_the_derivative_not_the_books_printed_sign():
    p = np.array([[0.5, 2.0], [1.0, -1.0]])
    y = np.array([[1.0, 1.0], [1.0, 0.0]])
    loss = F.Loss_MeanAbsoluteError()
    loss.backward(p, y)
    printed = np.sign(y - p) / 2 / 2  # the book's listing
    assert np.array_equal(loss.dinputs, -printed)
    assert loss.dinputs[1, 0] == 0.0  # |y - p| at y = p: sign(0) = 0, as np.sign
