"""Neuron, Layer, MLP: micrograd's network classes, with labels, activations and inits."""

from __future__ import annotations

from typing import List, Optional, Sequence, Union

import tinygrad_value as tv

from .activations import ACTIVATIONS, DISPLAY, check_activation
from .dropout import Dropout
from .init import draw_weight
from .module import Module

Output = Union[tv.Value, List[tv.Value]]


def _values(x: Sequence, who: str = "layer") -> List[tv.Value]:
    """The input row as Values: numbers become leaves, Values pass through."""
    try:
        return [v if isinstance(v, tv.Value) else tv.Value(v) for v in x]
    except TypeError:
        raise TypeError(_row_error(x, who)) from None


def _row_error(x, who: str) -> str:
    """Why ``x`` is not one input row, and what to pass instead."""
    if isinstance(x, (tv.Value, int, float)):
        return (f"{who} takes one input row (a list of numbers), got the {type(x).__name__} "
                f"{x!r}; write model([{x!r}]) for a single input")
    if isinstance(x, (list, tuple)) and x and isinstance(x[0], (list, tuple)):
        return (f"{who} takes one input row, got a batch of {len(x)} rows; call it on each "
                f"row, or use nn.predict(model, X) for many rows")
    return f"{who} takes one input row (a list of numbers), got {type(x).__name__} {x!r}"


class Neuron(Module):
    """out = act(b + Σᵢ wᵢ·xᵢ), with ``act`` ReLU (``nonlin=True``) or the identity.

    Weights are drawn one by one with ``random.uniform(-1, 1)`` and the bias starts at 0, in
    micrograd's order, so ``random.seed(1337)`` gives micrograd's numbers. ``activation`` (relu,
    tanh, sigmoid, linear) overrides ``nonlin``; ``init`` picks the weight distribution
    (``uniform``, ``xavier``, ``he``). By default the sum is a chain of binary ``+`` exactly as in
    micrograd (same floats, bit for bit); ``use_dot=True`` makes it one ``tv.dot`` node instead:
    fewer nodes, faster, same maths up to rounding.
    """

    def __init__(self, nin: int, nonlin: bool = True, activation: Optional[str] = None,
                 init: str = "uniform", use_dot: bool = False, fan_out: int = 1) -> None:
        if isinstance(nin, bool) or not isinstance(nin, int) or nin < 1:
            raise ValueError(f"a neuron needs nin >= 1 inputs, got {nin!r}")
        self.activation = check_activation(activation or ("relu" if nonlin else "linear"))
        self.use_dot = use_dot
        self.w = [tv.Value(draw_weight(init, nin, fan_out)) for _ in range(nin)]
        self.b = tv.Value(0)
        self.set_prefix("neuron")

    @property
    def nin(self) -> int:
        return len(self.w)

    @property
    def nonlin(self) -> bool:
        """micrograd's flag: True unless the activation is linear."""
        return self.activation != "linear"

    def set_prefix(self, prefix: str) -> None:
        """Label the parameters ``<prefix>.w[i]``, ``<prefix>.b`` and each output ``<prefix>.out``;
        graph renderers group nodes by this dotted prefix."""
        self.prefix = prefix
        for i, w in enumerate(self.w):
            w.label = f"{prefix}.w[{i}]"
        self.b.label = f"{prefix}.b"
        self._out_label = f"{prefix}.out"

    def __call__(self, x: Sequence) -> tv.Value:
        try:
            n = len(x)
        except TypeError:
            raise TypeError(_row_error(x, self.prefix)) from None
        if n != len(self.w):
            if n and isinstance(x[0], (list, tuple)):
                raise TypeError(_row_error(x, self.prefix))
            raise ValueError(f"{self.prefix} expects {len(self.w)} inputs, got {len(x)}")
        if self.use_dot:
            act = self.b + tv.dot(self.w, x)
        else:
            act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        out = ACTIVATIONS[self.activation](act)
        out.label = self._out_label
        return out

    def describe(self) -> str:
        return f"Neuron({self.nin})"

    def __repr__(self) -> str:
        return f"{DISPLAY[self.activation]}Neuron({len(self.w)})"


class Layer(Module):
    """``nout`` neurons reading the same inputs; one output gives a Value, several a list."""

    def __init__(self, nin: int, nout: int, **kwargs) -> None:
        if isinstance(nout, bool) or not isinstance(nout, int) or nout < 1:
            raise ValueError(f"a layer needs nout >= 1 neurons, got {nout!r}")
        kwargs.setdefault("fan_out", nout)
        self.neurons = [Neuron(nin, **kwargs) for _ in range(nout)]
        self.set_prefix("layer")

    def set_prefix(self, prefix: str) -> None:
        """Neuron j is labelled ``<prefix>.neuron<j>`` (0-based)."""
        self.prefix = prefix
        for j, n in enumerate(self.neurons):
            n.set_prefix(f"{prefix}.neuron{j}")

    @property
    def activation(self) -> str:
        return self.neurons[0].activation

    @activation.setter
    def activation(self, name: str) -> None:
        check_activation(name)
        for n in self.neurons:
            n.activation = name

    def __call__(self, x: Sequence) -> Output:
        # a float input becomes one leaf shared by every neuron, not one each
        x = _values(x, self.prefix)
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def describe(self) -> str:
        return f"Layer({self.neurons[0].nin}, {len(self.neurons)})"

    def __repr__(self) -> str:
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


class MLP(Module):
    """Layers in sequence: sizes ``[nin] + nouts``; hidden layers use ``activation`` (ReLU),
    the last ``output_activation`` (linear), as in micrograd. Layer i (1-based) labels its
    parameters ``layer<i>.neuron<j>.w[k]`` (state-dict key ``layers.<i-1>.neurons.<j>.w.<k>``;
    ``nn.module.label_of`` is the mapping). ``dropout=p`` puts ``Dropout(p)`` after every
    hidden layer (kept in ``self.dropouts``; they hold no parameters)."""

    def __init__(self, nin: int, nouts: Sequence[int], activation: str = "relu",
                 output_activation: str = "linear", init: str = "uniform",
                 use_dot: bool = False, dropout: float = 0.0) -> None:
        if isinstance(nouts, int) or not isinstance(nouts, (list, tuple, range)):
            raise TypeError(f"MLP(nin, nouts): nouts is the list of layer sizes, got "
                            f"{type(nouts).__name__} {nouts!r}; e.g. MLP({nin}, [{nouts}]) "
                            f"for one layer of {nouts} neurons, MLP({nin}, [16, 16, {nouts}]) "
                            f"with two hidden layers")
        nouts = list(nouts)
        if not nouts:
            raise ValueError("an MLP needs at least one layer: nouts is empty")
        check_activation(activation)
        check_activation(output_activation)
        sz = [nin] + nouts
        last = len(nouts) - 1
        self.layers = [Layer(sz[i], sz[i + 1],
                             activation=output_activation if i == last else activation,
                             init=init, use_dot=use_dot)
                       for i in range(len(nouts))]
        for i, layer in enumerate(self.layers):
            layer.set_prefix(f"layer{i + 1}")
        self.dropouts = [Dropout(dropout) for _ in range(last)] if dropout else []

    def __call__(self, x: Sequence) -> Output:
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.dropouts):
                x = self.dropouts[i](x)
        return x

    @property
    def output_activation(self) -> str:
        """The last layer's activation (``fit`` picks its default loss from it)."""
        return self.layers[-1].activation

    @property
    def sizes(self) -> List[int]:
        """``[nin] + nouts``."""
        return [self.layers[0].neurons[0].nin] + [len(layer.neurons) for layer in self.layers]

    def describe(self) -> str:
        sizes = self.sizes
        return f"MLP({sizes[0]}, {sizes[1:]})"

    def __repr__(self) -> str:
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"

    def to_torch(self):
        """An equivalent ``torch.nn.Sequential`` (float64, same weights). Needs PyTorch."""
        from .torch_bridge import to_torch

        return to_torch(self)

    @classmethod
    def from_torch(cls, seq) -> "MLP":
        """An MLP with the weights and activations of a Sequential of Linear + activation."""
        from .torch_bridge import from_torch

        return from_torch(seq)
