"""The live view in a real browser draws a 2-16-16-1 MLP's sample graph one box per neuron."""

from __future__ import annotations

import random
import threading

from conftest import need_dot

import nn
from nn.live import LiveView


def test_live_view_sample_graph_is_neuron_level(browser, tmp_path):
    need_dot()
    X, y = nn.data.make_moons(n_samples=30, noise=0.1, random_state=1, signed=True)
    random.seed(1337)
    model = nn.MLP(2, [16, 16, 1])
    view = LiveView(model, X, y, quiet=True, grid=16, graph_every=1, min_step_seconds=0.02)
    done = threading.Event()

    def train():
        try:
            nn.fit(model, X, y, loss="hinge", steps=6, progress=False,
                   optimizer=nn.optim.SGD(model.parameters(), lr=0.1), callback=view.callback)
        finally:
            view.finish()
            done.set()

    try:
        page = browser.new_page(viewport={"width": 1280, "height": 1000}, bypass_csp=True)
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(view.url)
        threading.Thread(target=train, daemon=True).start()
        assert done.wait(60)
        page.wait_for_function(
            "LIVE.S.graphVersion >= 0 && !document.getElementById('graph').hidden",
            timeout=20_000)
        src = page.get_attribute("#graph", "src")
        svg = page.evaluate("async (u) => (await fetch(u)).text()", src)
        assert svg.count('class="node neuron"') == 33
        assert "layer2.neuron3 · ReLU" in svg
        assert not errors, errors
        page.close()
    finally:
        view.close()
