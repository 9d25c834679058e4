"""One self-contained HTML page that steps through the forward and backward pass of a graph.

``backprop_html(root, "out/backprop.html")`` writes a single file: the graph as inline SVG (drawn
by graphviz's ``dot``), the steps as JSON, and a small script; no network, no server. Prev/Next,
the arrow keys and a slider walk through the frames of ``stepper.walkthrough``; the current node
is highlighted and its chain-rule arithmetic shown; gradients appear as they are computed;
clicking a node shows its gradient as the sum of its contributions.
"""

from __future__ import annotations

import html as _html
import json
import math
import re
from pathlib import Path
from string import Template

from ..engine.value import Value
from ..files import write_atomic
from . import html_template
from .stepper import Formatter, Walkthrough, chain_rule_line, forward_line
from .viz import DEFAULT_MAX_NODES, draw_dot, node_kind, pipe


class BackpropPage:
    """The written page: ``html`` (the text), ``path`` (where it was written, or None).

    Shows inline in Jupyter, isolated in an iframe so several pages in one notebook don't clash.
    """

    def __init__(self, html: str, path: Path | None, frames: int) -> None:
        self.html = html
        self.path = path
        self.frames = frames

    def _repr_html_(self) -> str:
        return (f'<iframe srcdoc="{_html.escape(self.html, quote=True)}" '
                'style="width:100%;height:720px;border:1px solid #e5e7eb" '
                'sandbox="allow-scripts"></iframe>')

    def __repr__(self) -> str:
        where = f"path={str(self.path)!r}, " if self.path else ""
        return f"BackpropPage({where}{self.frames} steps, {len(self.html)} characters)"


def json_for_script(obj, **dumps_options) -> str:
    """JSON that cannot end its <script> element early: <, > and & become \\u escapes.

    ``dumps_options`` go to ``json.dumps`` (NaN and infinity are refused: JSON has neither)."""
    text = json.dumps(obj, allow_nan=False, **dumps_options)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _finite(x: float):
    """JSON has no inf or nan: those travel as strings."""
    return x if math.isfinite(x) else str(x)


def _page_data(w: Walkthrough) -> dict:
    f, ids, names = w.format, w.ids, w.names
    frames = []
    for fr in w.frames:
        node = fr.node
        edges, targets = [], []
        if node is not None and node._fn is not None and fr.kind in ("forward", "backward"):
            edges = [f"{ids[node]}_in{k}" for k in range(len(node.children))] + [f"{ids[node]}_out"]
            targets = [ids[c] for c in node.children] if fr.kind == "backward" else []
        frames.append({
            "phase": fr.kind,
            "node": ids[node] if node is not None else None,
            "title": fr.title,
            "lines": fr.lines,
            "data": {ids[v]: f(x) for v, x in fr.data.items()},
            "grads": {ids[v]: f(x) for v, x in fr.grads.items()},
            "edges": edges,
            "targets": targets,
        })
    # every node's own forward line and its incoming contributions
    formulas = {}
    for step in w.forward:
        formulas[step.node] = forward_line(step, names, f)
    nodes = []
    for v in w.order:
        grad = w.grads[v]
        nodes.append({
            "id": ids[v],
            "name": names[v],
            "label": v.label,
            "op": v.op,
            "kind": node_kind(v, w.root),
            "data": f(v.data),
            "grad": f(grad),
            "data_value": _finite(v.data),
            "grad_value": _finite(grad),
            "formula": formulas.get(v, f"{names[v]} = {f(v.data)} (an input)"),
            "sum": w.gradient_sum(v),
            "contribs": [{"frame": k, "text": chain_rule_line(s, c, names, f)}
                         for k, s, c in w.received[v]],
        })
    return {"root": ids[w.root], "frames": frames, "nodes": nodes}


def _strip_xml_header(svg: str) -> str:
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg


def backprop_html(root: Value, path: str | Path | None = None, title: str | None = None,
                  source: str | None = None, decimals: int = 4, fmt: Formatter = None,
                  rankdir: str = "LR", max_nodes: int = DEFAULT_MAX_NODES) -> BackpropPage:
    """Write (when ``path`` is given) and return the stepper page for root's graph.

    Shows the numbers of one ``root.backward()`` without running it on the graph: no ``.data``
    or ``.grad`` changes. ``source`` is shown
    under the title (the CLI passes the expression). Needs graphviz's ``dot`` for the SVG.
    """
    w = Walkthrough(root, fmt, decimals)
    graph = draw_dot(root, rankdir=rankdir, decimals=decimals, fmt=fmt, max_nodes=max_nodes,
                     grad_edges=False, names=w.names, ids=w.ids, grads=w.grads)
    svg = _strip_xml_header(pipe(graph, "svg").decode("utf-8"))
    svg = re.sub(r"<!--.*?-->\n?", "", svg, flags=re.DOTALL)  # graphviz's comments: noise
    data = _page_data(w)
    page = Template(html_template.PAGE).substitute(
        title=_html.escape(title or "Backprop, step by step"),
        source=_html.escape(source or f"L = {w.names[root]}, {len(w.order)} values"),
        last=str(len(w.frames) - 1),
        css=html_template.CSS,
        svg=svg,
        data=json_for_script(data, ensure_ascii=False),
        js=html_template.JS,
    )
    out = None
    if path is not None:
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(out, page)
    return BackpropPage(page, out, len(w.frames))
