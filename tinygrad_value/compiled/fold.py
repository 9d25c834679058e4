"""Folding: chains of ``+ - neg sum`` over products (``*``, ``dot``) become sums of product terms.

``add``, ``sub``, ``neg`` and ``sum`` are linear: their local derivatives, read from the op
table, are the constants ±1, so such a node is Σ cᵢ·childᵢ. ``mul`` is one product and ``dot``
is Σ xᵢ·wᵢ. A chain such as micrograd's neuron ``b + w₀x₀ + w₁x₁ + …`` is therefore one
*group*: a list of terms ``c · a · b`` (a lone child is ``c · child · 1``).

A linear node takes over its first child's group when that child has no other consumer (the
chain goes on), and inlines any one-term group (a ``mul``, a ``neg``) wherever it sits. Terms keep
the order in which the eager engine adds them, so a sequential sum reproduces eager bit for bit;
a group that was folded remembers where its terms went, so its value and gradient can be read.

Terms are rows of seven float64 numbers in one flat array per group, not a tuple each, and a
folded group is an entry in a few arrays (``Groups``), not an object: a deep chain folds 10⁶
nodes.
"""

from __future__ import annotations

import struct
from array import array

import numpy as np

from ..engine import scalar_math
from ..engine.ops import DOT, MUL, Op, nary_sum

# out = Σ aᵢ·bᵢ. A term is one product: its value is MUL's forward (a lone product keeps the sign
# of a zero, which DOT's sum from 0.0 would not), its local derivatives are those of one pair
# of a dot (DOT.local: ∂/∂a = b, ∂/∂b = a).
PRODUCTS = (MUL, DOT)


def eager_sum(terms: list, from_zero: bool) -> float:
    """The terms added as the eager engine adds them: an n-ary node (sum, dot) starts from 0.0,
    a chain of binary ops from its first term (which keeps the sign of a zero)."""
    if from_zero:
        return nary_sum(terms)
    total = terms[0]
    for t in terms[1:]:
        total += t
    return total


class UnsupportedOpError(TypeError):
    """A node's op cannot be replayed by ``tinygrad_value.compile``."""


TERM = 7  # a term is 7 numbers: (coef, a, b, consumer_a, slot_a, consumer_b, slot_b)
_pack = struct.Struct(f"{TERM}d").pack  # one term as the bytes of 7 float64s


class _Group:
    """A group that keeps its slot: a sum of product terms, one row of ``terms`` each.

    While folding, ``terms`` is a flat ``array('d')`` (appending is cheap); afterwards an
    ``(n, TERM)`` float64 array whose rows are ``(coef, a, b, consumer_a, slot_a, consumer_b,
    slot_b)``. ``a``/``b`` are topological indices (``b`` is -1 for a lone child, multiplied by
    1), and the consumer/slot pairs say which original node took each input, which fixes the
    eager order of gradient contributions (topological indices < 2⁵³ are exact in float64).
    """

    __slots__ = ("node", "terms", "from_zero")
    into = None  # kept: folded into no other group (``Groups`` gives folded ones as ``_Folded``)

    def __init__(self, node: int, terms, from_zero: bool) -> None:
        self.node = node  # topological index of the node this group computes
        self.terms = terms
        # eager sum/dot start from 0.0, a chain of binary ops from its first term: the two
        # differ only in the sign of a zero result (0.0 + -0.0 is +0.0)
        self.from_zero = from_zero


class _Folded:
    """A group absorbed into another: where its terms went (``into``'s terms ``offset`` to
    ``offset + size``, times ``sign`` = ∂(into)/∂(this))."""

    __slots__ = ("_groups", "node")

    def __init__(self, groups: "Groups", node: int) -> None:
        self._groups = groups
        self.node = node

    @property
    def into(self):
        return self._groups[self._groups.state[self.node]]

    @property
    def offset(self) -> int:
        return self._groups.offset[self.node]

    @property
    def size(self) -> int:
        return self._groups.size[self.node]

    @property
    def sign(self) -> float:
        return float(self._groups.sign[self.node])

    @property
    def from_zero(self) -> bool:
        return bool(self._groups.from_zero[self.node])


# Topological indices in flat ``array``s are C ints ("i", NumPy's ``intc``): 32 bits, half of
# int64 (a graph of 2³¹ nodes would need some 300 GB).
INDEX = "i"

NOT_A_GROUP = -2  # ``Groups.state`` of a node that is no group; -1 a kept group (``KEPT``)
KEPT = -1  # and ``k >= 0``: folded into group k


class Groups:
    """Every group of a graph by topological index (a dict-like ``groups[k]``). The groups that
    keep a slot are ``_Group`` objects in ``kept``; a group folded into another is one entry in
    a few flat arrays (a deep chain folds 10⁶ groups: objects would cost ~75 MB, these ~14 MB),
    read through ``_Folded`` views."""

    __slots__ = ("kept", "state", "offset", "size", "sign", "from_zero")

    def __init__(self, n: int) -> None:
        self.kept: dict = {}  # topological index -> _Group
        self.state = array(INDEX, [NOT_A_GROUP]) * n  # NOT_A_GROUP, KEPT, or the absorbing group
        self.offset = array(INDEX, [0]) * n
        self.size = array(INDEX, [0]) * n
        self.sign = array("b", [1]) * n
        self.from_zero = bytearray(n)

    def add(self, g: _Group) -> None:
        self.kept[g.node] = g
        self.state[g.node] = KEPT

    def absorb(self, k: int, into: int, offset: int, size: int, sign: float) -> None:
        """Group k's terms are now ``size`` terms of group ``into`` from ``offset`` on."""
        g = self.kept.pop(k)
        self.state[k] = into
        self.offset[k] = offset
        self.size[k] = size
        self.sign[k] = int(sign)
        self.from_zero[k] = g.from_zero

    def get(self, k: int, default=None):
        g = self.kept.get(k)
        if g is not None:
            return g
        return _Folded(self, k) if self.state[k] >= 0 else default

    def __getitem__(self, k: int):
        g = self.get(k)
        if g is None:
            raise KeyError(k)
        return g

    def __contains__(self, k: int) -> bool:
        return self.state[k] != NOT_A_GROUP


class TermList:
    """A group's terms as the tuples ``(coef, a, b, consumer_a, slot_a, consumer_b, slot_b)``
    (indices as ints), made on demand from its ``(n, TERM)`` array."""

    __slots__ = ("_T",)

    def __init__(self, T) -> None:
        self._T = T

    def __len__(self) -> int:
        return len(self._T)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [_as_tuple(r) for r in self._T[i].tolist()]
        return _as_tuple(self._T[i].tolist())

    def __iter__(self):
        return iter(self[:])


def _as_tuple(r: list) -> tuple:
    return (r[0],) + tuple(map(int, r[1:]))


def _linear_coefs(fn: Op, n: int, cache: dict) -> tuple:
    """The constant local derivatives of a linear op with n inputs, read from the table (inputs
    do not matter), and whether it adds from 0.0; remembered in ``cache``."""
    coefs = tuple(fn.local(scalar_math, *([1.0] * n), 1.0))
    for c in coefs:
        if c not in (1.0, -1.0):
            raise UnsupportedOpError(
                f"op {fn.name!r} is listed as linear but has local derivative {c!r}")
    cache[(fn, n)] = coefs, fn.adds_from_zero
    return coefs, fn.adds_from_zero


def interior(order: list, kids: array, counts: array):
    """``(k, node, children as topological indices)`` for every non-leaf node in topological
    order; ``kids`` is every node's children, flat, ``counts`` how many each node has (one flat
    array instead of a tuple per node: a 10⁶-node graph saves ~40 MB)."""
    p = 0
    for k, node in enumerate(order):
        c = counts[k]
        if node._fn is None:
            continue
        yield k, node, kids[p:p + c]
        p += c


def _dot_terms(k: int, ch, layouts: dict) -> array:
    """A dot node's terms: term i is xᵢ·wᵢ, the node's inputs at the positions ``DOT.split``
    gives (i and h + i), read as one array (``layouts``: the positions, by number of inputs);
    a short dot term by term (NumPy's per-call cost would outweigh the work)."""
    where = layouts.get(len(ch))
    if where is None:
        parts = DOT.split(range(len(ch)))
        where = layouts[len(ch)] = (parts, [np.array(part, dtype=np.intp) for part in parts])
    if len(ch) <= 32:
        return array("d", b"".join([_pack(1.0, ch[i], ch[j], k, i, k, j)
                                    for i, j in zip(*where[0])]))
    xs, ws = where[1]
    kid = np.frombuffer(ch, dtype=np.intc)
    T = np.empty((len(xs), TERM), dtype=np.float64)
    T[:, 0] = 1.0
    T[:, 1] = kid[xs]
    T[:, 2] = kid[ws]
    T[:, 3] = k
    T[:, 4] = xs
    T[:, 5] = k
    T[:, 6] = ws
    return array("d", T.tobytes())


def fold(order: list, kids: array, counts: array, uses: array) -> Groups:
    """A group for every add/sub/neg/sum/mul/dot node (``Groups``); ``kids`` and ``counts``
    are the children as in ``interior``, ``uses`` how many edges enter each node. Every kept
    group's terms end as an ``(n, TERM)`` array."""
    groups = Groups(len(order))
    kept, state = groups.kept, groups.state
    get = kept.get
    cache: dict = {}
    layouts: dict = {}
    p = 0
    for k, node in enumerate(order):
        fn = node._fn
        n = counts[k]
        if fn is None:
            continue
        if fn is MUL:  # one product (kept: ``groups.add`` written out, for speed)
            kept[k] = _Group(k, array("d", _pack(1.0, kids[p], kids[p + 1], k, 0, k, 1)), False)
            state[k] = KEPT
        elif fn is DOT:
            groups.add(_Group(k, _dot_terms(k, kids[p:p + n], layouts), DOT.adds_from_zero))
        elif fn.linear:  # out = Σ cᵢ·childᵢ (declared in the op table)
            coefs, from_zero = cache.get((fn, n)) or _linear_coefs(fn, n, cache)
            terms = array("d")
            add = terms.frombytes
            s = 0
            for c, co in zip(kids[p:p + n], coefs):
                cg = get(c) if uses[c] == 1 else None
                if cg is None:
                    add(_pack(co, c, -1, k, s, -1, 0))
                elif s == 0 and co == 1.0:
                    terms = cg.terms  # the chain continues: take the child's terms over
                    add = terms.frombytes
                    from_zero = from_zero or cg.from_zero
                    groups.absorb(c, k, 0, len(terms) // TERM, 1.0)
                elif len(cg.terms) == TERM:  # one term: inlined, times the coefficient
                    groups.absorb(c, k, len(terms) // TERM, 1, co)
                    terms.extend(cg.terms)
                    terms[-TERM] *= co
                else:
                    add(_pack(co, c, -1, k, s, -1, 0))
                s += 1
            kept[k] = _Group(k, terms, from_zero)
            state[k] = KEPT
        p += n
    for g in kept.values():
        g.terms = np.frombuffer(g.terms, dtype=np.float64).reshape(-1, TERM)
    return groups
