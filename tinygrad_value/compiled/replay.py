"""Program: the runtime of ``tv.compile``, a fixed scalar graph replayed as vectorised NumPy.

The graph is flattened once (``schedule.py``); each call then runs level by level, every level
a handful of NumPy calls that evaluate the op table's own rules on arrays (``np_math`` is the
``xp`` namespace). Leaves are re-read on every call, so an optimizer step or a new mini-batch of
the same shape (assigned into the input leaves' ``.data``) is picked up; gradients are *added*
into leaf ``.grad`` exactly as ``root.backward()`` would. Interior Values are left alone: ask the
program for their value or gradient instead.

    prog = tv.compile(loss)
    for step in range(100):
        model.zero_grad()
        prog()              # == loss of the current parameters, grads filled in
        optimizer.step()

Code that keeps its numbers in arrays uses the array interface instead, which never touches a
Value: ``index(nodes)`` (positions), ``load(index, array)`` (leaves), ``run()`` (forward),
``run_backward(index, seeds)`` (backward, seeded at any nodes), ``values(index)``,
``grads(index)``. Dense blocks (``dense.py``) run as matrix products in both interfaces.
"""

from __future__ import annotations

import operator
import random
from typing import Optional

import numpy as np

from ..engine.backward import gc_paused
from ..engine.ops import MUL
from ..engine.value import Value, _domain_error
from . import narrow, np_math
from .fold import eager_sum
from .schedule import Schedule, UnsupportedOpError, build

__all__ = ["Program", "UnsupportedOpError"]

_data = operator.attrgetter("data")


class Program:
    """A compiled replay of one graph; call it to recompute ``root`` and add leaf gradients."""

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
        self._seed_plan = None  # (index, its positions, no repeats, seeded steps) of the last
        self._step_of = None  # slot -> index of its level's step (-1: level 0), built on demand

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
        p = self._p
        V, G, C = self._V, self._G, self._C
        n = self._nleaf
        self._done = ""  # until this call completes (a domain error leaves it half done)
        V[:n] = np.fromiter(map(_data, self._leaves), dtype=np.float64, count=n)
        V[n] = 1.0
        root = p.root_slot
        if root >= n:
            with np.errstate(all="ignore"):
                self._forward(p, V)
                if backward:
                    self._backward(p, V, G, C)
        if backward:
            if root < n:  # the root is a leaf: d root / d root = 1
                G[root] = 1.0
                self.root.grad += 1.0
            else:
                for leaf, g in zip(self._leaves, G[:n].tolist()):
                    leaf.grad += g
        self._done = "backward" if backward else "forward"
        return float(V[root])

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

    def load(self, index: np.ndarray, data) -> None:
        """Set the leaves at ``index`` (from ``index(leaves)``) to ``data`` (float64, same
        length) for the next ``run()``; the Values' ``.data`` are not touched (and ``prog()`` /
        ``forward()``, which re-read every ``.data``, overwrite what was loaded)."""
        index = np.asarray(index, dtype=np.int64)
        if index.size and (index.min() < 0 or index.max() >= self._nleaf):
            raise ValueError("load() sets leaves only: pass positions from prog.index(leaves), "
                             "not of computed nodes")
        self._V[index] = np.asarray(data, dtype=np.float64).reshape(-1)

    def run(self) -> float:
        """The forward pass from the loaded leaves (see ``load``); returns root's value.
        Reads no ``.data``; ``values(index)`` answers afterwards."""
        self._done = ""
        if self._p.root_slot >= self._nleaf:
            with np.errstate(all="ignore"):
                self._forward(self._p, self._V)
        self._done = "forward"
        return float(self._V[self._p.root_slot])

    def run_backward(self, index: Optional[np.ndarray] = None, seeds=None) -> None:
        """The backward pass of the last ``run()`` (or call). By default it is d root/d node;
        with ``index`` (positions of nodes, e.g. outputs) and ``seeds`` it is
        d(Σ seedsᵢ·nodeᵢ)/d node, as ``tv.backward(outputs, seeds)`` seeds several outputs (the
        root gets no seed of 1 then). Adds to no ``.grad``: read ``grads(index)``."""
        if not self._done:
            raise RuntimeError("run_backward() needs a run() (or a call) first")
        p = self._p
        seeded = None
        if index is not None:
            index = np.asarray(index, dtype=np.int64)
            seeds = np.asarray(seeds, dtype=np.float64).reshape(-1)
            if seeds.shape != index.shape:
                raise ValueError(f"run_backward got {seeds.size} seeds for {index.size} nodes")
            if self._S is None:
                self._S = np.zeros(p.size, dtype=np.float64)
                self._step_of = np.full(p.size, -1, dtype=np.int64)
                for i, step in enumerate(p.steps):
                    self._step_of[step[0]:step[1]] = i
            S = self._S
            last = self._seed_plan
            if last is None or not np.array_equal(last[1], index):  # new: levels, repeats?
                if last is not None:
                    S[last[1]] = 0.0
                unique = len(np.unique(index)) == len(index)
                last = self._seed_plan = (index, index.copy(), unique,
                                          set(self._step_of[index].tolist()))
            if last[2]:
                S[index] = seeds
            else:
                S[index] = 0.0
                np.add.at(S, index, seeds)
            seeded = last[3]
        self._done = ""
        G = self._G
        if p.root_slot < self._nleaf:
            G[:] = 0.0
            G[p.root_slot] = 1.0
            if seeded is not None:
                G[:] = self._S
        else:
            with np.errstate(all="ignore"):
                self._backward(p, self._V, G, self._C, seeded)
        self._done = "backward"

    def values(self, index: np.ndarray) -> np.ndarray:
        """The nodes' values (float64 array) as of the last run or call."""
        if not self._done:
            raise RuntimeError("call the compiled program before reading values or gradients")
        return self._V[np.asarray(index, dtype=np.int64)]

    def grads(self, index: np.ndarray) -> np.ndarray:
        """The nodes' gradients (float64 array) from the last backward (for leaves: this pass's
        contribution alone, not the accumulated ``.grad``)."""
        if self._done != "backward":
            raise RuntimeError("grads() needs a backward pass: run_backward() or a full call")
        return self._G[np.asarray(index, dtype=np.int64)]

    # --- the levels --------------------------------------------------------------------------

    def _forward(self, p: Schedule, V: np.ndarray) -> None:
        xp = np_math
        ta, tb, seg, coef = p.term_a, p.term_b, p.term_group, p.term_coef
        wa, wb, wk = p.ew_a, p.ew_b, p.ew_k
        TA, TB, WA, WB = self._TA, self._TB, self._WA, self._WB
        for step, recipe in zip(p.steps, self._narrow):
            if recipe is not None:
                narrow.forward(self, recipe)
                continue
            _o0, _o1, _e0, _e1, group, ews, blocks = step
            for d in blocks:
                i = self._dense_index[id(d)]
                XB, XA = self._XB[i], self._XA[i]
                np.take(V, d.b_slots, out=XB, mode="clip")
                np.take(V, d.a_slots, out=XA, mode="clip")
                V[d.d0:d.d1] = np.matmul(XB, XA.T).reshape(-1)
            if group is not None:
                g0, g1, t0, t1, neg, first = group
                A, B = TA[t0:t1], TB[t0:t1]
                np.take(V, ta[t0:t1], out=A, mode="clip")
                np.take(V, tb[t0:t1], out=B, mode="clip")
                prod = MUL.forward(xp, A, B)
                if neg:
                    prod *= coef[t0:t1]
                out = np.bincount(seg[t0:t1] - g0, prod, minlength=g1 - g0)
                if first and not out.all():
                    self._signed_zeros(out, g0, prod, t0)
                V[g0:g1] = out
            for fn, o0, o1, w0, w1 in ews:
                A, B = WA[w0:w1], WB[w0:w1]
                np.take(V, wa[w0:w1], out=A, mode="clip")
                if fn.arity == 2:
                    np.take(V, wb[w0:w1], out=B, mode="clip")
                args = fn.operands(A, B, wk[w0:w1])
                if fn.draws:  # a fresh draw per node and replay (dropout masks)
                    args += (xp.uniform(self._rng, w1 - w0),)
                V[o0:o1] = fn.forward(xp, *args)
                if fn.check is not None and not np.isfinite(V[o0:o1]).all():
                    self._raise_domain_error(fn, o0, o1, w0)

    def _backward(self, p: Schedule, V: np.ndarray, G: np.ndarray, C: np.ndarray,
                  seeded: Optional[set] = None) -> None:
        """Level by level from the root; ``seeded``: the steps holding nodes seeded from
        ``self._S`` (``run_backward``), whose seeds are added to what flows in from above."""
        xp = np_math
        seg, coef = p.term_group, p.term_coef
        pos_ta, pos_tb, pos_wa, pos_wb = p.term_pos_a, p.term_pos_b, p.ew_pos_a, p.ew_pos_b
        wk = p.ew_k
        local = p.edge_local
        TA, TB, WA, WB = self._TA, self._TB, self._WA, self._WB
        steps = p.steps
        plans = self._narrow
        S = self._S
        G[p.root_slot] = 1.0 if seeded is None else S[p.root_slot]
        for i in range(len(steps) - 1, -1, -1):
            seed_here = seeded is not None and i in seeded and i < len(steps) - 1
            if plans[i] is not None:
                narrow.backward(self, plans[i], top=i == len(steps) - 1,
                                seed=S[plans[i][1]] if seed_here else None)
                continue
            o0, o1, e0, e1, group, ews, blocks = steps[i]
            if i < len(steps) - 1:  # the top level holds only the root
                G[o0:o1] = np.bincount(local[e0:e1], C[e0:e1], minlength=o1 - o0)
                if seed_here:
                    G[o0:o1] += S[o0:o1]
            for d in blocks:  # ∂(b·a)/∂b = a, ∂/∂a = b (MUL's local rule), summed by BLAS
                j = self._dense_index[id(d)]
                dY = G[d.d0:d.d1].reshape(d.S, d.J)
                C[d.pos_b] = np.matmul(dY, self._XA[j]).reshape(-1)
                C[d.pos_a] = np.matmul(dY.T, self._XB[j]).reshape(-1)
            if group is not None:
                _g0, _g1, t0, t1, neg, _first = group
                up = G.take(seg[t0:t1], mode="clip")
                if neg:
                    up *= coef[t0:t1]
                A, B = TA[t0:t1], TB[t0:t1]
                la, lb = MUL.local(xp, A, B, None)
                C[pos_ta[t0:t1]] = up * la
                C[pos_tb[t0:t1]] = up * lb
            for fn, s0, s1, w0, w1 in ews:
                up = G[s0:s1]
                local_grads = fn.local(xp, *fn.operands(WA[w0:w1], WB[w0:w1], wk[w0:w1]),
                                       V[s0:s1])
                C[pos_wa[w0:w1]] = up * local_grads[0]
                if fn.arity == 2:
                    C[pos_wb[w0:w1]] = up * local_grads[1]
        o0, o1, e0, e1 = p.level0
        G[o0:o1] = np.bincount(local[e0:e1], C[e0:e1], minlength=o1 - o0)
        if seeded is not None and -1 in seeded:
            G[o0:o1] += S[o0:o1]

    def _signed_zeros(self, out: np.ndarray, g0: int, prod: np.ndarray, t0: int) -> None:
        """A chain of binary ops that sums to zero is -0.0 when every term is -0.0 (the eager
        engine starts from the first term, bincount from +0.0); sum/dot nodes start from +0.0."""
        p = self._p
        first, end, signed = p.group_first, p.group_end, p.group_signed_zero
        for j in np.flatnonzero(out == 0).tolist():
            s = g0 + j
            if signed[s] and np.signbit(prod[first[s] - t0:end[s] - t0]).all():
                out[j] = -0.0

    def _raise_domain_error(self, fn, o0: int, o1: int, w0: int) -> None:
        """Find the first node of this step outside its op's domain and raise eager's error."""
        p = self._p
        bad = np.flatnonzero(~np.isfinite(self._V[o0:o1]))
        slot_topo = p.slot_topo
        for j in bad.tolist():
            w = w0 + j
            problem = fn.check(*fn.operands(float(self._WA[w]), float(self._WB[w]),
                                            float(p.ew_k[w])))
            if problem:
                node = p.order[slot_topo[o0 + j]]
                raise _domain_error(problem, *node.children)

    # --- reading results ---------------------------------------------------------------------

    def _locate(self, node: Value):
        if not self._done:
            raise RuntimeError("call the compiled program before reading values or gradients")
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
