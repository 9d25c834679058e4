"""``nn.live.LiveWidget(model, X, y)``: the live training view inside a notebook cell.

An ``anywidget.AnyWidget`` whose front end is the live page's own (``live.html``, ``live.css``,
``live.js``, with ``widget.js`` as glue) and whose state logic is the page's own ``Controller``:
pass ``w.callback`` to ``nn.fit``. A pushing thread sends each new state to the view (so it
updates while training runs in the cell or in a thread); the view's Pause / Step / Resume, the
learning-rate field and a click on a point come back as the same actions the page POSTs.
A cell that runs ``fit`` keeps the kernel's main thread busy, so the widget hears its view on a
kernel subshell of its own (ipykernel 7 and later): the buttons work while training runs in the
very cell. With an older kernel they reach Python only while it is free; then train in a thread
(``w.run(..., thread=True)``). Pausing from Python (``w.pause()``) always works.
Imported only when ``nn.live.LiveWidget`` is first used (it needs anywidget).
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, Optional

import anywidget
import traitlets

from .control import Controller
from .page import asset, class_colours

PUSH_GAP = 0.1  # at most ~10 states a second, as the page's event stream


class LiveWidget(anywidget.AnyWidget):
    """Watch, pause, step and steer a training run in a notebook cell.

    ``LiveWidget(model, X, y, optimizer=None, **kw)`` takes the keywords of ``nn.LiveView``'s
    controller (``sample``, ``graph_every``, ``health_every``, ``grid``, ``min_step_seconds``,
    ``max_pause``, ...).
    Synced traitlets: ``status`` ("running", "paused", "done", ...), ``last_step`` (the latest
    step, -1 before any), ``loss``, ``sample`` (the point whose graph is drawn; set it from
    Python or click a point) and ``lr`` (the optimizer's learning rate, None without one; set it
    from Python or in the view). ``controller`` is the ``Controller`` both faces share.
    """

    _esm = traitlets.Unicode(asset("live.js") + asset("widget.js")).tag(sync=True)
    _css = traitlets.Unicode(asset("live.css")).tag(sync=True)
    _body = traitlets.Unicode(asset("live.html")).tag(sync=True)
    _config = traitlets.Dict().tag(sync=True)
    status = traitlets.Unicode("running").tag(sync=True)
    last_step = traitlets.Int(-1).tag(sync=True)
    loss = traitlets.Float(None, allow_none=True).tag(sync=True)
    sample = traitlets.Int(0).tag(sync=True)
    lr = traitlets.Float(None, allow_none=True).tag(sync=True)

    def __init__(self, model, X, y, *, optimizer=None, **kw) -> None:
        self.controller = Controller(model, X, y, optimizer=optimizer, **kw)
        c = self.controller
        config = dict(c.config("live"), palette=class_colours())
        self._full = threading.Event()  # a view asked for everything (it has just opened)
        self._stopped = False
        self._pusher: Optional[threading.Thread] = None
        super().__init__(_config=config, sample=c.sample,
                         lr=None if optimizer is None else optimizer.lr)
        self.on_msg(self._on_view_msg)
        self._subshell: Optional[str] = None
        _listen_on_subshell(self)
        self._pusher = threading.Thread(target=self._push_loop, name="live-widget-push",
                                        daemon=True)
        self._pusher.start()

    # --- the training side ------------------------------------------------------------------

    def callback(self, step: int, history: Any = None, model: Any = None) -> None:
        """Pass to ``nn.fit(..., callback=w.callback)``; blocks while paused."""
        self.controller.callback(step, history, model)

    def run(self, train: Optional[Callable] = None, *, thread: bool = False, **kwargs):
        """Train with this widget attached: ``nn.fit(model, X, y, callback=w.callback, **kwargs)``
        (or ``train(callback=..., **kwargs)``); marks the run finished. ``thread=True`` runs it
        in a daemon thread and returns the thread at once, so the view's buttons reach Python."""
        c = self.controller
        if kwargs.get("optimizer") is not None and self.optimizer is None:
            self.optimizer = kwargs["optimizer"]

        def go():
            try:
                if train is None:
                    from ..train import fit

                    return fit(c.model, c.X, c.y, callback=self.callback, **kwargs)
                return train(callback=self.callback, **kwargs)
            finally:
                c.finish()

        if not thread:
            return go()
        worker = threading.Thread(target=go, name="live-widget-fit", daemon=True)
        worker.start()
        return worker

    @property
    def optimizer(self):
        return self.controller.optimizer

    @optimizer.setter
    def optimizer(self, opt) -> None:
        """Attach the optimizer after the fact: the view then offers its learning rate."""
        self.controller.optimizer = opt
        self.controller.touch()

    # --- controls from Python (the view's buttons call the same) ----------------------------

    def pause(self) -> None:
        self.controller.pause()

    def resume(self) -> None:
        self.controller.resume()

    def step(self) -> None:
        """While paused, let the training loop take one more step."""
        self.controller.step()

    def finish(self) -> None:
        self.controller.finish()

    def close(self) -> None:
        """Stop the pushing and drawing threads (a paused loop is released) and close the view."""
        if not self._stopped:
            self._stopped = True
            self.controller._stop()
            self._pusher.join(timeout=5)
            _forget_subshell(self._subshell)
            self._subshell = None
        super().close()

    @traitlets.validate("sample")
    def _check_sample(self, proposal) -> int:
        i = proposal["value"]
        n = len(self.controller.X)
        if not 0 <= i < n:
            raise traitlets.TraitError(f"sample must be a row of X, 0 to {n - 1}, got {i}")
        return i

    @traitlets.observe("sample")
    def _select(self, change) -> None:
        if not self._pushing():
            self.controller.select(change["new"])

    @traitlets.validate("lr")
    def _check_lr(self, proposal):
        lr = proposal["value"]
        if self._pushing():
            return lr
        if lr is None:
            raise traitlets.TraitError("lr cannot be set to None: give a number in (0, 100]")
        try:
            return self.controller.set_lr(lr)
        except ValueError as exc:
            raise traitlets.TraitError(str(exc)) from exc

    def _on_view_msg(self, widget, content, buffers) -> None:
        """An action from the view: the same names and parameters as the page's POSTs."""
        if not isinstance(content, dict):
            return
        c = self.controller
        action = content.get("action")
        try:
            if action == "hello":
                c.viewer_arrived()
                self._full.set()
                c.touch()
            elif action in ("pause", "resume", "step"):
                getattr(c, action)()
            elif action == "select":
                self.sample = int(content["i"])
            elif action == "lr":
                self.lr = int(content["v"]) / 1e6
        except (KeyError, TypeError, ValueError, traitlets.TraitError):
            pass  # a malformed message from the view never reaches the training loop

    # --- pushing states to the view ---------------------------------------------------------

    def _push_loop(self) -> None:
        c = self.controller
        version, since, gen, graph = -1, 0, None, -1
        sent: dict = {"picture": None, "health": None}
        while not self._stopped:
            now = c.wait_for_change(version, 1.0)
            full = self._full.is_set()
            if now == version and not full:
                continue
            if full:
                self._full.clear()
                since, gen, graph = 0, None, -1
                sent = {"picture": None, "health": None}
            state = c.state(since, gen)
            version, since, gen = state["version"], state["curve_to"], state["curve_gen"]
            message = {"kind": "state", "state": state}
            for key in sent:  # unchanged since the last message: not resent
                if state[key] is sent[key]:
                    state[key] = None
                else:
                    sent[key] = state[key]
            if state["graph"]["version"] != graph:
                graph = state["graph"]["version"]
                message["svg"] = c.svg()
            try:
                self._sync_traits(state)
                if self.comm is not None:
                    self.send(message)
            except Exception:  # a closed comm or a kernel going away: the next state may do
                pass
            if c.closed:
                return
            time.sleep(PUSH_GAP)

    def _pushing(self) -> bool:
        """True on the pushing thread, which copies the controller's state into the traitlets
        (so that copy is not sent back to the controller as if a person had set it), and in
        ``__init__``, before that thread exists."""
        pusher = self._pusher
        return pusher is None or threading.get_ident() == pusher.ident

    def _sync_traits(self, state: dict) -> None:
        with self.hold_sync():
            self.status = state["status"]
            self.last_step = -1 if state["step"] is None else int(state["step"])
            self.loss = state["last_loss"]
            self.sample = state["sample"]
            self.lr = state["lr"]

    def __repr__(self) -> str:
        return (f"LiveWidget({self.status}, step {self.last_step}, sample {self.sample}, "
                f"lr {self.lr})")


def _kernel():
    """The running ipykernel if it has subshells (version 7 and later) and a control thread."""
    try:
        from ipykernel.kernelbase import Kernel

        if not Kernel.initialized():
            return None
        kernel = Kernel.instance()
        if not getattr(kernel, "_supports_kernel_subshells", False) or \
                getattr(kernel, "control_thread", None) is None:
            return None
        return kernel
    except Exception:  # another kernel, another ipykernel: no subshell, the thread path works
        return None


def _on_control_thread(kernel, request: dict, then=None) -> None:
    """Send ``request`` to the shell-channel thread from the control thread, as ipykernel's own
    create/delete_subshell_request do (that socket belongs to the control thread: using it
    from here could race a request from the frontend); ``then(reply)`` runs there too."""
    def run():
        try:
            socket = kernel.shell_channel_thread.manager.control_to_shell_channel.from_socket
            socket.send_json(request)
            reply = socket.recv_json()
            if then is not None:
                then(reply)
        except Exception:
            pass

    kernel.control_thread.io_loop.add_callback(run)


def _listen_on_subshell(widget) -> None:
    """Have the view's messages to ``widget.comm`` handled on a new kernel subshell (its own
    thread), so they arrive while a cell keeps the main thread busy. Sets ``widget._subshell``
    once the subshell exists (a moment later, on the control thread); without ipykernel 7's
    subshells (JEP 91) nothing happens and the messages wait for the main thread as usual."""
    kernel, comm = _kernel(), widget.comm
    if kernel is None or comm is None or not hasattr(comm, "_reply_subshell_for"):
        return

    def pin(reply: dict) -> None:
        subshell = reply.get("subshell_id") if reply.get("status") == "ok" else None
        if subshell:
            comm._reply_subshell_for = lambda data, default: subshell
            widget._subshell = subshell

    _on_control_thread(kernel, {"type": "create"}, pin)


def _forget_subshell(subshell: Optional[str]) -> None:
    kernel = _kernel()
    if subshell and kernel is not None:
        _on_control_thread(kernel, {"type": "delete", "subshell_id": subshell})
