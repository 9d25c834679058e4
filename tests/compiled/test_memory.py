"""Compiling a deep chain stays within issue 12's memory budget (≤ 300 MB at 10⁶ nodes), checked
at a tenth of the size in a fresh interpreter so the suite's own memory does not count."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("numpy")
if not os.path.exists("/proc/self/clear_refs"):
    pytest.skip("needs Linux's /proc (VmHWM, reset through clear_refs)", allow_module_level=True)

BUDGET_MB = 300.0  # issue 12: peak resident memory compiling a 10⁶-deep chain
DEPTH = 100_000

_CHILD = """
import json, sys
import numpy, numpy.random, tinygrad_value as tv  # numpy.random: the program's generator
from tinygrad_value.compiled import replay  # everything imported before the baseline
def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # reset the high-water mark: the imports' own peak must not hide the compile's
def peak():
    return status("VmHWM")
base = status("VmRSS")
x = tv.Value(0.5)
y = x
for _ in range(int(sys.argv[1]) // 2):
    y = y + 0.25
prog = tv.compile(y)
assert len(prog) == int(sys.argv[1]) + 1
print(json.dumps({"base": base, "peak": peak()}))
"""


def _peak(depth: int) -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [
        os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
        os.environ.get("PYTHONPATH")])))
    out = subprocess.run([sys.executable, "-c", _CHILD, str(depth)], capture_output=True,
                         text=True, env=env, timeout=600, check=True)
    return json.loads(out.stdout)


def test_compiling_a_deep_chain_stays_within_the_memory_budget():
    r = _peak(DEPTH)
    grown = r["peak"] - r["base"]  # graph and compile, above the interpreter with NumPy loaded
    allowed = BUDGET_MB * DEPTH / 1_000_000
    assert grown <= allowed, (f"compiling a {DEPTH}-deep chain raised the peak by {grown:.0f} MB "
                              f"(from {r['base']:.0f} MB); the budget is {allowed:.0f} MB")
