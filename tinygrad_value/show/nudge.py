"""Nudges: move one leaf by h, redo the forward pass, and compare ΔL with grad · h.

``nudge(root, leaf, h)`` recomputes every node downstream of ``leaf`` with the op table's own
forward rules on a private table of numbers (the graph's ``.data`` and ``.grad`` never change)
and returns ΔL = L(leaf + h) − L(leaf) beside the first-order guess dL/dleaf · h. As h shrinks
their ratio tends to 1: that is what a derivative means. ``nudge_data`` precomputes a few h per
leaf for the page and the widget, whose scripts only show these numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..engine import scalar_math
from ..engine.backward import topo_order
from ..engine.value import Value
from .stepper import Walkthrough

DEFAULT_H = (1.0, 0.1, 0.01, 0.001)


@dataclass(repr=False)
class Nudge:
    """One nudge of ``leaf`` by ``h``: the new value of every node downstream (``values``, the
    leaf included), ΔL, the guess grad·h and their ratio (None when grad·h is 0), or ``error``
    when the nudged inputs leave an op's domain."""

    leaf: Value
    h: float
    grad: float  # dL/dleaf before the nudge
    values: dict[Value, float] = field(default_factory=dict)
    delta: float | None = None  # ΔL
    error: str | None = None

    @property
    def guess(self) -> float:
        return self.grad * self.h

    @property
    def ratio(self) -> float | None:
        if self.delta is None or self.guess == 0:
            return None
        return self.delta / self.guess

    def __repr__(self) -> str:
        leaf = self.leaf.label or "leaf"
        if self.error:
            return f"Nudge({leaf} + {self.h:g}: {self.error})"
        ratio = "undefined (grad·h = 0)" if self.ratio is None else f"{self.ratio:.6f}"
        return (f"Nudge({leaf} + {self.h:g}: ΔL = {self.delta:.6g}, grad·h = {self.guess:.6g}, "
                f"ratio {ratio})")


def downstream(order: list[Value], leaf: Value) -> list[Value]:
    """The nodes whose value depends on ``leaf`` (the leaf first), in topological order."""
    hit = {leaf}
    for v in order:
        if v._fn is not None and any(c in hit for c in v.children):
            hit.add(v)
    return [v for v in order if v in hit]


def forward_from(order: list[Value], leaf: Value, new: float) -> dict[Value, float]:
    """The forward pass again with ``leaf`` at ``new``: {node: value} for every node downstream,
    computed by each op's ``forward`` from the table. Raises ``ValueError`` (naming the op and
    its operands) where an op's domain check fails."""
    values = {leaf: float(new)}
    for v in downstream(order, leaf)[1:]:
        args = [values.get(c, c.data) for c in v.children]
        fn = v._fn
        if fn.draws:  # a drawn mask does not depend on the nudged value: keep the one drawn
            values[v] = v.data
            continue
        if fn.has_param:
            args.append(v._arg)
        if fn.check is not None:
            problem = fn.check(*args)
            if problem:
                raise ValueError(problem)
        values[v] = float(fn.forward(scalar_math, *args))
    return values


def nudge(root: Value, leaf: Value, h: float, grad: float | None = None,
          order: list[Value] | None = None) -> Nudge:
    """Nudge ``leaf`` by ``h`` in root's graph; ``grad`` is dL/dleaf (worked out without
    touching ``.grad`` when not given). Changes no ``.data`` or ``.grad``."""
    order = order if order is not None else topo_order(root)
    if leaf not in set(order) or leaf._fn is not None:
        raise ValueError("nudge needs a leaf of root's graph (a Value with no op that root "
                         f"depends on), got {leaf!r}")
    if not isinstance(h, (int, float)) or not math.isfinite(h) or h == 0:
        raise ValueError(f"the nudge h must be a finite non-zero number, got {h!r}")
    if grad is None:
        grad = Walkthrough(root).grads[leaf]
    out = Nudge(leaf, float(h), grad)
    try:
        out.values = forward_from(order, leaf, leaf.data + h)
    except ValueError as e:
        out.error = f"L is not defined at {leaf.data + h:g}: {e}"
        return out
    out.delta = out.values.get(root, root.data) - root.data
    return out


def _g(x: float) -> str:
    return f"{x:.6g}"


def nudge_data(w: Walkthrough, hs=DEFAULT_H) -> dict:
    """The page's nudge panel: for each leaf and each h, the text it shows (every number
    worked out and formatted here)."""
    hs = tuple(float(h) for h in hs)
    if not hs or any(not math.isfinite(h) or h == 0 for h in hs):
        raise ValueError(f"nudges must be finite non-zero step sizes such as (1, 0.1, 0.01), "
                         f"got {hs!r}")
    f, names, ids, root = w.format, w.names, w.ids, w.root
    leaves = []
    for leaf in w.order:
        if leaf._fn is not None or leaf is root:
            continue
        grad = w.grads[leaf]
        entries = []
        for h in hs:
            n = nudge(root, leaf, h, grad, w.order)
            entry = {"h": _g(h), "h_value": h, "error": n.error}
            if n.error is None:
                entry.update({
                    "values": {ids[v]: f(x) for v, x in n.values.items()},
                    "lines": [f"{names[v]} = {f(v.data)} → {f(x)}   (Δ {_g(x - v.data)})"
                              for v, x in n.values.items()],
                    "dL": _g(n.delta), "guess": _g(n.guess),
                    "ratio": "—" if n.ratio is None else f"{n.ratio:.6f}",
                    "summary": (f"{names[leaf]} + {_g(h)}: ΔL = {_g(n.delta)}, dL/d{names[leaf]}"
                                f" · h = {_g(grad)} · {_g(h)} = {_g(n.guess)}, ratio " +
                                ("— (grad · h is 0: ΔL is all second order)" if n.ratio is None
                                 else f"{n.ratio:.6f}")),
                })
            entries.append(entry)
        leaves.append({"id": ids[leaf], "name": names[leaf], "grad": _g(grad),
                       "nudges": entries})
    return {"hs": [_g(h) for h in hs], "leaves": leaves}
