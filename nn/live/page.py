"""The live page: page.html around the shared front end (live.html, live.css, live.js) + config.

Built by the one page pipeline of ``tinygrad_value/show/page.py``, as the backprop page is: its
``$``-template ``fill``, its ``json_for_script`` for the config and its atomic ``write_page``.
"""

from __future__ import annotations

import functools
import html
from pathlib import Path
from typing import List

from tinygrad_value.show.page import fill, json_for_script

HERE = Path(__file__).parent


@functools.lru_cache(maxsize=None)
def asset(name: str) -> str:
    """A file that ships with the package (read once: it does not change)."""
    return (HERE / name).read_text(encoding="utf-8")


def class_colours() -> List[str]:
    """The colours of class -1 (or 0) and class +1 (or 1): the demos' PNGs use the same."""
    try:
        from ..palette import CLASSES
    except ImportError:  # before nn.palette lands: its first two colours
        CLASSES = ["#ea580c", "#2563eb"]
    return list(CLASSES[:2])


def render_page(config: dict) -> str:
    """The page with ``config`` (and the class colours) embedded as JSON, safe in <script>."""
    config = dict(config)
    config.setdefault("palette", class_colours())
    title = str(config.get("title") or "tinygrad-value: live training")
    return fill(asset("page.html"), title=html.escape(title), css=asset("live.css"),
                body=asset("live.html"), js=asset("live.js"),
                config=json_for_script(config, separators=(",", ":")))
