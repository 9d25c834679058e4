"""Gradient health over training for the live view: ``nn.inspect``'s table, step after step.

Every ``every`` steps the drawing thread runs ``nn.inspect`` on the mirror (the parameters of
that step, their gradients, and the parameters of the step before, so ``update/|w|`` is that
one step's ‖Δw‖/‖w‖) with the live view's data and loss. ``HealthSeries`` keeps at most
``limit`` such snapshots (halving when full, as the curves do) and gives the page JSON: per
layer, the norms of activations and of their gradients, the fraction of dead ReLUs, the update
ratio and ‖∇w‖. No maths here: it is all ``nn.inspect``'s.
"""

from __future__ import annotations

import math
from typing import Callable, List, Optional

import tinygrad_value as tv

from ..inspect import inspect

# (key on the page, nn.inspect's column, what the page calls it)
COLUMNS = (("act", "|act|", "‖activations‖"),
           ("grad_act", "|grad act|", "‖∂L/∂activations‖"),
           ("dead", "dead ReLU", "dead ReLUs"),
           ("update", "update/|w|", "‖Δw‖/‖w‖ (one step)"),
           ("grad_w", "|grad w|", "‖∇w‖"))
MAX_SNAPSHOTS = 200


def batch_loss(sample_loss: Callable) -> Callable:
    """The mean over the batch of the live view's one-sample loss (what its graph shows)."""
    def loss(outputs, targets) -> tv.Value:
        outs = [o[0] if isinstance(o, (list, tuple)) else o for o in outputs]
        return tv.sum([sample_loss(o, float(t)) for o, t in zip(outs, targets)]) / len(outs)
    return loss


def _json(x) -> Optional[float]:
    return float(x) if isinstance(x, (int, float)) and math.isfinite(x) else None


class HealthSeries:
    """Snapshots of ``nn.inspect`` rows, one per recorded step, at most ``limit`` of them."""

    def __init__(self, limit: int = MAX_SNAPSHOTS) -> None:
        self.limit = max(4, int(limit))
        self.steps: List[int] = []
        self.rows: List[List[dict]] = []  # per snapshot, nn.inspect's rows
        self.error = ""

    def add(self, step: int, health) -> None:
        self.steps.append(int(step))
        self.rows.append(health.rows)
        if len(self.steps) > self.limit:
            del self.steps[1::2], self.rows[1::2]

    def snapshot(self, mirror, X, y, loss: Callable, step: int, params, grads, previous) -> None:
        """``nn.inspect`` of the parameters of ``step`` (with their grads) on the mirror."""
        mirror.load(params)
        for p, g in zip(mirror.params, grads):
            p.grad = float(g)
        try:
            self.add(step, inspect(mirror.model, X, y, loss, previous=previous))
            self.error = ""
        except Exception as exc:  # an unfamiliar model: say so on the page, keep training
            self.error = f"gradient health unavailable: {type(exc).__name__}: {exc}"

    def to_json(self) -> dict:
        """For the page: the layers, the steps, and per column a list per layer over steps."""
        layers = [r["layer"] for r in self.rows[-1]] if self.rows else []
        series = {key: {layer: [] for layer in layers} for key, _, _ in COLUMNS}
        for rows in self.rows:
            by_layer = {r["layer"]: r for r in rows}
            for key, column, _ in COLUMNS:
                for layer in layers:
                    row = by_layer.get(layer)
                    series[key][layer].append(None if row is None else _json(row[column]))
        return {"steps": list(self.steps), "layers": layers, "series": series,
                "columns": [[key, label] for key, _, label in COLUMNS], "error": self.error}
