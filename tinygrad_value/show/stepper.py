"""Backprop one node at a time: each step's upstream gradient, local derivatives and products.

``backprop_steps(root)`` is ``root.backward()`` taken apart: it starts the same way (interior
grads reset, root seeded with 1) and, for each interior node in reverse topological order,
applies ``child.grad += local · upstream`` for every child, then yields the ``Step`` it just
applied. ``forward_steps(root)`` lists the forward pass in topological order. ``walkthrough``
joins both into numbered frames of text, which the terminal stepper and the HTML page show.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple, Union

from ..engine.backward import local_grads, start_backward, topo_order
from ..engine.ops import format_number
from ..engine.value import Value

Formatter = Union[str, Callable[[float], str], None]


class Contribution(NamedTuple):
    """What one child receives in one step: ``contribution = local_grad · upstream``."""

    child: Value
    local_grad: float  # ∂node/∂child at the current data
    contribution: float  # added to child.grad


class Step(NamedTuple):
    """One applied backward step through ``node`` (already added into the children's grads).

    A named tuple, so ``for node, upstream, contributions in backprop_steps(L)`` works too.
    """

    node: Value
    upstream: float  # d root / d node, complete when the step runs
    contributions: tuple[Contribution, ...]


@dataclass(frozen=True, eq=False)
class ForwardStep:
    """One forward computation: ``node.data = op(inputs)``."""

    node: Value
    op: str  # the op's symbol as graphs show it ('+', 'tanh', '**2')
    inputs: tuple[Value, ...]
    data: float


def backprop_steps(root: Value) -> Iterator[Step]:
    """The backward pass as an iterator of applied ``Step``s, in reverse topological order.

    Starts like ``root.backward()``: grads of interior nodes are reset to 0, then ``root.grad += 1``
    (so a leaf root accumulates, as in ``backward``). Exhausting the iterator leaves every
    ``.grad`` equal to what ``root.backward()`` gives. Stopping early leaves a partial pass.
    """
    order = start_backward(root)
    for node in reversed(order):
        if node._fn is None:
            continue
        upstream = node.grad
        contributions = []
        for child, local in zip(node.children, local_grads(node)):
            local = float(local)
            amount = local * upstream
            child.grad += amount
            contributions.append(Contribution(child, local, amount))
        yield Step(node, upstream, tuple(contributions))


def forward_steps(root: Value) -> Iterator[ForwardStep]:
    """Every interior node of root's graph in topological order (each after its inputs), with
    its op, inputs and the value the forward pass computed. Leaves are given, not computed."""
    for node in topo_order(root):
        if node._fn is not None:
            yield ForwardStep(node, node.op, node.children, node.data)


# --- names and text ---------------------------------------------------------------------------


def node_names(order: list[Value]) -> dict[Value, str]:
    """A short, stable name per node: its label, else ``n1, n2, ...`` (constants: their value).

    Repeated labels get a suffix (``x``, ``x_2``) so every name points at one node.
    """
    names: dict[Value, str] = {}
    taken = {v.label for v in order if v.label}
    used: set = set()
    counter = 0
    for v in order:
        if v.label:
            name = v.label
        elif v._fn is None:
            name = format_number(v.data)  # an unlabelled leaf is a constant such as the 2 in x*2
        else:
            counter += 1
            name = f"n{counter}"
            while name in taken:
                counter += 1
                name = f"n{counter}"
        base, k = name, 1
        while name in used and (v.label or v._fn is not None):
            k += 1
            name = f"{base}_{k}"
        used.add(name)
        names[v] = name
    return names


def node_ids(order: list[Value]) -> dict[Value, str]:
    """Each node's id in drawings and the HTML page: ``v0, v1, ...`` in topological order."""
    return {v: f"v{i}" for i, v in enumerate(order)}


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def formatter(fmt: Formatter = None, decimals: int = 4) -> Callable[[float], str]:
    """A float -> str function from a format string (``"{:.4f}"``), a callable, or decimals."""
    if fmt is None:
        d = int(decimals)
        # fixed point reads best; huge numbers would print hundreds of digits, so switch to 1e9 form
        return lambda x: f"{x:.{d}f}" if not abs(x) >= 1e9 else f"{x:.{d}e}"
    if isinstance(fmt, str):
        pattern = fmt
        return lambda x: pattern.format(x)
    return fmt


def forward_line(step: ForwardStep, names: dict[Value, str], f: Callable[[float], str]) -> str:
    """``n1 = x * w = 2.0000 * -3.0000 = -6.0000``"""
    node, fn = step.node, step.node._fn
    formula = fn.formula([names[c] for c in step.inputs], node._arg)
    arithmetic = fn.formula([f(c.data) for c in step.inputs], node._arg, numbers=True)
    return f"{names[node]} = {formula} = {arithmetic} = {f(step.data)}"


def chain_rule_line(step: Step, c: Contribution, names: dict[Value, str],
                    f: Callable[[float], str]) -> str:
    """``dL/dx += dL/dn · ∂n/∂x = 0.5000 · -3.0000 = -1.5000`` (L is the root)."""
    n, x = names[step.node], names[c.child]
    return (f"dL/d{x} += dL/d{n} · ∂{n}/∂{x} = "
            f"{f(step.upstream)} · {f(c.local_grad)} = {f(c.contribution)}")


# --- a whole session: forward then backward, as numbered frames --------------------------------


@dataclass
class Frame:
    """One screen of a walkthrough: what happened, and which numbers became known."""

    kind: str  # 'start', 'forward', 'seed', 'backward' or 'done'
    node: Value | None
    title: str
    lines: list[str]
    data: dict[Value, float] = field(default_factory=dict)  # values that became known
    grads: dict[Value, float] = field(default_factory=dict)  # grads as they stand after it

    def text(self) -> str:
        return "\n".join([self.title] + ["  " + line for line in self.lines])


class Walkthrough:
    """Root's forward pass then its backward pass as ``frames``, with stable node ``names``.

    Building it runs ``backprop_steps`` to the end, so afterwards every ``.grad`` is what
    ``root.backward()`` gives (leaf grads accumulate, as with ``backward``).
    """

    def __init__(self, root: Value, fmt: Formatter = None, decimals: int = 4) -> None:
        self.root = root
        self.order: list[Value] = topo_order(root)
        self.names = node_names(self.order)
        self.ids = node_ids(self.order)
        self.format = formatter(fmt, decimals)
        self.forward = list(forward_steps(root))
        self.backward = list(backprop_steps(root))
        # contributions each node received, in order: (frame index, step, contribution)
        self.received: dict[Value, list] = {v: [] for v in self.order}
        # each node's gradient once the pass is complete (filled in by _frames)
        self.grads: dict[Value, float] = {}
        self.frames = self._frames()

    def _frames(self) -> list[Frame]:
        f, names, root = self.format, self.names, self.root
        leaves = [v for v in self.order if v._fn is None]
        frames = [Frame("start", None, f"The graph: {_count(len(self.order), 'value')}, "
                        f"{len(leaves)} of them given; L = {names[root]}",
                        [f"{names[v]} = {f(v.data)}" for v in leaves],
                        data={v: v.data for v in leaves})]
        for step in self.forward:
            frames.append(Frame("forward", step.node, f"forward: compute {names[step.node]}",
                                [forward_line(step, names, f)], data={step.node: step.data}))
        # Replay the grads as the backward pass builds them, for the snapshots.
        grads: dict[Value, float] = {}
        seed = 1.0 if root._fn is not None else root.grad  # a leaf root accumulates, as in backward
        grads[root] = seed
        frames.append(Frame("seed", root, f"backward: seed dL/d{names[root]} = 1",
                            [f"dL/d{names[root]} = 1 (L is {names[root]} itself)"],
                            grads={root: seed}))
        for i, step in enumerate(self.backward):
            node = step.node
            title = (f"backward step {i + 1}/{len(self.backward)}: through {names[node]} "
                     f"({node.op}), dL/d{names[node]} = {f(step.upstream)}")
            changed = {}
            for c in step.contributions:
                grads[c.child] = grads.get(c.child, 0.0) + c.contribution
                changed[c.child] = grads[c.child]
                self.received[c.child].append((len(frames), step, c))
            frames.append(Frame("backward", node, title,
                                [chain_rule_line(step, c, names, f) for c in step.contributions],
                                grads=changed))
        self.grads = {v: grads.get(v, 0.0) for v in self.order}
        ins = [v for v in leaves if v.label] or leaves
        frames.append(Frame("done", None, "done: every gradient is complete",
                            [f"dL/d{names[v]} = {f(self.grads[v])}" for v in ins]))
        return frames

    def gradient_sum(self, node: Value) -> str:
        """``dL/dx = -1.5000 (from n1) + 0.5000 (from n2) = -1.0000``: a grad as its parts."""
        f, names = self.format, self.names
        if node is self.root:
            return f"dL/d{names[node]} = 1 (the root)"
        parts = [f"{f(c.contribution)} (from {names[s.node]})" for _, s, c in self.received[node]]
        if not parts:
            return f"dL/d{names[node]} = 0 (L does not depend on it)"
        return f"dL/d{names[node]} = {' + '.join(parts)} = {f(self.grads[node])}"

    def summary(self) -> list[str]:
        """One line per node: name, op and inputs, value."""
        f, names = self.format, self.names
        out = []
        for v in self.order:
            if v._fn is None:
                kind = "input" if v.label else "const"
                out.append(f"{names[v]:>8}  {kind}  = {f(v.data)}")
            else:
                args = ", ".join(names[c] for c in v.children)
                out.append(f"{names[v]:>8}  {v.op}({args}) = {f(v.data)}")
        return out


def walkthrough(root: Value, fmt: Formatter = None, decimals: int = 4) -> Walkthrough:
    """Forward then backward over root's graph as frames of text (runs the backward pass)."""
    return Walkthrough(root, fmt, decimals)
