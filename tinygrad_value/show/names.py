"""What every viewer calls a node and how it writes a number: names, ids and number formats.

The renderer (``viz``), the stepper, the page and the widget all read these, so a node is called
the same everywhere and none of them depends on another just to name things.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Union

from ..engine.ops import format_number
from ..engine.value import Value

Formatter = Union[str, Callable[[float], str], None]

# A label that reads as a name in ``dL/d<name>``: an identifier, dotted paths and [indices]
# allowed (``x1``, ``layer1.neuron0.w[0]``). Anything else (``x1*w1 + x2*w2``) is an expression.
_SIMPLE = re.compile(r"[^\W\d][\w.]*(\[\d+\][\w.]*)*")


def is_simple_name(label: str) -> bool:
    """True when ``label`` reads as one name (``x1``, ``w[0]``), not as an expression."""
    return bool(_SIMPLE.fullmatch(label))


def node_names(order: list[Value]) -> dict[Value, str]:
    """A short, stable name per node: its label, else ``n1, n2, ...`` (constants: their value).

    A label that is an expression (``x1*w1``) is not used as a name: ``dL/dx1*w1`` would read as
    a product. Such a node gets ``n1, n2, ...`` too, and ``shown_name`` pairs the two once.
    Repeated labels get a suffix (``x``, ``x_2``) so every name points at one node.
    """
    names: dict[Value, str] = {}
    taken = {v.label for v in order if v.label}
    used: set = set()
    counter = 0
    for v in order:
        named = bool(v.label) and is_simple_name(v.label)
        if named:
            name = v.label
        elif v._fn is None and not v.label:
            name = format_number(v.data)  # an unlabelled leaf is a constant such as the 2 in x*2
        else:
            counter += 1
            name = f"n{counter}"
            while name in taken:
                counter += 1
                name = f"n{counter}"
        base, k = name, 1
        while name in used and (v.label or v._fn is not None):
            k += 1
            name = f"{base}_{k}"
        used.add(name)
        names[v] = name
    return names


def shown_name(v: Value, names: dict[Value, str]) -> str:
    """How a node is introduced: ``n1 = 'x1*w1 + x2*w2'`` for an expression label, else its name."""
    name = names[v]
    return name if not v.label or v.label == name else f"{name} = '{v.label}'"


def node_ids(order: list[Value]) -> dict[Value, str]:
    """Each node's id in drawings and the HTML page: ``v0, v1, ...`` in topological order."""
    return {v: f"v{i}" for i, v in enumerate(order)}


def formatter(fmt: Formatter = None, decimals: int = 4) -> Callable[[float], str]:
    """A float -> str function from a format string (``"{:.4f}"``), a callable, or decimals.

    A number that rounds to zero is written without a sign: ``-0.00001`` with 4 decimals is
    ``0.0000``, never ``-0.0000`` (the sign of a zero says nothing a learner needs).
    """
    if fmt is None:
        d = int(decimals)

        def fixed(x: float) -> str:
            # fixed point reads best; huge numbers would print hundreds of digits: 1e9 form
            text = f"{x:.{d}f}" if not abs(x) >= 1e9 else f"{x:.{d}e}"
            return _unsign_zero(text)

        return fixed
    if isinstance(fmt, str):
        pattern = fmt
        return lambda x: _unsign_zero(pattern.format(x))
    return fmt


def _unsign_zero(text: str) -> str:
    """``-0.0000`` -> ``0.0000`` (also ``-0.00e+00``); any other text unchanged."""
    mantissa = text[1:].split("e")[0]
    if text.startswith("-") and mantissa and set(mantissa) <= set("0.,_"):
        return text[1:]
    return text
