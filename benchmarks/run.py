"""All benchmarks in one run: eager engine, compiled replay, its dense blocks, nnfs listing,
live stress run (``make bench``)."""

from __future__ import annotations

import argparse
import importlib
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (CI)")
    args = parser.parse_args(argv)
    extra = ["--quick"] if args.quick else []
    status = 0
    for name in ("benchmarks.engine", "benchmarks.compiled", "benchmarks.blas", "benchmarks.nnfs",
                 "benchmarks.live_stress"):
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            print(f"{name}: skipped ({exc})")
            continue
        print()
        status |= module.main(extra) or 0
    return status


if __name__ == "__main__":
    sys.exit(main())
