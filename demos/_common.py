"""Helpers shared by the demos: command line, output folder, headless matplotlib, boundary plots."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from nn.palette import CLASSES

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


def need_demo_deps() -> None:
    """Exit with the fix when this Python lacks the demo packages (matplotlib, NumPy)."""
    import sys

    for name in ("numpy", "matplotlib"):
        try:
            __import__(name)
        except ImportError:
            raise SystemExit(f"{name} is not installed in this Python ({sys.executable}); run "
                             f"`make demo`, or use the project's venv: .venv/bin/python -m "
                             f"demos.<name> (pip install -e '.[demo]')") from None


def out_dir(path: str | Path) -> Path:
    """The output folder, created if needed."""
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def pyplot():
    """matplotlib's pyplot on the Agg backend: files only, no window, works without a display."""
    need_demo_deps()
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


class Predictor:
    """``nn.predict.Predictor`` returning a NumPy array of shape (N, outputs)."""

    def __init__(self, model, nin: int, batch: int = 512, compiled: bool = True) -> None:
        from nn.predict import Predictor as Rows

        self.rows = Rows(model, nin, batch, compiled)

    def __call__(self, points):
        import numpy as np

        points = np.asarray(points, dtype=float).reshape(-1, self.rows.nin)
        return np.array(self.rows(points.tolist())).reshape(len(points), -1)


def predict(model, points, batch=None):
    """``nn.predict``'s outputs for every row of ``points`` as an array (N, outputs)."""
    import numpy as np

    import nn

    points = np.asarray(points, dtype=float)
    return np.asarray(nn.predict(model, points.tolist(), batch=batch)).reshape(len(points), -1)


def classes_from_outputs(scores):
    """Class labels from model outputs: argmax for several outputs, the sign for one (0/1)."""
    import numpy as np

    scores = np.asarray(scores)
    if scores.ndim == 1 or scores.shape[1] == 1:
        return (scores.reshape(-1) > 0).astype(int)
    return scores.argmax(axis=1)


CLASS_COLOURS = CLASSES  # one palette for every picture and page (nn.palette)


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
    signed = bool(y.min() < 0)
    if signed:  # micrograd's -1/+1 labels: class 1 is the positive one
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
    ax.set_xlabel("x₀")
    ax.set_ylabel("x₁")
    from matplotlib.patches import Patch

    names = ["-1", "+1"] if k == 2 and signed else [str(c) for c in range(k)]
    ax.legend(handles=[Patch(color=colours[c], label=f"class {names[c]}") for c in range(k)],
              fontsize=7, loc="upper right", framealpha=0.8)
    if title:
        ax.set_title(title, fontsize=10)
