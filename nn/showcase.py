"""The issue's numbers: each optimizer on the nnfs spiral, and micrograd's moons demo.

Run ``python -m nn.showcase`` (add ``--eager`` to skip ``tv.compile``; much slower).
"""

from __future__ import annotations

import random
import sys
import time

from . import data, optim
from .mlp import MLP
from .train import accuracy, fit

# The nnfs book's settings for its 2-64-3 spiral network (chapters 10 and 11), decay included.
SPIRAL_OPTIMIZERS = {
    "SGD": lambda ps: optim.SGD(ps, lr=1.0, momentum=0.9, decay=1e-3),
    "Adagrad": lambda ps: optim.Adagrad(ps, lr=1.0, decay=1e-4, eps=1e-7),
    "RMSprop": lambda ps: optim.RMSprop(ps, lr=0.02, alpha=0.999, decay=1e-5, eps=1e-7),
    "Adam": lambda ps: optim.Adam(ps, lr=0.05, decay=5e-7, eps=1e-7),
    "AdamW": lambda ps: optim.AdamW(ps, lr=0.05, decay=5e-7, eps=1e-7),
}


def spiral(steps: int = 1000, compiled: bool = True) -> None:
    X, y = data.spiral_data(samples=100, classes=3, seed=0)
    print(f"spiral: 3 classes x 100 points, MLP(2, [64, 3]), full batch, {steps} steps")
    for name, make in SPIRAL_OPTIMIZERS.items():
        random.seed(0)
        model = MLP(2, [64, 3], init="he")
        start = time.perf_counter()
        history = fit(model, X, y, loss="cross_entropy", optimizer=make(model.parameters()),
                      steps=steps, compiled=compiled, progress=False)
        model.eval()
        acc = accuracy([model(x) for x in X], y)
        print(f"  {name:8s} final loss {history.final_loss:.4f}  training accuracy {acc:.3f}"
              f"  ({time.perf_counter() - start:.1f} s)")


def moons(compiled: bool = False) -> None:
    X, y = data.make_moons(n_samples=100, noise=0.1, random_state=1, signed=True)
    random.seed(1337)
    model = MLP(2, [16, 16, 1])
    history = fit(model, X, y, loss="hinge", optimizer=optim.SGD(model.parameters(), lr=1.0),
                  steps=100, l2=1e-4, schedule=lambda k: 1.0 - 0.9 * k / 100,
                  compiled=compiled, progress=False)
    acc = accuracy([model(x) for x in X], y)
    print(f"moons (micrograd's demo, 100 steps): final loss {history.final_loss:.4f}, "
          f"training accuracy {acc:.3f}")


if __name__ == "__main__":
    eager = "--eager" in sys.argv
    moons(compiled=not eager)
    spiral(compiled=not eager)
