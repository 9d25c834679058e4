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


@pytest.mark.parametrize("use_dot", [False, True])
def test_the_heatmap_scores_are_the_models_own_outputs(use_dot):
    """Mirror.scores is nn.predict's compiled Predictor: for any model, the loaded parameters'
    outputs, equal to the eager model's on every point (including a short last chunk)."""
    import random

    import nn
    import tinygrad_value as tv
    from nn.live.render import Mirror

    random.seed(3)
    model = nn.MLP(2, [5, 4, 1], use_dot=use_dot)
    mirror = Mirror(model)
    points = [(random.uniform(-2, 2), random.uniform(-2, 2)) for _ in range(700)]
    for _ in range(2):  # a new snapshot is followed, not the parameters at first use
        values = [random.uniform(-1, 1) for _ in mirror.params]
        mirror.load(values)
        for p, v in zip(model.parameters(), values):
            p.data = v
        got = mirror.scores(points)
        with tv.no_grad():
            want = [model(list(pt)).data for pt in points]
        assert len(got) == len(points)
        for g, w in zip(got, want):
            assert g == pytest.approx(w, rel=1e-9, abs=1e-12)
