"""Eager engine vs micrograd (PyPI 0.1.0) and PyTorch: one run, a table of ratios.

Each measurement runs in its own subprocess, so one engine's garbage (micrograd's closures
form reference cycles) never slows another's. Run: ``python -m benchmarks.engine [--quick]``.
"""

from __future__ import annotations

import gc
import json
import statistics
import sys
import time

from benchmarks._harness import have, moons, run_worker, svm_loss
from benchmarks._harness import main as harness_main

DEMO_STEPS = 6


def _value_class(engine: str):
    if engine == "micrograd":
        from micrograd.engine import Value
    else:
        from tinygrad_value import Value
    return Value


def _micrograd_nn(Value):
    """micrograd's own nn.py, running on the given Value class."""
    import micrograd.nn as mnn

    mnn.Value = Value
    return mnn


def worker_demo(engine: str, gc_on: bool, steps: int) -> dict:
    """micrograd's demo notebook step: forward over 100 moons, SVM loss + L2, backward, SGD."""
    import random

    import numpy as np

    X_list, y_list = json.loads(sys.stdin.read())
    X, y = np.array(X_list), np.array(y_list)
    Value = _value_class(engine)
    mnn = _micrograd_nn(Value)
    random.seed(1337)
    model = mnn.MLP(2, [16, 16, 1])

    def loss():
        return svm_loss(model, [list(map(Value, xrow)) for xrow in X], y)

    if not gc_on:
        gc.disable()
    times = []
    for k in range(steps):
        t0 = time.perf_counter()
        total = loss()
        model.zero_grad()
        total.backward()
        lr = 1.0 - 0.9 * k / 100
        for p in model.parameters():
            p.data -= lr * p.grad
        times.append(time.perf_counter() - t0)
    return {"seconds": statistics.median(times), "loss": total.data}


def worker_torch_demo(steps: int) -> dict:
    import torch

    torch.set_num_threads(1)
    X_list, y_list = json.loads(sys.stdin.read())
    X = torch.tensor(X_list, dtype=torch.float64)
    y = torch.tensor(y_list, dtype=torch.float64).reshape(-1, 1)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.ReLU(), torch.nn.Linear(16, 16),
                                torch.nn.ReLU(), torch.nn.Linear(16, 1)).double()
    times = []
    for k in range(max(steps, 50)):
        t0 = time.perf_counter()
        scores = model(X)
        data_loss = torch.relu(1 - y * scores).mean()
        reg = 1e-4 * sum((p * p).sum() for p in model.parameters())
        total = data_loss + reg
        model.zero_grad()
        total.backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= (1.0 - 0.9 * k / 100) * p.grad
        times.append(time.perf_counter() - t0)
    return {"seconds": statistics.median(times)}


def worker_chain(engine: str, depth: int, repeat: int) -> dict:
    """Forward + backward through a chain of ``depth`` mul-add-relu nodes."""
    Value = _value_class(engine)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        x = Value(0.5)
        y = x
        for _ in range(depth // 3):
            y = (y * 0.9 + 0.1).relu()
        y.backward()
        times.append(time.perf_counter() - t0)
    return {"seconds": statistics.median(times)}


def worker_max_depth(engine: str) -> dict:
    """Deepest chain of adds whose backward succeeds (searched up to 10⁶)."""
    Value = _value_class(engine)

    def ok(depth):
        x = Value(1.0)
        y = x
        for _ in range(depth):
            y = y + 1.0
        try:
            y.backward()
        except RecursionError:
            return False
        return x.grad == 1.0

    lo, hi = 1, 10**6
    if ok(hi):
        return {"depth": hi}
    while lo + 1 < hi:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if ok(mid) else (lo, mid)
    return {"depth": lo}


def worker_dot(engine: str, n: int, repeat: int, nary: bool) -> dict:
    """Forward + backward of a dot product of ``n`` pairs: ``tv.dot`` or a sum of products."""
    import random

    Value = _value_class(engine)
    rng = random.Random(0)
    xs = [Value(rng.uniform(-1, 1)) for _ in range(n)]
    ws = [Value(rng.uniform(-1, 1)) for _ in range(n)]
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        if nary:
            import tinygrad_value as tv

            out = tv.dot(xs, ws)
        else:
            out = sum((x * w for x, w in zip(xs, ws)), Value(0.0))
        out.backward()
        times.append(time.perf_counter() - t0)
    return {"seconds": statistics.median(times)}


def worker_bytes(engine: str, n: int) -> dict:
    """Memory per node: a chain of ``n`` multiplications, measured with tracemalloc."""
    import tracemalloc

    Value = _value_class(engine)
    x = Value(1.0001)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    y = x
    for _ in range(n):
        y = y * x
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return {"bytes_per_node": (after - before) / n}


def _through_apply():
    """Value's inlined ``+``, ``*`` and ``relu`` replaced by the plain ``apply`` route."""
    from tinygrad_value.engine import value as v
    from tinygrad_value.engine.ops import ADD, MUL, RELU

    def add(self, other):
        other = v._lift(other)
        return NotImplemented if other is None else v.apply(ADD, (self, other))

    def mul(self, other):
        other = v._lift(other)
        return NotImplemented if other is None else v.apply(MUL, (self, other))

    return {"__add__": add, "__mul__": mul, "relu": lambda self: v.apply(RELU, (self,))}


def _generic_backward(root) -> None:
    """backward() with one child access for every arity (``node.children``, ``local_grads``)."""
    from tinygrad_value.engine.backward import local_grads, start_backward

    for node in reversed(start_backward(root)):
        if node._fn is not None:
            up = node.grad
            for child, local in zip(node.children, local_grads(node)):
                child.grad += local * up


def worker_helper_cost(rounds: int) -> dict:
    """What the inlined paths save: an MLP forward (micrograd's demo loss) with ``+``, ``*``,
    ``relu`` inlined vs through ``apply`` one at a time, and backward with per-arity child
    access vs one generic access. Variants alternate in one process; medians per variant."""
    import random

    import micrograd.nn as mnn

    from tinygrad_value import Value
    from tinygrad_value.engine.backward import backward

    X, y = json.loads(sys.stdin.read())
    mnn.Value = Value
    random.seed(1337)
    model = mnn.MLP(2, [16, 16, 1])
    inputs = [list(map(Value, row)) for row in X]
    inline = {name: Value.__dict__[name] for name in ("__add__", "__mul__", "relu")}
    slow = _through_apply()
    gc.disable()
    fwd: dict = {"inline": [], **{name: [] for name in slow}}
    bwd: dict = {"per_arity": [], "generic": []}
    for _ in range(rounds):
        for variant in fwd:
            if variant != "inline":
                setattr(Value, variant, slow[variant])
            t0 = time.perf_counter()
            loss = svm_loss(model, inputs, y)
            fwd[variant].append(time.perf_counter() - t0)
            for name, fn in inline.items():
                setattr(Value, name, fn)
        for variant, run in (("per_arity", backward), ("generic", _generic_backward)):
            t0 = time.perf_counter()
            run(loss)
            bwd[variant].append(time.perf_counter() - t0)
    med = {k: statistics.median(t) for k, t in {**fwd, **bwd}.items()}
    return {"forward": med["inline"], "backward": med["per_arity"],
            "cost": {name: med[name] / med["inline"] - 1 for name in slow},
            "generic_backward_cost": med["generic"] / med["per_arity"] - 1}


WORKERS = {"demo": worker_demo, "helper_cost": worker_helper_cost,
           "torch_demo": worker_torch_demo, "chain": worker_chain,
           "max_depth": worker_max_depth, "dot": worker_dot, "bytes": worker_bytes}


def _run(name: str, stdin: str = "", **kwargs) -> dict:
    return run_worker("benchmarks.engine", name, stdin, **kwargs)


def measure(quick: bool = False) -> list[dict]:
    steps = 3 if quick else DEMO_STEPS
    data = json.dumps(moons())
    rows = []
    have_mg = have("micrograd")
    mg = {}
    if have_mg:
        mg["gc"] = _run("demo", data, engine="micrograd", gc_on=True, steps=steps)
        mg["nogc"] = _run("demo", data, engine="micrograd", gc_on=False, steps=steps)
    ours = _run("demo", data, engine="ours", gc_on=True, steps=steps)
    ours_nogc = _run("demo", data, engine="ours", gc_on=False, steps=steps)
    torch = _run("torch_demo", data, steps=steps) if have("torch") else {"error": "no torch"}
    rows.append({"workload": "micrograd demo step (MLP 2-16-16-1, 100 moons, SVM+L2, SGD)",
                 "ours": ours.get("seconds"), "micrograd": mg.get("gc", {}).get("seconds"),
                 "torch": torch.get("seconds")})
    rows.append({"workload": "  same, cyclic GC switched off in both",
                 "ours": ours_nogc.get("seconds"), "micrograd": mg.get("nogc", {}).get("seconds"),
                 "torch": None})
    depth = 300 if quick else 450
    rows.append({"workload": f"chain of {depth} ops (mul, add, relu), forward+backward",
                 "ours": _run("chain", engine="ours", depth=depth, repeat=50)["seconds"],
                 "micrograd": _run("chain", engine="micrograd", depth=depth,
                                   repeat=50).get("seconds") if have_mg else None, "torch": None})
    n = 400
    rows.append({"workload": f"dot of {n} pairs: tv.dot vs micrograd sum of products",
                 "ours": _run("dot", engine="ours", n=n, repeat=200, nary=True)["seconds"],
                 "micrograd": _run("dot", engine="micrograd", n=n, repeat=200,
                                   nary=False).get("seconds") if have_mg else None, "torch": None})
    rows.append({"workload": f"  sum of {n} products on both",
                 "ours": _run("dot", engine="ours", n=n, repeat=200, nary=False)["seconds"],
                 "micrograd": _run("dot", engine="micrograd", n=n, repeat=200,
                                   nary=False).get("seconds") if have_mg else None, "torch": None})
    cost = _run("helper_cost", data, rounds=8 if quick else 20)
    extra = {
        "helper_cost": cost,
        "bytes_ours": _run("bytes", engine="ours", n=100_000)["bytes_per_node"],
        "bytes_micrograd": _run("bytes", engine="micrograd", n=100_000).get("bytes_per_node")
        if have_mg else None,
        "depth_ours": _run("max_depth", engine="ours")["depth"],
        "depth_micrograd": _run("max_depth", engine="micrograd").get("depth") if have_mg else None,
    }
    return rows, extra


def _ms(x):
    return "n/a" if x is None else f"{x * 1e3:.2f} ms"


def _ratio(a, b):
    return "n/a" if a is None or b is None else f"{b / a:.1f}x"


def format_table(rows, extra) -> str:
    lines = ["| workload | tinygrad-value | micrograd | speed-up vs micrograd | PyTorch "
             "| ours / PyTorch |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        ours, theirs, torch = r["ours"], r["micrograd"], r["torch"]
        vs_torch = "n/a" if torch is None or ours is None else f"{ours / torch:.0f}x slower"
        lines.append(f"| {r['workload']} | {_ms(ours)} | {_ms(theirs)} | {_ratio(ours, theirs)} | "
                     f"{_ms(torch)} | {vs_torch} |")
    bo, bm = extra["bytes_ours"], extra["bytes_micrograd"]
    mg_bytes = "n/a" if bm is None else f"{bm:.0f} B"
    smaller = "n/a" if bm is None else f"{bm / bo:.1f}x smaller"
    lines.append(f"| bytes per node (chain of muls, tracemalloc) | {bo:.0f} B | {mg_bytes} | "
                 f"{smaller} | | |")
    dm = extra["depth_micrograd"]
    mg_depth = "n/a" if dm is None else f"{dm:,}"
    lines.append(f"| deepest chain whose backward works | {extra['depth_ours']:,} | {mg_depth} "
                 "| | | |")
    cost = extra["helper_cost"]
    if "error" not in cost:
        lines.append("")
        lines.append(f"Inlined paths (MLP forward {_ms(cost['forward'])}, its backward "
                     f"{_ms(cost['backward'])}; GC off): through value.apply instead, "
                     + ", ".join(f"{name} costs {100 * c:+.1f}%"
                                 for name, c in cost["cost"].items())
                     + " of the forward; one generic child access costs "
                     f"{100 * cost['generic_backward_cost']:+.1f}% of the backward")
    return "\n".join(lines)


def report(quick: bool) -> str:
    rows, extra = measure(quick)
    return ("Eager engine (median step time; each engine in its own process)\n"
            + format_table(rows, extra))


def main(argv=None) -> int:
    return harness_main(argv, __doc__, WORKERS, report)


if __name__ == "__main__":
    sys.exit(main())
