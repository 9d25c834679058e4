"""The live page and the recorded replay in a real browser (headless chromium via Playwright)."""

from __future__ import annotations

import random
import threading
import time

import nn
from nn.live import LiveRecorder, LiveView


def moons_model():
    X, y = nn.data.make_moons(n_samples=40, noise=0.1, random_state=1, signed=True)
    random.seed(1337)
    return nn.MLP(2, [6, 6, 1], use_dot=True), X, y


def open_page(browser, url):
    # bypass_csp: the page forbids eval, which Playwright's wait_for_function uses
    page = browser.new_page(viewport={"width": 1280, "height": 1000}, bypass_csp=True)
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    return page, errors


def canvas(page, selector):
    return page.eval_on_selector(selector, "c => c.toDataURL()")


def test_live_page_follows_training_and_its_buttons_drive_it(browser, tmp_path):
    model, X, y = moons_model()
    view = LiveView(model, X, y, quiet=True, grid=24, graph_every=10, min_step_seconds=0.04)
    done = threading.Event()

    def train():
        try:
            nn.fit(model, X, y, loss="hinge", steps=100, l2=1e-4, progress=False,
                   optimizer=nn.optim.SGD(model.parameters(), lr=0.3), callback=view.callback)
        finally:
            view.finish()
            done.set()

    try:
        page, errors = open_page(browser, view.url)
        threading.Thread(target=train, daemon=True).start()

        def steps():
            return page.evaluate("LIVE.S.steps.length")

        page.wait_for_function("LIVE.S.steps.length >= 5", timeout=10_000)
        curve1, boundary1 = canvas(page, "#curves"), canvas(page, "#boundary")
        n1 = steps()
        page.wait_for_function(f"LIVE.S.steps.length >= {n1 + 15}", timeout=10_000)
        assert canvas(page, "#curves") != curve1, "the loss curve did not grow"
        page.wait_for_function("LIVE.S.picture && LIVE.S.picture.step >= 10", timeout=10_000)
        assert canvas(page, "#boundary") != boundary1, "the boundary image did not change"
        assert page.text_content("#status") == "running"

        page.click("#btn-pause")
        page.wait_for_function("document.getElementById('status').textContent === 'paused'",
                               timeout=5_000)
        time.sleep(0.3)
        paused_at = steps()
        time.sleep(0.5)
        assert steps() == paused_at, "training went on while paused"
        shown = int(page.text_content("#m-step"))

        page.click("#btn-step")
        page.wait_for_function(f"LIVE.S.steps.length === {paused_at + 1}", timeout=5_000)
        page.wait_for_function(f"document.getElementById('m-step').textContent === '{shown + 1}'",
                               timeout=5_000)
        time.sleep(0.3)
        assert steps() == paused_at + 1, "step must advance exactly one step"
        assert page.text_content("#status") == "paused"

        # clicking a data point chooses the sample whose loss graph is drawn
        box = page.eval_on_selector("#boundary", "c => { const r = c.getBoundingClientRect();"
                                                 " return [r.width, r.height]; }")
        target = page.evaluate(
            f"LIVE.toPx(LIVE.S.bounds, {box[0]}, {box[1]}, ...LIVE.CFG.points.x[5])")
        page.click("#boundary", position={"x": target[0], "y": target[1]})
        page.wait_for_function("LIVE.S.graphVersion >= 0 && document.getElementById('graph-sample')"
                               ".textContent === '#5'", timeout=15_000)

        page.click("#btn-resume")
        page.wait_for_function("document.getElementById('status').textContent === 'running'",
                               timeout=5_000)
        page.wait_for_function(f"LIVE.S.steps.length > {paused_at + 5}", timeout=10_000)
        view.min_step_seconds = 0.0
        assert done.wait(30)
        page.wait_for_function("document.getElementById('status').textContent === 'done'",
                               timeout=10_000)
        page.screenshot(path=str(tmp_path / "live.png"), full_page=True)
        assert not errors, errors
        page.close()
    finally:
        view.close()


def test_recorded_replay_opens_offline_and_its_slider_works(browser, tmp_path):
    model, X, y = moons_model()
    path = tmp_path / "run.html"
    rec = LiveRecorder(model, X, y, path, every=5, grid=20, max_graphs=2)
    nn.fit(model, X, y, loss="hinge", steps=30, l2=1e-4, progress=False,
           optimizer=nn.optim.SGD(model.parameters(), lr=0.5), callback=rec.callback)
    rec.save()

    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors, remote = [], []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    local = ("file:", "data:")
    page.on("request", lambda r: None if r.url.startswith(local) else remote.append(r.url))
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(local)
               else route.abort())
    page.goto(path.as_uri())
    assert page.text_content("#status") == "replay"
    assert page.input_value("#slider") == "7"  # opens on the last frame: -1, 0, 5, ..., 29
    assert page.text_content("#m-step") == "29"
    last = canvas(page, "#boundary")
    page.fill("#slider", "0")
    page.dispatch_event("#slider", "input")
    assert page.text_content("#m-step") == "start"
    assert canvas(page, "#boundary") != last
    page.fill("#slider", "3")
    page.dispatch_event("#slider", "input")
    assert page.text_content("#m-step") == "10"
    assert page.is_visible("#graph")
    assert page.get_attribute("#graph", "src").startswith("data:image/svg+xml")
    page.click("#btn-play")
    page.wait_for_function("document.getElementById('slider').value === '7'", timeout=10_000)
    assert not errors, errors
    assert not remote, remote
    page.close()
