"""Optimizers: SGD, Adagrad, RMSprop, Adam, AdamW, following PyTorch's update rules exactly.

Each optimizer writes its update once, as ``_rule(xp, s, p, g, lr)``: the new value of a
parameter p from its gradient g, reading and assigning its state as ``s[name]``, with ``xp``
supplying what the rule needs beyond + - * / (``sqrt``, ``maximum``, ``copy``). The same text
runs on two kinds of number:

- ``FLOATS``: Python floats, one parameter at a time (``s`` is parameter i's entries of the
  per-parameter state lists, ``self.m[i]`` ...);
- ``ARRAYS`` (``_arrays()``, NumPy loaded on first use): float64 arrays holding every
  parameter at once (``s`` maps a state name to its array).

IEEE 754 rounds each +, -, *, / and sqrt of two float64 numbers the same way whether NumPy or
Python does it, and the rule evaluates them in the same order on both, so the two give the
same bits. ``step()`` runs the rule on ARRAYS (Adam on the 4,810 parameters of the digits MLP:
about 2.5 times quicker than a loop over the parameters; CONTRIBUTING.md has the timings) and
``step_arrays`` is the same step for the compiled ``fit``, which keeps its parameters in
arrays. ``step()`` goes one parameter at a time on FLOATS instead where it must: a subclass
overriding ``_update``, no NumPy, a number that is not a Python float, or a result that is not
finite (so Python raises what it always raised). Every optimizer also takes ``decay``:
inverse-time learning-rate decay, lrₜ = lr / (1 + decay·t), where t counts completed steps
(the first step uses lr). The floating-point operations are written in PyTorch's order, so
with ``decay=0`` the trajectories match torch.optim to rounding.

A step is all or nothing: every new value and every new state entry is computed first (on
arrays, or on a scratch copy of the lists), then all are assigned at once with Ctrl-C held
back (``nn.atomic``). An error or a KeyboardInterrupt therefore leaves the parameters and the
state at the last whole step.
"""

from __future__ import annotations

import copy
import functools
import math
from types import SimpleNamespace
from typing import Iterable, List, Optional, Tuple

import tinygrad_value as tv

from .atomic import interrupts_deferred
from .params import as_parameters


def _maximum(a: float, b: float) -> float:
    """max(a, b) as torch.maximum computes it: NaN if either is NaN, a on a tie (Python's
    ``max(a, b)`` returns a when b is NaN, dropping the NaN)."""
    return a if a >= b or a != a else b


def _same(x: float) -> float:
    return x  # a float cannot be changed in place, so it is its own copy


FLOATS = SimpleNamespace(sqrt=math.sqrt, maximum=_maximum, copy=_same)


@functools.lru_cache(maxsize=None)
def _arrays() -> Optional[SimpleNamespace]:
    """ARRAYS: the rule's functions on float64 NumPy arrays, or None if NumPy is not installed
    (``step()`` then runs the rule per parameter, on FLOATS)."""
    try:
        import numpy as np
    except ImportError:
        return None

    def maximum(a, b):
        return np.where((a >= b) | (a != a), a, b)  # _maximum's test, element by element

    return SimpleNamespace(np=np, sqrt=np.sqrt, maximum=maximum, copy=np.copy)


class _NotFloats(Exception):
    """A list ``step()`` read holds something other than n Python floats."""


def _table(np, values, n: int):
    """``values`` as a float64 array of shape (n,) if it is n Python floats, else _NotFloats.
    Only exact floats: an int, a NumPy float32 or a string by mistake computes differently (or
    fails) in Python's arithmetic, so its step is left to the per-parameter path."""
    try:  # (counting the types is quicker than collecting them in a set)
        if len(values) != n or list(map(type, values)).count(float) != n:
            raise _NotFloats
    except TypeError:  # not a list at all
        raise _NotFloats from None
    return np.fromiter(values, dtype=np.float64, count=n)


class _Entries:
    """``s`` on FLOATS: parameter i's entries of the state lists (``lists``: name -> list)."""

    __slots__ = ("lists", "i")

    def __init__(self, lists: dict, i: int = 0) -> None:
        self.lists, self.i = lists, i

    def __getitem__(self, name: str) -> float:
        return self.lists[name][self.i]

    def __setitem__(self, name: str, x: float) -> None:
        self.lists[name][self.i] = x


class _Tables:
    """``s`` on ARRAYS inside ``step()``: each state list read into a float64 array the first
    time the rule asks for it; ``written`` holds the arrays the rule assigned (the lists it
    never assigns are left as they are)."""

    def __init__(self, np, opt: "Optimizer") -> None:
        self.np, self.n = np, len(opt.params)
        self.lists = {name: getattr(opt, name) for name in opt.state_names}
        self.read: dict = {}
        self.written: dict = {}

    def __getitem__(self, name: str):
        if name in self.written:
            return self.written[name]
        if name not in self.read:
            self.read[name] = _table(self.np, self.lists[name], self.n)
        return self.read[name]

    def __setitem__(self, name: str, x) -> None:
        if name not in self.lists:
            raise KeyError(name)
        self.written[name] = x


class Optimizer:
    """Holds the parameters, the base ``lr``, the step count ``t`` and ``weight_decay`` λ.

    The base class applies the weight decay, so the rule sees the gradient it steps with: L2,
    g ← ∇ + λp, or with ``decoupled = True`` (AdamW) p ← p·(1 - lr·λ). A subclass writes
    ``_rule``, once, for FLOATS and ARRAYS alike. The older hook, ``_update(i, p, g, lr)``
    on floats, is still honoured: a subclass that overrides it is stepped one parameter at a
    time through it.
    """

    decoupled = False
    state_names: Tuple[str, ...] = ()  # the per-parameter lists a step updates

    def __init__(self, params: Iterable[tv.Value], lr: float, decay: float = 0.0,
                 weight_decay: float = 0.0) -> None:
        self.params: List[tv.Value] = as_parameters(params, type(self).__name__)
        _check("lr", lr)
        _check("decay", decay)
        _check("weight_decay", weight_decay)
        self.lr = float(lr)
        self.decay = float(decay)
        self.weight_decay = float(weight_decay)
        self.t = 0  # completed steps

    @property
    def current_lr(self) -> float:
        """The learning rate the next step will use: lr / (1 + decay·t)."""
        if self.decay == 0.0:
            return self.lr
        return self.lr / (1.0 + self.decay * self.t)

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:
        """Update every parameter from its ``.grad``, then count the step; all or nothing."""
        lr = self.current_lr
        # The update runs on a scratch optimizer (this step's constants are set on it), so
        # nothing the caller can see changes until every new value exists.
        work = copy.copy(self)
        work._start_step(lr)
        new = self._step_on_arrays(work, lr) if self._runs_the_rule() else None
        if new is None:
            new = self._step_per_parameter(work, lr)
        new_data, new_lists = new
        with interrupts_deferred():
            for name, values in new_lists.items():
                setattr(self, name, values)
            for param, x in zip(self.params, new_data):
                param.data = x
            self.t += 1

    def _step_on_arrays(self, work: "Optimizer", lr: float):
        """``step()``'s new values and state lists, from one run of the rule on ARRAYS; None
        where the per-parameter path must decide instead: NumPy missing, a value, gradient or
        state entry that is not a real number, or a result that is not finite. Where Python
        raises (0/0 with ``eps=0`` is a ZeroDivisionError, √ of a negative a ValueError) NumPy
        returns inf or NaN, so rerunning such a step per parameter raises what it always did."""
        xp = _arrays()
        if xp is None:
            return None
        np, n = xp.np, len(self.params)
        state = _Tables(np, self)
        try:
            P = _table(np, [p.data for p in self.params], n)
            G = _table(np, [p.grad for p in self.params], n)
            with np.errstate(all="ignore"):  # the per-parameter rerun reports what went wrong
                P, G = work._decayed(P, G, lr)
                new_p = work._rule(xp, state, P, G, lr)
        except _NotFloats:
            return None
        if not (np.isfinite(new_p).all() and all(np.isfinite(a).all()
                                                  for a in state.written.values())):
            return None
        return new_p.tolist(), {name: a.tolist() for name, a in state.written.items()}

    def _step_per_parameter(self, work: "Optimizer", lr: float):
        """``step()`` one parameter at a time on FLOATS, into copies of the state lists:
        through ``_update`` where a subclass overrides it, else straight into the rule."""
        lists = {name: list(getattr(self, name)) for name in self.state_names}
        for name, values in lists.items():
            setattr(work, name, values)
        rule = work._rule if self._owner("_update") is Optimizer else None
        s = _Entries(lists)  # one view moved along the parameters, not an object for each
        new_data = []
        for i, param in enumerate(self.params):
            p, g = param.data, param.grad
            if work.weight_decay:
                p, g = work._decayed(p, g, lr)
            if rule is None:
                new_data.append(work._update(i, p, g, lr))  # a subclass's own hook
            else:
                s.i = i
                new_data.append(rule(FLOATS, s, p, g, lr))
        return new_data, lists

    def _decayed(self, p, g, lr: float):
        """(p, g) after weight decay λ, for floats or arrays: L2 adds λp to g; decoupled
        (AdamW) scales p by 1 - lr·λ."""
        wd = self.weight_decay
        if wd:
            if self.decoupled:
                p = p * (1 - lr * wd)
            else:
                g = g + wd * p
        return p, g

    def _owner(self, name: str) -> type:
        """The class whose definition of ``name`` this optimizer uses."""
        return next(c for c in type(self).__mro__ if name in c.__dict__)

    def _runs_the_rule(self) -> bool:
        """Whether both hooks are the base class's, which run ``_rule`` (on FLOATS and on
        ARRAYS), and ``_start_step`` belongs with that rule."""
        rule = self._owner("_rule")
        return (rule is not Optimizer and self._owner("_update") is Optimizer
                and self._owner("_update_arrays") is Optimizer
                and issubclass(rule, self._owner("_start_step")))

    def supports_arrays(self) -> bool:
        """Whether ``step_arrays`` computes this optimizer's rule: every ``_rule`` does; a
        subclass that overrides ``_update`` or ``_start_step`` without its own
        ``_update_arrays`` does not."""
        if self._runs_the_rule():
            return True
        arrays = self._owner("_update_arrays")
        return (arrays is not Optimizer and issubclass(arrays, self._owner("_update"))
                and issubclass(arrays, self._owner("_start_step")))

    def state_arrays(self) -> dict:
        """The per-parameter state lists as float64 arrays (name -> array), for ``step_arrays``."""
        import numpy as np

        return {name: np.array(getattr(self, name), dtype=np.float64)
                for name in self.state_names}

    def load_state_arrays(self, state: dict) -> None:
        """Write arrays from ``step_arrays`` back into the state lists a user sees."""
        for name in self.state_names:
            setattr(self, name, state[name].tolist())

    def step_arrays(self, P, G, state: dict):
        """``step()`` on arrays: P the parameters' values and G their gradients (float64, in
        ``self.params`` order), ``state`` from ``state_arrays()``. Returns the new values and a
        new state dict (the inputs are not modified) and counts the step; storing the results
        is the caller's (run it with Ctrl-C deferred, so the count and the results agree)."""
        lr = self.current_lr
        work = copy.copy(self)
        work._start_step(lr)
        P, G = work._decayed(P, G, lr)
        new_state = dict(state)
        new_p = work._update_arrays(new_state, P, G, lr)
        self.t += 1
        return new_p, new_state

    def _rule(self, xp, s, p, g, lr: float):
        """The new value of p (one float, or an array of them all) from p and its gradient g
        (weight decay applied), for ``xp`` FLOATS or ARRAYS. The state is read and assigned as
        ``s[name]``, one of ``state_names``: assign a new value, never change one in place."""
        raise NotImplementedError

    def _update_arrays(self, state: dict, p, g, lr: float):
        """All parameters at once: the rule on ARRAYS; new state arrays replace the entries
        of ``state`` (never written in place)."""
        return self._rule(_arrays(), state, p, g, lr)

    def _start_step(self, lr: float) -> None:
        """Compute this step's constants (bias corrections, decayed lr) once, before the rule."""

    def _update(self, i: int, p: float, g: float, lr: float) -> float:
        """Parameter i's new value from its value p and gradient g (weight decay applied): the
        rule on FLOATS. Overriding this (the older way to write an optimizer) still works."""
        lists = {name: getattr(self, name) for name in self.state_names}
        return self._rule(FLOATS, _Entries(lists, i), p, g, lr)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lr={self.lr}, decay={self.decay}, t={self.t})"


def _check(name: str, x: float) -> None:
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not x >= 0.0:
        raise ValueError(f"invalid {name}: {x!r} (must be a number >= 0)")


def _lerp(a, b, w: float):
    """a + w·(b - a), written the way PyTorch's lerp kernel rounds it (a, b floats or arrays;
    w is one number)."""
    if abs(w) < 0.5:
        return a + w * (b - a)
    return b - (b - a) * (1.0 - w)


class SGD(Optimizer):
    """g ← ∇ + λp;  with momentum μ: buf ← g on the first step, then buf ← μ·buf + (1-τ)·g,
    and g ← g + μ·buf (Nesterov) or g ← buf;  p ← p - lr·g."""

    state_names = ("buf",)

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, decay: float = 0.0) -> None:
        super().__init__(params, lr, decay, weight_decay)
        for name, x in (("momentum", momentum), ("dampening", dampening)):
            _check(name, x)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum > 0 and zero dampening")
        self.momentum, self.dampening = float(momentum), float(dampening)
        self.nesterov = bool(nesterov)
        self.buf: List[float] = [0.0] * len(self.params)

    def _rule(self, xp, s, p, g, lr):
        if self.momentum:
            if self.t == 0:
                buf = xp.copy(g)  # the state must not be the caller's gradient array
            else:
                buf = s["buf"] * self.momentum + (1.0 - self.dampening) * g
            s["buf"] = buf
            g = g + self.momentum * buf if self.nesterov else buf
        return p + (-lr) * g


class Adagrad(Optimizer):
    """s ← s + g²;  p ← p - lrₜ·g / (√s + ε), with PyTorch's own ``lr_decay``:
    lrₜ = lr / (1 + (t-1)·lr_decay) (on top of ``decay``)."""

    state_names = ("sum",)

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10,
                 decay: float = 0.0) -> None:
        super().__init__(params, lr, decay, weight_decay)
        for name, x in (("lr_decay", lr_decay),
                        ("initial_accumulator_value", initial_accumulator_value), ("eps", eps)):
            _check(name, x)
        self.lr_decay, self.eps = float(lr_decay), eps
        self.sum: List[float] = [float(initial_accumulator_value)] * len(self.params)

    def _start_step(self, lr):
        self._clr = lr / (1 + self.t * self.lr_decay)

    def _rule(self, xp, s, p, g, lr):
        total = s["sum"] = s["sum"] + g * g
        return p + -self._clr * g / (xp.sqrt(total) + self.eps)


class RMSprop(Optimizer):
    """v ← α·v + (1-α)·g²;  p ← p - lr·g / (√v + ε)  (``centered`` subtracts the running mean
    of g squared under the root; ``momentum`` accumulates g / (√v + ε) first)."""

    state_names = ("square_avg", "grad_avg", "buf")

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False,
                 decay: float = 0.0) -> None:
        super().__init__(params, lr, decay, weight_decay)
        for name, x in (("alpha", alpha), ("eps", eps), ("momentum", momentum)):
            _check(name, x)
        self.alpha, self.eps = float(alpha), float(eps)
        self.momentum, self.centered = float(momentum), bool(centered)
        n = len(self.params)
        self.square_avg, self.grad_avg, self.buf = [0.0] * n, [0.0] * n, [0.0] * n

    def _rule(self, xp, s, p, g, lr):
        v = s["square_avg"] = s["square_avg"] * self.alpha + (1.0 - self.alpha) * g * g
        if self.centered:
            m = s["grad_avg"] = _lerp(s["grad_avg"], g, 1.0 - self.alpha)
            avg = xp.sqrt(v + -1.0 * m * m) + self.eps
        else:
            avg = xp.sqrt(v) + self.eps
        if self.momentum:
            buf = s["buf"] = s["buf"] * self.momentum + g / avg
            return p + (-lr) * buf
        return p + -lr * g / avg


class Adam(Optimizer):
    """m ← β₁m + (1-β₁)g;  v ← β₂v + (1-β₂)g²;  p ← p - lr/(1-β₁ᵗ) · m / (√v/√(1-β₂ᵗ) + ε),
    with t counted from 1 for the bias corrections. ``weight_decay`` adds λp to g (L2);
    ``amsgrad`` divides by the running maximum of v instead (NaN stays NaN, as in torch)."""

    state_names = ("m", "v", "v_max")

    def __init__(self, params, lr: float = 1e-3, betas: Tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False,
                 decay: float = 0.0) -> None:
        super().__init__(params, lr, decay, weight_decay)
        beta1, beta2 = betas
        _check("eps", eps)
        for name, b in (("beta1", beta1), ("beta2", beta2)):
            if not 0.0 <= b < 1.0:
                raise ValueError(f"invalid {name}: {b!r} (must be in [0, 1))")
        self.betas = (float(beta1), float(beta2))
        self.eps, self.amsgrad = float(eps), amsgrad
        n = len(self.params)
        self.m, self.v, self.v_max = [0.0] * n, [0.0] * n, [0.0] * n

    def _start_step(self, lr):
        beta1, beta2 = self.betas
        step = self.t + 1
        self._step_size = lr / (1 - beta1 ** step)
        self._bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5

    def _rule(self, xp, s, p, g, lr):
        beta1, beta2 = self.betas
        m = s["m"] = _lerp(s["m"], g, 1 - beta1)
        v = s["v"] = s["v"] * beta2 + (1 - beta2) * g * g
        if self.amsgrad:
            v = s["v_max"] = xp.maximum(s["v_max"], v)
        denom = xp.sqrt(v) / self._bias_correction2_sqrt + self.eps
        return p + -self._step_size * m / denom


class AdamW(Adam):
    """Adam with decoupled weight decay: p ← p·(1 - lr·λ) before the Adam step (λ = 0.01)."""

    decoupled = True

    def __init__(self, params, lr: float = 1e-3, betas: Tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False,
                 decay: float = 0.0) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, decay)
