"""The live training view: a page served while ``fit`` runs, and a self-contained recording.

``view.py`` holds LiveView and LiveRecorder, ``render.py`` what they draw, ``server.py`` the
loopback HTTP server. May import ``nn`` and ``tinygrad_value``; ``import nn`` never imports this.
"""

from .view import LiveRecorder, LiveView, render_page

__all__ = ["LiveView", "LiveRecorder", "render_page"]
