"""Watch a network learn: a live page (``LiveView``) or a self-contained replay (``LiveRecorder``).

Both plug into a training loop through ``callback(step, history, model)``, which ``nn.fit`` calls
after every optimizer step::

    view = LiveView(model, X, y)            # serves http://127.0.0.1:<free port>/ ; prints the URL
    nn.fit(model, X, y, ..., callback=view.callback)
    view.wait()                             # keep the page up until Ctrl-C (or view.close())

The callback is cheap: it copies the parameters into a list and returns. A background thread turns
the latest copy into the pictures (decision boundary, weights, one sample's graph), so drawing never
slows the training down; while the page says *paused*, the callback blocks the training thread.
"""

from __future__ import annotations

import functools
import math
import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

from tinygrad_value.files import write_atomic
from tinygrad_value.show.html import json_for_script

from .render import (
    GraphUnavailable,
    Mirror,
    SampleLoss,
    accuracy,
    boundary_grid,
    hinge_sample_loss,
    param_values,
    sample_graph_svg,
)

PAGE = Path(__file__).with_name("page.html")
LOOPBACK = ("127.0.0.1", "::1", "localhost")


def _last_metric(history: Any, names: Sequence[str]) -> Optional[float]:
    """The latest value of a metric in ``history``: a dict of lists, a list of dicts, an object."""
    if history is None:
        return None
    if isinstance(history, (list, tuple)) and history:
        history = history[-1]
    for name in names:
        if isinstance(history, dict):
            value = history.get(name)
        else:
            value = getattr(history, name, None)
        if isinstance(value, (list, tuple)):
            value = value[-1] if value else None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if hasattr(value, "data"):  # a Value
            return float(value.data)
    return None


def _finite(x: Optional[float]) -> Optional[float]:
    return None if x is None or not math.isfinite(x) else round(float(x), 6)


class _Watcher:
    """What LiveView and LiveRecorder share: the data, the mirror, and the metrics per step."""

    def __init__(self, model, X, y, *, sample: int = 0, grid: int = 48,
                 sample_loss: Optional[SampleLoss] = None, threshold: float = 0.0,
                 graph_every: int = 10, title: str = "tinygrad-value: live training") -> None:
        X = [list(row) for row in X]
        if any(len(row) != 2 for row in X):
            raise ValueError("the live view draws points in the plane: every row of X needs "
                             "exactly 2 numbers")
        self.X = [[float(a), float(b)] for a, b in X]
        self.y = [float(t) for t in y]
        if len(self.X) != len(self.y) or not self.X:
            raise ValueError("X and y must be non-empty and the same length, "
                             f"got {len(self.X)} and {len(self.y)}")
        if not 0 <= sample < len(self.X):
            raise ValueError(f"sample must be in 0..{len(self.X) - 1}, got {sample}")
        self.model = model
        self.mirror = Mirror(model)
        self._metric_mirror: Optional[Mirror] = None
        self.sample = sample
        self.grid = int(grid)
        self.sample_loss = sample_loss or hinge_sample_loss
        self.threshold = float(threshold)
        self.graph_every = max(1, int(graph_every))
        self.title = title
        xs = [p[0] for p in self.X]
        ys = [p[1] for p in self.X]
        # a square window around the data, so the picture keeps the plane's true proportions
        half = 0.58 * max(max(xs) - min(xs), max(ys) - min(ys), 1e-6)
        cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
        self.bounds = (cx - half, cx + half, cy - half, cy + half)
        self.steps: List[int] = []
        self.loss: List[Optional[float]] = []
        self.acc: List[Optional[float]] = []

    def points(self) -> dict:
        return {"x": [[round(a, 4), round(b, 4)] for a, b in self.X], "y": self.y,
                "threshold": self.threshold}

    def _record_metrics(self, step: int, history: Any, params: List[float]) -> None:
        loss = _last_metric(history, ("loss", "train_loss", "total_loss"))
        acc = _last_metric(history, ("accuracy", "acc", "train_accuracy", "train_acc"))
        if acc is not None and acc > 1.0:  # a percentage
            acc /= 100.0
        if acc is None:  # its own mirror: self.mirror belongs to the drawing thread
            if self._metric_mirror is None:
                self._metric_mirror = Mirror(self.model)
            self._metric_mirror.load(params)
            acc = accuracy(self._metric_mirror, self.X, self.y, self.threshold)
        self.steps.append(int(step))
        self.loss.append(_finite(loss))
        self.acc.append(_finite(acc))

    def _picture(self, params: List[float], step: int) -> dict:
        """Boundary and weights for one parameter snapshot (runs off the training thread)."""
        self.mirror.load(params)
        return {"step": step, "boundary": boundary_grid(self.mirror, self.bounds, self.grid),
                "weights": self.mirror.weights()}

    def _graph(self, params: List[float], sample: int) -> str:
        self.mirror.load(params)
        return sample_graph_svg(self.mirror, self.X[sample], self.y[sample], self.sample_loss)


class LiveView(_Watcher):
    """A local web page that follows training as it happens, with pause / resume / step.

    ``LiveView(model, X, y)`` starts serving at once on ``127.0.0.1`` (a free port unless ``port``
    is given) and prints the URL; pass ``view.callback`` to the training loop. ``graph_every``:
    re-render the chosen sample's graph every N steps. ``min_step_seconds`` slows training down to
    a watchable pace. ``close()`` stops the server; the page stays up until then.
    """

    def __init__(self, model, X, y, *, host: str = "127.0.0.1", port: int = 0,
                 min_step_seconds: float = 0.0, quiet: bool = False, start_paused: bool = False,
                 **kw) -> None:
        if host not in LOOPBACK:
            raise ValueError("the live view serves on loopback only (127.0.0.1 or ::1), "
                             f"got {host!r}")
        super().__init__(model, X, y, **kw)
        self.min_step_seconds = float(min_step_seconds)
        self._cond = threading.Condition()
        self._version = 0
        self._paused = bool(start_paused)
        self._step_budget = 0
        self._done = False
        self._closed = False
        # (step, params) not yet drawn; the first picture is the untrained model ("before training")
        self._latest: Optional[tuple] = (-1, param_values(model))
        self._picture_now: Optional[dict] = None
        self._svg: Optional[str] = None
        self._svg_version = 0
        self._svg_step = -1
        self._svg_sample = self.sample
        self._svg_error = ""
        self._graph_wanted = True
        self._last_call = 0.0
        self._drawn_params: Optional[List[float]] = None
        self._drawer = threading.Thread(target=self._draw_loop, name="live-draw", daemon=True)
        self._drawer.start()
        from .server import serve

        self._server, self._server_thread = serve(self, host, port)
        shown = "[::1]" if host == "::1" else "127.0.0.1" if host == "localhost" else host
        self.url = f"http://{shown}:{self.port}/"
        if not quiet:
            print(f"live view: {self.url}  (Ctrl-C to stop)", flush=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    # --- the training side ------------------------------------------------------------------

    def callback(self, step: int, history: Any = None, model: Any = None) -> None:
        """Called by the training loop after each step; blocks while the page says paused."""
        model = self.model if model is None else model
        params = param_values(model)
        with self._cond:
            if self._closed:
                return
            self._record_metrics(step, history, params)
            self._latest = (int(step), params)
            if step % self.graph_every == 0:
                self._graph_wanted = True
            self._version += 1
            self._cond.notify_all()
            while self._paused and self._step_budget == 0 and not self._closed:
                self._cond.wait(0.5)
            if self._step_budget > 0:
                self._step_budget -= 1
        if self.min_step_seconds > 0:
            wait = self._last_call + self.min_step_seconds - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self._last_call = time.monotonic()

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

    def finish(self) -> None:
        """Training is over: the page says so and stays viewable."""
        with self._cond:
            self._done = True
            self._paused = False
            self._graph_wanted = True
            self._version += 1
            self._cond.notify_all()

    def wait(self, timeout: Optional[float] = None) -> None:
        """Block (serving the page) until ``close()`` or Ctrl-C, or ``timeout`` seconds."""
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
            self._closed = True
            self._paused = False
            self._cond.notify_all()
        self._server.shutdown()
        self._server.server_close()
        self._server_thread.join(timeout=5)
        self._drawer.join(timeout=5)

    def __enter__(self) -> "LiveView":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- controls (called by the HTTP handler) ---------------------------------------------

    def pause(self) -> None:
        with self._cond:
            if not self._done:
                self._paused = True
            self._version += 1
            self._cond.notify_all()

    def resume(self) -> None:
        with self._cond:
            self._paused = False
            self._step_budget = 0
            self._version += 1
            self._cond.notify_all()

    def step(self) -> None:
        """While paused, let the training loop take one more step."""
        with self._cond:
            if not self._done:
                self._paused = True
                self._step_budget += 1
            self._version += 1
            self._cond.notify_all()

    def select(self, sample: int) -> None:
        if not 0 <= sample < len(self.X):
            raise ValueError(f"sample must be in 0..{len(self.X) - 1}")
        with self._cond:
            self.sample = sample
            self._graph_wanted = True
            self._version += 1
            self._cond.notify_all()

    # --- drawing, on its own thread ---------------------------------------------------------

    def _draw_loop(self) -> None:
        while True:
            with self._cond:
                while not self._closed and self._latest is None and not (
                        self._graph_wanted and self._drawn_params is not None):
                    self._cond.wait(1.0)
                if self._closed:
                    return
                job = self._latest
                self._latest = None
                want_graph = self._graph_wanted
                self._graph_wanted = False
                sample = self.sample
            try:
                if job is not None:
                    picture = self._picture(job[1], job[0])
                    self._drawn_params = job[1]
                    with self._cond:
                        self._picture_now = picture
                        self._version += 1
                        self._cond.notify_all()
                if want_graph and self._drawn_params is not None:
                    step = job[0] if job is not None else (self._picture_now or {}).get("step", 0)
                    try:
                        svg, error = self._graph(self._drawn_params, sample), ""
                    except GraphUnavailable as exc:
                        svg, error = None, str(exc)
                    with self._cond:
                        self._svg, self._svg_error = svg, error
                        self._svg_version += 1
                        self._svg_step = step
                        self._svg_sample = sample
                        self._version += 1
                        self._cond.notify_all()
            except Exception as exc:  # never let a drawing bug kill the view
                with self._cond:
                    self._svg_error = f"drawing failed: {type(exc).__name__}: {exc}"
                    self._version += 1
                    self._cond.notify_all()
                time.sleep(0.2)

    # --- state for the page -----------------------------------------------------------------

    def state(self, since: int = 0) -> Dict[str, Any]:
        """Everything the page needs; curves only from index ``since`` on."""
        with self._cond:
            since = max(0, min(int(since), len(self.steps)))
            status = "closed" if self._closed else "done" if self._done else (
                "paused" if self._paused else "running")
            return {
                "version": self._version,
                "status": status,
                "step": self.steps[-1] if self.steps else None,
                "sample": self.sample,
                "curve_from": since,
                "curve_to": len(self.steps),
                "steps": self.steps[since:],
                "loss": self.loss[since:],
                "acc": self.acc[since:],
                "picture": self._picture_now,
                "graph": {"version": self._svg_version, "step": self._svg_step,
                          "sample": self._svg_sample,
                          "error": self._svg_error, "ready": self._svg is not None},
            }

    def svg(self) -> Optional[str]:
        with self._cond:
            return self._svg

    def wait_for_change(self, version: int, timeout: float) -> int:
        """Block until the state's version differs from ``version`` (or timeout / close)."""
        with self._cond:
            self._cond.wait_for(lambda: self._version != version or self._closed, timeout)
            return self._version

    @property
    def closed(self) -> bool:
        return self._closed

    def page(self) -> str:
        config = {"mode": "live", "title": self.title, "points": self.points()}
        return render_page(config)


class LiveRecorder(_Watcher):
    """Records a run into ONE self-contained HTML file with a timeline slider (no server).

    Every ``every`` steps the callback keeps a copy of the parameters; ``save()`` (or ``close()``)
    draws each kept step and writes the page atomically. The sample's graph is drawn for at most
    ``max_graphs`` of the kept steps (each is a sizeable SVG).
    """

    def __init__(self, model, X, y, path, *, every: int = 5, max_graphs: int = 8, **kw) -> None:
        super().__init__(model, X, y, **kw)
        self.path = Path(path)
        self.every = max(1, int(every))
        self.max_graphs = max(0, int(max_graphs))
        self._kept: List[tuple] = [(-1, param_values(model))]  # step -1: before training
        self._last: Optional[tuple] = None

    def callback(self, step: int, history: Any = None, model: Any = None) -> None:
        params = param_values(self.model if model is None else model)
        self._record_metrics(step, history, params)
        self._last = (int(step), params)
        if step % self.every == 0:
            self._kept.append(self._last)

    def save(self) -> Path:
        """Draw the kept steps and write the replay page (temp file + ``os.replace``)."""
        kept = list(self._kept)
        if self._last is not None and kept[-1][0] != self._last[0]:
            kept.append(self._last)
        graph_at = set()
        if self.max_graphs and kept:
            stride = max(1, math.ceil(len(kept) / self.max_graphs))
            graph_at = set(range(len(kept) - 1, -1, -stride))
        frames = []
        for i, (step, params) in enumerate(kept):
            frame = self._picture(params, step)
            if i in graph_at:
                try:
                    frame["svg"] = self._graph(params, self.sample)
                except GraphUnavailable as exc:
                    frame["svg_error"] = str(exc)
            frames.append(frame)
        config = {"mode": "replay", "title": self.title, "points": self.points(),
                  "sample": self.sample, "steps": self.steps, "loss": self.loss, "acc": self.acc,
                  "frames": frames}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self.path, render_page(config))
        return self.path

    def close(self) -> Path:
        return self.save()

    def finish(self) -> None:
        """For symmetry with LiveView; the file is written by ``save()``."""


def render_page(config: dict) -> str:
    """The page with ``config`` embedded as JSON (safe inside a <script> element)."""
    return _page_template().replace("/*__CONFIG__*/null",
                                    json_for_script(config, separators=(",", ":")), 1)


@functools.lru_cache(maxsize=1)
def _page_template() -> str:
    """page.html, read once (it ships with the package and does not change)."""
    return PAGE.read_text(encoding="utf-8")
