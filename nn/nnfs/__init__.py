"""nn.nnfs: the classes of *Neural Networks from Scratch in Python*, computed by the engine.

Names, signatures, defaults and attributes are the book's (float64 NumPy arrays), so a
listing runs with ``from nn.nnfs import *``. Inside each layer the arithmetic is scalar Values
(``graph.LayerGraph``): after ``forward``, ``layer.values`` are the Values of its output and
``backward`` is the engine's vector-Jacobian product. May import tinygrad_value and NumPy.
"""

from .accuracy import Accuracy, Accuracy_Categorical, Accuracy_Regression
from .activations import Activation_Linear, Activation_ReLU, Activation_Sigmoid, Activation_Softmax
from .layers import Layer_Dense, Layer_Dropout, Layer_Input
from .losses import (
    Loss,
    Loss_BinaryCrossentropy,
    Loss_CategoricalCrossentropy,
    Loss_MeanAbsoluteError,
    Loss_MeanSquaredError,
)
from .model import Model
from .optimizers import Optimizer_Adagrad, Optimizer_Adam, Optimizer_RMSprop, Optimizer_SGD
from .softmax_loss import Activation_Softmax_Loss_CategoricalCrossentropy

__all__ = ["Layer_Dense", "Layer_Dropout", "Layer_Input", "Activation_ReLU",
           "Activation_Softmax", "Activation_Sigmoid", "Activation_Linear", "Loss",
           "Loss_CategoricalCrossentropy", "Activation_Softmax_Loss_CategoricalCrossentropy",
           "Loss_BinaryCrossentropy", "Loss_MeanSquaredError", "Loss_MeanAbsoluteError",
           "Optimizer_SGD", "Optimizer_Adagrad", "Optimizer_RMSprop", "Optimizer_Adam",
           "Accuracy", "Accuracy_Categorical", "Accuracy_Regression", "Model"]
