"""How a bound level (``levels.py``) reads and writes the replay's arrays, decided once.

Positions that are consecutive become slices; a matrix of positions made of a few affine
rectangles (a dense block's factors: a row of inputs per sample, the bias's column of ones)
becomes strided views; anything else stays an index array. ``gather_edges`` sums each slot's
gradient contributions from the edge buffer in the order eager backward adds them: a copy of
every slot's first contribution plus an in-order ``np.add.at`` of the others (the same additions
as ``np.bincount``, which starts each sum from 0.0: the copy adds 0.0 too, so a lone -0.0 comes
out +0.0 alike), or ``np.bincount`` itself where slots get many contributions each.
"""

from __future__ import annotations

from functools import partial
from typing import Callable, Optional

import numpy as np


def consecutive(slots: np.ndarray) -> Optional[tuple]:
    """(start, stop) when ``slots`` is start, start + 1, ..., stop - 1 (non-empty), else None."""
    n = len(slots)
    if n == 0:
        return None
    a = int(slots[0])
    if int(slots[-1]) != a + n - 1 or (n > 2 and not (np.diff(slots) == 1).all()):
        return None
    return a, a + n


def operand(prog, slots: np.ndarray, buf: np.ndarray):
    """Where a step reads its operands at ``slots`` from, and the call that refreshes it each
    forward (None: nothing to do). Computed slots (and the constant 1.0) change only in forward,
    so consecutive ones are read in place; leaves are copied, so that a ``load`` between a
    forward and its backward does not change the backward."""
    run = consecutive(slots)
    if run is None:
        if len(slots) == 0:
            return buf, None
        return buf, partial(prog._V.take, slots, None, buf, "clip")
    view = prog._V[run[0]:run[1]]
    if run[0] >= prog._nleaf:
        return view, None
    return buf, partial(np.copyto, buf, view)


def writer(C: np.ndarray, positions: np.ndarray) -> Callable:
    """``write(x, y)``: C[positions] = x * y, through a slice when the positions are consecutive."""
    run = consecutive(positions)
    if run is not None:
        return partial(np.multiply, out=C[run[0]:run[1]])

    def write(x, y, C=C, positions=positions):
        C[positions] = x * y
    return write


MAX_PIECES = 8  # a factor matrix's slots in more affine rectangles than this: an index array
MIN_STRIDED = 1024  # fewer elements: an index array is as fast


def affine_pieces(idx: np.ndarray) -> Optional[list]:
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
    found = []
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
            found.append((r0, r1, c0, c1, row[c0], step[c0], cs))
            if len(found) > MAX_PIECES:
                return None
            c0 = c1
        r0 = r1
    return found


def strided_view(a: np.ndarray, piece: tuple) -> np.ndarray:
    """The view of ``a`` at one affine rectangle of positions (see ``affine_pieces``)."""
    r0, r1, c0, c1, base, rs, cs = piece
    return np.lib.stride_tricks.as_strided(a[base:], shape=(r1 - r0, c1 - c0),
                                           strides=(rs * a.itemsize, cs * a.itemsize))


def gather_2d(V: np.ndarray, slots: np.ndarray, out: np.ndarray) -> Callable:
    """out[...] = V[slots] for a matrix of slots: strided copies of a few affine rectangles,
    or one gather."""
    rects = affine_pieces(slots) if slots.size >= MIN_STRIDED else None
    if rects is None:
        return partial(V.take, slots, None, out, "clip")
    copies = tuple(partial(np.copyto, out[r0:r1, c0:c1], strided_view(V, pc))
                   for pc in rects for r0, r1, c0, c1 in [pc[:4]])

    def gather_pieces(copies=copies) -> None:
        for f in copies:
            f()
    return gather_pieces


def gather_edges(prog, o0: int, o1: int, e0: int, e1: int) -> Callable:
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
        where = consecutive(pos)
        if where is not None:
            def gather_bincount(G=G, C=C[where[0]:where[1]], local=local, n=n,
                                bincount=np.bincount) -> None:
                G[...] = bincount(local, C, minlength=n)
            return gather_bincount

        def gather_some(G=G, C=C, pos=pos, local=local, n=n, bincount=np.bincount) -> None:
            G[...] = bincount(local, C[pos], minlength=n)
        return gather_some
    calls = []
    run, at = consecutive(first), consecutive(pos[:k])
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
        at = consecutive(pos[k:])
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


def matmul_into(C: np.ndarray, x: np.ndarray, y: np.ndarray, positions: np.ndarray,
                shape: tuple) -> Callable:
    """``C[positions] = x @ y`` (``positions`` shaped like the product): straight into a slice,
    through strided copies, or scattered."""
    run = consecutive(positions)
    if run is not None:
        return partial(np.matmul, x, y, out=C[run[0]:run[1]].reshape(shape))
    at = positions.reshape(shape)
    rects = affine_pieces(at) if at.size >= MIN_STRIDED else None
    if rects is not None:  # into a buffer, then strided copies into C
        buf = np.zeros(shape, dtype=np.float64)
        copies = tuple(partial(np.copyto, strided_view(C, pc), buf[r0:r1, c0:c1])
                       for pc in rects for r0, r1, c0, c1 in [pc[:4]])

        def scatter_pieces(x=x, y=y, buf=buf, copies=copies, matmul=np.matmul) -> None:
            matmul(x, y, out=buf)
            for f in copies:
                f()
        return scatter_pieces

    def scatter(x=x, y=y, positions=positions) -> None:
        C[positions] = np.matmul(x, y).reshape(-1)
    return scatter
