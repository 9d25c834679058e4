"""Module: the base class that owns parameters, train/eval mode, and saving to disk."""

from __future__ import annotations

import json
import numbers
import os
from typing import Dict, List, Tuple

import tinygrad_value as tv
from tinygrad_value.files import write_atomic

FORMAT = "tinygrad-value/nn"
FORMAT_VERSION = 1


class StateDictError(ValueError):
    """A state dict or saved file does not fit the model; the message says which key and why."""


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
        if not isinstance(state, dict):
            raise StateDictError(f"a state dict must be a dict, got {type(state).__name__}")
        named = self.named_parameters()
        expected = [name for name, _ in named]
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
            values[key] = float(v)
        for name, p in named:  # all checks passed: now assign
            p.data = values[name]
        return self

    # --- files -----------------------------------------------------------------------

    def save(self, path) -> None:
        """Write the parameters as JSON, atomically: the text goes to a temporary file in the
        same directory, is flushed to disk, then renamed over ``path``; a crash at any point
        leaves the previous file whole."""
        payload = {"format": FORMAT, "version": FORMAT_VERSION, "model": self.describe(),
                   "parameters": self.state_dict()}
        text = json.dumps(payload, indent=1, allow_nan=True)
        write_atomic(path, text)

    def load(self, path) -> "Module":
        """Read a file written by ``save`` into this model. A corrupt, truncated, foreign or
        mismatched file raises ``StateDictError`` saying what is wrong; the model is unchanged."""
        path = os.fspath(path)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        try:
            payload = json.loads(text)
        except json.JSONDecodeError as e:
            raise StateDictError(
                f"{path}: not valid JSON ({e.msg} at line {e.lineno} column {e.colno}); "
                f"the file is corrupt or truncated") from None
        if not isinstance(payload, dict) or payload.get("format") != FORMAT:
            raise StateDictError(f"{path}: not a tinygrad-value model file "
                                 f"(expected a JSON object with \"format\": \"{FORMAT}\")")
        version = payload.get("version")
        if version != FORMAT_VERSION:
            raise StateDictError(f"{path}: format version {version!r} is not supported "
                                 f"(this code reads version {FORMAT_VERSION})")
        params = payload.get("parameters")
        if not isinstance(params, dict):
            raise StateDictError(f"{path}: the \"parameters\" entry is missing or not an object")
        saved_model = payload.get("model")
        if saved_model is not None and saved_model != self.describe():
            raise StateDictError(f"{path}: the file holds {saved_model} but the model is "
                                 f"{self.describe()}")
        try:
            return self.load_state_dict(params)
        except StateDictError as e:
            raise StateDictError(f"{path}: {e}") from None


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
