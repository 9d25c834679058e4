"""The network page in a real browser: 33 neuron boxes for the moons MLP, a click shows a
neuron's scalar graph, and the numbers on the page are Python's."""

from __future__ import annotations

import pytest
from conftest import need_dot
from test_neurons import moons_graph, snapshot

import tinygrad_value as tv
from tinygrad_value.engine.backward import topo_order
from tinygrad_value.show.neurons import collapse, neuron_graph


def _f(x: float) -> str:
    """4 decimals as the pages print them: a zero never shows a minus sign."""
    text = f"{x:.4f}"
    return "0.0000" if text == "-0.0000" else text


@pytest.fixture(scope="module", autouse=True)
def _needs_dot():
    need_dot()  # the pages embed SVG drawn by graphviz



def assert_boxes_are_pythons(page, ng) -> None:
    """Every neuron box on the page shows its neuron's name and Python's z, out and grad."""
    boxes = page.evaluate("""() => Object.fromEntries([...document.querySelectorAll(
        '#graph g.node.neuron')].map(g => [g.id, [...g.querySelectorAll('text')].map(
        t => t.textContent)]))""")
    assert len(boxes) == len(ng.units)
    for i, (name, unit) in enumerate(ng.units.items()):
        texts = boxes[f"neuron{i}"]
        assert texts[0].startswith(name)
        assert f"out {_f(unit.out)}" in texts and f"grad {_f(unit.grad)}" in texts
        assert f"z {_f(unit.z)}" in texts

def test_network_page_moons(browser, tmp_path):
    _, loss = moons_graph()
    before = snapshot(loss)
    path = tmp_path / "net.html"
    page_obj = tv.backprop_html(loss, path, level="neuron")
    assert snapshot(loss) == before
    assert page_obj.neurons == 33
    ng = collapse(loss)
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: errors.append("request " + r.url)
            if not r.url.startswith("file://") else None)
    page.goto(path.as_uri())
    assert page.locator("#graph g.node.neuron").count() == 33
    # the numbers drawn in each box are Python's
    assert_boxes_are_pythons(page, ng)
    assert page.locator("#scalar svg").count() == 0
    # click a neuron of the second layer: its scalar graph appears, with its numbers
    page.locator("#neuron20").click()
    assert page.evaluate("document.body.dataset.shown") == "neuron20"
    name = list(ng.units)[20]
    unit = ng.units[name]
    assert page.locator("#neuron-name").text_content().startswith(name)
    scalar = page.locator("#scalar svg g.node")
    values = topo_order(neuron_graph(ng, name))
    assert len(values) == 33 + 16 + 16 + 1  # 17 params + 16 inputs, 16 products, 16 sums, relu
    assert scalar.count() == len(values) + sum(not v.is_leaf for v in values)  # + op nodes
    texts = page.locator("#scalar svg").text_content()
    for p in unit.params:
        assert p.label in texts
    assert f"data {_f(unit.out)}" in texts and f"grad {_f(unit.grad)}" in texts
    rows = page.evaluate("""() => [...document.querySelectorAll('#numbers tr')].map(
        tr => [...tr.children].map(c => c.textContent))""")
    table = {r[0]: r[1:] for r in rows}
    assert table["out"] == [f"{_f(unit.out)}", f"{_f(unit.grad)}"]
    for p in unit.params:
        assert table[p.label] == [f"{_f(p.data)}", f"{_f(p.grad)}"]
    page.screenshot(path=str(tmp_path / "net.png"))
    page.close()
    assert errors == []
