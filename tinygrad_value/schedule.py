"""Flatten a scalar graph, once, into the level-scheduled index arrays the compiled replay runs.

Two kinds of work come out of a graph:

* **sums of products.** ``add``, ``sub``, ``neg`` and ``sum`` are linear: their local derivatives
  are the constants ±1, so the node is Σ cᵢ·childᵢ. ``mul`` is one product and ``dot`` is
  Σ xᵢ·wᵢ. A chain such as micrograd's neuron ``b + w₀x₀ + w₁x₁ + …`` is therefore one *group*:
  a list of terms ``c · a · b`` (a lone child is ``c · child · 1``). A linear node absorbs its
  first child's group when that child has no other consumer, and any one-term group (a ``mul``,
  a ``neg``) whatever its position. Terms are kept in the order the eager engine adds them, so a
  sequential segment sum (``np.bincount``) reproduces eager sums bit for bit.
* **elementwise ops**: every other op of the table, one child or two, with its constant.

Every surviving node (leaves, group roots, elementwise nodes) gets a *level* (1 + its inputs'
deepest level) and a slot in one array; slots are sorted by level, then by kind, so each level is
one segment sum plus one call per op, on contiguous slices.

Backward gathers each node's gradient from an edge buffer sorted by (destination, eager order),
again with ``np.bincount``, so contributions are added in the order ``backward()`` adds them.
Building is one pass over the topological order plus a few sorts (numpy), so compiling 10⁶ nodes
takes seconds, not minutes; nothing recurses.
"""

from __future__ import annotations

import numpy as np

from . import scalar_math
from .backward import topo_order
from .ops import DOT, MUL, OPS, Op

LINEAR = ("add", "sub", "neg", "sum")  # local derivatives are constants: out = Σ cᵢ·childᵢ
PRODUCTS = (MUL, DOT)  # out = Σ aᵢ·bᵢ; evaluated with MUL's forward and local rules


class UnsupportedOpError(TypeError):
    """A node's op cannot be replayed by ``tinygrad_value.compile``."""


class _Group:
    """A sum of product terms ``(coef, a, b, consumer_a, slot_a, consumer_b, slot_b)``.

    ``a``/``b`` are topological indices (``b`` is -1 for a lone child, multiplied by 1), and the
    consumer/slot pairs say which original node took each input, which fixes the eager order of
    gradient contributions. A group absorbed into another records where its terms went.
    """

    __slots__ = ("node", "terms", "into", "offset", "sign", "size")

    def __init__(self, node: int, terms: list) -> None:
        self.node = node  # topological index of the node this group computes
        self.terms = terms
        self.into = None  # the group that absorbed this one
        self.offset = 0  # index of this group's first term in ``into``'s list
        self.sign = 1.0  # ∂(into)/∂(this): ±1
        self.size = 0  # number of terms when absorbed


def _linear_coefs(fn: Op, n: int) -> tuple:
    """The constant local derivatives of a linear op, read from the table (inputs do not matter)."""
    coefs = fn.local(scalar_math, *([1.0] * n), 1.0)
    for c in coefs:
        if c not in (1.0, -1.0):
            raise UnsupportedOpError(f"op {fn.name!r} is listed as linear but has local {c!r}")
    return coefs


def _check_supported(fn: Op) -> None:
    if OPS.get(fn.name) is not fn:
        raise UnsupportedOpError(
            f"tinygrad_value.compile: op {fn.name!r} is not in the op table (tinygrad_value.OPS)")
    if fn.arity not in (1, 2) and fn not in PRODUCTS and fn.name not in LINEAR:
        raise UnsupportedOpError(
            f"tinygrad_value.compile: n-ary op {fn.name!r} is not supported "
            "(only sum and dot are n-ary)")


def build(root) -> dict:
    """Everything the replay needs, as arrays and a per-level step list (see module docstring)."""
    order = topo_order(root)
    n = len(order)
    topo = {node: k for k, node in enumerate(order)}
    uses = [0] * n
    kids = [None] * n  # topo indices of each node's children
    for k, node in enumerate(order):
        fn = node._fn
        if fn is None:
            continue
        _check_supported(fn)
        if fn.arity == 2:
            ch = (topo[node._a], topo[node._b])
        elif fn.arity == 1:
            ch = (topo[node._a],)
        else:
            ch = tuple([topo[c] for c in node._a])
        kids[k] = ch
        for c in ch:
            uses[c] += 1

    groups: dict = {}
    for k, node in enumerate(order):
        fn = node._fn
        if fn is None:
            continue
        ch = kids[k]
        if fn is MUL:
            groups[k] = _Group(k, [(1.0, ch[0], ch[1], k, 0, k, 1)])
        elif fn is DOT:
            h = len(ch) // 2
            groups[k] = _Group(k, [(1.0, ch[i], ch[h + i], k, i, k, h + i) for i in range(h)])
        elif fn.name in LINEAR:
            coefs = _linear_coefs(fn, len(ch))
            me = _Group(k, None)
            terms = []
            for s, (c, co) in enumerate(zip(ch, coefs)):
                cg = groups.get(c) if uses[c] == 1 else None
                if cg is not None and s == 0 and co == 1.0:
                    terms = cg.terms  # the chain continues: take the child's terms over
                    cg.into, cg.offset, cg.sign, cg.size = me, 0, 1.0, len(terms)
                elif cg is not None and len(cg.terms) == 1:
                    t = cg.terms[0]
                    cg.into, cg.offset, cg.sign, cg.size = me, len(terms), co, 1
                    terms.append((co * t[0],) + t[1:])
                else:
                    terms.append((co, c, -1, k, s, -1, 0))
            me.terms = terms
            groups[k] = me

    # which nodes keep a slot of their own, and their levels
    level = [0] * n
    kind = [0] * n  # 0: leaf or group root; 1 + op number: elementwise
    op_number = {name: i for i, name in enumerate(OPS)}
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
            deepest = max(level[c] for c in kids[k])
            kind[k] = 1 + op_number[fn.name]
        level[k] = deepest + 1
        kept.append(k)

    leaves = [k for k, node in enumerate(order) if node._fn is None]
    nleaf = len(leaves)
    one = nleaf  # a constant slot holding 1.0, the second factor of a lone term
    kept_arr = np.array(kept, dtype=np.int64)
    lv = np.array(level, dtype=np.int64)
    kd = np.array(kind, dtype=np.int64)
    perm = kept_arr[np.lexsort((kd[kept_arr], lv[kept_arr]))] if kept else kept_arr
    slot_topo = np.concatenate([np.array(leaves, dtype=np.int64), [-1], perm])
    m = len(slot_topo)
    slot = np.full(n, -1, dtype=np.int64)
    slot[slot_topo[:one]] = np.arange(one)
    slot[perm] = np.arange(one + 1, m)
    slot_level = np.concatenate([np.zeros(one + 1, dtype=np.int64), lv[perm]])
    slot_kind = np.concatenate([np.zeros(one + 1, dtype=np.int64), kd[perm]])
    slot_list = slot.tolist()

    # terms of the kept groups, in slot order; elementwise operands, in slot order
    t_coef, t_a, t_b, t_seg, e_cons, e_slot, e_dst = [], [], [], [], [], [], []
    w_a, w_b, w_k = [], [], []
    group_term_start = {}
    for s_ in range(one + 1, m):
        k = int(slot_topo[s_])
        g = groups.get(k)
        if g is not None:
            group_term_start[k] = len(t_coef)
            for coef, a, b, ka, sa, kb, sb in g.terms:
                t_coef.append(coef)
                t_a.append(slot_list[a])
                t_b.append(one if b < 0 else slot_list[b])
                t_seg.append(s_)
        else:
            node = order[k]
            ch = kids[k]
            w_a.append(slot_list[ch[0]])
            w_b.append(slot_list[ch[1]] if len(ch) == 2 else one)
            w_k.append(node._arg if node._fn.has_param else 0.0)
    ta = np.array(t_a, dtype=np.int64)
    tb = np.array(t_b, dtype=np.int64)
    # edges: each term gives two (a, b), each elementwise node one or two
    for s_ in range(one + 1, m):
        k = int(slot_topo[s_])
        g = groups.get(k)
        if g is not None:
            for coef, a, b, ka, sa, kb, sb in g.terms:
                e_cons.append(ka)
                e_slot.append(sa)
            continue
    for s_ in range(one + 1, m):
        k = int(slot_topo[s_])
        if k in groups:
            for coef, a, b, ka, sa, kb, sb in groups[k].terms:
                e_cons.append(kb)
                e_slot.append(sb)
    nterm = len(t_coef)
    ew_a_edges = []
    ew_b_edges = []
    ew_slots = [s_ for s_ in range(one + 1, m) if int(slot_topo[s_]) not in groups]
    for s_ in ew_slots:
        k = int(slot_topo[s_])
        e_cons.append(k)
        e_slot.append(0)
        ew_a_edges.append(slot_list[kids[k][0]])
    for s_ in ew_slots:
        k = int(slot_topo[s_])
        if len(kids[k]) == 2:
            e_cons.append(k)
            e_slot.append(1)
            ew_b_edges.append(slot_list[kids[k][1]])
    e_dst = np.concatenate([ta, tb, np.array(ew_a_edges, dtype=np.int64),
                            np.array(ew_b_edges, dtype=np.int64)])
    cons = np.array(e_cons, dtype=np.int64)
    eorder = np.lexsort((np.array(e_slot, dtype=np.int64), -cons, e_dst))
    pos = np.empty(len(e_dst), dtype=np.int64)
    pos[eorder] = np.arange(len(e_dst))
    dst_sorted = e_dst[eorder]
    nw = len(ew_slots)
    pos_ta, pos_tb = pos[:nterm], pos[nterm:2 * nterm]
    pos_wa = pos[2 * nterm:2 * nterm + nw]
    pos_wb_compact = pos[2 * nterm + nw:]
    is_binary = np.array([len(kids[int(slot_topo[s_])]) == 2 for s_ in ew_slots], dtype=bool)
    pos_wb = np.full(nw, -1, dtype=np.int64)
    pos_wb[is_binary] = pos_wb_compact

    # per-level steps on contiguous slices
    top = int(slot_level[-1]) if m > one + 1 else 0
    lstart = np.searchsorted(slot_level, np.arange(top + 2))
    estart = np.searchsorted(dst_sorted, lstart)
    seg = np.array(t_seg, dtype=np.int64)
    tstart = np.searchsorted(seg, lstart)
    ew_index = np.full(m, -1, dtype=np.int64)
    ew_index[np.array(ew_slots, dtype=np.int64)] = np.arange(nw)
    coef = np.array(t_coef, dtype=np.float64)
    steps = []  # steps[L - 1] for level L: (o0, o1, e0, e1, group, elementwise steps)
    ops_by_number = list(OPS.values())
    for L in range(1, top + 1):
        o0, o1 = int(lstart[L]), int(lstart[L + 1])
        kinds = slot_kind[o0:o1]
        nb = int(np.searchsorted(kinds, 1))  # group roots come first in a level
        group = None
        if nb:
            t0, t1 = int(tstart[L]), int(tstart[L + 1])
            group = (o0, o0 + nb, t0, t1, bool((coef[t0:t1] < 0).any()))
        ews = []
        s_ = o0 + nb
        while s_ < o1:
            kk = int(kinds[s_ - o0])
            e = int(np.searchsorted(kinds, kk, side="right")) + o0
            fn = ops_by_number[kk - 1]
            w0 = int(ew_index[s_])
            ews.append((fn, s_, e, w0, w0 + (e - s_)))
            s_ = e
        steps.append((o0, o1, int(estart[L]), int(estart[L + 1]), group, ews))

    return dict(
        order=order, topo=topo, groups=groups, group_term_start=group_term_start,
        slot=slot, leaves=[order[k] for k in leaves], one=one, size=m,
        root_slot=int(slot[n - 1]), steps=steps, level0=(0, int(lstart[1]) if top else m,
                                                         int(estart[0]), int(estart[1]) if top else len(e_dst)),
        coef=coef, ta=ta, tb=tb, seg=seg, pos_ta=pos_ta, pos_tb=pos_tb,
        wa=np.array(w_a, dtype=np.int64), wb=np.array(w_b, dtype=np.int64),
        wk=np.array(w_k, dtype=np.float64), pos_wa=pos_wa, pos_wb=pos_wb,
        edge_local=dst_sorted - lstart[slot_level[dst_sorted]] if len(dst_sorted) else dst_sorted,
        nedge=len(e_dst), ew_slots=ew_slots,
    )
