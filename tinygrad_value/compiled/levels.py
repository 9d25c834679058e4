"""Each level of a schedule bound once to a program's arrays: a replay is then a loop of calls.

``forward_calls(prog)`` and ``backward_calls(prog, ...)`` turn the schedule's steps into lists of
zero-argument callables that hold their NumPy arguments (views of the value, gradient and edge
arrays, index arrays, the op's rule), so replaying a level looks nothing up and recomputes no
index. What a replay would otherwise decide on every call is decided here, once:

* operands in consecutive slots are read through a slice, not gathered with an index array;
  computed slots (which nothing but the next forward changes) are even read in place;
* results whose edge-buffer positions are consecutive are written through a slice;
* a level's gradients are gathered as a copy of every destination's first contribution plus an
  in-order ``np.add.at`` of the others: the same additions in the same order as ``np.bincount``
  (which starts each sum from 0.0: the copy adds 0.0 too, so a -0.0 comes out as +0.0 alike), but
  without its pass over every edge when most destinations have one contribution.

The products of a sum-of-products level take their derivatives from the ``dot`` entry of the op
table (a term ``a·b`` is a one-pair dot): ∂/∂a = b, ∂/∂b = a.
"""

from __future__ import annotations

from functools import partial
from typing import Callable, List, Optional

import numpy as np

from ..engine.ops import DOT, MUL
from . import narrow, np_math

Calls = List[Callable[[], None]]


def _consecutive(slots: np.ndarray) -> Optional[tuple]:
    """(start, stop) when ``slots`` is start, start + 1, ..., stop - 1 (non-empty), else None."""
    n = len(slots)
    if n == 0:
        return None
    a = int(slots[0])
    if int(slots[-1]) != a + n - 1 or (n > 2 and not (np.diff(slots) == 1).all()):
        return None
    return a, a + n


def _operand(prog, slots: np.ndarray, buf: np.ndarray):
    """Where a step reads its operands at ``slots`` from, and the call that refreshes it each
    forward (None: nothing to do). Computed slots (and the constant 1.0) change only in forward,
    so consecutive ones are read in place; leaves are copied, so that a ``load`` between a
    forward and its backward does not change the backward."""
    run = _consecutive(slots)
    if run is None:
        if len(slots) == 0:
            return buf, None
        return buf, partial(prog._V.take, slots, None, buf, "clip")
    view = prog._V[run[0]:run[1]]
    if run[0] >= prog._nleaf:
        return view, None
    return buf, partial(np.copyto, buf, view)


def _writer(C: np.ndarray, positions: np.ndarray) -> Callable:
    """``write(x, y)``: C[positions] = x * y, through a slice when the positions are consecutive."""
    run = _consecutive(positions)
    if run is not None:
        return partial(np.multiply, out=C[run[0]:run[1]])

    def write(x, y, C=C, positions=positions):
        C[positions] = x * y
    return write


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
    take_b = _gather_2d(V, d.b_slots, XB)
    take_a = _gather_2d(V, d.a_slots, XA)
    out, XAT = V[d.d0:d.d1].reshape(d.S, d.J), XA.T

    def dense_forward(take_b=take_b, take_a=take_a, XB=XB, XAT=XAT, out=out,
                      matmul=np.matmul) -> None:
        take_b()
        take_a()
        matmul(XB, XAT, out=out)
    return dense_forward


MAX_PIECES = 8  # a factor matrix's slots in more affine rectangles than this: an index array
MIN_STRIDED = 1024  # fewer elements: an index array is as fast


def _pieces(idx: np.ndarray) -> Optional[list]:
    """``idx`` (R×K) as a few rectangles ``(r0, r1, c0, c1, base, rs, cs)``, each an affine
    pattern idx[r, c] = base + (r − r0)·rs + (c − c0)·cs; None if it takes more than
    MAX_PIECES. A layer's factors are such patterns: a row of inputs per sample, the bias's
    column of ones (row stride 0), a first row laid out apart from the others."""
    R, K = idx.shape
    if R == 0 or K == 0:
        return None
    D = np.diff(idx, axis=0)
    # same[i]: rows i, i + 1 and i + 2 are equally spaced
    breaks = np.flatnonzero(~(D[1:] == D[:-1]).all(axis=1)) if R > 2 else np.zeros(0, int)
    pieces = []
    r0 = 0
    while r0 < R:
        if r0 == R - 1:
            r1, step = R, np.zeros(K, dtype=idx.dtype)
        else:
            b = np.searchsorted(breaks, r0)
            r1, step = (int(breaks[b]) + 2 if b < len(breaks) else R), D[r0]
        row = idx[r0].tolist()
        step = step.tolist()
        c0 = 0
        while c0 < K:
            cs = row[c0 + 1] - row[c0] if c0 + 1 < K else 1
            c1 = c0 + 1
            while c1 < K and step[c1] == step[c0] and row[c1] - row[c1 - 1] == cs:
                c1 += 1
            pieces.append((r0, r1, c0, c1, row[c0], step[c0], cs))
            if len(pieces) > MAX_PIECES:
                return None
            c0 = c1
        r0 = r1
    return pieces


def _strided(a: np.ndarray, piece: tuple) -> np.ndarray:
    """The view of ``a`` at one affine rectangle of positions (see ``_pieces``)."""
    r0, r1, c0, c1, base, rs, cs = piece
    return np.lib.stride_tricks.as_strided(a[base:], shape=(r1 - r0, c1 - c0),
                                           strides=(rs * a.itemsize, cs * a.itemsize))


def _gather_2d(V: np.ndarray, slots: np.ndarray, out: np.ndarray) -> Callable:
    """out[...] = V[slots] for a matrix of slots: strided copies of a few affine rectangles,
    or one gather."""
    pieces = _pieces(slots) if slots.size >= MIN_STRIDED else None
    if pieces is None:
        return partial(V.take, slots, None, out, "clip")
    copies = tuple(partial(np.copyto, out[r0:r1, c0:c1], _strided(V, pc))
                   for pc in pieces for r0, r1, c0, c1 in [pc[:4]])

    def gather_pieces(copies=copies) -> None:
        for f in copies:
            f()
    return gather_pieces


def _group_forward(prog, group) -> Callable:
    p = prog._p
    g0, g1, t0, t1, neg, signed_zero = group
    A, refresh_a = _operand(prog, p.term_a[t0:t1], prog._TA[t0:t1])
    B, refresh_b = _operand(prog, p.term_b[t0:t1], prog._TB[t0:t1])
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
    A, refresh_a = _operand(prog, p.ew_a[w0:w1], prog._WA[w0:w1])
    refresh = [refresh_a] if refresh_a is not None else []
    B = None
    if fn.arity == 2:
        B, refresh_b = _operand(prog, p.ew_b[w0:w1], prog._WB[w0:w1])
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
    calls = [_gather(prog, o0, o1, e0, e1)]
    if seed:
        calls.append(partial(np.add, G, prog._S[o0:o1], out=G))
    return calls


def _gather(prog, o0: int, o1: int, e0: int, e1: int) -> Callable:
    """G[o0:o1] = each slot's contributions from the edge buffer, summed from 0.0 in buffer
    order (the order eager backward adds them, see ``schedule.py``). The constant 1.0 (the
    last slot of level 0) is no node's: its gradient, never read, is not gathered."""
    G, C = prog._G[o0:o1], prog._C[e0:e1]
    local = prog._p.edge_local[e0:e1]
    n = o1 - o0
    pos = np.arange(e1 - e0)
    if o0 == 0:
        keep = local != prog._nleaf
        local, pos = local[keep], pos[keep]
    ne = len(local)
    if ne == 0:
        return partial(G.fill, 0.0)
    # the buffer lists every destination's first contribution, in slot order, before any
    # second one (schedule.py's round-robin): that prefix is strictly increasing
    down = np.flatnonzero(np.diff(local) <= 0)
    k = int(down[0]) + 1 if down.size else ne
    first, rest = local[:k], local[k:]
    if ne - k >= k or (ne > k and not np.isin(rest, first).all()):
        where = _consecutive(pos)
        if where is not None:
            def gather_bincount(G=G, C=C[where[0]:where[1]], local=local, n=n,
                                bincount=np.bincount) -> None:
                G[...] = bincount(local, C, minlength=n)
            return gather_bincount

        def gather_some(G=G, C=C, pos=pos, local=local, n=n, bincount=np.bincount) -> None:
            G[...] = bincount(local, C[pos], minlength=n)
        return gather_some
    calls = []
    run, at = _consecutive(first), _consecutive(pos[:k])
    if run is not None and at is not None:
        a, b = run
        if a > 0:
            calls.append(partial(G[:a].fill, 0.0))
        if b < n:
            calls.append(partial(G[b:].fill, 0.0))
        calls.append(partial(np.add, C[at[0]:at[1]], 0.0, out=G[a:b]))
    else:
        calls.append(partial(G.fill, 0.0))

        def copy_first(G=G, first=first, C=C, at=pos[:k]) -> None:
            G[first] = C[at] + 0.0
        calls.append(copy_first)
    if ne > k:
        at = _consecutive(pos[k:])
        if at is not None:
            calls.append(partial(np.add.at, G, rest, C[at[0]:at[1]]))
        else:
            def add_rest(G=G, rest=rest, C=C, at=pos[k:], add_at=np.add.at) -> None:
                add_at(G, rest, C[at])
            calls.append(add_rest)
    if len(calls) == 1:
        return calls[0]

    def gather(calls=tuple(calls)) -> None:
        for f in calls:
            f()
    return gather


def _dense_backward(prog, d) -> Callable:
    """dB = dY @ A and dA = dYᵀ @ B (each factor's local derivative is the other, as for mul),
    summed by BLAS."""
    j = prog._dense_index[id(d)]
    C = prog._C
    dY = prog._G[d.d0:d.d1].reshape(d.S, d.J)
    XA, XB = prog._XA[j], prog._XB[j]

    def product(x, y, positions, shape):
        run = _consecutive(positions)
        if run is not None:
            return partial(np.matmul, x, y, out=C[run[0]:run[1]].reshape(shape))
        at = positions.reshape(shape)
        pieces = _pieces(at) if at.size >= MIN_STRIDED else None
        if pieces is not None:  # into a buffer, then strided copies into the edge buffer
            buf = np.zeros(shape, dtype=np.float64)
            copies = tuple(partial(np.copyto, _strided(C, pc), buf[r0:r1, c0:c1])
                           for pc in pieces for r0, r1, c0, c1 in [pc[:4]])

            def scatter_pieces(x=x, y=y, buf=buf, copies=copies, matmul=np.matmul) -> None:
                matmul(x, y, out=buf)
                for f in copies:
                    f()
            return scatter_pieces

        def scatter(x=x, y=y, positions=positions) -> None:
            C[positions] = np.matmul(x, y).reshape(-1)
        return scatter

    into_b = product(dY, XA, d.pos_b, (d.S, d.h))
    into_a = product(dY.T, XB, d.pos_a, (d.J, d.h))

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
    write_a = _writer(prog._C, p.term_pos_a[t0:t1])
    write_b = _writer(prog._C, p.term_pos_b[t0:t1])

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
    """The array ``_operand`` has the forward read (the same slots, so the same decision)."""
    return _operand(prog, slots, buf)[0]


def _elementwise_backward(prog, ew) -> Callable:
    p = prog._p
    fn, s0, s1, w0, w1 = ew
    args, _refresh = _elementwise_args(prog, ew)
    up, out = prog._G[s0:s1], prog._V[s0:s1]
    write_a = _writer(prog._C, p.ew_pos_a[w0:w1])
    write_b = _writer(prog._C, p.ew_pos_b[w0:w1]) if fn.arity == 2 else None

    def elementwise_backward(local=fn.local, args=args, out=out, up=up, write_a=write_a,
                             write_b=write_b, xp=np_math) -> None:
        grads = local(xp, *args, out)
        write_a(up, grads[0])
        if write_b is not None:
            write_b(up, grads[1])
    return elementwise_backward
