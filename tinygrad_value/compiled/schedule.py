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

import operator
from bisect import bisect_left
from dataclasses import dataclass
from itertools import chain
from typing import List, NamedTuple, Optional

import numpy as np

from ..engine.backward import topo_order
from ..engine.ops import OPS, Op
from . import dense
from .fold import PRODUCTS, UnsupportedOpError, fold, interior


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


class NodeIndex:
    """Node -> topological index, looked up by identity in two sorted int arrays (a dict of 10⁶
    Values costs ~70 MB, these 16 MB). ``order`` keeps every node alive, so ids are unique."""

    __slots__ = ("order", "_ids", "_topo")

    def __init__(self, order: list) -> None:
        ids = np.fromiter(map(id, order), dtype=np.uint64, count=len(order))
        perm = np.argsort(ids)
        self.order = order
        self._ids = ids[perm]
        self._topo = perm

    def lookup_ids(self, ids: np.ndarray) -> np.ndarray:
        """Topological index of each id (uint64 array), -1 for an id not in the graph."""
        i = np.searchsorted(self._ids, ids)
        np.minimum(i, len(self._ids) - 1, out=i)
        return np.where(self._ids[i] == ids, self._topo[i], -1)

    def lookup(self, nodes) -> np.ndarray:
        return self.lookup_ids(np.fromiter(map(id, nodes), dtype=np.uint64, count=len(nodes)))

    def get(self, node):
        """``node``'s topological index, or None if it is not in the graph."""
        k = int(self.lookup((node,))[0])
        return None if k < 0 else k


_get_children = operator.attrgetter("children")


def _children(order: list, index: NodeIndex):
    """Every node's children as topological indices (one flat int64 array), how many children
    each node has, and how many times each node is used; every op is checked once."""
    for fn in {node._fn for node in order}:
        if fn is not None:
            _check_supported(fn)
    counts = np.fromiter(map(len, map(_get_children, order)), dtype=np.int64, count=len(order))
    ids = np.fromiter(map(id, chain.from_iterable(map(_get_children, order))), dtype=np.uint64,
                      count=int(counts.sum()))
    kids = index.lookup_ids(ids)
    uses = np.bincount(kids, minlength=len(order))
    return kids, counts, uses


def _levels(order: list, kids: list, counts: list, groups: dict, op_number: dict):
    """Level (1 + deepest input) and kind (0: group root, 1 + op number: elementwise) of every
    node that keeps a slot; folded nodes are skipped."""
    n = len(order)
    level = [0] * n
    kind = [0] * n
    kept = []
    for k, node, ch in interior(order, kids, counts):
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
            for c in ch:
                if level[c] > deepest:
                    deepest = level[c]
            kind[k] = 1 + op_number[node._fn]
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


class GroupStep(NamedTuple):
    """A level's sums of products: groups in slots ``g0 .. g1``, their terms ``t0 .. t1``."""
    g0: int
    g1: int
    t0: int
    t1: int
    neg: bool  # some term has coefficient -1 (multiply by the coefficients)
    signed_zero: bool  # some group is a chain of binary ops (a zero sum may be -0.0)


class ElementwiseStep(NamedTuple):
    """One op over slots ``s0 .. s1``; its operands are ``ew_*[w0:w1]`` of the schedule."""
    fn: Op
    s0: int
    s1: int
    w0: int
    w1: int


class LevelStep(NamedTuple):
    """One level: slots ``s0 .. s1`` and their incoming gradient edges ``e0 .. e1`` (positions
    in the edge buffer); its group step, elementwise steps and dense blocks."""
    s0: int
    s1: int
    e0: int
    e1: int
    group: Optional[GroupStep]
    elementwise: List[ElementwiseStep]
    dense: List[DenseStep]


@dataclass
class Schedule:
    """A graph flattened for the replay (``build``). Slots are positions in the replay's value
    and gradient arrays: leaves first, then the constant 1.0, then kept nodes by level."""
    order: list  # every node in topological order (root last)
    index: NodeIndex  # node -> topological index
    groups: dict  # topological index -> fold._Group (terms dropped: they are in the arrays)
    original_terms: dict  # group node -> its term tuples, for groups whose terms are not in
    #                       the term arrays as they were folded (dense rows)
    slot: np.ndarray  # topological index (and dense output id) -> slot, -1 if folded
    slot_topo: np.ndarray  # slot -> topological index (-1 for the constant 1.0)
    leaves: list  # the leaf Values, in slot order
    size: int  # number of slots
    root_slot: int  # the root's slot
    steps: List[LevelStep]  # steps[L - 1] runs level L
    level0: tuple  # (s0, s1, e0, e1) of level 0 (leaves and 1.0: gradients only)
    group_first: np.ndarray  # slot -> index of its group's first term
    group_end: np.ndarray  # slot -> one past its group's last term
    group_signed_zero: np.ndarray  # slot -> the group is a chain of binary ops (bool)
    term_coef: np.ndarray  # each term's coefficient, ±1 (float64)
    term_a: np.ndarray  # slot of each term's first factor
    term_b: np.ndarray  # slot of each term's second factor (the 1.0 slot for a lone term)
    term_group: np.ndarray  # slot of the group each term belongs to
    term_pos_a: np.ndarray  # edge-buffer position of the gradient to the first factor
    term_pos_b: np.ndarray  # edge-buffer position of the gradient to the second factor
    ew_a: np.ndarray  # slot of each elementwise node's first operand
    ew_b: np.ndarray  # slot of its second operand (the 1.0 slot for one-input ops)
    ew_k: np.ndarray  # its op's constant (0.0 when the op has none)
    ew_pos_a: np.ndarray  # edge-buffer position of the gradient to the first operand
    ew_pos_b: np.ndarray  # to the second operand (-1 for one-input ops)
    edge_local: np.ndarray  # each edge's destination, relative to its level's first slot
    dense: List[DenseStep]  # the dense blocks, in level order
    dense_edges: int  # number of edge-buffer positions the dense blocks fill


DENSE = -1  # slot kind of a dense block's outputs (groups are 0, elementwise ops 1 + op number)


def _rewrite_rows(blocks: list, groups: dict, n: int):
    """Give every row of every block its output ``D`` (the group's own node when the row is the
    whole group, else a new id ``n, n + 1, …``) and replace the row's terms in its group by
    ``1·D``; a product group inlined into a row is marked as folded into it. Returns the D ids
    per block, the rewritten groups' original term lists, how many new ids, the inlined nodes."""
    ids, original, inlined = [], {}, set()
    fresh = n
    folded_into = None  # group -> the groups folded directly into it, built when first needed
    for block in blocks:
        out = []
        for row in block.rows:
            g = groups[row.node]
            terms = row.terms
            if row.inlined:
                if folded_into is None:
                    folded_into = {}
                    for h in groups.values():
                        if h.into is not None:
                            folded_into.setdefault(id(h.into), []).append(h)
                _widen_folded(g, row.inlined, folded_into)
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


def _widen_folded(g, inlined: tuple, folded_into: dict) -> None:
    """A row that inlines product groups lists more terms than its group did (each ``1·c`` term
    became c's products): move the term ranges of the groups folded into g, at any depth, from
    the group's term positions to the row's, so ``value()`` of such a node reads its own terms."""
    at, before = [], [0]  # each inlined term's position in the group's terms; terms gained
    for _c, first_term, size in sorted(inlined, key=lambda t: t[1]):
        at.append(first_term - before[-1])
        before.append(before[-1] + size - 1)

    def moved(position: int) -> int:  # a range boundary, from group positions to row positions
        return position + before[bisect_left(at, position)]

    stack = [(h, 0, 0) for h in folded_into.get(id(g), ())]  # (group, parent's start old/new)
    while stack:
        h, parent_old, parent_new = stack.pop()
        start = parent_old + h.offset
        new_start, new_end = moved(start), moved(start + h.size)
        h.offset, h.size = new_start - parent_new, new_end - new_start
        stack.extend((c, start, new_start) for c in folded_into.get(id(h), ()))


def _factor_slots(keys, slot: np.ndarray, one: int) -> np.ndarray:
    """The slots of a block's factor sequences (a row each); ``dense.ONE`` is the constant 1.0."""
    f = _i64(keys)
    return np.where(f == dense.ONE, one, slot[f])


def build(root, use_dense: bool = True) -> Schedule:
    """Everything the replay needs, as arrays and a per-level step list (see module docstring).
    ``use_dense=False`` leaves every row on the exact sequential sums (no matmul)."""
    order = topo_order(root)
    n = len(order)
    index = NodeIndex(order)
    kid_arr, count_arr, use_arr = _children(order, index)
    kids, counts, uses = kid_arr.tolist(), count_arr.tolist(), use_arr.tolist()
    del use_arr
    groups = fold(order, kids, counts, uses)
    ops_by_number = list(OPS.values())
    level, kind, kept = _levels(order, kids, counts, groups,
                                {fn: i for i, fn in enumerate(ops_by_number)})
    del kids, counts
    blocks = dense.find(order, groups, level, kept, uses) if use_dense else []
    del uses
    block_ids, original_terms, nfresh, inlined = _rewrite_rows(blocks, groups, n)

    # Every level L becomes two half-levels: 2L for what was there, 2F + 1 for the outputs of
    # the dense blocks whose factors reach level F (so they come after their factors and before
    # the groups that read them); empty half-levels are then squeezed out.
    nall = n + nfresh
    lv = np.zeros(nall, dtype=np.int64)
    lv[:n] = 2 * _i64(level)
    kd = np.zeros(nall, dtype=np.int64)
    kd[:n] = _i64(kind)
    del level, kind
    tie = np.arange(nall, dtype=np.int64)  # slots sort by (level, kind, tie)
    kept_all = [k for k in kept if k not in inlined] if inlined else kept
    del kept
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
    kept_arr = _i64(kept_all)
    del kept_all
    used = np.unique(lv[kept_arr])
    squeeze = np.zeros(int(lv.max()) + 1 if nall else 1, dtype=np.int64)
    squeeze[used] = np.arange(1, len(used) + 1)  # leaves (and the constant 1.0) stay at 0
    lv = squeeze[lv]

    # slots: leaves, then the constant 1.0, then kept nodes sorted by (level, kind, topo)
    leaves = np.flatnonzero(np.fromiter((node._fn is None for node in order), dtype=bool,
                                        count=n))
    one = len(leaves)
    perm = kept_arr[np.lexsort((tie[kept_arr], kd[kept_arr], lv[kept_arr]))]
    del kept_arr, tie
    slot_topo = np.concatenate([leaves, [-1], perm])
    m = len(slot_topo)
    slot = np.full(nall, -1, dtype=np.int64)
    slot[leaves] = np.arange(one)
    slot[perm] = np.arange(one + 1, m)
    slot_level_arr = np.concatenate([np.zeros(one + 1, dtype=np.int64), lv[perm]])
    slot_kind_arr = np.concatenate([np.zeros(one + 1, dtype=np.int64), kd[perm]])
    del lv, kd, perm

    # terms of the kept groups, in slot order: one (T, 7) array of the term tuples
    # (coef, a, b, consumer_a, slot_a, consumer_b, slot_b), then the tuples are dropped
    g_first = np.zeros(m, dtype=np.int64)  # each kept group's terms: [g_first, g_end)
    g_end = np.zeros(m, dtype=np.int64)
    g_signed_zero = np.zeros(m, dtype=bool)
    gslots = np.flatnonzero(slot_kind_arr == 0)
    gslots = gslots[gslots > one]
    flat: list = []
    for s_, k in zip(gslots.tolist(), slot_topo[gslots].tolist()):
        g = groups[k]
        g_first[s_] = len(flat)
        if not g.from_zero:
            g_signed_zero[s_] = True
        flat.extend(g.terms)
        g_end[s_] = len(flat)
    T = np.array(flat, dtype=np.float64).reshape(-1, 7)  # topo indices < 2⁵³: exact
    del flat
    for block in blocks:  # a dense row's terms are in no array: the replay keeps them
        for row in block.rows:
            original_terms.setdefault(row.node, groups[row.node].terms)
    for g in groups.values():  # the replay reads terms from the arrays from now on
        g.terms = None
    nterm = len(T)
    coef = np.ascontiguousarray(T[:, 0])
    t_a = slot[T[:, 1].astype(np.int64)]
    tb_topo = T[:, 2].astype(np.int64)
    t_b = np.where(tb_topo < 0, one, slot[tb_topo])
    del tb_topo
    ea_cons, ea_slot, eb_cons, eb_slot = (T[:, c].astype(np.int64) for c in (3, 4, 5, 6))
    del T
    seg = np.repeat(gslots, g_end[gslots] - g_first[gslots])

    # operands of the elementwise nodes, in slot order (their children, first and second)
    w_slot = np.flatnonzero(slot_kind_arr > 0)
    w_topo = slot_topo[w_slot]
    nw = len(w_slot)
    kstart = np.concatenate([[0], np.cumsum(count_arr)])[w_topo]
    two = count_arr[w_topo] == 2
    del count_arr
    w_a = slot[kid_arr[kstart]] if nw else np.zeros(0, dtype=np.int64)
    w_b = np.full(nw, one, dtype=np.int64)
    w_b[two] = slot[kid_arr[kstart[two] + 1]]
    del kid_arr, kstart
    w_k = np.array([order[k]._arg if order[k]._fn.has_param else 0.0 for k in w_topo.tolist()],
                   dtype=np.float64)
    wb_which = np.flatnonzero(two)
    wb_dst = w_b[two]
    wb_cons = w_topo[two]
    w_index = np.full(m, -1, dtype=np.int64)
    w_index[w_slot] = np.arange(nw)

    # a dense block's gradient edges: one per factor position, A side then B side
    d_dst, d_cons, d_slot, d_blocks = [], [], [], []
    nd0 = 2 * nterm + nw + len(wb_dst)
    nd_edges = 0
    for block, ids in zip(blocks, block_ids):
        J, S, h = len(block.a_keys), len(block.b_keys), len(block.a_keys[0])
        a_slots = _factor_slots(block.a_keys, slot, one).reshape(J, h)
        b_slots = _factor_slots(block.b_keys, slot, one).reshape(S, h)
        first = nd_edges
        d_dst += [a_slots.reshape(-1), b_slots.reshape(-1)]
        d_cons.append(np.full((J + S) * h, block.rows[0].node, dtype=np.int64))
        d_slot.append(np.tile(np.arange(h, dtype=np.int64), J + S))
        nd_edges += (J + S) * h
        d0 = int(slot[ids[0]])
        d_blocks.append((d0, d0 + S * J, S, J, h, b_slots, a_slots,
                         nd0 + first, nd0 + first + J * h, nd0 + nd_edges))
    none = [np.zeros(0, dtype=np.int64)]
    e_dst = np.concatenate([t_a, t_b, w_a, wb_dst] + (d_dst or none))
    e_cons = np.concatenate([ea_cons, eb_cons, w_topo, wb_cons] + (d_cons or none))
    e_slot = np.concatenate([ea_slot, eb_slot, np.zeros(nw, dtype=np.int64),
                             np.ones(len(wb_dst), dtype=np.int64)] + (d_slot or none))
    del ea_cons, eb_cons, ea_slot, eb_slot, d_dst, d_cons, d_slot
    # eager backward visits consumers in reverse topological order, children in slot order
    eorder = np.lexsort((e_slot, -e_cons, e_dst))
    del e_slot, e_cons
    d = e_dst[eorder]
    ne = len(d)
    run_start = np.flatnonzero(np.concatenate([[True], d[1:] != d[:-1]])) if ne else d
    rank = np.arange(ne) - np.repeat(run_start, np.diff(np.append(run_start, ne)))
    # Within a level, edges go round-robin over destinations (every destination's first
    # contribution, then every second one, ...): np.bincount still adds each destination's
    # contributions in eager order, but consecutive adds hit different accumulators.
    eorder = eorder[np.lexsort((d, rank, slot_level_arr[d]))]
    del d, rank, run_start
    pos = np.empty(ne, dtype=np.int64)
    pos[eorder] = np.arange(ne)
    dst_sorted = e_dst[eorder]  # sorted by level only
    del eorder, e_dst
    pos_wb = np.full(nw, -1, dtype=np.int64)
    pos_wb[wb_which] = pos[2 * nterm + nw:nd0]
    # dense blocks: (d0, d1, S, J, h, B slots S×h, A slots J×h, edge positions of A, of B)
    dense_steps = [DenseStep(d0, d1, S, J, h, b_slots, a_slots, pos[pa:pb], pos[pb:pe])
                   for d0, d1, S, J, h, b_slots, a_slots, pa, pb, pe in d_blocks]
    dense_at = {step.d0: step for step in dense_steps}

    # per level: a slice of slots, a slice of sorted edges, a group step, elementwise steps
    top = int(slot_level_arr[-1])
    lstart = np.searchsorted(slot_level_arr, np.arange(top + 2)).tolist()
    estart = np.searchsorted(slot_level_arr[dst_sorted], np.arange(top + 2)).tolist()
    tstart = np.searchsorted(seg, lstart).tolist()
    negs = np.concatenate([[0], np.cumsum(coef < 0)])
    slot_kind = slot_kind_arr.tolist()
    steps = []  # steps[L - 1] for level L
    for L in range(1, top + 1):
        o0, o1 = lstart[L], lstart[L + 1]
        if slot_kind[o0] == DENSE:  # a half-level of dense blocks only
            blocks_here = []
            s_ = o0
            while s_ < o1:
                blocks_here.append(dense_at[s_])
                s_ = dense_at[s_].d1
            steps.append(LevelStep(o0, o1, estart[L], estart[L + 1], None, [], blocks_here))
            continue
        group = None
        s_ = o0
        while s_ < o1 and slot_kind[s_] == 0:
            s_ += 1
        if s_ > o0:
            t0, t1 = tstart[L], tstart[L + 1]
            group = GroupStep(o0, s_, t0, t1, bool(negs[t1] > negs[t0]),
                              bool(g_signed_zero[o0:s_].any()))
        ews = []
        while s_ < o1:
            kk = slot_kind[s_]
            e = s_ + 1
            while e < o1 and slot_kind[e] == kk:
                e += 1
            w0 = int(w_index[s_])
            ews.append(ElementwiseStep(ops_by_number[kk - 1], s_, e, w0, w0 + (e - s_)))
            s_ = e
        steps.append(LevelStep(o0, o1, estart[L], estart[L + 1], group, ews, []))

    return Schedule(
        order=order, index=index, groups=groups, original_terms=original_terms,
        slot=slot, slot_topo=slot_topo, leaves=[order[k] for k in leaves.tolist()], size=m,
        root_slot=int(slot[n - 1]), steps=steps,
        level0=(0, lstart[1], estart[0], estart[1]) if top else (0, m, 0, len(dst_sorted)),
        group_first=g_first, group_end=g_end, group_signed_zero=g_signed_zero,
        term_coef=coef, term_a=t_a, term_b=t_b, term_group=seg, term_pos_a=pos[:nterm],
        term_pos_b=pos[nterm:2 * nterm], ew_a=w_a, ew_b=w_b, ew_k=w_k,
        ew_pos_a=pos[2 * nterm:2 * nterm + nw], ew_pos_b=pos_wb,
        edge_local=dst_sorted - _i64(lstart)[slot_level_arr[dst_sorted]],
        dense=dense_steps, dense_edges=nd_edges,
    )
