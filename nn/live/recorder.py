"""``LiveRecorder``: a training run recorded into one self-contained HTML page (no server).

Every ``every`` steps the callback keeps a copy of the parameters; at most ``max_frames`` copies
are kept (when full, every other one is dropped and ``every`` doubles), so a long run costs
bounded memory. ``save()`` draws each kept step and writes the page atomically; in a notebook the
recorder displays itself inline (``_repr_html_``, the page in an iframe's ``srcdoc``).
"""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any, List, Optional

from tinygrad_value.show.page import write_page

from .page import render_page
from .render import GraphUnavailable, param_values
from .watch import Watcher

MAX_FRAMES = 240


class LiveRecorder(Watcher):
    """Records a run into ONE self-contained HTML file with a timeline slider.

    The sample's graph is drawn for at most ``max_graphs`` of the kept steps (each is a
    sizeable SVG). ``path=None`` keeps the page in memory (for ``html()`` / notebooks).
    """

    def __init__(self, model, X, y, path=None, *, every: int = 5, max_graphs: int = 8,
                 max_frames: int = MAX_FRAMES, **kw) -> None:
        super().__init__(model, X, y, **kw)
        self.path = None if path is None else Path(path)
        self.every = max(1, int(every))
        self.max_graphs = max(0, int(max_graphs))
        self.max_frames = max(4, int(max_frames))
        self._kept: List[tuple] = [(-1, param_values(model))]  # step -1: before training
        self._last: Optional[tuple] = None

    def callback(self, step: int, history: Any = None, model: Any = None) -> None:
        params = param_values(self.model if model is None else model)
        self._record_metrics(step, history, params)
        self._last = (int(step), params)
        if step % self.every == 0:
            self._kept.append(self._last)
            if len(self._kept) > self.max_frames:  # keep "before training", thin the rest
                self._kept = self._kept[:1] + self._kept[2::2]
                self.every *= 2

    def html(self) -> str:
        """The replay page: every kept step drawn, embedded as JSON."""
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
        return render_page(config)

    def save(self, path=None) -> Path:
        """Write the replay page to ``path`` or the recorder's, atomically (``write_page``, the
        backprop page's writer: readers see the old file or the new one, never half)."""
        target = Path(path) if path is not None else self.path
        if target is None:
            raise ValueError("LiveRecorder.save() needs a path: none was given to the recorder")
        return write_page(target, self.html())

    def close(self) -> Optional[Path]:
        return None if self.path is None else self.save()

    def _repr_html_(self) -> str:
        """The replay inline in a notebook: the whole page in a sandboxed iframe's srcdoc."""
        return (f'<iframe srcdoc="{html.escape(self.html(), quote=True)}" '
                'sandbox="allow-scripts" style="width:100%;height:900px;border:0" '
                'title="training replay"></iframe>')
