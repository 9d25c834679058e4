"""The course in a real JupyterLab on 127.0.0.1, driven by Playwright with Debian's chromium.

One server for the module (a free port, a token, its own runtime and config directories, no news,
update check or extension manager); each test opens a notebook written into the server's temp root,
runs cells with Shift+Enter and reads what the page shows. Every request the browser makes is
recorded and none may leave 127.0.0.1.
"""

from __future__ import annotations

import sys

import nbformat
import pytest
from conftest import need_chromium, need_module
from lab_driver import Lab
from nb_harness import KERNEL, jupyter_lab

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def write_notebook(path, cells: list[str]):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": KERNEL, "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
    nbformat.write(nb, path)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    need_module("jupyterlab", "REQUIRE_BROWSER")
    need_module("ipykernel", "REQUIRE_BROWSER")
    root = tmp_path_factory.mktemp("lab-root")
    with jupyter_lab(root, tmp_path_factory.mktemp("lab-home")) as (url, token):
        yield root, url, token


@pytest.fixture(scope="module")
def browser():
    chromium = need_chromium()
    sync_api = need_module("playwright.sync_api", "REQUIRE_BROWSER")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def lab(server, browser):
    root, url, token = server
    lab = Lab(browser, url, token)
    lab.root = root
    yield lab
    lab.close()
    assert lab.remote_requests() == [], "the browser reached outside 127.0.0.1"
    assert lab.errors == [], lab.errors


def test_a_cell_runs_in_jupyterlab_and_its_output_is_read_back(lab):
    write_notebook(lab.root / "plain.ipynb", [
        "import sys, tinygrad_value as tv\n"
        "v = tv.Value(2.0) * tv.Value(-3.0) + 1\n"
        "v.backward()\n"
        "print('data', v.data, 'exe', sys.executable)",
    ])
    lab.open("plain.ipynb")
    lab.run(0)
    out = lab.output(0)
    assert "data -5.0" in out
    assert f"exe {sys.executable}" in out  # the kernel is this interpreter, the venv's
    assert any(u.startswith(lab.base_url) for u in lab.requests)  # the recorder sees traffic
