"""Module: the base class that owns parameters, train/eval mode, and saving to disk."""

from __future__ import annotations

import numbers
from typing import Dict, List, Tuple

import tinygrad_value as tv

from . import checkpoint
from .checkpoint import StateDictError


class Module:
    """Something with parameters (Values) and, possibly, submodules.

    Subclasses say what they own, explicitly: ``named_parameters()`` for their own Values and
    ``named_children()`` for their submodules; ``parameters()``, ``state_dict()``, ``train()``
    and friends are derived from those two.
    """

    training: bool = True  # new modules are in train mode

    # --- what a module owns: override these ------------------------------------------

    def named_children(self) -> List[Tuple[str, "Module"]]:
        """Direct submodules as ``(name, module)``; names become dotted prefixes in state_dict."""
        return []

    def own_parameters(self) -> List[Tuple[str, tv.Value]]:
        """This module's own Values (not its children's) as ``(name, value)``."""
        return []

    # --- derived ---------------------------------------------------------------------

    def named_parameters(self) -> List[Tuple[str, tv.Value]]:
        """Every parameter with its stable dotted name, e.g. ``layers.0.neurons.3.w.1``."""
        out = list(self.own_parameters())
        for name, child in self.named_children():
            out.extend((f"{name}.{key}", p) for key, p in child.named_parameters())
        return out

    def parameters(self) -> List[tv.Value]:
        return [p for _, p in self.named_parameters()]

    def zero_grad(self) -> None:
        """grad = 0 for every parameter (backward() adds into leaves)."""
        for p in self.parameters():
            p.grad = 0.0

    def train(self, mode: bool = True) -> "Module":
        """Set train mode (Dropout active) on this module and all its submodules."""
        self.training = bool(mode)
        for _, child in self.named_children():
            child.train(mode)
        return self

    def eval(self) -> "Module":
        """Evaluation mode: Dropout becomes the identity. Same as ``train(False)``."""
        return self.train(False)

    def describe(self) -> str:
        """The architecture in one line (saved with the weights, checked on load)."""
        return type(self).__name__

    # --- state dict ------------------------------------------------------------------

    def state_dict(self) -> Dict[str, float]:
        """{dotted name: float} for every parameter, in parameter order."""
        return {name: p.data for name, p in self.named_parameters()}

    def load_state_dict(self, state: Dict[str, float]) -> "Module":
        """Copy floats into the parameters. Everything is checked first (same keys, every value
        a real number), so a bad state dict raises ``StateDictError`` and changes nothing."""
        values = self.checked_state(state)
        for name, p in self.named_parameters():  # all checks passed: now assign
            p.data = values[name]
        return self

    def checked_state(self, state: Dict[str, float]) -> Dict[str, float]:
        """``state`` as {name: float} in parameter order if it fits this model, else a
        ``StateDictError`` naming the first problem; changes nothing."""
        if not isinstance(state, dict):
            raise StateDictError(f"a state dict must be a dict, got {type(state).__name__}")
        expected = [name for name, _ in self.named_parameters()]
        missing = [k for k in expected if k not in state]
        known = set(expected)
        unexpected = [k for k in state if k not in known]
        if missing or unexpected:
            raise StateDictError(_mismatch(self, expected, state, missing, unexpected))
        values = {}
        for key in expected:
            v = state[key]
            if isinstance(v, bool) or not isinstance(v, numbers.Real):
                raise StateDictError(
                    f"state dict key {key!r}: expected a number, got {type(v).__name__} {v!r}")
            try:
                values[key] = float(v)
            except OverflowError:
                raise StateDictError(f"state dict key {key!r}: an integer of "
                                     f"{len(str(abs(v)))} digits is too large for a "
                                     f"float") from None
        return values

    # --- files -----------------------------------------------------------------------

    def save(self, path) -> None:
        """Write the parameters as JSON, atomically: a crash at any point leaves the previous
        file whole (``nn.checkpoint`` has the format)."""
        checkpoint.save(self, path)

    def load(self, path, *, allow_nonfinite: bool = False, verify: bool = True) -> "Module":
        """Read a file written by ``save`` into this model. A corrupt, truncated, damaged,
        foreign or mismatched file raises ``StateDictError`` saying what is wrong, and the model
        is unchanged; NaN/infinite weights need ``allow_nonfinite=True``."""
        return checkpoint.load(self, path, allow_nonfinite=allow_nonfinite, verify=verify)


def _mismatch(module: Module, expected, state, missing, unexpected) -> str:
    def some(keys):
        shown = ", ".join(repr(k) for k in keys[:3])
        return shown + (f", ... ({len(keys) - 3} more)" if len(keys) > 3 else "")

    parts = [f"state dict does not match {module.describe()}: the model has "
             f"{len(expected)} parameters, the state dict {len(state)}"]
    if missing:
        parts.append(f"missing {len(missing)} key(s): {some(missing)}")
    if unexpected:
        parts.append(f"unexpected {len(unexpected)} key(s): {some(unexpected)}")
    return "; ".join(parts)
