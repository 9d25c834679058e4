"""Gradient health (nn.inspect, nn.GradientHealth) and Adam's state table."""

from __future__ import annotations

import math
import random
import warnings

import pytest

import nn


def moons():
    rng = random.Random(0)
    X = [[rng.uniform(-1, 1), rng.uniform(-1, 1)] for _ in range(12)]
    y = [1.0 if a * b > 0 else -1.0 for a, b in X]
    return X, y


def model():
    random.seed(1337)
    return nn.MLP(2, [8, 8, 1])


def test_inspect_norms_and_dead_relus():
    m = model()
    X, y = moons()
    loss = nn.losses.mse([m(x) for x in X], y)
    loss.backward()
    before = [(p.data, p.grad) for p in m.parameters()]
    h = nn.inspect(m, X, y)
    assert [(p.data, p.grad) for p in m.parameters()] == before  # the model is untouched
    assert [r["layer"] for r in h.rows] == ["layer1", "layer2", "layer3"]
    for li, layer in enumerate(m.layers):
        row = h[f"layer{li + 1}"]
        ps = layer.parameters()
        assert row["params"] == len(ps)
        assert row["|w|"] == pytest.approx(math.sqrt(sum(p.data ** 2 for p in ps)), rel=1e-12)
        assert row["|grad w|"] == pytest.approx(math.sqrt(sum(p.grad ** 2 for p in ps)), rel=1e-12)
        # activations recomputed by hand, on every row
        outs = []
        for x in X:
            h_in = x
            for k in range(li + 1):
                h_in = m.layers[k](h_in)
                h_in = [h_in] if not isinstance(h_in, list) else h_in
            outs.append([v.data for v in h_in])
        flat = [a for row_ in outs for a in row_]
        assert row["|act|"] == pytest.approx(math.sqrt(sum(a * a for a in flat)), rel=1e-12)
        assert sum(h.hist[f"layer{li + 1}"]["act"]) == len(flat)
        if li < 2:
            dead = sum(all(o[j] == 0.0 for o in outs) for j in range(8)) / 8
            assert row["dead ReLU"] == dead
        else:
            assert row["dead ReLU"] is None
    assert "dead ReLU" in repr(h) and "<table>" in h._repr_html_()


def test_dead_relu_detected():
    m = model()
    for n in m.layers[0].neurons[:3]:  # three neurons that can never fire on inputs in [-1, 1]
        n.b.data = -10.0
    X, y = moons()
    h = nn.inspect(m, X, y)
    assert h["layer1"]["dead ReLU"] >= 3 / 8


def test_callback_records_and_warns_once():
    m = model()
    X, y = moons()
    cb = nn.GradientHealth(explode=1e-3)  # a limit every step crosses: warns, but only once
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        nn.fit(m, X, y, loss="mse", steps=5, callback=cb, progress=False)
    assert len([w for w in caught if "exploding gradients" in str(w.message)]) == 1
    assert len(cb.steps) == 5
    assert cb.steps[0]["layer1"]["update/|w|"] is None
    ratio = cb.series("update/|w|")["layer1"]
    assert all(r is not None and r > 0 for r in ratio[1:])
    cb2 = nn.GradientHealth()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.fit(model(), X, y, loss="mse", steps=3, callback=cb2, progress=False)
    assert cb2.warned is None


def test_vanishing_warns():
    m = model()
    for p in m.parameters():
        p.data *= 1e-6
    X, y = moons()
    with pytest.warns(RuntimeWarning, match="vanishing gradients"):
        nn.fit(m, X, y, loss="mse", steps=2, callback=nn.GradientHealth(), progress=False)


def test_adam_state_matches_the_update():
    m = model()
    X, y = moons()
    opt = nn.optim.Adam(m.parameters(), lr=0.01)
    nn.fit(m, X, y, loss="mse", steps=3, optimizer=opt, progress=False)
    before = [p.data for p in m.parameters()]
    loss = nn.losses.mse([m(x) for x in X], y)
    for p in m.parameters():
        p.grad = 0.0
    loss.backward()
    opt.step()
    table = nn.adam_state(opt)
    for p, b, row in zip(m.parameters(), before, table.rows):
        assert row[0] == p.label
        assert row[5] == pytest.approx(p.data - b, rel=1e-9, abs=1e-15)
    assert "step" in repr(table)
    with pytest.raises(TypeError, match="needs an nn.optim.Adam"):
        nn.adam_state(nn.optim.SGD(m.parameters()))


def test_adam_state_maps_each_parameter_to_m_v_step():
    m = model()
    X, y = moons()
    opt = nn.optim.Adam(m.parameters(), lr=0.01)
    nn.fit(m, X, y, loss="mse", steps=2, optimizer=opt, progress=False)
    table = nn.adam_state(opt)
    params = m.parameters()
    assert list(table) == params and len(table) == len(params)
    for i, p in enumerate(params):
        assert table[p] == {"m": opt.m[i], "v": opt.v[i], "step": table.rows[i][5]}
    with pytest.raises(KeyError, match="not a parameter of this optimizer"):
        table[nn.Neuron(2).w[0]]


def test_gradient_histograms_and_plot():
    m = model()
    X, y = moons()
    nn.losses.mse([m(x) for x in X], y).backward()
    h = nn.inspect(m)  # no batch: the parameters' gradients still get a histogram
    assert h.hist == {}
    for li, layer_module in enumerate(m.layers):
        layer, ps = f"layer{li + 1}", layer_module.parameters()
        grads = [p.grad for p in ps]
        lo, hi = min(grads), max(grads)
        counts = h.grad_hist[layer]
        assert sum(counts) == len(ps) and len(counts) == 10
        assert counts[0] == sum(g < lo + (hi - lo) / 10 for g in grads)
        assert counts[-1] == sum(g >= lo + 9 * (hi - lo) / 10 for g in grads)
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    fig = h.plot()
    lines = fig.axes[2].get_lines()
    assert [list(line.get_ydata()) for line in lines] == list(h.grad_hist.values())
    fig = nn.inspect(m, X, y).plot()  # with a batch: the activations' gradients
    with_batch = nn.inspect(m, X, y)
    assert [list(line.get_ydata()) for line in fig.axes[2].get_lines()] == \
        [hh["grad"] for hh in with_batch.hist.values()]
