"""The interactive backprop page for a neuron with a tanh: step forward, then backward.

    python -m demos.stepper                # writes out/backprop.html, prints its file:// URL

One self-contained HTML file (no server, no network): Prev/Next, the arrow keys or the slider
walk through the forward pass and then each backward step, showing the chain-rule product
upstream × local = contribution at the highlighted node.
"""

from __future__ import annotations

from collections.abc import Sequence

import tinygrad_value as tv

from ._common import file_url, out_dir, parse_args
from .trace_graph import neuron


def main(argv: Sequence[str] | None = None) -> dict:
    args = parse_args("Write the step-by-step backprop page for a tanh neuron.", argv)
    o, nodes = neuron()
    path = out_dir(args.out) / "backprop.html"
    page = tv.backprop_html(o, path, title="A neuron: o = tanh(x1*w1 + x2*w2 + b)")
    o.backward()  # the page shows the pass without running it on our graph; the grads we return
    steps = sum(1 for v in tv.topo_order(o) if v.children)
    print(f"wrote {path}: {len(nodes)} values, {steps} backward steps, {page.frames} frames")
    print(f"open it in a browser:  {file_url(path)}")
    print("(Next/Prev buttons, the arrow keys or the slider step through forward, then backward)")
    return {"html": str(path), "url": file_url(path), "steps": steps, "frames": page.frames,
            "grads": {label: v.grad for label, v in nodes.items()}}


if __name__ == "__main__":
    main()
