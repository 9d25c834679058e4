"""The course in a real JupyterLab on 127.0.0.1, driven by Playwright with Debian's chromium.

One server for the module (a free port, a token, its own runtime and config directories, no news,
update check or extension manager); each test opens a notebook written into the server's temp root,
runs cells with Shift+Enter and reads what the page shows. Every request the browser makes is
recorded and none may leave 127.0.0.1.
"""

from __future__ import annotations

import re
import shutil
import sys

import lab_driver
import nbformat
import pytest
from conftest import need_dot, need_module
from lab_driver import write_notebook
from nb_harness import course_notebooks

server, lab = lab_driver.server, lab_driver.lab  # the shared JupyterLab fixtures




def test_a_cell_runs_in_jupyterlab_and_its_output_is_read_back(lab):
    write_notebook(lab.root / "plain.ipynb", [
        "import sys, tinygrad_value as tv\n"
        "v = tv.Value(2.0) * tv.Value(-3.0) + 1\n"
        "v.backward()\n"
        "print('data', v.data, 'exe', sys.executable)",
    ])
    lab.open("plain.ipynb")
    lab.run(0)
    out = lab.output(0)
    assert "data -5.0" in out
    assert f"exe {sys.executable}" in out  # the kernel is this interpreter, the venv's
    assert any(u.startswith(lab.base_url) for u in lab.requests)  # the recorder sees traffic


# --- the widgets (DESIGN.md: tv.StepperWidget(root) with `step`/`frames`; nn.live.LiveWidget) ----

def need_widget(module: str, name: str):
    """The widget class, or a skip while the branch that builds it has not landed."""
    import importlib

    mod = importlib.import_module(module)
    if not hasattr(mod, name):
        pytest.skip(f"{module}.{name} does not exist yet (another branch builds it); "
                    f"this test is written against DESIGN.md's contract")
    need_module("anywidget", "REQUIRE_BROWSER")
    return getattr(mod, name)


def part(name: str) -> str:
    """A control of the shared front-end, whether the widget keeps the page's ids or classes."""
    return f"#{name}, .{name}, [data-tv='{name}']"


def button(out, name: str, label: str):
    """The front-end's button ``name`` (as on the offline page), or any button labelled so."""
    return out.locator(part(name)).or_(
        out.get_by_role("button", name=re.compile(label, re.I))).first


NEURON = ("import tinygrad_value as tv\n"
          "x1, x2 = tv.Value(2.0, label='x1'), tv.Value(0.0, label='x2')\n"
          "w1, w2 = tv.Value(-3.0, label='w1'), tv.Value(1.0, label='w2')\n"
          "b = tv.Value(6.8813735870195432, label='b')\n"
          "o = (x1 * w1 + x2 * w2 + b).tanh()\n")


def python_walkthrough():
    """What the widget should show: the same neuron walked through in this process."""
    import tinygrad_value as tv
    from tinygrad_value.show.stepper import walkthrough

    scope: dict = {"tv": tv}
    exec(NEURON, scope)
    return walkthrough(scope["o"])


def widget_state(out):
    """(ids of highlighted nodes, {node id: [data text, grad text]}) inside one cell's output."""
    return out.evaluate("""root => {
        const cur = [...root.querySelectorAll('g.node.tv-current')].map(e => e.id);
        const shown = {};
        for (const g of root.querySelectorAll('g.node')) {
            const t = [...g.querySelectorAll('text')].map(x => x.textContent);
            const d = t.filter(s => s.startsWith('data ')).pop();
            const gr = t.filter(s => s.startsWith('grad ')).pop();
            if (d !== undefined) shown[g.id] = [d, gr];
        }
        return [cur, shown];
    }""")


def expected_after(w, k):
    data, grads = {}, {}
    for fr in w.frames[: k + 1]:
        data.update(fr.data)
        grads.update(fr.grads)
    f = w.format
    return {w.ids[v]: ["data " + (f(data[v]) if v in data else "?"),
                       "grad " + (f(grads[v]) if v in grads else "?")] for v in w.order}


def by_suffix(shown: dict, node_id: str):
    """The entry whose DOM id is ``node_id`` or ends with it (a widget may prefix its ids)."""
    hits = [v for k, v in shown.items() if k == node_id or k.endswith("-" + node_id)]
    assert len(hits) == 1, (node_id, sorted(shown))
    return hits[0]


def test_stepper_widget_next_and_python_step_move_together(lab):
    need_widget("tinygrad_value", "StepperWidget")
    w = python_walkthrough()
    write_notebook(lab.root / "stepper.ipynb", [
        NEURON + "sw = tv.StepperWidget(o)\nsw",
        "print('step', sw.step, 'frames', sw.frames)",
        "sw.step = 5",
        "print('step', sw.step)",
    ])
    lab.open("stepper.ipynb")
    out = lab.run(0).locator(".jp-OutputArea")
    nxt = button(out, "tv-next", "next")
    nxt.wait_for(timeout=30_000)
    lab.run(1)
    assert lab.output(1).split() == ["step", "0", "frames", str(len(w.frames))]

    clicks = 1 + len(w.forward) + 2  # through the forward pass, the seed, two backward steps
    for _ in range(clicks):
        nxt.click()
    frame = w.frames[clicks]
    assert frame.kind == "backward"
    highlighted, shown = widget_state(out.element_handle())
    assert any(h == w.ids[frame.node] or h.endswith("-" + w.ids[frame.node])
               for h in highlighted), highlighted
    expected = expected_after(w, clicks)
    for node_id, texts in expected.items():
        assert by_suffix(shown, node_id) == texts, f"node {node_id} after {clicks} clicks"
    lab.run(1)  # clicking Next moved the Python side too
    assert lab.output(1).split()[:2] == ["step", str(clicks)]

    lab.run(2)  # and setting it from Python moves the view
    target = w.frames[5]
    lab.page.wait_for_function(
        "([root, id]) => [...root.querySelectorAll('g.node.tv-current')]"
        ".some(e => e.id === id || e.id.endsWith('-' + id))",
        arg=[out.element_handle(), w.ids[target.node]], timeout=10_000)
    _, shown = widget_state(out.element_handle())
    for node_id, texts in expected_after(w, 5).items():
        assert by_suffix(shown, node_id) == texts
    lab.run(3)
    assert lab.output(3).split() == ["step", "5"]


LIVE = ("import random, threading, time\n"
        "import nn, nn.live\n"
        "X, y = nn.data.make_moons(n_samples=40, noise=0.1, random_state=1, signed=True)\n"
        "random.seed(1337)\n"
        "model = nn.MLP(2, [6, 6, 1])\n"
        "lw = nn.live.LiveWidget(model, X, y)\n"
        "lw")
TRAIN = ("seen, stop = [], threading.Event()\n"
         "def cb(step, history, model):\n"
         "    seen.append(step)\n"
         "    time.sleep(0.02)\n"
         "    return False if stop.is_set() else lw.callback(step, history, model)\n"
         "opt = nn.optim.SGD(model.parameters(), lr=0.3)\n"
         "run = threading.Thread(target=lambda: nn.fit(model, X, y, loss='hinge', steps=2000,\n"
         "                       optimizer=opt, progress=False, callback=cb), daemon=True)\n"
         "run.start()")


def test_live_widget_grows_its_loss_curve_and_pause_stops_training(lab):
    need_widget("nn.live", "LiveWidget")
    write_notebook(lab.root / "live.ipynb", [
        LIVE, TRAIN, "print('seen', len(seen))", "stop.set(); run.join(10); print(run.is_alive())"])
    lab.open("live.ipynb")
    out = lab.run(0).locator(".jp-OutputArea")
    out.locator("canvas").first.wait_for(timeout=30_000)
    handle = out.element_handle()

    def pictures():
        return lab.page.evaluate("root => [...root.querySelectorAll('canvas')]"
                                 ".map(c => c.toDataURL())", handle)

    def counter():
        return out.locator(part("m-step")).first.text_content()

    before = pictures()
    lab.run(1)
    lab.page.wait_for_function(
        "([root, before]) => [...root.querySelectorAll('canvas')]"
        ".some((c, i) => c.toDataURL() !== before[i])", arg=[handle, before], timeout=30_000)
    first = counter()
    lab.page.wait_for_function("([root, sel, first]) => root.querySelector(sel).textContent"
                               " !== first", arg=[handle, part("m-step"), first], timeout=30_000)

    button(out, "btn-pause", "pause").click()
    lab.page.wait_for_timeout(1000)  # let steps in flight land
    paused_at = counter()
    lab.run(2)
    seen_paused = lab.output(2).split()
    lab.page.wait_for_timeout(1500)
    assert counter() == paused_at, "the step counter moved while paused"
    lab.run(2)
    assert lab.output(2).split() == seen_paused, "training went on in Python while paused"

    # the shared front end's gradient-health panel is in the widget too, one row per layer
    rows = out.locator("#card-health #health-table tr[data-layer]")
    rows.first.wait_for(timeout=30_000)
    assert rows.evaluate_all("rs => rs.map(r => r.dataset.layer)") == [
        "layer1", "layer2", "layer3"]

    button(out, "btn-resume", "resume").click()
    lab.page.wait_for_function("([root, sel, v]) => root.querySelector(sel).textContent !== v",
                               arg=[handle, part("m-step"), paused_at], timeout=30_000)
    lab.run(3)
    assert lab.output(3).strip() == "False"  # the thread ended when asked


IN_CELL = ("lw.controller.min_step_seconds = 0.05  # ~4 s of training, in this very cell\n"
           "h = nn.fit(model, X, y, loss='hinge', steps=80, progress=False, callback=lw.callback,\n"
           "           optimizer=nn.optim.SGD(model.parameters(), lr=0.3))\n"
           "print('trained', len(h.loss))")


def test_live_widget_updates_while_fit_runs_in_its_own_cell(lab):
    """Training in the cell keeps the kernel busy, yet the view follows it step by step and
    its Pause and Resume reach the training loop (the widget listens on a kernel subshell)."""
    need_widget("nn.live", "LiveWidget")
    write_notebook(lab.root / "incell.ipynb", [LIVE, IN_CELL])
    lab.open("incell.ipynb")
    out = lab.run(0).locator(".jp-OutputArea")
    out.locator(part("m-step")).first.wait_for(timeout=30_000)
    cell = lab.cell(1)
    cell.locator(".jp-InputArea-editor").click()
    lab.page.keyboard.press("Escape")
    lab.page.keyboard.press("Shift+Enter")  # not waited for: we watch the view while it runs
    prompt = cell.locator(".jp-InputPrompt")
    handle = out.element_handle()
    counts, paused = set(), None
    while (prompt.text_content() or "").strip() in ("[*]:", "[ ]:"):
        text = out.locator(part("m-step")).first.text_content()
        if text.isdigit():
            counts.add(int(text))
        lab.page.wait_for_timeout(150)
        if len(counts) >= 3 and not paused:  # the buttons work while the cell is busy too
            button(out, "btn-pause", "pause").click()
            lab.page.wait_for_timeout(1000)
            paused = out.locator(part("m-step")).first.text_content()
            lab.page.wait_for_timeout(1500)
            assert out.locator(part("m-step")).first.text_content() == paused, \
                "the step counter moved while paused"
            assert (prompt.text_content() or "").strip() == "[*]:"  # fit waits in the cell
            button(out, "btn-resume", "resume").click()
    assert len(counts) >= 3, f"the step counter moved only through {sorted(counts)} while busy"
    assert paused, "training ended before the pause could be tried"
    assert int(paused) < 79
    assert lab.output(1).split() == ["trained", "80"]
    lab.page.wait_for_function("([root, sel]) => root.querySelector(sel).textContent === '79'",
                               arg=[handle, part("m-step")], timeout=10_000)


def test_chapter_one_runs_in_jupyterlab_with_its_graph_drawn(lab):
    """The course as a learner meets it: Run All on chapter 1, every cell done, no error shown,
    the neuron's graph drawn inline as SVG with the book's 2.3 in it."""
    need_dot()
    src = course_notebooks()[0]
    shutil.copy(src, lab.root / src.name)
    lab.open(src.name)
    lab.run_all()
    panel = lab.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    assert panel.locator(".jp-OutputArea-output[data-mime-type*='stderr']").count() == 0
    assert panel.locator(".jp-RenderedText[data-mime-type*='error']").count() == 0
    # JupyterLab shows an SVG output as an <img> of a data: URL; read the SVG back out of it
    graphs = panel.locator(".jp-RenderedSVG img")
    graphs.first.wait_for(state="attached", timeout=10_000)
    texts = graphs.evaluate_all("""imgs => imgs.map(i => {
        const [head, body] = i.src.split(',', 2);
        return head.endsWith(';base64') ? atob(body) : decodeURIComponent(body);
    })""")
    assert any("data 2.3000" in t for t in texts), [t[:200] for t in texts]
    n_code = sum(1 for c in nbformat.read(src, as_version=4).cells if c.cell_type == "code")
    assert panel.locator(".jp-CodeCell").count() == n_code


COUNTER = '''import anywidget, traitlets
class Counter(anywidget.AnyWidget):
    _esm = """
    function render({ model, el }) {
      const b = document.createElement("button");
      b.className = "tv-test-counter";
      const show = () => { b.textContent = "count " + model.get("value"); };
      b.onclick = () => { model.set("value", model.get("value") + 1); model.save_changes(); };
      model.on("change:value", show);
      show();
      el.appendChild(b);
    }
    export default { render };
    """
    value = traitlets.Int(0).tag(sync=True)
c = Counter()
c'''


def test_an_anywidget_renders_and_syncs_both_ways(lab):
    """The path every widget of the course takes: anywidget's front-end, comms, synced traits."""
    need_module("anywidget", "REQUIRE_BROWSER")
    write_notebook(lab.root / "counter.ipynb", [COUNTER, "print('value', c.value)", "c.value = 10"])
    lab.open("counter.ipynb")
    button = lab.run(0).locator("button.tv-test-counter")
    button.wait_for(timeout=30_000)
    assert button.text_content() == "count 0"
    button.click()
    button.click()
    lab.page.wait_for_function("() => document.querySelector('button.tv-test-counter')"
                               ".textContent === 'count 2'", timeout=10_000)
    lab.run(1)
    assert lab.output(1).split() == ["value", "2"]  # the clicks reached Python
    lab.run(2)
    lab.page.wait_for_function("() => document.querySelector('button.tv-test-counter')"
                               ".textContent === 'count 10'", timeout=10_000)
    lab.run(1)  # a re-run waits for its new count, and reads the new value
    assert lab.output(1).split() == ["value", "10"]
