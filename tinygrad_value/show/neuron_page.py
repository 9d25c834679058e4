"""The network page: the neuron-level drawing, and a click on a neuron shows its scalar graph.

``backprop_html(root, path, level="neuron")`` lands here. One self-contained file: the collapsed
SVG, each neuron's own scalar graph (first sample) as SVG, its numbers as JSON, a small script.
"""

from __future__ import annotations

import html as _html
import math
import re
from pathlib import Path

from ..engine.backward import topo_order
from ..engine.value import Value
from .names import Formatter, formatter
from .neuron_dot import draw_neurons, unit_ids
from .neurons import collapse, neuron_graph
from .page import fill, front, json_for_script, write_page
from .rundot import run_dot
from .viz import draw_dot, pipe


class NetworkPage:
    """The written page: ``html``, ``path`` (or None), ``neurons`` (how many boxes)."""

    def __init__(self, html: str, path: Path | None, neurons: int) -> None:
        self.html = html
        self.path = path
        self.neurons = neurons
        self.frames = neurons  # BackpropPage's attribute, so callers can treat both alike

    def _repr_html_(self) -> str:
        return (f'<iframe srcdoc="{_html.escape(self.html, quote=True)}" '
                'style="width:100%;height:720px;border:1px solid #e5e7eb" '
                'sandbox="allow-scripts"></iframe>')

    def __repr__(self) -> str:
        where = f"path={str(self.path)!r}, " if self.path else ""
        return f"NetworkPage({where}{self.neurons} neurons, {len(self.html)} characters)"


def _svg_only(text: str) -> str:
    text = re.sub(r"<!--.*?-->\n?", "", text, flags=re.DOTALL)
    start = text.find("<svg")
    return text[start:] if start >= 0 else text


def _scalar_svgs(ng, names: list[str], rankdir: str, f) -> list[str]:
    """Every neuron's scalar graph, laid out by one ``dot`` run (one process, many graphs)."""
    sources = []
    for i, name in enumerate(names):
        top = neuron_graph(ng, name)
        order = topo_order(top)
        g = draw_dot(top, rankdir=rankdir, fmt=f, ids={v: f"s{i}_{k}" for k, v in
                                                       enumerate(order)},
                     max_nodes=max(len(order), 1), title=f"{name}, sample 0")
        sources.append(g.source)
    out = run_dot("\n".join(sources), "svg").decode("utf-8")
    parts = [_svg_only(p) for p in out.split("<?xml") if "<svg" in p]
    if len(parts) != len(names):  # pragma: no cover - dot wrote something unexpected
        raise RuntimeError(f"dot returned {len(parts)} drawings for {len(names)} neurons")
    return parts


def _finite_text(f, x: float) -> str:
    return f(x) if math.isfinite(x) else str(x)


def network_html(root: Value, path: str | Path | None = None, title: str | None = None,
                 decimals: int = 4, fmt: Formatter = None, rankdir: str = "LR",
                 **ignored) -> NetworkPage:
    """Write (when ``path`` is given) and return the network page for root's graph.

    Reads the grads already in the graph (call ``backward()`` first); changes no ``.data`` or
    ``.grad``. Needs graphviz's ``dot``.
    """
    f = formatter(fmt, decimals)
    ng = collapse(root)
    ids = unit_ids(ng)
    names = list(ng.units)
    svg = _svg_only(pipe(draw_neurons(ng, rankdir=rankdir, fmt=f), "svg").decode("utf-8"))
    scalar = _scalar_svgs(ng, names, rankdir, f)
    neurons = {}
    for name, s in zip(names, scalar):
        u = ng.units[name]
        neurons[ids[name]] = {
            "name": name, "activation": u.activation, "z": _finite_text(f, u.z),
            "out": _finite_text(f, u.out), "grad": _finite_text(f, u.grad),
            "params": [[p.label, _finite_text(f, p.data), _finite_text(f, p.grad)]
                       for p in u.params],
            "svg": s,
        }
    n = ng.samples
    summary = (f"{len(names)} neurons in {len(ng.columns)} layers, {len(ng.inputs)} inputs"
               + (f", {n} samples (z and out are means, grads sums)" if n > 1 else "")
               + f"; root = {f(root.data)}")
    page = fill(front("network.html"),
        title=_html.escape(title or "The network, neuron by neuron"),
        summary=_html.escape(summary), svg=svg,
        data=json_for_script({"neurons": neurons}, ensure_ascii=False))
    out = None if path is None else write_page(path, page)
    return NetworkPage(page, out, len(names))
