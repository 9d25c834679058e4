"""The graduation path: an MLP as a torch.nn.Sequential and back, with the same weights."""

from __future__ import annotations

import random


def _torch():
    try:
        import torch
    except ImportError:
        raise ImportError("MLP.to_torch / MLP.from_torch need PyTorch, which is not installed: "
                          "pip install torch") from None
    return torch


def _activation_modules(torch):
    """Each activation's torch.nn module class, from the op table (``Op.module``)."""
    from .activations import ACTIVATIONS, DISPLAY

    return {name: getattr(torch.nn, DISPLAY[name]) for name in ACTIVATIONS if name != "linear"}


def to_torch(mlp):
    """``Sequential(Linear, act, Linear, act, …, Linear[, act])`` in float64: Linear i has
    weight[j, k] = layer i's neuron j's w[k] and bias[j] = its b; a linear layer gets no
    activation module."""
    torch = _torch()
    modules = []
    for layer in mlp.layers:
        nin, nout = layer.neurons[0].nin, len(layer.neurons)
        linear = torch.nn.Linear(nin, nout, dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.tensor([[w.data for w in n.w] for n in layer.neurons],
                                             dtype=torch.float64))
            linear.bias.copy_(torch.tensor([n.b.data for n in layer.neurons],
                                           dtype=torch.float64))
        modules.append(linear)
        if layer.activation != "linear":
            modules.append(_activation_modules(torch)[layer.activation]())
    return torch.nn.Sequential(*modules)


def from_torch(seq):
    """An MLP from a Sequential of ``Linear`` layers, each optionally followed by an activation
    module (ReLU, Tanh, Sigmoid: see ``_activation_modules``) or Identity. Python's global
    random state is left as it was."""
    from .mlp import MLP

    torch = _torch()
    names = {cls: name for name, cls in _activation_modules(torch).items()}
    linears, acts = [], []  # acts[k]: the activation after Linear k, None until one is seen
    for i, module in enumerate(seq):
        if isinstance(module, torch.nn.Linear):
            linears.append(module)
            acts.append(None)
        elif type(module) in names or isinstance(module, torch.nn.Identity):
            if not linears or acts[-1] is not None:
                raise ValueError(f"from_torch: module {i} ({type(module).__name__}) must follow "
                                 f"a Linear layer")
            acts[-1] = names.get(type(module), "linear")
        else:
            acts_text = ", ".join(cls.__name__ for cls in names)
            raise ValueError(f"from_torch: module {i} is a {type(module).__name__}; only Linear, "
                             f"{acts_text} and Identity can be converted")
    if not linears:
        raise ValueError("from_torch: the Sequential contains no Linear layer")
    for i, (a, b) in enumerate(zip(linears, linears[1:])):
        if a.out_features != b.in_features:
            raise ValueError(f"from_torch: Linear {i} has {a.out_features} outputs but "
                             f"Linear {i + 1} takes {b.in_features} inputs")
    state = random.getstate()
    try:
        mlp = MLP(linears[0].in_features, [lin.out_features for lin in linears])
    finally:
        random.setstate(state)
    for layer, linear, act in zip(mlp.layers, linears, acts):
        layer.activation = act or "linear"
        weight = linear.weight.detach().to(torch.float64).tolist()
        bias = (linear.bias.detach().to(torch.float64).tolist() if linear.bias is not None
                else [0.0] * linear.out_features)
        for neuron, row, b in zip(layer.neurons, weight, bias):
            for w, value in zip(neuron.w, row):
                w.data = float(value)
            neuron.b.data = float(b)
    return mlp
