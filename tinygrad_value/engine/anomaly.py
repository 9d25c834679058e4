"""``detect_anomaly()``: stop at the first op whose forward or backward gives NaN or ±inf.

Off by default (it costs a check per node). Inside the block every op goes through
``value.apply``, which checks each result, and ``backward()`` checks each contribution
``local · upstream``; the first non-finite one raises a ``ValueError`` naming the op, its operands
and the labels of the nodes involved. A NaN leaf (``Value(float('nan'))``) is allowed: the error
comes at the first op that uses it. The mode is process-wide, like PyTorch's anomaly mode.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator, Optional

from . import value as _value
from .op import Op, format_number

_lock = threading.Lock()


@contextmanager
def detect_anomaly() -> Iterator[None]:
    """Within this block, the first NaN or inf produced by an op (forward or backward) raises
    ``ValueError`` naming the op, its operands and their labels."""
    with _lock:
        _value._ANOMALY += 1
        _value._update_fast()
    try:
        yield
    finally:
        with _lock:
            _value._ANOMALY -= 1
            _value._update_fast()


def is_anomaly_enabled() -> bool:
    """True inside ``detect_anomaly()``."""
    return bool(_value._ANOMALY)


def _name(v) -> str:
    return repr(v.label) if v.label else "an unlabelled node"


def _operands(children, k: Optional[float]) -> str:
    parts = [f"{_name(c)} = {c.data!r}" for c in children]
    if k is not None:
        parts.append(f"constant {format_number(k)}")
    return "; ".join(parts)


def forward_anomaly(fn: Op, children: tuple, k: Optional[float], out: float) -> ValueError:
    """The error for a forward result ``out`` that is NaN or inf."""
    formula = fn.formula([repr(c.data) for c in children], k, numbers=True)
    return ValueError(f"detect_anomaly: {fn.name} gave {out!r} in the forward pass: "
                      f"{formula} = {out!r} (operands: {_operands(children, k)})")


def backward_anomaly(node, child, local: float, upstream: float) -> ValueError:
    """The error for a backward contribution ``local · upstream`` that is NaN or inf."""
    fn = node._fn
    return ValueError(
        f"detect_anomaly: the backward of {fn.name} at {_name(node)} (data {node.data!r}) gave "
        f"{local * upstream!r} for its operand {_name(child)} (data {child.data!r}): local "
        f"derivative {local!r} × upstream gradient {upstream!r} (operands: "
        f"{_operands(node.children, node._arg)})")
