"""Flatten a scalar graph, once, into the level-scheduled index arrays the compiled replay runs.

Two kinds of work come out of a graph:

* **sums of products** (``fold.py``): chains of ``+ - neg sum`` over ``*`` and ``dot`` folded
  into groups of terms ``c · a · b``, evaluated with ``np.bincount`` (a sequential segment sum,
  so eager sums are reproduced bit for bit);
* **elementwise ops**: every other op of the table, one child or two, with its constant.

Every surviving node (leaves, group roots, elementwise nodes) gets a *level* (1 + its inputs'
deepest level) and a slot in one array; slots are sorted by level, then by kind, so each level is
one segment sum plus one call per op, on contiguous slices.

Backward gathers each node's gradient from an edge buffer laid out by level, keeping each
destination's contributions in eager order, again with ``np.bincount``, so they are added in the
order ``backward()`` adds them. Building is one pass over the topological order plus a few
NumPy sorts, so compiling 10⁶ nodes takes seconds, not minutes; nothing recurses.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..engine.backward import topo_order
from ..engine.ops import OPS, Op
from . import dense
from .fold import PRODUCTS, UnsupportedOpError, fold


def _check_supported(fn: Op) -> None:
    if OPS.get(fn.name) is not fn:
        raise UnsupportedOpError(
            f"tinygrad_value.compile: op {fn.name!r} is not in the op table (tinygrad_value.OPS)")
    if fn.arity not in (1, 2) and fn not in PRODUCTS and not fn.linear:
        raise UnsupportedOpError(
            f"tinygrad_value.compile: n-ary op {fn.name!r} is not supported "
            "(only sum and dot are n-ary)")
    if fn.has_param and fn.arity != 1:
        raise UnsupportedOpError(
            f"tinygrad_value.compile: op {fn.name!r} has a constant and {fn.arity} inputs; "
            "only one-input ops may carry a constant")


def _children(order: list, topo: dict):
    """Topological indices of every node's children, and how many times each node is used."""
    n = len(order)
    uses = [0] * n
    kids = [None] * n
    checked = set()
    for k, node in enumerate(order):
        fn = node._fn
        if fn is None:
            continue
        if fn not in checked:
            _check_supported(fn)
            checked.add(fn)
        ch = tuple([topo[c] for c in node.children])
        kids[k] = ch
        for c in ch:
            uses[c] += 1
    return kids, uses


def _levels(order: list, kids: list, groups: dict, op_number: dict):
    """Level (1 + deepest input) and kind (0: group root, 1 + op number: elementwise) of every
    node that keeps a slot; folded nodes are skipped."""
    n = len(order)
    level = [0] * n
    kind = [0] * n
    kept = []
    for k, node in enumerate(order):
        fn = node._fn
        if fn is None:
            continue
        g = groups.get(k)
        if g is not None:
            if g.into is not None:
                continue
            deepest = 0
            for t in g.terms:
                la = level[t[1]]
                if la > deepest:
                    deepest = la
                if t[2] >= 0 and level[t[2]] > deepest:
                    deepest = level[t[2]]
        else:
            deepest = 0
            for c in kids[k]:
                if level[c] > deepest:
                    deepest = level[c]
            kind[k] = 1 + op_number[fn]
        level[k] = deepest + 1
        kept.append(k)
    return level, kind, kept


def _i64(xs) -> np.ndarray:
    return np.array(xs, dtype=np.int64)


class DenseStep(NamedTuple):
    """One dense block (``dense.py``): slots ``d0 .. d1`` hold ``Y = B @ Aᵀ`` row-major (S×J);
    ``b_slots``/``a_slots`` are the factors' slots; ``pos_a``/``pos_b`` the edge-buffer
    positions that receive ``dA = dYᵀ @ B`` and ``dB = dY @ A``."""
    d0: int
    d1: int
    S: int
    J: int
    h: int
    b_slots: np.ndarray
    a_slots: np.ndarray
    pos_a: np.ndarray
    pos_b: np.ndarray


DENSE = -1  # slot kind of a dense block's outputs (groups are 0, elementwise ops 1 + op number)


def _rewrite_rows(blocks: list, groups: dict, n: int):
    """Give every row of every block its output ``D`` (the group's own node when the row is the
    whole group, else a new id ``n, n + 1, …``) and replace the row's terms in its group by
    ``1·D``; a product group inlined into a row is marked as folded into it. Returns the D ids
    per block, the rewritten groups' original term lists, how many new ids, the inlined nodes."""
    ids, original, inlined = [], {}, set()
    fresh = n
    for block in blocks:
        out = []
        for row in block.rows:
            g = groups[row.node]
            terms = row.terms
            for c, first_term, size in row.inlined:
                cg = groups[c]
                cg.into, cg.offset, cg.size, cg.sign = g, first_term, size, 1.0
                inlined.add(c)
            if row.inlined or not row.whole:
                original[row.node] = terms
            if row.whole:
                out.append(row.node)
                continue
            first = terms[row.run[0]]
            skip = set(row.run)
            new_terms = []
            for i, t in enumerate(terms):
                if i == row.run[0]:
                    new_terms.append((1.0, fresh, -1, first[3], first[4], -1, 0))
                elif i not in skip:
                    new_terms.append(t)
            g.terms = new_terms
            out.append(fresh)
            fresh += 1
        ids.append(out)
    return ids, original, fresh - n, inlined


def build(root, use_dense: bool = True) -> dict:
    """Everything the replay needs, as arrays and a per-level step list (see module docstring).
    ``use_dense=False`` leaves every row on the exact sequential sums (no matmul)."""
    order = topo_order(root)
    n = len(order)
    topo = {node: k for k, node in enumerate(order)}
    kids, uses = _children(order, topo)
    groups = fold(order, kids, uses)
    ops_by_number = list(OPS.values())
    level, kind, kept = _levels(order, kids, groups,
                                {fn: i for i, fn in enumerate(ops_by_number)})
    blocks = dense.find(order, groups, level, kept, uses) if use_dense else []
    block_ids, original_terms, nfresh, inlined = _rewrite_rows(blocks, groups, n)

    # Every level L becomes two half-levels: 2L for what was there, 2F + 1 for the outputs of
    # the dense blocks whose factors reach level F (so they come after their factors and before
    # the groups that read them); empty half-levels are then squeezed out.
    nall = n + nfresh
    lv = np.zeros(nall, dtype=np.int64)
    lv[:n] = 2 * _i64(level)
    kd = np.zeros(nall, dtype=np.int64)
    kd[:n] = _i64(kind)
    tie = np.arange(nall, dtype=np.int64)  # slots sort by (level, kind, tie)
    kept_all = [k for k in kept if k not in inlined] if inlined else list(kept)
    whole = set()
    ordinal = 0
    for block, ids in zip(blocks, block_ids):
        for d, row in zip(ids, block.rows):
            if row.whole:
                whole.add(d)
            else:
                kept_all.append(d)
            lv[d] = 2 * block.level + 1
            kd[d] = DENSE
            tie[d] = ordinal
            ordinal += 1
    used = np.unique(lv[_i64(kept_all)]) if kept_all else np.zeros(0, dtype=np.int64)
    squeeze = np.zeros(int(lv.max()) + 1 if nall else 1, dtype=np.int64)
    squeeze[used] = np.arange(1, len(used) + 1)  # leaves (and the constant 1.0) stay at 0
    lv = squeeze[lv]

    # slots: leaves, then the constant 1.0, then kept nodes sorted by (level, kind, topo)
    leaves = [k for k, node in enumerate(order) if node._fn is None]
    one = len(leaves)
    kept_arr = _i64(kept_all)
    perm = kept_arr[np.lexsort((tie[kept_arr], kd[kept_arr], lv[kept_arr]))] if kept_all \
        else kept_arr
    slot_topo = np.concatenate([_i64(leaves), [-1], perm]).tolist()
    m = len(slot_topo)
    slot = np.full(nall, -1, dtype=np.int64)
    slot[_i64(leaves)] = np.arange(one)
    slot[perm] = np.arange(one + 1, m)
    slot_level = [0] * (one + 1) + lv[perm].tolist()
    slot_kind = [0] * (one + 1) + kd[perm].tolist()
    sl = slot.tolist()

    # terms of the kept groups and operands of elementwise nodes, both in slot order; edges
    # (one per term factor, one per elementwise operand) with their eager order key
    t_coef, t_a, t_b, t_seg = [], [], [], []
    ea_cons, ea_slot, eb_cons, eb_slot = [], [], [], []
    w_a, w_b, w_k, w_slot = [], [], [], []
    wb_dst, wb_cons, wb_which = [], [], []
    g_first = np.zeros(m, dtype=np.int64)  # each kept group's terms: [g_first, g_end)
    g_end = np.zeros(m, dtype=np.int64)
    g_signed_zero = np.zeros(m, dtype=bool)
    for s_ in range(one + 1, m):
        if slot_kind[s_] == DENSE:
            continue
        k = slot_topo[s_]
        g = groups.get(k)
        if g is not None:
            g_first[s_] = len(t_coef)
            if not g.from_zero:
                g_signed_zero[s_] = True
            for coef, a, b, ka, sa, kb, sb in g.terms:
                t_coef.append(coef)
                t_a.append(sl[a])
                t_b.append(one if b < 0 else sl[b])
                t_seg.append(s_)
                ea_cons.append(ka)
                ea_slot.append(sa)
                eb_cons.append(kb)
                eb_slot.append(sb)
            g_end[s_] = len(t_coef)
        else:
            node = order[k]
            ch = kids[k]
            if len(ch) == 2:
                wb_which.append(len(w_a))
                wb_dst.append(sl[ch[1]])
                wb_cons.append(k)
            w_a.append(sl[ch[0]])
            w_b.append(sl[ch[1]] if len(ch) == 2 else one)
            w_k.append(node._arg if node._fn.has_param else 0.0)
            w_slot.append(s_)
    nterm, nw = len(t_coef), len(w_a)
    # a dense block's gradient edges: one per factor position, A side then B side
    d_dst, d_cons, d_slot, d_blocks = [], [], [], []
    nd0 = 2 * nterm + nw + len(wb_dst)

    def factor(f: int) -> int:
        return one if f == dense.ONE else sl[f]

    for block, ids in zip(blocks, block_ids):
        J, S, h = len(block.a_keys), len(block.b_keys), len(block.a_keys[0])
        cons = block.rows[0].node
        first = len(d_dst)
        for keys in (block.a_keys, block.b_keys):
            for key in keys:
                d_dst.extend(map(factor, key))
                d_cons.extend([cons] * h)
                d_slot.extend(range(h))
        d0 = sl[ids[0]]
        d_blocks.append((d0, d0 + S * J, S, J, h,
                         _i64([[factor(f) for f in key] for key in block.b_keys]).reshape(S, h),
                         _i64([[factor(f) for f in key] for key in block.a_keys]).reshape(J, h),
                         nd0 + first, nd0 + first + J * h, nd0 + len(d_dst)))
    nd_edges = len(d_dst)
    e_dst = np.concatenate([_i64(t_a), _i64(t_b), _i64(w_a), _i64(wb_dst), _i64(d_dst)])
    e_cons = np.concatenate([_i64(ea_cons), _i64(eb_cons), _i64([slot_topo[s_] for s_ in w_slot]),
                             _i64(wb_cons), _i64(d_cons)])
    e_slot = np.concatenate([_i64(ea_slot), _i64(eb_slot), np.zeros(nw, dtype=np.int64),
                             np.ones(len(wb_dst), dtype=np.int64), _i64(d_slot)])
    # eager backward visits consumers in reverse topological order, children in slot order
    eorder = np.lexsort((e_slot, -e_cons, e_dst))
    d = e_dst[eorder]
    ne = len(d)
    run_start = np.flatnonzero(np.concatenate([[True], d[1:] != d[:-1]])) if ne else d
    rank = np.arange(ne) - np.repeat(run_start, np.diff(np.append(run_start, ne)))
    # Within a level, edges go round-robin over destinations (every destination's first
    # contribution, then every second one, ...): np.bincount still adds each destination's
    # contributions in eager order, but consecutive adds hit different accumulators.
    slot_level_arr = _i64(slot_level)
    eorder = eorder[np.lexsort((d, rank, slot_level_arr[d]))]
    pos = np.empty(ne, dtype=np.int64)
    pos[eorder] = np.arange(ne)
    dst_sorted = e_dst[eorder]  # sorted by level only
    pos_wb = np.full(nw, -1, dtype=np.int64)
    pos_wb[_i64(wb_which)] = pos[2 * nterm + nw:nd0]
    # dense blocks: (d0, d1, S, J, h, B slots S×h, A slots J×h, edge positions of A, of B)
    dense_steps = [DenseStep(d0, d1, S, J, h, b_slots, a_slots, pos[pa:pb], pos[pb:pe])
                   for d0, d1, S, J, h, b_slots, a_slots, pa, pb, pe in d_blocks]
    dense_at = {step.d0: step for step in dense_steps}

    # per level: a slice of slots, a slice of sorted edges, a group step, elementwise steps
    top = slot_level[-1]
    lstart = np.searchsorted(slot_level_arr, np.arange(top + 2)).tolist()
    estart = np.searchsorted(slot_level_arr[dst_sorted], np.arange(top + 2)).tolist()
    seg = _i64(t_seg)
    tstart = np.searchsorted(seg, lstart).tolist()
    coef = np.array(t_coef, dtype=np.float64)
    negs = np.concatenate([[0], np.cumsum(coef < 0)]).tolist()
    ew_index = dict(zip(w_slot, range(nw)))
    steps = []  # steps[L - 1] for level L: (s0, s1, e0, e1, group, elementwise, dense)
    for L in range(1, top + 1):
        o0, o1 = lstart[L], lstart[L + 1]
        if slot_kind[o0] == DENSE:  # a half-level of dense blocks only
            blocks_here = []
            s_ = o0
            while s_ < o1:
                blocks_here.append(dense_at[s_])
                s_ = dense_at[s_].d1
            steps.append((o0, o1, estart[L], estart[L + 1], None, [], blocks_here))
            continue
        group = None
        s_ = o0
        while s_ < o1 and slot_kind[s_] == 0:
            s_ += 1
        if s_ > o0:
            t0, t1 = tstart[L], tstart[L + 1]
            group = (o0, s_, t0, t1, negs[t1] > negs[t0], bool(g_signed_zero[o0:s_].any()))
        ews = []
        while s_ < o1:
            kk = slot_kind[s_]
            e = s_ + 1
            while e < o1 and slot_kind[e] == kk:
                e += 1
            w0 = ew_index[s_]
            ews.append((ops_by_number[kk - 1], s_, e, w0, w0 + (e - s_)))
            s_ = e
        steps.append((o0, o1, estart[L], estart[L + 1], group, ews, []))

    return dict(
        order=order, topo=topo, groups=groups,
        slot=slot, slot_topo=slot_topo, leaves=[order[k] for k in leaves], size=m,
        root_slot=sl[n - 1], steps=steps,
        level0=(0, lstart[1], estart[0], estart[1]) if top else (0, m, 0, len(e_dst)),
        g_first=g_first, g_end=g_end, g_signed_zero=g_signed_zero,
        coef=coef, ta=_i64(t_a), tb=_i64(t_b), seg=seg, pos_ta=pos[:nterm],
        pos_tb=pos[nterm:2 * nterm], wa=_i64(w_a), wb=_i64(w_b),
        wk=np.array(w_k, dtype=np.float64), pos_wa=pos[2 * nterm:2 * nterm + nw], pos_wb=pos_wb,
        edge_local=dst_sorted - _i64(lstart)[slot_level_arr[dst_sorted]],
        dense=dense_steps, original_terms=original_terms, dense_edges=nd_edges,
    )
