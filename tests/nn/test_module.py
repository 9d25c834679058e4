"""nn.Module, Neuron, Layer, MLP: micrograd compatibility, labels, modes, inits, state dicts."""

from __future__ import annotations

import math
import random

import pytest

import nn
import tinygrad_value as tv


def test_mlp_matches_micrograd_bit_for_bit():
    micrograd_nn = pytest.importorskip("micrograd.nn")
    from micrograd.engine import Value as MValue

    random.seed(1337)
    ours = nn.MLP(2, [16, 16, 1])
    random.seed(1337)
    theirs = micrograd_nn.MLP(2, [16, 16, 1])
    assert [p.data for p in ours.parameters()] == [p.data for p in theirs.parameters()]
    assert repr(ours) == repr(theirs)
    for x in ([0.5, -1.25], [2.0, 0.3], [-1.0, -0.7]):
        out = ours([tv.Value(v) for v in x])
        ref = theirs([MValue(v) for v in x])
        assert out.data == ref.data  # same sum-of-products order: identical floats
        ours.zero_grad()
        theirs.zero_grad()
        out.backward()
        ref.backward()
        assert [p.grad for p in ours.parameters()] == pytest.approx(
            [p.grad for p in theirs.parameters()], rel=1e-12, abs=1e-15)


def test_seeded_weights_follow_micrograd_draw_order():
    random.seed(7)
    n = nn.Neuron(3)
    random.seed(7)
    expected = [random.uniform(-1, 1) for _ in range(3)]
    assert [w.data for w in n.w] == expected
    assert n.b.data == 0.0


def test_neuron_is_relu_of_affine_and_linear_when_asked():
    n = nn.Neuron(2)
    n.w[0].data, n.w[1].data, n.b.data = 2.0, -1.0, 0.5
    assert n([1.0, 3.0]).data == 0.0  # relu(0.5 + 2 - 3) = relu(-0.5)
    assert nn.Neuron(2, nonlin=False).nonlin is False
    lin = nn.Neuron(2, nonlin=False)
    lin.w[0].data, lin.w[1].data = 2.0, -1.0
    assert lin([1.0, 3.0]).data == -1.0
    assert repr(lin) == "LinearNeuron(2)" and repr(n) == "ReLUNeuron(2)"


@pytest.mark.parametrize("activation,fn", [
    ("tanh", math.tanh), ("sigmoid", lambda z: 1 / (1 + math.exp(-z))),
    ("linear", lambda z: z), ("relu", lambda z: max(z, 0.0))])
def test_activation_overrides_nonlin(activation, fn):
    n = nn.Neuron(2, nonlin=False, activation=activation)
    n.w[0].data, n.w[1].data, n.b.data = 0.3, -0.2, 0.1
    z = 0.1 + 0.3 * 1.5 - 0.2 * -2.0
    assert n([1.5, -2.0]).data == pytest.approx(fn(z), rel=1e-15)
    assert n.activation == activation


def test_bad_arguments_raise_readable_errors():
    with pytest.raises(ValueError, match="activation 'swish'"):
        nn.Neuron(2, activation="swish")
    with pytest.raises(ValueError, match="init 'gauss'"):
        nn.MLP(2, [3], init="gauss")
    with pytest.raises(ValueError, match="nin >= 1"):
        nn.Neuron(0)
    with pytest.raises(ValueError, match="expects 2 inputs, got 3"):
        nn.Neuron(2)([1.0, 2.0, 3.0])


@pytest.mark.parametrize("init,bound", [("xavier", math.sqrt(6 / (50 + 40))),
                                        ("he", math.sqrt(6 / 50)), ("uniform", 1.0)])
def test_inits_draw_within_their_bounds(init, bound):
    random.seed(0)
    layer = nn.Layer(50, 40, init=init)
    ws = [w.data for n in layer.neurons for w in n.w]
    assert max(abs(w) for w in ws) <= bound
    assert max(abs(w) for w in ws) > 0.95 * bound  # 2000 draws reach the edge
    assert all(n.b.data == 0.0 for n in layer.neurons)


def test_use_dot_gives_the_same_network_function():
    random.seed(3)
    a = nn.MLP(3, [4, 2])
    random.seed(3)
    b = nn.MLP(3, [4, 2], use_dot=True)
    x = [0.2, -0.4, 0.9]
    for oa, ob in zip(a(x), b(x)):
        assert ob.data == pytest.approx(oa.data, rel=1e-13)
    assert b(x)[0].children[1].op == "dot"


def test_layer_returns_a_value_for_one_output_else_a_list():
    assert isinstance(nn.Layer(2, 1)([1.0, 2.0]), tv.Value)
    out = nn.Layer(2, 3)([1.0, 2.0])
    assert isinstance(out, list) and len(out) == 3


def test_mlp_hidden_relu_last_linear():
    m = nn.MLP(2, [3, 4, 2])
    assert [layer.activation for layer in m.layers] == ["relu", "relu", "linear"]
    m = nn.MLP(2, [3, 1], activation="tanh", output_activation="sigmoid")
    assert [layer.activation for layer in m.layers] == ["tanh", "sigmoid"]


def test_parameter_and_output_labels():
    m = nn.MLP(2, [4, 1])
    assert m.layers[0].neurons[3].w[0].label == "layer1.neuron3.w[0]"
    assert m.layers[0].neurons[3].b.label == "layer1.neuron3.b"
    assert m.layers[1].neurons[0].w[2].label == "layer2.neuron0.w[2]"
    hidden = m.layers[0]([1.0, 2.0])
    assert [h.label for h in hidden] == [f"layer1.neuron{j}.out" for j in range(4)]
    assert m([1.0, 2.0]).label == "layer2.neuron0.out"
    assert nn.Neuron(2)([1.0, 1.0]).label == "neuron.out"
    assert nn.Neuron(2).w[1].label == "neuron.w[1]"
    assert nn.Layer(2, 2).neurons[1].b.label == "layer.neuron1.b"
    assert len({p.label for p in m.parameters()}) == len(m.parameters())


def test_state_dict_names_and_parameter_order():
    m = nn.MLP(2, [4, 3, 1])
    sd = m.state_dict()
    assert list(sd.values()) == [p.data for p in m.parameters()]
    assert len(sd) == (2 + 1) * 4 + (4 + 1) * 3 + (3 + 1)
    assert sd["layers.0.neurons.3.w.1"] == m.layers[0].neurons[3].w[1].data
    assert sd["layers.2.neurons.0.b"] == m.layers[2].neurons[0].b.data
    assert list(nn.Neuron(2).state_dict()) == ["w.0", "w.1", "b"]


def test_load_state_dict_round_trip_and_validation_leaves_model_unchanged():
    random.seed(1)
    a, b = nn.MLP(2, [3, 1]), nn.MLP(2, [3, 1])
    b.load_state_dict(a.state_dict())
    assert b.state_dict() == a.state_dict()
    before = b.state_dict()
    bad = dict(a.state_dict())
    bad["layers.1.neurons.0.b"] = "oops"
    with pytest.raises(nn.StateDictError, match="'layers.1.neurons.0.b': expected a number"):
        b.load_state_dict({k: v + 1.0 if isinstance(v, float) else v for k, v in bad.items()})
    assert b.state_dict() == before  # nothing assigned, even the keys before the bad one
    missing = dict(a.state_dict())
    del missing["layers.0.neurons.2.w.1"]
    missing["layers.0.neurons.9.w.0"] = 1.0
    with pytest.raises(nn.StateDictError) as err:
        b.load_state_dict(missing)
    assert "missing 1 key(s): 'layers.0.neurons.2.w.1'" in str(err.value)
    assert "unexpected 1 key(s): 'layers.0.neurons.9.w.0'" in str(err.value)
    assert b.state_dict() == before


def test_zero_grad_clears_every_parameter():
    m = nn.MLP(2, [3, 1])
    m([1.0, -2.0]).backward()
    assert any(p.grad != 0 for p in m.parameters())
    m.zero_grad()
    assert all(p.grad == 0.0 for p in m.parameters())


class _Net(nn.Module):
    """A user-defined module: an MLP and a Dropout, named explicitly."""

    def __init__(self):
        self.body = nn.MLP(2, [4])
        self.drop = nn.Dropout(0.5)
        self.head = nn.Layer(4, 1, nonlin=False)

    def named_children(self):
        return [("body", self.body), ("drop", self.drop), ("head", self.head)]

    def __call__(self, x):
        return self.head(self.drop(self.body(x)))


def test_train_eval_propagate_to_submodules():
    net = _Net()
    modules = [net, net.body, net.drop, net.head, net.body.layers[0], net.head.neurons[0]]
    assert all(m.training for m in modules)  # new modules train
    net.eval()
    assert not any(m.training for m in modules)
    net.train()
    assert all(m.training for m in modules)


def test_custom_module_parameters_and_state_dict():
    net = _Net()
    names = list(net.state_dict())
    assert names[0] == "body.layers.0.neurons.0.w.0" and names[-1] == "head.neurons.0.b"
    assert len(net.parameters()) == 4 * 3 + 5
    net.eval()
    x = [0.3, -0.1]
    assert net(x).data == net(x).data  # deterministic without dropout


# --- parameters from one walk of the attributes -------------------------------------------


class _Custom(nn.Module):
    """No overrides: Values, a Module, a list, a tuple and a dict as attributes."""

    def __init__(self):
        self.scale = tv.Value(2.0)
        self.body = nn.Layer(2, 2)
        self.extra = [tv.Value(1.0), nn.Neuron(2)]
        self.pair = (tv.Value(3.0),)
        self.heads = {"a": nn.Neuron(2, nonlin=False)}
        self.again = self.scale  # the same Value twice: listed once
        self.shared = self.body  # the same Module twice: listed once
        self._cache = tv.Value(9.0)  # private: skipped
        self.note = "text"


def test_custom_module_finds_its_parameters_without_overrides():
    net = _Custom()
    names = [name for name, _ in net.named_parameters()]
    # as in PyTorch: a module's own Values first, then each submodule's, in definition order
    assert names == (["scale", "extra.0", "pair.0"]
                     + [f"body.neurons.{j}.{k}" for j in range(2) for k in ("w.0", "w.1", "b")]
                     + ["extra.1.w.0", "extra.1.w.1", "extra.1.b",
                        "heads.a.w.0", "heads.a.w.1", "heads.a.b"])
    params = net.parameters()
    assert len({id(p) for p in params}) == len(params) == 1 + 6 + 1 + 3 + 1 + 3
    assert not any(p is net._cache for p in params)
    net.eval()
    assert not net.heads["a"].training and not net.extra[1].training


def test_optimizer_accepts_a_module_and_explains_one_without_parameters():
    net = _Custom()
    assert nn.optim.SGD(net, lr=0.1).params == net.parameters()

    class Empty(nn.Module):
        def __init__(self):
            self._w = tv.Value(1.0)

    with pytest.raises(ValueError, match="Empty has no parameters.*attributes.*'_' are skipped"):
        nn.optim.SGD(Empty())
    with pytest.raises(ValueError, match="empty parameter list.*attributes"):
        nn.optim.Adam(Empty().parameters())


def test_optimizer_argument_mistakes_name_the_fix():
    model = nn.MLP(2, [3, 1])
    with pytest.raises(TypeError, match=r"call it: Adam\(model.parameters\(\)"):
        nn.optim.Adam(model.parameters, lr=0.01)
    with pytest.raises(TypeError, match=r"pass a list of them: SGD\(\[v\]"):
        nn.optim.SGD(model.parameters()[0])
    p = model.parameters()
    with pytest.raises(ValueError, match="parameter 2 is the same Value as parameter 0"):
        nn.optim.SGD([p[0], p[1], p[0]])


def test_model_call_and_construction_mistakes_name_the_fix():
    with pytest.raises(TypeError, match=r"nouts is the list of layer sizes.*MLP\(2, \[3\]\)"):
        nn.MLP(2, 3)
    model = nn.MLP(2, [3, 1])
    with pytest.raises(TypeError, match=r"one input row.*float 5.0.*model\(\[5.0\]\)"):
        model(5.0)
    with pytest.raises(TypeError, match=r"batch of 3 rows.*nn.predict"):
        model([[1.0, 2.0]] * 3)


def test_labels_and_state_dict_keys_follow_one_mapping():
    from nn.module import label_of

    for model in (nn.MLP(2, [4, 3, 1]), nn.Sequential(nn.Layer(2, 3), nn.Dropout(0.2),
                                                     nn.Layer(3, 1))):
        for key, p in model.named_parameters():
            assert p.label == label_of(key)
    assert label_of("layers.0.neurons.3.w.1") == "layer1.neuron3.w[1]"


def test_sequential_chains_modules_and_matches_the_mlp():
    random.seed(4)
    mlp = nn.MLP(2, [3, 1])
    random.seed(4)
    seq = nn.Sequential(nn.Layer(2, 3), nn.Dropout(0.5), nn.Layer(3, 1, nonlin=False))
    plain = nn.Sequential(seq[0], seq[2])
    assert list(plain.state_dict()) == list(mlp.state_dict())  # the MLP's keys
    assert list(seq.state_dict().values()) == list(mlp.state_dict().values())
    assert "layers.2.neurons.0.b" in seq.state_dict()  # the Dropout holds position 1
    seq.eval()
    x = [0.4, -0.7]
    assert seq(x).data == mlp(x).data
    seq.train()
    random.seed(0)
    dropped = [seq(x).data for _ in range(20)]
    assert len(set(dropped)) > 1  # dropout active in train mode
    with pytest.raises(TypeError, match="item 1 is a int"):
        nn.Sequential(nn.Layer(2, 3), 5)


def test_mlp_dropout_after_hidden_layers_only():
    random.seed(5)
    plain = nn.MLP(2, [8, 8, 1])
    random.seed(5)
    drop = nn.MLP(2, [8, 8, 1], dropout=0.5)
    assert list(drop.state_dict()) == list(plain.state_dict())
    assert [d.p for d in drop.dropouts] == [0.5, 0.5]
    drop.eval()
    assert drop([0.3, 0.2]).data == plain([0.3, 0.2]).data
    drop.train()
    random.seed(1)
    assert len({drop([0.3, 0.2]).data for _ in range(20)}) > 1


def test_models_print_short_and_show_a_table_in_notebooks():
    net = _Custom()
    assert repr(net) == "_Custom with 15 parameters"
    page = nn.MLP(2, [16, 16, 1])._repr_html_()
    assert page.count("<tr>") == 1 + 3 + 1  # header, three layers, total
    assert "Layer(2, 16)" in page and "<b>337</b>" in page
    assert "Dropout(p=0.1)" in nn.Sequential(nn.Layer(2, 2), nn.Dropout(0.1))._repr_html_()


def test_parameters_follow_every_change_the_walk_would_see():
    """parameters() is remembered between calls; each kind of change must show at once."""
    import copy

    random.seed(0)
    model = nn.MLP(2, [3, 1])
    first = model.parameters()
    assert model.parameters() == first and model.parameters() is not first  # a fresh list

    model.layers[1].neurons[0].b = tv.Value(5.0)  # an attribute set in a submodule
    assert model.parameters()[-1].data == 5.0

    extra = tv.Value(7.0)
    model.layers[0].neurons[0].w.append(extra)  # a list appended to, deep inside
    assert extra in model.parameters()

    last = tv.Value(8.0)
    model.layers[-1].neurons[-1].w.append(last)  # appended to the last list the walk reads
    assert model.parameters()[-2] is last  # (the neuron's bias comes after its weights)
    model.layers[-1].neurons[-1].w.pop()
    assert not any(p is last for p in model.parameters())

    model.layers[0].neurons[0].w[0] = replaced = tv.Value(-1.0)  # an item replaced in place
    assert model.parameters()[0] is replaced

    model.layers.append(nn.Layer(1, 2))  # a whole layer added
    assert len(model.parameters()) == len(first) + 1 + 2 * 2
    del model.layers[-1]
    model.head = {"k": tv.Value(3.0)}  # a new attribute holding a dict
    assert model.named_parameters()[0][0] == "head.k"
    model.head["k"] = tv.Value(4.0)
    assert model.parameters()[0].data == 4.0
    model.head["j"] = tv.Value(4.5)  # a dict grown
    assert model.named_parameters()[1][0] == "head.j"
    model.head["i"] = model.head.pop("j")  # a dict key renamed, same place, same Value
    assert model.named_parameters()[1][0] == "head.i"
    del model.head
    assert all(name.startswith("layers.") for name, _ in model.named_parameters())

    twin = copy.deepcopy(model)  # a copy checks its own attributes, not the original's
    assert all(a is not b for a, b in zip(twin.parameters(), model.parameters()))
    twin.layers[1].neurons[0].b = tv.Value(9.0)
    assert twin.parameters()[-1].data == 9.0 and model.parameters()[-1].data == 5.0

    tail = model.layers[-1].neurons[-1]  # the last module the walk reads
    tail.extra = tv.Value(2.5)  # a new attribute there
    assert model.parameters()[-1] is tail.extra
    del tail.extra

    single = nn.Module()  # a renamed attribute holding the same Value
    single.a = tv.Value(1.0)
    assert [name for name, _ in single.named_parameters()] == ["a"]
    attrs = vars(single)  # renamed in place: same position, same object, another name
    renamed = {("b" if k == "a" else k): v for k, v in attrs.items()}
    attrs.clear()
    attrs.update(renamed)
    assert [name for name, _ in single.named_parameters()] == ["b"]

    model.layers[1].parameters()  # a submodule's own call does not confuse the parent's
    model.layers[1].neurons[0].b = tv.Value(6.0)
    assert model.parameters()[-1].data == 6.0 and model.layers[1].parameters()[-1].data == 6.0
