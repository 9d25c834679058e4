"""The live view lays its graphs out through show/rundot.run_dot, so its failures read the same
as everywhere else, and each becomes the view's GraphUnavailable."""

import pytest

from nn.live import render
from nn.live.render import GraphUnavailable, render_svg
from tinygrad_value.show import rundot


def test_render_svg_goes_through_run_dot(monkeypatch):
    seen = []

    def fake_run_dot(source, fmt="svg", timeout=30.0):
        seen.append((source, fmt, timeout))
        return b"<svg>drawn</svg>"

    monkeypatch.setattr(render, "run_dot", fake_run_dot)
    assert render_svg("digraph { a -> b }", timeout=7.0) == "<svg>drawn</svg>"
    assert seen == [("digraph { a -> b }", "svg", 7.0)]


def test_missing_dot_is_graph_unavailable_with_the_install_hint(monkeypatch):
    monkeypatch.setattr(rundot.shutil, "which", lambda name: None)
    with pytest.raises(GraphUnavailable, match="apt-get install graphviz"):
        render_svg("digraph { a -> b }")


def test_a_failing_dot_is_graph_unavailable_with_its_message():
    with pytest.raises(GraphUnavailable, match="dot failed"):
        render_svg("digraph { this is not dot")
