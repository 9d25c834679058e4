"""The live training view: a page served while ``fit`` runs, a recording, a notebook widget.

``view.py`` holds LiveView, ``recorder.py`` LiveRecorder, ``widget.py`` LiveWidget (anywidget,
loaded on use), ``control.py`` what they share, ``render.py`` what they draw, ``server.py`` and
``listener.py`` the loopback HTTP server, ``live.js``/``live.css`` the one front end.
May import ``nn`` and ``tinygrad_value``; ``import nn`` never imports this.
"""

from .page import render_page
from .recorder import LiveRecorder
from .view import LiveView

__all__ = ["LiveView", "LiveRecorder", "LiveWidget", "render_page"]


def __getattr__(name: str):
    if name == "LiveWidget":  # anywidget is an optional extra: imported only when asked for
        from .widget import LiveWidget

        return LiveWidget
    raise AttributeError(f"module 'nn.live' has no attribute {name!r}")
