"""Helpers shared by the demos: command line, output folder, headless matplotlib, boundary plots."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Callable, Optional, Sequence

import tinygrad_value as tv

DEFAULT_OUT = "out"


def parse_args(description: str, argv: Optional[Sequence[str]] = None,
               add: Optional[Callable[[argparse.ArgumentParser], None]] = None) -> argparse.Namespace:
    """The flags every demo takes: ``--out DIR`` (default ``out/``) and ``--quick`` (a reduced run
    for CI); ``add`` may register more."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", default=DEFAULT_OUT, help="folder for the pictures (default: out/)")
    parser.add_argument("--quick", action="store_true", help="a reduced run, for tests and CI")
    if add is not None:
        add(parser)
    return parser.parse_args(None if argv is None else list(argv))


def out_dir(path: str | Path) -> Path:
    """The output folder, created if needed."""
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def pyplot():
    """matplotlib's pyplot on the Agg backend: files only, no window, works without a display."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def file_url(path: str | Path) -> str:
    """``file:///abs/path`` for a local file, to paste into a browser."""
    return Path(path).resolve().as_uri()


class Timer:
    """``with Timer() as t: ...; t.seconds`` – wall-clock time of a block."""

    def __enter__(self) -> "Timer":
        self.start = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.start


# --- running a model on many points ------------------------------------------------------


def _outputs(out) -> list:
    """A model's output as a list of Values (a one-output layer returns a bare Value)."""
    return list(out) if isinstance(out, (list, tuple)) else [out]


def predict(model, points, batch: int = 512):
    """``model``'s outputs for every row of ``points`` as a NumPy array of shape (N, outputs).

    The model is any callable taking a list of Values (an ``nn.MLP``). With ``tv.compile``
    available, the graph of one batch is built once with input leaves, compiled, and replayed
    for each batch with new input data: the same trick the training loops use. The replay also
    runs a backward pass, so the parameters' grads are saved and restored around it. Without
    ``tv.compile`` it falls back to the eager engine under ``tv.no_grad()``.
    """
    import numpy as np

    points = np.asarray(points, dtype=float)
    n, nin = points.shape
    if n == 0:
        return np.zeros((0, 0))
    if not hasattr(tv, "compile"):
        with tv.no_grad():
            rows = [[v.data for v in _outputs(model([tv.Value(float(c)) for c in p]))]
                    for p in points]
        return np.array(rows)

    batch = min(batch, n)
    inputs = [[tv.Value(0.0) for _ in range(nin)] for _ in range(batch)]
    outputs = [_outputs(model(row)) for row in inputs]
    params = list(model.parameters()) if hasattr(model, "parameters") else []
    saved = [p.grad for p in params]
    program = tv.compile(tv.sum([v for row in outputs for v in row]))
    result = np.empty((n, len(outputs[0])))
    for start in range(0, n, batch):
        chunk = points[start:start + batch]
        padded = np.zeros((batch, nin))
        padded[: len(chunk)] = chunk
        for row, values in zip(inputs, padded):
            for leaf, x in zip(row, values):
                leaf.data = float(x)
        program()
        for i in range(len(chunk)):
            result[start + i] = [program.value(v) for v in outputs[i]]
    for p, g in zip(params, saved):
        p.grad = g
    return result


def classes_from_outputs(scores):
    """Class labels from model outputs: argmax for several outputs, the sign for one (0/1)."""
    import numpy as np

    scores = np.asarray(scores)
    if scores.ndim == 1 or scores.shape[1] == 1:
        return (scores.reshape(-1) > 0).astype(int)
    return scores.argmax(axis=1)


# one colour per class, shared by the shaded regions and the points (matplotlib's tab10)
CLASS_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                 "#7f7f7f", "#bcbd22", "#17becf"]


def plot_decision_boundary(ax, model, X, y, resolution: int = 100, title: str = "",
                           margin: float = 0.25, classify: Optional[Callable] = None) -> None:
    """Colour the plane by ``model``'s predicted class and scatter the points (X, y) on top.

    ``model`` maps a list of input Values to one score (binary: class 1 when > 0) or to one
    logit per class (argmax); ``y`` holds class indices, or -1/+1 labels for a binary model. ``classify`` may replace that rule: scores (N, k) -> labels (N,).
    """
    import numpy as np

    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    if y.min() < 0:  # micrograd's -1/+1 labels: class 1 is the positive one
        y = (y > 0).astype(int)
    x0min, x1min = X.min(axis=0) - margin
    x0max, x1max = X.max(axis=0) + margin
    xx, yy = np.meshgrid(np.linspace(x0min, x0max, resolution),
                         np.linspace(x1min, x1max, resolution))
    grid = np.c_[xx.ravel(), yy.ravel()]
    scores = predict(model, grid)
    labels = (classify or classes_from_outputs)(scores).reshape(xx.shape)
    k = int(max(labels.max(), y.max())) + 1
    colours = [CLASS_COLOURS[c % len(CLASS_COLOURS)] for c in range(k)]
    # one flat colour per class: levels sit halfway between the integer labels
    ax.contourf(xx, yy, labels, levels=np.arange(k + 1) - 0.5, colors=colours, alpha=0.3)
    ax.scatter(X[:, 0], X[:, 1], c=[colours[int(c)] for c in y], s=14, edgecolors="k",
               linewidths=0.4)
    ax.set_xlim(x0min, x0max)
    ax.set_ylim(x1min, x1max)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=10)
