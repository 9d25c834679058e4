"""The neuron-level view: collapsing a graph by its labels, drawing it, a neuron's scalar graph."""

from __future__ import annotations

import random

import pytest
from conftest import need_dot, need_module

import nn
import tinygrad_value as tv
from tinygrad_value.engine.backward import topo_order
from tinygrad_value.show.neurons import ROOT, collapse, layer_of, neuron_graph, split_label


def moons_graph(samples=1, use_dot=False):
    random.seed(1337)
    model = nn.MLP(2, [16, 16, 1], use_dot=use_dot)
    rng = random.Random(0)
    X = [[rng.uniform(-1, 1), rng.uniform(-1, 1)] for _ in range(samples)]
    y = [1 if i % 2 else -1 for i in range(samples)]
    loss = tv.sum([(1 - yi * model(x)).relu() for x, yi in zip(X, y)]) / samples
    loss = loss + 1e-4 * tv.sum([p * p for p in model.parameters()])
    loss.backward()
    return model, loss


def snapshot(root):
    return [(v.data, v.grad) for v in topo_order(root)]


def test_label_paths():
    assert split_label("layer1.neuron3.w[0]") == ("layer1.neuron3", "w", (0,))
    assert split_label("layers.0.neurons.3.w.1") == ("layers.0.neurons.3", "w", (1,))
    assert split_label("0.5") is None and split_label("x") is None
    assert layer_of("layers.0.neurons.3") == "layers.0" and layer_of("layer1.neuron3") == "layer1"


@pytest.mark.parametrize("use_dot", [False, True])
@pytest.mark.parametrize("samples", [1, 3])
def test_moons_collapses_to_33_neurons(samples, use_dot):
    model, loss = moons_graph(samples, use_dot)
    before = snapshot(loss)
    ng = collapse(loss)
    assert snapshot(loss) == before  # reading never writes
    assert len(ng.units) == 33
    assert [len(names) for _, names in ng.columns] == [16, 16, 1]
    assert sorted(ng.inputs) == ["x0", "x1"]
    for li, layer in enumerate(model.layers):
        for j, n in enumerate(layer.neurons):
            unit = ng.units[f"layer{li + 1}.neuron{j}"]
            assert {id(p) for p in unit.params} == {id(p) for p in n.parameters()}
            assert len(unit.outputs) == samples
            assert unit.activation == ("ReLU" if li < 2 else "linear")
    # the gradient leaving a neuron along its edges adds up to the neuron's own gradient
    for name, unit in ng.units.items():
        out = sum(g for (a, _), g in ng.edges.items() if a == name)
        assert out == pytest.approx(unit.grad, rel=1e-12, abs=1e-15)
        assert unit.grad == pytest.approx(sum(o.grad for o in unit.outputs), abs=0)
    for key, leaves in ng.inputs.items():
        out = sum(g for (a, _), g in ng.edges.items() if a == key)
        assert out == pytest.approx(sum(v.grad for v in leaves), rel=1e-12, abs=1e-15)
    # edges go neuron to neuron, layer to the next, and the last layer to the loss
    assert ("layer1.neuron0", "layer2.neuron5") in ng.edges
    assert ("layer3.neuron0", ROOT) in ng.edges
    assert not any(a.startswith("layer1") and b.startswith("layer3") for a, b in ng.edges)


def test_neuron_graph_is_a_copy_with_the_same_numbers():
    _, loss = moons_graph()
    before = snapshot(loss)
    ng = collapse(loss)
    top = neuron_graph(ng, "layer2.neuron4")
    unit = ng.units["layer2.neuron4"]
    assert top is not unit.outputs[0]
    assert (top.data, top.grad, top.label) == (unit.outputs[0].data, unit.outputs[0].grad,
                                               unit.outputs[0].label)
    leaves = [v for v in topo_order(top) if v.is_leaf]
    labels = {v.label for v in leaves}
    assert {p.label for p in unit.params} <= labels
    assert {f"layer1.neuron{j}.out" for j in range(16)} <= labels
    assert len(leaves) == 17 + 16  # 17 parameters, 16 inputs from layer 1
    for v in leaves:
        assert all(v is not p for p in unit.params)
    copy = tv.Value(0.0) + top  # the copy's forward reproduces the original's data
    assert copy.data == unit.outputs[0].data
    assert snapshot(loss) == before
    with pytest.raises(ValueError, match="no neuron 'layer9.neuron0'"):
        neuron_graph(ng, "layer9.neuron0")


def test_unlabelled_graph_is_refused_clearly():
    x = tv.Value(2.0)
    with pytest.raises(ValueError, match="level='neuron' needs a graph built by nn modules"):
        collapse(x * x)
    with pytest.raises(ValueError, match="level must be 'value'"):
        tv.draw_dot(x * x, level="layer")


def test_draw_dot_neuron_level_digits_size():
    need_module("graphviz", "REQUIRE_DOT")
    need_dot()
    random.seed(0)
    model = nn.MLP(64, [32, 10])
    rng = random.Random(1)
    X = [[rng.random() for _ in range(64)] for _ in range(4)]
    loss = nn.losses.cross_entropy([model(x) for x in X], [0, 1, 2, 3])
    loss.backward()
    before = snapshot(loss)
    svg = tv.draw_dot(loss, level="neuron").pipe(format="svg").decode()
    assert svg.count('class="node neuron"') == 42
    assert snapshot(loss) == before
    svg = tv.draw_dot(loss, level="neuron", expand=["layer2.neuron3"]).pipe(format="svg").decode()
    assert svg.count('class="node neuron"') == 41
    assert "layer2.neuron3 (expanded)" in svg and "layer2.neuron3.w[31]" in svg


def test_render_graph_neuron_level(tmp_path):
    need_module("graphviz", "REQUIRE_DOT")
    need_dot()
    _, loss = moons_graph()
    out = tv.render_graph(loss, tmp_path / "net.svg", level="neuron")
    assert out.read_text().count('class="node neuron"') == 33
    with pytest.raises(tv.GraphTooLarge):  # the default level is still one box per Value
        tv.render_graph(loss, tmp_path / "values.svg")


@pytest.mark.parametrize("out_label", ["{}.out", "{}", ""])
def test_state_dict_label_scheme(out_label):
    """The state-dict scheme (``layers.0.neurons.3.w.1``) collapses the same way, with the
    outputs labelled ``<neuron>.out``, ``<neuron>`` or not at all."""
    random.seed(1337)
    model = nn.MLP(2, [16, 16, 1])
    for name, p in model.named_parameters():
        p.label = name
    for i, layer in enumerate(model.layers):
        for j, n in enumerate(layer.neurons):
            n._out_label = out_label.format(f"layers.{i}.neurons.{j}")
    loss = (1 - model([0.5, -0.3])).relu()
    loss.backward()
    ng = collapse(loss)
    assert len(ng.units) == 33
    assert [layer for layer, _ in ng.columns] == ["layers.0", "layers.1", "layers.2"]
    assert sorted(ng.inputs) == ["x0", "x1"]
    assert len(ng.units["layers.1.neurons.4"].outputs) == 1
    if not out_label:  # nothing marks where the last neuron ends: the loss joins it
        assert ng.units["layers.2.neurons.0"].outputs[0] is loss
    for name, unit in ng.units.items():
        if unit.outputs[0] is loss:
            continue
        out = sum(g for (a, _), g in ng.edges.items() if a == name)
        assert out == pytest.approx(unit.grad, rel=1e-12, abs=1e-15)


def test_live_sample_graph_falls_back_to_neurons():
    need_module("graphviz", "REQUIRE_DOT")
    from nn.live.render import GraphUnavailable, graph_dot_source

    _, loss = moons_graph()
    source = graph_dot_source(loss, max_nodes=400)  # built by nn: one box per neuron
    assert source.count("class=neuron") == 33
    x = tv.Value(1.0)
    big = tv.sum([x * i for i in range(500)])
    with pytest.raises(GraphUnavailable):
        graph_dot_source(big, max_nodes=400)


def test_optimizer_state_numbers_read_as_a_learner_expects():
    from tinygrad_value.show.neuron_page import _state_text

    assert _state_text(-0.0) == "0"  # a zero Adam step, not "-0"
    assert _state_text(2.5e-6) == "2.5e-06"  # v stays visible at 4 significant digits
    assert _state_text(-0.012345) == "-0.01235"


@pytest.mark.parametrize("use_dot,samples", [(False, 1), (True, 2)])
def test_columns_stack_in_neuron_order(use_dot, samples):
    """Each layer's boxes run neuron0, neuron1, ... from the top, as a learner reads them (dot's
    crossing minimisation alone stacked moons' 16 neurons as 8-15 above 0-7)."""
    need_dot()
    import subprocess

    from tinygrad_value.show.neuron_dot import draw_neurons, unit_ids

    _model, loss = moons_graph(samples, use_dot)
    ng = collapse(loss)
    ids = unit_ids(ng)
    plain = subprocess.run(["dot", "-Tplain"], input=draw_neurons(ng).source.encode(),
                           capture_output=True, check=True, timeout=60).stdout.decode()
    top = {line.split()[1]: float(line.split()[3]) for line in plain.splitlines()
           if line.startswith("node ")}  # y grows upwards in dot's plain output
    for layer, names in ng.columns:
        heights = [top[ids[name]] for name in names]
        assert heights == sorted(heights, reverse=True), (layer, names)
        assert len(set(heights)) == len(heights)
