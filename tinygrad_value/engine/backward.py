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


# --- several outputs at once: tv.backward and tv.grad (as torch.autograd.backward / .grad) ----


def _seeded_root(outputs, grad_outputs, who: str):
    """A throwaway n-ary node S = Σ gᵢ·outputᵢ (one DOT node over the outputs and the seeds
    gᵢ as new leaves), so that dS/d(outputᵢ) = gᵢ and one ordinary pass from S is the
    vector-Jacobian product. Built even inside ``no_grad()``: it is the graph itself."""
    from .ops import DOT
    from .value import Value, _new

    if isinstance(outputs, Value):
        outputs = [outputs]
    outputs = list(outputs)
    for i, out in enumerate(outputs):
        if not isinstance(out, Value):
            raise TypeError(f"{who}: outputs[{i}] is a {type(out).__name__}, not a Value; pass "
                            "the Values whose gradients you want to propagate")
    if grad_outputs is None:
        seeds = [1.0] * len(outputs)
    else:
        if isinstance(grad_outputs, (int, float, Value)):
            grad_outputs = [grad_outputs]
        seeds = [float(g.data if isinstance(g, Value) else g) for g in grad_outputs]
        if len(seeds) != len(outputs):
            raise ValueError(f"{who}: {len(outputs)} outputs but {len(seeds)} grad_outputs; "
                             "give one upstream gradient per output")
    if not outputs:
        raise ValueError(f"{who}: outputs is empty; pass at least one Value")
    children = tuple(outputs) + tuple(Value(g) for g in seeds)
    root = _new(Value)
    root.data = 0.0  # never read: only its local derivatives (the seeds) matter
    root.grad = 0.0
    root.label = ""
    root._a = children
    root._b = None
    root._fn = DOT
    root._arg = None
    return root


def backward_many(outputs, grad_outputs=None) -> None:
    """One backward pass seeded with ``grad_outputs[i]`` at ``outputs[i]`` (default 1 each):
    every node n of the joint graph ends with n.grad = Σᵢ gᵢ·∂outputᵢ/∂n for interior nodes
    (reset first) and ``+=`` that for leaves, as ``torch.autograd.backward`` does."""
    backward(_seeded_root(outputs, grad_outputs, "tv.backward"))


def grad_many(outputs, inputs, grad_outputs=None, allow_unused: bool = False) -> List[float]:
    """[∂(Σᵢ gᵢ·outputᵢ)/∂x for x in inputs] as floats (gᵢ defaults to 1), as
    ``torch.autograd.grad``; no ``.grad`` anywhere is read or written. An input the outputs do
    not depend on raises ``ValueError`` unless ``allow_unused=True`` (then its gradient is 0.0)."""
    from .value import Value

    root = _seeded_root(outputs, grad_outputs, "tv.grad")
    single = isinstance(inputs, Value)
    inputs = [inputs] if single else list(inputs)
    for i, x in enumerate(inputs):
        if not isinstance(x, Value):
            raise TypeError(f"tv.grad: inputs[{i}] is a {type(x).__name__}, not a Value")
    with gc_paused():
        order = topo_order(root)
        grads = {root: 1.0}
        get = grads.get
        for node in reversed(order):
            fn = node._fn
            if fn is None:
                continue
            upstream = get(node)
            if upstream is None:
                continue
            children = node.children
            locals_ = fn.local_scalar(tuple(c.data for c in children), node._arg, node.data)
            for child, local in zip(children, locals_):
                grads[child] = get(child, 0.0) + local * upstream
    result = []
    for i, x in enumerate(inputs):
        g = get(x)
        if g is None:
            if not allow_unused:
                raise ValueError(f"tv.grad: inputs[{i}] ({x!r}) is not part of the outputs' "
                                 "graph; pass allow_unused=True to get 0.0 for it")
            g = 0.0
        result.append(g)
    return result


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
