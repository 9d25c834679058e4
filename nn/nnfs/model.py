"""The book's Model (chapters 19-22): add layers, set loss/optimizer/accuracy, finalize, train.

Parameters and whole models are saved as JSON (never pickle) with tinygrad_value.files'
atomic write; ``serialize.py`` holds the format.
"""

from __future__ import annotations

import numpy as np

from .activations import Activation_Softmax
from .layers import Layer_Input
from .losses import Loss_CategoricalCrossentropy
from .softmax_loss import Activation_Softmax_Loss_CategoricalCrossentropy


class Model:
    """A stack of layers trained by the book's loop (forward, loss, backward, optimizer)."""

    def __init__(self) -> None:
        self.layers: list = []
        self.softmax_classifier_output = None
        self.loss = self.optimizer = self.accuracy = None

    def add(self, layer) -> None:
        self.layers.append(layer)

    def set(self, *, loss=None, optimizer=None, accuracy=None) -> None:
        if loss is not None:
            self.loss = loss
        if optimizer is not None:
            self.optimizer = optimizer
        if accuracy is not None:
            self.accuracy = accuracy

    def finalize(self) -> None:
        """Link each layer to its neighbours and find the trainable ones."""
        if not self.layers:
            raise ValueError("Model.finalize: add at least one layer first (model.add(...))")
        self.input_layer = Layer_Input()
        self.trainable_layers = []
        count = len(self.layers)
        for i, layer in enumerate(self.layers):
            layer.prev = self.input_layer if i == 0 else self.layers[i - 1]
            layer.next = self.layers[i + 1] if i < count - 1 else self.loss
            if hasattr(layer, "weights"):
                self.trainable_layers.append(layer)
        self.output_layer_activation = self.layers[-1]
        if self.loss is not None:
            self.loss.remember_trainable_layers(self.trainable_layers)
        if isinstance(self.layers[-1], Activation_Softmax) and \
                isinstance(self.loss, Loss_CategoricalCrossentropy):
            self.softmax_classifier_output = Activation_Softmax_Loss_CategoricalCrossentropy()

    def _need(self, what: str) -> None:
        if not hasattr(self, "input_layer"):
            raise RuntimeError(f"Model.{what}: call model.finalize() first")
        if what in ("train", "evaluate") and (self.loss is None or self.accuracy is None):
            raise RuntimeError(f"Model.{what}: set loss= and accuracy= with model.set(...)")
        if what == "train" and self.optimizer is None:
            raise RuntimeError("Model.train: set optimizer= with model.set(...)")

    def train(self, X, y, *, epochs: int = 1, batch_size=None, print_every: int = 1,
              validation_data=None) -> None:
        """The book's loop: per epoch, per batch, forward, loss, backward, update; prints every
        ``print_every`` steps and a summary per epoch, then validates."""
        self._need("train")
        self.accuracy.init(y)
        train_steps = 1
        if batch_size is not None:
            train_steps = len(X) // batch_size
            if train_steps * batch_size < len(X):
                train_steps += 1
        for epoch in range(1, epochs + 1):
            print(f"epoch: {epoch}")
            self.loss.new_pass()
            self.accuracy.new_pass()
            for step in range(train_steps):
                if batch_size is None:
                    batch_X, batch_y = X, y
                else:
                    batch_X = X[step * batch_size:(step + 1) * batch_size]
                    batch_y = y[step * batch_size:(step + 1) * batch_size]
                output = self.forward(batch_X, training=True)
                data_loss, regularization_loss = self.loss.calculate(
                    output, batch_y, include_regularization=True)
                loss = data_loss + regularization_loss
                predictions = self.output_layer_activation.predictions(output)
                accuracy = self.accuracy.calculate(predictions, batch_y)
                self.backward(output, batch_y)
                self.optimizer.pre_update_params()
                for layer in self.trainable_layers:
                    self.optimizer.update_params(layer)
                self.optimizer.post_update_params()
                if not step % print_every or step == train_steps - 1:
                    print(f"step: {step}, acc: {accuracy:.3f}, loss: {loss:.3f} "
                          f"(data_loss: {data_loss:.3f}, reg_loss: {regularization_loss:.3f}), "
                          f"lr: {self.optimizer.current_learning_rate}")
            epoch_data_loss, epoch_regularization_loss = self.loss.calculate_accumulated(
                include_regularization=True)
            epoch_loss = epoch_data_loss + epoch_regularization_loss
            epoch_accuracy = self.accuracy.calculate_accumulated()
            print(f"training, acc: {epoch_accuracy:.3f}, loss: {epoch_loss:.3f} "
                  f"(data_loss: {epoch_data_loss:.3f}, reg_loss: "
                  f"{epoch_regularization_loss:.3f}), lr: {self.optimizer.current_learning_rate}")
            if validation_data is not None:
                self.evaluate(*validation_data, batch_size=batch_size)

    def evaluate(self, X_val, y_val, *, batch_size=None):
        """Loss and accuracy on held-out data (no dropout); prints and returns both."""
        self._need("evaluate")
        validation_steps = 1
        if batch_size is not None:
            validation_steps = len(X_val) // batch_size
            if validation_steps * batch_size < len(X_val):
                validation_steps += 1
        self.loss.new_pass()
        self.accuracy.new_pass()
        for step in range(validation_steps):
            if batch_size is None:
                batch_X, batch_y = X_val, y_val
            else:
                batch_X = X_val[step * batch_size:(step + 1) * batch_size]
                batch_y = y_val[step * batch_size:(step + 1) * batch_size]
            output = self.forward(batch_X, training=False)
            self.loss.calculate(output, batch_y)
            predictions = self.output_layer_activation.predictions(output)
            self.accuracy.calculate(predictions, batch_y)
        validation_loss = self.loss.calculate_accumulated()
        validation_accuracy = self.accuracy.calculate_accumulated()
        print(f"validation, acc: {validation_accuracy:.3f}, loss: {validation_loss:.3f}")
        return validation_loss, validation_accuracy

    def predict(self, X, *, batch_size=None) -> np.ndarray:
        """The last layer's outputs for X (stacked over batches)."""
        self._need("predict")
        prediction_steps = 1
        if batch_size is not None:
            prediction_steps = len(X) // batch_size
            if prediction_steps * batch_size < len(X):
                prediction_steps += 1
        output = []
        for step in range(prediction_steps):
            batch_X = X if batch_size is None else X[step * batch_size:(step + 1) * batch_size]
            output.append(self.forward(batch_X, training=False))
        return np.vstack(output)

    def forward(self, X, training: bool):
        self.input_layer.forward(X, training)
        for layer in self.layers:
            layer.forward(layer.prev.output, training)
        return layer.output

    def backward(self, output, y) -> None:
        if self.softmax_classifier_output is not None:
            self.softmax_classifier_output.backward(output, y)
            self.layers[-1].dinputs = self.softmax_classifier_output.dinputs
            for layer in reversed(self.layers[:-1]):
                layer.backward(layer.next.dinputs)
            return
        self.loss.backward(output, y)
        for layer in reversed(self.layers):
            layer.backward(layer.next.dinputs)

    # --- parameters and files (JSON, atomic; see serialize.py) -----------------------------

    def get_parameters(self) -> list:
        return [layer.get_parameters() for layer in self.trainable_layers]

    def set_parameters(self, parameters) -> None:
        if len(parameters) != len(self.trainable_layers):
            raise ValueError(f"set_parameters: {len(parameters)} (weights, biases) pairs for "
                             f"{len(self.trainable_layers)} trainable layers")
        for parameter_set, layer in zip(parameters, self.trainable_layers):
            layer.set_parameters(*parameter_set)

    def save_parameters(self, path) -> None:
        from .serialize import save_parameters

        save_parameters(self, path)

    def load_parameters(self, path) -> None:
        from .serialize import load_parameters

        load_parameters(self, path)

    def save(self, path) -> None:
        from .serialize import save_model

        save_model(self, path)

    @staticmethod
    def load(path) -> "Model":
        from .serialize import load_model

        return load_model(path)
