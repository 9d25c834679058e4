"""Program: the runtime of ``tv.compile``, a fixed scalar graph replayed as vectorised NumPy.

The graph is flattened once (``schedule.py``); each call then runs level by level, every level
a handful of NumPy calls that evaluate the op table's own rules on arrays (``np_math`` is the
``xp`` namespace), bound to the program's arrays on the first call (``levels.py``). Leaves are
re-read on every call, so an optimizer step or a new mini-batch of the same shape (assigned into
the input leaves' ``.data``) is picked up; gradients are *added* into leaf ``.grad`` exactly as
``root.backward()`` would. Interior Values are left alone: ask the program for their value or
gradient instead.

    prog = tv.compile(loss)
    for step in range(100):
        model.zero_grad()
        prog()              # == loss of the current parameters, grads filled in
        optimizer.step()

Code that keeps its numbers in arrays uses the array interface instead, which never touches a
Value: ``index(nodes)`` (positions), ``load(index, array)`` (leaves), ``run()`` (forward),
``run_backward(index, seeds)`` (backward, seeded at any nodes), ``values(index)``,
``grads(index)``. Positions are an index array or, where they are consecutive, a slice (read
and written as a view, no gather). ``run(root=False)`` is for a root that only ties outputs
together: its own level waits until something needs it. Dense blocks (``dense.py``) run as
matrix products in both interfaces.
"""

from __future__ import annotations

import operator
import random
from typing import Optional

import numpy as np

from ..engine.backward import gc_paused
from ..engine.ops import MUL
from ..engine.value import Value, _domain_error
from . import levels, narrow, np_math
from .fold import eager_sum
from .schedule import UnsupportedOpError, build

__all__ = ["Program", "UnsupportedOpError"]

_data = operator.attrgetter("data")


class Program:
    """A compiled replay of one graph; call it to recompute ``root`` and add leaf gradients.

    The array interface (no ``.data`` or ``.grad`` touched): ``index(nodes)`` gives positions;
    ``load``, ``values``, ``grads`` and ``run_backward`` take those positions as an int array or,
    for consecutive ones, as a ``slice`` (faster: no index array is gathered or scattered);
    ``values`` and ``grads`` return new arrays either way. ``run(root=False)`` computes every
    level but the root's and returns None, for a root that only collects outputs (``nn.nnfs``
    compiles ``dot(outputs, seeds)`` and seeds the outputs): the root's level is run when
    ``values``/``value`` ask for the root or a backward starts from it, and a backward seeded
    at other nodes never needs it (the root, unseeded, then contributes nothing, as in
    ``tv.backward(outputs, seeds)``).
    """

    def __init__(self, root: Value, narrow_levels: bool = True, seed=None,
                 dense: bool = True) -> None:
        if not isinstance(root, Value):
            raise TypeError(f"tv.compile needs a Value, got {type(root).__name__}")
        with gc_paused():
            p = build(root, use_dense=dense)
        self.root = root
        self._p = p
        self._leaves = p.leaves
        self._nleaf = len(self._leaves)
        m = p.size
        self._V = np.zeros(m, dtype=np.float64)
        self._leaf_values = self._V[:self._nleaf]
        self._G = np.zeros(m, dtype=np.float64)
        # one gradient contribution per edge; every array is float64 by name, whatever the
        # defaults have been patched to (nnfs.init() makes np.zeros float32)
        self._C = np.zeros(len(p.edge_local), dtype=np.float64)
        nterm = len(p.term_coef)
        self._TA = np.zeros(nterm, dtype=np.float64)
        self._TB = np.zeros(nterm, dtype=np.float64)
        nw = len(p.ew_a)
        self._WA = np.zeros(nw, dtype=np.float64)
        self._WB = np.zeros(nw, dtype=np.float64)
        self.manual_seed(seed)
        # each dense block's gathered factors, kept from forward for backward
        self._XB = [np.zeros((d.S, d.h), dtype=np.float64) for d in p.dense]
        self._XA = [np.zeros((d.J, d.h), dtype=np.float64) for d in p.dense]
        self._dense_index = {id(d): i for i, d in enumerate(p.dense)}
        self._done = ""  # what the last completed call computed: "", "forward" or "backward"
        self._where: dict = {}  # folded node -> where its terms are (see _absorbed)
        # one-node levels run on floats (``narrow_levels=False``: everything vectorised, for tests)
        self._narrow = narrow.plan(p) if narrow_levels else [None] * len(p.steps)
        # the leaves as they were at compile time (constants keep these in run())
        self._V[:self._nleaf] = np.fromiter(map(_data, self._leaves), dtype=np.float64,
                                            count=self._nleaf)
        self._V[self._nleaf] = 1.0
        self._S = None  # seeds of a seeded backward (run_backward with outputs)
        self._seeding = None  # the last seeded backward's positions and calls (_Seeding)
        self._plain = None  # the unseeded backward's (d root / d node)
        self._step_of = None  # slot -> index of its level's step (-1: level 0), built on demand
        # each level's NumPy calls, bound on the first run (levels.py); the root's level apart
        self._forward_calls = self._top_calls = None
        self._top_pending = False  # run(root=False) left the root's level to do
        self._top_edges_written = False  # the root's level wrote its edges since last zeroed

    def manual_seed(self, seed=None) -> None:
        """Restart the generator that ops which draw (dropout masks) use at every replay: the
        same seed gives the same sequence of draws. ``None`` takes a seed from Python's
        ``random``, so ``random.seed(s)`` before compiling reproduces a run."""
        if seed is None:
            seed = random.getrandbits(64)
        self._rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        """Number of nodes in the compiled graph."""
        return len(self._p.order)

    def __repr__(self) -> str:
        p = self._p
        return (f"<tv.compile: {len(p.order)} nodes, {p.size} slots, "
                f"{len(p.steps)} levels, {len(p.term_coef)} product terms, "
                f"{len(p.dense)} dense blocks>")

    @property
    def dense_blocks(self) -> list:
        """The matrix products found in the graph (``compiled/dense.py``), one ``(S, J, h)``
        per block: S·J rows of h terms, computed as an (S×h) @ (h×J) product."""
        return [(d.S, d.J, d.h) for d in self._p.dense]

    # --- the replay ------------------------------------------------------------------------

    def __call__(self) -> float:
        """Recompute forward and backward from the leaves' current data; return root's value."""
        return self._run(backward=True)

    def forward(self) -> float:
        """Recompute only the forward pass (no gradient is computed or added anywhere); return
        root's value. ``value(node)`` answers afterwards, ``grad(node)`` needs a full call."""
        return self._run(backward=False)

    def _run(self, backward: bool) -> float:
        V, n = self._V, self._nleaf
        self._done = ""  # until this call completes (a domain error leaves it half done)
        V[:n] = np.fromiter(map(_data, self._leaves), dtype=np.float64, count=n)
        V[n] = 1.0
        root = self._p.root_slot
        if root >= n:
            with np.errstate(all="ignore"):
                self._forward(root=True)
                if backward:
                    self._backward(self._unseeded())
        if backward:
            if root < n:  # the root is a leaf: d root / d root = 1
                self._G[root] = 1.0
                self.root.grad += 1.0
            else:
                for leaf, g in zip(self._leaves, self._G[:n].tolist()):
                    leaf.grad += g
        self._done = "backward" if backward else "forward"
        return float(V[root])

    def _forward(self, root: bool) -> None:
        """Every level's forward calls (bound on first use, ``levels.py``); the root's own level
        only with ``root`` (else it is left for when its value is needed: ``_top_pending``)."""
        if self._forward_calls is None:
            self._forward_calls, self._top_calls = levels.forward_calls(self)
        self._top_pending = True
        for f in self._forward_calls:
            f()
        if root:
            self._finish_top()

    def _finish_top(self) -> None:
        """Run the root's level if ``run(root=False)`` left it (call inside ``np.errstate``)."""
        if self._top_pending:
            for f in self._top_calls:
                f()
            self._top_pending = False

    def _backward(self, seeding: "_Seeding") -> None:
        if seeding.calls is None:
            seeding.calls = levels.backward_calls(self, seeding.steps, seeding.top)
        G, root = self._G, self._p.root_slot
        if seeding.top:
            self._finish_top()
            G[root] = 1.0 if seeding.steps is None else self._S[root]
            self._top_edges_written = True
        else:  # an unseeded root contributes nothing, as tv.backward never visits it
            G[root] = 0.0
            if self._top_edges_written:  # its edges still hold an earlier backward's
                self._C[self._top_edges()] = 0.0
                self._top_edges_written = False
        for f in seeding.calls:
            f()

    def _unseeded(self) -> "_Seeding":
        if self._plain is None:
            self._plain = _Seeding(None, None, True, True)
        return self._plain

    def _top_edges(self) -> np.ndarray:
        """Edge-buffer positions the root's level writes (its operands' contributions)."""
        p = self._p
        _o0, _o1, _e0, _e1, group, ews, _blocks = p.steps[-1]
        parts = []
        if group is not None:
            parts += [p.term_pos_a[group.t0:group.t1], p.term_pos_b[group.t0:group.t1]]
        for fn, _s0, _s1, w0, w1 in ews:
            parts.append(p.ew_pos_a[w0:w1])
            if fn.arity == 2:
                parts.append(p.ew_pos_b[w0:w1])
        return np.concatenate(parts)

    # --- the array interface: leaves and results as NumPy arrays, no .data or .grad ---------

    def index(self, nodes) -> np.ndarray:
        """Positions of ``nodes`` (any sequence of Values of the graph) in the program's arrays,
        for ``load``, ``values`` and ``grads``. A node folded into a bigger sum has no position
        (read it with ``value(node)``): ``ValueError``; a node of another graph: ``KeyError``."""
        p = self._p
        nodes = list(nodes)
        ks = p.index.lookup(nodes)
        missing = np.flatnonzero(ks < 0)
        if missing.size:
            raise KeyError(f"{nodes[missing[0]]!r} is not a node of the compiled graph")
        out = p.slot[ks]
        folded = np.flatnonzero(out < 0)
        if folded.size:
            raise ValueError(f"{nodes[folded[0]]!r} was folded into a sum and has no position of "
                             "its own; read it with prog.value(node) after a call")
        return out

    def load(self, index, data) -> None:
        """Set the leaves at ``index`` (from ``index(leaves)``, or a slice of such positions) to
        ``data`` (float64, same length) for the next ``run()``; the Values' ``.data`` are not
        touched (and ``prog()`` / ``forward()``, which re-read every ``.data``, overwrite what
        was loaded)."""
        data = np.asarray(data, dtype=np.float64).reshape(-1)
        if isinstance(index, slice):
            r = range(*index.indices(self._p.size))
            if not len(r) or max(r[0], r[-1]) < self._nleaf:
                self._V[index] = data
                return
        else:
            index = np.asarray(index, dtype=np.int64)
            if not index.size or index.min() >= 0:
                try:  # a view of the leaves alone: a computed node's position is out of bounds
                    self._leaf_values[index] = data
                    return
                except IndexError:
                    pass
        raise ValueError("load() sets leaves only: pass positions from prog.index(leaves), "
                         "not of computed nodes")

    def run(self, root: bool = True) -> Optional[float]:
        """The forward pass from the loaded leaves (see ``load``); returns root's value.
        Reads no ``.data``; ``values(index)`` answers afterwards. ``root=False`` returns None
        and leaves the root's own level (say, a dot collecting the outputs) until something
        needs it: ``values`` or ``value`` of the root, or a backward seeded at the root."""
        self._done = ""
        root_slot = self._p.root_slot
        if root_slot >= self._nleaf:
            with np.errstate(all="ignore"):
                self._forward(root=root)
        self._done = "forward"
        return float(self._V[root_slot]) if root else None

    def run_backward(self, index=None, seeds=None) -> None:
        """The backward pass of the last ``run()`` (or call). By default it is d root/d node;
        with ``index`` (positions of nodes, e.g. outputs, as an array or a slice) and ``seeds``
        it is d(Σ seedsᵢ·nodeᵢ)/d node, as ``tv.backward(outputs, seeds)`` seeds several
        outputs: the root gets no seed of 1 then, and unless it is in ``index`` contributes
        nothing. Adds to no ``.grad``: read ``grads(index)``."""
        if not self._done:
            raise RuntimeError("run_backward() needs a run() (or a call) first")
        seeding = self._unseeded() if index is None else self._seed(index, seeds)
        self._done = ""
        p = self._p
        G = self._G
        if p.root_slot < self._nleaf:
            G[:] = 0.0
            G[p.root_slot] = 1.0
            if seeding.steps is not None:
                G[:] = self._S
        else:
            with np.errstate(all="ignore"):
                self._backward(seeding)
        self._done = "backward"

    def _seed(self, index, seeds) -> "_Seeding":
        """Write ``seeds`` into ``_S`` at ``index``; the seeding (which levels hold seeds, its
        bound backward calls) is kept while the same positions are seeded."""
        p = self._p
        seeds = np.asarray(seeds, dtype=np.float64).reshape(-1)
        last = self._seeding
        if isinstance(index, slice):
            size = len(range(*index.indices(p.size)))
            same = last is not None and isinstance(last.index, slice) and last.index == index
        else:
            index = np.asarray(index, dtype=np.int64)
            size = index.size
            same = (last is not None and not isinstance(last.index, slice)
                    and last.index.shape == index.shape and (last.index == index).all())
        if seeds.size != size:
            raise ValueError(f"run_backward got {seeds.size} seeds for {size} nodes")
        if self._S is None:
            self._S = np.zeros(p.size, dtype=np.float64)
            self._step_of = np.full(p.size, -1, dtype=np.int64)
            for i, step in enumerate(p.steps):
                self._step_of[step[0]:step[1]] = i
        S = self._S
        if not same:  # new positions: which levels, any repeats?
            if last is not None:
                S[last.index] = 0.0
            if isinstance(index, slice):
                unique, where = True, index
            else:
                index = index.copy()
                unique, where = len(np.unique(index)) == len(index), index
            steps = set(np.unique(self._step_of[where]).tolist())
            # the top level holds only the root: is the root seeded?
            last = self._seeding = _Seeding(index, steps, unique, len(p.steps) - 1 in steps)
        if last.unique:
            S[index] = seeds
        else:
            S[index] = 0.0
            np.add.at(S, index, seeds)
        return last

    def values(self, index) -> np.ndarray:
        """The nodes' values (float64 array) as of the last run or call."""
        if not self._done:
            raise RuntimeError("call the compiled program before reading values or gradients")
        if isinstance(index, slice):
            if self._top_pending and self._p.root_slot in range(self._p.size)[index]:
                self._finish_top_now()
            return self._V[index].copy()
        index = np.asarray(index, dtype=np.int64)
        if self._top_pending and (index == self._p.root_slot).any():
            self._finish_top_now()
        return self._V[index]

    def _finish_top_now(self) -> None:
        with np.errstate(all="ignore"):
            self._finish_top()

    def grads(self, index) -> np.ndarray:
        """The nodes' gradients (float64 array) from the last backward (for leaves: this pass's
        contribution alone, not the accumulated ``.grad``)."""
        if self._done != "backward":
            raise RuntimeError("grads() needs a backward pass: run_backward() or a full call")
        if isinstance(index, slice):
            return self._G[index].copy()
        return self._G[np.asarray(index, dtype=np.int64)]

    # --- the levels --------------------------------------------------------------------------

    def _raise_domain_error(self, fn, o0: int, o1: int, w0: int) -> None:
        """Find the first node of this step outside its op's domain and raise eager's error."""
        p = self._p
        bad = np.flatnonzero(~np.isfinite(self._V[o0:o1]))
        slot_topo = p.slot_topo
        for j in bad.tolist():
            w = w0 + j
            problem = fn.check(*fn.operands(self._V.item(p.ew_a[w]), self._V.item(p.ew_b[w]),
                                            float(p.ew_k[w])))
            if problem:
                node = p.order[slot_topo[o0 + j]]
                raise _domain_error(problem, *node.children)

    # --- reading results ---------------------------------------------------------------------

    def _locate(self, node: Value):
        if not self._done:
            raise RuntimeError("call the compiled program before reading values or gradients")
        self._finish_top_now()
        k = self._p.index.get(node)
        if k is None:
            raise KeyError(f"{node!r} is not a node of the compiled graph")
        return k

    def value(self, node: Value) -> float:
        """``node``'s data as of the last call (the eager Value itself is not updated)."""
        k = self._locate(node)
        s = int(self._p.slot[k])
        if s >= 0:
            return float(self._V[s])
        root, start, size, sign = self._absorbed(k)
        p = self._p
        V, slot = self._V, p.slot
        terms = p.original_terms.get(root)
        if terms is None:  # the root's terms are in the term arrays, from g_first
            t0 = int(p.group_first[slot[root]]) + start
            ta, tb, coef = p.term_a, p.term_b, p.term_coef
            values = [MUL.forward(np_math, V.item(ta[t]), V.item(tb[t])) * coef.item(t)
                      for t in range(t0, t0 + size)]
        else:
            one = self._nleaf  # the slot holding 1.0 (a lone term's second factor)
            values = [MUL.forward(np_math, V.item(slot[t[1]]),
                                  V.item(slot[t[2]] if t[2] >= 0 else one)) * t[0]
                      for t in terms[start:start + size]]
        return sign * eager_sum(values, p.groups[k].from_zero)

    def grad(self, node: Value) -> float:
        """d root / d node as of the last call (what ``root.backward()`` would leave in .grad
        for an interior node; for a leaf, this call's contribution alone)."""
        k = self._locate(node)
        if self._done != "backward":
            raise RuntimeError("grad() needs a full call of the program; forward() computes "
                               "values only")
        s = int(self._p.slot[k])
        if s >= 0:
            return float(self._G[s])
        root, _start, _size, sign = self._absorbed(k)
        return sign * float(self._G[self._p.slot[root]])

    def _absorbed(self, k: int):
        """(group root's topo index, first term, number of terms, ∂root/∂node) for a node whose
        terms were folded into a bigger group: follow ``into`` links up to the kept group,
        remembering every group passed on the way (no recursion; each link is walked once)."""
        where = self._where
        groups = self._p.groups
        path = []
        g = groups[k]
        while g.node not in where:
            if g.into is None:
                where[g.node] = (g.node, 0, 0, 1.0)  # a kept group: read from its slot
                break
            path.append(g)
            g = g.into
        for g in reversed(path):
            root, start, _size, sign = where[g.into.node]
            where[g.node] = (root, start + g.offset, g.size, sign * g.sign)
        return where[k]


class _Seeding:
    """One way of seeding the backward: ``index`` (the seeded positions; None: d root / d node),
    the ``steps`` holding seeds (-1: level 0), whether the positions are ``unique``, whether the
    root's level runs (``top``: unseeded, or the root is seeded) and its bound ``calls``."""

    __slots__ = ("index", "steps", "unique", "top", "calls")

    def __init__(self, index, steps, unique: bool, top: bool) -> None:
        self.index, self.steps, self.unique, self.top = index, steps, unique, top
        self.calls = None
