"""Op: the record of one primitive (forward rule, local derivatives, how it is shown and
tested), and the table ``OPS`` that ``register`` fills; the entries themselves are in ``ops.py``."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain
from typing import Callable, Optional, Sequence

from . import scalar_math


@dataclass(frozen=True, eq=False)
class Op:
    """One primitive: its name, how graphs show it, and its calculus.

    ``op(a)``, ``op(a, b)``, ``op(a, k)`` (an op with a constant) or ``op(xs, ...)`` (n-ary: one
    list per part) applies it to Values or numbers and returns the new node.
    """

    name: str
    symbol: str
    arity: int  # number of children; -1 for n-ary
    forward: Callable
    local: Callable
    has_param: bool = False
    check: Optional[Callable] = None
    # Set when ``local`` returns the same constants whatever the inputs (add, sub, neg): the
    # eager backward then skips calling it. Tests check the two agree.
    constant_local: Optional[tuple] = None
    # Set when out = Σ cᵢ·childᵢ with constant cᵢ = ±1 (add, sub, neg, sum): the compiled replay
    # folds chains of such ops into one segment sum.
    linear: bool = False
    # How the stepper writes the op over its operands: ``{0}``, ``{1}`` are the operands, ``{k}``
    # the constant, ``{args}`` all of them, ``{xs}``/``{ws}`` the first and second part (dot).
    template: str = "{symbol}({args})"
    # The same over the operands' numbers, where that reads differently: -(-3.0), not --3.0.
    numbers_template: Optional[str] = None
    # The public spelling: the ``Value`` method that applies the op (``exp``, ``__add__``) or,
    # for an n-ary op, the ``tinygrad_value`` function (``sum``); "" if it has none.
    method: str = ""
    # PyTorch's function for the same maths (``torch.tanh``): the parity tests' oracle. An n-ary
    # op's function gets one tensor per part.
    torch: str = ""
    # The ``torch.nn`` module class of the op used as a neuron activation (``ReLU``): ops with
    # one are offered as ``nn.Neuron(..., activation=name)`` and bridged by ``MLP.to_torch``.
    module: str = ""
    # Where tests draw each input from, (lo, hi) per input (n-ary: per child of a test node),
    # inside the domain and clear of overflow; ``kinks`` are points where the derivative is a
    # convention rather than a limit; ``constants`` the constants tried for an op with one.
    domain: tuple = ()
    kinks: tuple = ()
    constants: tuple = ()
    # For a kink that moves with the inputs (max at a = b, clamp at a = k): the operands'
    # distance from it, ``kink_distance(a, b)`` or ``(a, k)``; tests keep it above 1e-3.
    kink_distance: Optional[Callable] = None
    # Set for an op whose forward draws random numbers (the dropout mask): ``forward`` then takes
    # one more argument after the others, ``u``, a uniform draw in [0, 1) per node, made by the
    # caller (the eager engine with ``scalar_math.uniform()``, the replay from its generator), so
    # each run draws afresh. ``local`` gets no ``u``: the output must hold what it needs.
    draws: bool = False
    # Set for an op whose local derivative is 0 by definition rather than the slope of its
    # forward (``detach``: the identity, through which no gradient flows); derivative checks
    # against central differences skip it.
    stops_gradient: bool = False
    parts: int = 1  # n-ary ops: how many equal-length lists the children are (dot: xs, ws)

    def __repr__(self) -> str:
        return f"Op({self.name!r})"

    def __call__(self, *args):
        from .value import apply, as_value

        if self.arity == -1:
            return apply(self, self.join(*args))
        want = self.arity + self.has_param
        if len(args) != want:
            raise TypeError(f"op {self.name!r} takes {want} argument(s), got {len(args)}")
        k = float(args[-1]) if self.has_param else None
        return apply(self, tuple(as_value(a) for a in args[: self.arity]), k)

    def join(self, *lists) -> tuple:
        """An n-ary node's children from its ``parts`` lists, laid end to end (dot: x₀…xₙ₋₁,
        w₀…wₙ₋₁); the lists must have equal lengths."""
        from .value import Value, as_value

        if len(lists) != self.parts:
            raise TypeError(f"{self.name} takes {self.parts} list(s) of values, got {len(lists)}")
        # a Value is taken as it is without a call (a 784-input dot joins 1,570 of them, and
        # calling as_value on each was most of an eager MNIST forward)
        lists = [[v if type(v) is Value else as_value(v) for v in part] for part in lists]
        if len({len(part) for part in lists}) > 1:
            raise ValueError(f"{self.name} needs {self.parts} sequences of equal length, got "
                             f"{' and '.join(str(len(part)) for part in lists)}")
        return tuple(chain.from_iterable(lists))

    def split(self, children: Sequence) -> tuple:
        """The inverse of ``join``: an n-ary node's children as its ``parts`` lists."""
        n = len(children) // self.parts
        return tuple(tuple(children[i * n:(i + 1) * n]) for i in range(self.parts))

    @property
    def adds_from_zero(self) -> bool:
        """n-ary ops add their terms onto 0.0 (``nary_sum``); a chain of binary ops starts from
        its first term instead, so the two differ in the sign of a zero result."""
        return self.arity == -1

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
        halves = self.split(parts) if self.parts == 2 else (parts, parts)
        k = None if param is None else format_number(param)
        return template.format(*parts, symbol=self.symbol, k=k, args=_join(parts),
                               xs=_join(list(halves[0])), ws=_join(list(halves[1])))

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


def nary_sum(terms) -> float:
    """Σ terms added left to right onto 0.0: how every n-ary op adds (see ``adds_from_zero``)."""
    total = 0.0
    for t in terms:
        total += t
    return total


OPS: dict[str, Op] = {}


def register(op: Op) -> Op:
    """Add ``op`` to the table, keyed by name; names are unique, and only a one-input op may
    carry a constant (``k`` is passed where a second input would be)."""
    if op.name in OPS:
        raise ValueError(f"op {op.name!r} is already registered")
    if op.arity not in (1, 2, -1):
        raise ValueError(f"op {op.name!r}: arity is 1, 2 or -1 (n-ary), got {op.arity!r}")
    if op.has_param and op.arity != 1:
        raise ValueError(f"op {op.name!r} has a constant and {op.arity} inputs; only a one-input "
                         "op may carry a constant")
    OPS[op.name] = op
    return op


def unregister(name: str) -> Op:
    """Remove the op called ``name`` from the table (for ops registered by a test or a session);
    graphs that still hold it can no longer be compiled."""
    if name not in OPS:
        raise KeyError(f"no op {name!r} is registered")
    return OPS.pop(name)
