"""How tests reach each op of the table: through its public spelling (``Op.method``) and
through the PyTorch function named in ``Op.torch``; both derived from the entry itself."""

from __future__ import annotations

import functools

import tinygrad_value as tv


def public_call(op, vals, k=None, reflected=False):
    """``op`` applied through the public API: ``a.exp()``, ``a + b`` (``b.__radd__(a)`` when
    ``reflected`` and ``a`` is a number), ``a ** k``, ``tv.dot(xs, ws)``."""
    if op.arity == -1:
        return getattr(tv, op.method)(*op.split(vals))
    a = vals[0]
    if op.arity == 2:
        if reflected:  # a is a plain number on the left: Python calls b.__rop__(a)
            return getattr(vals[1], "__r" + op.method[2:])(a)
        return getattr(a, op.method)(vals[1])
    if op.has_param:
        return getattr(a, op.method)(k)
    return getattr(a, op.method)()


def torch_function(torch, op):
    """The PyTorch function named by ``op.torch`` (``torch.nn.functional.leaky_relu``)."""
    return functools.reduce(getattr, op.torch.split(".")[1:], torch)


def torch_call(torch, op, tensors, k=None):
    """``op`` computed by PyTorch on 0-d tensors; an n-ary op gets one stacked tensor per part."""
    fn = torch_function(torch, op)
    if op.arity == -1:
        return fn(*[torch.stack(list(part)) for part in op.split(tensors)])
    if op.has_param:
        return fn(*tensors, k)
    return fn(*tensors)
