"""The live page: page.html around the shared front end (live.html, live.css, live.js) + config."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import List

from tinygrad_value.show.html import json_for_script

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
    return _template().replace("/*__CONFIG__*/null",
                               json_for_script(config, separators=(",", ":")), 1)


@functools.lru_cache(maxsize=1)
def _template() -> str:
    page = asset("page.html")
    page = page.replace("/*__CSS__*/", asset("live.css"), 1)
    page = page.replace("<!--__BODY__-->", asset("live.html"), 1)
    return page.replace("/*__JS__*/", asset("live.js"), 1)
