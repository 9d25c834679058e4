"""Two checkouts side by side: the engine and compiled workloads of each, run interleaved.

``python -m benchmarks.compare_trees OLD NEW [--rounds 4]`` runs, in every round and for each
tree in turn (the order flips each round), micrograd's demo step on that tree's ``Value``
(GC on and off), micrograd as shipped (GC on and off), the compiled demo step and the compiled
8x8-digits run. Each measurement is that tree's own worker (``benchmarks.engine`` /
``benchmarks.compiled``), in a fresh process whose working directory and ``PYTHONPATH`` are
that tree, so each side imports only its own code. Interleaving spreads a busy moment of the
machine over both sides; the table gives per-tree medians over the rounds, and ratios taken
within a round before the median.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

from benchmarks._harness import moons

# (key, module, worker, kwargs, stdin needed): the same workloads as the two benchmark modules
JOBS = [
    ("ours_gc", "benchmarks.engine", "demo", {"engine": "ours", "gc_on": True, "steps": 6}, True),
    ("ours_nogc", "benchmarks.engine", "demo", {"engine": "ours", "gc_on": False, "steps": 6},
     True),
    ("mg_gc", "benchmarks.engine", "demo", {"engine": "micrograd", "gc_on": True, "steps": 6},
     True),
    ("mg_nogc", "benchmarks.engine", "demo", {"engine": "micrograd", "gc_on": False, "steps": 6},
     True),
    ("compiled", "benchmarks.compiled", "ours", {"steps": 200}, False),
    ("digits", "benchmarks.compiled", "digits", {"epochs": 20, "hidden": 64, "batch_size": 64,
                                                 "lr": 0.01, "decay": 0.0}, False),
]


def run_in(tree: str, module: str, worker: str, kwargs: dict, stdin: str) -> dict:
    """One worker of ``tree``'s benchmark module, importing only ``tree``'s code."""
    env = dict(os.environ, PYTHONPATH=tree)
    cmd = [sys.executable, "-m", module, "--worker", worker, "--kwargs", json.dumps(kwargs)]
    done = subprocess.run(cmd, input=stdin, capture_output=True, text=True, cwd=tree, env=env,
                          check=False)
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        raise RuntimeError(f"{tree}: {module} {worker} failed: {lines[-1] if lines else '?'}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(trees: list, rounds: int) -> dict:
    data = json.dumps(moons())
    runs = {t: [] for t in trees}
    for r in range(rounds):
        for tree in (trees if r % 2 == 0 else trees[::-1]):
            one = {key: run_in(tree, module, worker, kw, data if needs else "")
                   for key, module, worker, kw, needs in JOBS}
            runs[tree].append(one)
            print(f"round {r + 1}/{rounds} {tree}: ours {one['ours_gc']['seconds'] * 1e3:.1f} ms,"
                  f" micrograd {one['mg_gc']['seconds'] * 1e3:.1f} ms, compiled "
                  f"{one['compiled']['seconds'] * 1e3:.2f} ms", file=sys.stderr, flush=True)
    return runs


def summary(runs: list) -> dict:
    def med(f):
        return statistics.median(f(one) for one in runs)

    return {
        "ours_gc": med(lambda o: o["ours_gc"]["seconds"]),
        "mg_gc": med(lambda o: o["mg_gc"]["seconds"]),
        "ratio_gc": med(lambda o: o["mg_gc"]["seconds"] / o["ours_gc"]["seconds"]),
        "ours_nogc": med(lambda o: o["ours_nogc"]["seconds"]),
        "mg_nogc": med(lambda o: o["mg_nogc"]["seconds"]),
        "ratio_nogc": med(lambda o: o["mg_nogc"]["seconds"] / o["ours_nogc"]["seconds"]),
        "compiled": med(lambda o: o["compiled"]["seconds"]),
        "compiled_vs_mg": med(lambda o: o["mg_gc"]["seconds"] / o["compiled"]["seconds"]),
        "digits_wall": med(lambda o: o["digits"]["wall"]),
        "digits_step": med(lambda o: o["digits"]["train"] / o["digits"]["steps"]),
        "digits_acc": med(lambda o: o["digits"]["accuracy"]),
        "replay_equals_eager": all(o["compiled"]["loss_matches_eager"] for o in runs),
    }


def table(trees: list, runs: dict) -> str:
    s = [summary(runs[t]) for t in trees]
    rows = [
        ("micrograd demo step on our Value, GC on", lambda x: f"{x['ours_gc'] * 1e3:.1f} ms"),
        ("micrograd as shipped, GC on", lambda x: f"{x['mg_gc'] * 1e3:.1f} ms"),
        ("**speed-up vs micrograd** (keep >= 10x)", lambda x: f"**{x['ratio_gc']:.1f}x**"),
        ("same step, GC off in both: ours", lambda x: f"{x['ours_nogc'] * 1e3:.1f} ms"),
        ("  micrograd, GC off", lambda x: f"{x['mg_nogc'] * 1e3:.1f} ms"),
        ("**speed-up, GC off** (keep >= 2x)", lambda x: f"**{x['ratio_nogc']:.1f}x**"),
        ("compiled demo step (`tv.compile`)", lambda x: f"{x['compiled'] * 1e3:.2f} ms"),
        ("  compiled vs micrograd", lambda x: f"{x['compiled_vs_mg']:.0f}x"),
        ("8x8 digits, compiled: wall time", lambda x: f"{x['digits_wall']:.1f} s"),
        ("  per training step", lambda x: f"{x['digits_step'] * 1e3:.1f} ms"),
        ("  test accuracy", lambda x: f"{x['digits_acc'] * 100:.1f}%"),
    ]
    head = "| workload | " + " | ".join(os.path.basename(t.rstrip("/")) for t in trees) + " |"
    lines = [head, "|---" * (len(trees) + 1) + "|"]
    lines += [f"| {name} | " + " | ".join(f(x) for x in s) + " |" for name, f in rows]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("trees", nargs=2, help="two checkouts, e.g. a worktree of the old commit "
                                               "and this one")
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args(argv)
    trees = [os.path.abspath(t) for t in args.trees]
    runs = measure(trees, args.rounds)
    print(table(trees, runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
