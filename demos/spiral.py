"""Five optimizers on the nnfs spiral, side by side: loss curves and decision boundaries.

    python -m demos.spiral                 # writes out/spiral.png, prints loss and accuracy

Three classes of 100 points each, an MLP(2, [64, 3]) (ReLU hidden layer, linear logits) and
softmax cross-entropy, as in the "Neural Networks from Scratch" book. Every optimizer starts
from the same weights (same seed) and takes the same number of full-batch steps, with the
book's hyperparameters. The loss graph is built once and replayed with ``tv.compile``: each
step re-reads the weights, recomputes forward and backward with NumPy, and fills the grads.
"""

from __future__ import annotations

import random
from typing import Optional, Sequence

import tinygrad_value as tv

from ._common import Timer, out_dir, parse_args, plot_decision_boundary, predict, pyplot

# name -> (optimizer class name in nn.optim, keyword arguments); the nnfs book's settings.
OPTIMIZERS = {
    "SGD": ("SGD", dict(lr=1.0)),
    "SGD+momentum+decay": ("SGD", dict(lr=1.0, momentum=0.9, decay=1e-3)),
    "Adagrad": ("Adagrad", dict(lr=1.0, decay=1e-4)),
    "RMSprop": ("RMSprop", dict(lr=0.02, alpha=0.999, decay=1e-5)),
    "Adam": ("Adam", dict(lr=0.05, decay=5e-7)),
}


def _add_flags(parser) -> None:
    parser.add_argument("--steps", type=int, default=None, help="training steps per optimizer")
    parser.add_argument("--seed", type=int, default=0, help="seed for data and weights")


def train_one(name: str, X, y, hidden: int, steps: int, seed: int) -> dict:
    """Train a fresh MLP(2, [hidden, 3]) with optimizer ``name``; return its model and curve."""
    import nn

    cls_name, kwargs = OPTIMIZERS[name]
    random.seed(seed)  # the same initial weights for every optimizer
    model = nn.MLP(2, [hidden, 3])
    inputs = [[tv.Value(float(a)), tv.Value(float(b))] for a, b in X]
    logits = [model(row) for row in inputs]
    loss = nn.losses.cross_entropy(logits, [int(c) for c in y])
    params = model.parameters()
    optimizer = getattr(nn.optim, cls_name)(params, **kwargs)
    step = tv.compile(loss) if hasattr(tv, "compile") else None

    losses = []
    with Timer() as timer:
        for _ in range(steps):
            optimizer.zero_grad()
            if step is not None:
                losses.append(step())  # forward + backward replayed, grads added into params
            else:  # eager fallback: rebuild the graph every step
                logits = [model(row) for row in inputs]
                loss = nn.losses.cross_entropy(logits, [int(c) for c in y])
                loss.backward()
                losses.append(loss.data)
            optimizer.step()
    scores = predict(model, X)
    accuracy = float((scores.argmax(axis=1) == y).mean())
    # the loss at the final weights (losses[-1] is the loss before the last step)
    final_loss = step() if step is not None else losses[-1]
    optimizer.zero_grad()
    return {"model": model, "losses": losses, "initial_loss": float(losses[0]),
            "loss": float(final_loss), "accuracy": accuracy,
            "seconds": timer.seconds}


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args("Compare five optimizers on the nnfs spiral.", argv, _add_flags)
    import numpy as np

    import nn

    samples, hidden, steps = (30, 16, 60) if args.quick else (100, 64, 2000)
    steps = args.steps or steps
    random.seed(args.seed)
    np.random.seed(args.seed)
    X, y = nn.data.spiral_data(samples=samples, classes=3)
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=int)

    results = {}
    for name in OPTIMIZERS:
        results[name] = r = train_one(name, X, y, hidden, steps, args.seed)
        print(f"{name:>20}: loss {r['loss']:.4f}  accuracy {r['accuracy']:6.1%}  "
              f"({steps} steps, {r['seconds']:.1f} s)")

    plt = pyplot()
    fig = plt.figure(figsize=(18, 7.5))
    grid = fig.add_gridspec(2, len(OPTIMIZERS), height_ratios=[1.0, 1.1])
    curves = fig.add_subplot(grid[0, :])
    for name, r in results.items():
        curves.plot(r["losses"], label=f"{name} (final {r['loss']:.3f}, acc {r['accuracy']:.0%})")
    curves.set_yscale("log")
    curves.set_xlabel("step")
    curves.set_ylabel("cross-entropy loss")
    curves.set_title(f"spiral: 3 classes x {samples} points, MLP(2, [{hidden}, 3]), "
                     f"same initial weights, {steps} full-batch steps")
    curves.legend(fontsize=9)
    for i, (name, r) in enumerate(results.items()):
        ax = fig.add_subplot(grid[1, i])
        plot_decision_boundary(ax, r["model"], X, y, resolution=60 if args.quick else 120,
                               title=f"{name}\naccuracy {r['accuracy']:.1%}")
    fig.tight_layout()
    path = out_dir(args.out) / "spiral.png"
    fig.savefig(path, dpi=80)
    plt.close(fig)
    print(f"wrote {path}")
    return {"png": str(path), "steps": steps, "samples": samples,
            "results": {name: {k: r[k] for k in ("initial_loss", "loss", "accuracy", "seconds")}
                        for name, r in results.items()}}


if __name__ == "__main__":
    main()
