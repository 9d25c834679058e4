"""Other pages try to drive the live view from a real headless chromium, and cannot.

The live view serves on 127.0.0.1; a second local server on another port plays the hostile
site. From (a) a sandboxed iframe (``Origin: null``), (b) a ``file://`` page, (c) plain HTML
forms and (d) ``fetch`` from the other origin, every state-changing endpoint is tried. The
training state is then read from Python: nothing changed. The page the live server sent (which
holds the session token) can still pause and resume, so the guard is not simply "refuse all".

The server logs which hostile requests reached it, so a test cannot pass because the browser
never sent anything; one control test turns the guard off and sees the same page pause training.
"""

from __future__ import annotations

import http.server
import random
import threading
import time

import pytest

import nn
from nn.live import LiveView
from nn.live import server as live_server

# every POST route of the live server, with parameters a real request would carry
CONTROLS = ["pause", "resume", "step", "select?i=3", "lr?v=5000"]
assert {f"/api/{c.split('?')[0]}" for c in CONTROLS} == {
    path for method, path in live_server.ROUTES if method == "POST"}, "a POST route is untested"

# What the hostile page runs: fetch in every mode it may use, sendBeacon, then a form per
# control posted into a hidden iframe. ``TARGET`` is the live server's origin.
ATTACK_JS = """
(async () => {
  const T = TARGET, controls = CONTROLS, tries = [];
  for (const c of controls) {
    const url = T + "/api/" + c;
    tries.push(fetch(url, {method: "POST", mode: "no-cors"}));
    tries.push(fetch(url, {method: "POST", mode: "no-cors", body: "X-Live-Token=guess",
                           headers: {"Content-Type": "text/plain"}}));
    tries.push(fetch(url, {method: "POST", headers: {"X-Live-Token": "guess"}}));  // preflighted
    tries.push(fetch(url, {method: "POST", credentials: "include"}));
    try { navigator.sendBeacon(url, "x"); } catch (e) {}
  }
  await Promise.allSettled(tries);
  for (const c of controls) {
    const sink = document.createElement("iframe");
    sink.name = "sink-" + c.replace(/\\W/g, "");
    document.body.appendChild(sink);
    const form = document.createElement("form");
    form.method = "POST";
    form.enctype = "text/plain";
    form.action = T + "/api/" + c;
    form.target = sink.name;
    const field = document.createElement("input");
    field.name = "X-Live-Token"; field.value = "guess";
    form.appendChild(field);
    document.body.appendChild(form);
    form.submit();
  }
  document.title = "attacked";
})();
"""


def attack_html(target: str, wrap_in_sandbox: bool = False) -> str:
    script = ATTACK_JS.replace("TARGET", repr(target)).replace("CONTROLS", repr(CONTROLS))
    inner = f"<!doctype html><body><script>{script}</script></body>"
    if not wrap_in_sandbox:
        return inner
    srcdoc = inner.replace("&", "&amp;").replace('"', "&quot;")
    return ('<!doctype html><body><iframe sandbox="allow-scripts allow-forms" '
            f'srcdoc="{srcdoc}"></iframe></body>')


def top_form_html(target: str, control: str) -> str:
    """A page that posts a form at the top level the moment it loads (the classic CSRF)."""
    return (f'<!doctype html><body><form id="f" method="POST" action="{target}/api/{control}">'
            '<input name="x" value="1"></form><script>document.getElementById("f").submit()'
            '</script></body>')


class HostileSite:
    """A second server on 127.0.0.1 (another port, so another origin) serving given pages."""

    def __init__(self) -> None:
        self.pages: dict = {}
        pages = self.pages

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the stdlib's name
                body = pages.get(self.path, "").encode()
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def hostile():
    site = HostileSite()
    yield site
    site.close()


@pytest.fixture
def seen(monkeypatch):
    """Every request the live server reads: (method, path, Origin header, status answered)."""
    log = []
    original_parse = live_server._Handler.parse_request
    original_send = live_server._Handler.send_response

    def parse_request(self):
        ok = original_parse(self)
        if ok:
            self._log = [self.command, self.path, self.headers.get("Origin"), None]
            log.append(self._log)
        return ok

    def send_response(self, code, message=None):
        if getattr(self, "_log", None) is not None and self._log[3] is None:
            self._log[3] = code
        original_send(self, code, message)

    monkeypatch.setattr(live_server._Handler, "parse_request", parse_request)
    monkeypatch.setattr(live_server._Handler, "send_response", send_response)
    return log


def make_view():
    X, y = nn.data.make_moons(n_samples=30, noise=0.1, random_state=1, signed=True)
    random.seed(1337)
    model = nn.MLP(2, [4, 4, 1], use_dot=True)
    opt = nn.optim.SGD(model.parameters(), lr=0.25)
    # wait_for_browser: a hostile page must not count as the learner's browser either
    return LiveView(model, X, y, quiet=True, grid=8, sample=0, optimizer=opt,
                    wait_for_browser=True, max_pause=None)


def training_state(view):
    return {"status": view.status(), "sample": view.sample, "lr": view.optimizer.lr,
            "step_budget": view._step_budget, "viewer": view._viewer.is_set()}


def wait_for(cond, timeout=10.0, what="condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def posts(log, origin):
    return [entry for entry in log if entry[0] == "POST" and entry[2] == origin]


def run_attack(browser, view, page_url, origin, seen, controls_expected=True):
    """Open ``page_url``, wait until every form post reached the live server, check nothing."""
    before = training_state(view)
    page = browser.new_page()
    try:
        page.goto(page_url)
        # forms are navigations: every browser sends them, with an Origin header
        wait_for(lambda: len({e[1] for e in posts(seen, origin)}) >= len(CONTROLS), what=(
            f"the hostile page's posts from {origin} to reach the live server"))
        time.sleep(0.5)  # any straggling fetch or beacon
    finally:
        page.close()
    hits = posts(seen, origin)
    assert {e[1] for e in hits} == {"/api/" + c for c in CONTROLS}
    assert all(e[3] == 403 for e in hits), [e for e in hits if e[3] != 403]
    # the fetches and beacons arrived too (not only the forms), and each token-carrying fetch
    # stopped at its preflight, which is refused
    assert len(hits) >= 3 * len(CONTROLS), hits
    preflights = [e for e in seen if e[0] == "OPTIONS" and e[2] == origin]
    assert preflights and all(e[3] == 405 for e in preflights)
    assert training_state(view) == before
    return hits


def test_a_sandboxed_iframe_cannot_drive_training(browser, hostile, seen):
    view = make_view()
    try:
        hostile.pages["/sandbox.html"] = attack_html(f"http://127.0.0.1:{view.port}",
                                                     wrap_in_sandbox=True)
        run_attack(browser, view, hostile.origin + "/sandbox.html", "null", seen)
    finally:
        view.close()


def test_a_file_page_cannot_drive_training(browser, seen, tmp_path):
    view = make_view()
    try:
        path = tmp_path / "attack.html"
        path.write_text(attack_html(f"http://127.0.0.1:{view.port}"), encoding="utf-8")
        run_attack(browser, view, path.as_uri(), "null", seen)
    finally:
        view.close()


def test_fetch_and_forms_from_another_local_origin_cannot_drive_training(browser, hostile, seen):
    view = make_view()
    try:
        target = f"http://127.0.0.1:{view.port}"
        hostile.pages["/attack.html"] = attack_html(target)
        hits = run_attack(browser, view, hostile.origin + "/attack.html", hostile.origin, seen)
        # top-level forms, and pages that only load the live server's URLs as images/scripts
        for control in CONTROLS:
            hostile.pages[f"/form-{control}"] = top_form_html(target, control)
        hostile.pages["/embed.html"] = (
            f'<!doctype html><img src="{target}/"><img src="{target}/api/state">'
            f'<script src="{target}/events"></script><iframe src="{target}/"></iframe>')
        page = browser.new_page()
        try:
            for control in CONTROLS:
                page.goto(hostile.origin + f"/form-{control}")
                wait_for(lambda c=control: any(e[1] == f"/api/{c}" and e[3]
                                               for e in posts(seen, hostile.origin)[len(hits):]),
                         what=f"the top-level form for {control}")
            page.goto(hostile.origin + "/embed.html")
            wait_for(lambda: sum(e[0] == "GET" and e[1] == "/" for e in seen) >= 2,
                     what="the embedding page's requests")
            time.sleep(0.3)
        finally:
            page.close()
        assert all(e[3] == 403 for e in posts(seen, hostile.origin))
        assert training_state(view)["status"] == "running"
        assert not training_state(view)["viewer"], "a foreign page counted as the learner's browser"
    finally:
        view.close()


def test_a_link_from_another_page_still_lets_the_learner_in(browser, hostile):
    """The learner may click the URL in a notebook: the page's own requests count as arrived."""
    view = make_view()
    try:
        hostile.pages["/link.html"] = f'<!doctype html><a id="go" href="{view.url}">live</a>'
        page = browser.new_page()
        try:
            page.goto(hostile.origin + "/link.html")
            page.click("#go")
            wait_for(view._viewer.is_set, what="the live page's own requests")
            page.click("#btn-pause")
            wait_for(lambda: view.status() == "paused", what="the page's pause")
        finally:
            page.close()
    finally:
        view.close()


def test_the_page_itself_can_still_pause_and_resume(browser, seen):
    view = make_view()
    try:
        page = browser.new_page()
        try:
            page.goto(view.url)
            assert view._viewer.is_set(), "opening the page is what lets training start"
            page.click("#btn-pause")
            wait_for(lambda: view.status() == "paused", what="the page's pause")
            page.click("#btn-resume")
            wait_for(lambda: view.status() == "running", what="the page's resume")
        finally:
            page.close()
        assert [e[3] for e in seen if e[0] == "POST"] == [200, 200]
    finally:
        view.close()


def test_control_without_the_guard_the_same_form_pauses_training(browser, hostile, seen,
                                                                 monkeypatch):
    """Proves the attacks above are live: with the origin/token check off, a form pauses."""
    monkeypatch.setattr(live_server._Handler, "_check_origin", lambda self: None)
    view = make_view()
    try:
        hostile.pages["/form"] = top_form_html(f"http://127.0.0.1:{view.port}", "pause")
        page = browser.new_page()
        try:
            page.goto(hostile.origin + "/form")
            wait_for(lambda: view.status() == "paused", what="the unguarded pause")
        finally:
            page.close()
    finally:
        view.close()
