"""What the live view draws, on a private copy of the model: boundary, weights, a sample's graph.

The training thread only hands over a list of parameter floats (cheap); everything here runs on a
``Mirror``, a deep copy of the model whose parameters are overwritten from that list. So drawing a
sample's graph (which calls ``backward()``) never touches the gradients being trained on.
"""

from __future__ import annotations

import copy
import math
from typing import Callable, List, Sequence

import tinygrad_value as tv
from tinygrad_value.show.rundot import DotError, GraphvizNotFound, run_dot

from ..predict import Predictor

SampleLoss = Callable[[tv.Value, float], tv.Value]


def hinge_sample_loss(score: tv.Value, target: float) -> tv.Value:
    """One sample's max-margin loss, micrograd's: relu(1 - y·s)."""
    return (1 - target * score).relu()


def param_values(model) -> List[float]:
    """The model's parameters as plain floats, in ``parameters()`` order."""
    return [p.data for p in model.parameters()]


def _first(out):
    """A model with one output returns a Value; a list with one Value is accepted too."""
    return out[0] if isinstance(out, (list, tuple)) else out


class Mirror:
    """A deep copy of ``model`` that snapshots are loaded into and evaluated on."""

    def __init__(self, model) -> None:
        self.model = copy.deepcopy(model)
        if hasattr(self.model, "eval"):
            self.model.eval()  # no dropout noise in the pictures
        self.params = list(self.model.parameters())
        self._predictor = None  # nn.predict's Predictor, built by the first scores()

    def load(self, values: Sequence[float]) -> None:
        if len(values) != len(self.params):
            raise ValueError(f"snapshot has {len(values)} parameters, model has {len(self.params)}")
        for p, v in zip(self.params, values):
            p.data = float(v)
            p.grad = 0.0

    # --- forward on many points ------------------------------------------------------------

    def scores(self, points) -> List[float]:
        """The model's output for each 2-D point, with the currently loaded parameters: the
        first output of ``nn.predict``'s compiled Predictor, built on first use on batches of
        up to 128 rows (about 0.35 s to compile for an 8-8-1 MLP, then 30 ms per 1,600
        points), re-reading the parameters at every call."""
        points = list(points)
        if not points:
            return []
        if self._predictor is None:
            self._predictor = Predictor(self.model, len(points[0]), batch=min(128, len(points)))
        return [row[0] for row in self._predictor(points)]

    # --- what the page shows ---------------------------------------------------------------

    def weights(self) -> List[dict]:
        """Each layer as rows of ``[w₀, …, wₙ₋₁, b]``, one row per neuron."""
        out = []
        try:
            for i, layer in enumerate(self.model.layers):
                rows = [[_num(w.data) for w in n.w] + [_num(n.b.data)] for n in layer.neurons]
                out.append({"name": f"layer {i + 1}", "rows": rows})
        except AttributeError:
            out.append({"name": "parameters", "rows": [[_num(p.data) for p in self.params]]})
        return out

    def sample_graph(self, x: Sequence[float], target: float, sample_loss: SampleLoss) -> tv.Value:
        """Build one sample's loss on the mirror and backpropagate it (grads of this graph only)."""
        for p in self.params:
            p.grad = 0.0
        xs = [tv.Value(float(v), label=f"x{j}") for j, v in enumerate(x)]
        loss = sample_loss(_first(self.model(xs)), float(target))
        loss.label = loss.label or "loss"
        loss.backward()
        return loss


def _num(x: float) -> float:
    """A weight for JSON: 4 decimals, 0 for nan/inf (JSON has no such numbers)."""
    return round(x, 4) if math.isfinite(x) else 0.0


# --- the graph as SVG ------------------------------------------------------------------------


def graph_dot_source(root: tv.Value, max_nodes: int) -> str:
    """DOT text for root's graph, drawn by ``tv.draw_dot`` one box per neuron when the graph was
    built by ``nn`` modules (readable at any MLP size), else one box per Value."""
    try:
        try:
            return tv.draw_dot(root, rankdir="LR", level="neuron").source
        except ValueError:  # no neuron labels: nothing to collapse
            return tv.draw_dot(root, rankdir="LR", max_nodes=max_nodes).source
    except (tv.GraphTooLarge, ImportError) as exc:  # too many nodes; no graphviz package
        raise GraphUnavailable(str(exc)) from exc


class GraphUnavailable(RuntimeError):
    """The graph could not be rendered (no ``dot`` binary, too large, or too slow)."""


def render_svg(dot_source: str, timeout: float = 30.0) -> str:
    """The SVG text of ``dot_source``, laid out by ``run_dot`` (the one way every picture of
    ours runs graphviz, with a time limit); any failure is a ``GraphUnavailable``."""
    try:
        return run_dot(dot_source, "svg", timeout=timeout).decode("utf-8", errors="replace")
    except (GraphvizNotFound, DotError) as exc:
        raise GraphUnavailable(str(exc)) from exc


def sample_graph_svg(mirror: Mirror, x, target, sample_loss: SampleLoss,
                     max_nodes: int = 1500) -> str:
    """The SVG of one sample's loss graph, with its data and grads, on the mirror."""
    root = mirror.sample_graph(x, target, sample_loss)
    return render_svg(graph_dot_source(root, max_nodes))


def boundary_grid(mirror: Mirror, bounds, n: int) -> dict:
    """Scores on an n×n grid over ``bounds = (x0, x1, y0, y1)``, row 0 at the top (y1)."""
    x0, x1, y0, y1 = bounds
    xs = [x0 + (x1 - x0) * (i + 0.5) / n for i in range(n)]
    ys = [y1 - (y1 - y0) * (j + 0.5) / n for j in range(n)]
    pts = [(a, b) for b in ys for a in xs]
    z = [round(s, 3) if math.isfinite(s) else 0.0 for s in mirror.scores(pts)]
    return {"n": n, "bounds": [x0, x1, y0, y1], "z": z}


def accuracy(mirror: Mirror, X, y, threshold: float = 0.0) -> float:
    """Share of points whose score falls on their label's side of ``threshold``."""
    scores = mirror.scores(X)
    hits = sum((s > threshold) == (t > threshold) for s, t in zip(scores, y))
    return hits / max(1, len(y))
