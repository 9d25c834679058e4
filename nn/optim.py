"""Optimizers: SGD, Adagrad, RMSprop, Adam, AdamW, following PyTorch's update rules exactly.

Each keeps per-parameter state in plain lists and, given the gradients left by ``backward()``,
updates ``p.data`` in place. ``step_arrays`` is the same step on NumPy arrays (the compiled
``fit`` keeps its parameters there); the scalar ``_update`` rules are the reference, and each
``_update_arrays`` computes the same formulas, operation for operation, on float64 arrays.
Every optimizer also takes ``decay``: inverse-time learning-rate
decay, lrₜ = lr / (1 + decay·t), where t counts completed steps (the first step uses lr).
The floating-point operations are written in PyTorch's order, so with ``decay=0`` the
trajectories match torch.optim to rounding.

A step is all or nothing: every new value and every new state entry is computed first, on a
scratch copy, then all are assigned at once with Ctrl-C held back (``nn.atomic``). An error or
a KeyboardInterrupt therefore leaves the parameters and the state at the last whole step.
"""

from __future__ import annotations

import copy
import math
from typing import Iterable, List, Tuple

import tinygrad_value as tv

from .atomic import interrupts_deferred
from .params import as_parameters


class Optimizer:
    """Holds the parameters, the base ``lr``, the step count ``t`` and ``weight_decay`` λ.

    ``step()`` applies the weight decay, so a subclass's ``_update`` sees the gradient it
    steps with: L2, g ← ∇ + λp, or with ``decoupled = True`` (AdamW) p ← p·(1 - lr·λ).
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
        lr, wd = self.current_lr, self.weight_decay
        # The update runs on a scratch optimizer whose state lists are copies, so nothing the
        # caller can see changes until every new value exists.
        work = copy.copy(self)
        for name in self.state_names:
            setattr(work, name, list(getattr(self, name)))
        work._start_step(lr)
        new_data = []
        for i, param in enumerate(self.params):
            p, g = param.data, param.grad
            if wd:
                if self.decoupled:
                    p = p * (1 - lr * wd)
                else:
                    g = g + wd * p
            new_data.append(work._update(i, p, g, lr))
        with interrupts_deferred():
            for name in self.state_names:
                setattr(self, name, getattr(work, name))
            for param, x in zip(self.params, new_data):
                param.data = x
            self.t += 1

    def supports_arrays(self) -> bool:
        """Whether ``step_arrays`` computes this optimizer's rule: a subclass that overrides
        ``_update`` or ``_start_step`` without its own ``_update_arrays`` does not."""
        mro = type(self).__mro__

        def owner(name):
            return next(c for c in mro if name in c.__dict__)

        arrays = owner("_update_arrays")
        return (arrays is not Optimizer and issubclass(arrays, owner("_update"))
                and issubclass(arrays, owner("_start_step")))

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
        lr, wd = self.current_lr, self.weight_decay
        work = copy.copy(self)
        work._start_step(lr)
        if wd:
            if self.decoupled:
                P = P * (1 - lr * wd)
            else:
                G = G + wd * P
        new_state = dict(state)
        new_p = work._update_arrays(new_state, P, G, lr)
        self.t += 1
        return new_p, new_state

    def _update_arrays(self, state: dict, p, g, lr: float):
        """All parameters at once: ``_update``'s formulas on arrays; new state arrays replace
        the entries of ``state`` (never written in place)."""
        raise NotImplementedError

    def _start_step(self, lr: float) -> None:
        """Compute this step's constants (bias corrections, decayed lr) once, before the loop."""

    def _update(self, i: int, p: float, g: float, lr: float) -> float:
        """Parameter i's new value from its value p and gradient g (weight decay applied)."""
        raise NotImplementedError

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

    def _update(self, i, p, g, lr):
        if self.momentum:
            if self.t == 0:
                buf = g
            else:
                buf = self.buf[i] * self.momentum + (1.0 - self.dampening) * g
            self.buf[i] = buf
            g = g + self.momentum * buf if self.nesterov else buf
        return p + (-lr) * g

    def _update_arrays(self, state, p, g, lr):
        if self.momentum:
            if self.t == 0:
                buf = g.copy()
            else:
                buf = state["buf"] * self.momentum + (1.0 - self.dampening) * g
            state["buf"] = buf
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

    def _update(self, i, p, g, lr):
        s = self.sum[i] + g * g
        self.sum[i] = s
        return p + -self._clr * g / (math.sqrt(s) + self.eps)

    def _update_arrays(self, state, p, g, lr):
        import numpy as np

        s = state["sum"] = state["sum"] + g * g
        return p + -self._clr * g / (np.sqrt(s) + self.eps)


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

    def _update(self, i, p, g, lr):
        v = self.square_avg[i] * self.alpha + (1.0 - self.alpha) * g * g
        self.square_avg[i] = v
        if self.centered:
            m = _lerp(self.grad_avg[i], g, 1.0 - self.alpha)
            self.grad_avg[i] = m
            avg = math.sqrt(v + -1.0 * m * m) + self.eps
        else:
            avg = math.sqrt(v) + self.eps
        if self.momentum:
            buf = self.buf[i] * self.momentum + g / avg
            self.buf[i] = buf
            return p + (-lr) * buf
        return p + -lr * g / avg

    def _update_arrays(self, state, p, g, lr):
        import numpy as np

        v = state["square_avg"] = state["square_avg"] * self.alpha + (1.0 - self.alpha) * g * g
        if self.centered:
            m = state["grad_avg"] = _lerp(state["grad_avg"], g, 1.0 - self.alpha)
            avg = np.sqrt(v + -1.0 * m * m) + self.eps
        else:
            avg = np.sqrt(v) + self.eps
        if self.momentum:
            buf = state["buf"] = state["buf"] * self.momentum + g / avg
            return p + (-lr) * buf
        return p + -lr * g / avg


class Adam(Optimizer):
    """m ← β₁m + (1-β₁)g;  v ← β₂v + (1-β₂)g²;  p ← p - lr/(1-β₁ᵗ) · m / (√v/√(1-β₂ᵗ) + ε),
    with t counted from 1 for the bias corrections. ``weight_decay`` adds λp to g (L2)."""

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

    def _update(self, i, p, g, lr):
        beta1, beta2 = self.betas
        m = _lerp(self.m[i], g, 1 - beta1)
        v = self.v[i] * beta2 + (1 - beta2) * g * g
        self.m[i], self.v[i] = m, v
        if self.amsgrad:
            v = self.v_max[i] = max(self.v_max[i], v)
        denom = math.sqrt(v) / self._bias_correction2_sqrt + self.eps
        return p + -self._step_size * m / denom

    def _update_arrays(self, state, p, g, lr):
        import numpy as np

        beta1, beta2 = self.betas
        m = state["m"] = _lerp(state["m"], g, 1 - beta1)
        v = state["v"] = state["v"] * beta2 + (1 - beta2) * g * g
        if self.amsgrad:
            v = state["v_max"] = np.maximum(state["v_max"], v)
        denom = np.sqrt(v) / self._bias_correction2_sqrt + self.eps
        return p + -self._step_size * m / denom


class AdamW(Adam):
    """Adam with decoupled weight decay: p ← p·(1 - lr·λ) before the Adam step (λ = 0.01)."""

    decoupled = True

    def __init__(self, params, lr: float = 1e-3, betas: Tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False,
                 decay: float = 0.0) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, decay)
