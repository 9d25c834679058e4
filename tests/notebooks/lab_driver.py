"""Drive a JupyterLab page with Playwright: open a notebook, run a cell, read what it printed.

Every request the browser makes (pages, scripts, fetches, websockets) is recorded in
``Lab.requests``; any that would leave 127.0.0.1 is aborted, and the tests assert there were
none. The fixtures ``server`` (one JupyterLab per test module) and ``lab`` (a fresh browser
context on it, checked for outside requests and page errors afterwards) are imported by the
test modules that drive the lab.
"""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

import nbformat
import pytest
from conftest import need_module
from nb_harness import KERNEL, jupyter_lab

LOCAL_SCHEMES = ("data:", "blob:", "about:")


def is_local(url: str) -> bool:
    if url.startswith(LOCAL_SCHEMES):
        return True
    return urlsplit(url).hostname == "127.0.0.1"


class Lab:
    """One browser context on a JupyterLab server at ``base_url``."""

    def __init__(self, browser, base_url: str, token: str):
        self.base_url, self.token = base_url, token
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000})
        self.context.on("request", lambda r: self.requests.append(r.url))
        self.context.route(re.compile(r".*"), self._route)
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("websocket", lambda ws: self.requests.append(ws.url))

    @staticmethod
    def _route(route):
        if is_local(route.request.url):
            route.continue_()
        else:
            route.abort()

    def remote_requests(self) -> list[str]:
        return [u for u in self.requests if not is_local(u)]

    def open(self, notebook: str, timeout: float = 120_000):
        """Open ``notebook`` (a path under the server's root) and wait for an idle kernel."""
        # ?reset: a fresh workspace, so tabs of earlier tests are not restored beside this one
        self.page.goto(f"{self.base_url}lab/tree/{notebook}?reset&token={self.token}")
        self.page.wait_for_selector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell",
                                    timeout=timeout)
        # the status bar reads "<kernel name> | Idle" once a kernel is connected ("No Kernel |
        # Initializing" before: a cell run then would be dropped)
        self.page.wait_for_function(
            "() => [...document.querySelectorAll('.jp-StatusBar-Widget')].some(e =>"
            " e.textContent.includes(' | Idle') && !e.textContent.includes('No Kernel'))",
            timeout=timeout)

    def cell(self, i: int):
        # the notebook in the current tab (Lumino hides the others with lm-mod-hidden)
        panel = ".jp-NotebookPanel:not(.lm-mod-hidden)"
        return self.page.locator(f"{panel} .jp-Notebook .jp-Cell").nth(i)

    def run(self, i: int, timeout: float = 120_000):
        """Run cell ``i`` (Shift+Enter) and wait for its new execution count (a re-run gets a
        higher one, so a cell run before is waited for too)."""
        cell = self.cell(i)
        prompt = cell.locator(".jp-InputPrompt")
        before = (prompt.text_content() or "").strip()
        cell.locator(".jp-InputArea-editor").click()
        self.page.keyboard.press("Escape")  # command mode: Shift+Enter runs, never types
        self.page.keyboard.press("Shift+Enter")
        deadline = time.monotonic() + timeout / 1000
        while time.monotonic() < deadline:
            now = (prompt.text_content() or "").strip()
            if now != before and re.fullmatch(r"\[\d+\]:", now):
                return cell
            time.sleep(0.05)
        raise TimeoutError(f"cell {i} did not finish: prompt {prompt.text_content()!r}")

    def run_all(self, timeout: float = 120_000):
        """Run > Run All Cells, then wait until every code cell shows an execution count."""
        self.page.get_by_role("menuitem", name="Run", exact=True).click()
        self.page.get_by_role("menuitem", name=re.compile(r"^Run All Cells")).click()
        panel = ".jp-NotebookPanel:not(.lm-mod-hidden)"
        self.page.wait_for_function(
            f"() => [...document.querySelectorAll('{panel} .jp-CodeCell .jp-InputPrompt')]"
            r".every(p => /^\[\d+\]:$/.test(p.textContent.trim()))", timeout=timeout)

    def output(self, i: int) -> str:
        """The text of cell ``i``'s outputs."""
        return self.cell(i).locator(".jp-OutputArea").inner_text()

    def close(self):
        self.context.close()


def write_notebook(path, cells: list) -> None:
    """A notebook of code cells, on the test kernel, at ``path`` (for a lab test to open)."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": KERNEL, "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
    nbformat.write(nb, path)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A JupyterLab on 127.0.0.1 for the test module: (its root folder, its URL, its token)."""
    need_module("jupyterlab", "REQUIRE_BROWSER")
    need_module("ipykernel", "REQUIRE_BROWSER")
    root = tmp_path_factory.mktemp("lab-root")
    with jupyter_lab(root, tmp_path_factory.mktemp("lab-home")) as (url, token):
        yield root, url, token


@pytest.fixture
def lab(server, browser, tmp_path):
    """A Lab on the module's server; afterwards no request may have left 127.0.0.1 and the page
    may have logged no error (a screenshot is kept in tmp_path for a failure)."""
    root, url, token = server
    lab = Lab(browser, url, token)
    lab.root = root
    yield lab
    lab.page.screenshot(path=str(tmp_path / "lab.png"), full_page=True)
    lab.close()
    assert lab.remote_requests() == [], "the browser reached outside 127.0.0.1"
    assert lab.errors == [], lab.errors
