"""One self-contained HTML page that steps through the forward and backward pass of a graph.

``backprop_html(root, "out/backprop.html")`` writes a single file: the graph as inline SVG (drawn
by graphviz's ``dot``), the steps as JSON, and the stepper's script (``front/stepper.js``, which
the notebook widget shares); no network, no server. Prev/Next, the arrow keys and a slider walk
through the frames of ``stepper.walkthrough``; the current node is highlighted and its chain-rule
arithmetic shown; gradients appear as they are computed; clicking a node shows its gradient as
the sum of its contributions (or says it is not computed yet).

Two ways of doing rather than watching, both with every number computed in Python: a nudge
panel (pick a leaf and a step h: the graph shows the nudged forward pass, the panel ΔL beside
grad·h; ``nudge.py``), and, with ``quiz=True`` (or a ``Quiz``), a quiz mode that shows the
forward pass and asks the quiz's questions, checking the learner's numbers in the page against
the expected values and diagnoses of ``quiz_page.py``.
"""

from __future__ import annotations

import html as _html
import math
import re
from pathlib import Path
from typing import NamedTuple

from ..engine.value import Value
from .names import Formatter, shown_name
from .nudge import DEFAULT_H, nudge_data
from .page import fill, front, json_for_script, write_page
from .quiz import Quiz
from .quiz_page import quiz_data
from .stepper import Walkthrough, chain_rule_line, forward_line
from .viz import DEFAULT_MAX_NODES, check_root, draw_dot, node_kind, pipe

__all__ = ["BackpropPage", "backprop_html", "stepper_parts", "json_for_script"]

# every fill and outline the page draws, in the legend's order: (css class, what it means)
NODE_KEYS = {"input": "input", "param": "parameter", "const": "constant",
             "interior": "computed value", "output": "output L"}
STEP_KEYS = [("tv-op", "operation"), ("tv-current", "current step"),
             ("tv-target", "receives a gradient now"), ("tv-edge", "edge in this step"),
             ("tv-selected", "clicked node"), ("tv-pending", "not computed yet (?)")]


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


class StepperParts(NamedTuple):
    """What the page and the widget are made of: the markup, the step data, the walkthrough."""

    body: str  # front/stepper.html filled in: controls, panels, SVG, legend
    data: dict  # the frames and nodes the script reads
    walkthrough: Walkthrough


def _finite(x: float):
    """JSON has no inf or nan: those travel as strings."""
    return x if math.isfinite(x) else str(x)


def _page_data(w: Walkthrough) -> dict:
    f, ids, names = w.format, w.ids, w.names
    frames = []
    seed = 0
    for k, fr in enumerate(w.frames):
        node = fr.node
        edges, targets = [], []
        if fr.kind == "seed":
            seed = k
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
    formulas = {step.node: forward_line(step, names, f) for step in w.forward}
    nodes = []
    for v in w.order:
        grad = w.grads[v]
        definition = f"{names[v]} = " + (v._fn.formula([names[c] for c in v.children], v._arg)
                                         if v._fn is not None else "an input")
        nodes.append({
            "id": ids[v],
            "name": names[v],
            "title": shown_name(v, names),
            "label": v.label,
            "op": v.op,
            "kind": node_kind(v, w.root),
            "data": f(v.data),
            "grad": f(grad),
            "data_value": _finite(v.data),
            "grad_value": _finite(grad),
            "definition": definition,
            "formula": formulas.get(v, f"{names[v]} = {f(v.data)} (an input)"),
            "sum": w.gradient_sum(v),
            "contribs": [{"frame": k, "text": chain_rule_line(s, c, names, f),
                          "part": f"{f(c.contribution)} (from {names[s.node]})"}
                         for k, s, c in w.received[v]],
        })
    return {"root": ids[w.root], "seed": seed, "frames": frames, "nodes": nodes}


def legend(kinds: set[str]) -> str:
    """The legend's keys: the node kinds this graph has, then every mark a step can make."""
    keys = [(f"tv-{k}", text) for k, text in NODE_KEYS.items() if k in kinds] + STEP_KEYS
    return "\n".join(f'  <span class="tv-key {cls}">{_html.escape(text)}</span>'
                     for cls, text in keys)


def _svg(root: Value, w: Walkthrough, rankdir: str, decimals: int, fmt: Formatter,
         max_nodes: int) -> str:
    graph = draw_dot(root, rankdir=rankdir, decimals=decimals, fmt=fmt, max_nodes=max_nodes,
                     grad_edges=False, names=w.names, ids=w.ids, grads=w.grads)
    svg = pipe(graph, "svg").decode("utf-8")
    start = svg.find("<svg")
    svg = svg[start:] if start >= 0 else svg  # the XML header is not allowed inside HTML
    return re.sub(r"<!--.*?-->\n?", "", svg, flags=re.DOTALL)  # graphviz's comments: noise


def _quiz_quiet(data: dict, w: Walkthrough) -> dict:
    """The page data with the backward pass taken out, so the quiz's answers are not on show:
    the frames stop after the forward pass (where the page starts), nodes keep no gradients."""
    forward_end = len(w.forward)  # frames: start, one per forward step, then the backward
    data["frames"] = data["frames"][:forward_end + 1]
    data["start"] = forward_end
    for n in data["nodes"]:
        n.update(grad="?", grad_value=None, sum="", contribs=[])
    return data


def stepper_parts(root: Value, title: str | None = None, source: str | None = None,
                  decimals: int = 4, fmt: Formatter = None, rankdir: str = "LR",
                  max_nodes: int = DEFAULT_MAX_NODES, quiz: "bool | Quiz" = False,
                  nudges=DEFAULT_H) -> StepperParts:
    """The stepper's markup and data for root's graph; changes no ``.data`` or ``.grad``.

    ``nudges``: the step sizes h the nudge panel offers for each leaf (``None`` or ``()``: no
    panel). ``quiz``: ``True`` (a ``Quiz(root)``) or a ``Quiz`` of root's graph puts the page in
    quiz mode: the forward pass only, the quiz panel, and no nudges (they would give answers).
    """
    check_root(root, "backprop_html")
    if quiz is True:
        quiz = Quiz(root)
    elif quiz is not False and quiz is not None:
        if not isinstance(quiz, Quiz):
            raise TypeError(f"quiz must be True, False or a tv.Quiz of this graph, got "
                            f"{type(quiz).__name__}")
        if quiz.root is not root:
            raise ValueError("this Quiz was made for another graph: pass tv.Quiz(root, ...) "
                             "of the root you are drawing, or quiz=True")
    else:
        quiz = None
    w = Walkthrough(root, fmt, decimals)
    data = _page_data(w)
    panels = []
    if quiz is not None:
        data = _quiz_quiet(data, w)
        data["quiz"] = quiz_data(quiz, w.ids)
        panels.append(front("quiz.html"))
    elif nudges:
        data["nudges"] = nudge_data(w, nudges)
        panels.append(front("nudge.html"))
    svg = _svg(root, w, rankdir, decimals, fmt, max_nodes)
    body = fill(front("stepper.html"),
                title=_html.escape(title or ("Backprop quiz" if quiz else
                                             "Backprop, step by step")),
                source=_html.escape(source or f"L = {w.names[root]}, {len(w.order)} values"),
                last=str(len(data["frames"]) - 1), svg=svg, panels="\n".join(panels),
                legend=legend({node_kind(v, root) for v in w.order}))
    return StepperParts(body, data, w)


def backprop_html(root: Value, path: str | Path | None = None, title: str | None = None,
                  source: str | None = None, decimals: int = 4, fmt: Formatter = None,
                  rankdir: str = "LR", max_nodes: int = DEFAULT_MAX_NODES,
                  level: str = "value", quiz: "bool | Quiz" = False,
                  nudges=DEFAULT_H, optimizer_state=None) -> BackpropPage:
    """Write (when ``path`` is given) and return the stepper page for root's graph.

    Shows the numbers of one ``root.backward()`` without running it on the graph: no ``.data``
    or ``.grad`` changes. ``source`` is shown under the title (the CLI passes the expression).
    Needs graphviz's ``dot`` for the SVG. ``level="neuron"`` writes the network page instead
    (``show.neuron_page``: one box per neuron of an ``nn`` model, a click shows that neuron's
    scalar graph; it reads the grads already in the graph); there ``optimizer_state``
    (``nn.adam_state(opt)``: Adam's m, v and step per parameter) joins each parameter's numbers.

    ``nudges`` (step sizes, default 1, 0.1, 0.01, 0.001; ``None`` for none) adds the nudge
    panel; ``quiz=True`` or ``quiz=tv.Quiz(root, ...)`` writes the quiz page instead of the
    walkthrough (see ``stepper_parts``).
    """
    if level == "neuron":
        from .neuron_page import network_html

        return network_html(root, path, title=title, decimals=decimals, fmt=fmt, rankdir=rankdir,
                            optimizer_state=optimizer_state)
    if level != "value":
        raise ValueError(f"level must be 'value' or 'neuron', got {level!r}")
    if optimizer_state is not None:
        raise ValueError("optimizer_state is shown on the network page: pass level='neuron' "
                         "(the value-level page has no per-parameter table)")
    parts = stepper_parts(root, title, source, decimals, fmt, rankdir, max_nodes, quiz, nudges)
    page = fill(front("page.html"), title=_html.escape(title or "Backprop, step by step"),
                css=front("stepper.css"), body=parts.body,
                data=json_for_script(parts.data, ensure_ascii=False), js=front_js())
    out = write_page(path, page) if path is not None else None
    return BackpropPage(page, out, len(parts.data["frames"]))


def front_js() -> str:
    """The stepper's script with its panels' (nudges, quiz): one copy for page and widget."""
    return front("stepper.js") + front("nudge.js") + front("quiz.js")
