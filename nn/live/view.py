"""Watch a network learn in a browser: ``LiveView`` serves a page on 127.0.0.1 while ``fit`` runs.

It plugs into a training loop through ``callback(step, history, model)``, which ``nn.fit`` calls
after every optimizer step::

    view = LiveView(model, X, y)            # serves http://127.0.0.1:<free port>/ ; prints the URL
    nn.fit(model, X, y, ..., callback=view.callback)
    view.wait()                             # keep the page up until Ctrl-C (or view.close())

Started from a terminal, the first callback waits until a browser opens the page, so you see
training from its first step (``wait_for_browser=False`` turns that off; elsewhere it is off).
Controls on the page work only with the session token embedded in it (see ``server.py``).
"""

from __future__ import annotations

import secrets
from typing import Any, Callable, Optional

from .control import Controller, interactive
from .page import render_page

LOOPBACK = ("127.0.0.1", "::1", "localhost")


class LiveView(Controller):
    """A local web page that follows training as it happens, with pause / resume / step.

    ``LiveView(model, X, y)`` starts serving at once on ``127.0.0.1`` (a free port unless ``port``
    is given) and prints the URL; pass ``view.callback`` to the training loop. ``graph_every``:
    re-render the chosen sample's graph every N steps (``sample`` defaults to the one with the
    largest loss at the start). ``min_step_seconds`` slows training down to a watchable pace.
    ``wait_for_browser`` (default: only when started from a terminal) makes the first callback
    wait for a browser, at most ``browser_timeout`` seconds (default: no limit). ``max_pause``:
    the longest a pause holds training (default: no limit from a terminal, else 120 s).
    ``optimizer``: given, the page offers a learning-rate field. ``health_every``: the gradient-
    health panel (``nn.inspect`` per layer) every N steps (default: every ``graph_every`` steps,
    thinned to keep its cost near 1/8 of the run; 0: off). ``close()`` stops the server.
    """

    def __init__(self, model, X, y, *, host: str = "127.0.0.1", port: int = 0,
                 quiet: bool = False, wait_for_browser: Optional[bool] = None,
                 browser_timeout: Optional[float] = None, **kw) -> None:
        if host not in LOOPBACK:
            raise ValueError("the live view serves on loopback only (127.0.0.1 or ::1), "
                             f"got {host!r}")
        super().__init__(model, X, y, **kw)
        self.token = secrets.token_urlsafe(24)
        self.quiet = quiet
        self._wait_first = interactive() if wait_for_browser is None else bool(wait_for_browser)
        self._viewer_timeout = browser_timeout
        from .server import serve

        self._server = serve(self, host, port)
        shown = "[::1]" if host == "::1" else "127.0.0.1" if host == "localhost" else host
        self.url = f"http://{shown}:{self.port}/"
        if not quiet:
            print(f"live view: {self.url}  (Ctrl-C to stop)", flush=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def wait_for_browser(self, timeout: Optional[float] = None) -> bool:
        """Block until a browser opens the page (or ``timeout`` s); True if one did."""
        self._wait_first = False
        if self._viewer.is_set():
            return True
        if not self.quiet:
            print(f"waiting for a browser at {self.url} (wait_for_browser=False to skip)",
                  flush=True)
        return self.wait_for_viewer(timeout)

    def callback(self, step: int, history: Any = None, model: Any = None) -> None:
        if self._wait_first:
            self.wait_for_browser(self._viewer_timeout)
        super().callback(step, history, model)

    def run(self, train: Optional[Callable] = None, **kwargs):
        """Train with this view attached: ``train(callback=self.callback, **kwargs)``.

        ``train`` defaults to ``nn.fit(self.model, X, y, ...)``; returns what it returns and marks
        the run finished (the page stays up until ``close()``).
        """
        try:
            if train is None:
                from ..train import fit

                return fit(self.model, self.X, self.y, callback=self.callback, **kwargs)
            return train(callback=self.callback, **kwargs)
        finally:
            self.finish()

    def wait(self, timeout: Optional[float] = None) -> None:
        """Block (serving the page) until ``close()`` or Ctrl-C, or ``timeout`` seconds."""
        import time

        end = None if timeout is None else time.monotonic() + timeout
        try:
            with self._cond:
                while not self._closed:
                    left = None if end is None else end - time.monotonic()
                    if left is not None and left <= 0:
                        break
                    self._cond.wait(0.5 if left is None else min(0.5, left))
        except KeyboardInterrupt:
            pass

    def close(self) -> None:
        """Stop the server and the drawing thread; a paused training loop is released."""
        with self._cond:
            if self._closed:
                return
        self._stop()
        self._server.close()

    def __enter__(self) -> "LiveView":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def page(self) -> str:
        return render_page(dict(self.config("live"), token=self.token))
