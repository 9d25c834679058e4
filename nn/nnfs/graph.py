"""LayerGraph: one layer's arithmetic as scalar Values, built once per input shape, then replayed.

A layer describes itself as ``build(*leaves) -> outputs``: given object arrays of leaf Values
(its inputs, parameters and any per-call constants such as a dropout mask), it returns an object
array of output Values made with ordinary Value arithmetic. ``forward`` sets the leaves from
float64 arrays and returns the outputs' data; ``vjp`` returns, for each leaf array, the
vector-Jacobian product ∂(Σ seedᵢ·outputᵢ)/∂leaf, computed by the engine.

The first call with a given set of shapes runs eagerly (``tv.grad``); the second compiles the
graph (``tv.compile``) of S = Σ seedᵢ·outputᵢ, with the seeds as extra leaves, and every later
call replays it, so the book's 10,001-epoch loops take seconds. The replay is fed straight from
the arrays through the program's array interface (``index``, ``load``, ``run``,
``run_backward`` seeded at the outputs, ``values``, ``grads``); a graph where some leaf or
output has no position of its own goes through the leaves' ``.data`` and ``.grad`` instead.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator, List, Optional, Sequence

import numpy as np

import tinygrad_value as tv


def leaf_array(data: np.ndarray, label: str = "") -> np.ndarray:
    """An object array of new leaf Values holding ``data`` (labelled ``label[i,j]``)."""
    out = np.empty(data.shape, dtype=object)
    flat = out.reshape(-1)
    for i, x in enumerate(data.reshape(-1).tolist()):
        flat[i] = tv.Value(x)
    if label and out.size <= 4096:  # labels are for drawing small graphs
        for index in np.ndindex(*data.shape):
            out[index].label = f"{label}[{','.join(map(str, index))}]"
    return out


def values_data(values: np.ndarray) -> np.ndarray:
    """The ``.data`` of an object array of Values, as float64 of the same shape."""
    return np.fromiter((v.data for v in values.reshape(-1)), dtype=np.float64,
                       count=values.size).reshape(values.shape)


try:  # NumPy's own zeros, whatever nnfs.init() did to the np.zeros name
    from numpy._core.multiarray import zeros as _numpy_zeros
except ImportError:  # pragma: no cover - NumPy 1.x
    from numpy.core.multiarray import zeros as _numpy_zeros


@contextmanager
def float64_zeros() -> Iterator[None]:
    """Undo nnfs.init()'s float32 np.zeros while tv.compile allocates its arrays, so the replay
    computes in float64 as the eager engine does."""
    saved = np.zeros
    np.zeros = _numpy_zeros
    try:
        yield
    finally:
        np.zeros = saved


class _Entry:
    """The graph for one tuple of input shapes, and (from its second use on) its replay."""

    def __init__(self, build, arrays, labels):
        self.leaves = [leaf_array(a, lab) for a, lab in zip(arrays, labels)]
        self.out = np.asarray(build(*self.leaves), dtype=object)
        self.uses = 1
        self.prog = None
        self.direct = None
        self.forwarded = False  # the last direct replay was a forward of the current leaves


class LayerGraph:
    """The engine's view of one layer: ``forward(*arrays)`` and ``vjp(arrays, seeds)``."""

    def __init__(self, build: Callable[..., np.ndarray], labels: Sequence[str] = ()) -> None:
        self.build = build
        self.labels = tuple(labels)
        self._entries: dict = {}
        self.compile_after = 1  # uses of a shape before it is compiled (0: compile at once)
        self.direct_replay = True  # feed tv.compile's slots from arrays (False: via .data)

    def _entry(self, arrays) -> tuple:
        key = tuple(a.shape for a in arrays)
        entry = self._entries.get(key)
        if entry is None:
            labels = self.labels + ("",) * (len(arrays) - len(self.labels))
            entry = self._entries[key] = _Entry(self.build, arrays, labels)
            fresh = True
        else:
            entry.uses += 1
            fresh = False
        if entry.prog is None and entry.uses > self.compile_after:
            self._compile(entry)
        return entry, fresh

    def fresh_values(self, arrays: Sequence[np.ndarray]) -> np.ndarray:
        """A new eager graph for ``arrays`` (not cached): what ``layer.values`` shows."""
        arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
        labels = self.labels + ("",) * (len(arrays) - len(self.labels))
        return _Entry(self.build, arrays, labels).out

    def forward(self, *arrays: np.ndarray) -> np.ndarray:
        """The outputs' data for leaves set to ``arrays`` (float64, the outputs' shape)."""
        arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
        entry, fresh = self._entry(arrays)
        if fresh:
            return values_data(entry.out)
        if entry.prog is None:
            self._set(entry, arrays)
            return self._eager_out(entry)
        return self._replay(entry, arrays, None)[0]

    def vjp(self, arrays: Sequence[np.ndarray], seeds: np.ndarray,
            wrt: Optional[Sequence[int]] = None) -> List[np.ndarray]:
        """[∂(Σ seedᵢ·outputᵢ)/∂leaves[k] for k in wrt] (default: every leaf array)."""
        arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
        seeds = np.asarray(seeds, dtype=np.float64)
        entry, fresh = self._entry(arrays)
        if seeds.shape != entry.out.shape:
            raise ValueError(f"backward got dvalues of shape {seeds.shape}, but this layer's "
                             f"output has shape {entry.out.shape}")
        wrt = range(len(arrays)) if wrt is None else wrt
        if entry.prog is None:
            if not fresh:
                self._set(entry, arrays)
                self._eager_out(entry)
            wanted = [entry.leaves[k] for k in wrt]
            flat = [v for leaves in wanted for v in leaves.reshape(-1)]
            grads = tv.grad(list(entry.out.reshape(-1)), flat, seeds.reshape(-1).tolist(),
                            allow_unused=True)
            result, start = [], 0
            for leaves in wanted:
                result.append(np.array(grads[start:start + leaves.size]).reshape(leaves.shape))
                start += leaves.size
            return result
        return self._replay(entry, arrays, seeds, wrt)[1]

    # --- eager and compiled paths ----------------------------------------------------------

    @staticmethod
    def _set(entry, arrays) -> None:
        for leaves, a in zip(entry.leaves, arrays):
            for v, x in zip(leaves.reshape(-1), a.reshape(-1).tolist()):
                v.data = x

    def _eager_out(self, entry) -> np.ndarray:
        """Recompute every node's data from the leaves in topological order (no gradients)."""
        from tinygrad_value.engine import scalar_math as sm

        roots = list(entry.out.reshape(-1))
        order = tv.topo_order(tv.sum(roots)) if len(roots) > 1 else tv.topo_order(roots[0])
        for node in order:
            fn = node._fn
            if fn is None:
                continue
            kids = [c.data for c in node.children]
            node.data = fn.forward(sm, *kids, node._arg) if fn.has_param else \
                fn.forward(sm, *kids)
        return values_data(entry.out)

    def _compile(self, entry) -> None:
        seeds = leaf_array(np.zeros(entry.out.shape, dtype=np.float64))
        entry.seeds = seeds
        # one root that keeps every output a node of its own (a dot does not fold its inputs);
        # its seeds stay 0, the backward is seeded at the outputs instead
        root = tv.dot(list(entry.out.reshape(-1)), list(seeds.reshape(-1)))
        with float64_zeros():
            entry.prog = tv.compile(root)
        entry.direct = _direct(entry) if self.direct_replay else None

    def _replay(self, entry, arrays, seeds, wrt=()) -> tuple:
        """(outputs, None) for a forward (``seeds`` None), else (None, [grads of leaves[k] for
        k in wrt])."""
        d = entry.direct
        prog = entry.prog
        if d is not None:  # the program's array interface: load, run, run_backward
            leaves, out = d
            if seeds is None:
                for layout, a in zip(leaves, arrays):
                    layout.load(prog, a)
                prog.run(root=False)  # the root only collects the outputs for the backward
                entry.forwarded = True
                return out.read(prog.values), None
            # backward right after a forward of the same leaves (the book's order) is the
            # backward of that forward
            reuse = entry.forwarded and all(layout.holds(prog, a)
                                            for layout, a in zip(leaves, arrays))
            entry.forwarded = False
            if not reuse:
                for layout, a in zip(leaves, arrays):
                    layout.load(prog, a)
                prog.run(root=False)
            prog.run_backward(out.index, out.seeds(seeds))
            return None, [leaves[k].read(prog.grads) for k in wrt]
        self._set(entry, arrays)
        if seeds is None:
            for v in entry.seeds.reshape(-1):
                v.data = 0.0
            prog.forward()
            out = np.array([prog.value(v) for v in entry.out.reshape(-1)])
            return out.reshape(entry.out.shape), None
        for v, x in zip(entry.seeds.reshape(-1), seeds.reshape(-1).tolist()):
            v.data = x
        for leaves in entry.leaves:
            for v in leaves.reshape(-1):
                v.grad = 0.0
        prog()
        return None, [np.array([v.grad for v in entry.leaves[k].reshape(-1)])
                      .reshape(entry.leaves[k].shape) for k in wrt]


def _direct(entry) -> Optional[tuple]:
    """Where our leaves and outputs are in the compiled program (a ``Layout`` each), or None
    when one of them has no position (a leaf no output reads, an output folded away): then the
    replay goes through ``.data``/``.grad``."""
    prog = entry.prog
    try:
        leaves = [Layout(prog.index(list(a.reshape(-1))), a.shape) for a in entry.leaves]
        out = Layout(prog.index(list(entry.out.reshape(-1))), entry.out.shape)
    except (KeyError, ValueError):
        return None
    return leaves, out


class Layout:
    """Where the elements of one array (a layer's leaf or output array) are in a program's
    value and gradient arrays: a few runs of consecutive positions, in the array's order or,
    for a matrix, its transpose's (a dense block stores its outputs neuron by neuron), read and
    written through slices; else one index array."""

    MAX_RUNS = 4  # more runs, or runs of fewer than RUN elements on average: an index array
    RUN = 1024

    def __init__(self, positions: np.ndarray, shape: tuple) -> None:
        self.shape = shape
        self.transposed = False
        self.runs = _runs(positions)
        if len(shape) == 2:
            runs_t = _runs(positions.reshape(shape).T.reshape(-1))
            if len(runs_t) < len(self.runs):
                self.transposed, self.runs = True, runs_t
        n = len(positions)
        if len(self.runs) > 1 and len(self.runs) > min(self.MAX_RUNS, n // self.RUN):
            self.transposed, self.runs = False, None
        self._positions = positions
        # what run_backward is seeded at: one slice, or every position in the array's order
        self.one = self.runs is not None and len(self.runs) == 1
        self.index = self.runs[0][2] if self.one else positions

    def flat(self, a: np.ndarray) -> np.ndarray:
        """``a``'s elements in the order of the runs."""
        return (a.T if self.transposed else a).reshape(-1)

    def seeds(self, a: np.ndarray) -> np.ndarray:
        """``a``'s elements in the order of ``index``."""
        return self.flat(a) if self.one else a.reshape(-1)

    def load(self, prog, a: np.ndarray) -> None:
        if self.runs is None:
            prog.load(self._positions, a.reshape(-1))
            return
        flat = self.flat(a)
        for s0, s1, where in self.runs:
            prog.load(where, flat[s0:s1])

    def holds(self, prog, a: np.ndarray) -> bool:
        """Whether the program's leaves here hold ``a`` (what the last forward loaded)."""
        if self.runs is None:
            return np.array_equal(prog.values(self._positions), a.reshape(-1))
        flat = self.flat(a)
        return all(np.array_equal(prog.values(where), flat[s0:s1])
                   for s0, s1, where in self.runs)

    def read(self, get) -> np.ndarray:
        """``get(index)`` (``prog.values`` or ``prog.grads``) as an array of this shape."""
        if self.runs is None:
            return get(self._positions).reshape(self.shape)
        if len(self.runs) == 1:
            flat = get(self.runs[0][2])
        else:
            flat = np.concatenate([get(where) for _s0, _s1, where in self.runs])
        if self.transposed:
            return np.ascontiguousarray(flat.reshape(self.shape[::-1]).T)
        return flat.reshape(self.shape)


def _runs(positions: np.ndarray) -> list:
    """(first, end, slice of positions) for each run of consecutive positions, in order."""
    n = len(positions)
    if not n:
        return []
    starts = np.concatenate([[0], np.flatnonzero(np.diff(positions) != 1) + 1]).tolist()
    ends = starts[1:] + [n]
    return [(s0, s1, slice(int(positions[s0]), int(positions[s0]) + s1 - s0))
            for s0, s1 in zip(starts, ends)]
