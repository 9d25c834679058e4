"""What the live view draws, on a private copy of the model: boundary, weights, a sample's graph.

The training thread only hands over a list of parameter floats (cheap); everything here runs on a
``Mirror``, a deep copy of the model whose parameters are overwritten from that list. So drawing a
sample's graph (which calls ``backward()``) never touches the gradients being trained on.
"""

from __future__ import annotations

import copy
import math
from typing import Callable, List, Optional, Sequence

import tinygrad_value as tv
from tinygrad_value.engine.ops import OPS
from tinygrad_value.show.rundot import DotError, GraphvizNotFound, run_dot

from ..activations import ACTIVATIONS

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
        self._plan = self._numpy_plan()

    def load(self, values: Sequence[float]) -> None:
        if len(values) != len(self.params):
            raise ValueError(f"snapshot has {len(values)} parameters, model has {len(self.params)}")
        for p, v in zip(self.params, values):
            p.data = float(v)
            p.grad = 0.0

    # --- forward on many points ------------------------------------------------------------

    def scores(self, points) -> List[float]:
        """The model's output for each 2-D point, with the currently loaded parameters."""
        if self._plan is not None:
            return self._numpy_scores(self._plan, points).tolist()
        with tv.no_grad():
            return [_first(self.model([float(a), float(b)])).data for a, b in points]

    def _numpy_plan(self):
        """Index arrays [(W, b, activation)] so a grid is one matrix product per layer.

        Read from micrograd's structure (``layers[].neurons[].w/.b``); the plan is used only if it
        reproduces the model's own output on a few points, else the slow exact path is kept.
        """
        try:
            import numpy as np

            index = {id(p): i for i, p in enumerate(self.params)}
            plan = []
            for layer in self.model.layers:
                neurons = layer.neurons
                W = np.array([[index[id(w)] for w in n.w] for n in neurons])
                b = np.array([index[id(n.b)] for n in neurons])
                acts = {_activation_name(n) for n in neurons}
                if len(acts) != 1 or None in acts:
                    return None
                plan.append((W, b, acts.pop()))
            probe = [(0.3, -0.2), (-1.1, 0.7), (2.0, 0.5)]
            fast = self._numpy_scores(plan, probe)
            with tv.no_grad():
                exact = [_first(self.model([a, b])).data for a, b in probe]
            if all(math.isclose(f, e, rel_tol=1e-9, abs_tol=1e-9) for f, e in zip(fast, exact)):
                return plan
        except Exception:  # an unfamiliar model: fall back to evaluating Values
            pass
        return None

    def _numpy_scores(self, plan, points):
        """The plan run on an array of points: each activation is the op table's own forward."""
        import numpy as np

        from tinygrad_value.compiled import np_math

        theta = np.array([p.data for p in self.params])
        h = np.asarray(points, dtype=float)
        for W, b, act in plan:
            h = h @ theta[W].T + theta[b]
            if act != "linear":
                h = OPS[act].forward(np_math, h)
        return h[:, 0]

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


def _activation_name(neuron) -> Optional[str]:
    act = getattr(neuron, "activation", None)
    if callable(act) and not isinstance(act, str):
        act = getattr(act, "__name__", None)
    if isinstance(act, str):
        act = act.lower()
        act = {"identity": "linear", "none": "linear"}.get(act, act)
        return act if act in ACTIVATIONS else None
    nonlin = getattr(neuron, "nonlin", None)
    if nonlin is None:
        return None
    return "relu" if nonlin else "linear"


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
