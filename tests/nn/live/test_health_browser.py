"""The gradient-health panel of the live page in chromium: its numbers are nn.inspect's.

A run with a recorder callback beside the view keeps every step's parameters and gradients;
the page's table must then show, for the last recorded step, what ``nn.inspect`` computes in
this process from those parameters, gradients and the step before's parameters, on the view's
data and its (hinge) loss.
"""

from __future__ import annotations

import copy
import random
import threading

import pytest

import nn
import tinygrad_value as tv
from nn.live import LiveView
from nn.live.health import COLUMNS


def hinge_mean(outputs, targets):
    return tv.sum([(1 - t * o).relu() for o, t in zip(outputs, targets)]) / len(outputs)


def test_health_panel_shows_nn_inspects_numbers(browser):
    X, y = nn.data.make_moons(n_samples=40, noise=0.1, random_state=1, signed=True)
    random.seed(1337)
    model = nn.MLP(2, [6, 6, 1])
    start = copy.deepcopy(model)
    view = LiveView(model, X, y, quiet=True, grid=12, graph_every=5, health_every=5)
    kept = {-1: ([p.data for p in model.parameters()], None)}

    def callback(step, history, m):
        kept[step] = ([p.data for p in m.parameters()], [p.grad for p in m.parameters()])
        return view.callback(step, history, m)

    done = threading.Event()

    def train():
        try:
            nn.fit(model, X, y, loss="hinge", steps=23, progress=False, callback=callback,
                   optimizer=nn.optim.SGD(model.parameters(), lr=0.3))
        finally:
            view.finish()
            done.set()

    page = browser.new_page(viewport={"width": 1280, "height": 1400}, bypass_csp=True)
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(view.url)
        threading.Thread(target=train, daemon=True).start()
        assert done.wait(60)
        # steps 0, 5, 10, 15, 20 are recorded; the table shows the last one
        page.wait_for_function("LIVE.S.health && LIVE.S.health.steps.join() === '0,5,10,15,20'",
                               timeout=30_000)
        assert page.is_visible("#card-health")
        shown = page.evaluate("""() => [
            ...document.querySelectorAll('#health-table tr[data-layer]')]
            .map(r => [r.dataset.layer, [...r.querySelectorAll('td[data-col]')]
                .map(td => [td.dataset.col, td.dataset.v, td.textContent])])""")
        history = page.evaluate("LIVE.S.health.series")
    finally:
        page.close()
        view.close()
    assert errors == []

    def python_health(step):
        twin = copy.deepcopy(start)
        params, grads = kept[step]
        for p, v, g in zip(twin.parameters(), params, grads):
            p.data, p.grad = v, g
        return nn.inspect(twin, X, y, hinge_mean, previous=kept[step - 1][0])

    expected = python_health(20)
    assert [layer for layer, _ in shown] == [r["layer"] for r in expected.rows] != []
    checked = 0
    for layer, cells in shown:
        row = expected[layer]
        assert [c[0] for c in cells] == [key for key, _, _ in COLUMNS]
        for (key, exact, text), (_, column, _) in zip(cells, COLUMNS):
            want = row[column]
            if want is None:  # the output layer has no ReLU
                assert exact == "" and text == "–", (layer, key)
                continue
            assert float(exact) == pytest.approx(want, rel=1e-9, abs=1e-12), (layer, key)
            assert float(text) == pytest.approx(want, rel=5e-4, abs=1e-12), (layer, key)
            checked += 1
    assert checked >= 3 * 4  # every layer's norms and update ratio, the hidden ones' dead ReLUs
    # the plotted history is nn.inspect's at each recorded step too
    for i, step in enumerate([0, 5, 10, 15, 20]):
        h = python_health(step)
        for r in h.rows:
            assert history["update"][r["layer"]][i] == pytest.approx(r["update/|w|"], rel=1e-9)
            assert history["grad_act"][r["layer"]][i] == pytest.approx(r["|grad act|"], rel=1e-9)
