"""The live controller: pause / step / resume a training loop, and draw its pictures off-thread.

``callback(step, history, model)`` copies the parameters and returns; while paused it blocks the
training thread. A pause holds at most ``max_pause`` seconds (then training goes on, and the
state says why), and the first call can wait for a viewer (``wait_for_viewer``). A drawing
thread turns the latest copy into the pictures, so drawing never slows training down. The web
page (``LiveView``) and the notebook widget (``LiveWidget``) are two faces of this one object.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any, Dict, List, Optional

from .health import HealthSeries, batch_loss
from .render import GraphUnavailable, param_values
from .watch import Watcher

MAX_HEALTH_QUEUE = 64  # gradient-health snapshots waiting for the drawing thread, at most
HEALTH_SPACING = 8.0  # by default, a snapshot waits 8x its own cost after the one before
MAX_PAUSE = 120.0  # seconds a pause may hold a run that nobody started from a terminal


def interactive() -> bool:
    """True when a person at a terminal started this process (stdin and stdout are ttys)."""
    try:
        return sys.stdin is not None and sys.stdin.isatty() and sys.stdout.isatty()
    except (AttributeError, ValueError):  # replaced or closed streams
        return False


class Controller(Watcher):
    """Pause / resume / step, the pause cap, the learning-rate control and the drawing thread."""

    def __init__(self, model, X, y, *, min_step_seconds: float = 0.0, start_paused: bool = False,
                 max_pause: Optional[float] = -1.0, optimizer=None,
                 health_every: Optional[int] = None, **kw) -> None:
        super().__init__(model, X, y, **kw)
        # gradient health (nn.inspect on the mirror) every this many steps; 0 turns it off. By
        # default every graph_every steps, but thinned so that it takes at most about
        # 1 / HEALTH_SPACING of the time (an inspect of 100 points costs ~0.1 s; the drawing
        # thread shares the GIL with training)
        self._health_auto = health_every is None
        self.health_every = self.graph_every if health_every is None else max(0, int(health_every))
        self._health_cost = 0.0  # seconds the last snapshot took
        self._health_last = -float("inf")  # when the last snapshot was asked for
        self.health = HealthSeries()
        self._health_loss = batch_loss(self.sample_loss)
        # (step, params, grads, previous params) not yet inspected: a queue, so the history has
        # every recorded step even when training outruns the drawing thread (bounded)
        self._health_jobs: List[tuple] = []
        self._health_now: Optional[dict] = None
        self._previous = param_values(model)  # the parameters before the latest step
        self.min_step_seconds = float(min_step_seconds)
        # -1: the default, unlimited for a person at a terminal, MAX_PAUSE otherwise
        self.max_pause = (None if interactive() else MAX_PAUSE) if max_pause == -1.0 else \
            (None if max_pause is None else float(max_pause))
        self.optimizer = optimizer
        self._cond = threading.Condition()
        self._version = 0
        self._paused = bool(start_paused)
        self._step_budget = 0
        self._done = False
        self._closed = False
        self._note = ""
        self._waiting = False
        self._viewer = threading.Event()  # set once somebody looks at the view
        self._wait_first = False
        self._viewer_timeout: Optional[float] = None
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

    def _changed(self) -> None:
        """Call with the lock held: wake streams, waiters and the drawing thread."""
        self._version += 1
        self._cond.notify_all()

    # --- the training side ------------------------------------------------------------------

    def callback(self, step: int, history: Any = None, model: Any = None) -> None:
        """Called by the training loop after each step; blocks while paused."""
        if self._wait_first:
            self._wait_first = False
            self.wait_for_viewer(self._viewer_timeout)
        model = self.model if model is None else model
        params = param_values(model)
        want_health = bool(self.health_every) and step % self.health_every == 0
        if want_health and self._health_auto:
            now = time.monotonic()
            want_health = now - self._health_last >= HEALTH_SPACING * self._health_cost
            if want_health:
                self._health_last = now
        grads = [p.grad for p in model.parameters()] if want_health else None
        with self._cond:
            if self._closed:
                return
            self._record_metrics(step, history, params)
            self._latest = (int(step), params)
            if want_health:
                self._health_jobs.append((int(step), params, grads, self._previous))
                del self._health_jobs[:-MAX_HEALTH_QUEUE]
            self._previous = params
            if step % self.graph_every == 0:
                self._graph_wanted = True
            self._changed()
            self._hold()
        if self.min_step_seconds > 0:
            wait = self._last_call + self.min_step_seconds - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self._last_call = time.monotonic()

    def _hold(self) -> None:
        """With the lock held: wait while paused, at most ``max_pause`` seconds."""
        start = time.monotonic()
        while self._paused and self._step_budget == 0 and not self._closed:
            left = None if self.max_pause is None else start + self.max_pause - time.monotonic()
            if left is not None and left <= 0:
                self._paused = False
                self._note = (f"the pause ended by itself after {self.max_pause:g} s "
                              "(max_pause): nobody started this run from a terminal")
                self._changed()
                break
            self._cond.wait(0.5 if left is None else min(0.5, left))
        if self._step_budget > 0:
            self._step_budget -= 1

    def wait_for_viewer(self, timeout: Optional[float] = None) -> bool:
        """Block until somebody opens the view (or ``timeout`` s, or close); True if they did."""
        with self._cond:
            self._waiting = True
            self._changed()
        try:
            return self._viewer.wait(timeout) if timeout is not None else self._wait_forever()
        finally:
            with self._cond:
                self._waiting = False
                self._changed()

    def _wait_forever(self) -> bool:
        while not self._viewer.wait(0.5):
            if self._closed:
                return False
        return True

    def viewer_arrived(self) -> None:
        self._viewer.set()

    def touch(self) -> None:
        """Wake everyone waiting for a change (a new viewer wants the whole state now)."""
        with self._cond:
            self._changed()

    def finish(self) -> None:
        """Training is over: the view says so and stays viewable."""
        with self._cond:
            self._done = True
            self._paused = False
            self._graph_wanted = True
            self._changed()

    def _stop(self) -> None:
        with self._cond:
            self._closed = True
            self._paused = False
            self._changed()
        self._viewer.set()
        self._drawer.join(timeout=5)

    # --- controls ---------------------------------------------------------------------------

    def pause(self) -> None:
        with self._cond:
            if not self._done:
                self._paused = True
                self._note = ""
            self._changed()

    def resume(self) -> None:
        with self._cond:
            self._paused = False
            self._step_budget = 0
            self._changed()

    def step(self) -> None:
        """While paused, let the training loop take one more step."""
        with self._cond:
            if not self._done:
                self._paused = True
                self._step_budget += 1
            self._changed()

    def select(self, sample: int) -> None:
        if not 0 <= sample < len(self.X):
            raise ValueError(f"sample must be in 0..{len(self.X) - 1}")
        with self._cond:
            self.sample = sample
            self._graph_wanted = True
            self._changed()

    def set_lr(self, lr: float) -> float:
        """Set the optimizer's base learning rate (a ``schedule`` given to fit overrides it)."""
        if self.optimizer is None:
            raise ValueError("no learning-rate control: pass optimizer=... to the live view")
        if not 0 < lr <= 100:
            raise ValueError(f"learning rate must be in (0, 100], got {lr:g}")
        with self._cond:
            self.optimizer.lr = float(lr)
            self._changed()
        return self.optimizer.lr

    # --- drawing, on its own thread ---------------------------------------------------------

    def _draw_loop(self) -> None:
        while True:
            with self._cond:
                while not self._closed and self._latest is None and not self._health_jobs \
                        and not (self._graph_wanted and self._drawn_params is not None):
                    self._cond.wait(1.0)
                if self._closed:
                    return
                job, self._latest = self._latest, None
                health_jobs, self._health_jobs = self._health_jobs, []
                want_graph, self._graph_wanted = self._graph_wanted, False
                sample = self.sample
            try:
                if health_jobs:
                    for health_job in health_jobs:
                        began = time.monotonic()
                        self.health.snapshot(self.mirror, self.X, self.y, self._health_loss,
                                             *health_job)
                        self._health_cost = time.monotonic() - began
                    health = self.health.to_json()
                    with self._cond:
                        self._health_now = health
                        self._changed()
                if job is not None:
                    picture = self._picture(job[1], job[0])
                    self._drawn_params = job[1]
                    with self._cond:
                        self._picture_now = picture
                        self._changed()
                if want_graph and self._drawn_params is not None:
                    step = job[0] if job is not None else (self._picture_now or {}).get("step", 0)
                    try:
                        svg, error = self._graph(self._drawn_params, sample), ""
                    except GraphUnavailable as exc:
                        svg, error = None, str(exc)
                    with self._cond:
                        self._svg, self._svg_error = svg, error
                        self._svg_version += 1
                        self._svg_step, self._svg_sample = step, sample
                        self._changed()
            except Exception as exc:  # never let a drawing bug kill the view
                with self._cond:
                    self._svg_error = f"drawing failed: {type(exc).__name__}: {exc}"
                    self._changed()
                time.sleep(0.2)

    # --- state for the page -----------------------------------------------------------------

    def status(self) -> str:
        return "closed" if self._closed else "done" if self._done else (
            "waiting" if self._waiting else "paused" if self._paused else "running")

    def state(self, since: int = 0, generation: Optional[int] = None) -> Dict[str, Any]:
        """Everything the page needs; curves from index ``since`` of ``generation`` on."""
        with self._cond:
            c = self.curves
            if generation is not None and generation != c.generation:
                since = 0  # the curves were thinned since: start over
            since = max(0, min(int(since), len(c)))
            last = c.last or (None, None, None)
            return {
                "version": self._version,
                "status": self.status(),
                "note": self._note,
                "step": last[0], "last_loss": last[1], "last_acc": last[2],
                "lr": None if self.optimizer is None else self.optimizer.lr,
                "sample": self.sample,
                "curve_gen": c.generation,
                "curve_from": since,
                "curve_to": len(c),
                "steps": c.steps[since:],
                "loss": c.loss[since:],
                "acc": c.acc[since:],
                "picture": self._picture_now,
                "health": self._health_now,
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

    def config(self, mode: str = "live") -> dict:
        """What the front end needs once: title, points, whether the lr can be set."""
        return {"mode": mode, "title": self.title, "points": self.points(),
                "lr_control": self.optimizer is not None}
