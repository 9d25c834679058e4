"""What every benchmark shares: each measurement runs in a fresh subprocess ("worker")."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
from typing import Callable

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_worker(module: str, name: str, stdin: str = "", **kwargs) -> dict:
    """Run ``python -m module --worker name`` and return the JSON it prints last, or
    ``{"error": <last stderr line>}``. A fresh process per measurement keeps one engine's
    garbage (micrograd's closures form reference cycles) from slowing another."""
    cmd = [sys.executable, "-m", module, "--worker", name, "--kwargs", json.dumps(kwargs)]
    done = subprocess.run(cmd, input=stdin, capture_output=True, text=True, cwd=ROOT,
                          check=False)
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        return {"error": lines[-1] if lines else "failed"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def moons():
    """micrograd's demo data: make_moons(n_samples=100, noise=0.1, random_state=1), y in {-1, 1}."""
    from sklearn.datasets import make_moons

    X, y = make_moons(n_samples=100, noise=0.1, random_state=1)
    return X.tolist(), (y * 2 - 1).tolist()


def svm_loss(model, inputs, y, alpha: float = 1e-4):
    """micrograd's notebook loss: mean(relu(1 - yᵢ·scoreᵢ)) + α·Σp², written as it writes it."""
    scores = list(map(model, inputs))
    losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = alpha * sum(p * p for p in model.parameters())
    return data_loss + reg_loss


def have(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def main(argv, doc: str, workers: dict, report: Callable[[bool], str]) -> int:
    """Command line of a benchmark module: ``--quick`` for CI, or (internally) one worker."""
    parser = argparse.ArgumentParser(description=doc)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (CI)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--kwargs", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(workers[args.worker](**json.loads(args.kwargs))))
        return 0
    print(report(args.quick))
    return 0
