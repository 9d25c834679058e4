"""The op table: every primitive once, its forward rule beside its bare local derivatives.

Each rule is written against a namespace ``xp`` of array functions: ``scalar_math`` for the
eager engine, NumPy (plus a stable ``sigmoid``) for the compiled replay. The same entry is read
by ``Value`` (which runs ``check`` and ``forward`` through one helper, ``value.apply``), by
``backward()``, by the stepper and graph renderer (which show each local derivative), by
``tinygrad_value.compile``, by ``nn``'s activations and torch bridge, and by the tests (which
draw inputs from ``domain`` and compare with the PyTorch function named in ``torch``). Adding an
op means adding one entry here, with its domain; ``register`` makes it known to all of them.

Conventions, for an op with inputs ``a, b, ...``, optional constant ``k`` and output ``out``:

* ``forward(xp, a, [b], [k]) -> out``
* ``local(xp, a, [b], [k], out) -> (∂out/∂a, ∂out/∂b, ...)``: one entry per child, evaluated at
  the current data, *never* multiplied by the upstream gradient.
* ``check(a, [b], [k]) -> str | None``: the reason the inputs are outside the op's domain.
* n-ary ops (``sum``, ``dot``) take all children's data as ``*xs`` and return one local per child;
  their children are ``parts`` equal-length lists laid end to end (``Op.join`` / ``Op.split``).
* NaN goes in, NaN comes out (as in PyTorch): a rule never turns NaN into a number (the
  dropout mask, which never reads its input, is the one exception; dropout, x · mask, keeps NaN).
* An op that draws random numbers (``draws``) gets one more forward argument, ``u``: a uniform
  draw in [0, 1) per node, made by the caller, so the rule itself stays a pure function.
"""

from __future__ import annotations

# re-exported: users of the table import everything from here
from .op import OPS, Op, format_number, nary_sum, register, unregister  # noqa: F401

# --- domain checks: a sentence for people, or None when the inputs are fine -----------------


def _check_div(a, b):
    if b == 0:
        return f"division by zero: {float(a)!r} / {float(b)!r} (the divisor is 0)"
    return None


def _check_pow(a, b):
    if a == 0 and b < 0:
        return f"{float(a)!r} ** {float(b)!r}: zero cannot be raised to a negative power"
    # NaN and ±inf exponents are not "fractional": (-2) ** nan is nan, (-2) ** inf is inf (PyTorch)
    if a < 0 and b - b == 0 and not float(b).is_integer():
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


def _check_dropout(a, k):
    if not 0.0 <= k <= 1.0:
        return f"dropout_mask(p={float(k)!r}): the drop probability p must be in [0, 1]"
    return None


# --- the table ---------------------------------------------------------------------------------
# ``domain`` ranges keep tests inside the domain, away from kinks and overflow.

ADD = register(Op("add", "+", 2, lambda xp, a, b: a + b, lambda xp, a, b, out: (1.0, 1.0),
                  constant_local=(1.0, 1.0), linear=True, template="{0} + {1}",
                  method="__add__", torch="torch.add", domain=((-5, 5), (-5, 5))))
SUB = register(Op("sub", "-", 2, lambda xp, a, b: a - b, lambda xp, a, b, out: (1.0, -1.0),
                  constant_local=(1.0, -1.0), linear=True, template="{0} - {1}",
                  method="__sub__", torch="torch.sub", domain=((-5, 5), (-5, 5))))
MUL = register(Op("mul", "*", 2, lambda xp, a, b: a * b, lambda xp, a, b, out: (b, a),
                  template="{0} * {1}", method="__mul__", torch="torch.mul",
                  domain=((-5, 5), (-5, 5))))
# a / b; ∂/∂a = 1/b, ∂/∂b = -a/b² = -out/b
DIV = register(Op("div", "/", 2, lambda xp, a, b: xp.divide(a, b),
                  lambda xp, a, b, out: (xp.divide(1.0, b), -xp.divide(out, b)),
                  check=_check_div, template="{0} / {1}", method="__truediv__",
                  torch="torch.div", domain=((-5, 5), (0.2, 5))))
NEG = register(Op("neg", "neg", 1, lambda xp, a: -a, lambda xp, a, out: (-1.0,),
                  constant_local=(-1.0,), linear=True, template="-{0}",
                  numbers_template="-({0})", method="__neg__", torch="torch.neg",
                  domain=((-5, 5),)))
POW = register(Op(
    "pow", "**", 2,
    lambda xp, a, b: xp.power(a, b),
    # ∂/∂a = b·aᵇ⁻¹, taken as 0 when b = 0 (even at a = 0, as PyTorch); ∂/∂b = aᵇ·ln a exists
    # only for a > 0; at a = 0 with b >= 0 PyTorch uses 0, elsewhere (b NaN, a < 0) it is nan.
    lambda xp, a, b, out: (
        xp.where(b == 0, 0.0, b * xp.power(a, b - 1.0)),
        xp.where(a > 0, out * xp.log(xp.where(a > 0, a, 1.0)),
                 xp.where(a == 0, xp.where(b >= 0, 0.0, xp.nan), xp.nan)),
    ),
    check=_check_pow, template="{0} ** {1}", method="__pow__", torch="torch.pow",
    domain=((0.2, 3), (-2.5, 2.5))))
# aᵏ for a constant k; ∂/∂a = k·aᵏ⁻¹ (0 when k = 0, as PyTorch)
POWC = register(Op(
    "powc", "**", 1,
    lambda xp, a, k: xp.power(a, k),
    lambda xp, a, k, out: (xp.where(k == 0, 0.0, k * xp.power(a, k - 1.0)),),
    has_param=True, check=_check_pow, template="{0} ** {k}", method="__pow__",
    torch="torch.pow", domain=((0.2, 3),), constants=(-1.5, 0.0, 0.5, 2.0, 3.0)))
EXP = register(Op("exp", "exp", 1, lambda xp, a: xp.exp(a), lambda xp, a, out: (out,),
                  method="exp", torch="torch.exp", domain=((-10, 10),)))
LOG = register(Op("log", "log", 1, lambda xp, a: xp.log(a), lambda xp, a, out: (xp.divide(1.0, a),),
                  check=_check_log, method="log", torch="torch.log", domain=((0.05, 20),)))
# ∂ tanh a/∂a = 1 - tanh²a
TANH = register(Op("tanh", "tanh", 1, lambda xp, a: xp.tanh(a),
                   lambda xp, a, out: (1.0 - out * out,),
                   method="tanh", torch="torch.tanh", module="Tanh", domain=((-4, 4),)))
# σ(a) = 1/(1+e⁻ᵃ); ∂/∂a = σ(a)(1-σ(a))
SIGMOID = register(Op("sigmoid", "sigmoid", 1, lambda xp, a: xp.sigmoid(a),
                      lambda xp, a, out: (out * (1.0 - out),),
                      method="sigmoid", torch="torch.sigmoid", module="Sigmoid",
                      domain=((-8, 8),)))
# max(0, a), written so NaN passes through (NaN < 0 is false) and -0.0 stays -0.0, as PyTorch;
# ∂/∂a = 0 for a <= 0 (0 at the kink), else 1 (1 at NaN, as PyTorch's threshold_backward)
RELU = register(Op("relu", "ReLU", 1, lambda xp, a: xp.where(a < 0, 0.0, a),
                   lambda xp, a, out: (xp.where(a <= 0, 0.0, 1.0),),
                   method="relu", torch="torch.relu", module="ReLU", domain=((-5, 5),),
                   kinks=(0.0,)))
# a if a > 0 else k·a; ∂/∂a = 1 or k (k at the kink)
LEAKY_RELU = register(Op("leaky_relu", "leaky_relu", 1,
                         lambda xp, a, k: xp.where(a > 0, a, k * a),
                         lambda xp, a, k, out: (xp.where(a > 0, 1.0, k),),
                         has_param=True, template="{symbol}({0}, {k})", method="leaky_relu",
                         torch="torch.nn.functional.leaky_relu", domain=((-5, 5),),
                         kinks=(0.0,), constants=(0.01, 0.2)))
# √a; ∂/∂a = 1/(2√a)
SQRT = register(Op("sqrt", "sqrt", 1, lambda xp, a: xp.sqrt(a),
                   lambda xp, a, out: (xp.divide(0.5, out),),
                   check=_check_sqrt, method="sqrt", torch="torch.sqrt", domain=((0.05, 20),)))
# |a|; ∂/∂a = sign(a), 0 at the kink and at NaN (as PyTorch's sgn)
ABS = register(Op("abs", "abs", 1, lambda xp, a: xp.abs(a),
                  lambda xp, a, out: (xp.where(a > 0, 1.0, xp.where(a < 0, -1.0, 0.0)),),
                  method="abs", torch="torch.abs", domain=((-5, 5),), kinks=(0.0,)))
# The larger of a and b, as torch.maximum: NaN in either gives NaN, a tie gives a (so
# max(-0.0, 0.0) is -0.0). ∂/∂a = 1 where a wins, 0 where b wins, ½ each at a tie; at NaN both
# get 1 (PyTorch's rule: the grad is halved only where a == b and zeroed only where one is
# strictly smaller).
MAX = register(Op(
    "max", "max", 2,
    lambda xp, a, b: xp.where((a < b) | (b != b), b, a),
    lambda xp, a, b, out: (xp.where(a == b, 0.5, xp.where(a < b, 0.0, 1.0)),
                           xp.where(a == b, 0.5, xp.where(a > b, 0.0, 1.0))),
    template="{symbol}({0}, {1})", method="max", torch="torch.maximum",
    domain=((-5, 5), (-5, 5)), kink_distance=lambda a, b: abs(a - b)))
# max(a, k) for a constant k, as torch.clamp_min: NaN stays NaN; ∂/∂a = 1 where a >= k (1 on
# the boundary, as PyTorch), else 0 (and 0 at NaN).
CLAMP_MIN = register(Op(
    "clamp_min", "clamp_min", 1,
    lambda xp, a, k: xp.where(a < k, k, a),
    lambda xp, a, k, out: (xp.where(a >= k, 1.0, 0.0),),
    has_param=True, template="{symbol}({0}, {k})", method="clamp_min", torch="torch.clamp_min",
    domain=((-5, 5),), constants=(-1.0, 0.0, 0.5, 2.0), kink_distance=lambda a, k: abs(a - k)))
# min(a, k) for a constant k, as torch.clamp_max; ∂/∂a = 1 where a <= k (on the boundary too).
CLAMP_MAX = register(Op(
    "clamp_max", "clamp_max", 1,
    lambda xp, a, k: xp.where(a > k, k, a),
    lambda xp, a, k, out: (xp.where(a <= k, 1.0, 0.0),),
    has_param=True, template="{symbol}({0}, {k})", method="clamp_max", torch="torch.clamp_max",
    domain=((-5, 5),), constants=(-1.0, 0.0, 0.5, 2.0), kink_distance=lambda a, k: abs(a - k)))
# a itself, as torch's detach: gradients stop here (∂/∂a = 0 by definition). Unlike a plain
# number it is a node of the graph, so a replay recomputes it: softmax shifts by a detached max.
DETACH = register(Op("detach", "detach", 1, lambda xp, a: a,
                     lambda xp, a, out: (0.0,), constant_local=(0.0,), stops_gradient=True,
                     method="detach", torch="torch.detach", domain=((-5, 5),)))
# Inverted dropout's mask for input a with drop probability k: 0 with probability k, else
# 1/(1-k), drawn afresh by every forward (``draws``: u is uniform in [0, 1)). Dropout is
# a · mask, an ordinary product, so the gradient is 0 where a unit was dropped. The mask does
# not depend on a's value: ∂mask/∂a = 0.
DROPOUT_MASK = register(Op(
    "dropout_mask", "dropout_mask", 1,
    lambda xp, a, k, u: xp.where(u < k, 0.0, xp.divide(1.0, 1.0 - k)),
    lambda xp, a, k, out: (0.0,),
    has_param=True, draws=True, constant_local=(0.0,), check=_check_dropout,
    template="{symbol}({0}, {k})", method="dropout_mask", torch="torch.nn.functional.dropout",
    domain=((-5, 5),), constants=(0.0, 0.25, 0.5, 1.0)))
# x₀ + x₁ + …; ∂/∂xᵢ = 1
SUM = register(Op("sum", "sum", -1, lambda xp, *xs: nary_sum(xs),
                  lambda xp, *args: (1.0,) * (len(args) - 1), linear=True,
                  method="sum", torch="torch.sum", domain=((-5, 5),) * 4))


def _dot_forward(xp, *children):
    xs, ws = DOT.split(children)
    return nary_sum(x * w for x, w in zip(xs, ws))


def _dot_local(xp, *args):
    xs, ws = DOT.split(args[:-1])
    return ws + xs  # ∂/∂xᵢ = wᵢ, ∂/∂wᵢ = xᵢ


# Σ xᵢ·wᵢ over children (x₀…xₙ₋₁, w₀…wₙ₋₁)
DOT = register(Op("dot", "dot", -1, _dot_forward, _dot_local,
                  template="{symbol}([{xs}], [{ws}])", method="dot", torch="torch.dot",
                  domain=((-3, 3),) * 6, parts=2))
