"""Value: one real number, the op that made it, and its children: a node of the graph.

Every operator and method is an entry of the op table (``ops.py``) applied by one helper,
``apply``, which runs the op's ``check`` and ``forward`` and records the node; ``backward()``
reads the same entry's local derivatives. ``no_grad()`` makes every result a plain leaf.
"""

from __future__ import annotations

import numbers
import threading
from contextlib import contextmanager
from typing import Iterator, Optional, Union

from . import scalar_math as _sm
from .ops import (
    ABS,
    ADD,
    CLAMP_MAX,
    CLAMP_MIN,
    DETACH,
    DIV,
    DOT,
    DROPOUT_MASK,
    EXP,
    LEAKY_RELU,
    LOG,
    MAX,
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
# ``detect_anomaly()`` nesting depth (process-wide, as PyTorch's anomaly mode).
_ANOMALY = 0
# True while every thread records and no anomaly check is on: then ``+``, ``*`` and ``relu`` may
# build their node inline instead of calling ``apply``. Kept in step by ``_update_fast``.
_FAST = True


def _update_fast() -> None:
    global _FAST
    _FAST = _GRAD_ENABLED and not _ANOMALY


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
        _update_fast()
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
            _update_fast()


def is_grad_enabled() -> bool:
    """True unless this thread is inside ``no_grad()``."""
    return _GRAD_ENABLED or _recording()


def _domain_error(message: str, *operands: "Value") -> ValueError:
    names = [v.label for v in operands if v.label]
    where = f" (node {', '.join(repr(n) for n in names)})" if names else ""
    return ValueError(message + where)


class NumberTooLarge(OverflowError, ValueError):
    """An int too large for a float (beyond about 1.8e308): a Value cannot hold it."""


def _to_float(x, what: str = "Value") -> float:
    """``float(x)`` for a real number, with a clear error for ints past float range."""
    try:
        return float(x)
    except OverflowError:
        digits = len(str(abs(int(x))))
        raise NumberTooLarge(
            f"{what}: the int has {digits} digits, too large for a float (the largest float is "
            "about 1.8e308); scale it down, or pass float('inf') if infinity is meant") from None


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
            data = _to_float(data)
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

    # --- operators and functions: each one the op table's entry, through ``apply`` ---------
    # Measured (``python -m benchmarks.engine``, "Inlined paths" line: micrograd's demo MLP
    # forward, GC off): going through ``apply`` costs +54% of the forward for ``+``, +69% for
    # ``*`` and +5% for ``relu``, all above the 3% bar, so those three build their node inline
    # while ``_FAST`` (recording, no anomaly check); any other case, and every other op, goes
    # through ``apply``.

    def __add__(self, other):
        if type(other) is not Value:
            other = _lift(other)
            if other is None:
                return NotImplemented
        if _FAST:
            out = _new(Value)
            out.data = self.data + other.data  # ADD.forward
            out.grad = 0.0
            out.label = ""
            out._a = self
            out._b = other
            out._fn = ADD
            out._arg = None
            return out
        return apply(ADD, (self, other))

    def __radd__(self, other):
        other = _lift(other)
        return NotImplemented if other is None else other.__add__(self)

    def __mul__(self, other):
        if type(other) is not Value:
            other = _lift(other)
            if other is None:
                return NotImplemented
        if _FAST:
            out = _new(Value)
            out.data = self.data * other.data  # MUL.forward
            out.grad = 0.0
            out.label = ""
            out._a = self
            out._b = other
            out._fn = MUL
            out._arg = None
            return out
        return apply(MUL, (self, other))

    def __rmul__(self, other):
        other = _lift(other)
        return NotImplemented if other is None else other.__mul__(self)

    def __sub__(self, other):
        other = _lift(other)
        return NotImplemented if other is None else apply(SUB, (self, other))

    def __rsub__(self, other):
        other = _lift(other)
        return NotImplemented if other is None else other.__sub__(self)

    def __truediv__(self, other):
        other = _lift(other)
        return NotImplemented if other is None else apply(DIV, (self, other))

    def __rtruediv__(self, other):
        other = _lift(other)
        return NotImplemented if other is None else other.__truediv__(self)

    def __neg__(self):
        return apply(NEG, (self,))

    def __pos__(self):
        return self

    def __pow__(self, other):
        """``x ** Value`` is ``pow`` (differentiable in both); ``x ** number`` is ``powc``."""
        if isinstance(other, Value):
            return apply(POW, (self, other))
        if not isinstance(other, _Real):
            return NotImplemented
        return apply(POWC, (self,), _to_float(other, "the exponent"))

    def __rpow__(self, other):
        other = _lift(other)
        return NotImplemented if other is None else other.__pow__(self)

    def exp(self) -> "Value":
        """eˣ; gives inf (not an error) past float range, as NumPy and PyTorch do."""
        return apply(EXP, (self,))

    def log(self) -> "Value":
        """Natural log; ValueError for inputs <= 0."""
        return apply(LOG, (self,))

    def tanh(self) -> "Value":
        return apply(TANH, (self,))

    def sigmoid(self) -> "Value":
        """1 / (1 + e⁻ˣ), computed without overflow for any input."""
        return apply(SIGMOID, (self,))

    def relu(self) -> "Value":
        """max(0, x); NaN stays NaN."""
        if _FAST:
            x = self.data
            out = _new(Value)
            out.data = 0.0 if x < 0 else x  # RELU.forward
            out.grad = 0.0
            out.label = ""
            out._a = self
            out._fn = RELU
            out._arg = None
            return out
        return apply(RELU, (self,))

    def leaky_relu(self, negative_slope: float = 0.01) -> "Value":
        """x for x > 0, ``negative_slope``·x otherwise (PyTorch's default slope 0.01)."""
        return apply(LEAKY_RELU, (self,), _to_float(negative_slope, "negative_slope"))

    def sqrt(self) -> "Value":
        return apply(SQRT, (self,))

    def abs(self) -> "Value":
        return apply(ABS, (self,))

    __abs__ = abs

    def max(self, other) -> "Value":
        """The larger of this and ``other`` (a Value or a number), as ``torch.maximum``: the
        gradient goes to the larger one, half to each at a tie; NaN in either gives NaN."""
        o = _lift(other)
        if o is None:
            raise TypeError(f"max needs a Value or a real number, got {type(other).__name__}")
        return apply(MAX, (self, o))

    def clamp_min(self, c: Number) -> "Value":
        """max(x, c) for a number ``c``; gradient 1 where x >= c (the boundary included, as
        ``torch.clamp``), else 0."""
        return apply(CLAMP_MIN, (self,), _constant(c, "clamp_min", "x.max(v)"))

    def clamp_max(self, c: Number) -> "Value":
        """min(x, c) for a number ``c``; gradient 1 where x <= c, else 0."""
        return apply(CLAMP_MAX, (self,), _constant(c, "clamp_max", "-(-x).max(-v)"))

    def clamp(self, lo: Optional[Number] = None, hi: Optional[Number] = None) -> "Value":
        """x limited to [lo, hi] (either may be None), as ``torch.clamp``: clamp_min then
        clamp_max, so lo > hi gives hi; gradient 1 inside the closed interval, else 0."""
        if lo is None and hi is None:
            raise ValueError("clamp needs lo, hi or both, e.g. x.clamp(0.0, 1.0)")
        out = self if lo is None else self.clamp_min(lo)
        return out if hi is None else out.clamp_max(hi)

    def detach(self) -> "Value":
        """The same number, with no gradient flowing back through it (as ``torch.detach``).
        Unlike a plain number it is a node: a compiled replay recomputes it from the data."""
        return apply(DETACH, (self,))

    def dropout_mask(self, p: Number) -> "Value":
        """A fresh inverted-dropout mask for this Value: 0 with probability ``p``, else
        1/(1-p), drawn with Python's ``random`` (``random.seed`` reproduces it) and redrawn
        by every compiled replay. Not differentiable in x (∂/∂x = 0)."""
        return apply(DROPOUT_MASK, (self,), _constant(p, "dropout_mask"))

    def dropout(self, p: Number) -> "Value":
        """Inverted dropout, x · x.dropout_mask(p): 0 with probability p, else x/(1-p)."""
        return self * self.dropout_mask(p)

    # --- plain-number views: not differentiable ----------------------------------------
    # Comparisons and float() read .data and record nothing (no gradient flows through them).
    # == and hash stay identity: Values are dict keys throughout the graph code.

    def __float__(self) -> float:
        """``float(v)`` is ``v.data``; not differentiable."""
        return self.data

    def __lt__(self, other) -> bool:
        o = _number(other)
        return NotImplemented if o is None else self.data < o

    def __le__(self, other) -> bool:
        o = _number(other)
        return NotImplemented if o is None else self.data <= o

    def __gt__(self, other) -> bool:
        o = _number(other)
        return NotImplemented if o is None else self.data > o

    def __ge__(self, other) -> bool:
        o = _number(other)
        return NotImplemented if o is None else self.data >= o

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


def apply(fn: Op, children: tuple, k: Optional[float] = None) -> Value:
    """The one way a node is made: run ``fn.check`` on the children's data (a ``ValueError``
    naming op and operands if outside the domain), then ``fn.forward``, and record ``fn`` with
    its ``children`` (a tuple of Values) and constant ``k``. Under ``detect_anomaly()`` a NaN or
    inf result raises."""
    args = [c.data for c in children]
    if fn.has_param:
        args.append(k)
    if fn.check is not None:
        problem = fn.check(*args)
        if problem:
            raise _domain_error(problem, *children)
    if fn.draws:
        args.append(_sm.uniform())
    data = fn.forward(_sm, *args)
    if _ANOMALY and data - data != 0:  # nan or ±inf
        from .anomaly import forward_anomaly

        raise forward_anomaly(fn, children, k, data)
    if fn.arity == -1:
        return _make(data, fn, children)
    if fn.arity == 2:
        return _make(data, fn, children[0], children[1])
    return _make(data, fn, children[0], None, k)


def _make(data: float, fn: Op, a, b=None, arg: Optional[float] = None) -> Value:
    """A new node; ``a``, ``b`` are its children (for n-ary ops, ``a`` is the tuple of them).
    This and ``Value.children`` are the two places that know how children are stored."""
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
        out.data = x if type(x) is float else _to_float(x)
        out.grad = 0.0
        out.label = ""
        out._fn = None
        out._arg = None
        return out
    if isinstance(x, Value):
        return x
    return None


def _constant(c, op: str, instead: str = "") -> float:
    """An op's constant as a float; TypeError naming the op for a Value or a non-number."""
    if isinstance(c, Value) or not isinstance(c, _Real):
        hint = f" (for a Value use {instead})" if instead and isinstance(c, Value) else ""
        raise TypeError(f"{op} takes a number as its constant, got {type(c).__name__}{hint}")
    return _to_float(c, f"{op}'s constant")


def _number(x) -> Optional[float]:
    """The plain number a comparison reads: a Value's data or a real number; else None."""
    if isinstance(x, Value):
        return x.data
    if isinstance(x, _Real):
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
    children = SUM.join(values)
    return apply(SUM, children) if children else Value(0.0)


def dot(xs, ws) -> Value:
    """One n-ary node Σ xᵢ·wᵢ whose children are (x₀, …, xₙ₋₁, w₀, …, wₙ₋₁)."""
    children = DOT.join(xs, ws)
    return apply(DOT, children) if children else Value(0.0)
