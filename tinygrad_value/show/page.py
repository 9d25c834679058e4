"""The one page pipeline: front-end files, ``$``-templates, JSON inside <script>, atomic writes.

Every page and widget we make (the backprop page, ``StepperWidget``, and whatever else wants a
self-contained page) is built from these four functions, so there is one way to fill a template,
one escaper for data in a script element and one way to write the file.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from string import Template

from ..files import write_atomic

FRONT = Path(__file__).with_name("front")  # the HTML, CSS and JS shipped with the package


@functools.lru_cache(maxsize=None)
def front(name: str) -> str:
    """The text of ``front/<name>`` (``stepper.js``, ``stepper.css``, ``page.html``, ...)."""
    return (FRONT / name).read_text(encoding="utf-8")


def fill(template: str, **values: str) -> str:
    """``template`` with each ``$name`` replaced by ``values[name]`` (``string.Template``; a
    missing value is a ``KeyError``, so a forgotten placeholder cannot ship). The values go in
    as they are: escape text first (``html.escape``), data with ``json_for_script``."""
    return Template(template).substitute(values)


def json_for_script(obj, **dumps_options) -> str:
    """JSON that cannot end its <script> element early: <, > and & become \\u escapes.

    ``dumps_options`` go to ``json.dumps`` (NaN and infinity are refused: JSON has neither)."""
    text = json.dumps(obj, allow_nan=False, **dumps_options)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def write_page(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (readers see the old page or the new one), making
    the directory first; returns the path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(out, text)
    return out
