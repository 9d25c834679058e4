"""Backprop one node at a time: each step's upstream gradient, local derivatives and products.

``backprop_steps(root)`` is ``root.backward()`` taken apart: it starts the same way (interior
grads reset, root seeded with 1) and, for each interior node in reverse topological order,
applies ``child.grad += local · upstream`` for every child, then yields the ``Step`` it just
applied. ``backprop_steps(root, inplace=False)`` computes the same steps on a private copy and
touches no ``.grad``. ``forward_steps(root)`` lists the forward pass in topological order.
``walkthrough`` joins both into numbered frames of text, which the terminal stepper, the page
and the widget show; it changes no ``.data`` or ``.grad``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from ..engine.backward import local_grads, start_backward, topo_order
from ..engine.value import Value
from .names import Formatter, formatter, node_ids, node_names, shown_name

__all__ = ["Contribution", "Step", "ForwardStep", "Frame", "Walkthrough", "backprop_steps",
           "forward_steps", "walkthrough", "forward_line", "chain_rule_line", "Formatter",
           "formatter", "node_ids", "node_names"]


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


def backprop_steps(root: Value, *, inplace: bool = True) -> Iterator[Step]:
    """The backward pass as an iterator of applied ``Step``s, in reverse topological order.

    With ``inplace=True`` (the default) this *is* ``root.backward()``, one node at a time, and
    changes the graph's grads the same way: interior grads are reset to 0, then
    ``root.grad += 1`` and each step adds ``local · upstream`` into its children's ``.grad``, so
    leaf grads accumulate across calls (as in ``backward``). Exhausting the iterator leaves every
    ``.grad`` equal to what ``root.backward()`` gives; stopping early leaves a partial pass.

    With ``inplace=False`` the steps (same order, same numbers as one fresh pass: d root/d node)
    are computed on a private table of grads, and no ``.grad`` in the graph changes.
    """
    if inplace:
        order = start_backward(root)
        grads = None
    else:
        order = topo_order(root)
        grads = {root: 1.0}  # d root / d root; everything else starts at 0, as in one pass
    for node in reversed(order):
        if node._fn is None:
            continue
        upstream = node.grad if grads is None else grads.get(node, 0.0)
        contributions = []
        for child, local in zip(node.children, local_grads(node)):
            local = float(local)
            amount = local * upstream
            if grads is None:
                child.grad += amount
            else:
                grads[child] = grads.get(child, 0.0) + amount
            contributions.append(Contribution(child, local, amount))
        yield Step(node, upstream, tuple(contributions))


def forward_steps(root: Value) -> Iterator[ForwardStep]:
    """Every interior node of root's graph in topological order (each after its inputs), with
    its op, inputs and the value the forward pass computed. Leaves are given, not computed."""
    for node in topo_order(root):
        if node._fn is not None:
            yield ForwardStep(node, node.op, node.children, node.data)


# --- text ---------------------------------------------------------------------------------------


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


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

    The numbers are those of one fresh ``root.backward()`` (``grads[v]`` = d root / d v), worked
    out with ``backprop_steps(root, inplace=False)``: building a walkthrough changes no ``.data``
    and no ``.grad`` in the caller's graph.
    """

    def __init__(self, root: Value, fmt: Formatter = None, decimals: int = 4) -> None:
        self.root = root
        self.order: list[Value] = topo_order(root)
        self.names = node_names(self.order)
        self.ids = node_ids(self.order)
        self.format = formatter(fmt, decimals)
        self.forward = list(forward_steps(root))
        self.backward = list(backprop_steps(root, inplace=False))
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
            frames.append(Frame("forward", step.node,
                                f"forward: compute {shown_name(step.node, names)}",
                                [forward_line(step, names, f)], data={step.node: step.data}))
        # Replay the grads as the backward pass builds them, for the snapshots.
        grads: dict[Value, float] = {}
        seed = 1.0
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
                line = f"{names[v]:>8}  {v.op}({args}) = {f(v.data)}"
                if v.label and v.label != names[v]:
                    line += f"   (labelled '{v.label}')"
                out.append(line)
        return out


def walkthrough(root: Value, fmt: Formatter = None, decimals: int = 4) -> Walkthrough:
    """Forward then backward over root's graph as frames of text; changes no ``.grad``."""
    return Walkthrough(root, fmt, decimals)
