"""The network view as a notebook widget (StepperWidget(level="neuron")) and Adam's state on it.

The browser half hosts the widget's own ``_esm`` with a fake anywidget ``model`` (as
test_widget.py does): the moons 2-16-16-1 MLP shows 33 neuron boxes with Python's numbers, a click
on one shows its scalar graph and sets the synced ``neuron``, and setting ``neuron`` in Python moves
the view. The network page and the widget share ``front/neurons.js``; with
``optimizer_state=nn.adam_state(opt)`` each parameter's row shows Adam's m, v and step.
"""

from __future__ import annotations

import json
import random
import re

import pytest
from conftest import need_dot, need_module
from test_neurons import moons_graph, snapshot
from test_neurons_browser import _f, assert_boxes_are_pythons
from test_widget import FAKE_MODEL, HOST

import nn
import tinygrad_value as tv
from tinygrad_value.engine.backward import topo_order
from tinygrad_value.show.neurons import collapse, neuron_graph
from tinygrad_value.show.page import front


@pytest.fixture(autouse=True)
def _needs():
    need_dot()
    need_module("anywidget", "REQUIRE_BROWSER")


def _g(x: float) -> str:
    return f"{x + 0.0:.4g}"  # 4 significant digits, and a zero step is 0, never -0


def adam_moons(steps=3):
    """The moons MLP after a few Adam steps, then one more backward: (model, loss, opt)."""
    X, y = nn.data.make_moons(n_samples=20, noise=0.1, random_state=0, signed=True)
    random.seed(1337)
    model = nn.MLP(2, [16, 16, 1])
    opt = nn.optim.Adam(model.parameters(), lr=0.01)
    nn.fit(model, X, y, loss="hinge", steps=steps, optimizer=opt, progress=False)
    model.zero_grad()
    loss = (1 - y[0] * model(X[0])).relu()
    loss.backward()
    return model, loss, opt


def mount(browser, w):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: errors.append(r.url) if not r.url.startswith("blob:") else None)
    page.set_content(HOST)
    state = {"step": w.step, "frames": w.frames, "neuron": w.neuron, "_body": w._body,
             "_data": w._data, "_scalar": w._scalar}
    page.evaluate(FAKE_MODEL, [w._esm, w._css, state])
    return page, errors


def kernel(page, w):
    """What the kernel does after a click: Python receives `neuron`, draws it, sends `_scalar`."""
    w.neuron = page.evaluate("model.get('neuron')")
    page.evaluate("([k, v]) => model.set(k, v)", ["_scalar", w._scalar])


def table(page):
    rows = page.evaluate("""() => [...document.querySelectorAll('#numbers tr')].map(
        tr => [...tr.children].map(c => c.textContent))""")
    return {r[0]: r[1:] for r in rows}


def test_neuron_widget_python_side():
    _, loss = moons_graph()
    before = snapshot(loss)
    w = tv.StepperWidget(loss, level="neuron")
    assert snapshot(loss) == before  # showing changes no .data or .grad
    assert w.frames == 1 and w.step == 0 and w.neuron == "" and w.unit is None
    assert len(w.network.units) == 33 and len(w._data["neurons"]) == 33
    assert w._data["level"] == "neuron" and w._data["columns"] == ["data", "grad"]
    w.neuron = "layer2.neuron4"
    assert w.unit is w.network.units["layer2.neuron4"]
    assert "33 neurons" in repr(w) and "layer2.neuron4" in repr(w)
    with pytest.raises(Exception, match="neuron must be a neuron's name"):
        w.neuron = "layer9.neuron0"
    with pytest.raises(ValueError, match="has no frames"):
        _ = w.frame
    with pytest.raises(ValueError, match="level must be 'value' or 'neuron'"):
        tv.StepperWidget(loss, level="layer")
    with pytest.raises(ValueError, match="pass level='neuron'"):
        tv.StepperWidget(loss, optimizer_state={})
    with pytest.raises(ValueError, match="needs a graph built by nn modules"):
        tv.StepperWidget(tv.Value(2.0) * tv.Value(3.0), level="neuron")
    plain = tv.StepperWidget(tv.Value(2.0, label="a") * 3.0)
    with pytest.raises(Exception, match="only at level='neuron'"):
        plain.neuron = "layer1.neuron0"


def test_page_and_widget_share_the_network_front_end(tmp_path):
    _, loss = moons_graph()
    w = tv.StepperWidget(loss, level="neuron")
    page = tv.backprop_html(loss, tmp_path / "net.html", level="neuron")
    js, css = front("neurons.js"), front("neurons.css")
    assert js in page.html and js in w._esm and css in page.html and w._css == css
    assert "function tvMountNeurons" not in front("widget.js")  # glue only, not a copy
    data = json.loads(page.html.split('id="neurons-data" type="application/json">')[1]
                      .split("</script>")[0])
    # the widget draws each neuron's scalar graph when it is shown: the page has them all
    assert all(n["svg"] is None for n in w._data["neurons"].values())
    assert all(n["svg"].startswith("<svg") for n in data["neurons"].values())
    def without_svg(d):
        return {**d, "neurons": {i: {f: v for f, v in n.items() if f != "svg"}
                                 for i, n in d["neurons"].items()}}

    assert without_svg(data) == without_svg(w._data)
    assert set(w._data) == set(data) == {"level", "columns", "neurons"}
    # and draws it as the page does (dot, fed all the neurons' graphs at once, writes clusters
    # in no fixed order, so the drawings are compared by the nodes they hold)
    w.neuron = "layer2.neuron4"
    assert w._scalar["id"] == "neuron20"

    def nodes(svg):
        return sorted(re.findall(r'<g id="(s\d+_\d+(?:_op)?)" class="node">', svg))

    assert nodes(w._scalar["svg"]) == nodes(data["neurons"]["neuron20"]["svg"])
    assert len(nodes(w._scalar["svg"])) > 10


def test_neuron_widget_in_a_browser(browser):
    _, loss = moons_graph()
    ng = collapse(loss)
    w = tv.StepperWidget(loss, level="neuron")
    page, errors = mount(browser, w)
    assert page.locator(".tv-network #graph g.node.neuron").count() == 33
    assert_boxes_are_pythons(page, ng)
    assert page.locator("#scalar svg").count() == 0
    # a click in the view: the neuron's scalar graph appears and Python's `neuron` follows
    page.locator("#neuron20").click()
    name = list(ng.units)[20]
    assert page.evaluate("model.get('neuron')") == name and page.evaluate("saves") == 1
    assert page.locator("#scalar").text_content() == f"drawing {name}\u2026"
    kernel(page, w)
    unit = w.unit
    values = topo_order(neuron_graph(ng, name))
    assert page.locator("#scalar svg g.node").count() == \
        len(values) + sum(not v.is_leaf for v in values)
    rows = table(page)
    assert rows["out"] == [_f(unit.out), _f(unit.grad)]
    for p in unit.params:
        assert rows[p.label] == [_f(p.data), _f(p.grad)]
    assert page.locator("#neuron20.chosen").count() == 1
    # Python sets `neuron`: the view shows that one, and does not echo the change back
    w.neuron = list(ng.units)[32]
    page.evaluate("([n, s]) => { model.set('neuron', n); model.set('_scalar', s); }",
                  [w.neuron, w._scalar])
    assert page.get_attribute(".tv-network", "data-shown") == "neuron32"
    values = topo_order(neuron_graph(ng, w.neuron))
    assert page.locator("#scalar svg g.node").count() == \
        len(values) + sum(not v.is_leaf for v in values)
    assert page.locator("#neuron-name").text_content().startswith(w.neuron)
    assert table(page)["out"] == [_f(w.unit.out), _f(w.unit.grad)]
    assert page.locator("#neuron20.chosen").count() == 0
    assert page.evaluate("saves") == 1
    page.evaluate("cleanup()")
    page.evaluate("model.set('neuron', 'layer1.neuron0')")
    assert page.get_attribute(".tv-network", "data-shown") == "neuron32"
    assert errors == []
    page.close()


def check_adam_rows(page, ng, state, name, box, w=None):
    page.locator(f"#{box}").click()
    if w is not None:
        kernel(page, w)
        assert page.locator("#scalar svg").count() == 1
    rows = table(page)
    assert rows[""] == ["data", "grad", "m", "v", "step"]
    for p in ng.units[name].params:
        s = state[p]
        assert rows[p.label] == [_f(p.data), _f(p.grad), _g(s["m"]), _g(s["v"]), _g(s["step"])]
    assert page.locator("#state-note").is_visible()


def test_adam_state_on_the_network_page(browser, tmp_path):
    model, loss, opt = adam_moons()
    state = nn.adam_state(opt)
    before = snapshot(loss)
    path = tmp_path / "net.html"
    tv.backprop_html(loss, path, level="neuron", optimizer_state=state)
    assert snapshot(loss) == before
    ng = collapse(loss)
    # the step shown is the update Adam made: replaying the last step from its state agrees
    p = model.layers[1].neurons[3].w[5]
    i = model.parameters().index(p)
    assert state[p]["m"] == opt.m[i] and state[p]["v"] == opt.v[i]
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    assert page.locator("#graph g.node.neuron").count() == 33
    check_adam_rows(page, ng, state, "layer2.neuron3", "neuron19")
    check_adam_rows(page, ng, state, "layer3.neuron0", "neuron32")
    page.close()
    # without optimizer_state the table keeps two columns and no note
    plain = tv.backprop_html(loss, tmp_path / "plain.html", level="neuron")
    page = browser.new_page()
    page.goto(plain.path.as_uri())
    page.locator("#neuron19").click()
    assert table(page)[""] == ["data", "grad"] and not page.locator("#state-note").is_visible()
    page.close()
    assert errors == []
    with pytest.raises(TypeError, match="optimizer_state must map parameter Values"):
        tv.backprop_html(loss, level="neuron", optimizer_state=[1, 2])
    with pytest.raises(ValueError, match="pass level='neuron'"):
        tv.backprop_html(loss, optimizer_state=state)


def test_adam_state_in_the_neuron_widget(browser):
    _, loss, opt = adam_moons()
    state = nn.adam_state(opt)
    w = tv.StepperWidget(loss, level="neuron", optimizer_state=state)
    assert w._data["columns"] == ["data", "grad", "m", "v", "step"]
    page, errors = mount(browser, w)
    check_adam_rows(page, collapse(loss), state, "layer1.neuron7", "neuron7", w)
    assert errors == []
    page.close()


def test_neuron_widget_at_digits_size_draws_only_what_is_shown():
    """64-32-10 (2,410 parameters): 42 boxes; a neuron's scalar graph is drawn when shown."""
    random.seed(0)
    model = nn.MLP(64, [32, 10])
    rng = random.Random(1)
    X = [[rng.random() for _ in range(64)] for _ in range(2)]
    loss = nn.losses.cross_entropy([model(x) for x in X], [0, 1])
    loss.backward()
    before = snapshot(loss)
    w = tv.StepperWidget(loss, level="neuron")
    assert w._body.count('class="node neuron"') == 42
    assert all(n["svg"] is None for n in w._data["neurons"].values())
    assert w._drawn == {} and w._scalar == {}
    w.neuron = "layer2.neuron3"
    assert list(w._drawn) == ["layer2.neuron3"] and w._scalar["id"] == "neuron35"
    assert "layer2.neuron3.w[31]" in w._scalar["svg"]
    w.neuron = "layer1.neuron0"
    w.neuron = "layer2.neuron3"  # drawn once, then reused
    assert list(w._drawn) == ["layer2.neuron3", "layer1.neuron0"]
    assert snapshot(loss) == before
