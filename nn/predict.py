"""nn.predict: a model's outputs for many rows, as floats, batched and (for many rows) compiled."""

from __future__ import annotations

import math
from typing import List, Optional, Sequence, Union

import tinygrad_value as tv

Row = Union[float, List[float]]


def _outputs(out) -> list:
    """A model's output as a list of Values (a one-output layer returns a bare Value)."""
    return list(out) if isinstance(out, (list, tuple)) else [out]


class Predictor:
    """``Predictor(model, nin)(X)``: the outputs for every row of X, one list of floats per row.

    The model runs in eval mode (Dropout off). Compiled (the default): one batch of ``batch``
    rows is built once on input leaves and compiled with ``tv.compile``; each call reads the
    parameters' current ``.data`` once (so one Predictor follows a model through training), then
    replays the batch for every chunk of rows, loading the rows as arrays. ``compiled=False``
    runs the eager engine under ``tv.no_grad()`` (cheaper for a few rows). No grad is touched.
    """

    def __init__(self, model, nin: int, batch: int = 512, compiled: bool = True) -> None:
        self.model, self.nin, self.batch = model, nin, batch
        self.program = None
        if compiled:
            with _eval(model):
                self.inputs = [[tv.Value(0.0) for _ in range(nin)] for _ in range(batch)]
                self.outputs = [_outputs(model(row)) for row in self.inputs]
            flat = [v for row in self.outputs for v in row]
            self.program = tv.compile(tv.sum(flat))
            self._at_inputs = self.program.index([v for row in self.inputs for v in row])
            try:
                self._at_outputs = self.program.index(flat)
            except ValueError:  # an output folded into the sum: read it node by node
                self._at_outputs = None

    def rows(self, X) -> List[List[float]]:
        X = [[float(c) for c in row] for row in X]
        if self.program is None:
            with _eval(self.model), tv.no_grad():
                return [[v.data for v in _outputs(self.model([tv.Value(c) for c in row]))]
                        for row in X]
        import numpy as np

        if X and any(len(row) != self.nin for row in X):
            bad = next(len(row) for row in X if len(row) != self.nin)
            raise ValueError(f"predict: the model was set up for rows of {self.nin} inputs, got "
                             f"a row of {bad}")
        program = self.program
        program.forward()  # reads every leaf once: the parameters as they are now
        width = len(self.outputs[0])
        result: List[List[float]] = []
        for start in range(0, len(X), self.batch):
            chunk = X[start:start + self.batch]
            rows = np.array(chunk + [chunk[0]] * (self.batch - len(chunk)), dtype=np.float64)
            program.load(self._at_inputs, rows)  # a short last chunk repeats its first row
            program.run()
            if self._at_outputs is not None:
                out = program.values(self._at_outputs).reshape(self.batch, width)
                result.extend(out[:len(chunk)].tolist())
            else:
                result.extend([program.value(v) for v in self.outputs[i]]
                              for i in range(len(chunk)))
        return result

    __call__ = rows


class _eval:
    """``with _eval(model):`` eval mode inside, the previous mode restored after."""

    def __init__(self, model) -> None:
        self.model = model

    def __enter__(self):
        self.was = getattr(self.model, "training", None)
        if self.was is not None:
            self.model.eval()

    def __exit__(self, *exc) -> None:
        if self.was is not None:
            self.model.train(self.was)


# What a prediction costs, measured on the 2-core machine (`nn.MLP(784, [64, 10], use_dot=True)`
# and micrograd's moons MLP, 1,000 rows): compiling costs about 3 µs per edge of the graph plus
# 0.1 s; one replay of a compiled batch about 0.3 ms; the eager engine about 0.5 µs per edge per
# row (0.2 µs in a dot, 3 µs in binary ops).
_COMPILE_PER_EDGE, _COMPILE_FIXED, _REPLAY, _EAGER_PER_EDGE = 3e-6, 0.1, 3e-4, 5e-7


def _edges_per_row(model, row) -> int:
    """How many edges one row's graph has (the model run once in eval mode on ``row``, a row
    of the caller's, so a model whose ops have a domain sees data it accepts)."""
    from tinygrad_value.engine.backward import topo_order

    with _eval(model):
        out = _outputs(model([tv.Value(float(c)) for c in row]))
    return sum(len(v.children) for v in topo_order(tv.sum(out)))


def _plan(model, first_row, rows: int, batch: Optional[int] = None):
    """``(batch, compiled)`` for predicting ``rows`` rows like ``first_row``: the batch that
    balances compiling (grows with the batch) against replaying (once per batch),
    b = √(rows·replay / (compile per edge · edges per row)), and whether that beats the eager
    engine at all."""
    edges = max(1, _edges_per_row(model, first_row))
    if batch is None:
        best = math.sqrt(rows * _REPLAY / (_COMPILE_PER_EDGE * edges))
        batch = min(512, rows, max(1, round(best)))
    compiled = (_COMPILE_FIXED + _COMPILE_PER_EDGE * edges * batch
                + math.ceil(rows / batch) * _REPLAY) < rows * edges * _EAGER_PER_EDGE
    return batch, compiled


def predict(model, X: Sequence, batch: Optional[int] = None,
            compiled: Union[bool, None] = None) -> List[Row]:
    """The model's output for every row of X: a list of floats for a one-output model, a list
    of lists otherwise. Eval mode, no grads touched. ``batch`` (rows per compiled replay) and
    ``compiled`` are chosen from the graph's size and the number of rows unless given: a big
    network on many rows replays a small compiled batch (one MNIST digit at a time), a few rows
    run eagerly."""
    X = list(X)
    if not X:
        return []
    if compiled is None or (compiled and batch is None):
        batch, auto = _plan(model, X[0], len(X), batch)
        compiled = auto if compiled is None else compiled
    rows = Predictor(model, len(X[0]), batch or 512, compiled=compiled).rows(X)
    return [r[0] for r in rows] if all(len(r) == 1 for r in rows) else rows
