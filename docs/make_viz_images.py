"""Regenerate the README's pictures of a neuron: docs/neuron.svg and docs/stepper.png.

    .venv/bin/python docs/make_viz_images.py

Needs graphviz's ``dot`` and, for the screenshot, chromium plus the ``playwright`` package
(the system chromium is used; no ``playwright install``).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import tinygrad_value as tv
from tinygrad_value.show.expr import parse

DOCS = Path(__file__).resolve().parent
NEURON = "x1=2.0; x2=0.0; w1=-3.0; w2=1.0; b=6.8813735870195432; n=x1*w1 + x2*w2 + b; o=n.tanh()"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def neuron_svg() -> Path:
    root = parse(NEURON).root
    root.backward()
    return tv.render_graph(root, DOCS / "neuron.svg")


def stepper_png(backward_steps: int = 3) -> Path:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("chromium is not installed (apt-get install chromium)")
    out = DOCS / "stepper.png"
    with tempfile.TemporaryDirectory() as tmp:
        page_path = Path(tmp) / "backprop.html"
        w = tv.backprop_html(parse(NEURON).root, page_path, source=NEURON,
                             title="Backprop through a neuron, step by step")
        frames_before_backward = 1 + sum(1 for _ in tv.forward_steps(parse(NEURON).root)) + 1
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=ARGS, headless=True)
            page = browser.new_page(viewport={"width": 1100, "height": 560},
                                    device_scale_factor=2)
            page.goto(page_path.as_uri())
            for _ in range(frames_before_backward - 1 + backward_steps):
                page.click("#tv-next")
            page.click("#v0")  # x1: its gradient as a sum of contributions
            page.screenshot(path=str(out), full_page=True)
            browser.close()
        assert w.frames > backward_steps
    return out


if __name__ == "__main__":
    print("wrote", neuron_svg())
    print("wrote", stepper_png())
