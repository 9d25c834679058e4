"""Shared test helpers: optional dependencies skip locally but are required in CI."""

from __future__ import annotations

import importlib
import os
import shutil

import pytest


def _required(env: str) -> bool:
    return os.environ.get(env) == "1"


def need_module(name: str, env: str = "REQUIRE_TORCH"):
    """Import ``name`` or skip; with ``env=1`` set (CI) a missing module is a failure."""
    try:
        return importlib.import_module(name)
    except ImportError:
        if _required(env):
            pytest.fail(f"{name} is required here ({env}=1) but is not installed")
        pytest.skip(f"{name} is not installed")


def need_torch():
    torch = need_module("torch", "REQUIRE_TORCH")
    torch.set_default_dtype(torch.float64)
    return torch


def need_dot() -> str:
    path = shutil.which("dot")
    if path is None:
        if _required("REQUIRE_DOT"):
            pytest.fail("graphviz's `dot` is required here (REQUIRE_DOT=1) but is not on PATH")
        pytest.skip("graphviz's `dot` binary is not installed (apt-get install graphviz)")
    return path


def need_chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    if _required("REQUIRE_BROWSER"):
        pytest.fail("chromium is required here (REQUIRE_BROWSER=1) but is not on PATH")
    pytest.skip("chromium is not installed (apt-get install chromium); browser test skipped")


# Debian's chromium, as the machine's probe starts it: no background traffic to Google's hosts
# (this machine's network refuses it), a fresh profile per launch (Playwright's default).
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    """A headless Debian chromium driven by Playwright (never ``playwright install``)."""
    chromium = need_chromium()
    sync_api = need_module("playwright.sync_api", "REQUIRE_BROWSER")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()
