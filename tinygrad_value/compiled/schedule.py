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
NumPy sorts, so compiling 10⁶ nodes takes seconds, not minutes; nothing recurses. Memory is
what limits the graphs that compile: per node and per term, building keeps flat arrays (int32
for topological indices where the replay never sees them), not Python objects, and drops each
intermediate once the stages that read it are done.

``build`` runs the stages in this order, each a function of its own: the graph (topological
order, children, uses: ``_graph``), folding (``fold.fold``), levels (``_levels``), dense blocks
(``dense.find``, ``_rewrite_rows``), slots (``_layout``), the arrays and their gradient edges
(``_terms``, ``_elementwise``, ``_dense_edges``), the edge buffer (``_edge_positions``) and the
steps (``_level_steps``, ``_assemble``).
"""

from __future__ import annotations

import operator
from array import array
from bisect import bisect_left
from dataclasses import dataclass
from itertools import chain, islice
from typing import List, NamedTuple, Optional

import numpy as np

from ..engine.backward import topo_order
from ..engine.ops import OPS, Op
from . import dense
from .fold import (
    INDEX,
    KEPT,
    NOT_A_GROUP,
    PRODUCTS,
    TERM,
    Groups,
    TermList,
    UnsupportedOpError,
    fold,
)


def _i64(xs) -> np.ndarray:
    return np.array(xs, dtype=np.int64)


def _pick(seq: list, index: np.ndarray) -> list:
    """``[seq[i] for i in index]``, a chunk of ints at a time (10⁶ ints at once: 30 MB)."""
    out: list = []
    for i in range(0, len(index), 1 << 16):
        out += map(seq.__getitem__, index[i:i + (1 << 16)].tolist())
    return out


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
    groups: Groups  # topological index -> its group (``fold.Groups``; terms dropped: they
    #                 are in the arrays)
    original_terms: dict  # group node -> its term tuples (``fold.TermList``), for groups
    #                       whose terms are not in the term arrays as they were folded (dense
    #                       rows)
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
    term_pos_b: np.ndarray  # edge-buffer position of the gradient to the second factor (one
    #                         shared position, at level 0, for every lone term's 1.0)
    ew_a: np.ndarray  # slot of each elementwise node's first operand
    ew_b: np.ndarray  # slot of its second operand (the 1.0 slot for one-input ops)
    ew_k: np.ndarray  # its op's constant (0.0 when the op has none)
    ew_pos_a: np.ndarray  # edge-buffer position of the gradient to the first operand
    ew_pos_b: np.ndarray  # to the second operand (-1 for one-input ops)
    edge_local: np.ndarray  # each edge's destination, relative to its level's first slot
    dense: List[DenseStep]  # the dense blocks, in level order
    dense_edges: int  # number of edge-buffer positions the dense blocks fill


DENSE = -1  # slot kind of a dense block's outputs (groups are 0, elementwise ops 1 + op number)
_CHUNK = 1 << 16  # terms (edges) copied (looked up) at a time


# --- graph: topological order, node index, children ----------------------------------------------

def _check_supported(fn: Op) -> None:
    """Raise ``UnsupportedOpError`` unless the replay can run ``fn``: an op of the table, with
    one or two inputs (n-ary: only the linear ops and the products), a constant only on one."""
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
    Values costs ~70 MB, these 12 MB). ``order`` keeps every node alive, so ids are unique."""

    __slots__ = ("order", "_ids", "_topo")

    def __init__(self, order: list) -> None:
        ids = np.fromiter(map(id, order), dtype=np.uint64, count=len(order))
        perm = np.argsort(ids)
        self.order = order
        self._ids = ids[perm]
        self._topo = perm.astype(np.intc)

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
    """Every node's children as topological indices (one flat ``array``: 4 bytes an edge), how
    many children each node has and how many times each node is used (``array``s by
    topological index); every op is checked once.

    With many edges per node (a dense layer: hundreds) the children are looked up in a dict of
    every node, which makes no int per edge; with few (a deep chain: 10⁶ nodes, one edge or
    two each) that dict would be the biggest thing compiling builds, so they are looked up in
    ``index``, a chunk of edges at a time."""
    for fn in {node._fn for node in order}:
        if fn is not None:
            _check_supported(fn)
    n = len(order)
    counts = np.fromiter(map(len, map(_get_children, order)), dtype=np.intc, count=n)
    edges = chain.from_iterable(map(_get_children, order))
    if int(counts.sum(dtype=np.int64)) > 3 * n:  # the dict: ~73 bytes a node; ids: ~32 an edge
        position = dict(zip(order, range(n)))
        kids = array(INDEX, list(map(position.__getitem__, edges)))
        del position
    else:
        kids = array(INDEX)
        while True:
            ids = np.array(list(map(id, islice(edges, _CHUNK))), dtype=np.uint64)
            if not len(ids):
                break
            kids.frombytes(index.lookup_ids(ids).astype(np.intc).tobytes())
    uses = np.bincount(np.frombuffer(kids, dtype=np.intc), minlength=n).astype(np.intc)
    return kids, array(INDEX, counts.tobytes()), array(INDEX, uses.tobytes())


def _graph(root):
    """``root``'s graph in topological order (root last), its ``NodeIndex``, and every node's
    children, number of children and number of uses (``_children``)."""
    order = topo_order(root)
    index = NodeIndex(order)
    return (order, index) + _children(order, index)


# --- levels (after ``fold``: sums of products) ---------------------------------------------------

class _Operands(NamedTuple):
    """The elementwise nodes in topological order, and their first and second child (-1 for
    one-input ops), as ``array``s."""
    node: array
    a: array
    b: array


def _levels(order: list, kids: array, counts: array, groups: Groups, op_number: dict):
    """Level (1 + deepest input; leaves are 0) and kind (0: group root, 1 + ``op_number[op]``:
    elementwise) of every node, as two ``array``s by topological index, and the topological
    indices of the nodes that keep a slot (every interior node but the groups folded into
    another); and the elementwise nodes' operands (``_Operands``), so that the children are
    not needed after this stage.

    Read from the children: a folded node takes its deepest child's level without adding one,
    so a kept group's level is one more than its deepest term factor's, as its terms are the
    children of the nodes folded into it."""
    n = len(order)
    level = array(INDEX, [0]) * n
    kind = array(INDEX, [0]) * n
    kept = []
    nodes, firsts, seconds = operands = _Operands(array(INDEX), array(INDEX), array(INDEX))
    as_array = np.frombuffer(level, dtype=np.intc)  # the same memory, for long child lists
    state = groups.state
    p = 0
    for k, node in enumerate(order):
        c = counts[k]
        if c == 2:  # most nodes: two children or one, read without a slice
            a, b = kids[p], kids[p + 1]
            deepest = max(level[a], level[b])
        elif c == 1:
            a, b = kids[p], -1
            deepest = level[a]
        elif not c:
            if node._fn is None:  # a leaf: level 0
                continue
            deepest = 0  # a sum of nothing
        elif c <= 16:
            ch = kids[p:p + c]
            a, b = ch[0], ch[1]
            deepest = max(map(level.__getitem__, ch))
        else:
            deepest = int(as_array[np.frombuffer(kids[p:p + c], dtype=np.intc)].max())
        p += c
        st = state[k]
        if st == NOT_A_GROUP:  # an elementwise op: one child or two
            kind[k] = 1 + op_number[node._fn]
            nodes.append(k)
            firsts.append(a)
            seconds.append(b)
        elif st != KEPT:
            level[k] = deepest
            continue
        level[k] = deepest + 1
        kept.append(k)
    return level, kind, kept, operands


# --- dense rows (after ``dense.find``) -----------------------------------------------------------

class _Rows(NamedTuple):
    """What ``_rewrite_rows`` did to the groups for the dense blocks."""
    ids: list  # per block, the output id D of each of its rows
    original: dict  # group node -> its term tuples before the rewrite
    fresh: int  # how many new ids (n, n + 1, …) the rows' outputs took
    inlined: set  # product groups folded into a row


def _rewrite_rows(blocks: list, groups: Groups, n: int) -> _Rows:
    """Give every row of every block its output ``D`` (the group's own node when the row is the
    whole group, else a new id ``n, n + 1, …``) and replace the row's terms in its group by
    ``1·D``; a product group inlined into a row is marked as folded into it. Returns the D ids
    per block, the rewritten groups' original term lists, how many new ids, the inlined nodes
    (``_Rows``)."""
    ids, original, inlined = [], {}, set()
    fresh = n
    folded_into = None  # group -> the groups folded directly into it, made when first needed
    for block in blocks:
        out = []
        for row in block.rows:
            g = groups.kept[row.node]
            terms = row.terms
            if row.inlined:
                if folded_into is None:
                    folded_into = _folded_into(groups)
                _widen_folded(groups, row.node, row.inlined, folded_into)
            for c, first_term, size in row.inlined:
                groups.absorb(c, row.node, first_term, size, 1.0)
                inlined.add(c)
            if row.inlined or not row.whole:
                original[row.node] = terms
            if row.whole:
                out.append(row.node)
                continue
            r0 = int(row.run[0])
            keep = np.ones(len(terms), dtype=bool)
            keep[row.run] = False
            keep[r0] = True
            new_terms = terms[keep]
            t = terms[r0]
            new_terms[int(keep[:r0].sum())] = (1.0, fresh, -1, t[3], t[4], -1, 0)
            g.terms = new_terms
            out.append(fresh)
            fresh += 1
        ids.append(out)
    return _Rows(ids, original, fresh - n, inlined)


def _folded_into(groups: Groups):
    """``children(g)``: the groups folded directly into group g (from ``groups.state``, sorted
    once; a dict of lists would cost an object per folded group)."""
    state = np.frombuffer(groups.state, dtype=np.intc)
    folded = np.flatnonzero(state >= 0)
    into = state[folded]
    by_into = np.argsort(into, kind="stable")
    folded, into = folded[by_into], into[by_into]

    def children(g: int) -> list:
        i, j = np.searchsorted(into, (g, g + 1)).tolist()
        return folded[i:j].tolist()
    return children


def _widen_folded(groups: Groups, g: int, inlined: tuple, folded_into) -> None:
    """A row that inlines product groups lists more terms than its group did (each ``1·c`` term
    became c's products): move the term ranges of the groups folded into g, at any depth, from
    the group's term positions to the row's, so ``value()`` of such a node reads its own terms."""
    at, before = [], [0]  # each inlined term's position in the group's terms; terms gained
    for _c, first_term, size in sorted(inlined, key=lambda t: t[1]):
        at.append(first_term - before[-1])
        before.append(before[-1] + size - 1)

    def moved(position: int) -> int:  # a range boundary, from group positions to row positions
        return position + before[bisect_left(at, position)]

    offset, size = groups.offset, groups.size
    stack = [(h, 0, 0) for h in folded_into(g)]  # (group, its parent's start: old, new)
    while stack:
        h, parent_old, parent_new = stack.pop()
        start = parent_old + offset[h]
        new_start, new_end = moved(start), moved(start + size[h])
        offset[h], size[h] = new_start - parent_new, new_end - new_start
        stack.extend((c, start, new_start) for c in folded_into(h))


# --- slots ---------------------------------------------------------------------------------------

class _Layout(NamedTuple):
    """Where every value lives: leaves, then the constant 1.0 (slot ``one``), then the kept
    nodes sorted by (level, kind, topological index)."""
    leaves: np.ndarray  # topological indices of the leaves, in slot order
    one: int  # the slot of the constant 1.0
    slot: np.ndarray  # topological index (and dense output id) -> slot, -1 if folded
    slot_topo: np.ndarray  # slot -> topological index (-1 for the constant 1.0)
    slot_level: np.ndarray  # slot -> level (0 for the leaves and 1.0)
    slot_kind: np.ndarray  # slot -> kind (0 group, 1 + op number elementwise, DENSE)


def _layout(order: list, level, kind, kept: list, blocks: list, rows: _Rows) -> _Layout:
    """Slots for the leaves, the constant 1.0 and every kept node (``_levels``' ``kept`` minus
    the inlined groups, plus each dense row's output that is not its group's own node).

    Every level L becomes two half-levels: 2L for what was there, 2F + 1 for the outputs of
    the dense blocks whose factors reach level F (so they come after their factors and before
    the groups that read them); empty half-levels are then squeezed out. Dense outputs keep
    their blocks' order within a half-level, everything else its topological order."""
    n = len(order)
    dense_out, dense_level = [], []
    for block, ids in zip(blocks, rows.ids):
        dense_out += ids
        dense_level += [2 * block.level + 1] * len(ids)
    skip = rows.inlined.union(dense_out)  # inlined, or a whole row (listed with the blocks)
    plain = _i64([k for k in kept if k not in skip] if skip else kept)
    del skip
    # the kept nodes, plain ones then dense outputs: sorted by (level, kind, tie)
    keys = np.concatenate([plain, _i64(dense_out)])
    lv = np.concatenate([2 * np.frombuffer(level, dtype=np.intc)[plain].astype(np.int64),
                         _i64(dense_level)])
    kd = np.concatenate([np.frombuffer(kind, dtype=np.intc)[plain],
                         np.full(len(dense_out), DENSE, dtype=np.int64)])
    tie = np.concatenate([plain, np.arange(len(dense_out), dtype=np.int64)])
    del plain, dense_out, dense_level
    used = np.unique(lv)
    lv = np.searchsorted(used, lv) + 1  # leaves (and the constant 1.0) stay at level 0
    by_slot = np.lexsort((tie, kd, lv))
    del tie
    perm = keys[by_slot]
    del keys

    leaves = np.flatnonzero(np.fromiter((node._fn is None for node in order), dtype=bool,
                                        count=n))
    one = len(leaves)
    slot_topo = np.concatenate([leaves, [-1], perm])
    m = len(slot_topo)
    slot = np.full(n + rows.fresh, -1, dtype=np.int64)
    slot[leaves] = np.arange(one)
    slot[perm] = np.arange(one + 1, m)
    zeros = np.zeros(one + 1, dtype=np.int64)
    slot_level = np.concatenate([zeros, lv[by_slot]])
    slot_kind = np.concatenate([zeros, kd[by_slot]])
    return _Layout(leaves, one, slot, slot_topo, slot_level, slot_kind)


# --- arrays: terms, elementwise operands, dense factors, and their gradient edges ----------------

class _Edges(NamedTuple):
    """Gradient edges of one kind: each edge's destination slot, the topological index of the
    node that consumes it and which of that node's inputs it is (these two fix eager order)."""
    dst: np.ndarray
    consumer: np.ndarray
    input: np.ndarray


class _Terms(NamedTuple):
    """The kept groups' terms as arrays, in slot order (see ``Schedule``)."""
    first: np.ndarray  # slot -> index of its group's first term
    end: np.ndarray  # slot -> one past its last term
    signed_zero: np.ndarray  # slot -> the group is a chain of binary ops
    coef: np.ndarray
    a: np.ndarray
    b: np.ndarray
    group: np.ndarray  # slot of each term's group


def _terms(groups: Groups, blocks: list, original_terms: dict, lay: _Layout):
    """The kept groups' terms as arrays, in slot order; which terms have a second factor (the
    others are lone terms, times 1.0); and their gradient edges (to the first factors, to the
    second ones, and one shared position for every lone term's 1.0). Afterwards every group's
    ``terms`` is None (the replay reads the arrays) and ``original_terms`` also holds each dense
    row's terms (which are in no array)."""
    m = len(lay.slot_topo)
    first = np.zeros(m, dtype=np.int64)  # each kept group's terms: [first, end)
    end = np.zeros(m, dtype=np.int64)
    signed_zero = np.zeros(m, dtype=bool)
    gslots = np.flatnonzero(lay.slot_kind == 0)
    gslots = gslots[gslots > lay.one]
    groups_in_order = [groups.kept[k] for k in lay.slot_topo[gslots].tolist()]
    sizes = _i64([len(g.terms) for g in groups_in_order])
    end[gslots] = np.cumsum(sizes)
    first[gslots] = end[gslots] - sizes
    signed_zero[gslots] = [not g.from_zero for g in groups_in_order]
    # the terms' columns: coef, then a, b, consumer_a, slot_a, consumer_b, slot_b; filled a
    # chunk of groups at a time, each group's own array let go once copied
    nterm = int(sizes.sum())
    del sizes
    coef = np.empty(nterm, dtype=np.float64)
    cols = [np.empty(nterm, dtype=np.intc) for _ in range(TERM - 1)]  # indices: 32 bits
    t0, chunk, size = 0, [], 0
    for i, g in enumerate(groups_in_order):
        chunk.append(g)
        size += len(g.terms)
        if size < _CHUNK and i + 1 < len(groups_in_order):
            continue
        C = chunk[0].terms if len(chunk) == 1 else np.concatenate([c.terms for c in chunk])
        coef[t0:t0 + size] = C[:, 0]
        for j, col in enumerate(cols, 1):
            col[t0:t0 + size] = C[:, j]
        for c in chunk:
            c.terms = None
        del C
        t0, chunk, size = t0 + size, [], 0
    del groups_in_order
    for block in blocks:
        for row in block.rows:
            original_terms.setdefault(row.node, groups.kept[row.node].terms)
    for k, terms in original_terms.items():
        original_terms[k] = TermList(terms)
    for g in groups.kept.values():
        g.terms = None
    slot, one = lay.slot, lay.one
    t_a = slot[cols[0]]
    cols_b = cols[1]
    t_b = np.where(cols_b < 0, one, slot[cols_b])
    cons_a, in_a, cons_b, in_b = cols[2:]
    del cols
    group = np.repeat(gslots, end[gslots] - first[gslots])
    terms = _Terms(first, end, signed_zero, coef, t_a, t_b, group)
    # A lone term's second factor is the constant 1.0, whose gradient nobody reads: all those
    # contributions go to one shared position (the last piece), not one edge each.
    has_b = np.flatnonzero(cols_b >= 0)
    del cols_b
    sink = np.full(1 if len(has_b) < nterm else 0, one, dtype=np.int64)
    return terms, has_b, [_Edges(t_a, cons_a, in_a),
                          _Edges(t_b[has_b], cons_b[has_b], in_b[has_b]),
                          _Edges(sink, np.zeros_like(sink), np.zeros_like(sink))]


class _Elementwise(NamedTuple):
    """The elementwise nodes' operands, in slot order (see ``Schedule``)."""
    slots: np.ndarray  # their slots
    a: np.ndarray
    b: np.ndarray
    k: np.ndarray
    index: np.ndarray  # slot -> position among the elementwise nodes, -1 for other slots
    two: np.ndarray  # positions of the two-input nodes (whose second operand gets an edge)


def _elementwise(order: list, operands: _Operands, lay: _Layout):
    """The elementwise nodes' operands (their children, first and second) and constants, in
    slot order, and their gradient edges (to every first operand, to the second operands of
    two-input ops)."""
    slots = np.flatnonzero(lay.slot_kind > 0)
    topo = lay.slot_topo[slots]
    nw = len(slots)
    slot, one = lay.slot, lay.one
    at = np.searchsorted(np.frombuffer(operands.node, dtype=np.intc), topo)
    w_a = slot[np.frombuffer(operands.a, dtype=np.intc)[at]]
    second = np.frombuffer(operands.b, dtype=np.intc)[at]
    is_two = second >= 0
    w_b = np.full(nw, one, dtype=np.int64)
    w_b[is_two] = slot[second[is_two]]
    del at, second
    w_k = np.array([order[k]._arg if order[k]._fn.has_param else 0.0 for k in topo.tolist()],
                   dtype=np.float64)
    index = np.full(len(lay.slot_topo), -1, dtype=np.int64)
    index[slots] = np.arange(nw)
    ew = _Elementwise(slots, w_a, w_b, w_k, index, np.flatnonzero(is_two))
    return ew, [_Edges(w_a, topo, np.zeros(nw, dtype=np.int64)),
                _Edges(w_b[is_two], topo[is_two], np.ones(int(is_two.sum()), dtype=np.int64))]


def _factor_slots(keys, slot: np.ndarray, one: int) -> np.ndarray:
    """The slots of a block's factor sequences (a row each); ``dense.ONE`` is the constant 1.0."""
    f = _i64(keys)
    return np.where(f == dense.ONE, one, slot[f])


def _dense_edges(blocks: list, block_ids: list, lay: _Layout):
    """Each block's factor slots and first output slot, and the blocks' gradient edges: one per
    factor position, A side then B side, block after block (all consumed by the block's first
    row, input i for position i, so ties keep this order)."""
    parts, edges = [], []
    for block, ids in zip(blocks, block_ids):
        J, S, h = len(block.a_keys), len(block.b_keys), len(block.a_keys[0])
        a_slots = _factor_slots(block.a_keys, lay.slot, lay.one).reshape(J, h)
        b_slots = _factor_slots(block.b_keys, lay.slot, lay.one).reshape(S, h)
        parts.append((int(lay.slot[ids[0]]), S, J, h, b_slots, a_slots))
        edges.append(_Edges(np.concatenate([a_slots.reshape(-1), b_slots.reshape(-1)]),
                            np.full((J + S) * h, block.rows[0].node, dtype=np.int64),
                            np.tile(np.arange(h, dtype=np.int64), J + S)))
    return parts, edges


# --- the edge buffer -----------------------------------------------------------------------------

def _edge_positions(pieces: list, slot_level: np.ndarray):
    """Lay out the edge buffer: by level of the destination, and within a level round-robin
    over destinations, each destination's contributions in eager order (``backward`` visits
    consumers in reverse topological order, a consumer's inputs in order; edges that tie keep
    the order of ``pieces``). Returns each piece's edges' positions, and the destination slot
    and its level for every position; ``pieces`` is emptied as it is read, so its arrays can be
    freed early."""
    bounds = np.cumsum([0] + [len(e.dst) for e in pieces]).tolist()
    width = 1 + max((int(e.input.max()) for e in pieces if len(e.input)), default=0)
    dsts, keys = [], []
    while pieces:  # eager order within a destination, as one key: consumer down, input up
        e = pieces.pop(0)
        dsts.append(e.dst)
        key = e.consumer.astype(np.int64)  # up to n · width: 64 bits
        key *= -width
        key += e.input
        keys.append(key)
        del e, key
    none = np.zeros(0, dtype=np.int64)
    e_dst = np.concatenate(dsts + [none])
    del dsts
    key = np.concatenate(keys + [none])
    del keys
    eorder = np.lexsort((key, e_dst))
    del key
    d = e_dst[eorder]
    del e_dst
    ne = len(d)
    run_start = np.flatnonzero(np.concatenate([[True], d[1:] != d[:-1]])) if ne else d
    rank = np.arange(ne)
    rank -= np.repeat(run_start, np.diff(np.append(run_start, ne)))
    del run_start
    # Within a level, edges go round-robin over destinations (every destination's first
    # contribution, then every second one, ...): np.bincount still adds each destination's
    # contributions in eager order, but consecutive adds hit different accumulators.
    d_level = slot_level[d]
    by_level = np.lexsort((d, rank, d_level))
    del rank
    dst_sorted, dst_level = d[by_level], d_level[by_level]  # sorted by level only
    del d, d_level
    eorder = eorder[by_level]
    del by_level
    pos = np.empty(ne, dtype=np.int64)
    pos[eorder] = np.arange(ne)
    del eorder
    return [pos[i:j] for i, j in zip(bounds, bounds[1:])], dst_sorted, dst_level


# --- steps ---------------------------------------------------------------------------------------

def _level_steps(lay: _Layout, terms: _Terms, ew: _Elementwise, dense_steps: list,
                 dst_level: np.ndarray, ops_by_number: list):
    """The per-level step list: for each level a slice of slots and a slice of the edge buffer,
    its group step and elementwise steps (runs of one op), or its dense blocks (a half-level
    of dense outputs only); and the slot and edge starts of every level."""
    slot_level, slot_kind_arr = lay.slot_level, lay.slot_kind
    top = int(slot_level[-1])
    lstart = np.searchsorted(slot_level, np.arange(top + 2)).tolist()
    estart = np.searchsorted(dst_level, np.arange(top + 2)).tolist()
    tstart = np.searchsorted(terms.group, lstart).tolist()
    negs = np.concatenate([[0], np.cumsum(terms.coef < 0)])
    slot_kind = slot_kind_arr.tolist()
    dense_at = {step.d0: step for step in dense_steps}
    steps = []  # steps[L - 1] for level L
    for L in range(1, top + 1):
        o0, o1 = lstart[L], lstart[L + 1]
        if slot_kind[o0] == DENSE:  # a half-level of dense blocks only
            blocks_here = []
            s = o0
            while s < o1:
                blocks_here.append(dense_at[s])
                s = dense_at[s].d1
            steps.append(LevelStep(o0, o1, estart[L], estart[L + 1], None, [], blocks_here))
            continue
        group = None
        s = o0
        while s < o1 and slot_kind[s] == 0:
            s += 1
        if s > o0:
            t0, t1 = tstart[L], tstart[L + 1]
            group = GroupStep(o0, s, t0, t1, bool(negs[t1] > negs[t0]),
                              bool(terms.signed_zero[o0:s].any()))
        ews = []
        while s < o1:
            kk = slot_kind[s]
            e = s + 1
            while e < o1 and slot_kind[e] == kk:
                e += 1
            w0 = int(ew.index[s])
            ews.append(ElementwiseStep(ops_by_number[kk - 1], s, e, w0, w0 + (e - s)))
            s = e
        steps.append(LevelStep(o0, o1, estart[L], estart[L + 1], group, ews, []))
    return steps, top, lstart, estart


# --- all stages ----------------------------------------------------------------------------------

def _assemble(order: list, index: NodeIndex, groups: Groups, rows: _Rows, lay: _Layout,
              terms: _Terms, has_b: np.ndarray, ew: _Elementwise, dense_parts: list,
              positions: list,
              dst_sorted: np.ndarray, dst_level: np.ndarray, ops: list) -> Schedule:
    """The ``Schedule``: the dense steps and the level steps assembled from the arrays and the
    edge positions (``positions``: the pieces given to ``_edge_positions``, in order)."""
    pos_ta, pos_tb_has, pos_sink, pos_wa, pos_wb_two, *pos_dense = positions
    pos_tb = np.full(len(pos_ta), pos_sink[0] if len(pos_sink) else -1, dtype=np.int64)
    pos_tb[has_b] = pos_tb_has
    pos_wb = np.full(len(ew.slots), -1, dtype=np.int64)
    pos_wb[ew.two] = pos_wb_two
    dense_steps = [DenseStep(d0, d0 + S * J, S, J, h, b_slots, a_slots, p[:J * h], p[J * h:])
                   for (d0, S, J, h, b_slots, a_slots), p in zip(dense_parts, pos_dense)]
    steps, top, lstart, estart = _level_steps(lay, terms, ew, dense_steps, dst_level, ops)
    edge_local = dst_sorted  # each edge's destination, made relative to its level's first slot
    edge_local -= _i64(lstart)[dst_level]
    m = len(lay.slot_topo)
    return Schedule(
        order=order, index=index, groups=groups, original_terms=rows.original,
        slot=lay.slot, slot_topo=lay.slot_topo, leaves=_pick(order, lay.leaves),
        size=m, root_slot=int(lay.slot[len(order) - 1]), steps=steps,
        level0=(0, lstart[1], estart[0], estart[1]) if top else (0, m, 0, len(dst_sorted)),
        group_first=terms.first, group_end=terms.end, group_signed_zero=terms.signed_zero,
        term_coef=terms.coef, term_a=terms.a, term_b=terms.b, term_group=terms.group,
        term_pos_a=pos_ta, term_pos_b=pos_tb, ew_a=ew.a, ew_b=ew.b, ew_k=ew.k,
        ew_pos_a=pos_wa, ew_pos_b=pos_wb,
        edge_local=edge_local,
        dense=dense_steps, dense_edges=sum(len(p) for p in pos_dense),
    )


def build(root, use_dense: bool = True) -> Schedule:
    """Everything the replay needs, as arrays and a per-level step list (see module docstring).
    ``use_dense=False`` leaves every row on the exact sequential sums (no matmul).

    One stage after the other; each big intermediate is dropped once the stages that read it
    are done."""
    ops = list(OPS.values())  # kind 1 + i is the elementwise op ops[i]
    # the graph: nodes in topological order, their children (flat) and uses
    order, index, kids, counts, uses = _graph(root)
    # chains of + - neg sum over products folded into groups of terms (fold.py)
    groups = fold(order, kids, counts, uses)
    level, kind, kept, operands = _levels(order, kids, counts, groups,
                                          {fn: i for i, fn in enumerate(ops)})
    del kids, counts
    # rows of products that share their factors: matrix products (dense.py)
    blocks = dense.find(order, groups, level, kept, uses) if use_dense else []
    del uses
    rows = _rewrite_rows(blocks, groups, len(order))
    lay = _layout(order, level, kind, kept, blocks, rows)
    del level, kind, kept
    # the arrays the replay runs on, and the gradient edges of each kind
    terms, has_b, term_edges = _terms(groups, blocks, rows.original, lay)
    ew, ew_edges = _elementwise(order, operands, lay)
    del operands
    dense_parts, dense_edges = _dense_edges(blocks, rows.ids, lay)
    edges = term_edges + ew_edges + dense_edges
    del term_edges, ew_edges, dense_edges
    positions, dst_sorted, dst_level = _edge_positions(edges, lay.slot_level)  # empties edges
    return _assemble(order, index, groups, rows, lay, terms, has_b, ew, dense_parts, positions,
                     dst_sorted, dst_level, ops)
