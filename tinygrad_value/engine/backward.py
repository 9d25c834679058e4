"""Topological order and the backward pass, both iterative (no recursion over the graph)."""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator, List

from . import scalar_math
from . import value as _value


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for one engine call, restoring the caller's setting.

    Walking a big graph allocates many small objects; the collector would rescan the whole
    graph again and again without finding garbage, since Values form no reference cycles.
    """
    was_enabled = gc.isenabled()
    if was_enabled:
        gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def topo_order(root) -> List:
    """Every node of root's graph once, each after all of its children (root last).

    Depth-first with an explicit stack, so a chain 10⁶ deep needs no recursion. A node is
    appended when the ``None`` marker pushed just above it comes back to the top, which
    happens only after everything pushed above the marker, its children, is done.
    """
    order: List = []
    seen = set()
    stack = [root]
    push = stack.append
    pop = stack.pop
    mark = seen.add
    emit = order.append
    while stack:
        node = pop()
        if node is None:
            emit(pop())
            continue
        if node in seen:
            continue
        mark(node)
        fn = node._fn
        if fn is None:  # a leaf is done at once
            emit(node)
            continue
        push(node)
        push(None)
        arity = fn.arity
        if arity == 2:
            a = node._a
            b = node._b
            if b not in seen:
                push(b)
            if a not in seen:
                push(a)
        elif arity == 1:
            a = node._a
            if a not in seen:
                push(a)
        else:
            for child in reversed(node._a):
                if child not in seen:
                    push(child)
    return order


def local_grads(node) -> tuple:
    """∂node/∂child for each child at the current data, from the op table; no upstream factor.
    (``backward()`` and ``topo_order`` unpack children per arity instead: one generic access,
    ``node.children`` + this function, makes the demo MLP's backward 3x slower, +207% measured
    by ``python -m benchmarks.engine``, "Inlined paths" line.)"""
    return node._fn.local_scalar(tuple(c.data for c in node.children), node._arg, node.data)


def start_backward(root) -> List:
    """What every backward pass does first: reset interior grads, seed ``root.grad += 1``.

    Returns the topological order. A leaf root simply accumulates 1, as in PyTorch.
    """
    order = topo_order(root)
    for node in order:
        if node._fn is not None:
            node.grad = 0.0
    root.grad += 1.0
    return order


def backward(root) -> None:
    """Fill ``.grad`` with d(root)/d(node) for every node of root's graph.

    Interior grads are reset first so repeated calls give the same interior grads; leaves
    accumulate (``+=``), as PyTorch's leaf tensors do. For each interior node, in reverse
    topological order, each child receives ``local × upstream``, ``local`` from the op table.
    """
    with gc_paused():
        order = start_backward(root)
        if _value._ANOMALY:
            return _backward_checked(order)
        sm = scalar_math
        for node in reversed(order):
            fn = node._fn
            if fn is None:
                continue
            upstream = node.grad
            arity = fn.arity
            if arity == 2:
                a = node._a
                b = node._b
                da, db = fn.constant_local or fn.local(sm, a.data, b.data, node.data)
                a.grad += da * upstream
                b.grad += db * upstream
            elif arity == 1:
                a = node._a
                if fn.constant_local:
                    (da,) = fn.constant_local
                elif fn.has_param:
                    (da,) = fn.local(sm, a.data, node._arg, node.data)
                else:
                    (da,) = fn.local(sm, a.data, node.data)
                a.grad += da * upstream
            else:
                children = node._a
                locals_ = fn.local(sm, *[c.data for c in children], node.data)
                for child, local in zip(children, locals_):
                    child.grad += local * upstream


def _backward_checked(order: List) -> None:
    """The backward pass under ``detect_anomaly()``: the same products, each one checked."""
    for node in reversed(order):
        if node._fn is None:
            continue
        upstream = node.grad
        for child, local in zip(node.children, local_grads(node)):
            amount = local * upstream
            if amount - amount != 0:  # nan or ±inf
                from .anomaly import backward_anomaly

                raise backward_anomaly(node, child, local, upstream)
            child.grad += amount
