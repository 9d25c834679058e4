"""Folding: chains of ``+ - neg sum`` over products (``*``, ``dot``) become sums of product terms.

``add``, ``sub``, ``neg`` and ``sum`` are linear: their local derivatives, read from the op
table, are the constants ±1, so such a node is Σ cᵢ·childᵢ. ``mul`` is one product and ``dot``
is Σ xᵢ·wᵢ. A chain such as micrograd's neuron ``b + w₀x₀ + w₁x₁ + …`` is therefore one
*group*: a list of terms ``c · a · b`` (a lone child is ``c · child · 1``).

A linear node takes over its first child's group when that child has no other consumer (the
chain goes on), and inlines any one-term group (a ``mul``, a ``neg``) wherever it sits. Terms keep
the order in which the eager engine adds them, so a sequential sum reproduces eager bit for bit;
a group that was folded remembers where its terms went, so its value and gradient can be read.
"""

from __future__ import annotations

from itertools import count, repeat

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


class _Group:
    """A sum of product terms ``(coef, a, b, consumer_a, slot_a, consumer_b, slot_b)``.

    ``a``/``b`` are topological indices (``b`` is -1 for a lone child, multiplied by 1), and the
    consumer/slot pairs say which original node took each input, which fixes the eager order of
    gradient contributions. A group absorbed into another records where its terms went.
    """

    __slots__ = ("node", "terms", "into", "offset", "sign", "size", "from_zero")

    def __init__(self, node: int, terms, from_zero: bool) -> None:
        self.node = node  # topological index of the node this group computes
        self.terms = terms
        self.into = None  # the group that absorbed this one
        self.offset = 0  # index of this group's first term in ``into``'s list
        self.sign = 1.0  # ∂(into)/∂(this): ±1
        self.size = 0  # number of terms when absorbed
        # eager sum/dot start from 0.0, a chain of binary ops from its first term: the two
        # differ only in the sign of a zero result (0.0 + -0.0 is +0.0)
        self.from_zero = from_zero


def _linear_coefs(fn: Op, n: int, cache: dict) -> tuple:
    """The constant local derivatives of a linear op, read from the table (inputs do not matter)."""
    key = (fn, n)
    coefs = cache.get(key)
    if coefs is None:
        coefs = tuple(fn.local(scalar_math, *([1.0] * n), 1.0))
        for c in coefs:
            if c not in (1.0, -1.0):
                raise UnsupportedOpError(
                    f"op {fn.name!r} is listed as linear but has local derivative {c!r}")
        cache[key] = coefs
    return coefs


def interior(order: list, kids: list, counts: list):
    """``(k, node, children as topological indices)`` for every non-leaf node in topological
    order; ``kids`` is every node's children, flat, ``counts`` how many each node has (one flat
    list instead of a tuple per node: a 10⁶-node graph saves ~40 MB)."""
    p = 0
    for k, node in enumerate(order):
        c = counts[k]
        if node._fn is None:
            continue
        yield k, node, kids[p:p + c]
        p += c


def fold(order: list, kids: list, counts: list, uses: list) -> dict:
    """A ``_Group`` for every add/sub/neg/sum/mul/dot node, keyed by topological index; ``kids``
    and ``counts`` are the children as in ``interior``, ``uses`` how many edges enter each node."""
    groups: dict = {}
    get = groups.get
    cache: dict = {}
    for k, node, ch in interior(order, kids, counts):
        fn = node._fn
        if fn is MUL:
            groups[k] = _Group(k, [(1.0, ch[0], ch[1], k, 0, k, 1)], False)
        elif fn is DOT:
            xs, ws = DOT.split(ch)  # term i is xᵢ·wᵢ: inputs i and h + i of the node
            h = len(xs)
            groups[k] = _Group(k, list(zip(repeat(1.0), xs, ws, repeat(k), range(h), repeat(k),
                                           count(h))), DOT.adds_from_zero)
        elif fn.linear:  # out = Σ cᵢ·childᵢ (declared in the op table)
            coefs = _linear_coefs(fn, len(ch), cache)
            me = _Group(k, None, fn.adds_from_zero)
            terms = []
            s = 0
            for c, co in zip(ch, coefs):
                cg = get(c) if uses[c] == 1 else None
                if cg is None:
                    terms.append((co, c, -1, k, s, -1, 0))
                elif s == 0 and co == 1.0:
                    terms = cg.terms  # the chain continues: take the child's terms over
                    cg.into, cg.size = me, len(terms)
                    me.from_zero = me.from_zero or cg.from_zero
                elif len(cg.terms) == 1:
                    t = cg.terms[0]
                    cg.into, cg.offset, cg.sign, cg.size = me, len(terms), co, 1
                    terms.append((co * t[0],) + t[1:])
                else:
                    terms.append((co, c, -1, k, s, -1, 0))
                s += 1
            me.terms = terms
            groups[k] = me
    return groups
