"""Sequential: modules applied one after another, each output the next one's input."""

from __future__ import annotations

from typing import Optional

from .module import Module


class Sequential(Module):
    """``Sequential(m₀, m₁, ...)(x) = ... m₁(m₀(x))``: any Modules, Dropout included.

    The modules are kept in ``self.layers``, so parameter names read ``layers.<i>.…`` exactly
    as in an ``MLP`` (a Sequential of the same Layers has the MLP's state-dict keys). Layers
    are labelled ``layer<i+1>`` like an MLP's.
    """

    def __init__(self, *modules: Module) -> None:
        if len(modules) == 1 and isinstance(modules[0], (list, tuple)):
            modules = tuple(modules[0])  # Sequential([a, b]) as well as Sequential(a, b)
        if not modules:
            raise ValueError("Sequential needs at least one module, e.g. "
                             "Sequential(nn.Layer(2, 8), nn.Dropout(0.5), nn.Layer(8, 1))")
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                raise TypeError(f"Sequential: item {i} is a {type(m).__name__}, not an nn "
                                f"Module (a Layer, MLP, Dropout, ...)")
        self.layers = list(modules)
        for i, m in enumerate(self.layers):
            if hasattr(m, "set_prefix"):
                m.set_prefix(f"layer{i + 1}")

    def __call__(self, x):
        for m in self.layers:
            x = m(x)
        return x

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, i: int) -> Module:
        return self.layers[i]

    @property
    def output_activation(self) -> Optional[str]:
        """The activation of the last module that has one (``fit`` picks its loss from it)."""
        for m in reversed(self.layers):
            act = getattr(m, "output_activation", None) or getattr(m, "activation", None)
            if act:
                return act
        return None

    def describe(self) -> str:
        return f"Sequential({', '.join(m.describe() for m in self.layers)})"

    def __repr__(self) -> str:
        return self.describe()
