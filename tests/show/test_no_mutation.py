"""Showing a graph never changes a number in it: every viewer leaves .data and .grad alone."""

from __future__ import annotations

import io
from contextlib import redirect_stdout

import pytest
from conftest import need_dot, need_module

import tinygrad_value as tv
from tinygrad_value.show.cli import main
from tinygrad_value.show.nudge import nudge


def neuron():
    x1, x2 = tv.Value(2.0, label="x1"), tv.Value(0.0, label="x2")
    w1, w2 = tv.Value(-3.0, label="w1"), tv.Value(1.0, label="w2")
    b = tv.Value(6.8813735870195432, label="b")
    n = x1 * w1 + x2 * w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return o


def numbers(root):
    return [(v.data, v.grad) for v in tv.topo_order(root)]


def test_every_viewer_after_backward_leaves_every_number_as_it_was(tmp_path):
    need_dot()
    o = neuron()
    o.backward()
    before = numbers(o)
    x1 = next(v for v in tv.topo_order(o) if v.label == "x1")
    assert x1.grad == pytest.approx(-1.5)
    tv.draw_dot(o)
    tv.render_graph(o, tmp_path / "g.svg")
    tv.walkthrough(o)
    tv.backprop_html(o, tmp_path / "page.html")
    tv.backprop_html(o, tmp_path / "quiz.html", quiz=True)
    tv.backprop_html(o, tmp_path / "quiz.html", quiz=tv.Quiz(o, kind="local"))
    nudge(o, x1, 0.1)
    list(tv.backprop_steps(o, inplace=False))
    o._repr_svg_()
    assert numbers(o) == before
    assert x1.grad == pytest.approx(-1.5)  # not -3.0: nothing ran a second pass


def test_viewers_on_a_fresh_graph_leave_grads_at_zero(tmp_path):
    need_dot()
    o = neuron()
    before = numbers(o)
    tv.backprop_html(o, tmp_path / "page.html")
    tv.backprop_html(o, tmp_path / "quiz.html", quiz=True)
    x1 = next(v for v in tv.topo_order(o) if v.label == "x1")
    nudge(o, x1, 0.5)
    tv.walkthrough(o)
    assert numbers(o) == before and all(g == 0.0 for _, g in before)


def test_stepping_without_touching_grads_gives_the_same_steps():
    o = neuron()
    private = list(tv.backprop_steps(o, inplace=False))
    assert all(v.grad == 0.0 for v in tv.topo_order(o))
    applied = list(tv.backprop_steps(o))  # the default is backward() one node at a time
    assert [s.node for s in private] == [s.node for s in applied]
    for a, b in zip(private, applied):
        assert a.upstream == b.upstream
        assert [c.contribution for c in a.contributions] == \
            [c.contribution for c in b.contributions]
    leaf = tv.Value(1.0)
    assert list(tv.backprop_steps(leaf, inplace=False)) == [] and leaf.grad == 0.0


def test_the_cli_step_command_prints_backward_numbers():
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["step", "--all", "x=2.0; y=x*x"]) == 0
    assert "dL/dx = 4.0000" in out.getvalue()


def test_the_widgets_nudging_and_quizzing_leave_every_number_as_it_was():
    need_dot()
    need_module("anywidget", "REQUIRE_BROWSER")
    o = neuron()
    o.backward()
    before = numbers(o)
    w = tv.StepperWidget(o)
    for leaf in ("x1", "w1", "b"):
        w.nudge(leaf, 0.1)
    quiz = tv.QuizWidget(o, upstream=2.0)
    quiz.answer(1.0)
    quiz.answers = quiz.answers + [[1, "0.5"]]
    assert numbers(o) == before
