"""The live view's HTTP server: standard library only, loopback only, every request bounded.

Routes (anything else is 404; a wrong method 405; unknown or malformed parameters 400):

    GET  /                 the page
    GET  /api/state?since=N&g=G  JSON: status, curves from index N (of generation G: curves are
                                 thinned on long runs), boundary, weights, graph info
    GET  /events?since=N&g=G     the same JSON as server-sent events, one per change
    GET  /graph.svg?v=N        the chosen sample's loss graph (v only busts the browser cache)
    POST /api/pause  /api/resume  /api/step  /api/select?i=N  /api/lr?v=N (lr = N / 1e6)

Every POST must carry the session's token (``X-Live-Token``, which only our own page knows: it
is embedded in the page, and another origin cannot read the page) and, if it names an origin,
come from this server's own. A form or a ``fetch`` from another page, a sandboxed iframe or a
``file://`` page (``Origin: null``) cannot set that header without a CORS preflight, and the
preflight (OPTIONS) is refused. A viewer counts as arrived (which starts a run that waits for a
browser) only from a request the browser marks as our page's own or typed in (``Sec-Fetch-Site``
``same-origin`` or ``none``; a client that sends no such header counts too): another page that
merely loads our URLs as images, scripts or frames does not. Reading request heads is
``listener.py``'s job.
"""

from __future__ import annotations

import hmac
import io
import json
import socket
import socketserver
import threading
import time
from http.server import BaseHTTPRequestHandler
from typing import Dict, Optional
from urllib.parse import parse_qsl, urlsplit

from .listener import MAX_BODY, Listener

MAX_STREAMS = 32  # open /events streams at once; more get 429 and the page polls instead
TOKEN_HEADER = "X-Live-Token"
EVENT_GAP = 0.1  # at most ~10 events per second per stream
KEEPALIVE = 15.0

ROUTES = {
    ("GET", "/"): ((), "page"),
    ("GET", "/index.html"): ((), "page"),
    ("GET", "/api/state"): (("since", "g"), "state"),
    ("GET", "/events"): (("since", "g"), "events"),
    ("GET", "/graph.svg"): (("v",), "graph"),
    ("GET", "/favicon.ico"): ((), "favicon"),
    ("POST", "/api/pause"): ((), "pause"),
    ("POST", "/api/resume"): ((), "resume"),
    ("POST", "/api/step"): ((), "step"),
    ("POST", "/api/select"): (("i",), "select"),
    ("POST", "/api/lr"): (("v",), "lr"),
}
PATHS = {path for _, path in ROUTES}


def _loopback_hosts(port: int) -> set:
    """The Host headers this server answers to: its loopback names with its port."""
    return {f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"}


class BadRequest(Exception):
    """Answered with a 4xx status and a one-line reason; never reaches the training loop."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


class _Server:
    """The listening socket, its selector thread, and what the handlers share."""

    def __init__(self, address, view, family) -> None:
        self.view = view
        self.streams = threading.BoundedSemaphore(MAX_STREAMS)
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
            sock.listen(128)
        except OSError:
            sock.close()
            raise
        self.server_address = sock.getsockname()[:2]
        self.listener = Listener(sock, self._handle)
        self.listener.start()

    def _handle(self, conn, addr, data: bytes) -> None:
        _Handler((conn, data), addr, self)

    def close(self) -> None:
        self.listener.stop()


class _Handler(BaseHTTPRequestHandler):
    server_version = "tinygrad-value-live"
    protocol_version = "HTTP/1.0"  # one request per connection: nothing lingers
    timeout = 10  # seconds for a client to accept our bytes (its request is already read)

    def setup(self) -> None:
        """The request arrives whole (read by the listener); answers go straight to the socket."""
        self.connection, data = self.request
        self.connection.settimeout(self.timeout)
        self.rfile = io.BytesIO(data)
        self.wfile = socketserver._SocketWriter(self.connection)

    def log_message(self, format, *args) -> None:  # noqa: A002 - the stdlib's name
        pass

    def send_error(self, code, message=None, explain=None) -> None:
        """The stdlib's parse errors (400, 414, 431, 501) as our short JSON answers."""
        self.close_connection = True
        try:
            self._send_error(code, message or self.responses.get(code, ("error",))[0])
        except OSError:
            pass

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _not_allowed(self) -> None:
        self._send_error(405, "method not allowed")

    do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _not_allowed

    # --- plumbing ---------------------------------------------------------------------------

    def _dispatch(self, method: str) -> None:
        try:
            self._check_host()
            parts = urlsplit(self.path)
            key = (method, parts.path)
            if key not in ROUTES:
                if parts.path in PATHS:
                    raise BadRequest(405, f"{method} is not allowed on {parts.path}")
                raise BadRequest(404, f"no such page: {parts.path[:100]}")
            allowed, action = ROUTES[key]
            params = self._params(parts.query, allowed)
            if method == "POST":
                self._check_origin()
                self._drain_body()
            getattr(self, "_do_" + action)(params)
        except BadRequest as exc:
            self._send_error(exc.status, str(exc))
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            pass
        except Exception as exc:  # a bug here must not take anything else down
            try:
                self._send_error(500, f"{type(exc).__name__}")
            except OSError:
                pass

    def _check_host(self) -> None:
        """Refuse requests addressed to another host name (DNS-rebinding guard)."""
        host = self.headers.get("Host")
        if host is None:
            return
        if host.strip().lower() not in _loopback_hosts(self.server.server_address[1]):
            raise BadRequest(403, "this server answers only to 127.0.0.1")

    def _viewer_arrived(self) -> None:
        """Count this request as the learner's browser unless another site made it."""
        if self.headers.get("Sec-Fetch-Site", "none").strip().lower() in ("none", "same-origin"):
            self.server.view.viewer_arrived()

    def _check_origin(self) -> None:
        """Controls may be pressed only from our own page: its origin, and its session token."""
        origin = self.headers.get("Origin")
        if origin is not None and origin != "null":
            hosts = _loopback_hosts(self.server.server_address[1])
            if origin.lower() not in {"http://" + host for host in hosts}:
                raise BadRequest(403, "cross-origin request refused")
        token = self.headers.get(TOKEN_HEADER, "")
        if not hmac.compare_digest(token.encode("utf-8", "replace"),
                                   self.server.view.token.encode()):
            raise BadRequest(403, f"missing or wrong {TOKEN_HEADER}: controls work only from "
                                  "the page this server sent")

    def _drain_body(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError as exc:
            raise BadRequest(400, "bad Content-Length") from exc
        if length < 0:
            raise BadRequest(400, "bad Content-Length")
        if length > MAX_BODY:
            raise BadRequest(413, "request body too large")
        if length and len(self.rfile.read(length)) < length:
            raise BadRequest(400, "request body shorter than its Content-Length")

    @staticmethod
    def _params(query: str, allowed) -> Dict[str, int]:
        """Query parameters: only the allowed names, each once, each a non-negative integer."""
        try:
            pairs = parse_qsl(query, keep_blank_values=True, max_num_fields=8)
        except ValueError as exc:
            raise BadRequest(400, "too many or malformed parameters") from exc
        out: Dict[str, int] = {}
        for name, value in pairs:
            if name not in allowed:
                raise BadRequest(400, f"unknown parameter {name[:40]!r}")
            if name in out:
                raise BadRequest(400, f"parameter {name!r} given twice")
            if not (value.isascii() and value.isdigit()) or len(value) > 9:
                raise BadRequest(400, f"parameter {name!r} must be a non-negative integer")
            out[name] = int(value)
        return out

    def _send(self, status: int, body: bytes, ctype: str, extra: Optional[dict] = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _send_json(self, obj, status: int = 200) -> None:
        self._send(status, json.dumps(obj, allow_nan=False).encode(), "application/json")

    def _send_error(self, status: int, reason: str) -> None:
        self._send_json({"error": reason, "status": status}, status)

    # --- the routes ---------------------------------------------------------------------------

    def _do_page(self, params) -> None:
        self._viewer_arrived()
        csp = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
               "img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'self'; "
               "form-action 'none'; base-uri 'none'")
        self._send(200, self.server.view.page().encode(), "text/html; charset=utf-8",
                   {"Content-Security-Policy": csp})

    def _do_favicon(self, params) -> None:
        self._send(204, b"", "image/x-icon")

    def _do_state(self, params) -> None:
        self._viewer_arrived()
        self._send_json(self.server.view.state(params.get("since", 0), params.get("g")))

    def _do_graph(self, params) -> None:
        svg = self.server.view.svg()
        if svg is None:
            raise BadRequest(404, "no graph yet")
        self._send(200, svg.encode(), "image/svg+xml; charset=utf-8")

    def _do_events(self, params) -> None:
        view = self.server.view
        if not self.server.streams.acquire(blocking=False):
            raise BadRequest(429, "too many open event streams")
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self._viewer_arrived()
            since, gen = params.get("since", 0), params.get("g")
            version = None
            sent = {"picture": None, "health": None}
            while not view.closed:
                state = view.state(since, gen)
                if state["version"] != version:
                    version = state["version"]
                    since, gen = state["curve_to"], state["curve_gen"]
                    for key in sent:  # unchanged since the last event: not resent
                        if state[key] is sent[key]:
                            state[key] = None
                        else:
                            sent[key] = state[key]
                    data = json.dumps(state, allow_nan=False).encode()
                    self.wfile.write(b"data: " + data + b"\n\n")
                else:
                    self.wfile.write(b": keep-alive\n\n")
                self.wfile.flush()
                time.sleep(EVENT_GAP)
                view.wait_for_change(version, KEEPALIVE)
        finally:
            self.server.streams.release()

    def _do_pause(self, params) -> None:
        self.server.view.pause()
        self._send_json({"ok": True})

    def _do_resume(self, params) -> None:
        self.server.view.resume()
        self._send_json({"ok": True})

    def _do_step(self, params) -> None:
        self.server.view.step()
        self._send_json({"ok": True})

    def _do_select(self, params) -> None:
        if "i" not in params:
            raise BadRequest(400, "select needs ?i=<sample index>")
        try:
            self.server.view.select(params["i"])
        except ValueError as exc:
            raise BadRequest(400, str(exc)) from exc
        self._send_json({"ok": True, "sample": params["i"]})

    def _do_lr(self, params) -> None:
        if "v" not in params:
            raise BadRequest(400, "lr needs ?v=<learning rate × 1e6>")
        try:
            lr = self.server.view.set_lr(params["v"] / 1e6)
        except ValueError as exc:
            raise BadRequest(400, str(exc)) from exc
        self._send_json({"ok": True, "lr": lr})


def serve(view, host: str, port: int) -> _Server:
    """Start serving ``view`` on (host, port); the selector runs in a daemon thread."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    bind = "127.0.0.1" if host == "localhost" else host
    return _Server((bind, port), view, family)
