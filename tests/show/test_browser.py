"""The stepper page in a real browser: Debian's headless chromium, driven by Playwright.

Presses Next (and the arrow keys, and the slider), then checks the highlighted node and the
numbers drawn on the graph against Python's own values; saves a screenshot. Never runs
``playwright install``: it uses the system chromium (``need_chromium``).
"""

from __future__ import annotations

import pytest
from conftest import need_dot

import tinygrad_value as tv
from tinygrad_value.show.expr import parse
from tinygrad_value.show.stepper import walkthrough

SRC = "x1=2.0; x2=0.0; w1=-3.0; w2=1.0; b=6.8813735870195432; n=x1*w1 + x2*w2 + b; o=n.tanh()"


@pytest.fixture(scope="module", autouse=True)
def _needs_dot():
    need_dot()  # the pages embed SVG drawn by graphviz


@pytest.fixture
def stepper(browser, tmp_path):
    """(page, python values): the stepper page for a neuron, opened from a file:// URL."""
    program = parse(SRC)
    path = tmp_path / "backprop.html"
    tv.backprop_html(program.root, path, source=SRC)
    # what the page should show: the same walk done in Python, on a fresh copy of the graph
    fresh = parse(SRC)
    w = walkthrough(fresh.root)
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: errors.append("request " + r.url)
            if not r.url.startswith("file://") else None)
    page.goto(path.as_uri())
    yield page, w, fresh
    page.close()
    assert errors == []  # no script errors, no network requests


def shown(page):
    """{node id: (data text, grad text)} as drawn in the SVG."""
    return page.evaluate("""() => {
        const out = {};
        for (const g of document.querySelectorAll('#tv-graph g.node')) {
            const texts = [...g.querySelectorAll('text')].map(t => t.textContent);
            const data = texts.filter(t => t.startsWith('data ')).pop();
            const grad = texts.filter(t => t.startsWith('grad ')).pop();
            if (data !== undefined) out[g.id] = [data, grad];
        }
        return out;
    }""")


def expected_after(w, k):
    """What Python says each node shows after frame k: data and grads known so far."""
    data, grads = {}, {}
    for fr in w.frames[: k + 1]:
        data.update(fr.data)
        grads.update(fr.grads)
    f = w.format
    return {w.ids[v]: ["data " + (f(data[v]) if v in data else "?"),
                       "grad " + (f(grads[v]) if v in grads else "?")] for v in w.order}


def current(page):
    return page.get_attribute("body", "data-current"), page.eval_on_selector_all(
        "#tv-graph g.node.tv-current", "els => els.map(e => e.id)")


def test_next_walks_forward_then_backward_with_python_numbers(stepper, tmp_path):
    page, w, _ = stepper
    assert shown(page) == expected_after(w, 0)
    assert page.text_content("#tv-counter") == f"step 0 / {len(w.frames) - 1}"
    forward_end = 1 + len(w.forward)  # frames: start, forward..., seed, backward..., done
    for k in range(1, len(w.frames)):
        if k % 2:
            page.click("#tv-next")
        else:
            page.keyboard.press("ArrowRight")
        frame = w.frames[k]
        node_id = w.ids[frame.node] if frame.node is not None else ""
        body_current, highlighted = current(page)
        assert body_current == node_id
        if frame.node is not None:
            assert node_id in highlighted
        assert shown(page) == expected_after(w, k), f"after {k} steps"
        assert page.text_content("#tv-step-lines") == "\n".join(frame.lines)
        if k == forward_end + 2:  # mid-backward: keep a picture
            page.screenshot(path=str(tmp_path / "stepper.png"), full_page=True)
    # at the end every gradient shown equals Python's backward()
    eager = parse(SRC).root  # untouched by the walkthrough
    eager.backward()
    final = shown(page)
    for i, v in enumerate(tv.topo_order(eager)):  # same program, same ids v0, v1, ...
        assert final[f"v{i}"][1] == f"grad {v.grad:.4f}"
    assert page.is_disabled("#tv-next")
    assert (tmp_path / "stepper.png").stat().st_size > 10_000


def test_prev_slider_and_keys(stepper):
    page, w, _ = stepper
    last = len(w.frames) - 1
    page.keyboard.press("End")
    assert page.get_attribute("body", "data-frame") == str(last)
    page.click("#tv-prev")
    page.keyboard.press("ArrowLeft")
    assert page.get_attribute("body", "data-frame") == str(last - 2)
    assert shown(page) == expected_after(w, last - 2)
    page.locator("#tv-slider").fill("3")
    assert page.get_attribute("body", "data-frame") == "3"
    assert shown(page) == expected_after(w, 3)
    page.keyboard.press("Home")
    assert page.is_disabled("#tv-prev")


def test_clicking_a_node_shows_its_gradient_as_a_sum(stepper):
    page, w, program = stepper
    x1 = program.names["x1"]
    page.keyboard.press("End")
    page.click(f"#{w.ids[x1]}")
    info = page.text_content("#tv-node-info")
    assert w.gradient_sum(x1) in info
    assert "dL/dx1 += dL/dn" in info and "(not yet)" not in info
    page.keyboard.press("Home")  # the same node, before the backward pass reached it
    assert "(not yet)" in page.text_content("#tv-node-info")


def test_a_big_graph_opens_full_size_and_follows_the_current_node(browser, tmp_path):
    xs = [tv.Value(0.1 * i, label=f"x{i}") for i in range(12)]
    y = xs[0]
    for x in xs[1:]:
        y = (y * x + 1.0).tanh()  # a long chain: far too wide to fit a small window
    path = tmp_path / "big.html"
    tv.backprop_html(y, path)
    page = browser.new_page(viewport={"width": 800, "height": 600})
    page.goto(path.as_uri())
    box = page.locator("#tv-graph")
    assert "tv-natural" in box.get_attribute("class")
    def scroll_left():
        return page.evaluate("document.getElementById('tv-graph').scrollLeft")

    def current_box_visible():
        return page.evaluate("""() => {
            const box = document.getElementById('tv-graph').getBoundingClientRect();
            const r = document.querySelector('#tv-graph g.node.tv-current').getBoundingClientRect();
            return r.left >= box.left && r.right <= box.right;
        }""")

    seed = 1 + sum(1 for v in tv.topo_order(y) if v.children)
    page.locator("#tv-slider").fill(str(seed))  # the root, at the far right
    right = scroll_left()
    assert right > 0 and current_box_visible()
    page.keyboard.press("End")
    page.keyboard.press("ArrowLeft")  # the last backward step, near the inputs on the left
    assert scroll_left() < right and current_box_visible()
    page.click("#tv-zoom")
    assert "tv-natural" not in (box.get_attribute("class") or "")
    page.close()


def test_a_node_not_reached_yet_says_not_yet_in_the_panel_and_on_the_node(stepper):
    page, w, program = stepper
    x1 = program.names["x1"]
    seed = next(k for k, f in enumerate(w.frames) if f.kind == "seed")
    page.locator("#tv-slider").fill(str(seed))  # L is seeded; x1's grad is still to come
    page.click(f"#{w.ids[x1]}")
    info = page.text_content("#tv-node-info")
    assert shown(page)[w.ids[x1]][1] == "grad ?"
    assert "dL/dx1 = ? (not yet" in info and "-1.5000 (from" not in info.split("\n")[1]
    page.keyboard.press("End")
    assert w.gradient_sum(x1) in page.text_content("#tv-node-info")


def test_a_node_half_way_shows_its_sum_so_far(browser, tmp_path):
    a = tv.Value(2.0, label="a")
    y = a * a + a
    y.label = "y"
    tv.backprop_html(y, tmp_path / "p.html")
    w = walkthrough(y)
    first = w.received[a][0][0]  # the frame of the first of its contributions
    page = browser.new_page()
    page.goto((tmp_path / "p.html").as_uri())
    page.locator("#tv-slider").fill(str(first))
    page.click(f"#{w.ids[a]}")
    info = page.text_content("#tv-node-info")
    grad_now = shown(page)[w.ids[a]][1].removeprefix("grad ")
    assert "dL/da so far = " in info and f"= {grad_now}   (not yet complete" in info
    page.close()


def test_the_legend_names_every_fill_on_the_page_and_nothing_else(stepper):
    page, w, _ = stepper
    fills = set(page.eval_on_selector_all(
        "#tv-graph g.node polygon, #tv-graph g.node ellipse",
        "els => els.map(e => e.getAttribute('fill')).filter(f => f && f !== 'none')"))
    legend = page.evaluate("""() => [...document.querySelectorAll('#tv-legend .tv-key')].map(
        e => [e.textContent, getComputedStyle(e).backgroundColor])""")
    texts = [t for t, _ in legend]
    # the CLI neuron has inputs, constants? no: inputs, interior nodes and the output only
    assert "parameter" not in texts and "input" in texts and "output L" in texts
    assert {"current step", "receives a gradient now", "clicked node", "operation"} <= set(texts)

    def rgb(hex_colour):
        h = hex_colour.lstrip("#")
        if h in ("white",):
            h = "ffffff"
        return "rgb(" + ", ".join(str(int(h[i:i + 2], 16)) for i in (0, 2, 4)) + ")"

    backgrounds = {bg for _, bg in legend}
    for f in fills:
        assert rgb(f) in backgrounds, f"fill {f} is not in the legend"
