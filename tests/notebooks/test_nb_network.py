"""StepperWidget(loss, level="neuron") in a real JupyterLab on 127.0.0.1 (Playwright + chromium).

The round trip the fake-model tests can only imitate: a click on a neuron's box reaches the kernel
as ``w.neuron``, Python draws that neuron's scalar graph and sends it back, and a ``w.neuron`` set
in a cell moves the view. The numbers in the boxes and the table are Python's.
"""

from __future__ import annotations

import random

import lab_driver
import pytest
from conftest import need_dot, need_module
from lab_driver import write_notebook

MOONS = ("import random\n"
         "import nn, tinygrad_value as tv\n"
         "random.seed(1337)\n"
         "model = nn.MLP(2, [16, 16, 1])\n"
         "loss = (1 - model([0.5, -0.3])).relu()\n"
         "loss.backward()\n")

server, lab = lab_driver.server, lab_driver.lab  # the shared JupyterLab fixtures


def python_units():
    import nn
    import tinygrad_value as tv
    from tinygrad_value.show.neurons import collapse

    scope: dict = {"random": random, "nn": nn, "tv": tv}
    exec(MOONS, scope)
    return collapse(scope["loss"]).units


@pytest.fixture(autouse=True)
def _needs():
    need_module("anywidget", "REQUIRE_BROWSER")
    need_dot()


def _f(x: float) -> str:
    text = f"{x:.4f}"
    return "0.0000" if text == "-0.0000" else text


def table(out):
    rows = out.evaluate("""root => [...root.querySelectorAll('#numbers tr')].map(
        tr => [...tr.children].map(c => c.textContent))""")
    return {r[0]: r[1:] for r in rows}


def test_neuron_widget_click_reaches_python_and_python_moves_the_view(lab):
    units = python_units()
    names = list(units)
    write_notebook(lab.root / "network.ipynb", [
        MOONS + "w = tv.StepperWidget(loss, level='neuron')\nw",
        "print('neuron', w.neuron or '-', 'drawn', len(w._drawn))",
        f"w.neuron = {names[32]!r}",
    ])
    lab.open("network.ipynb")
    out = lab.run(0).locator(".jp-OutputArea")
    boxes = out.locator(".tv-network #graph g.node.neuron")
    boxes.first.wait_for(timeout=60_000)
    assert boxes.count() == 33
    texts = out.evaluate("""root => Object.fromEntries([...root.querySelectorAll(
        '#graph g.node.neuron')].map(g => [g.id, [...g.querySelectorAll('text')].map(
        t => t.textContent)]))""")
    for i, (name, unit) in enumerate(units.items()):
        box = texts[f"neuron{i}"]
        assert box[0].startswith(name)
        assert f"out {_f(unit.out)}" in box and f"grad {_f(unit.grad)}" in box
    lab.run(1)
    assert lab.output(1).split() == ["neuron", "-", "drawn", "0"]

    out.locator("#neuron20").click()  # the kernel hears it and sends the scalar graph back
    out.locator("#scalar svg").wait_for(timeout=30_000)
    unit = units[names[20]]
    rows = table(out.element_handle())
    assert rows["out"] == [_f(unit.out), _f(unit.grad)]
    for p in unit.params:
        assert rows[p.label] == [_f(p.data), _f(p.grad)]
    assert unit.params[0].label in out.locator("#scalar svg").text_content()
    lab.run(1)
    assert lab.output(1).split() == ["neuron", names[20], "drawn", "1"]

    lab.run(2)  # set in Python: the view shows that neuron and its scalar graph
    lab.page.wait_for_function(
        "root => root.querySelector('.tv-network').dataset.shown === 'neuron32' && "
        "root.querySelector('#scalar svg') && "
        "root.querySelector('#scalar').textContent.includes('layer3.neuron0.w[15]')",
        arg=out.element_handle(), timeout=30_000)
    assert table(out.element_handle())["out"] == [_f(units[names[32]].out),
                                                  _f(units[names[32]].grad)]
