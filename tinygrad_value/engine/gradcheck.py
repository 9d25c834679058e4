"""gradcheck: compare backward()'s gradients with central differences."""

from __future__ import annotations

from typing import Callable, List, Sequence

from .backward import topo_order
from .value import Value, no_grad


class GradcheckError(RuntimeError):
    """Raised by ``gradcheck`` with one line per input whose gradients disagree."""


def numeric_grads(f: Callable[[List[Value]], Value], inputs: Sequence[Value],
                  eps: float = 1e-6) -> List[float]:
    """(f(x + eps) - f(x - eps)) / 2eps for each input in turn; inputs' data is restored."""
    grads = []
    for x in inputs:
        original = x.data
        try:
            with no_grad():
                x.data = original + eps
                plus = f(list(inputs)).data
                x.data = original - eps
                minus = f(list(inputs)).data
        finally:
            x.data = original
        grads.append((plus - minus) / (2 * eps))
    return grads


def analytic_grads(f: Callable[[List[Value]], Value], inputs: Sequence[Value]) -> List[float]:
    """d f / d input from one ``backward()``; every leaf's ``.grad`` is left as it was found."""
    out = f(list(inputs))
    if not isinstance(out, Value):
        raise TypeError(f"gradcheck: f must return a Value, got {type(out).__name__}")
    leaves = {id(v): v for v in topo_order(out) if v.is_leaf}
    for x in inputs:
        leaves[id(x)] = x
    saved = {key: v.grad for key, v in leaves.items()}
    try:
        for v in leaves.values():
            v.grad = 0.0
        out.backward()
        return [x.grad for x in inputs]
    finally:
        for key, v in leaves.items():
            v.grad = saved[key]


def gradcheck(f: Callable[[List[Value]], Value], inputs: Sequence[Value], eps: float = 1e-6,
              atol: float = 1e-6, rtol: float = 1e-4) -> bool:
    """True when backward agrees with central differences for every input, within
    ``|analytic - numeric| <= atol + rtol·|numeric|``; otherwise ``GradcheckError`` lists
    each mismatching input."""
    inputs = list(inputs)
    for i, x in enumerate(inputs):
        if not isinstance(x, Value):
            raise TypeError(f"gradcheck: inputs[{i}] must be a Value, got {type(x).__name__}")
    analytic = analytic_grads(f, inputs)
    numeric = numeric_grads(f, inputs, eps)
    problems = []
    for i, (x, a, n) in enumerate(zip(inputs, analytic, numeric)):
        if not abs(a - n) <= atol + rtol * abs(n):
            name = f" {x.label!r}" if x.label else ""
            problems.append(f"  input {i}{name} (data={x.data!r}): backward gives {a!r}, "
                            f"central difference gives {n!r} (difference {abs(a - n):.3g})")
    if problems:
        raise GradcheckError("gradcheck failed for {} of {} inputs:\n{}".format(
            len(problems), len(inputs), "\n".join(problems)))
    return True
