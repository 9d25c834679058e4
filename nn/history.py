"""History: what fit recorded, one entry per step, with a short summary and a plot."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import List, Optional


@dataclass
class History:
    """What happened during ``fit``, one entry per optimizer step (and per epoch).

    ``loss[k]`` is the loss minimised at step k (data loss + penalty) before that step's
    update; ``accuracy[k]`` the accuracy of that step's batch (None for regression losses);
    ``lr[k]`` the learning rate used.
    """

    loss: List[float] = field(default_factory=list)
    accuracy: List[Optional[float]] = field(default_factory=list)
    lr: List[float] = field(default_factory=list)
    epoch_loss: List[float] = field(default_factory=list)
    epoch_accuracy: List[Optional[float]] = field(default_factory=list)
    stopped_early: bool = False
    # True when Ctrl-C ended the run: the model is then exactly at step len(history).
    interrupted: bool = False

    def __len__(self) -> int:
        return len(self.loss)

    @property
    def final_loss(self) -> float:
        return self.loss[-1]

    @property
    def final_accuracy(self) -> Optional[float]:
        return self.accuracy[-1]

    def _ends(self, xs) -> str:
        return f"{xs[0]:.4g} → {xs[-1]:.4g}"

    def summary(self) -> str:
        """One line: steps, first and last loss and accuracy, and how the run ended."""
        if not self.loss:
            return "History(0 steps)"
        parts = [f"{len(self)} steps", f"loss {self._ends(self.loss)}"]
        if self.accuracy and self.accuracy[-1] is not None:
            parts.append(f"accuracy {self.accuracy[0]:.3f} → {self.accuracy[-1]:.3f}")
        if self.interrupted:
            parts.append("interrupted")
        elif self.stopped_early:
            parts.append("stopped early")
        return f"History({', '.join(parts)})"

    __repr__ = summary

    def plot(self):
        """A matplotlib Figure: loss per step (left axis) and accuracy (right axis, if any)."""
        from matplotlib.figure import Figure  # imported here: ``import nn`` stays light

        fig = Figure(figsize=(6, 3.2))
        ax = fig.add_subplot()
        lines = ax.plot(range(len(self.loss)), self.loss, color="#dc2626", label="loss")
        ax.set_xlabel("step")
        ax.set_ylabel("loss")
        if self.accuracy and self.accuracy[-1] is not None:
            ax2 = ax.twinx()
            acc = [float("nan") if a is None else a for a in self.accuracy]
            lines += ax2.plot(range(len(acc)), acc, color="#059669", label="accuracy")
            ax2.set_ylabel("accuracy")
            ax2.set_ylim(0, 1.02)
        ax.legend(lines, [ln.get_label() for ln in lines], loc="center right")
        ax.set_title(self.summary(), fontsize=9)
        fig.tight_layout()
        return fig

    def _repr_html_(self) -> str:
        """The summary and a small inline SVG of the loss curve (no matplotlib needed)."""
        text = html.escape(self.summary())
        if len(self.loss) < 2:
            return f"<code>{text}</code>"
        return f"<div><code>{text}</code><br>{_sparkline(self.loss)}</div>"


def _sparkline(ys, width: int = 240, height: int = 48) -> str:
    """An SVG polyline of ys scaled into width × height (finite values only)."""
    finite = [y for y in ys if math.isfinite(y)]
    lo, hi = min(finite), max(finite)
    span = (hi - lo) or 1.0
    pts = " ".join(f"{width * i / (len(ys) - 1):.1f},{height - height * (y - lo) / span:.1f}"
                   for i, y in enumerate(ys) if math.isfinite(y))
    return (f'<svg width="{width}" height="{height}" viewBox="-2 -2 {width + 4} {height + 4}" '
            f'role="img" aria-label="loss per step"><polyline points="{pts}" fill="none" '
            f'stroke="#dc2626" stroke-width="1.5"/></svg>')
