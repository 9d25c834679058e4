"""Draw a graph at the neuron level: one box per neuron, layers as columns, gradients as ink.

``draw_dot(root, level="neuron")`` lands here. Each box reads ``name · activation | z | out |
grad`` (z the weighted sum, out the activation of z, grad = d root / d out); inputs are blue
boxes in the first column, the rest of the graph (the loss) one green box in the last. An edge
from neuron a to neuron b carries Σ ∂(b's Values)/∂(a's output) · upstream, the part of a's
gradient that comes back through b; its width and redness grow with its magnitude, and a box's
border with |grad|. ``expand=["layer1.neuron3"]`` draws that neuron's own scalar graph (its
first sample) in place of its box.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

from ..engine.value import Value
from .names import Formatter, formatter
from .neurons import ROOT, NeuronGraph, collapse, neuron_graph
from .viz import _graphviz, _ink, draw_dot, escape_quoted, escape_record

UNIT_STYLE = {"style": "filled", "fillcolor": "#fde68a", "shape": "record"}
INPUT_STYLE = {"style": "filled", "fillcolor": "#dbeafe", "shape": "record"}
ROOT_STYLE = {"style": "filled", "fillcolor": "#bbf7d0", "shape": "record", "penwidth": "2.5"}


def unit_ids(ng: NeuronGraph) -> dict[str, str]:
    """Graphviz ids: ``neuron0, neuron1, ...`` for units, ``input0, ...`` for inputs, ``loss``."""
    ids = {name: f"neuron{i}" for i, name in enumerate(ng.units)}
    ids.update({key: f"input{i}" for i, key in enumerate(ng.inputs)})
    ids[ROOT] = "loss"
    return ids


def _record(fields: list[str], horizontal: bool) -> str:
    label = " | ".join(fields)
    return "{ " + label + " }" if horizontal else label


def draw_neurons(root: Value | NeuronGraph, rankdir: str = "LR", decimals: int = 4,
                 fmt: Formatter = None, expand: Iterable[str] = (), title: str | None = None,
                 grad_edges: bool = True, **ignored):
    """A ``graphviz.Digraph`` of root's graph collapsed to neurons (see ``neurons.collapse``).

    With several samples in the graph a box shows the mean z and out and the summed grad.
    ``expand`` names neurons drawn as their scalar graph (``neurons.neuron_graph``) instead.
    Other ``draw_dot`` options (``max_nodes``, ``cluster``) do not apply and are ignored: the
    collapsed drawing has one box per neuron, whatever the number of Values.
    """
    graphviz = _graphviz()
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"rankdir must be 'LR', 'TB', 'RL' or 'BT', got {rankdir!r}")
    ng = root if isinstance(root, NeuronGraph) else collapse(root)
    expand = list(expand) if not isinstance(expand, str) else [expand]
    for name in expand:
        if name not in ng.units:
            raise ValueError(f"expand: no neuron {name!r}; the neurons are named like "
                             f"{next(iter(ng.units))!r}")
    f: Callable[[float], str] = formatter(fmt, decimals)
    horizontal = rankdir in ("LR", "RL")
    ids = unit_ids(ng)
    n = ng.samples
    many = n > 1
    # Each box's edges keep the order they are written in (below: neuron0, neuron1, ...), and a
    # short crossing minimisation (mclimit, no second pass over clusters) leaves each column
    # stacked in that order; a full one rotated moons' columns to neuron8-15 above neuron0-7.
    g = graphviz.Digraph("neurons", graph_attr={"rankdir": rankdir, "fontname": "Helvetica",
                                                "ranksep": "1.2", "nodesep": "0.08",
                                                "ordering": "out", "mclimit": "0.01",
                                                "remincross": "false"},
                         node_attr={"fontname": "Helvetica", "fontsize": "11"},
                         edge_attr={"arrowsize": "0.5"})
    if title or many:
        g.attr(label=title or f"{n} samples: z and out are means, grad is summed",
               labelloc="t", fontsize="14")
    biggest = max((abs(x) for x in ng.edges.values() if math.isfinite(x)), default=0.0)
    unit_biggest = max((abs(u.grad) for u in ng.units.values() if math.isfinite(u.grad)),
                       default=0.0)

    with g.subgraph(name="cluster_inputs", graph_attr={"label": "inputs", "style": "rounded,dashed",
                                                        "color": "#9ca3af", "fontsize": "10"}) as s:
        for key, leaves in ng.inputs.items():
            data = sum(v.data for v in leaves) / len(leaves)
            grad = sum(v.grad for v in leaves)
            s.node(ids[key], graphviz.nohtml(_record(
                [escape_record(key), f"data {escape_record(f(data))}",
                 f"grad {escape_record(f(grad))}"], horizontal)),
                id=ids[key], tooltip=escape_quoted(f"input {key}"), **INPUT_STYLE)

    heads: dict[str, str] = {}  # where edges into / out of an expanded unit attach
    tails: dict[str, dict[str, str]] = {}
    for col, (layer, names) in enumerate(ng.columns):
        with g.subgraph(name=f"cluster_col{col}", graph_attr={
                "label": layer or "neurons", "style": "rounded,dashed", "color": "#9ca3af",
                "fontsize": "10"}) as s:
            for name in names:
                unit = ng.units[name]
                if name in expand:
                    heads[name], tails[name] = _expanded(s, ng, name, ids[name], f, rankdir)
                    continue
                ink = _ink(unit.grad, unit_biggest)
                s.node(ids[name], graphviz.nohtml(_record(
                    [escape_record(f"{name} · {unit.activation}", 60),
                     f"z {escape_record(f(unit.z))}", f"out {escape_record(f(unit.out))}",
                     f"grad {escape_record(f(unit.grad))}"], horizontal)),
                    id=ids[name], tooltip=escape_quoted(f"neuron {name} ({len(unit.params)} "
                                                        "parameters); click to expand"),
                    color=ink["color"], penwidth=ink["penwidth"], **{"class": "neuron"},
                    **UNIT_STYLE)
    rest = ng.root not in ng.owner
    if rest:
        r = ng.root
        g.node(ids[ROOT], graphviz.nohtml(_record(
            [escape_record(r.label or "loss"), f"data {escape_record(f(r.data))}",
             f"grad {escape_record(f(r.grad))}"], horizontal)), id=ids[ROOT],
            tooltip="the rest of the graph (the loss)", **ROOT_STYLE)
    place = {ROOT: (len(ng.columns), 0)}
    place.update({name: (col, i) for col, (_layer, names) in enumerate(ng.columns)
                  for i, name in enumerate(names)})
    for (source, target), grad in sorted(ng.edges.items(), key=lambda e: place[e[0][1]]):
        if target == ROOT and not rest:
            continue
        tail = heads.get(source, ids[source])
        head = tails.get(target, {}).get(source) or heads.get(target, ids[target])
        attrs = _ink(grad, biggest) if grad_edges else {"color": "#6b7280"}
        g.edge(tail, head, id=f"{ids[source]}-{ids[target]}", **attrs)
    return g


def _expanded(parent, ng: NeuronGraph, name: str, uid: str, f, rankdir: str):
    """Draw neuron ``name``'s scalar graph as a cluster inside ``parent``; returns the id of its
    output node and, per source, the id of the stand-in leaf that edge should enter."""
    top = neuron_graph(ng, name)
    from ..engine.backward import topo_order

    order = topo_order(top)
    ids = {v: f"{uid}_v{i}" for i, v in enumerate(order)}
    sub = draw_dot(top, rankdir=rankdir, fmt=f, cluster=False, ids=ids,
                   max_nodes=max(len(order), 1), grad_edges=True)
    sub.name = f"cluster_{uid}"
    sub.graph_attr.update({"label": f"{name} (expanded)", "style": "rounded", "color": "#d97706"})
    sub.graph_attr.pop("rankdir", None)
    parent.subgraph(sub)
    entries = {}
    for v in order:
        if v._fn is None and not v.label.startswith(name + "."):
            entries[v.label] = ids[v]
    units = {n: n for n in ng.units}
    attach = {}
    for key in list(ng.inputs) + list(units):
        label = key if key in ng.inputs else None
        if label is None:
            outs = ng.units[key].outputs
            label = outs[0].label if outs and outs[0].label else None
        if label in entries:
            attach[key] = entries[label]
    return ids[top], attach
