"""``tv.StepperWidget(root)``: the backprop page as a notebook widget, its step synced with Python.

An ``anywidget.AnyWidget`` (JupyterLab, Notebook 7, VS Code, Colab, marimo) whose front-end is
the page's own: ``front/stepper.js`` and ``front/stepper.css``, with ``front/widget.js`` as glue.
``w.step`` is the frame shown: set it in Python and the view moves; click Next (or press an arrow
key in the cell) and ``w.step`` follows. Imported only when ``tv.StepperWidget`` is first used.
"""

from __future__ import annotations

import anywidget
import traitlets

from ..engine.value import Value
from .html import front_js, stepper_parts
from .names import Formatter
from .page import front
from .stepper import Frame, Walkthrough
from .viz import DEFAULT_MAX_NODES


class StepperWidget(anywidget.AnyWidget):
    """Step through root's forward and backward pass inside a notebook cell.

    ``step`` (synced int) is the current frame, ``0 .. frames - 1``; ``frames`` (synced int) is
    their number. ``frame`` is the current ``Frame`` (its ``title`` and chain-rule ``lines``).
    The numbers are those of one ``root.backward()``; no ``.data`` or ``.grad`` changes.
    """

    _esm = traitlets.Unicode(front_js() + front("widget.js")).tag(sync=True)
    _css = traitlets.Unicode(front("stepper.css")).tag(sync=True)
    _body = traitlets.Unicode("").tag(sync=True)
    _data = traitlets.Dict().tag(sync=True)
    step = traitlets.Int(0).tag(sync=True)
    frames = traitlets.Int(1).tag(sync=True)

    def __init__(self, root: Value, title: str | None = None, decimals: int = 4,
                 fmt: Formatter = None, rankdir: str = "LR",
                 max_nodes: int = DEFAULT_MAX_NODES, step: int = 0, **kwargs) -> None:
        parts = stepper_parts(root, title, None, decimals, fmt, rankdir, max_nodes)
        self.walkthrough: Walkthrough = parts.walkthrough
        n = len(parts.walkthrough.frames)
        super().__init__(_body=parts.body, _data=parts.data, frames=n, **kwargs)
        self.step = step

    @traitlets.validate("step")
    def _check_step(self, proposal) -> int:
        k = proposal["value"]
        if not 0 <= k < self.frames:
            raise traitlets.TraitError(f"step must be a frame number from 0 to "
                                       f"{self.frames - 1} (this walkthrough has {self.frames} "
                                       f"frames), got {k}")
        return k

    @property
    def frame(self) -> Frame:
        """The frame on show: ``kind``, ``node``, ``title`` and its arithmetic ``lines``."""
        return self.walkthrough.frames[self.step]

    def __repr__(self) -> str:
        return f"StepperWidget(step={self.step}, frames={self.frames}: {self.frame.title!r})"
