"""Helpers shared by the demos: command line, output folder, headless matplotlib, boundary plots."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import tinygrad_value as tv

DEFAULT_OUT = "out"


def parse_args(description: str, argv: Sequence[str] | None = None,
               add: Callable[[argparse.ArgumentParser], None] | None = None) -> argparse.Namespace:
    """The flags every demo takes: ``--out DIR`` (default ``out/``) and ``--quick`` (a reduced run
    for CI); ``add`` may register more."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", default=DEFAULT_OUT,
                        help="folder for the pictures (default: out/)")
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

    def __enter__(self) -> Timer:  # noqa: PYI034 - Self needs Python 3.11
        self.start = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.start


# --- running a model on many points ------------------------------------------------------


def _outputs(out) -> list:
    """A model's output as a list of Values (a one-output layer returns a bare Value)."""
    return list(out) if isinstance(out, (list, tuple)) else [out]


class Predictor:
    """``model``'s outputs for many points, fast: ``Predictor(model, nin)(points) -> (N, outputs)``.

    The model is any callable taking a list of Values (an ``nn.MLP``). The graph of one batch of
    ``batch`` points is built once on input leaves and compiled with ``tv.compile``; each call
    writes the points into the leaves batch by batch and replays it, the trick the training
    loops use. The replay reads the parameters' current ``.data``, so one Predictor follows a
    model through training; it runs the forward pass only, so no grad is touched. With
    ``compiled=False`` it runs the eager engine under
    ``tv.no_grad()``: cheaper when the points are evaluated only once, since compiling costs
    several eager passes.
    """

    def __init__(self, model, nin: int, batch: int = 512, compiled: bool = True) -> None:
        self.model, self.nin, self.batch = model, nin, batch
        self.program = None
        if compiled:
            self.inputs = [[tv.Value(0.0) for _ in range(nin)] for _ in range(batch)]
            self.outputs = [_outputs(model(row)) for row in self.inputs]
            self.program = tv.compile(tv.sum([v for row in self.outputs for v in row]))

    def __call__(self, points):
        import numpy as np

        points = np.asarray(points, dtype=float).reshape(-1, self.nin)
        if self.program is None:
            with tv.no_grad():
                rows = [[v.data for v in _outputs(self.model([tv.Value(float(c)) for c in p]))]
                        for p in points]
            return np.array(rows).reshape(len(points), -1)
        result = np.empty((len(points), len(self.outputs[0])))
        for start in range(0, len(points), self.batch):
            chunk = points[start:start + self.batch]
            for row, values in zip(self.inputs, chunk):  # a short last chunk leaves stale rows
                for leaf, x in zip(row, values):
                    leaf.data = float(x)
            self.program.forward()
            for i in range(len(chunk)):
                result[start + i] = [self.program.value(v) for v in self.outputs[i]]
        return result


def predict(model, points, batch: int = 512):
    """``model``'s outputs for every row of ``points``, shape (N, outputs); see ``Predictor``.
    Compiled when the batch graph is replayed a few times, eager for a few hundred points."""
    import numpy as np

    points = np.asarray(points, dtype=float)
    compiled = len(points) > 2 * batch
    return Predictor(model, points.shape[1], batch, compiled=compiled)(points)


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
                           margin: float = 0.25, classify: Callable | None = None) -> None:
    """Colour the plane by ``model``'s predicted class and scatter the points (X, y) on top.

    ``model`` maps a list of input Values to one score (binary: class 1 when > 0) or to one
    logit per class (argmax); it may also be a ``Predictor`` (reused across calls). ``y`` holds
    class indices, or -1/+1 labels for a binary model. ``classify`` may replace that rule:
    scores (N, k) -> labels (N,).
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
    scores = model(grid) if isinstance(model, Predictor) else predict(model, grid)
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
