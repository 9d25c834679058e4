"""The live view over real HTTP on loopback: state and events arrive, controls work, bad requests
get 4xx, and the training loop survives garbage."""

from __future__ import annotations

import http.client
import json
import random
import socket
import threading
import time

import pytest
from conftest import need_dot

import nn
from nn.live import LiveRecorder, LiveView, render_page


def moons(n=30):
    return nn.data.make_moons(n_samples=n, noise=0.1, random_state=1, signed=True)


def small_model():
    random.seed(1337)
    return nn.MLP(2, [4, 4, 1], use_dot=True)


class Trainer:
    """nn.fit in a background thread with the view's callback; remembers how far it got."""

    def __init__(self, view, model, X, y, steps):
        self.steps_done = 0
        self.error = None

        def callback(step, history, m):
            view.callback(step, history, m)
            self.steps_done = step + 1

        def run():
            try:
                nn.fit(model, X, y, loss="hinge", steps=steps, l2=1e-4,
                       optimizer=nn.optim.SGD(model.parameters(), lr=0.5),
                       callback=callback, progress=False)
            except BaseException as exc:  # pragma: no cover - reported by the test
                self.error = exc
            finally:
                view.finish()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def join(self, timeout=20):
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "training did not finish"
        assert self.error is None, self.error


def request(view, method, path, body=None, headers=None, token=True):
    """One request; a POST carries the page's session token unless ``token=False``."""
    headers = dict(headers or {})
    if method == "POST" and token:
        headers.setdefault("X-Live-Token", view.token)
    conn = http.client.HTTPConnection("127.0.0.1", view.port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.getheader("Content-Type", ""), resp.read()
    finally:
        conn.close()


def get_json(view, path):
    status, ctype, body = request(view, "GET", path)
    assert status == 200, body
    assert ctype.startswith("application/json")
    return json.loads(body)


def wait_until(cond, timeout=10.0, what="condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def view():
    X, y = moons()
    model = small_model()
    v = LiveView(model, X, y, quiet=True, grid=16, graph_every=5, sample=0)
    v.test_data = (model, X, y)
    yield v
    v.close()


def test_serves_on_loopback_only():
    X, y = moons()
    with pytest.raises(ValueError, match="loopback"):
        LiveView(small_model(), X, y, host="0.0.0.0", quiet=True)
    with pytest.raises(ValueError, match="2 numbers"):
        LiveView(small_model(), [[1.0, 2.0, 3.0]], [1], quiet=True)
    with LiveView(small_model(), X, y, quiet=True) as v:
        assert v.url == f"http://127.0.0.1:{v.port}/"
        assert v._server.server_address[0] == "127.0.0.1"


def test_page_and_state_follow_training(view):
    status, ctype, body = request(view, "GET", "/")
    assert status == 200 and ctype.startswith("text/html")
    assert b"EventSource" in body and b"<canvas" in body
    assert b"http://" not in body.replace(b"http://www.w3.org", b"")  # no CDN, works offline

    model, X, y = view.test_data
    trainer = Trainer(view, model, X, y, steps=25)
    trainer.join()
    wait_until(lambda: (get_json(view, "/api/state")["picture"] or {}).get("step") == 24,
               what="last picture")  # None until the first picture is drawn
    state = get_json(view, "/api/state")
    assert state["status"] == "done"
    assert state["steps"] == list(range(25))
    assert len(state["loss"]) == len(state["acc"]) == 25
    assert all(0.0 <= a <= 1.0 for a in state["acc"])
    assert state["loss"][-1] < state["loss"][0]
    boundary = state["picture"]["boundary"]
    assert len(boundary["z"]) == boundary["n"] ** 2 == 16 * 16
    weights = state["picture"]["weights"]
    assert [len(layer["rows"]) for layer in weights] == [4, 4, 1]
    assert [len(layer["rows"][0]) for layer in weights] == [3, 5, 5]  # weights + bias
    tail = get_json(view, "/api/state?since=20")
    assert tail["curve_from"] == 20 and tail["steps"] == [20, 21, 22, 23, 24]


def test_events_stream_delivers_updates(view):
    model, X, y = view.test_data
    conn = http.client.HTTPConnection("127.0.0.1", view.port, timeout=10)
    conn.request("GET", "/events")
    resp = conn.getresponse()
    assert resp.status == 200
    assert resp.getheader("Content-Type") == "text/event-stream"
    trainer = Trainer(view, model, X, y, steps=30)
    seen_steps, statuses, pictures = [], set(), []
    # pictures are drawn off-thread and 30 steps can end before the first one is drawn: read
    # on after "done" until one arrives (keep-alive lines keep the loop turning)
    deadline = time.monotonic() + 60
    while True:
        assert time.monotonic() < deadline, f"no picture 60 s after {len(seen_steps)} steps"
        line = resp.fp.readline()
        assert line, "stream ended early"
        if not line.startswith(b"data: "):
            continue
        event = json.loads(line[6:])
        assert event["curve_from"] == len(seen_steps)  # each event carries only what is new
        seen_steps += event["steps"]
        statuses.add(event["status"])
        if event["picture"] is not None:
            pictures.append(event["picture"]["step"])
        if event["status"] == "done" and len(seen_steps) == 30 and pictures:
            break
    conn.close()
    trainer.join()
    assert seen_steps == list(range(30))
    assert "done" in statuses
    assert pictures and pictures == sorted(pictures)  # each new picture sent once


def test_pause_step_resume_control_the_training_loop(view):
    model, X, y = view.test_data
    assert request(view, "POST", "/api/pause")[0] == 200
    trainer = Trainer(view, model, X, y, steps=40)
    # paused: the training thread waits inside the callback after its first step
    wait_until(lambda: get_json(view, "/api/state")["step"] == 0, what="first step")
    time.sleep(0.3)
    assert get_json(view, "/api/state")["status"] == "paused"
    assert trainer.steps_done == 0  # still inside the first callback
    assert len(get_json(view, "/api/state")["steps"]) == 1
    for expected in (2, 3):
        assert request(view, "POST", "/api/step")[0] == 200
        wait_until(lambda n=expected: len(get_json(view, "/api/state")["steps"]) == n,
                   what="one step")
        time.sleep(0.2)
        assert len(get_json(view, "/api/state")["steps"]) == expected  # exactly one step each
    assert request(view, "POST", "/api/resume")[0] == 200
    trainer.join()
    state = get_json(view, "/api/state")
    assert state["status"] == "done" and len(state["steps"]) == 40


def test_select_chooses_the_sample_and_graph_is_svg(view):
    need_dot()
    model, X, y = view.test_data
    Trainer(view, model, X, y, steps=10).join()
    wait_until(lambda: get_json(view, "/api/state")["graph"]["ready"], what="graph")
    status, ctype, body = request(view, "GET", "/graph.svg?v=1")
    assert status == 200 and ctype.startswith("image/svg+xml")
    assert b"<svg" in body and b"grad" in body
    before = get_json(view, "/api/state")["graph"]["version"]
    status, _, body = request(view, "POST", "/api/select?i=7")
    assert status == 200 and json.loads(body)["sample"] == 7
    wait_until(lambda: get_json(view, "/api/state")["graph"]["sample"] == 7, what="redraw")
    state = get_json(view, "/api/state")
    assert state["sample"] == 7 and state["graph"]["version"] > before and state["graph"]["ready"]


@pytest.mark.parametrize("method, path, status", [
    ("GET", "/nope", 404),
    ("GET", "/../../etc/passwd", 404),
    ("GET", "/api", 404),
    ("GET", "/api/state?since=abc", 400),
    ("GET", "/api/state?since=-1", 400),
    ("GET", "/api/state?bogus=1", 400),
    ("GET", "/api/state?since=1&since=2", 400),
    ("GET", "/api/state?" + "&".join(f"a{i}=1" for i in range(50)), 400),
    ("GET", "/events?since=1e9", 400),
    ("GET", "/graph.svg?v=x", 400),
    ("POST", "/api/select", 400),
    ("POST", "/api/select?i=999", 400),
    ("POST", "/api/select?i=%00", 400),
    ("POST", "/api/pause?now=1", 400),
    ("GET", "/api/pause", 405),
    ("POST", "/", 405),
    ("DELETE", "/api/state", 405),
])
def test_bad_requests_get_4xx(view, method, path, status):
    got, ctype, body = request(view, method, path)
    assert got == status, body
    assert json.loads(body)["status"] == status


def test_foreign_host_origin_and_big_bodies_are_refused(view):
    assert request(view, "GET", "/", headers={"Host": "evil.example:80"})[0] == 403
    assert request(view, "POST", "/api/pause", headers={"Origin": "http://evil.example"})[0] == 403
    assert get_json(view, "/api/state")["status"] == "running"  # the pause did not happen
    assert request(view, "POST", "/api/pause", body=b"x" * 5000)[0] == 413
    assert request(view, "POST", "/api/pause", headers={"Content-Length": "zz"})[0] == 400


def _raw(port, data: bytes, read=True):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(data)
        if not read:
            return b""
        try:
            s.shutdown(socket.SHUT_WR)
        except OSError:  # the server already answered and hung up (ENOTCONN): read what it sent
            pass
        chunks = []
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        except OSError:
            pass
        return b"".join(chunks)


def test_training_survives_garbage(view):
    model, X, y = view.test_data
    view.min_step_seconds = 0.01
    trainer = Trainer(view, model, X, y, steps=60)
    garbage = [
        b"GARBAGE\r\n\r\n",
        b"\x00\xff\xfe\x16\x03\x01" * 200,  # binary noise, a TLS hello
        b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n",  # an over-long request line
        b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 200 + b"\r\n",  # too many headers
        b"GET /api/state?since=%ff%fe HTTP/1.0\r\n\r\n",
        b"POST /api/step HTTP/1.0\r\nContent-Length: 10\r\n\r\nabc",  # short body, then hang-up
    ]
    _raw(view.port, b"GET /events HTTP/1.0\r\n\r\n", read=False)  # a stream opened and dropped
    for data in garbage:
        answer = _raw(view.port, data)
        if answer.startswith(b"HTTP/"):  # (an HTTP/0.9-style line gets a bare error body)
            code = int(answer.split(b" ", 2)[1])
            assert code < 500 or code == 501, answer[:200]  # 501: an unknown method
    # clients that connect and say nothing are cut off by the handler's timeout, not queued forever
    idle = [socket.create_connection(("127.0.0.1", view.port), timeout=5) for _ in range(5)]
    assert get_json(view, "/api/state")["status"] in ("running", "done")
    for s in idle:
        s.close()
    trainer.join()
    state = get_json(view, "/api/state")
    assert state["status"] == "done" and len(state["steps"]) == 60


def test_close_releases_a_paused_loop_and_stops_serving():
    X, y = moons()
    model = small_model()
    v = LiveView(model, X, y, quiet=True, grid=8, start_paused=True)
    trainer = Trainer(v, model, X, y, steps=20)
    wait_until(lambda: len(v.state()["steps"]) == 1, what="first step")
    conn = http.client.HTTPConnection("127.0.0.1", v.port, timeout=10)
    conn.request("GET", "/events")
    stream = conn.getresponse()
    port = v.port
    t0 = time.monotonic()
    v.close()
    assert time.monotonic() - t0 < 5
    trainer.join()  # the callback returns at once after close
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    stream.read()  # the event stream ends instead of hanging
    conn.close()
    v.close()  # twice is fine


def test_view_run_uses_nn_fit():
    X, y = moons(20)
    model = small_model()
    with LiveView(model, X, y, quiet=True, grid=8) as v:
        history = v.run(loss="hinge", steps=5, progress=False,
                        optimizer=nn.optim.SGD(model.parameters(), lr=0.1))
        assert len(history.loss) == 5
        state = v.state()
        assert state["status"] == "done" and state["steps"] == [0, 1, 2, 3, 4]


def test_recorder_writes_a_self_contained_replay(tmp_path):
    X, y = moons()
    model = small_model()
    path = tmp_path / "sub" / "run.html"
    rec = LiveRecorder(model, X, y, path, every=3, grid=12, max_graphs=2,
                       title="a </script><b>title</b>")
    nn.fit(model, X, y, loss="hinge", steps=10, callback=rec.callback, progress=False,
           optimizer=nn.optim.SGD(model.parameters(), lr=0.5))
    assert rec.save() == path
    assert sorted(p.name for p in path.parent.iterdir()) == ["run.html"]  # no temp file left
    html = path.read_text(encoding="utf-8")
    assert "</script><b>" not in html  # the title cannot break out of the data block
    start = html.index('<script id="config" type="application/json">') + len(
        '<script id="config" type="application/json">')
    config = json.loads(html[start:html.index("</script>", start)])
    assert config["mode"] == "replay" and config["title"] == "a </script><b>title</b>"
    assert [f["step"] for f in config["frames"]] == [-1, 0, 3, 6, 9]
    assert config["steps"] == list(range(10)) and len(config["loss"]) == 10
    assert all(len(f["boundary"]["z"]) == 144 for f in config["frames"])
    assert 1 <= sum("svg" in f or "svg_error" in f for f in config["frames"]) <= 2
    for src in ("src=\"http", "src='http", "href=\"http"):
        assert src not in html  # nothing fetched from the network


def test_render_page_escapes_script_breakers():
    html = render_page({"mode": "replay", "title": "</script><script>alert(1)</script>&"})
    assert "<script>alert(1)" not in html and "\\u003c/script\\u003e" in html


def test_live_page_goes_through_the_one_page_pipeline(monkeypatch, tmp_path):
    """render_page fills page.html with show/page.py's ``fill`` (placeholders in the data stay
    text) and LiveRecorder.save writes with its ``write_page``."""
    from tinygrad_value.show import page as pipeline

    html = render_page({"mode": "replay", "title": "$css & $js"})
    assert "<title>$css &amp; $js</title>" in html  # a title is text, never a placeholder
    assert "$body" not in html and "$config" not in html and "/*__" not in html
    filled, written = [], []
    real_fill, real_write = pipeline.fill, pipeline.write_page
    monkeypatch.setattr("nn.live.page.fill",
                        lambda t, **kw: filled.append(kw) or real_fill(t, **kw))
    monkeypatch.setattr("nn.live.recorder.write_page",
                        lambda p, text: written.append(p) or real_write(p, text))
    X, y = moons()
    rec = LiveRecorder(small_model(), X, y, tmp_path / "r.html", max_graphs=0, grid=6)
    rec.save()
    assert [sorted(kw) for kw in filled] == [["body", "config", "css", "js", "title"]]
    assert written == [tmp_path / "r.html"] and (tmp_path / "r.html").exists()
