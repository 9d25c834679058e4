"""What ``make demo`` runs: train on moons, draw a neuron's graph, write the backprop page.

    python -m demos.main                   # everything into out/, then the paths are printed

1. ``demos.moons``: micrograd's demo (MLP(2, [16, 16, 1]), max-margin loss + L2, 100 steps),
   trained with the compiled replay in seconds; its decision boundary as a PNG.
2. ``demos.trace_graph``: the graph of o = tanh(x1·w1 + x2·w2 + b) after backward, as SVG.
3. ``demos.stepper``: one HTML page that steps through that neuron's forward and backward pass.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from ._common import Timer, file_url, parse_args


def _files(result: dict) -> list[str]:
    """The output files a demo reported: every value that names an existing file."""
    found = []
    for value in result.values():
        if isinstance(value, (str, os.PathLike)) and os.path.isfile(value):
            found.append(os.fspath(value))
    return found


def main(argv: Sequence[str] | None = None) -> dict:
    args = parse_args("Train on moons, draw a neuron's graph, write the backprop page.", argv)
    from . import moons, stepper, trace_graph

    common = ["--out", args.out] + (["--quick"] if args.quick else [])
    results = {}
    with Timer() as timer:
        for name, demo in (("moons", moons), ("trace_graph", trace_graph), ("stepper", stepper)):
            print(f"--- {name} ---")
            results[name] = demo.main(common)
    files = [path for result in results.values() for path in _files(result)]
    print(f"--- done in {timer.seconds:.1f} s; wrote ---")
    for path in files:
        print(f"  {path}")
    print(f"open the backprop stepper:  {file_url(results['stepper']['html'])}")
    return {"files": files, "seconds": timer.seconds, **results}


if __name__ == "__main__":
    main()
