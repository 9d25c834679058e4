"""A neuron's graph after backward, drawn as SVG: micrograd's trace_graph notebook, ours.

    python -m demos.trace_graph            # writes out/neuron.svg

The neuron is o = tanh(x1·w1 + x2·w2 + b) with micrograd's numbers, so o = 0.7071 and the
gradients are the ones from the zero-to-hero lecture: dL/dx1 = -1.5, dL/dw1 = 1.0, ...
"""

from __future__ import annotations

from collections.abc import Sequence

import tinygrad_value as tv

from ._common import out_dir, parse_args


def neuron() -> tuple[tv.Value, dict[str, tv.Value]]:
    """The lecture's neuron, every Value labelled; returns (o, {label: Value})."""
    x1 = tv.Value(2.0, label="x1")
    x2 = tv.Value(0.0, label="x2")
    w1 = tv.Value(-3.0, label="w1")
    w2 = tv.Value(1.0, label="w2")
    b = tv.Value(6.8813735870195432, label="b")
    x1w1 = x1 * w1
    x1w1.label = "x1*w1"
    x2w2 = x2 * w2
    x2w2.label = "x2*w2"
    x1w1x2w2 = x1w1 + x2w2
    x1w1x2w2.label = "x1*w1 + x2*w2"
    n = x1w1x2w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    nodes = [x1, x2, w1, w2, b, x1w1, x2w2, x1w1x2w2, n, o]
    return o, {v.label: v for v in nodes}


def main(argv: Sequence[str] | None = None) -> dict:
    args = parse_args("Draw a neuron's graph, after backward, as SVG.", argv)
    o, nodes = neuron()
    o.backward()
    path = out_dir(args.out) / "neuron.svg"
    tv.render_graph(o, path)  # tv.draw_dot(o) is the graphviz.Digraph; this renders it to SVG
    grads = {label: v.grad for label, v in nodes.items()}
    print(f"o = tanh(x1*w1 + x2*w2 + b) = {o.data:.4f}")
    names = ("x1", "w1", "x2", "w2", "b")
    print("grads: " + ", ".join(f"d o/d {k} = {grads[k]:.4f}" for k in names))
    print(f"wrote {path}")
    return {"svg": str(path), "output": o.data, "grads": grads}


if __name__ == "__main__":
    main()
