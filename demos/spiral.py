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
from collections.abc import Sequence

import tinygrad_value as tv

from ._common import (
    Predictor,
    Timer,
    need_demo_deps,
    out_dir,
    parse_args,
    plot_decision_boundary,
    pyplot,
)

# name -> (optimizer class name in nn.optim, keyword arguments); the nnfs book's settings.
OPTIMIZERS = {
    "SGD": ("SGD", {"lr": 1.0}),
    "SGD+momentum+decay": ("SGD", {"lr": 1.0, "momentum": 0.9, "decay": 1e-3}),
    "Adagrad": ("Adagrad", {"lr": 1.0, "decay": 1e-4}),
    "RMSprop": ("RMSprop", {"lr": 0.02, "alpha": 0.999, "decay": 1e-5}),
    "Adam": ("Adam", {"lr": 0.05, "decay": 5e-7}),
}


def _add_flags(parser) -> None:
    parser.add_argument("--steps", type=int, default=None, help="training steps per optimizer")
    parser.add_argument("--seed", type=int, default=0, help="seed for data and weights")


def train(step, optimizer, steps: int) -> list[float]:
    """``steps`` full-batch updates; ``step()`` replays forward and backward, filling the grads.
    Returns the loss before each update."""
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        losses.append(step())
        optimizer.step()
    return losses


def main(argv: Sequence[str] | None = None) -> dict:
    args = parse_args("Compare five optimizers on the nnfs spiral.", argv, _add_flags)
    need_demo_deps()  # before any NumPy import: say how to get the packages
    import numpy as np

    import nn

    samples, hidden, steps, resolution = (30, 32, 300, 50) if args.quick else (100, 64, 1000, 100)
    steps = args.steps or steps
    X, y = nn.data.spiral_data(samples=samples, classes=3, seed=args.seed)
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=int)

    # One network and one loss graph, built and compiled once. Each optimizer starts from the
    # same initial weights, written back into the same parameter Values.
    random.seed(args.seed)
    model = nn.MLP(2, [hidden, 3], use_dot=True)  # one dot node per neuron: a smaller graph
    params = model.parameters()
    initial = [p.data for p in params]
    inputs = [[tv.Value(a), tv.Value(b)] for a, b in X]
    loss = nn.losses.cross_entropy([model(row) for row in inputs], [int(c) for c in y])
    step = tv.compile(loss)
    predictor = Predictor(model, nin=2)  # the model's logits on many points (boundaries)

    plt = pyplot()
    fig = plt.figure(figsize=(18, 7.5))
    grid = fig.add_gridspec(2, len(OPTIMIZERS), height_ratios=[1.0, 1.1])
    curves = fig.add_subplot(grid[0, :])
    results = {}
    with Timer() as total:
        for i, (name, (cls_name, kwargs)) in enumerate(OPTIMIZERS.items()):
            for p, w in zip(params, initial):
                p.data, p.grad = w, 0.0
            optimizer = getattr(nn.optim, cls_name)(params, **kwargs)
            with Timer() as timer:
                losses = train(step, optimizer, steps)
            final_loss = step()  # the loss at the trained weights
            optimizer.zero_grad()
            accuracy = float((predictor(X).argmax(axis=1) == y).mean())
            results[name] = {"initial_loss": losses[0], "loss": final_loss, "accuracy": accuracy,
                             "seconds": timer.seconds}
            print(f"{name:>20}: loss {final_loss:.4f}  accuracy {accuracy:6.1%}  "
                  f"({steps} steps, {timer.seconds:.1f} s)")
            curves.plot(losses, label=f"{name} (final {final_loss:.3f}, acc {accuracy:.0%})")
            plot_decision_boundary(fig.add_subplot(grid[1, i]), predictor, X, y,
                                   resolution=resolution,
                                   title=f"{name}\nloss {final_loss:.3f}, accuracy {accuracy:.1%}")
    curves.set_yscale("log")
    curves.set_xlabel("step")
    curves.set_ylabel("cross-entropy loss")
    curves.set_title(f"spiral: 3 classes x {samples} points, MLP(2, [{hidden}, 3]), "
                     f"same initial weights, {steps} full-batch steps each")
    curves.legend(fontsize=9)
    fig.tight_layout()
    path = out_dir(args.out) / "spiral.png"
    fig.savefig(path, dpi=80)
    plt.close(fig)
    print(f"wrote {path} ({total.seconds:.1f} s for all five)")
    return {"png": str(path), "steps": steps, "samples": samples, "results": results}


if __name__ == "__main__":
    main()
