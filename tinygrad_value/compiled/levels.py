"""Each level of a schedule bound once to a program's arrays: a replay is then a loop of calls.

``forward_calls(prog)`` and ``backward_calls(prog, ...)`` turn the schedule's steps into lists of
zero-argument callables that hold their NumPy arguments (views of the value, gradient and edge
arrays, index arrays, the op's rule), so replaying a level looks nothing up and recomputes no
index. How each call reads and writes the arrays (slices, strided views, index arrays; the
gradient gather) is decided once, in ``access.py``. Runs of one-node levels stay on floats
(``narrow.py``), one call per run.

The products of a sum-of-products level take their derivatives from the ``dot`` entry of the op
table (a term ``a·b`` is a one-pair dot): ∂/∂a = b, ∂/∂b = a.
"""

from __future__ import annotations

from functools import partial
from typing import Callable, List, Optional

import numpy as np

from ..engine.ops import DOT, MUL
from . import access, narrow, np_math

Calls = List[Callable[[], None]]


# --- forward -----------------------------------------------------------------------------------


def forward_calls(prog) -> tuple:
    """(calls for every level below the root's, calls for the root's level): the root's level
    runs separately so ``run(root=False)`` can leave it until its value is asked for."""
    p = prog._p
    calls: Calls = []
    steps = p.steps
    recipes = prog._narrow
    i = 0
    while i < len(steps) - 1:
        if recipes[i] is not None:  # a run of one-node levels: one call that loops over them
            j = i
            while j < len(steps) - 1 and recipes[j] is not None:
                j += 1
            calls.append(partial(_narrow_forward, prog, recipes[i:j]))
            i = j
            continue
        calls.extend(_forward_level(prog, steps[i]))
        i += 1
    top: Calls = []
    if steps:
        if recipes[-1] is not None:
            top.append(partial(narrow.forward, prog, recipes[-1]))
        else:
            top.extend(_forward_level(prog, steps[-1]))
    return calls, top


def _narrow_forward(prog, recipes: list) -> None:
    forward = narrow.forward
    for recipe in recipes:
        forward(prog, recipe)


def _forward_level(prog, step) -> Calls:
    _o0, _o1, _e0, _e1, group, ews, blocks = step
    calls = [_dense_forward(prog, d) for d in blocks]
    if group is not None:
        calls.append(_group_forward(prog, group))
    calls.extend(_elementwise_forward(prog, ew) for ew in ews)
    return calls


def _dense_forward(prog, d) -> Callable:
    i = prog._dense_index[id(d)]
    XB, XA = prog._XB[i], prog._XA[i]
    V = prog._V
    take_b = access.gather_2d(V, d.b_slots, XB)
    take_a = access.gather_2d(V, d.a_slots, XA)
    out, XAT = V[d.d0:d.d1].reshape(d.S, d.J), XA.T

    def dense_forward(take_b=take_b, take_a=take_a, XB=XB, XAT=XAT, out=out,
                      matmul=np.matmul) -> None:
        take_b()
        take_a()
        matmul(XB, XAT, out=out)
    return dense_forward


def _group_forward(prog, group) -> Callable:
    p = prog._p
    g0, g1, t0, t1, neg, signed_zero = group
    A, refresh_a = access.operand(prog, p.term_a[t0:t1], prog._TA[t0:t1])
    B, refresh_b = access.operand(prog, p.term_b[t0:t1], prog._TB[t0:t1])
    refresh = [f for f in (refresh_a, refresh_b) if f is not None]
    coef = p.term_coef[t0:t1] if neg else None
    where = p.term_group[t0:t1] - g0
    n = g1 - g0
    out = prog._V[g0:g1]
    fix_zeros = _signed_zeros(p.group_signed_zero[g0:g1], where, n) if signed_zero else None

    def group_forward(refresh=refresh, A=A, B=B, coef=coef, where=where, n=n, out=out,
                      fix_zeros=fix_zeros, mul=MUL.forward, xp=np_math,
                      bincount=np.bincount) -> None:
        for f in refresh:
            f()
        prod = mul(xp, A, B)
        if coef is not None:
            prod *= coef
        sums = bincount(where, prod, minlength=n)
        if fix_zeros is not None and not sums.all():
            fix_zeros(sums, prod)
        out[...] = sums
    return group_forward


def _signed_zeros(chain: np.ndarray, where: np.ndarray, n: int) -> Callable:
    """``fix(sums, prod)``: a chain of binary ops (``chain``) that sums to zero is -0.0 when
    every term is -0.0 (the eager engine starts from the first term, bincount from +0.0);
    sum/dot nodes start from +0.0. Terms of a zero sum that all have the sign bit are -0.0."""
    terms = np.bincount(where, minlength=n)

    def fix(sums, prod, chain=chain, where=where, n=n, terms=terms) -> None:
        zero = (sums == 0) & chain
        if zero.any():
            zero &= np.bincount(where, np.signbit(prod), minlength=n) == terms
            sums[zero] = -0.0
    return fix


def _elementwise_args(prog, ew) -> tuple:
    """The op's operand arrays (as ``fn.operands`` orders them) and the calls refreshing them."""
    p = prog._p
    fn, _s0, _s1, w0, w1 = ew
    A, refresh_a = access.operand(prog, p.ew_a[w0:w1], prog._WA[w0:w1])
    refresh = [refresh_a] if refresh_a is not None else []
    B = None
    if fn.arity == 2:
        B, refresh_b = access.operand(prog, p.ew_b[w0:w1], prog._WB[w0:w1])
        if refresh_b is not None:
            refresh.append(refresh_b)
    return fn.operands(A, B, p.ew_k[w0:w1]), refresh


def _elementwise_forward(prog, ew) -> Callable:
    fn, s0, s1, w0, _w1 = ew
    args, refresh = _elementwise_args(prog, ew)
    out = prog._V[s0:s1]
    n = s1 - s0
    draw = partial(_draw, prog, n) if fn.draws else None
    check = partial(prog._raise_domain_error, fn, s0, s1, w0) if fn.check is not None else None

    def elementwise_forward(refresh=refresh, forward=fn.forward, args=args, out=out, draw=draw,
                            check=check, xp=np_math, isfinite=np.isfinite) -> None:
        for f in refresh:
            f()
        if draw is None:
            out[...] = forward(xp, *args)
        else:  # a fresh draw per node and replay (dropout masks)
            out[...] = forward(xp, *args, draw())
        if check is not None and not isfinite(out).all():
            check()
    return elementwise_forward


def _draw(prog, n: int):
    return np_math.uniform(prog._rng, n)  # prog._rng: manual_seed may replace it


# --- backward ----------------------------------------------------------------------------------


def backward_calls(prog, seeded: Optional[set], top: bool) -> Calls:
    """The calls of one backward pass from the root's level (``top``: run it; without it the
    root is unseeded and its edges are left at 0) down to level 0. ``seeded``: the steps (-1:
    level 0) holding nodes seeded from ``prog._S``, whose seeds are added to what flows in."""
    p = prog._p
    steps = p.steps
    recipes = prog._narrow
    last = len(steps) - 1
    seeded = seeded or set()
    # without the root's level, a level whose every edge comes from the root receives nothing
    from_root = None if top else np.sort(prog._top_edges())
    calls: Calls = []
    i = last if top else last - 1
    while i >= 0:
        if recipes[i] is not None:
            j = i
            while j >= 0 and recipes[j] is not None:
                j -= 1
            calls.append(partial(_narrow_backward, prog, recipes[j + 1:i + 1][::-1], i, last,
                                 seeded))
            i = j
            continue
        o0, o1, e0, e1, group, ews, blocks = steps[i]
        if i < last:  # the top level holds only the root, seeded by the caller
            calls.extend(_gather_level(prog, o0, o1, e0, e1, i in seeded, from_root))
        calls.extend(_dense_backward(prog, d) for d in blocks)
        if group is not None:
            calls.append(_group_backward(prog, group))
        calls.extend(_elementwise_backward(prog, ew) for ew in ews)
        i -= 1
    o0, o1, e0, e1 = p.level0
    calls.extend(_gather_level(prog, o0, o1, e0, e1, -1 in seeded, from_root))
    return calls


def _narrow_backward(prog, recipes: list, first: int, last: int, seeded: set) -> None:
    backward, S = narrow.backward, prog._S
    i = first
    for recipe in recipes:
        seed = S[recipe[1]] if i in seeded and i < last else None
        backward(prog, recipe, top=i == last, seed=seed)
        i -= 1


def _gather_level(prog, o0: int, o1: int, e0: int, e1: int, seed: bool,
                  from_root: Optional[np.ndarray]) -> Calls:
    """A level's gradients: what its edges bring (``_gather``), plus its seeds."""
    G = prog._G[o0:o1]
    if from_root is not None and e1 > e0 and \
            np.searchsorted(from_root, e1) - np.searchsorted(from_root, e0) == e1 - e0:
        # every edge is the unseeded root's (so 0): 0.0 + seed, as a sum from 0.0 gives
        if seed:
            return [partial(np.add, prog._S[o0:o1], 0.0, out=G)]
        return [partial(G.fill, 0.0)]
    calls = [access.gather_edges(prog, o0, o1, e0, e1)]
    if seed:
        calls.append(partial(np.add, G, prog._S[o0:o1], out=G))
    return calls


def _dense_backward(prog, d) -> Callable:
    """dB = dY @ A and dA = dYᵀ @ B (each factor's local derivative is the other, as for mul),
    summed by BLAS."""
    j = prog._dense_index[id(d)]
    C = prog._C
    dY = prog._G[d.d0:d.d1].reshape(d.S, d.J)
    XA, XB = prog._XA[j], prog._XB[j]

    into_b = access.matmul_into(C, dY, XA, d.pos_b, (d.S, d.h))
    into_a = access.matmul_into(C, dY.T, XB, d.pos_a, (d.J, d.h))

    def dense_backward(into_b=into_b, into_a=into_a) -> None:
        into_b()
        into_a()
    return dense_backward


def _group_backward(prog, group) -> Callable:
    p = prog._p
    g0, g1, t0, t1, neg, _signed_zero = group
    G = prog._G
    if g1 - g0 == 1:  # one sum: every term has the same upstream gradient
        upstream = partial(G.__getitem__, slice(g0, g1))
    else:
        upstream = partial(G.take, p.term_group[t0:t1], None, None, "clip")
    coef = p.term_coef[t0:t1] if neg else None
    A = _operand_view(prog, p.term_a[t0:t1], prog._TA[t0:t1])
    B = _operand_view(prog, p.term_b[t0:t1], prog._TB[t0:t1])
    write_a = access.writer(prog._C, p.term_pos_a[t0:t1])
    write_b = access.writer(prog._C, p.term_pos_b[t0:t1])

    def group_backward(upstream=upstream, coef=coef, A=A, B=B, write_a=write_a,
                       write_b=write_b, local=DOT.local, xp=np_math) -> None:
        up = upstream()
        if coef is not None:
            up = up * coef
        la, lb = local(xp, A, B, None)  # dot([a], [b]): (∂/∂a, ∂/∂b) = (b, a)
        write_a(up, la)
        write_b(up, lb)
    return group_backward


def _operand_view(prog, slots: np.ndarray, buf: np.ndarray) -> np.ndarray:
    """The array ``access.operand`` has the forward read (the same slots, the same decision)."""
    return access.operand(prog, slots, buf)[0]


def _elementwise_backward(prog, ew) -> Callable:
    p = prog._p
    fn, s0, s1, w0, w1 = ew
    args, _refresh = _elementwise_args(prog, ew)
    up, out = prog._G[s0:s1], prog._V[s0:s1]
    write_a = access.writer(prog._C, p.ew_pos_a[w0:w1])
    write_b = access.writer(prog._C, p.ew_pos_b[w0:w1]) if fn.arity == 2 else None

    def elementwise_backward(local=fn.local, args=args, out=out, up=up, write_a=write_a,
                             write_b=write_b, xp=np_math) -> None:
        grads = local(xp, *args, out)
        write_a(up, grads[0])
        if write_b is not None:
            write_b(up, grads[1])
    return elementwise_backward
