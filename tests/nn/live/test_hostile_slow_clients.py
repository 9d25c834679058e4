"""Slow and idle clients cannot starve the live server (loopback only, bounded in count and time).

40 connections dribble one byte of a request head every 2 s and reconnect when cut off, and 32
more connect and say nothing, for longer than the head deadline; meanwhile ordinary requests (the
page's state poll and a token-carrying pause) must each be answered within a second, and the
training loop must keep stepping.
"""

from __future__ import annotations

import http.client
import json
import random
import socket
import threading
import time

import nn
from nn.live import LiveView
from nn.live import listener as live_listener

SLOW, IDLE = 40, 32
DRIBBLE_GAP = 2.0  # seconds between one slow client's bytes
ATTACK_SECONDS = 1.6 * live_listener.HEAD_DEADLINE  # every slow client is cut off at least once
HEAD = b"GET /api/state HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 200 + b"\r\n\r\n"


def make_view(**kw):
    X, y = nn.data.make_moons(n_samples=30, noise=0.1, random_state=1, signed=True)
    random.seed(1337)
    model = nn.MLP(2, [4, 4, 1], use_dot=True)
    view = LiveView(model, X, y, quiet=True, grid=8, sample=0, wait_for_browser=False, **kw)
    return view, model, X, y


class Crowd:
    """SLOW dribbling and IDLE silent connections, each replaced when the server closes it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.stop = threading.Event()
        self.connects = 0
        self.closed_by_server = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _connect(self):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=2)
        s.setblocking(False)
        self.connects += 1
        return s

    def _alive(self, s) -> bool:
        try:
            return s.recv(1, socket.MSG_PEEK) != b""
        except BlockingIOError:
            return True
        except OSError:
            return False

    def _run(self) -> None:
        start = time.monotonic()
        # slow clients start staggered over one gap so the server sees a steady trickle
        slow = [[self._connect(), 0, start + DRIBBLE_GAP * i / SLOW] for i in range(SLOW)]
        idle = [self._connect() for _ in range(IDLE)]
        try:
            while not self.stop.is_set():
                now = time.monotonic()
                for entry in slow:
                    s, sent, due = entry
                    if now < due:
                        continue
                    try:
                        if sent >= len(HEAD) or not self._alive(s):
                            raise OSError
                        s.send(HEAD[sent:sent + 1])
                        entry[1], entry[2] = sent + 1, now + DRIBBLE_GAP
                    except OSError:
                        self.closed_by_server += 1
                        s.close()
                        entry[:] = [self._connect(), 0, now]
                for i, s in enumerate(idle):
                    if not self._alive(s):
                        self.closed_by_server += 1
                        s.close()
                        idle[i] = self._connect()
                self.stop.wait(0.05)
        finally:
            for s in [e[0] for e in slow] + idle:
                s.close()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(10)


def timed(view, method, path, token=False):
    headers = {"X-Live-Token": view.token} if token else {}
    t0 = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", view.port, timeout=5)
    try:
        conn.request(method, path, headers=headers)
        resp = conn.getresponse()
        body = resp.read()
    finally:
        conn.close()
    return resp.status, body, time.monotonic() - t0


def test_normal_requests_answer_within_a_second_while_slow_and_idle_clients_hang():
    view, model, X, y = make_view(min_step_seconds=0.02)
    done = threading.Event()

    def train():
        try:
            nn.fit(model, X, y, loss="hinge", steps=100_000, progress=False,
                   optimizer=nn.optim.SGD(model.parameters(), lr=0.1),
                   callback=lambda k, h, m: False if done.is_set() else view.callback(k, h, m))
        finally:
            view.finish()

    trainer = threading.Thread(target=train, daemon=True)
    trainer.start()
    worst, answered = 0.0, 0
    try:
        with Crowd(view.port) as crowd:
            time.sleep(0.5)  # everyone is connected and holding on
            step_before = view.state()["step"]
            end = time.monotonic() + ATTACK_SECONDS
            while time.monotonic() < end:
                status, body, seconds = timed(view, "GET", "/api/state")
                assert status == 200 and json.loads(body)["status"] in ("running", "paused")
                worst = max(worst, seconds)
                status, _, seconds = timed(view, "POST", "/api/resume", token=True)
                assert status == 200
                worst = max(worst, seconds)
                answered += 2
                time.sleep(0.2)
            step_after = view.state()["step"]
            assert crowd.connects >= SLOW + IDLE
        cut_off = view._server.listener.cut_off
    finally:
        done.set()
        trainer.join(10)
        view.close()
    assert worst < 1.0, f"a normal request took {worst:.2f} s while slow clients hung on"
    assert answered >= 20
    assert step_after > step_before, "training stalled while slow clients hung on"
    # the deadline really cut the slow and idle clients off (not just the test giving up)
    assert cut_off >= SLOW + IDLE and crowd.closed_by_server >= SLOW + IDLE


def test_a_slow_but_complete_head_is_answered_and_an_endless_one_is_cut_off():
    view, *_ = make_view()
    try:
        request = b"GET /api/state HTTP/1.0\r\n\r\n"
        with socket.create_connection(("127.0.0.1", view.port), timeout=10) as s:
            for i in range(len(request)):  # the whole head in ~1.4 s: within the deadline
                s.sendall(request[i:i + 1])
                time.sleep(0.05)
            answer = s.recv(65536)
        assert answer.startswith(b"HTTP/1.0 200")
        with socket.create_connection(("127.0.0.1", view.port), timeout=10) as s:
            t0 = time.monotonic()
            s.sendall(b"GET /api/state HTTP/1.0\r\nX: ")
            closed = None
            while time.monotonic() - t0 < 2 * live_listener.HEAD_DEADLINE:
                try:
                    s.sendall(b"a")
                except OSError:
                    closed = time.monotonic() - t0
                    break
                s.settimeout(0.25)
                try:
                    if s.recv(1) == b"":
                        closed = time.monotonic() - t0
                        break
                except socket.timeout:
                    pass
        assert closed is not None, "a client dribbling forever was never cut off"
        assert live_listener.HEAD_DEADLINE - 0.5 <= closed <= live_listener.HEAD_DEADLINE + 1.5
    finally:
        view.close()
