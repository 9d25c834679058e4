"""``tv.StepperWidget(root)``: the backprop page as a notebook widget, its step synced with Python.

An ``anywidget.AnyWidget`` (JupyterLab, Notebook 7, VS Code, Colab, marimo) whose front-end is
the page's own: ``front/stepper.js`` and ``front/stepper.css``, with ``front/widget.js`` as glue.
``w.step`` is the frame shown: set it in Python and the view moves; click Next (or press an arrow
key in the cell) and ``w.step`` follows. ``w.nudge_leaf`` / ``w.nudge_h`` are the nudge on show
(a leaf's name and one of the offered h; ``w.nudged`` is that nudge worked out in Python), synced
both ways too. ``tv.QuizWidget`` (``quiz_widget.py``) is the quiz mode of the same widget.
``StepperWidget(loss, level="neuron")`` is the network page instead (``front/neurons.js``, the
page's script): one box per neuron; a click shows that neuron's numbers and scalar graph, and
``w.neuron`` (synced) is the neuron on show, by name. The scalar graph is drawn here when its
neuron is first shown (``_scalar``), so a 64-32-10 network's widget is ready in about a second.
Imported only when ``tv.StepperWidget`` or ``tv.QuizWidget`` is first used.
"""

from __future__ import annotations

import anywidget
import traitlets

from ..engine.value import Value
from .html import front_js, stepper_parts
from .names import Formatter
from .neurons import NeuronGraph, Unit
from .nudge import DEFAULT_H, Nudge, nudge
from .page import front
from .stepper import Frame, Walkthrough
from .viz import DEFAULT_MAX_NODES


class StepperWidget(anywidget.AnyWidget):
    """Step through root's forward and backward pass inside a notebook cell.

    ``step`` (synced int) is the current frame, ``0 .. frames - 1``; ``frames`` (synced int) is
    their number. ``frame`` is the current ``Frame`` (its ``title`` and chain-rule ``lines``).
    The numbers are those of one ``root.backward()``; no ``.data`` or ``.grad`` changes.

    ``level="neuron"``: the network view of a graph built by ``nn`` modules (it reads the
    grads already in the graph: call ``backward()`` first); one frame, and ``neuron`` (synced
    str) is the neuron whose numbers and scalar graph are on show ("" for none); ``unit`` is
    its ``Unit``, ``network`` the collapsed graph. ``optimizer_state=nn.adam_state(opt)`` adds
    Adam's m, v and step to each parameter's row.
    """

    _esm = traitlets.Unicode(front_js() + front("neurons.js") + front("widget.js")).tag(sync=True)
    _css = traitlets.Unicode(front("stepper.css")).tag(sync=True)
    _body = traitlets.Unicode("").tag(sync=True)
    _data = traitlets.Dict().tag(sync=True)
    step = traitlets.Int(0).tag(sync=True)
    frames = traitlets.Int(1).tag(sync=True)
    nudge_leaf = traitlets.Unicode("").tag(sync=True)  # "" = no nudge
    nudge_h = traitlets.Float(0.0).tag(sync=True)
    neuron = traitlets.Unicode("").tag(sync=True)  # level="neuron": the neuron on show
    _scalar = traitlets.Dict().tag(sync=True)  # {"id": box id, "svg": its scalar graph}

    def __init__(self, root: Value, title: str | None = None, decimals: int = 4,
                 fmt: Formatter = None, rankdir: str = "LR",
                 max_nodes: int = DEFAULT_MAX_NODES, step: int = 0, nudges=DEFAULT_H,
                 level: str = "value", optimizer_state=None, **kwargs) -> None:
        quiz = kwargs.pop("_quiz", False)  # QuizWidget's way in; learners use tv.QuizWidget
        self.network: NeuronGraph | None = None
        if level == "neuron":
            if quiz:
                raise ValueError("the quiz asks about Values: use level='value' with QuizWidget")
            from .neuron_page import network_parts

            net = network_parts(root, title, decimals, fmt, rankdir, optimizer_state,
                                scalar_graphs=False)
            self.walkthrough = None
            self.network = net.graph
            self._drawing = (decimals, fmt, rankdir)
            self._drawn: dict[str, str] = {}
            neuron = kwargs.pop("neuron", "")
            super().__init__(_body=net.body, _data=net.data, frames=1,
                             _css=front("neurons.css"), **kwargs)
            self.neuron = neuron
            return
        if level != "value":
            raise ValueError(f"level must be 'value' or 'neuron', got {level!r}")
        if optimizer_state is not None:
            raise ValueError("optimizer_state is shown at the neuron level: pass level='neuron'")
        parts = stepper_parts(root, title, None, decimals, fmt, rankdir, max_nodes, quiz, nudges)
        self.walkthrough: Walkthrough = parts.walkthrough
        n = len(parts.data["frames"])
        super().__init__(_body=parts.body, _data=parts.data, frames=n, **kwargs)
        self.step = parts.data.get("start", step) if quiz else step

    @traitlets.validate("neuron")
    def _check_neuron(self, proposal) -> str:
        name = proposal["value"]
        units = list(self.network.units) if self.network is not None else []
        if name and name not in units:
            where = (f"one of {', '.join(units[:4])}, ... ({len(units)} neurons)" if units
                     else "only at level='neuron'")
            raise traitlets.TraitError(f"neuron must be a neuron's name, {where}, or '' for "
                                       f"none; got {name!r}")
        return name

    @traitlets.observe("neuron")
    def _draw_neuron(self, change) -> None:
        name = change["new"]
        if not name or self.network is None:
            return
        from .neuron_dot import unit_ids
        from .neuron_page import neuron_svg

        if name not in self._drawn:
            decimals, fmt, rankdir = self._drawing
            self._drawn[name] = neuron_svg(self.network, name, decimals, fmt, rankdir)
        self._scalar = {"id": unit_ids(self.network)[name], "svg": self._drawn[name]}

    @property
    def unit(self) -> Unit | None:
        """level="neuron": the neuron on show (its params, outputs, grad), or None."""
        return self.network.units[self.neuron] if self.network is not None and self.neuron \
            else None

    @traitlets.validate("nudge_leaf")
    def _check_nudge_leaf(self, proposal) -> str:
        name = proposal["value"]
        leaves = [leaf["name"] for leaf in self._data.get("nudges", {}).get("leaves", [])]
        if name and name not in leaves:
            raise traitlets.TraitError(f"nudge_leaf must be the name of a leaf of this graph "
                                       f"({', '.join(leaves) or 'none offered'}) or '' for no "
                                       f"nudge, got {name!r}")
        return name

    @traitlets.validate("nudge_h")
    def _check_nudge_h(self, proposal) -> float:
        h = proposal["value"]
        leaves = self._data.get("nudges", {}).get("leaves", [])
        offered = [e["h_value"] for e in leaves[0]["nudges"]] if leaves else []
        if h != 0.0 and h not in offered:
            raise traitlets.TraitError(f"nudge_h must be one of the offered step sizes "
                                       f"{offered} (pass nudges=(...) to offer others), got {h!r}")
        return h

    def nudge(self, leaf: str, h: float) -> Nudge:
        """Show leaf ``leaf`` (its name) nudged by ``h``; returns the nudge, from Python."""
        with self.hold_sync():
            self.nudge_h = float(h)
            self.nudge_leaf = leaf
        return self.nudged

    @property
    def nudged(self) -> Nudge | None:
        """The nudge on show, worked out in Python (no ``.data``/``.grad`` changes), or None."""
        if not self.nudge_leaf or not self.nudge_h:
            return None
        w = self.walkthrough
        leaf = next(v for v in w.order if w.names[v] == self.nudge_leaf)
        return nudge(w.root, leaf, self.nudge_h, w.grads[leaf], w.order)

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
        if self.walkthrough is None:
            raise ValueError("a level='neuron' widget has no frames: see w.neuron and w.unit")
        return self.walkthrough.frames[self.step]

    def __repr__(self) -> str:
        if self.network is not None:
            return (f"StepperWidget(level='neuron', {len(self.network.units)} neurons, "
                    f"neuron={self.neuron!r})")
        return f"StepperWidget(step={self.step}, frames={self.frames}: {self.frame.title!r})"
