"""Value: one real number, the op that made it, and its children: a node of the graph.

The forward rule of each operator is written out directly in its method (this is the hot path
when a network is built); the calculus lives in the op table (``ops.py``), which ``backward()``
reads. ``no_grad()`` makes every result a plain leaf.
"""

from __future__ import annotations

import math
import numbers
import threading
from contextlib import contextmanager
from typing import Iterator, Optional, Union

from . import scalar_math as _sm
from .ops import (
    ABS,
    ADD,
    DIV,
    DOT,
    EXP,
    LEAKY_RELU,
    LOG,
    MUL,
    NEG,
    POW,
    POWC,
    RELU,
    SIGMOID,
    SQRT,
    SUB,
    SUM,
    TANH,
    Op,
)

Number = Union[int, float]
_Real = numbers.Real
# Grad mode is per thread, as in PyTorch: a drawing thread inside ``no_grad()`` must not turn
# the training thread's nodes into leaves. The hot path reads one global: it is True while no
# thread at all is inside ``no_grad()``; only then do operators ask which thread they are on.
_GRAD_ENABLED = True
_no_grad_depth: dict = {}  # thread ident -> nesting depth of no_grad() in that thread
_no_grad_lock = threading.Lock()


def _recording() -> bool:
    """Slow path of the grad-mode check, used while some thread is inside ``no_grad()``."""
    return threading.get_ident() not in _no_grad_depth


@contextmanager
def no_grad() -> Iterator[None]:
    """Inside this block (in this thread), operations on Values record nothing: each result is
    a leaf."""
    global _GRAD_ENABLED
    me = threading.get_ident()
    with _no_grad_lock:
        _no_grad_depth[me] = _no_grad_depth.get(me, 0) + 1
        _GRAD_ENABLED = False
    try:
        yield
    finally:
        with _no_grad_lock:
            depth = _no_grad_depth[me] - 1
            if depth:
                _no_grad_depth[me] = depth
            else:
                del _no_grad_depth[me]
            _GRAD_ENABLED = not _no_grad_depth


def is_grad_enabled() -> bool:
    """True unless this thread is inside ``no_grad()``."""
    return _GRAD_ENABLED or _recording()


def _domain_error(message: str, *operands: "Value") -> ValueError:
    names = [v.label for v in operands if v.label]
    where = f" (node {', '.join(repr(n) for n in names)})" if names else ""
    return ValueError(message + where)




class Value:
    """A real scalar in a computation graph.

    ``data`` is the number, ``grad`` is d(root)/d(this) after ``root.backward()``, ``children``
    the ordered inputs of the op that produced it (duplicates kept), ``op`` that op's symbol
    (``""`` for a leaf), ``label`` a name for people.
    """

    # Children live in two slots (``_a``, ``_b``) rather than a tuple: one fewer object per node
    # for the garbage collector to track, which is most of what building a graph costs.
    # n-ary nodes keep their tuple of children in ``_a``.
    __slots__ = ("data", "grad", "label", "_a", "_b", "_fn", "_arg")
    __array_ufunc__ = None  # NumPy scalars on the left defer to our reflected operators

    def __init__(self, data: Number, label: str = "") -> None:
        if type(data) is not float:
            if not isinstance(data, _Real):
                raise TypeError(
                    f"Value needs a real number (int or float), got {type(data).__name__}: {data!r}"
                )
            data = float(data)
        if not isinstance(label, str):
            raise TypeError(f"label must be a str, got {type(label).__name__}")
        self.data = data
        self.grad = 0.0
        self.label = label
        self._fn: Optional[Op] = None
        self._arg: Optional[float] = None

    # --- introspection -----------------------------------------------------------------

    @property
    def op(self) -> str:
        """The op symbol as graphs show it (``'+'``, ``'tanh'``, ``'**2'``); ``''`` for a leaf."""
        fn = self._fn
        return "" if fn is None else fn.display(self._arg)

    _op = op  # micrograd's name

    @property
    def children(self) -> tuple:
        """The op's inputs in order, duplicates kept (``x*x`` has ``(x, x)``); ``()`` for a leaf."""
        fn = self._fn
        if fn is None:
            return ()
        if fn.arity == 2:
            return (self._a, self._b)
        if fn.arity == 1:
            return (self._a,)
        return self._a

    _prev = children  # micrograd's name

    @property
    def is_leaf(self) -> bool:
        return self._fn is None

    def __repr__(self) -> str:
        parts = [f"data={_short(self.data)}", f"grad={_short(self.grad)}"]
        if self._fn is not None:
            parts.append(f"op={self.op!r}")
        if self.label:
            parts.append(f"label={self.label!r}")
        return f"Value({', '.join(parts)})"

    # --- operators: forward written out, backward from the table -----------------------

    def __add__(self, other):
        if type(other) is not Value:
            other = _lift(other)
            if other is None:
                return NotImplemented
        out = _new(Value)
        out.data = self.data + other.data
        out.grad = 0.0
        out.label = ""
        if _GRAD_ENABLED or _recording():
            out._a = self
            out._b = other
            out._fn = ADD
        else:
            out._fn = None
        out._arg = None
        return out

    def __radd__(self, other):
        other = _lift(other)
        return NotImplemented if other is None else other.__add__(self)

    def __mul__(self, other):
        if type(other) is not Value:
            other = _lift(other)
            if other is None:
                return NotImplemented
        out = _new(Value)
        out.data = self.data * other.data
        out.grad = 0.0
        out.label = ""
        if _GRAD_ENABLED or _recording():
            out._a = self
            out._b = other
            out._fn = MUL
        else:
            out._fn = None
        out._arg = None
        return out

    def __rmul__(self, other):
        other = _lift(other)
        return NotImplemented if other is None else other.__mul__(self)

    def __sub__(self, other):
        if type(other) is not Value:
            other = _lift(other)
            if other is None:
                return NotImplemented
        return _make(self.data - other.data, SUB, self, other)

    def __rsub__(self, other):
        other = _lift(other)
        return NotImplemented if other is None else other.__sub__(self)

    def __truediv__(self, other):
        if type(other) is not Value:
            other = _lift(other)
            if other is None:
                return NotImplemented
        problem = DIV.check(self.data, other.data)  # the domain is stated once, in ops.py
        if problem:
            raise _domain_error(problem, self, other)
        return _make(self.data / other.data, DIV, self, other)

    def __rtruediv__(self, other):
        other = _lift(other)
        return NotImplemented if other is None else other.__truediv__(self)

    def __neg__(self):
        return _make(-self.data, NEG, self)

    def __pos__(self):
        return self

    def __pow__(self, other):
        if type(other) is Value:
            problem = POW.check(self.data, other.data)
            if problem:
                raise _domain_error(problem, self, other)
            return _make(_sm.power(self.data, other.data), POW, self, other)
        if not isinstance(other, _Real):
            return NotImplemented
        k = float(other)
        problem = POWC.check(self.data, k)
        if problem:
            raise _domain_error(problem, self)
        return _make(_sm.power(self.data, k), POWC, self, None, k)

    def __rpow__(self, other):
        other = _lift(other)
        return NotImplemented if other is None else other.__pow__(self)

    # --- elementwise functions ---------------------------------------------------------

    def exp(self) -> "Value":
        """eˣ; gives inf (not an error) past float range, as NumPy and PyTorch do."""
        return _make(_sm.exp(self.data), EXP, self)

    def log(self) -> "Value":
        """Natural log; ValueError for inputs <= 0."""
        problem = LOG.check(self.data)
        if problem:
            raise _domain_error(problem, self)
        return _make(math.log(self.data), LOG, self)

    def tanh(self) -> "Value":
        return _make(math.tanh(self.data), TANH, self)

    def sigmoid(self) -> "Value":
        """1 / (1 + e⁻ˣ), computed without overflow for any input."""
        return _make(_sm.sigmoid(self.data), SIGMOID, self)

    def relu(self) -> "Value":
        x = self.data
        out = _new(Value)
        out.data = x if x > 0 else 0.0
        out.grad = 0.0
        out.label = ""
        if _GRAD_ENABLED or _recording():
            out._a = self
            out._fn = RELU
        else:
            out._fn = None
        out._arg = None
        return out

    def leaky_relu(self, negative_slope: float = 0.01) -> "Value":
        """x for x > 0, ``negative_slope``·x otherwise (PyTorch's default slope 0.01)."""
        k = float(negative_slope)
        x = self.data
        return _make(x if x > 0 else k * x, LEAKY_RELU, self, None, k)

    def sqrt(self) -> "Value":
        problem = SQRT.check(self.data)
        if problem:
            raise _domain_error(problem, self)
        return _make(math.sqrt(self.data), SQRT, self)

    def abs(self) -> "Value":
        return _make(math.fabs(self.data), ABS, self)

    __abs__ = abs

    def _repr_svg_(self) -> Optional[str]:
        """Jupyter draws a Value as its graph; None (the plain repr) if too big or no graphviz."""
        from ..show.viz import repr_svg  # graphviz is imported only when drawing

        return repr_svg(self)

    # --- backward ----------------------------------------------------------------------

    def backward(self) -> None:
        """d(self)/d(node) for every node: interior grads are reset, leaf grads accumulate."""
        from .backward import backward

        backward(self)


_new = object.__new__


def _short(x: float) -> str:
    """4 significant digits, keeping a float look: 2.0, 0.7616, 1.235e+08."""
    text = f"{x:.4g}"
    return text if any(c in text for c in ".einf") else text + ".0"


def _make(data: float, fn: Op, a, b=None, arg: Optional[float] = None) -> Value:
    """A new node; ``a``, ``b`` are its children (for n-ary ops, ``a`` is the tuple of them)."""
    out = _new(Value)
    out.data = data
    out.grad = 0.0
    out.label = ""
    if _GRAD_ENABLED or _recording():
        out._a = a
        out._b = b
        out._fn = fn
        out._arg = arg
    else:
        out._fn = None
        out._arg = None
    return out


def _lift(x) -> Optional[Value]:
    """A Value for a Value or a real number; None for anything else (the operator then
    returns NotImplemented and Python raises its usual TypeError)."""
    if type(x) is Value:
        return x
    if type(x) is float or isinstance(x, _Real):
        out = _new(Value)
        out.data = float(x)
        out.grad = 0.0
        out.label = ""
        out._fn = None
        out._arg = None
        return out
    if isinstance(x, Value):
        return x
    return None


def as_value(x) -> Value:
    """``x`` itself if it is a Value, else a new leaf; TypeError naming the type otherwise."""
    v = _lift(x)
    if v is None:
        raise TypeError(f"expected a Value or a real number, got {type(x).__name__}: {x!r}")
    return v


def sum(values) -> Value:  # noqa: A001 - tv.sum is the public name
    """One n-ary node x₀ + x₁ + … (not a chain of binary adds); ``sum([])`` is ``Value(0.0)``."""
    children = tuple(as_value(v) for v in values)
    if not children:
        return Value(0.0)
    return _make(SUM.forward(_sm, *[c.data for c in children]), SUM, children)


def dot(xs, ws) -> Value:
    """One n-ary node Σ xᵢ·wᵢ whose children are (x₀, …, xₙ₋₁, w₀, …, wₙ₋₁)."""
    xs = [as_value(x) for x in xs]
    ws = [as_value(w) for w in ws]
    if len(xs) != len(ws):
        raise ValueError(f"dot needs two sequences of equal length, got {len(xs)} and {len(ws)}")
    if not xs:
        return Value(0.0)
    children = tuple(xs) + tuple(ws)
    return _make(DOT.forward(_sm, *[c.data for c in children]), DOT, children)
