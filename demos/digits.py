"""Handwritten digits (scikit-learn's 8x8 set) with a scalar MLP, trained at NumPy speed.

    python -m demos.digits                 # writes out/digits_confusion.png, out/digits_errors.png

1,797 images of 64 pixels; 360 are held out for testing. An MLP(64, [64, 10]) (He init) is
trained on standardised pixels with softmax cross-entropy and Adam on mini-batches of a fixed
size. Every number is still a ``Value``; ``nn.fit(..., compiled=True)`` builds the loss graph of
one batch once, on leaf Values for the pixels and the (one-hot) labels, and replays it with
``tv.compile`` for every batch. Prints the test accuracy; draws the confusion matrix and the
misclassified digits."""

from __future__ import annotations

import random
from collections.abc import Sequence

from ._common import Timer, need_demo_deps, out_dir, parse_args, predict, pyplot


def _add_flags(parser) -> None:
    parser.add_argument("--epochs", type=int, default=None, help="passes over the training set")
    parser.add_argument("--seed", type=int, default=0, help="seed for the split and the weights")


def confusion_matrix(y_true, y_pred, classes: int = 10):
    """counts[t, p] = how many images of digit t were predicted as p."""
    import numpy as np

    counts = np.zeros((classes, classes), dtype=int)
    np.add.at(counts, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return counts


def plot_confusion(counts, path, title: str) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 5.4))
    image = ax.imshow(counts, cmap="Blues")
    fig.colorbar(image, ax=ax, fraction=0.046, label="test images")
    k = counts.shape[0]
    for t in range(k):
        for p in range(k):
            if counts[t, p]:
                dark = counts[t, p] > counts.max() / 2
                ax.text(p, t, str(counts[t, p]), ha="center", va="center", fontsize=8,
                        color="white" if dark else "black")
    ax.set_xticks(range(k))
    ax.set_yticks(range(k))
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("true digit")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def plot_errors(images, y_true, y_pred, path, limit: int = 32) -> int:
    """A grid of misclassified digits, each titled 'true → predicted'; returns how many shown."""
    import numpy as np

    all_wrong = np.flatnonzero(np.asarray(y_true) != np.asarray(y_pred))
    wrong = all_wrong[:limit]
    plt = pyplot()
    cols = 8
    rows = max(1, -(-len(wrong) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.2, rows * 1.45 + 0.4), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, i in zip(axes.ravel(), wrong):
        ax.imshow(np.asarray(images[i]).reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
        ax.set_title(f"{y_true[i]} → {y_pred[i]}", fontsize=9, color="#b00")
    fig.suptitle(f"misclassified test digits, {len(wrong)} of {len(all_wrong)} (true → predicted)"
                 if len(wrong) else "no misclassified test digits", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return len(wrong)


def main(argv: Sequence[str] | None = None) -> dict:
    args = parse_args("Train a scalar MLP on scikit-learn's 8x8 digits.", argv, _add_flags)
    need_demo_deps()  # before any NumPy import: say how to get the packages
    import numpy as np

    import nn

    hidden, epochs, batch_size, lr = (32, 3, 64, 0.01) if args.quick else (64, 12, 64, 0.01)
    epochs = args.epochs or epochs
    X, y = nn.data.load_digits()
    X_train, X_test, y_train, y_test = nn.data.train_test_split(X, y, test_size=360,
                                                                seed=args.seed)
    # Standardise each pixel with the training set's mean and spread (+0.1, since border pixels
    # barely vary): centred inputs make the first steps of Adam far more useful.
    mean = np.mean(X_train, axis=0)
    spread = np.std(X_train, axis=0) + 0.1
    train_rows = ((np.asarray(X_train) - mean) / spread).tolist()
    test_rows = ((np.asarray(X_test) - mean) / spread).tolist()
    random.seed(args.seed)
    model = nn.MLP(64, [hidden, 10], init="he", use_dot=True)
    optimizer = nn.optim.Adam(model.parameters(), lr=lr)
    print(f"digits: {len(X_train)} training and {len(X_test)} test images; "
          f"MLP(64, [{hidden}, 10]), {len(model.parameters())} parameters; Adam lr={lr}, "
          f"batches of {batch_size}, {epochs} epochs")
    with Timer() as timer:
        history = nn.fit(model, train_rows, y_train, loss="cross_entropy", optimizer=optimizer,
                         epochs=epochs, batch_size=batch_size, seed=args.seed, compiled=True)
    model.eval()
    y_pred = predict(model, test_rows).argmax(axis=1)
    y_test = np.asarray(y_test)
    test_accuracy = float((y_pred == y_test).mean())
    print(f"trained in {timer.seconds:.1f} s ({len(history)} steps, "
          f"last epoch's loss {history.epoch_loss[-1]:.4f})")
    print(f"test accuracy: {test_accuracy:.1%} ({int((y_pred == y_test).sum())}/{len(y_test)})")

    folder = out_dir(args.out)
    confusion_png = folder / "digits_confusion.png"
    errors_png = folder / "digits_errors.png"
    counts = confusion_matrix(y_test, y_pred)
    plot_confusion(counts, confusion_png, f"digits: test accuracy {test_accuracy:.1%}")
    shown = plot_errors(X_test, y_test, y_pred, errors_png)
    print(f"wrote {confusion_png}")
    print(f"wrote {errors_png} ({shown} misclassified digits)")
    return {"confusion_png": str(confusion_png), "errors_png": str(errors_png),
            "test_accuracy": test_accuracy, "train_seconds": timer.seconds,
            "steps": len(history), "epoch_loss": list(history.epoch_loss),
            "confusion": counts.tolist()}


if __name__ == "__main__":
    main()
