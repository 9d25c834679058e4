"""Levels one node wide (deep chains) replayed on Python floats with the same op-table rules.

A level of the compiled replay costs a dozen NumPy calls whatever its width; for a chain a
million nodes deep that fixed cost is the whole bill. A level holding a single node is
therefore run with ``scalar_math`` as ``xp``, exactly as the eager engine runs it, reading and
writing the same arrays as the vectorised levels (values, gradients, the edge buffer).
"""

from __future__ import annotations

import math

from ..engine import scalar_math as sm
from ..engine.ops import DOT, MUL
from ..engine.value import _domain_error
from .fold import eager_sum

MAX_TERMS = 8  # a one-node level whose sum has more terms than this stays vectorised


def plan(p) -> list:
    """For each level, a scalar recipe if it holds one node (and few terms), else None."""
    narrow = sum(step[1] - step[0] == 1 for step in p.steps)
    if not narrow:
        return [None] * len(p.steps)
    if narrow * MAX_TERMS * 4 > len(p.term_a) + len(p.ew_a):
        def get(a):  # many narrow levels: plain lists, far cheaper to index than arrays
            return a.tolist().__getitem__
    else:
        def get(a):  # a few (a wide graph's top): no list of every term (10⁶ terms: ~180 MB)
            return a.item
    ta, tb, coef = get(p.term_a), get(p.term_b), get(p.term_coef)
    pos_ta, pos_tb = get(p.term_pos_a), get(p.term_pos_b)
    wa, wb, wk = get(p.ew_a), get(p.ew_b), get(p.ew_k)
    pos_wa, pos_wb = get(p.ew_pos_a), get(p.ew_pos_b)
    signed_zero = get(p.group_signed_zero)
    out = []
    for o0, o1, e0, e1, group, ews, blocks in p.steps:
        recipe = None
        if blocks:
            pass  # a dense block has two rows or more: never one node wide
        elif o1 - o0 == 1 and group is not None and group[3] - group[2] <= MAX_TERMS:
            t0, t1 = group[2], group[3]
            terms = [(coef(t), ta(t), tb(t), t, pos_ta(t), pos_tb(t)) for t in range(t0, t1)]
            recipe = ("group", o0, e0, e1, terms, not signed_zero(o0))
        elif o1 - o0 == 1 and group is None:
            fn, _s0, _s1, w, _w1 = ews[0]
            k = wk(w) if fn.has_param else None
            recipe = ("op", o0, e0, e1, fn, wa(w), wb(w), k, w, pos_wa(w), pos_wb(w))
        out.append(recipe)
    return out


def forward(prog, recipe) -> None:
    V = prog._V
    if recipe[0] == "group":
        _kind, o, _e0, _e1, terms, from_zero = recipe
        TA, TB = prog._TA, prog._TB
        values = []
        for c, ia, ib, t, _pa, _pb in terms:
            a, b = V.item(ia), V.item(ib)
            TA[t], TB[t] = a, b
            values.append(c * MUL.forward(sm, a, b))  # one product; eager_sum adds them
        V[o] = eager_sum(values, from_zero)
        return
    _kind, o, _e0, _e1, fn, ia, ib, k, w, _pa, _pb = recipe
    a = V.item(ia)
    prog._WA[w] = a
    b = None
    if fn.arity == 2:
        b = V.item(ib)
        prog._WB[w] = b
    args = fn.operands(a, b, k)
    out = fn.forward(sm, *args, prog._rng.random()) if fn.draws else fn.forward(sm, *args)
    if fn.check is not None and not math.isfinite(out):
        problem = fn.check(*args)
        if problem:
            node = prog._p.order[prog._p.slot_topo[o]]
            raise _domain_error(problem, *node.children)
    V[o] = out


def backward(prog, recipe, top: bool, seed=None) -> None:
    """Gather the node's gradient from the edge buffer (in eager order), plus ``seed`` if the
    node is seeded, then push its contributions (upstream × local) into the buffer for its
    inputs."""
    G, C = prog._G, prog._C
    o, e0, e1 = recipe[1], recipe[2], recipe[3]
    if not top:
        total = 0.0
        for x in C[e0:e1].tolist():
            total += x
        G[o] = total if seed is None else total + float(seed)
    up = G.item(o)
    if recipe[0] == "group":
        TA, TB = prog._TA, prog._TB
        for c, _ia, _ib, t, pa, pb in recipe[4]:
            u = up * c
            # a term is one pair of a dot: ∂/∂a = b, ∂/∂b = a (DOT's rule, x₀ then w₀)
            la, lb = DOT.local(sm, TA.item(t), TB.item(t), None)
            C[pa] = u * la
            C[pb] = u * lb
        return
    _kind, o, _e0, _e1, fn, _ia, _ib, k, w, pa, pb = recipe
    local_grads = fn.local(sm, *fn.operands(prog._WA.item(w), prog._WB.item(w), k),
                           prog._V.item(o))
    C[pa] = up * local_grads[0]
    if fn.arity == 2:
        C[pb] = up * local_grads[1]
