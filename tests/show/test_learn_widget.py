"""Nudges in StepperWidget and tv.QuizWidget: traitlets in Python, and their ES module in chromium.

The browser half hosts each widget's own ``_esm`` with a fake anywidget ``model`` (as
test_widget.py does): choosing a nudge or typing an answer in the view changes the model, and
Python's changes move the view.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import need_dot, need_module
from test_widget import FAKE_MODEL, HOST

import tinygrad_value as tv
from tinygrad_value.show.expr import parse

SRC = "x1=2.0; x2=0.0; w1=-3.0; w2=1.0; b=6.8813735870195432; n=x1*w1 + x2*w2 + b; o=n.tanh()"


@pytest.fixture(autouse=True)
def _needs():
    need_dot()
    need_module("anywidget", "REQUIRE_BROWSER")


def numbers(root):
    return [(v.data, v.grad) for v in tv.topo_order(root)]


def test_import_does_not_load_anywidget_for_the_quiz_widget():
    code = ("import sys, tinygrad_value as tv; a = 'anywidget' in sys.modules; "
            "tv.QuizWidget; print(a, 'anywidget' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]


def test_stepper_widget_nudges_in_python():
    program = parse(SRC)
    before = numbers(program.root)
    w = tv.StepperWidget(program.root)
    sync = {name for name in w.trait_names() if w.trait_metadata(name, "sync")}
    assert {"nudge_leaf", "nudge_h"} <= sync
    assert w.nudged is None
    n = w.nudge("x1", 0.001)
    assert (w.nudge_leaf, w.nudge_h) == ("x1", 0.001)
    again = parse(SRC.replace("x1=2.0", "x1=2.001"))
    assert n.delta == again.root.data - program.root.data
    assert abs(n.ratio - 1) < 0.01
    with pytest.raises(Exception, match="nudge_leaf must be the name of a leaf"):
        w.nudge_leaf = "n"  # not a leaf
    with pytest.raises(Exception, match="nudge_h must be one of the offered step sizes"):
        w.nudge_h = 0.5
    assert tv.StepperWidget(program.root, nudges=(0.5,)).nudge("b", 0.5).h == 0.5
    assert numbers(program.root) == before


def test_quiz_widget_traitlets_score_like_the_quiz():
    program = parse(SRC)
    before = numbers(program.root)
    w = tv.QuizWidget(program.root, upstream=2.0)
    sync = {name for name in w.trait_names() if w.trait_metadata(name, "sync")}
    assert {"question", "score", "answers", "step", "_esm"} <= sync
    assert w.frames == 1 + len(w.walkthrough.forward) and w.step == w.frames - 1
    python = tv.Quiz(parse(SRC).root, upstream=2.0)
    q = python.questions[0]
    wrong = -q.expected
    assert w.answer(wrong).message == q.check(wrong).message
    assert w.answer(q.expected).correct and w.score == [0, 1]
    w.next()
    assert w.question == 1 and w.current.prompt == python.questions[1].prompt
    w.answers = w.answers + [[1, repr(python.questions[1].expected)]]  # as the view sends it
    assert w.score == [1, 2] == list(w.quiz.score)
    with pytest.raises(Exception, match="question must be from 0 to"):
        w.question = len(w.quiz) + 1
    with pytest.raises(Exception, match="each answer is"):
        w.answers = w.answers + [["x", "1"]]
    assert numbers(program.root) == before


def mount(browser, w):
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_content(HOST)
    state = {k: getattr(w, k) for k in w.trait_names()
             if w.trait_metadata(k, "sync") and not k.startswith("_") or k in ("_body", "_data")}
    page.evaluate(FAKE_MODEL, [w._esm, w._css, {k: v for k, v in state.items()
                                                if isinstance(v, (int, float, str, list, dict))}])
    return page, errors


def test_nudge_in_the_view_reaches_the_model_and_back(browser):
    program = parse(SRC)
    w = tv.StepperWidget(program.root)
    page, errors = mount(browser, w)
    page.select_option("#tv-nudge-leaf", index=1)
    page.select_option("#tv-nudge-h", index=2)
    leaf, h = page.evaluate("[model.get('nudge_leaf'), model.get('nudge_h')]")
    n = w.nudge(leaf, h)  # what Python says about the nudge the view chose
    assert page.text_content("#tv-nudge-summary").startswith(f"{leaf} + {h:g}: ΔL = {n.delta:.6g}")
    page.evaluate("model.set('nudge_leaf', 'b'); model.set('nudge_h', 0.001)")  # Python's move
    assert page.get_attribute(".tv-stepper", "data-nudge") == "b 0.001"
    drawn = page.eval_on_selector(f'[id="{w.walkthrough.ids[program.root]}"]',
                                  "g => [...g.querySelectorAll('text')].map(t => t.textContent)")
    assert f"data {w.nudge('b', 0.001).values[program.root]:.4f}" in drawn
    page.close()
    assert errors == []


def test_quiz_in_the_view_sends_answers_and_python_scores_them(browser):
    program = parse(SRC)
    w = tv.QuizWidget(program.root, upstream=-2.0)
    page, errors = mount(browser, w)
    q = w.quiz.questions[0]
    local = next(d.value for d in w.quiz.diagnoses(q) if "local derivative" in d.text)
    page.fill("#tv-quiz-answer", repr(local))
    page.click("#tv-quiz-check")
    shown = page.text_content("#tv-quiz-feedback")
    answers = page.evaluate("model.get('answers')")
    assert answers == [[0, repr(local)]]
    w.answers = answers  # what the comm would deliver
    assert shown == w.feedback[-1].message and "local derivative" in shown
    assert w.score == [0, 1]
    page.click("#tv-quiz-next")
    assert page.evaluate("model.get('question')") == 1
    # Python answers question 1: the view shows it as if typed
    w.question = 1
    w.answer(w.current.expected)
    page.evaluate("([a, s]) => { model.set('answers', a); model.set('score', s); }",
                  [w.answers, w.score])
    assert page.text_content("#tv-quiz-feedback") == w.feedback[-1].message
    assert page.text_content("#tv-quiz-score") == "Score: 1/2 right at the first try."
    assert page.evaluate("model.get('answers').length") == 2  # not echoed back as a third
    page.close()
    assert errors == []
