"""What every live view shares: the data in the plane, a mirror of the model, bounded curves.

The curves keep at most ``MAX_POINTS`` (step, loss, accuracy) points however long training runs:
when full, every other point is dropped and from then on only every 2nd (4th, 8th, ...) step is
kept, so memory stays flat and the curve keeps its whole shape. Each such thinning bumps
``generation``, which tells a page that asked for "the points after index N" to start over.
"""

from __future__ import annotations

import math
from typing import Any, List, Optional, Sequence

import tinygrad_value as tv

from .render import Mirror, SampleLoss, accuracy, hinge_sample_loss, sample_graph_svg

MAX_POINTS = 2000


def _last_metric(history: Any, names: Sequence[str]) -> Optional[float]:
    """The latest value of a metric in ``history``: a dict of lists, a list of dicts, an object."""
    if history is None:
        return None
    if isinstance(history, (list, tuple)) and history:
        history = history[-1]
    for name in names:
        if isinstance(history, dict):
            value = history.get(name)
        else:
            value = getattr(history, name, None)
        if isinstance(value, (list, tuple)):
            value = value[-1] if value else None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if hasattr(value, "data"):  # a Value
            return float(value.data)
    return None


def _finite(x: Optional[float]) -> Optional[float]:
    return None if x is None or not math.isfinite(x) else round(float(x), 6)


class Curves:
    """Loss and accuracy per step, at most ``limit`` points (thinned by halves when full)."""

    def __init__(self, limit: int = MAX_POINTS) -> None:
        self.limit = max(4, int(limit))
        self.steps: List[int] = []
        self.loss: List[Optional[float]] = []
        self.acc: List[Optional[float]] = []
        self.stride = 1  # keep one step in ``stride``
        self.generation = 0
        self.seen = 0  # steps offered, kept or not
        self.last: Optional[tuple] = None  # the latest (step, loss, acc), kept or not

    def add(self, step: int, loss: Optional[float], acc: Optional[float]) -> None:
        self.last = (step, loss, acc)
        self.seen += 1
        if (self.seen - 1) % self.stride:
            return
        self.steps.append(step)
        self.loss.append(loss)
        self.acc.append(acc)
        if len(self.steps) > self.limit:
            del self.steps[1::2], self.loss[1::2], self.acc[1::2]
            self.stride *= 2
            self.generation += 1

    def __len__(self) -> int:
        return len(self.steps)


class Watcher:
    """The data, the mirror, the chosen sample, and the metrics per step."""

    def __init__(self, model, X, y, *, sample: Optional[int] = None, grid: int = 48,
                 sample_loss: Optional[SampleLoss] = None, threshold: float = 0.0,
                 graph_every: int = 10, title: str = "tinygrad-value: live training",
                 max_points: int = MAX_POINTS) -> None:
        X = [list(row) for row in X]
        if any(len(row) != 2 for row in X):
            raise ValueError("the live view draws points in the plane: every row of X needs "
                             "exactly 2 numbers")
        self.X = [[float(a), float(b)] for a, b in X]
        self.y = [float(t) for t in y]
        if len(self.X) != len(self.y) or not self.X:
            raise ValueError("X and y must be non-empty and the same length, "
                             f"got {len(self.X)} and {len(self.y)}")
        self.model = model
        self.mirror = Mirror(model)
        self._metric_mirror: Optional[Mirror] = None
        self.sample_loss = sample_loss or hinge_sample_loss
        self.threshold = float(threshold)
        if sample is None:
            sample = self.hardest_sample()
        if not 0 <= sample < len(self.X):
            raise ValueError(f"sample must be in 0..{len(self.X) - 1}, got {sample}")
        self.sample = sample
        self.grid = int(grid)
        self.graph_every = max(1, int(graph_every))
        self.title = title
        xs = [p[0] for p in self.X]
        ys = [p[1] for p in self.X]
        # a square window around the data, so the picture keeps the plane's true proportions
        half = 0.58 * max(max(xs) - min(xs), max(ys) - min(ys), 1e-6)
        cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
        self.bounds = (cx - half, cx + half, cy - half, cy + half)
        self.curves = Curves(max_points)

    def hardest_sample(self) -> int:
        """The sample with the largest loss under the model as it is now (the first on ties).

        The default sample: its graph then shows non-zero gradients, where an already
        well-classified point of a max-margin loss would show only zeros."""
        scores = self.mirror.scores(self.X)
        best, best_loss = 0, -math.inf
        with tv.no_grad():
            for i, (s, t) in enumerate(zip(scores, self.y)):
                loss = self.sample_loss(tv.Value(s), t).data
                if math.isfinite(loss) and loss > best_loss:
                    best, best_loss = i, loss
        return best

    # the curves, under their old names
    @property
    def steps(self) -> List[int]:
        return self.curves.steps

    @property
    def loss(self) -> List[Optional[float]]:
        return self.curves.loss

    @property
    def acc(self) -> List[Optional[float]]:
        return self.curves.acc

    def points(self) -> dict:
        return {"x": [[round(a, 4), round(b, 4)] for a, b in self.X], "y": self.y,
                "threshold": self.threshold}

    def _record_metrics(self, step: int, history: Any, params: List[float]) -> None:
        loss = _last_metric(history, ("loss", "train_loss", "total_loss"))
        acc = _last_metric(history, ("accuracy", "acc", "train_accuracy", "train_acc"))
        if acc is not None and acc > 1.0:  # a percentage
            acc /= 100.0
        if acc is None:  # its own mirror: self.mirror belongs to the drawing thread
            if self._metric_mirror is None:
                self._metric_mirror = Mirror(self.model)
            self._metric_mirror.load(params)
            acc = accuracy(self._metric_mirror, self.X, self.y, self.threshold)
        self.curves.add(int(step), _finite(loss), _finite(acc))

    def _picture(self, params: List[float], step: int) -> dict:
        """Boundary and weights for one parameter snapshot (runs off the training thread)."""
        from .render import boundary_grid

        self.mirror.load(params)
        return {"step": step, "boundary": boundary_grid(self.mirror, self.bounds, self.grid),
                "weights": self.mirror.weights()}

    def _graph(self, params: List[float], sample: int) -> str:
        self.mirror.load(params)
        return sample_graph_svg(self.mirror, self.X[sample], self.y[sample], self.sample_loss)
