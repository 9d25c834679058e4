"""The network page: the neuron-level drawing, and a click on a neuron shows its scalar graph.

``backprop_html(root, path, level="neuron")`` lands here. One self-contained file: the collapsed
SVG, each neuron's own scalar graph (first sample) as SVG, its numbers as JSON, and the script
``front/neurons.js``, which ``StepperWidget(root, level="neuron")`` shares (``network_parts``
makes the markup and data of both). ``optimizer_state`` adds columns to each neuron's parameter
table: ``nn.adam_state(opt)`` gives Adam's m, v and the step its last update took.
"""

from __future__ import annotations

import html as _html
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

from ..engine.backward import topo_order
from ..engine.value import Value
from .names import Formatter, formatter
from .neuron_dot import draw_neurons, unit_ids
from .neurons import NeuronGraph, collapse, neuron_graph
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
    """These neurons' scalar graphs, laid out by one ``dot`` run (one process, many graphs).
    Node ids are ``s<unit number>_<k>``, the same whichever neurons are drawn together."""
    sources = []
    number = {name: i for i, name in enumerate(ng.units)}
    for name in names:
        i = number[name]
        top = neuron_graph(ng, name)
        order = topo_order(top)
        g = draw_dot(top, rankdir=rankdir, fmt=f, ids={v: f"s{i}_{k}" for k, v in
                                                       enumerate(order)},
                     max_nodes=max(len(order), 1), title=f"{name}, sample 0")
        sources.append(g.source)
    out = run_dot("\n".join(sources), "svg").decode("utf-8")  # one way, with a time limit
    parts = [_svg_only(p) for p in out.split("<?xml") if "<svg" in p]
    if len(parts) != len(names):  # pragma: no cover - dot wrote something unexpected
        raise RuntimeError(f"dot returned {len(parts)} drawings for {len(names)} neurons")
    return parts


def _finite_text(f, x: float) -> str:
    return f(x) if math.isfinite(x) else str(x)


class NetworkParts(NamedTuple):
    """What the page and the widget are made of: the markup, the data, the collapsed graph."""

    body: str  # front/neurons.html filled in: title, summary, the collapsed SVG, the panel
    data: dict  # {"level": "neuron", "columns": [...], "neurons": {box id: numbers and SVG}}
    graph: NeuronGraph


def _state_columns(state) -> list[str]:
    """The optimizer-state columns: the keys of the mapping's entries, in first-seen order."""
    if state is None:
        return []
    if not isinstance(state, Mapping):
        raise TypeError(f"optimizer_state must map parameter Values to {{column: number}} "
                        f"(nn.adam_state(opt) does), got {type(state).__name__}")
    columns: list[str] = []
    for p, entry in state.items():
        if not isinstance(p, Value) or not isinstance(entry, Mapping):
            raise TypeError("optimizer_state must map parameter Values to {column: number} "
                            f"(nn.adam_state(opt) does); got an entry {type(p).__name__} -> "
                            f"{type(entry).__name__}")
        columns += [str(c) for c in entry if str(c) not in columns]
    return columns


def _state_text(x) -> str:
    # 4 significant digits: Adam's v is often ~1e-6, fixed decimals would show 0.0000; a zero
    # step is -0.0 when the update subtracted 0, which a learner should read as 0
    return f"{x + 0.0:.4g}"


def network_parts(root: Value, title: str | None = None, decimals: int = 4,
                  fmt: Formatter = None, rankdir: str = "LR",
                  optimizer_state: Mapping | None = None,
                  scalar_graphs: bool = True) -> NetworkParts:
    """The network view's markup and data for root's graph; changes no ``.data`` or ``.grad``.

    ``optimizer_state``: ``{parameter Value: {column: number}}`` (``nn.adam_state(opt)``), shown
    beside each parameter's data and grad (4 significant digits); parameters it lacks show blanks.
    ``scalar_graphs=False`` leaves every neuron's ``svg`` None, to be drawn when asked for
    (``neuron_svg``): the widget's way, since they are most of the time and size (a 64-32-10
    network's 42 drawings take seconds and megabytes).
    """
    f = formatter(fmt, decimals)
    columns = _state_columns(optimizer_state)
    ng = collapse(root)
    ids = unit_ids(ng)
    names = list(ng.units)
    svg = _svg_only(pipe(draw_neurons(ng, rankdir=rankdir, fmt=f), "svg").decode("utf-8"))
    scalar = _scalar_svgs(ng, names, rankdir, f) if scalar_graphs else [None] * len(names)
    neurons = {}
    for name, s in zip(names, scalar):
        u = ng.units[name]
        params = []
        for p in u.params:
            entry = optimizer_state.get(p, {}) if columns else {}
            params.append([p.label, _finite_text(f, p.data), _finite_text(f, p.grad)]
                          + [_state_text(entry[c]) if c in entry else "" for c in columns])
        neurons[ids[name]] = {
            "name": name, "activation": u.activation, "z": _finite_text(f, u.z),
            "out": _finite_text(f, u.out), "grad": _finite_text(f, u.grad),
            "params": params, "svg": s,
        }
    n = ng.samples
    summary = (f"{len(names)} neurons in {len(ng.columns)} layers, {len(ng.inputs)} inputs"
               + (f", {n} samples (z and out are means, grads sums)" if n > 1 else "")
               + f"; root = {f(root.data)}")
    note = ("The optimizer's state per parameter: " + ", ".join(columns)
            + (" (for Adam: m and v are its moment estimates, step the change its last update "
               "made)" if {"m", "v", "step"} <= set(columns) else "")) if columns else ""
    body = fill(front("neurons.html"), title=_html.escape(title or "The network, neuron by neuron"),
                summary=_html.escape(summary), svg=svg, state_note=_html.escape(note))
    data = {"level": "neuron", "columns": ["data", "grad"] + columns, "neurons": neurons}
    return NetworkParts(body, data, ng)


def neuron_svg(ng: NeuronGraph, name: str, decimals: int = 4, fmt: Formatter = None,
               rankdir: str = "LR") -> str:
    """One neuron's scalar graph as SVG, exactly as the page embeds it."""
    return _scalar_svgs(ng, [name], rankdir, formatter(fmt, decimals))[0]


def network_html(root: Value, path: str | Path | None = None, title: str | None = None,
                 decimals: int = 4, fmt: Formatter = None, rankdir: str = "LR",
                 optimizer_state: Mapping | None = None, **ignored) -> NetworkPage:
    """Write (when ``path`` is given) and return the network page for root's graph.

    Reads the grads already in the graph (call ``backward()`` first); changes no ``.data`` or
    ``.grad``. Needs graphviz's ``dot``. ``optimizer_state``: see ``network_parts``.
    """
    parts = network_parts(root, title, decimals, fmt, rankdir, optimizer_state)
    page = fill(front("network.html"),
                title=_html.escape(title or "The network, neuron by neuron"),
                css=front("neurons.css"), body=parts.body,
                data=json_for_script(parts.data, ensure_ascii=False), js=front("neurons.js"))
    out = write_page(path, page) if path is not None else None
    return NetworkPage(page, out, len(parts.graph.units))
