"""nn.predict: a model's outputs for many rows, as floats, batched and (for many rows) compiled."""

from __future__ import annotations

from typing import List, Sequence, Union

import tinygrad_value as tv

Row = Union[float, List[float]]


def _outputs(out) -> list:
    """A model's output as a list of Values (a one-output layer returns a bare Value)."""
    return list(out) if isinstance(out, (list, tuple)) else [out]


class Predictor:
    """``Predictor(model, nin)(X)``: the outputs for every row of X, one list of floats per row.

    The model runs in eval mode (Dropout off). Compiled (the default): one batch of ``batch``
    rows is built once on input leaves and replayed with ``tv.compile`` for every chunk, re-reading
    the parameters, so one Predictor follows a model through training. ``compiled=False`` runs the
    eager engine under ``tv.no_grad()`` (cheaper for a few hundred rows). No grad is touched.
    """

    def __init__(self, model, nin: int, batch: int = 512, compiled: bool = True) -> None:
        self.model, self.nin, self.batch = model, nin, batch
        self.program = None
        if compiled:
            with _eval(model):
                self.inputs = [[tv.Value(0.0) for _ in range(nin)] for _ in range(batch)]
                self.outputs = [_outputs(model(row)) for row in self.inputs]
            self.program = tv.compile(tv.sum([v for row in self.outputs for v in row]))

    def rows(self, X) -> List[List[float]]:
        X = [[float(c) for c in row] for row in X]
        if self.program is None:
            with _eval(self.model), tv.no_grad():
                return [[v.data for v in _outputs(self.model([tv.Value(c) for c in row]))]
                        for row in X]
        result = []
        for start in range(0, len(X), self.batch):
            chunk = X[start:start + self.batch]
            for leaves, row in zip(self.inputs, chunk):  # a short last chunk leaves stale rows
                for leaf, x in zip(leaves, row):
                    leaf.data = x
            self.program.forward()
            result.extend([self.program.value(v) for v in self.outputs[i]]
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


def predict(model, X: Sequence, batch: int = 512, compiled: Union[bool, None] = None) -> List[Row]:
    """The model's output for every row of X: a list of floats for a one-output model, a list
    of lists otherwise. Eval mode, no grads touched. Compiled (NumPy) when there are more than
    two batches of rows, unless ``compiled`` says otherwise."""
    X = list(X)
    if not X:
        return []
    if compiled is None:
        compiled = len(X) > 2 * batch
    rows = Predictor(model, len(X[0]), batch, compiled=compiled).rows(X)
    return [r[0] for r in rows] if all(len(r) == 1 for r in rows) else rows
