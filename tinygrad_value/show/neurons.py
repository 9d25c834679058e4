"""A scalar graph collapsed to its neurons, read from the labels: who owns which Value.

A *neuron* is the dotted prefix of a parameter's label: ``layer1.neuron3.w[0]`` and
``layers.0.neurons.3.w.1`` belong to ``layer1.neuron3`` and ``layers.0.neurons.3``. Its *layer* is
that prefix without its last part (``layer1``, ``layers.0``). No class is special-cased: any graph
whose parameters carry such labels collapses, whatever module built it.

Ownership, children before parents: a parameter leaf is owned by its neuron; an interior Value
labelled ``<neuron>.out`` (or ``<neuron>``) is that neuron's output; an unlabelled interior Value
is owned by a neuron when every owned child it reads (outputs of other neurons excepted) belongs
to that one neuron. A neuron's *region* is what lies below its outputs; owned Values outside it (an
L2 term ``p * p``) and everything else (the loss) are the *rest*. Unlabelled leaves read by a
region are the network's *inputs*, keyed by the parameter they meet (``w[0]`` → input 0).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..engine.backward import local_grads, topo_order
from ..engine.value import Value

_PATH = re.compile(r"^(?P<owner>.+)\.(?P<name>[A-Za-z_]\w*)(?P<index>(?:\[\d+\]|\.\d+)*)$")
ROOT = "@root"  # the key of the rest of the graph (the loss) in ``NeuronGraph.edges``


def split_label(label: str) -> tuple[str, str, tuple[int, ...]] | None:
    """``('layer1.neuron3', 'w', (0,))`` for ``'layer1.neuron3.w[0]'``; None for a plain name."""
    m = _PATH.match(label)
    if m is None:
        return None
    index = tuple(int(i) for i in re.findall(r"\d+", m.group("index")))
    return m.group("owner"), m.group("name"), index


def layer_of(neuron: str) -> str:
    """``'layer1'`` for ``'layer1.neuron3'``, ``'layers.0'`` for ``'layers.0.neurons.3'``."""
    parts = split_label(neuron)
    return parts[0] if parts else ""


@dataclass
class Unit:
    """One neuron: its name, layer, parameters and, per sample, its output and pre-activation.

    ``activation`` is the op of the output (``relu``, ``tanh``, ...) when that op reads one
    Value of the same neuron (the weighted sum ``z``), else ``linear`` (the output is ``z``).
    """

    name: str
    layer: str
    params: list[Value] = field(default_factory=list)
    outputs: list[Value] = field(default_factory=list)
    activation: str = "linear"

    @property
    def pre(self) -> list[Value]:
        """The weighted sum z per sample (the output itself for a linear neuron)."""
        if self.activation == "linear":
            return list(self.outputs)
        return [o.children[0] for o in self.outputs]

    @property
    def out(self) -> float:
        """The output's data (the mean over samples when the graph holds several)."""
        return sum(o.data for o in self.outputs) / len(self.outputs)

    @property
    def z(self) -> float:
        pre = self.pre
        return sum(v.data for v in pre) / len(pre)

    @property
    def grad(self) -> float:
        """d root / d output, summed over samples (each sample's output is a Value of its own)."""
        return sum(o.grad for o in self.outputs)


@dataclass
class NeuronGraph:
    """``units`` in order of appearance, ``columns`` (layer name, unit names), ``inputs`` (key ->
    leaves, one per sample), ``edges`` ((source, target) -> gradient flowing back along it:
    Σ local·upstream over the Values that carry it; a source is a unit name or an input key, a
    target a unit name or ``ROOT``), ``owner`` (Value -> unit name for every region Value)."""

    root: Value
    units: dict[str, Unit]
    columns: list[tuple[str, list[str]]]
    inputs: dict[str, list[Value]]
    edges: dict[tuple[str, str], float]
    owner: dict[Value, str]

    @property
    def samples(self) -> int:
        return max((len(u.outputs) for u in self.units.values()), default=0)


def _partner(v: Value, k: int) -> Value | None:
    """The Value child k is multiplied with in v (``x * w``, or its pair in a ``dot``)."""
    ch = v.children
    if v.op == "*":
        return ch[1 - k]
    if v.op == "dot":
        n = len(ch) // 2
        return ch[k + n] if k < n else ch[k - n]
    return None


def _input_key(v: Value, k: int, units: dict[str, Unit]) -> str:
    """Name an input leaf by the index of the parameter it meets: ``x0`` for ``w[0]``."""
    c = v.children[k]
    p = _partner(v, k)
    parts = split_label(p.label) if p is not None and p._fn is None else None
    if parts and parts[0] in units and parts[2]:
        return "x" + ".".join(str(i) for i in parts[2])
    return c.label or "x?"


def collapse(root: Value) -> NeuronGraph:
    """Group root's graph into neurons (see the module docstring); reads, never writes, Values.

    Raises ``ValueError`` when no parameter label names a neuron (the graph was not built by
    labelled modules; draw it with ``level="value"``).
    """
    order = topo_order(root)
    units: dict[str, Unit] = {}
    owner: dict[Value, str] = {}
    for v in order:  # parameters: labelled leaves
        if v._fn is None and v.label:
            parts = split_label(v.label)
            if parts:
                unit = units.setdefault(parts[0], Unit(parts[0], layer_of(parts[0])))
                unit.params.append(v)
                owner[v] = unit.name
    if not units:
        raise ValueError("level='neuron' needs a graph built by nn modules: no Value has a "
                         "parameter label such as 'layer1.neuron0.w[0]'. Label the parameters "
                         "'<neuron>.<name>' or draw it with level='value'.")
    closed: set[Value] = set()
    for v in order:  # interior Values, children first
        if v._fn is None:
            continue
        name = None
        if v.label:
            parts = split_label(v.label)
            name = v.label if v.label in units else (parts[0] if parts else None)
            if name not in units:
                name = None
        if name is not None:
            closed.add(v)
            units[name].outputs.append(v)
            owner[v] = name
            continue
        found = {owner[c] for c in v.children if c in owner and c not in closed}
        if len(found) == 1:
            owner[v] = found.pop()
    if not closed:  # no labelled outputs: a unit's outputs are its Values read from outside it
        for v in order:
            for c in v.children:
                if c in owner and c._fn is not None and owner.get(v) != owner[c]:
                    if c not in closed:
                        closed.add(c)
                        units[owner[c]].outputs.append(c)
        if owner.get(root) is not None and root not in closed:
            closed.add(root)
            units[owner[root]].outputs.append(root)
    region = _regions(units, closed, owner)
    owner = {v: n for v, n in owner.items() if v in region or v._fn is None}
    for unit in units.values():
        out = unit.outputs[0] if unit.outputs else None
        if out is not None and len(out.children) == 1 and owner.get(out.children[0]) == unit.name:
            unit.activation = out.op
    position = {v: i for i, v in enumerate(order)}  # units in the order their outputs appear
    units = {u.name: u for u in sorted((u for u in units.values() if u.outputs),
                                       key=lambda u: position[u.outputs[0]])}
    inputs: dict[str, list[Value]] = {}
    edges: dict[tuple[str, str], float] = {}
    for v in order:
        if v._fn is None:
            continue
        target = owner.get(v, ROOT)
        locals_ = None
        for k, c in enumerate(v.children):
            if c in closed and owner[c] != target:
                source = owner[c]
            elif c._fn is None and c not in owner and target != ROOT and not _constant(v, k):
                source = _input_key(v, k, units)
                bucket = inputs.setdefault(source, [])
                if c not in bucket:
                    bucket.append(c)
            else:
                continue
            if locals_ is None:
                locals_ = local_grads(v)
            edges[(source, target)] = edges.get((source, target), 0.0) + locals_[k] * v.grad
    columns: dict[str, list[str]] = {}
    for name, unit in units.items():
        columns.setdefault(unit.layer, []).append(name)
    return NeuronGraph(root, units, list(columns.items()), inputs, edges, owner)


def _constant(v: Value, k: int) -> bool:
    """An unlabelled leaf that is not multiplied with a parameter is a constant, not an input."""
    p = _partner(v, k)
    return p is None or p._fn is not None or not p.label


def _regions(units: dict[str, Unit], closed: set[Value], owner: dict[Value, Value]) -> set[Value]:
    """Every Value below a unit's outputs that the same unit owns (its own outputs included)."""
    region: set[Value] = set()
    for unit in units.values():
        stack = list(unit.outputs)
        while stack:
            v = stack.pop()
            if v in region:
                continue
            region.add(v)
            stack.extend(c for c in v.children
                         if owner.get(c) == unit.name and c not in closed and c not in region)
    return region


def neuron_graph(root: Value, name: str, sample: int = 0) -> Value:
    """A copy of one neuron's scalar graph for one sample, to draw or step through on its own.

    The copy's leaves are copies of the neuron's parameters and stand-ins for what it reads
    (labelled with the reading's source: ``x0`` or another neuron's ``.out``), each with the
    data and grad it has in root's graph; the original Values are not touched.
    """
    ng = collapse(root) if not isinstance(root, NeuronGraph) else root
    if name not in ng.units:
        raise ValueError(f"no neuron {name!r} in this graph; its neurons are "
                         f"{', '.join(list(ng.units)[:6])}{', ...' if len(ng.units) > 6 else ''}")
    unit = ng.units[name]
    if not 0 <= sample < len(unit.outputs):
        raise ValueError(f"sample must be in 0..{len(unit.outputs) - 1}, got {sample!r}")
    top = unit.outputs[sample]
    copies: dict[Value, Value] = {}
    for v in _below(top, lambda v: ng.owner.get(v) == name):
        c = Value(v.data, label=v.label)
        c.grad = v.grad
        if ng.owner.get(v) == name and v._fn is not None:
            c._fn, c._arg = v._fn, v._arg
            if v._fn.arity == 2:
                c._a, c._b = copies[v._a], copies[v._b]
            elif v._fn.arity == 1:
                c._a = copies[v._a]
            else:
                c._a = tuple(copies[x] for x in v._a)
        elif not c.label:
            c.label = _stand_in_name(ng, v)
        copies[v] = c
    return copies[top]


def _below(top: Value, inside) -> list[Value]:
    """Values reached from top through interior Values for which ``inside`` holds, children
    first (an explicit stack, as in ``topo_order``)."""
    order, seen, stack = [], set(), [(top, False)]
    while stack:
        v, done = stack.pop()
        if done:
            order.append(v)
            continue
        if v in seen:
            continue
        seen.add(v)
        stack.append((v, True))
        if v._fn is not None and inside(v):
            stack.extend((c, False) for c in v.children if c not in seen)
    return order


def _stand_in_name(ng: NeuronGraph, v: Value) -> str:
    for key, leaves in ng.inputs.items():
        if v in leaves:
            return key
    return ""
