"""nn.nnfs.Model: train with batches and validation against the book's loop in NumPy; files."""

from __future__ import annotations

import json

import numpy as np
import pytest
from nnfs.datasets import spiral_data

import nn.nnfs as F
from tests.nn.nnfs import book
from tests.nn.nnfs.test_nnfs_parity import close


def _model(seed, reg=0.0):
    np.random.seed(seed)
    model = F.Model()
    model.add(F.Layer_Dense(2, 24, weight_regularizer_l2=reg, bias_regularizer_l2=reg))
    model.add(F.Activation_ReLU())
    model.add(F.Layer_Dropout(0.1))
    model.add(F.Layer_Dense(24, 3))
    model.add(F.Activation_Softmax())
    model.set(loss=F.Loss_CategoricalCrossentropy(),
              optimizer=F.Optimizer_Adam(learning_rate=0.005, decay=1e-4),
              accuracy=F.Accuracy_Categorical())
    model.finalize()
    return model


def _reference_train(seed, X, y, X_val, y_val, epochs, batch_size, reg):
    """The book's Model.train loop written out: batches, dropout, softmax+CCE, Adam."""
    np.random.seed(seed)
    d1, d2 = book.Dense(2, 24, wl2=reg, bl2=reg), book.Dense(24, 3)
    relu, drop, head = book.ReLU(), book.Dropout(0.1), book.SoftmaxCCE()
    opt = book.Optimizer("adam", lr=0.005, decay=1e-4)
    steps = -(-len(X) // batch_size)
    history = []
    for _ in range(epochs):
        losses, hits = [], []
        for s in range(steps):
            bx, by = X[s * batch_size:(s + 1) * batch_size], y[s * batch_size:(s + 1) * batch_size]
            d1.forward(bx)
            relu.forward(d1.output)
            drop.forward(relu.output)
            d2.forward(drop.output)
            head.forward(d2.output, by)
            p = head.output
            conf = np.clip(p, 1e-7, 1 - 1e-7)[np.arange(len(by)), by]
            losses.extend(-np.log(conf))
            hits.extend(np.argmax(p, axis=1) == by)
            head.backward(p, by)
            d2.backward(head.dinputs)
            drop.backward(d2.dinputs)
            relu.backward(drop.dinputs)
            d1.backward(relu.dinputs)
            opt.step([d1, d2])
        # validation: no dropout
        d1.forward(X_val)
        relu.forward(d1.output)
        d2.forward(relu.output)
        head.forward(d2.output, y_val)
        p = head.output
        val_loss = np.mean(-np.log(np.clip(p, 1e-7, 1 - 1e-7)[np.arange(len(y_val)), y_val]))
        val_acc = np.mean(np.argmax(p, axis=1) == y_val)
        history.append((np.mean(losses), np.mean(hits), val_loss, val_acc))
    return d1, d2, history


def test_train_with_batches_and_validation_follows_the_book(capsys):
    np.random.seed(0)
    X, y = spiral_data(samples=50, classes=3)
    X_val, y_val = spiral_data(samples=20, classes=3)
    order = np.random.RandomState(1).permutation(len(X))
    X, y = X[order], y[order]
    epochs, batch_size, reg = 12, 64, 5e-4
    r1, r2, history = _reference_train(7, X, y, X_val, y_val, epochs, batch_size, reg)
    model = _model(7, reg)  # after the reference: both draw dropout masks from seed 7's stream
    model.train(X, y, epochs=epochs, batch_size=batch_size, print_every=1,
                validation_data=(X_val, y_val))
    out = capsys.readouterr().out
    close(model.layers[0].weights, r1.weights, "first layer's weights")
    close(model.layers[3].biases, r2.biases, "last layer's biases")
    assert out.count("epoch: ") == epochs
    assert out.count("step: ") == epochs * 3  # 150 samples in batches of 64: 3 steps
    loss, acc, val_loss, val_acc = history[-1]
    assert f"validation, acc: {val_acc:.3f}, loss: {val_loss:.3f}" in out
    got_loss, got_acc = model.evaluate(X_val, y_val)
    close(got_loss, val_loss, "validation loss")
    assert got_acc == val_acc
    training_line = [line for line in out.splitlines() if line.startswith("training")][-1]
    assert f"acc: {acc:.3f}" in training_line
    predicted = model.predict(X_val, batch_size=25)
    assert predicted.shape == (60, 3) and predicted.dtype == np.float64
    np.testing.assert_allclose(predicted.sum(axis=1), 1.0, rtol=1e-12)


def test_parameters_and_models_round_trip_through_json(tmp_path):
    np.random.seed(0)
    X, y = spiral_data(samples=30, classes=3)
    model = _model(3)
    model.train(X, y, epochs=3)
    before = model.predict(X)
    path = tmp_path / "params.json"
    model.save_parameters(path)
    doc = json.loads(path.read_text())
    assert doc["format"] == "nn.nnfs.parameters"
    other = _model(4)
    assert not np.allclose(other.predict(X), before)
    other.load_parameters(path)
    for (w, b), (w2, b2) in zip(model.get_parameters(), other.get_parameters()):
        np.testing.assert_array_equal(w, w2)  # JSON floats round-trip exactly
        np.testing.assert_array_equal(b, b2)
    close(other.predict(X), before, "predictions after load_parameters")
    model.save(tmp_path / "model.json")
    loaded = F.Model.load(tmp_path / "model.json")
    close(loaded.predict(X), before, "predictions of the loaded model")
    assert type(loaded.optimizer) is F.Optimizer_Adam and loaded.optimizer.decay == 1e-4
    assert loaded.layers[2].rate == pytest.approx(0.9)
    assert not list(tmp_path.glob("*.tmp"))  # written atomically


def test_a_model_file_cannot_name_arbitrary_classes(tmp_path):
    path = tmp_path / "evil.json"
    path.write_text(json.dumps({"format": "nn.nnfs.model", "version": 1,
                                "layers": [{"class": "os.system", "args": {}}],
                                "loss": None, "optimizer": None, "accuracy": None,
                                "parameters": []}))
    with pytest.raises(ValueError, match="unknown nn.nnfs class 'os.system'"):
        F.Model.load(path)
    path.write_text("not json")
    with pytest.raises(ValueError, match="not an nn.nnfs model file"):
        F.Model.load(path)


def test_model_errors_say_what_to_do():
    model = F.Model()
    with pytest.raises(ValueError, match="add at least one layer"):
        model.finalize()
    model.add(F.Layer_Dense(2, 2))
    with pytest.raises(RuntimeError, match="finalize"):
        model.predict(np.zeros((1, 2)))
    model.finalize()
    with pytest.raises(RuntimeError, match="set loss= and accuracy="):
        model.train(np.zeros((1, 2)), np.zeros(1, dtype=int))
