"""nn: neurons, layers, losses, optimizers, data and a training loop, built on tinygrad_value."""

from . import data, losses, optim
from .dropout import Dropout
from .live import LiveRecorder, LiveView
from .mlp import MLP, Layer, Neuron
from .module import Module, StateDictError
from .train import History, accuracy, fit

__all__ = ["Module", "StateDictError", "Neuron", "Layer", "MLP", "Dropout", "losses", "optim",
           "data", "fit", "History", "accuracy", "LiveView", "LiveRecorder"]
