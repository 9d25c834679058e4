"""The live training view: a page served while ``fit`` runs, and a self-contained recording.

``view.py`` holds LiveView, ``recorder.py`` LiveRecorder, ``control.py`` what they share,
``render.py`` what they draw, ``health.py`` the gradient-health panel's series (``nn.inspect``
over training), ``page.py`` the page (through ``tinygrad_value.show.page``), ``server.py``
and ``listener.py`` the loopback HTTP server, ``live.html``/``live.css``/``live.js`` the one
front end, which ``widget.py``'s LiveWidget (the notebook face, loaded on first use: it needs
anywidget) shares. May import ``nn`` and ``tinygrad_value``;
``import nn`` never imports this.
"""

from .page import render_page
from .recorder import LiveRecorder
from .view import LiveView

__all__ = ["LiveView", "LiveRecorder", "LiveWidget", "render_page"]


def __getattr__(name: str):
    """``nn.live.LiveWidget`` imports anywidget only when first used."""
    if name == "LiveWidget":
        from .widget import LiveWidget

        return LiveWidget
    raise AttributeError(f"module 'nn.live' has no attribute {name!r}")
