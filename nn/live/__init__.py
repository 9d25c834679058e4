"""The live training view: a page served while ``fit`` runs, and a self-contained recording.

``view.py`` holds LiveView, ``recorder.py`` LiveRecorder, ``control.py`` what they share,
``render.py`` what they draw, ``server.py`` and ``listener.py`` the loopback HTTP server,
``live.js``/``live.css`` the one front end. May import ``nn`` and ``tinygrad_value``;
``import nn`` never imports this.
"""

from .page import render_page
from .recorder import LiveRecorder
from .view import LiveView

__all__ = ["LiveView", "LiveRecorder", "render_page"]
