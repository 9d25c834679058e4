"""Module: the base class that owns parameters, train/eval mode, and saving to disk."""

from __future__ import annotations

import numbers
from itertools import chain
from operator import is_
from typing import Dict, List, Optional, Tuple

import tinygrad_value as tv

from . import checkpoint
from .checkpoint import StateDictError


class Module:
    """Something with parameters (Values) and, possibly, submodules.

    Parameters are found in one walk of the instance's attributes, in definition order (as
    PyTorch's ``nn.Module`` does): an attribute holding a ``Value`` is a parameter, one holding a
    ``Module`` a submodule, and lists, tuples and dicts of them are walked element by element
    (``self.w = [...]`` gives ``w.0``, ``w.1``, ...). Attributes whose name starts with ``_`` are
    private and skipped. Each Value and submodule is counted once, under its first name, so
    a custom subclass gets ``parameters()``, ``state_dict()`` and ``train()`` without
    overriding anything. That walk (``_walk``) is the one source: ``named_children()`` and
    ``own_parameters()`` are views of it, not hooks that change it.
    """

    training: bool = True  # new modules are in train mode

    # --- what a module owns: one walk of its attributes ------------------------------

    def _walk(self, read: Optional["_Snapshot"] = None) -> List[Tuple[str, object]]:
        """(dotted name, Value or Module) for every attribute entry, in definition order.

        ``read``, when given, records every dict and list the walk looked into, with what it
        found there (see ``_Snapshot``)."""
        found: List[Tuple[str, object]] = []
        if read is not None:
            read.record(self)
        stack = [(name, v) for name, v in vars(self).items() if not name.startswith("_")]
        stack.reverse()
        while stack:  # explicit stack: nested containers are walked depth first, in order
            name, v = stack.pop()
            if isinstance(v, (tv.Value, Module)):
                found.append((name, v))
            elif isinstance(v, (list, tuple)):
                if read is not None:
                    read.record(v)
                stack.extend(reversed([(f"{name}.{i}", x) for i, x in enumerate(v)]))
            elif isinstance(v, dict):
                if read is not None:
                    read.record(v)
                stack.extend(reversed([(f"{name}.{k}", x) for k, x in v.items()]))
        return found

    def named_children(self) -> List[Tuple[str, "Module"]]:
        """Direct submodules as ``(name, module)``; names become dotted prefixes in state_dict."""
        return [(n, v) for n, v in self._walk() if isinstance(v, Module) and v is not self]

    def own_parameters(self) -> List[Tuple[str, tv.Value]]:
        """This module's own Values (not its children's) as ``(name, value)``."""
        return [(n, v) for n, v in self._walk() if isinstance(v, tv.Value)]

    # --- derived ---------------------------------------------------------------------

    def _tree(self) -> Tuple[List[Tuple[str, tv.Value]], List[tv.Value]]:
        """``named_parameters()`` and ``parameters()``: ``_walk`` applied to this module and,
        depth first, to each submodule. The result is remembered with a snapshot of every dict
        and list the walk read, and reused while all of them still hold the same objects, so
        a training loop's ``model.zero_grad()`` does not pay for the walk on every step (for
        micrograd's 2-16-16-1 MLP the walk takes ~0.6 ms, most of a compiled demo step; the
        check ~0.03 ms). Any change to what the walk would see (an
        attribute set or deleted, a list appended to or an item replaced, in this module or
        any submodule) makes it walk again."""
        memo = self.__dict__.get("_parameters_memo")
        if memo and memo[0].unchanged():
            return memo[1], memo[2]
        # the holder is in place before the walk reads this module's attributes, and is filled
        # in afterwards: filling it does not change what the snapshot saw
        memo = self.__dict__["_parameters_memo"] = []
        read = _Snapshot()
        named: List[Tuple[str, tv.Value]] = []
        seen_values, seen_modules = set(), {id(self)}
        stack = [("", self)]
        while stack:
            prefix, module = stack.pop()
            children = []
            for name, v in module._walk(read):
                if isinstance(v, tv.Value):
                    if id(v) not in seen_values:
                        seen_values.add(id(v))
                        named.append((prefix + name, v))
                elif id(v) not in seen_modules:
                    seen_modules.add(id(v))
                    children.append((prefix + name + ".", v))
            stack.extend(reversed(children))
        values = [p for _, p in named]
        read.close()
        memo[:] = [read, named, values]
        return named, values

    def named_parameters(self) -> List[Tuple[str, tv.Value]]:
        """Every parameter with its stable dotted name, e.g. ``layers.0.neurons.3.w.1``; a
        Value or submodule reachable twice is listed once, under its first name (a module's
        own Values first, then each submodule's, in definition order)."""
        return list(self._tree()[0])

    def parameters(self) -> List[tv.Value]:
        """Every parameter Value, in ``named_parameters()`` order."""
        return list(self._tree()[1])

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

    def __repr__(self) -> str:
        return f"{self.describe()} with {len(self.parameters())} parameters"

    def _repr_html_(self) -> str:
        """A short table for notebooks: each submodule with its parameter count, and the total."""
        from html import escape

        rows = self.named_children() or [("", self)]
        body = "".join(f"<tr><td><code>{escape(name)}</code></td><td>{escape(m.describe())}"
                       f"</td><td style='text-align:right'>{len(m.parameters())}</td></tr>"
                       for name, m in rows)
        return (f"<table><caption>{escape(self.describe())}</caption><tr><th>name</th>"
                f"<th>module</th><th>parameters</th></tr>{body}<tr><td></td><td><b>total</b>"
                f"</td><td style='text-align:right'><b>{len(self.parameters())}</b></td></tr>"
                f"</table>")

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


class _Snapshot:
    """What a walk read: every module's attributes, dict and list it looked into, with the
    objects each held, in order. ``unchanged()`` says whether all of them still hold exactly
    those objects (compared by identity, so the snapshot keeps them alive: no id can be
    reused). Modules are kept themselves, not their ``__dict__``, so a ``copy.deepcopy`` of a
    model checks its own attributes. The check is a few C-level passes over flat sequences,
    a twentieth of the walk."""

    def __init__(self) -> None:
        self.modules: list = []
        self.lists: list = []  # lists and tuples
        self.dicts: list = []
        self.module_keys: list = []
        self.module_values: list = []
        self.list_values: list = []
        self.dict_keys: list = []
        self.dict_values: list = []

    def record(self, container) -> None:
        if isinstance(container, Module):
            d = vars(container)
            self.modules.append(container)
            self.module_keys.extend(d)
            self.module_values.extend(d.values())
        elif isinstance(container, dict):
            self.dicts.append(container)
            self.dict_keys.extend(container)
            self.dict_values.extend(container.values())
        else:
            self.lists.append(container)
            self.list_values.extend(container)

    def close(self) -> None:
        self.module_lengths = [len(vars(m)) for m in self.modules]
        self.list_lengths = list(map(len, self.lists))
        self.dict_lengths = list(map(len, self.dicts))

    def unchanged(self) -> bool:
        attrs = list(map(vars, self.modules))
        return (list(map(len, attrs)) == self.module_lengths
                and list(map(len, self.lists)) == self.list_lengths
                and list(map(len, self.dicts)) == self.dict_lengths
                and all(map(is_, chain.from_iterable(attrs), self.module_keys))
                and all(map(is_, chain.from_iterable(map(dict.values, attrs)),
                            self.module_values))
                and all(map(is_, chain.from_iterable(self.lists), self.list_values))
                and all(map(is_, chain.from_iterable(self.dicts), self.dict_keys))
                and all(map(is_, chain.from_iterable(map(dict.values, self.dicts)),
                            self.dict_values)))


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


def label_of(key: str) -> str:
    """The graph label of a parameter from its state-dict key: the one documented mapping.

    ``layers.<i>`` → ``layer<i+1>`` (layers count from 1 in pictures), ``neurons.<j>`` →
    ``neuron<j>``, ``w.<k>`` → ``w[k]``: ``layers.0.neurons.3.w.1`` is ``layer1.neuron3.w[1]``."""
    parts, out, i = key.split("."), [], 0
    while i < len(parts):
        name, nxt = parts[i], parts[i + 1] if i + 1 < len(parts) else None
        if name == "layers" and nxt is not None and nxt.isdigit():
            out.append(f"layer{int(nxt) + 1}")
            i += 2
        elif name == "neurons" and nxt is not None and nxt.isdigit():
            out.append(f"neuron{nxt}")
            i += 2
        elif name == "w" and nxt is not None and nxt.isdigit():
            out.append(f"w[{nxt}]")
            i += 2
        else:
            out.append(name)
            i += 1
    return ".".join(out)
