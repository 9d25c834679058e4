"""Dense structure in a scalar graph: rows of products that share their factors become matmuls.

The replay knows nothing about layers or neurons. What it sees, after folding (``fold.py``), is a
*group* per kept node: a list of terms ``c · a · b``. micrograd's neuron
``sum((wᵢ*xᵢ for ...), b)`` is the group ``[b·1, w₀·x₀, w₁·x₁, …]``; ``tv.dot(w, x)`` is the
group ``[w₀·x₀, w₁·x₁, …]``. The *row* of a group is its terms with coefficient +1, in order (a
lone term such as the bias is the product ``b·1`` with the replay's constant 1.0, so the bias
rides along in the matmul as a column of ones); it has two factor sequences,
``A = (a₀, a₁, …)`` and ``B = (b₀, b₁, …)``, and needs at least ``MIN_TERMS`` true products.
Which side a lone term's child belongs to is not known (``w·x + b`` wants b beside w, ``x·w + b``
beside... w again, now side B), so each placement (A, B, left out) proposes blocks and the
biggest proposals win.

Row r computes ``Σᵢ A_r[i]·B_r[i]``. If several rows use the same ``A`` sequence (a neuron's
weights, the same Values in the same order) and several use the same ``B`` sequence (a sample's
inputs), and every pairing of the distinct A's with the distinct B's is present exactly once,
the rows are the entries of one matrix product:

    Y[s, j] = Σᵢ B_s[i] · A_j[i],   Y = Bmat @ Amatᵀ   (Bmat: S×h, Amat: J×h)

and backward, with dY the gradients of the rows, is DOT's local rule (each factor of a pair gets
the other, ``∂(aᵢ·bᵢ)/∂aᵢ = bᵢ``) summed by BLAS: ``dB = dY @ Amat`` and ``dA = dYᵀ @ Bmat``.
Those are the *blocks* found here. The A- and B-sequences are the nodes of a bipartite graph
whose edges are rows; a complete component (``rows = S·J``, no pair twice) is one block, an
incomplete one is covered greedily by complete sub-blocks (the A's shared by the most B's, times
the B's they all meet; then again on the rest). Only rows whose factors all sit at the same
level (``F``, their deepest factor's level) are joined, so no row of a block can depend on
another of its rows.

Anything else falls back, row by row, to the exact sequential sums of ``schedule.py``: a row
with fewer than ``MIN_TERMS`` products, a row shared by nobody, rows that share only part of
their factors (a different length, one extra term, the same weights in a different order: their
sequences differ, so they are different nodes of the bipartite graph and meet no partner), and
the rows of an incomplete component that no complete sub-block covers. A factor repeated inside
a sequence (``w₀·x₀ + w₀·x₁``) is fine: its gradient gets one contribution per position, added
like any other.

The product of a block is computed by BLAS in its own summation order, so a dense row equals
eager to rounding (1e-9 relative), not bit for bit; rows that fall back are summed as eager sums
them, so a graph without blocks still replays bit for bit (``tv.compile``'s exact path).
Each block's output is one new value per row, ``D``, at level ``F + ½`` (``schedule.py`` gives
every level two halves, dense blocks first); the row's group keeps its other terms (a bias) plus
the term ``1·D``. A group that is nothing but its row (a ``tv.dot`` node) is computed by the
block directly.
"""

from __future__ import annotations

from array import array
from typing import List, NamedTuple, Tuple

import numpy as np

from .fold import KEPT, Groups

MIN_TERMS = 2  # a row needs at least this many true products (not lone terms) to join a block
MIN_ROWS = 2  # and a block at least this many rows


class Row(NamedTuple):
    node: int  # topological index of the group's node
    run: list  # positions of the row's terms in ``terms`` (a list or an int64 array)
    whole: bool  # the group is nothing but these terms (its node is the block's output)
    terms: np.ndarray  # the group's (n, TERM) terms, any inlined product group's in its place
    inlined: Tuple[Tuple[int, int, int], ...]  # (node, first term, number of terms) inlined


class Block(NamedTuple):
    """One matrix product: ``rows[s * J + j]`` computes ``Σᵢ b_keys[s][i] · a_keys[j][i]``."""
    level: int  # F: the deepest level among the block's factors
    a_keys: List[np.ndarray]  # J sequences of topological indices (int64)
    b_keys: List[np.ndarray]  # S sequences
    rows: List[Row]  # S·J rows, row-major in (s, j)


ONE = -1  # the factor of a lone term (``c · child · 1``): the replay's constant 1.0


SHORT = 64  # a group of at most this many terms is read as lists (NumPy's per-call cost
#             would outweigh the work), a longer one as arrays (lists would cost an object a term)


def _expand(groups, pure: np.ndarray, terms: np.ndarray) -> tuple:
    """A group's terms with each lone ``1·c`` whose c is a pure product group replaced by c's
    terms: ``b + tv.dot(w, x)`` is then one row ``b·1 + Σ wᵢ·xᵢ``. ``pure[c]`` says c may be
    inlined (a kept group read only once, taken by no block); it is pure if its terms are +1
    products. Returns the terms and the inlined ``(node, first term, number of terms)``."""
    if len(terms) <= SHORT:
        lone = [i for i, (c, a, b, *_rest) in enumerate(terms.tolist())
                if c == 1.0 and b < 0 and pure[int(a)]]
    else:
        lone = np.flatnonzero((terms[:, 2] < 0) & (terms[:, 0] == 1.0))
        lone = lone[pure[terms[lone, 1].astype(np.int64)]].tolist()
    parts, inlined, start, size = [], [], 0, 0
    for i in lone:
        c = int(terms[i, 1])
        inner = groups.kept[c].terms
        if not _products_only(inner):
            continue
        parts.append(terms[start:i])
        size += i - start
        inlined.append((c, size, len(inner)))
        parts.append(inner)
        size += len(inner)
        start = i + 1
    if not inlined:
        return terms, ()
    parts.append(terms[start:])
    return np.concatenate(parts), tuple(inlined)


def _products_only(terms: np.ndarray) -> bool:
    """Every term is a +1 product (no coefficient -1, no lone term)."""
    if len(terms) <= SHORT:
        return all(r[0] == 1.0 and r[2] >= 0 for r in terms.tolist())
    return not ((terms[:, 2] < 0).any() or (terms[:, 0] != 1.0).any())


def _may_be_row(terms: np.ndarray, pure: np.ndarray) -> bool:
    """False if the group surely gives no row (``_rows``): fewer than ``MIN_TERMS`` +1 products
    and no group to inline. Most groups of a deep graph are a product or two; a chain's one
    big sum of lone terms is told so without lists."""
    if len(terms) <= SHORT:
        products = 0
        for c, a, b, *_rest in terms.tolist():
            if c == 1.0:
                if b >= 0:
                    products += 1
                elif pure[int(a)]:
                    return True  # what it would inline may be products: let _expand see
        return products >= MIN_TERMS
    plus = terms[:, 0] == 1.0
    lone = plus & (terms[:, 2] < 0)
    if pure[terms[lone, 1].astype(np.int64)].any():
        return True
    return int(plus.sum()) - int(lone.sum()) >= MIN_TERMS


def _rows(k: int, terms: np.ndarray, inlined: tuple, seqs) -> dict:
    """The candidate rows of group k, one per placement of its lone terms: ``{lone: (k, run,
    whole, F, A, B, terms, inlined)}``, with the factor sequences A and B as ids (``seqs``:
    one id per distinct sequence). Its +1 products always; its +1 lone terms ``1·c`` as the
    product ``c·1`` with ``c`` on side A (``lone="a"``) or B (``"b"``), or left out (``""``).
    Empty when it has fewer than ``MIN_TERMS`` true products.

    ``run``, A and B are lists for a short group and int64 arrays for a long one
    (``SHORT``); ``seqs`` numbers both alike."""
    if len(terms) <= SHORT:
        coefs = terms[:, 0].tolist()
        first, second = terms[:, 1:3].astype(np.int64).T.tolist()
        if coefs.count(1.0) == len(coefs):
            run = list(range(len(coefs)))
        else:
            run = [i for i, c in enumerate(coefs) if c == 1.0]
            first = [first[i] for i in run]
            second = [second[i] for i in run]
        lone = [j for j, b in enumerate(second) if b < 0]
        if len(run) - len(lone) < MIN_TERMS:
            return {}
        keep = [j for j, b in enumerate(second) if b >= 0]
        a_side, b_side = list(first), list(second)  # the lone terms' children on side B
        for j in lone:
            a_side[j], b_side[j] = ONE, first[j]
        pick = _pick_list
    else:
        run = np.flatnonzero(terms[:, 0] == 1.0)
        chosen = terms if len(run) == len(terms) else terms[run]
        first = chosen[:, 1].astype(np.int64)
        second = chosen[:, 2].astype(np.int64)
        keep = second >= 0
        lone = np.flatnonzero(~keep)
        if len(run) - len(lone) < MIN_TERMS:
            return {}
        a_side, b_side = first.copy(), second.copy()
        a_side[lone] = ONE
        b_side[lone] = first[lone]
        pick = _pick_array
    whole = len(run) == len(terms)
    level = seqs.level
    a, b = seqs(first), seqs(second)
    deepest = max(level[a], level[b])
    if not len(lone):  # A = the first factors, B = the second ones, in order
        return {"a": (k, run, whole, deepest, a, b, terms, inlined)}
    pa, pb = seqs(pick(first, keep)), seqs(pick(second, keep))  # the lone terms left out
    return {
        "a": (k, run, whole, deepest, a, b, terms, inlined),
        "b": (k, run, whole, deepest, seqs(a_side), seqs(b_side), terms, inlined),
        "": (k, pick(run, keep), False, max(level[pa], level[pb]), pa, pb, terms, inlined),
    }


def _pick_list(seq: list, keep: list) -> list:
    return [seq[j] for j in keep]


def _pick_array(seq: np.ndarray, keep: np.ndarray) -> np.ndarray:
    return seq[keep]


class _Sequences:
    """Factor sequences (lists or int64 arrays of topological indices) numbered by content: the
    same Values in the same order get the same id, so rows compare ints, not sequences of a
    thousand; each sequence's deepest level is found once (``ONE``, the constant 1.0, is at
    level 0)."""

    def __init__(self, node_level: array) -> None:
        self._ids: dict = {}
        self._node_level = node_level
        self._level_array = np.frombuffer(node_level, dtype=np.intc)
        self.keys: list = []  # id -> the sequence's int64 bytes (``sequence(id)`` reads them)
        self.level: list = []  # id -> the deepest level of its factors

    def __call__(self, seq) -> int:
        is_list = isinstance(seq, list)
        key = array("q", seq).tobytes() if is_list else seq.tobytes()
        i = self._ids.get(key)
        if i is None:
            i = self._ids[key] = len(self.keys)
            self.keys.append(key)
            if is_list:
                lv = self._node_level
                self.level.append(max([lv[x] for x in seq if x >= 0], default=0))
            else:
                factors = seq[seq >= 0]
                self.level.append(int(self._level_array[factors].max()) if len(factors) else 0)
        return i

    def sequence(self, i: int) -> np.ndarray:
        return np.frombuffer(self.keys[i], dtype=np.int64)


# where a lone term (a bias) goes: with the first factors (w·x + b), the second (x·w + b), or out
LONE_SIDES = ("a", "b", "")


def find(order: list, groups: Groups, level: array, kept: list, uses: array) -> List[Block]:
    """Every complete block among the kept groups (see the module docstring). Each way of
    placing the lone terms proposes blocks; the biggest win, rows in two proposals go to the
    bigger one, and the rows left over are proposed again."""
    candidates = []
    variants = {}
    seqs = _Sequences(level)
    # a kept group read once may be inlined into the row that reads it (``_expand``)
    pure = np.frombuffer(groups.state, dtype=np.intc) == KEPT
    pure &= np.frombuffer(uses, dtype=np.intc) == 1
    for k in kept:
        g = groups.kept.get(k)
        if g is not None and len(g.terms) >= MIN_TERMS and _may_be_row(g.terms, pure):
            v = _rows(k, *_expand(groups, pure, g.terms), seqs)
            if v:
                candidates.append(k)
                variants[k] = v
    blocks: List[Block] = []
    while len(candidates) >= MIN_ROWS:
        proposals = []
        for lone in LONE_SIDES:
            rows = [variants[k][lone] for k in candidates if lone in variants[k]]
            if lone != "a" and not rows:
                break
            if len(rows) >= MIN_ROWS:
                proposals.extend(_blocks(rows, seqs.sequence))
        taken: set = set()
        for block in sorted(proposals, key=lambda b: -len(b.rows) * len(b.a_keys[0])):
            nodes = [row.node for row in block.rows] + [
                c for row in block.rows for c, _first, _size in row.inlined]
            if taken.isdisjoint(nodes):
                taken.update(nodes)
                blocks.append(block)
        if not taken:
            break
        pure[list(taken)] = False
        left = []
        for k in candidates:
            if k in taken:
                continue
            v = variants[k]
            if any(c in taken for c, _first, _size in next(iter(v.values()))[7]):
                # it inlined a group a block now computes: that group is a value it reads
                v = variants[k] = _rows(k, *_expand(groups, pure, groups.kept[k].terms), seqs)
            if v:
                left.append(k)
        candidates = left
    blocks.sort(key=lambda b: b.rows[0].node)
    return blocks


def _blocks(rows: list, sequence) -> List[Block]:
    """The complete blocks among candidate rows ``(node, run, whole, F, A id, B id, …)``;
    ``sequence`` turns an id back into its sequence."""
    # union-find over sequence nodes (side, F, id); each row joins its two sequences
    ids: dict = {}
    parent: list = []

    def node_id(key) -> int:
        i = ids.get(key)
        if i is None:
            i = ids[key] = len(parent)
            parent.append(i)
        return i

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    ends = []
    for r in rows:
        ia, ib = node_id((0, r[3], r[4])), node_id((1, r[3], r[5]))
        ra, rb = root(ia), root(ib)
        if ra != rb:
            parent[ra] = rb
        ends.append(ia)
    components: dict = {}
    for r, ia in zip(rows, ends):
        components.setdefault(root(ia), []).append(r)

    blocks = []
    for members in components.values():
        blocks.extend(_complete_blocks(members, sequence))
    return blocks


def _complete_blocks(members: list, sequence) -> List[Block]:
    """Complete blocks covering as much of one component as a greedy choice finds: the A's shared
    by the most B's, with the B's every one of them meets; repeated on what is left. Rows in no
    block of at least ``MIN_ROWS`` rows fall back."""
    blocks = []
    left = members
    while len(left) >= MIN_ROWS:
        by_pair: dict = {}  # (akey, bkey) -> row; a pair seen twice leaves the second for later
        partners: dict = {}  # akey -> bkeys, in order of first appearance
        b_order: dict = {}
        for r in left:
            if (r[4], r[5]) in by_pair:
                continue
            by_pair[(r[4], r[5])] = r
            partners.setdefault(r[4], []).append(r[5])
            b_order.setdefault(r[5], len(b_order))
        most = max(len(bs) for bs in partners.values())
        a_keys = [a for a, bs in partners.items() if len(bs) == most]
        common = set(partners[a_keys[0]]).intersection(*(partners[a] for a in a_keys[1:]))
        b_keys = sorted(common, key=b_order.__getitem__)
        if len(a_keys) * len(b_keys) < most:  # one A with all of its B's covers more
            a_keys, b_keys = a_keys[:1], partners[a_keys[0]]
        if len(a_keys) * len(b_keys) < MIN_ROWS:
            break
        rows = [by_pair[(a, b)] for b in b_keys for a in a_keys]
        blocks.append(Block(rows[0][3], [sequence(a) for a in a_keys],
                            [sequence(b) for b in b_keys],
                            [Row(r[0], r[1], r[2], r[6], r[7]) for r in rows]))
        used = {id(r) for r in rows}
        left = [r for r in left if id(r) not in used]
    return blocks
