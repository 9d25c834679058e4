"""nn: neurons, layers, losses, optimizers, data and a training loop, built on tinygrad_value.

May import ``tinygrad_value`` (never the reverse); ``nn.live``, the live view, loads on use.
"""

from . import data, losses, optim
from .dropout import Dropout
from .inspect import GradientHealth, adam_state, inspect
from .mlp import MLP, Layer, Neuron
from .module import Module, StateDictError
from .predict import predict
from .sequential import Sequential
from .train import History, accuracy, fit

__all__ = ["Module", "StateDictError", "Neuron", "Layer", "MLP", "Sequential", "Dropout",
           "losses", "optim", "data", "fit", "History", "accuracy", "predict",
           "inspect", "GradientHealth", "adam_state",
           "LiveView", "LiveRecorder"]

_LIVE = ("LiveView", "LiveRecorder")


def __getattr__(name: str):
    """``nn.LiveView`` and ``nn.LiveRecorder`` load ``nn.live`` on first use, so ``import nn``
    stays free of the server; any other missing name is the usual AttributeError."""
    if name in _LIVE:
        from . import live

        return getattr(live, name)
    raise AttributeError(f"module 'nn' has no attribute {name!r}")
