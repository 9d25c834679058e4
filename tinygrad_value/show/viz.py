"""Draw a graph of Values with graphviz: a record per Value, a small node per op, gradients as ink.

``draw_dot(root)`` returns a ``graphviz.Digraph``; ``render_graph(root, "out/graph.svg")``
writes SVG/PNG/PDF in one call. The ``graphviz`` package is imported only here, and only when
drawing, so ``import tinygrad_value`` stays instant.

How to read a drawing: each Value is a box ``label | data | grad``; inputs are blue, parameters
(leaves with a dotted label such as ``layer1.neuron0.w[0]``) amber, unlabelled constants grey,
the output green with a thick border. Edges run in data-flow direction; the thicker and redder an
edge, the larger the gradient flowing back along it (grey: zero). Values whose label has a
dotted prefix are grouped in a cluster named by the prefix (``layer1.neuron0``), nested by dots.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable
from pathlib import Path

from ..engine.backward import local_grads, topo_order
from ..engine.value import Value
from ..files import write_atomic
from .names import Formatter, formatter, node_ids
from .rundot import DotError, GraphvizNotFound, run_dot

__all__ = ["draw_dot", "render_graph", "svg", "GraphTooLarge", "GraphvizNotFound", "DotError",
           "run_dot", "check_root"]

DEFAULT_MAX_NODES = 400  # beyond this a drawing is unreadable and graphviz slow
INLINE_MAX_NODES = 150  # Jupyter draws a Value inline only below this size

STYLES = {  # node kind -> graphviz attributes
    "input": {"style": "filled", "fillcolor": "#dbeafe"},
    "param": {"style": "filled", "fillcolor": "#fde68a"},
    "const": {"style": "filled", "fillcolor": "#f3f4f6", "fontcolor": "#4b5563"},
    "interior": {"style": "filled", "fillcolor": "#ffffff"},
    "output": {"style": "filled", "fillcolor": "#bbf7d0", "penwidth": "2.5"},
}


class GraphTooLarge(ValueError):
    """The graph has more Values than ``max_nodes``: drawing it would be unreadable and slow."""


def _graphviz():
    try:
        import graphviz
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("drawing graphs needs the graphviz Python package: pip install graphviz "
                          "(or pip install 'tinygrad-value[viz]')") from None
    return graphviz


def check_root(root: object, who: str = "draw_dot") -> None:
    """A clear error when ``root`` is not one Value (a list of them is the usual slip)."""
    if isinstance(root, Value):
        return
    if isinstance(root, (list, tuple)):
        hint = (f"pass one Value: {who}(values[0], ...), or draw them together with "
                f"{who}(tv.sum(values), ...)")
        if len(root) == 1:
            hint = f"pass the Value itself, not a list: {who}(v, ...) instead of {who}([v], ...)"
        raise TypeError(f"{who} draws the graph of one Value, got a {type(root).__name__} of "
                        f"{len(root)} items; {hint}")
    raise TypeError(f"{who} draws the graph of one Value, got {type(root).__name__}; build a "
                    "tv.Value (for example v = tv.Value(2.0) * 3) and pass that")


# --- what to draw --------------------------------------------------------------------------------


def count_values(root: Value, limit: int) -> int:
    """The number of Values in root's graph, but stops counting once past ``limit``."""
    seen = {root}
    stack = [root]
    while stack and len(seen) <= limit:
        for child in stack.pop().children:
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return len(seen)


def check_size(root: Value, max_nodes: int) -> None:
    n = count_values(root, max_nodes)
    if n > max_nodes:
        raise GraphTooLarge(
            f"this graph has more than {max_nodes} Values (max_nodes={max_nodes}); a drawing that "
            "big is unreadable and slow to lay out. Draw a smaller piece (one neuron's output, a "
            "network with fewer inputs or units, a single sample instead of a batch loss), or pass "
            "a larger max_nodes= if you really want it.")


def node_kind(v: Value, root: Value) -> str:
    """'output', 'param' (a leaf with a dotted label), 'input', 'const' or 'interior'."""
    if v is root:
        return "output"
    if v._fn is not None:
        return "interior"
    if cluster_prefix(v.label):
        return "param"
    return "input" if v.label else "const"


def cluster_prefix(label: str) -> str | None:
    """``'layer1.neuron3'`` for ``'layer1.neuron3.w[0]'``; None without a dotted prefix."""
    if "." not in label:
        return None
    try:
        float(label)
        return None  # a number such as '0.5' is not a path
    except ValueError:
        pass
    prefix = label.rsplit(".", 1)[0]
    return prefix if all(prefix.split(".")) else None


def clusters(order: list[Value]) -> dict[Value, str]:
    """Each clustered Value's cluster name.

    A Value whose label has a dotted prefix belongs to the cluster the prefix names. Walking
    down from each clustered interior node, unlabelled interior nodes are claimed by that
    cluster until a node with a label of its own, or a leaf, is reached; unlabelled leaves
    (constants) stay outside.
    """
    found: dict[Value, str] = {}
    for v in order:
        prefix = cluster_prefix(v.label)
        if prefix:
            found[v] = prefix
    for v in reversed(order):  # from the output down, so outer modules claim first
        name = found.get(v)
        if name is None or v._fn is None:
            continue
        stack = list(v.children)
        while stack:
            c = stack.pop()
            if c in found or c.label or c._fn is None:
                continue
            found[c] = name
            stack.extend(c.children)
    return found


# --- drawing ------------------------------------------------------------------------------------


def escape_record(text: str, limit: int = 40) -> str:
    """Text made safe inside a graphviz record label: ``\\ { } | < > "`` are backslash-escaped."""
    text = " ".join(str(text).split())  # newlines and tabs would break the record
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    out = []
    for ch in text:
        if ch in '\\{}|<>"':
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def escape_quoted(text: str, limit: int = 80) -> str:
    """Text made safe inside a quoted DOT string (a tooltip): ``\\`` and ``"`` escaped."""
    text = " ".join(str(text).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.replace("\\", "\\\\").replace('"', '\\"')


_SAFE_CLUSTER = re.compile(r"[\w.\[\]]+")


def escape_label(text: str, limit: int = 60) -> str:
    """Text for a graphviz ``label=`` attribute that graphviz shows literally: never HTML-like
    (``<B>w</B>``), and a backslash is a backslash (``\\N`` would expand to the node name)."""
    text = " ".join(str(text).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.replace("\\", "\\\\")


def _ink(g: float, biggest: float) -> dict[str, str]:
    """Edge attributes for a gradient g: width and redness grow with |g| / the largest |g|."""
    if not math.isfinite(g):
        return {"color": "#7c3aed", "penwidth": "3", "tooltip": f"gradient {g}"}
    t = 0.0 if biggest <= 0 else min(abs(g) / biggest, 1.0)
    if t == 0.0:
        return {"color": "#c0c4cc", "penwidth": "1", "tooltip": "gradient 0"}
    grey, red = (156, 163, 175), (220, 38, 38)
    rgb = "".join(f"{round(a + (b - a) * t):02x}" for a, b in zip(grey, red))
    return {"color": "#" + rgb, "penwidth": f"{1 + 3 * t:.2f}", "tooltip": f"gradient {g:.6g}"}


def draw_dot(root: Value, rankdir: str = "LR", decimals: int = 4, fmt: Formatter = None,
             max_nodes: int = DEFAULT_MAX_NODES, cluster: bool = True, grad_edges: bool = True,
             names: dict[Value, str] | None = None, title: str | None = None,
             ids: dict[Value, str] | None = None, grads: dict[Value, float] | None = None,
             level: str = "value", expand=()):
    """A ``graphviz.Digraph`` of root's graph.

    One record per Value (``label | data | grad``, numbers with ``decimals`` places or ``fmt``,
    a format string like ``"{:.2e}"`` or a callable), one small node per op, edges in data-flow
    direction. Leaves, parameters and the output are filled differently; with ``grad_edges``
    each edge's colour and width show the gradient flowing back along it (``local · upstream``).
    ``rankdir`` is ``"LR"`` or ``"TB"`` (also ``RL``, ``BT``). Values are grouped into clusters by
    dotted labels (``cluster=False`` turns that off). ``names`` shows a name for unlabelled
    Values. Node ids are ``ids[v]`` when given (the HTML page passes its walkthrough's), else
    ``v0, v1, ...`` in topological order; op nodes are ``v3_op``, edges into an op node
    ``v3_in0, v3_in1, ...`` and from it ``v3_out``. ``grads`` shows these gradients instead of
    ``.grad`` (the page passes its walkthrough's). Reads the graph, never changes it.

    Raises ``GraphTooLarge`` (a ``ValueError``) past ``max_nodes`` Values, ``TypeError`` when
    root is not a Value.

    ``level="neuron"`` draws a graph built by ``nn`` modules with one box per neuron instead
    (``show.neuron_dot``; ``expand`` names neurons to draw as their scalar graph).
    """
    check_root(root)
    if level != "value":
        return _other_level(root, level, rankdir=rankdir, decimals=decimals, fmt=fmt,
                            title=title, grad_edges=grad_edges, expand=expand)
    graphviz = _graphviz()
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"rankdir must be 'LR', 'TB', 'RL' or 'BT', got {rankdir!r}")
    check_size(root, max_nodes)
    f: Callable[[float], str] = formatter(fmt, decimals)
    order = topo_order(root)
    if ids is None:
        ids = node_ids(order)
    elif any(v not in ids for v in order):
        raise ValueError("ids= must give an id to every Value in root's graph")
    where = clusters(order) if cluster else {}
    if grads is None:
        grads = {v: v.grad for v in order}
    names = names or {}
    horizontal = rankdir in ("LR", "RL")

    g = graphviz.Digraph("tinygrad_value", graph_attr={"rankdir": rankdir, "fontname": "Helvetica"},
                         node_attr={"fontname": "Helvetica", "fontsize": "11"},
                         edge_attr={"arrowsize": "0.6"})
    if title:
        g.attr(label=title, labelloc="t", fontsize="14")
    groups: dict[str, object] = {}

    def holder(v: Value):
        name = where.get(v)
        if name is None:
            return g
        if name not in groups:
            groups[name] = cluster_graph(name, "#6b7280")
        return groups[name]

    def cluster_graph(name: str, color: str):
        # a label from the user is text, never markup: escaped like every other label; a name
        # that is not plain letters, digits, dots and [] gets a numbered graph id instead
        ident = name if _SAFE_CLUSTER.fullmatch(name) else f"#{len(groups)}"
        return graphviz.Digraph(
            name="cluster_" + ident,
            graph_attr={"label": graphviz.nohtml(escape_label(name)), "style": "rounded,dashed",
                        "color": color, "fontsize": "10", "labeljust": "l",
                        "fontname": "Helvetica"})

    # edges: into an op node, carrying local · upstream for each child; out of it, the node's
    # grad. The local derivatives are only needed to ink the edges (scalar_math never raises).
    edges = []
    for v in order:
        fn = v._fn
        if fn is None:
            continue
        children = v.children
        locals_ = local_grads(v) if grad_edges else (0.0,) * len(children)
        for k, (c, local) in enumerate(zip(children, locals_)):
            edges.append((ids[c], ids[v] + "_op", f"{ids[v]}_in{k}", float(local) * grads[v]))
        edges.append((ids[v] + "_op", ids[v], f"{ids[v]}_out", grads[v]))
    biggest = max((abs(e[3]) for e in edges if math.isfinite(e[3])), default=0.0)

    for v in order:
        kind = node_kind(v, root)
        name = names.get(v, "")
        # an expression label gets a short name (n1) elsewhere: show both, once, here
        shown = f"{name} = {v.label}" if name and v.label and name != v.label else \
            v.label or name
        fields = [escape_record(shown), f"data {escape_record(f(v.data))}",
                  f"grad {escape_record(f(grads[v]))}"]
        label = " | ".join(fields)
        if horizontal:
            label = "{ " + label + " }"
        attrs = dict(STYLES[kind])
        attrs["tooltip"] = escape_quoted(f"{kind} {shown}".strip())
        holder(v).node(ids[v], graphviz.nohtml(label), shape="record", id=ids[v], **attrs)
        if v._fn is not None:
            holder(v).node(ids[v] + "_op", graphviz.nohtml(v.op), id=ids[v] + "_op",
                           shape="ellipse", style="filled", fillcolor="#e5e7eb", fontsize="10",
                           width="0.3", height="0.3", margin="0.04")
    for tail, head, edge_id, grad in edges:
        attrs = _ink(grad, biggest) if grad_edges else {"color": "#6b7280"}
        g.edge(tail, head, id=edge_id, **attrs)

    # attach clusters innermost first, each into its dotted parent (layer1.neuron3 into layer1)
    for name in list(groups):
        parts = name.split(".")
        for i in range(1, len(parts)):
            parent = ".".join(parts[:i])
            if parent not in groups:
                groups[parent] = cluster_graph(parent, "#9ca3af")
    for name in sorted(groups, key=lambda n: -n.count(".")):
        parent = name.rsplit(".", 1)[0] if "." in name else None
        (groups[parent] if parent else g).subgraph(groups[name])
    return g


def _other_level(root: Value, level: str, **options):
    if level != "neuron":
        raise ValueError(f"level must be 'value' (one box per Value) or 'neuron' (one box per "
                         f"neuron of an nn model), got {level!r}")
    from .neuron_dot import draw_neurons

    return draw_neurons(root, **options)


# --- files ----------------------------------------------------------------------------------


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, data)


def pipe(graph, fmt: str, dot_path: Path | None = None, timeout: float | None = None) -> bytes:
    """Lay the graph out with ``run_dot``; without ``dot``, ``GraphvizNotFound`` (and the DOT
    text written to ``dot_path`` when given)."""
    try:
        return run_dot(graph.source, fmt, **({} if timeout is None else {"timeout": timeout}))
    except GraphvizNotFound as e:
        where = ""
        if dot_path is not None:
            _write(dot_path, graph.source.encode())
            where = f" The DOT source was written to {dot_path};"
        raise GraphvizNotFound(
            f"{e}{where} the DOT text is also in draw_dot(root).source "
            "(paste it into any graphviz viewer).", graph.source, dot_path) from None


def render_graph(root: Value, path: str | os.PathLike, **draw_options) -> Path:
    """Draw root's graph into ``path`` in one call; the format comes from the suffix
    (``.svg``, ``.png``, ``.pdf``, or ``.dot``/``.gv`` for the DOT text itself).

    Without graphviz's ``dot`` program the DOT text is written beside it (``graph.dot``) and
    ``GraphvizNotFound`` explains how to install graphviz. Returns the path written.
    """
    check_root(root, "render_graph")
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("svg", "png", "pdf", "dot", "gv"):
        raise ValueError(f"cannot tell the format from {path.name!r}: use a name ending in "
                         ".svg, .png, .pdf or .dot")
    graph = draw_dot(root, **draw_options)
    if fmt in ("dot", "gv"):
        _write(path, graph.source.encode())
        return path
    _write(path, pipe(graph, fmt, dot_path=path.with_suffix(".dot")))
    return path


def svg(root: Value, **draw_options) -> str:
    """root's graph as SVG text (for embedding)."""
    return pipe(draw_dot(root, **draw_options), "svg").decode("utf-8")


def repr_svg(value: Value) -> str | None:
    """SVG for Jupyter's inline display; None (so the plain repr shows) when the graph is large
    or graphviz is unavailable."""
    try:
        return svg(value, max_nodes=INLINE_MAX_NODES)
    except (ImportError, GraphTooLarge, GraphvizNotFound, DotError):
        return None
