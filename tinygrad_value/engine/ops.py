"""The op table: every primitive once, its forward rule beside its bare local derivatives.

Each rule is written against a namespace ``xp`` of array functions: ``scalar_math`` for the
eager engine, NumPy (plus a stable ``sigmoid``) for the compiled replay. The same entry is read
by ``backward()``, by the stepper and graph renderer (which show each local derivative), and by
``tinygrad_value.compile``; adding an op means adding one entry here, plus its ``Value`` method.

Conventions, for an op with inputs ``a, b, ...``, optional constant ``k`` and output ``out``:

* ``forward(xp, a, [b], [k]) -> out``
* ``local(xp, a, [b], [k], out) -> (∂out/∂a, ∂out/∂b, ...)``: one entry per child, evaluated at
  the current data, *never* multiplied by the upstream gradient.
* ``check(a, [b], [k]) -> str | None``: the reason the inputs are outside the op's domain.
* n-ary ops (``sum``, ``dot``) take all children's data as ``*xs`` and return one local per child.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Sequence

from . import scalar_math


@dataclass(frozen=True, eq=False)
class Op:
    """One primitive: its name, how graphs show it, and its calculus."""

    name: str
    symbol: str
    arity: int  # number of children; -1 for n-ary
    forward: Callable
    local: Callable
    has_param: bool = False
    check: Optional[Callable] = None
    doc: str = ""
    # Set when ``local`` returns the same constants whatever the inputs (add, sub, neg): the
    # eager backward then skips calling it. Tests check the two agree.
    constant_local: Optional[tuple] = None
    # Set when out = Σ cᵢ·childᵢ with constant cᵢ = ±1 (add, sub, neg, sum): the compiled replay
    # folds chains of such ops into one segment sum.
    linear: bool = False
    # How the stepper writes the op over its operands: ``{0}``, ``{1}`` are the operands, ``{k}``
    # the constant, ``{args}`` all of them, ``{xs}``/``{ws}`` the first and second half (dot).
    template: str = "{symbol}({args})"
    # The same over the operands' numbers, where that reads differently: -(-3.0), not --3.0.
    numbers_template: Optional[str] = None

    def __repr__(self) -> str:
        return f"Op({self.name!r})"

    def display(self, param: Optional[float]) -> str:
        """The string shown as ``Value.op``: the symbol, plus the constant where there is one."""
        if param is None:
            return self.symbol
        return f"{self.symbol}{format_number(param)}"

    def formula(self, parts: Sequence[str], param: Optional[float] = None,
                numbers: bool = False) -> str:
        """The op written out over ``parts``, its operands' names (or, with ``numbers``, their
        formatted values): ``x * w``, ``x ** 2``, ``tanh(n)``, ``dot([x1, x2], [w1, w2])``.
        Lists longer than 8 are shortened with an ellipsis."""
        parts = list(parts)
        template = (self.numbers_template if numbers else None) or self.template
        half = len(parts) // 2
        k = None if param is None else format_number(param)
        return template.format(*parts, symbol=self.symbol, k=k, args=_join(parts),
                               xs=_join(parts[:half]), ws=_join(parts[half:]))

    def operands(self, a, b=None, k=None) -> tuple:
        """The positional arguments ``forward``/``local``/``check`` take (before ``out``) for
        a node with inputs ``a``, ``b`` and constant ``k``: (a, b), (a, k) or (a,)."""
        if self.arity == 2:
            return (a, b)
        if self.has_param:
            return (a, k)
        return (a,)

    def local_scalar(self, inputs: tuple, param: Optional[float], out: float) -> tuple:
        """Local derivatives for plain floats (the eager engine and the stepper)."""
        if self.has_param:
            return self.local(scalar_math, *inputs, param, out)
        return self.local(scalar_math, *inputs, out)


def format_number(x: float) -> str:
    """A constant as people write it: ``2`` for 2.0, ``0.1``, ``1e+20``; exact (``repr``)."""
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else repr(x)


def _join(items: list[str], limit: int = 8) -> str:
    if len(items) > limit:
        items = items[: limit - 2] + ["…", items[-1]]
    return ", ".join(items)


OPS: dict[str, Op] = {}


def register(op: Op) -> Op:
    """Add ``op`` to the table, keyed by name; names are unique."""
    if op.name in OPS:
        raise ValueError(f"op {op.name!r} is already registered")
    OPS[op.name] = op
    return op


# --- domain checks: a sentence for people, or None when the inputs are fine -----------------


def _check_div(a, b):
    if b == 0:
        return f"division by zero: {float(a)!r} / {float(b)!r} (the divisor is 0)"
    return None


def _check_pow(a, b):
    if a == 0 and b < 0:
        return f"{float(a)!r} ** {float(b)!r}: zero cannot be raised to a negative power"
    if a < 0 and not float(b).is_integer():
        return (f"({float(a)!r}) ** {float(b)!r}: a negative base to a fractional power "
                "is not a real number")
    return None


def _check_log(a):
    if a <= 0:
        return f"log({float(a)!r}): log is defined for inputs > 0"
    return None


def _check_sqrt(a):
    if a < 0:
        return f"sqrt({float(a)!r}): sqrt is defined for inputs >= 0"
    return None


# --- the table ---------------------------------------------------------------------------------

ADD = register(Op("add", "+", 2, lambda xp, a, b: a + b, lambda xp, a, b, out: (1.0, 1.0),
                  doc="a + b; ∂/∂a = 1, ∂/∂b = 1", constant_local=(1.0, 1.0), linear=True,
                  template="{0} + {1}"))
SUB = register(Op("sub", "-", 2, lambda xp, a, b: a - b, lambda xp, a, b, out: (1.0, -1.0),
                  doc="a - b; ∂/∂a = 1, ∂/∂b = -1", constant_local=(1.0, -1.0), linear=True,
                  template="{0} - {1}"))
MUL = register(Op("mul", "*", 2, lambda xp, a, b: a * b, lambda xp, a, b, out: (b, a),
                  doc="a · b; ∂/∂a = b, ∂/∂b = a", template="{0} * {1}"))
DIV = register(Op("div", "/", 2, lambda xp, a, b: xp.divide(a, b),
                  lambda xp, a, b, out: (xp.divide(1.0, b), -xp.divide(out, b)),
                  check=_check_div, doc="a / b; ∂/∂a = 1/b, ∂/∂b = -a/b²", template="{0} / {1}"))
NEG = register(Op("neg", "neg", 1, lambda xp, a: -a, lambda xp, a, out: (-1.0,),
                  doc="-a; ∂/∂a = -1", constant_local=(-1.0,), linear=True,
                  template="-{0}", numbers_template="-({0})"))
POW = register(Op(
    "pow", "**", 2,
    lambda xp, a, b: xp.power(a, b),
    # ∂/∂b = aᵇ·ln a exists only for a > 0; at a = 0 (b >= 0) PyTorch uses 0, below it is nan.
    lambda xp, a, b, out: (
        b * xp.power(a, b - 1.0),
        xp.where(a > 0, out * xp.log(xp.where(a > 0, a, 1.0)), xp.where(a == 0, 0.0, xp.nan)),
    ),
    check=_check_pow, doc="aᵇ; ∂/∂a = b·aᵇ⁻¹, ∂/∂b = aᵇ·ln a", template="{0} ** {1}"))
POWC = register(Op(
    "powc", "**", 1,
    lambda xp, a, k: xp.power(a, k),
    lambda xp, a, k, out: (k * xp.power(a, k - 1.0),),
    has_param=True, check=_check_pow, doc="aᵏ for a constant k; ∂/∂a = k·aᵏ⁻¹",
    template="{0} ** {k}"))
EXP = register(Op("exp", "exp", 1, lambda xp, a: xp.exp(a), lambda xp, a, out: (out,),
                  doc="eᵃ; ∂/∂a = eᵃ"))
LOG = register(Op("log", "log", 1, lambda xp, a: xp.log(a), lambda xp, a, out: (xp.divide(1.0, a),),
                  check=_check_log, doc="ln a; ∂/∂a = 1/a"))
TANH = register(Op("tanh", "tanh", 1, lambda xp, a: xp.tanh(a),
                   lambda xp, a, out: (1.0 - out * out,),
                   doc="tanh a; ∂/∂a = 1 - tanh²a"))
SIGMOID = register(Op("sigmoid", "sigmoid", 1, lambda xp, a: xp.sigmoid(a),
                      lambda xp, a, out: (out * (1.0 - out),),
                      doc="σ(a) = 1/(1+e⁻ᵃ); ∂/∂a = σ(a)(1-σ(a))"))
RELU = register(Op("relu", "ReLU", 1, lambda xp, a: xp.where(a > 0, a, 0.0),
                   lambda xp, a, out: (xp.where(a > 0, 1.0, 0.0),),
                   doc="max(0, a); ∂/∂a = 1 if a > 0 else 0 (0 at the kink)"))
LEAKY_RELU = register(Op("leaky_relu", "leaky_relu", 1,
                         lambda xp, a, k: xp.where(a > 0, a, k * a),
                         lambda xp, a, k, out: (xp.where(a > 0, 1.0, k),),
                         has_param=True,
                         doc="a if a > 0 else k·a; ∂/∂a = 1 or k (k at the kink)",
                         template="{symbol}({0}, {k})"))
SQRT = register(Op("sqrt", "sqrt", 1, lambda xp, a: xp.sqrt(a),
                   lambda xp, a, out: (xp.divide(0.5, out),),
                   check=_check_sqrt, doc="√a; ∂/∂a = 1/(2√a)"))
ABS = register(Op("abs", "abs", 1, lambda xp, a: xp.abs(a), lambda xp, a, out: (xp.sign(a),),
                  doc="|a|; ∂/∂a = sign(a) (0 at the kink, as PyTorch)"))
SUM = register(Op("sum", "sum", -1, lambda xp, *xs: sum(xs, 0.0),
                  lambda xp, *args: (1.0,) * (len(args) - 1),
                  doc="x₀ + x₁ + …; ∂/∂xᵢ = 1", linear=True))


def _dot_forward(xp, *xs):
    n = len(xs) // 2
    return sum((x * w for x, w in zip(xs[:n], xs[n:])), 0.0)


def _dot_local(xp, *args):
    xs = args[:-1]
    n = len(xs) // 2
    return tuple(xs[n:]) + tuple(xs[:n])


DOT = register(Op("dot", "dot", -1, _dot_forward, _dot_local,
                  doc="Σ xᵢ·wᵢ over children (x₀…xₙ₋₁, w₀…wₙ₋₁); ∂/∂xᵢ = wᵢ, ∂/∂wᵢ = xᵢ",
                  template="{symbol}([{xs}], [{ws}])"))
