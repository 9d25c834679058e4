"""Inside nn.nnfs layers: the Values, tv.grad's eager pass vs the compiled replay, the book's
listing under nnfs.init(), and nn.data.spiral_data vs the nnfs package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import nn.nnfs as F
import tinygrad_value as tv
from tests.nn.nnfs.test_nnfs_parity import close

ROOT = Path(__file__).resolve().parents[3]


def test_values_are_the_engine_graph_of_the_output():
    np.random.seed(0)
    dense = F.Layer_Dense(2, 3)
    x = np.array([[1.0, 2.0], [0.5, -1.0]])
    dense.forward(x)
    values = dense.values
    assert values.shape == dense.output.shape
    v = values[1, 2]
    assert isinstance(v, tv.Value) and v.data == pytest.approx(dense.output[1, 2], rel=1e-15)
    labels = {c.label for c in v.children}
    assert {"x[1,0]", "x[1,1]", "w[0,2]", "w[1,2]", "b[0,2]"} <= labels
    graph = tv.draw_dot(v)
    assert "w[1,2]" in graph.source


@pytest.mark.parametrize("direct", [True, False], ids=["direct", "via-data"])
def test_eager_first_call_and_compiled_replays_agree(direct):
    """Call 1 is eager (tv.grad), later calls replay tv.compile; both give inputs.T @ dvalues."""
    rng = np.random.default_rng(1)
    np.random.seed(2)
    dense = F.Layer_Dense(4, 5)
    dense.graph.direct_replay = direct
    for call in range(4):
        x = rng.normal(size=(6, 4))
        d = rng.normal(size=(6, 5))
        dense.weights += 0.1  # the replay must re-read parameters, not keep the first ones
        dense.forward(x)
        close(dense.output, x @ dense.weights + dense.biases, f"output, call {call}")
        dense.backward(d)
        close(dense.dweights, x.T @ d, f"dweights, call {call}")
        close(dense.dbiases, d.sum(axis=0, keepdims=True), f"dbiases, call {call}")
        close(dense.dinputs, d @ dense.weights.T, f"dinputs, call {call}")
    (entry,) = dense.graph._entries.values()
    assert entry.prog is not None  # compiled once for the one shape
    assert (entry.direct is not None) == direct


def test_a_new_shape_gets_its_own_graph():
    np.random.seed(0)
    relu = F.Activation_ReLU()
    for n in (3, 5, 3, 5):
        x = np.linspace(-1, 1, 2 * n).reshape(n, 2)
        relu.forward(x)
        relu.backward(np.ones_like(x))
        assert np.array_equal(relu.dinputs, (x > 0) * 1.0)
    assert sorted(relu.graph._entries) == [((3, 2),), ((5, 2),)]


def test_softmax_backward_is_the_jacobian_product():
    z = np.array([[1.0, 2.0, 0.5], [-1.0, 0.0, 3.0]])
    d = np.array([[0.3, -0.2, 1.0], [2.0, 0.1, -0.5]])
    soft = F.Activation_Softmax()
    soft.forward(z)
    soft.backward(d)
    p = soft.output
    expected = np.array([(np.diagflat(pi) - np.outer(pi, pi)) @ di for pi, di in zip(p, d)])
    close(soft.dinputs, expected, "softmax dinputs")


def test_chapter_9_combined_backward_without_forward():
    softmax_outputs = np.array([[0.7, 0.1, 0.2], [0.1, 0.5, 0.4], [0.02, 0.9, 0.08]])
    class_targets = np.array([0, 1, 1])
    head = F.Activation_Softmax_Loss_CategoricalCrossentropy()
    head.backward(softmax_outputs, class_targets)
    expected = softmax_outputs.copy()
    expected[range(3), class_targets] -= 1
    close(head.dinputs, expected / 3, "combined dinputs")
    cce = F.Loss_CategoricalCrossentropy()
    cce.backward(softmax_outputs, class_targets)
    onehot = np.eye(3)[class_targets]
    close(cce.dinputs, -onehot / softmax_outputs / 3, "CCE dinputs")


def test_errors_name_what_was_wrong():
    dense = F.Layer_Dense(3, 2)
    with pytest.raises(ValueError, match=r"inputs of shape \(samples, 3\), got \(4, 2\)"):
        dense.forward(np.zeros((4, 2)))
    dense.forward(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"dvalues of shape \(4, 5\)"):
        dense.backward(np.zeros((4, 5)))
    with pytest.raises(ValueError, match="fraction dropped"):
        F.Layer_Dropout(1.5)
    with pytest.raises(RuntimeError, match="forward"):
        _ = F.Activation_ReLU().values


LISTING = '''
import numpy as np
import nnfs
from nnfs.datasets import spiral_data
from nn.nnfs import *
nnfs.init()
X, y = spiral_data(samples=100, classes=3)
dense1 = Layer_Dense(2, 64)
activation1 = Activation_ReLU()
dense2 = Layer_Dense(64, 3)
loss_activation = Activation_Softmax_Loss_CategoricalCrossentropy()
optimizer = Optimizer_SGD(decay=1e-3, momentum=0.9)
for epoch in range(EPOCHS):
    dense1.forward(X)
    activation1.forward(dense1.output)
    dense2.forward(activation1.output)
    loss = loss_activation.forward(dense2.output, y)
    predictions = np.argmax(loss_activation.output, axis=1)
    accuracy = np.mean(predictions == y)
    loss_activation.backward(loss_activation.output, y)
    dense2.backward(loss_activation.dinputs)
    activation1.backward(dense2.dinputs)
    dense1.backward(activation1.dinputs)
    optimizer.pre_update_params()
    optimizer.update_params(dense1)
    optimizer.update_params(dense2)
    optimizer.post_update_params()
print(repr(float(loss)), accuracy, dense1.weights.dtype, dense1.dweights.dtype,
      loss_activation.dinputs.dtype)
'''


def test_the_chapter_10_listing_runs_under_nnfs_init():
    """Only the imports changed; nnfs.init() makes NumPy float32 by default, ours stays float64.
    The same listing in plain NumPy (float64, no init, seed 0) gives the same loss."""
    code = LISTING.replace("EPOCHS", "30")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, check=True, timeout=300)
    loss, accuracy, *dtypes = done.stdout.split()
    assert dtypes == ["float64", "float64", "float64"]
    from nnfs.datasets import spiral_data

    from tests.nn.nnfs import book

    np.random.seed(0)
    X, y = spiral_data(samples=100, classes=3)
    X = X.astype(np.float32).astype(np.float64)  # nnfs.init() made the data float32
    d1, d2, relu, head = book.Dense(2, 64), book.Dense(64, 3), book.ReLU(), book.SoftmaxCCE()
    opt = book.Optimizer("sgd", lr=1.0, decay=1e-3, momentum=0.9)
    for _ in range(30):
        d1.forward(X)
        relu.forward(d1.output)
        d2.forward(relu.output)
        ref = head.forward(d2.output, y)
        head.backward(head.output, y)
        d2.backward(head.dinputs)
        relu.backward(d2.dinputs)
        d1.backward(relu.dinputs)
        opt.step([d1, d2])
    close(float(loss), ref, "the listing's loss after 30 epochs")
