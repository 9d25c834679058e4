"""nn.live.LiveWidget, the Python side: its Controller, traitlets and messages, with a fake comm.

The view is replaced by two lists: what the widget sends (``send`` recorded) and what a view
would send (``_on_view_msg`` called with the same actions the page POSTs). The browser half runs
in a real JupyterLab in tests/notebooks/test_nb_lab.py.
"""

from __future__ import annotations

import random
import subprocess
import sys
import threading
import time

import pytest
from conftest import need_module

import nn
from nn.live import render_page
from nn.live.page import asset


def wait_for(predicate, timeout=10.0, what="condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def widget():
    need_module("anywidget", "REQUIRE_BROWSER")
    from nn.live import LiveWidget

    X, y = nn.data.make_moons(n_samples=30, noise=0.1, random_state=1, signed=True)
    random.seed(1337)
    model = nn.MLP(2, [4, 4, 1])
    w = LiveWidget(model, X, y, grid=12, graph_every=5, health_every=5)
    w.sent = []
    w.send = lambda content, buffers=None: w.sent.append(content)
    yield w
    w.close()


def view(w, action, **params):
    w._on_view_msg(w, dict(action=action, **params), [])


def test_import_nn_live_does_not_load_anywidget():
    code = ("import sys, nn.live; a = 'anywidget' in sys.modules; nn.live.LiveWidget; "
            "print(a, 'anywidget' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]


def test_widget_and_page_share_one_front_end(widget):
    page = render_page(widget._config)
    for name in ("live.js", "live.css", "live.html"):
        assert asset(name) in page  # the page embeds each file whole ...
    assert widget._esm.startswith(asset("live.js"))  # ... and so does the widget
    assert widget._css == asset("live.css") and widget._body == asset("live.html")
    for control in ("btn-pause", "btn-resume", "btn-step", "m-step", "lr", "boundary"):
        assert f'id="{control}"' in widget._body
    assert widget._config["points"]["x"][0] == [round(v, 4) for v in widget.controller.X[0]]


def test_a_view_that_says_hello_gets_the_whole_state_and_the_graph(widget):
    view(widget, "hello")
    wait_for(lambda: widget.sent and widget.sent[-1]["state"]["picture"] is not None,
             what="a state with a picture")
    st = widget.sent[-1]["state"]
    assert st["curve_from"] == 0 and st["sample"] == widget.controller.sample
    assert st["status"] == widget.status == "running"
    assert widget.controller._viewer.is_set()
    wait_for(lambda: any(m.get("svg") for m in widget.sent), what="the graph's SVG")
    svg = [m["svg"] for m in widget.sent if m.get("svg")][-1]
    assert svg.lstrip().startswith(("<?xml", "<svg")) and svg == widget.controller.svg()


def test_buttons_drive_the_training_loop_and_traitlets_follow(widget):
    opt = nn.optim.SGD(widget.controller.model.parameters(), lr=0.3)
    assert widget.lr is None
    widget.optimizer = opt  # attached after the fact: lr becomes settable
    wait_for(lambda: widget.lr == 0.3, what="lr synced from the optimizer")
    worker = widget.run(loss="hinge", steps=400, optimizer=opt, progress=False, thread=True)
    assert isinstance(worker, threading.Thread)
    worker.join(0.01)
    wait_for(lambda: widget.last_step >= 3, what="training steps")
    view(widget, "pause")
    wait_for(lambda: widget.status == "paused", what="paused")
    time.sleep(0.2)
    held = widget.controller.curves.last[0]
    time.sleep(0.3)
    assert widget.controller.curves.last[0] == held, "training went on while paused"
    view(widget, "step")
    wait_for(lambda: widget.controller.curves.last[0] == held + 1, what="one step")
    time.sleep(0.3)
    assert widget.controller.curves.last[0] == held + 1 and widget.status == "paused"
    wait_for(lambda: widget.last_step == held + 1, what="last_step synced")

    view(widget, "lr", v=50_000)  # the page's units: lr × 1e6
    assert opt.lr == 0.05 and widget.lr == 0.05
    widget.lr = 0.2
    assert opt.lr == 0.2
    view(widget, "select", i=7)
    assert widget.controller.sample == 7 and widget.sample == 7
    widget.sample = 2
    assert widget.controller.sample == 2
    view(widget, "select", i=10_000)  # a bad message from the view changes nothing
    view(widget, "lr", v="x")
    assert widget.controller.sample == 2 and opt.lr == 0.2

    view(widget, "resume")
    worker.join(30)
    assert not worker.is_alive()
    wait_for(lambda: widget.status == "done", what="done")
    assert widget.last_step == 399
    # the gradient-health panel gets the page's numbers: every 5th step (health_every), in order
    def health():
        return [m["state"]["health"] for m in list(widget.sent) if m["state"]["health"]]

    wait_for(lambda: health() and health()[-1]["steps"][-1] == 395, what="the last health sent")
    health = health()
    assert health[-1] == widget.controller.health.to_json()
    assert health[-1]["steps"] == list(range(0, 400, 5)) and health[-1]["layers"] == [
        "layer1", "layer2", "layer3"]


def test_bad_values_from_python_get_clear_errors(widget):
    import traitlets

    with pytest.raises(traitlets.TraitError, match="sample must be a row of X, 0 to 29"):
        widget.sample = 30
    with pytest.raises(traitlets.TraitError, match="no learning-rate control: pass optimizer"):
        widget.lr = 0.1
    widget.optimizer = nn.optim.SGD(widget.controller.model.parameters(), lr=0.1)
    with pytest.raises(traitlets.TraitError, match=r"learning rate must be in \(0, 100\]"):
        widget.lr = -1.0
    assert widget.optimizer.lr == 0.1


def test_close_releases_a_paused_loop(widget):
    widget.pause()
    done = threading.Event()

    def train():
        widget.callback(0)
        done.set()

    threading.Thread(target=train, daemon=True).start()
    time.sleep(0.3)
    assert not done.is_set(), "the callback should hold while paused"
    widget.close()
    assert done.wait(5), "close() must release the paused training loop"
