"""Gradient health per layer: norms of weights, grads, activations, dead ReLUs, update ratios.

``nn.inspect(model)`` reads the parameters' ``.data`` and ``.grad`` (after a backward pass);
``nn.inspect(model, X, y, loss)`` also runs the batch on a copy of the model to see each layer's
activations and their gradients. ``nn.GradientHealth()`` is a ``fit`` callback that records the
same table after every step and warns once when gradients vanish or explode. Layers come from
the parameters' labels (``layer1.neuron3.w[0]`` is in ``layer1``), as in the neuron-level view.
matplotlib is imported only by ``plot()``.
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Mapping
from typing import Callable, Dict, List, Optional, Sequence

import tinygrad_value as tv
from tinygrad_value.show.neurons import collapse, layer_of, split_label

COLUMNS = ("layer", "params", "|w|", "|grad w|", "|grad|/|w|", "update/|w|", "|act|",
           "|grad act|", "dead ReLU")


def _norm(xs) -> float:
    return math.sqrt(sum(x * x for x in xs))


def _layer(p: tv.Value) -> str:
    parts = split_label(p.label)
    return layer_of(parts[0]) if parts else "?"


def layers_of(model) -> Dict[str, List[tv.Value]]:
    """The model's parameters grouped by layer, in parameter order."""
    out: Dict[str, List[tv.Value]] = {}
    for p in model.parameters():
        out.setdefault(_layer(p), []).append(p)
    return out


def histogram(xs: Sequence[float], bins: int = 10) -> List[int]:
    """Counts of xs in ``bins`` equal bins between min and max (all in the first if equal)."""
    xs = [x for x in xs if math.isfinite(x)]
    if not xs:
        return [0] * bins
    lo, hi = min(xs), max(xs)
    counts = [0] * bins
    for x in xs:
        k = 0 if hi == lo else min(int((x - lo) / (hi - lo) * bins), bins - 1)
        counts[k] += 1
    return counts


class Health:
    """One row per layer (``rows``: dicts keyed by ``COLUMNS``) and, per layer, histograms of
    its activations and their grads (``hist``: layer -> {"act": counts, "grad": counts}, with a
    batch) and of its parameters' grads (``grad_hist``: layer -> counts, always); 10 bins from
    min to max (``histogram``)."""

    def __init__(self, rows: List[dict], hist: Dict[str, dict],
                 grad_hist: Optional[Dict[str, List[int]]] = None) -> None:
        self.rows = rows
        self.hist = hist
        self.grad_hist = grad_hist or {}

    def __getitem__(self, layer: str) -> dict:
        for r in self.rows:
            if r["layer"] == layer:
                return r
        raise KeyError(f"no layer {layer!r}; layers: {[r['layer'] for r in self.rows]}")

    @staticmethod
    def _cell(x) -> str:
        if x is None:
            return "-"
        return f"{x:.3g}" if isinstance(x, float) else str(x)

    def __repr__(self) -> str:
        table = [list(COLUMNS)] + [[self._cell(r[c]) for c in COLUMNS] for r in self.rows]
        widths = [max(len(row[i]) for row in table) for i in range(len(COLUMNS))]
        return "\n".join("  ".join(c.rjust(w) for c, w in zip(row, widths)) for row in table)

    def _repr_html_(self) -> str:
        import html

        head = "".join(f"<th>{html.escape(c)}</th>" for c in COLUMNS)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(self._cell(r[c]))}</td>"
                                        for c in COLUMNS) + "</tr>" for r in self.rows)
        return f"<table><tr>{head}</tr>{body}</table>"

    def plot(self):
        """The per-layer norms, then histograms of activations (with a batch) and of gradients
        (the activations' with a batch, else the parameters'), per layer (matplotlib)."""
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 3, figsize=(14, 3.5))
        names = [r["layer"] for r in self.rows]
        for col in ("|w|", "|grad w|", "|act|"):
            axes[0].plot(names, [r[col] or 0.0 for r in self.rows], marker="o", label=col)
        axes[0].set_yscale("symlog", linthresh=1e-6)
        axes[0].legend()
        for layer, h in self.hist.items():
            axes[1].plot(h["act"], label=f"{layer} activations")
        axes[1].set_title("activation histograms (10 bins, min..max)")
        grads = ({layer: h["grad"] for layer, h in self.hist.items()} if self.hist else
                 self.grad_hist)
        what = "d loss / d activation" if self.hist else "parameter grad"
        for layer, counts in grads.items():
            axes[2].plot(counts, label=f"{layer} {what}")
        axes[2].set_title("gradient histograms (10 bins, min..max)")
        for ax in axes:
            if ax.get_legend_handles_labels()[0]:
                ax.legend()
        return fig


def inspect(model, X: Optional[Sequence] = None, y: Optional[Sequence] = None,
            loss: Optional[Callable] = None, previous: Optional[List[float]] = None) -> Health:
    """Per layer: ‖w‖, ‖∇w‖ (the parameters' current ``.grad``), their ratio, and with
    ``previous`` (parameter floats before the last step) the update ratio ‖Δw‖/‖w‖.

    With a batch ``X`` (and targets ``y``, ``loss(outputs, targets) -> Value``, default
    ``nn.losses.mse``), a copy of the model runs it and backpropagates: ‖activations‖,
    ‖d loss / d activations‖ and the fraction of ReLU neurons that output 0 on every row.
    The model itself (its ``.data`` and ``.grad``) is not touched.
    """
    groups = layers_of(model)
    acts: Dict[str, dict] = {}
    if X is not None:
        from . import losses

        twin = copy.deepcopy(model)
        outputs = [twin(x) for x in X]
        if y is None:
            root = tv.sum([o if isinstance(o, tv.Value) else tv.sum(o) for o in outputs])
        else:
            root = (loss or losses.mse)(outputs, list(y))
        root.backward()
        ng = collapse(root)
        for unit in ng.units.values():
            a = acts.setdefault(unit.layer, {"act": [], "grad": [], "relu": 0, "dead": 0})
            a["act"] += [o.data for o in unit.outputs]
            a["grad"] += [o.grad for o in unit.outputs]
            if unit.activation.lower() == "relu":
                a["relu"] += 1
                a["dead"] += all(o.data == 0.0 for o in unit.outputs)
    index = {id(p): i for i, p in enumerate(model.parameters())}
    rows, hist = [], {}
    for layer, ps in groups.items():
        w = _norm(p.data for p in ps)
        g = _norm(p.grad for p in ps)
        upd = None
        if previous is not None:
            upd = _norm(p.data - previous[index[id(p)]] for p in ps) / w if w else math.inf
        a = acts.get(layer)
        rows.append({"layer": layer, "params": len(ps), "|w|": w, "|grad w|": g,
                     "|grad|/|w|": g / w if w else math.inf, "update/|w|": upd,
                     "|act|": _norm(a["act"]) if a else None,
                     "|grad act|": _norm(a["grad"]) if a else None,
                     "dead ReLU": (a["dead"] / a["relu"]) if a and a["relu"] else None})
        if a:
            hist[layer] = {"act": histogram(a["act"]), "grad": histogram(a["grad"])}
    grad_hist = {layer: histogram([p.grad for p in ps]) for layer, ps in groups.items()}
    return Health(rows, hist, grad_hist)


class GradientHealth:
    """A ``fit`` callback: ``nn.fit(..., callback=nn.GradientHealth())``.

    After every step it records ``inspect(model, previous=...)`` in ``steps`` (the update ratio
    from the step before; None on the first) and warns once (a ``RuntimeWarning``) when a
    layer's ‖∇w‖ falls below ``vanish`` or rises above ``explode`` or is not finite.
    ``X`` (optional) adds activation statistics every ``every`` steps (a forward and backward
    on a copy of the model: slower).
    """

    def __init__(self, vanish: float = 1e-7, explode: float = 1e3, X=None, y=None, loss=None,
                 every: int = 10) -> None:
        self.vanish, self.explode = vanish, explode
        self.X, self.y, self.loss, self.every = X, y, loss, every
        self.steps: List[Health] = []
        self.warned: Optional[str] = None
        self._previous: Optional[List[float]] = None

    def __call__(self, step: int, history, model) -> None:
        use_x = self.X is not None and step % self.every == 0
        health = inspect(model, self.X if use_x else None, self.y, self.loss, self._previous)
        self.steps.append(health)
        self._previous = [p.data for p in model.parameters()]
        if self.warned is None:
            for r in health.rows:
                g = r["|grad w|"]
                what = ("exploding" if not math.isfinite(g) or g > self.explode else
                        "vanishing" if g < self.vanish else None)
                if what:
                    self.warned = (f"step {step}: {what} gradients in {r['layer']}: "
                                   f"|grad w| = {g:.3g} (limits {self.vanish:g} .. "
                                   f"{self.explode:g})")
                    warnings.warn(self.warned, RuntimeWarning, stacklevel=2)
                    break
        return None

    def series(self, column: str) -> Dict[str, List[Optional[float]]]:
        """layer -> that column over the recorded steps."""
        out: Dict[str, List[Optional[float]]] = {}
        for h in self.steps:
            for r in h.rows:
                out.setdefault(r["layer"], []).append(r[column])
        return out

    def plot(self, column: str = "|grad w|"):
        """That column per layer over training (matplotlib, log scale)."""
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 3.5))
        for layer, ys in self.series(column).items():
            ax.plot([y if y is not None else math.nan for y in ys], label=layer)
        ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_ylabel(column)
        ax.legend()
        return fig


class AdamState(Mapping):
    """Per parameter: label, data, grad, m, v and the step the last update took,
    Δp = -lr/(1-β₁ᵗ) · m / (√v/√(1-β₂ᵗ) + ε) (``rows``: tuples in ``COLUMNS`` order).

    Also a mapping from each parameter Value to ``{"m": ..., "v": ..., "step": ...}``, the form
    the network page reads: ``tv.backprop_html(loss, path, level="neuron",
    optimizer_state=nn.adam_state(opt))``."""

    COLUMNS = ("param", "data", "grad", "m", "v", "step")

    def __init__(self, rows: List[tuple], params: Sequence[tv.Value] = ()) -> None:
        self.rows = rows
        self._by_param = {p: dict(zip(("m", "v", "step"), r[3:])) for p, r in zip(params, rows)}

    def __getitem__(self, p: tv.Value) -> dict:
        try:
            return self._by_param[p]
        except KeyError:
            raise KeyError(f"{p!r} is not a parameter of this optimizer") from None

    def __iter__(self):
        return iter(self._by_param)

    def __len__(self) -> int:
        return len(self._by_param)

    def __repr__(self) -> str:
        table = [self.COLUMNS] + [(r[0],) + tuple(f"{x:.4g}" for x in r[1:]) for r in self.rows]
        widths = [max(len(row[i]) for row in table) for i in range(len(self.COLUMNS))]
        return "\n".join("  ".join(c.rjust(w) for c, w in zip(row, widths)) for row in table)

    def _repr_html_(self) -> str:
        import html

        head = "".join(f"<th>{c}</th>" for c in self.COLUMNS)
        body = "".join("<tr><td>" + html.escape(r[0]) + "</td>" + "".join(
            f"<td>{x:.4g}</td>" for x in r[1:]) + "</tr>" for r in self.rows)
        return f"<table><tr>{head}</tr>{body}</table>"


def adam_state(optimizer) -> AdamState:
    """Tabulate an ``nn.optim.Adam``'s m, v and effective step per parameter, after t ≥ 1 steps
    (the step is recomputed from the state with the last step's lr; weight decay excluded)."""
    if not hasattr(optimizer, "m") or not hasattr(optimizer, "v"):
        raise TypeError(f"adam_state needs an nn.optim.Adam (or AdamW), got "
                        f"{type(optimizer).__name__}")
    t = optimizer.t
    if t < 1:
        raise ValueError("adam_state: the optimizer has taken no step yet (t = 0)")
    beta1, beta2 = optimizer.betas
    lr = optimizer.lr if optimizer.decay == 0 else optimizer.lr / (1 + optimizer.decay * (t - 1))
    step_size = lr / (1 - beta1 ** t)
    bc2 = (1 - beta2 ** t) ** 0.5
    rows = []
    for i, p in enumerate(optimizer.params):
        v = optimizer.v_max[i] if optimizer.amsgrad else optimizer.v[i]
        step = -step_size * optimizer.m[i] / (math.sqrt(v) / bc2 + optimizer.eps)
        rows.append((p.label or f"p{i}", p.data, p.grad, optimizer.m[i], optimizer.v[i], step))
    return AdamState(rows, optimizer.params)
