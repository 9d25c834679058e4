"""tv.StepperWidget: the Python side (traitlets, frame data) and its ES module in a real browser.

The browser half hosts the widget's own ``_esm`` in a minimal page with a fake anywidget
``model`` (get/set/on/off/save_changes), so clicking Next changes the model's ``step`` and
setting ``step`` moves the view, without a notebook server.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import need_dot, need_module

import tinygrad_value as tv
from tinygrad_value.show.expr import parse
from tinygrad_value.show.page import front

SRC = "x1=2.0; x2=0.0; w1=-3.0; w2=1.0; b=6.8813735870195432; n=x1*w1 + x2*w2 + b; o=n.tanh()"


@pytest.fixture
def widget():
    need_dot()
    need_module("anywidget", "REQUIRE_BROWSER")
    program = parse(SRC)
    return tv.StepperWidget(program.root), program


def test_import_does_not_load_anywidget():
    code = ("import sys, tinygrad_value as tv; a = 'anywidget' in sys.modules; "
            "tv.StepperWidget; print(a, 'anywidget' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]


def test_traitlets_frames_and_step(widget):
    w, program = widget
    import anywidget

    assert isinstance(w, anywidget.AnyWidget)
    assert w.frames == len(w.walkthrough.frames) == len(w._data["frames"])
    assert w.step == 0 and w.frame.kind == "start"
    sync = {name for name in w.trait_names() if w.trait_metadata(name, "sync")}
    assert {"step", "frames", "_esm", "_css"} <= sync
    last_backward = max(k for k, f in enumerate(w.walkthrough.frames) if f.kind == "backward")
    w.step = last_backward
    assert "dL/dx1 += dL/dn1 · ∂n1/∂x1 = 0.5000 · -3.0000 = -1.5000" in w.frame.lines
    assert w._data["frames"][last_backward]["lines"] == w.frame.lines
    for bad in (-1, w.frames):
        with pytest.raises(Exception, match="step must be a frame number from 0 to"):
            w.step = bad
    assert w.step == last_backward
    assert all(v.grad == 0.0 for v in program.names.values())  # showing ran no backward


def test_widget_and_page_share_one_front_end(widget, tmp_path):
    w, program = widget
    page = tv.backprop_html(program.root, tmp_path / "p.html")
    js, css = front("stepper.js"), front("stepper.css")
    assert w._esm.startswith(js) and "export default" in w._esm
    assert js in page.html and css in page.html and w._css == css
    assert "function tvMountStepper" not in front("widget.js")  # the glue only, not a copy
    assert json.loads(page.html.split('id="tv-data">')[1].split("</script>")[0]) == w._data


HOST = """<!DOCTYPE html><html><head><meta charset="utf-8"><style id="css"></style></head>
<body><div id="cell"></div></body></html>"""

FAKE_MODEL = """async ([esm, css, state]) => {
    document.getElementById('css').textContent = css;
    const listeners = {};
    window.saves = 0;
    window.model = {
        get: (k) => state[k],
        set: (k, v) => { const old = state[k]; state[k] = v;
                         if (old !== v) (listeners['change:' + k] || []).forEach(f => f()); },
        on: (ev, f) => { (listeners[ev] = listeners[ev] || []).push(f); },
        off: (ev, f) => { listeners[ev] = (listeners[ev] || []).filter(g => g !== f); },
        save_changes: () => { window.saves += 1; },
    };
    const url = URL.createObjectURL(new Blob([esm], {type: 'text/javascript'}));
    const mod = await import(url);
    window.cleanup = mod.default.render({model: window.model, el: document.getElementById('cell')});
}"""


def test_widget_esm_in_a_browser_next_moves_step_and_step_moves_view(widget, browser):
    w, program = widget
    page = browser.new_page(viewport={"width": 1100, "height": 800})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: errors.append(r.url) if not r.url.startswith("blob:") else None)
    page.set_content(HOST)
    state = {"step": 0, "frames": w.frames, "_body": w._body, "_data": w._data}
    page.evaluate(FAKE_MODEL, [w._esm, w._css, state])
    root = ".tv-stepper"
    assert page.get_attribute(root, "data-frame") == "0"
    page.click("#tv-next")
    page.click("#tv-next")
    assert page.evaluate("model.get('step')") == 2 and page.evaluate("saves") == 2
    assert page.get_attribute(root, "data-frame") == "2"
    # Python sets step (the model changes): the view follows, the highlighted node is Python's
    w.step = 6
    page.evaluate("model.set('step', 6)")
    assert page.get_attribute(root, "data-frame") == "6"
    assert page.text_content("#tv-step-lines") == "\n".join(w.frame.lines)
    assert page.text_content("#tv-step-title") == w.frame.title
    node_id = w.walkthrough.ids[w.frame.node]
    assert page.eval_on_selector_all("#tv-graph g.node.tv-current",
                                     "els => els.map(e => e.id)") == [node_id + "_op", node_id]
    assert page.evaluate("saves") == 2  # a change from Python is not echoed back
    # keys heard by the widget itself, after a click focuses it
    page.click("#tv-step")
    page.keyboard.press("ArrowRight")
    assert page.evaluate("model.get('step')") == 7
    page.keyboard.press("End")
    assert page.evaluate("model.get('step')") == w.frames - 1
    assert page.is_disabled("#tv-next")
    page.evaluate("cleanup()")  # render's cleanup detaches the listener
    page.evaluate("model.set('step', 0)")
    assert page.get_attribute(root, "data-frame") == str(w.frames - 1)
    assert errors == []
    page.close()
