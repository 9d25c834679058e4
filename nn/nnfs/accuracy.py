"""The book's accuracy classes (chapter 19): the fraction of predictions that match."""

from __future__ import annotations

import numpy as np


class Accuracy:
    """calculate(predictions, y) = mean(compare(predictions, y)), accumulated over batches."""

    def calculate(self, predictions, y) -> float:
        comparisons = self.compare(predictions, y)
        accuracy = np.mean(comparisons)
        self.accumulated_sum = getattr(self, "accumulated_sum", 0) + np.sum(comparisons)
        self.accumulated_count = getattr(self, "accumulated_count", 0) + len(comparisons)
        return accuracy

    def calculate_accumulated(self) -> float:
        return self.accumulated_sum / self.accumulated_count

    def new_pass(self) -> None:
        self.accumulated_sum = 0
        self.accumulated_count = 0


class Accuracy_Categorical(Accuracy):
    """Class index equal to the label (one-hot labels are argmax'd); ``binary=True`` compares
    thresholded sigmoid outputs elementwise."""

    def __init__(self, *, binary: bool = False) -> None:
        self.binary = binary

    def init(self, y) -> None:
        pass

    def compare(self, predictions, y):
        y = np.asarray(y)
        if not self.binary and y.ndim == 2:
            y = np.argmax(y, axis=1)
        return predictions == y


class Accuracy_Regression(Accuracy):
    """|prediction − y| < precision, precision = std(y) / 250 (set once by ``init``)."""

    def __init__(self) -> None:
        self.precision = None

    def init(self, y, reinit: bool = False) -> None:
        if self.precision is None or reinit:
            self.precision = np.std(y) / 250

    def compare(self, predictions, y):
        return np.absolute(predictions - y) < self.precision
