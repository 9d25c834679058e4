"""The quiz page's data: Python's numbers and sentences, and no backward pass on show."""

from __future__ import annotations

import json
import re

import pytest
from conftest import need_dot

import tinygrad_value as tv
from tinygrad_value.show.html import stepper_parts


def neuron():
    x, w = tv.Value(2.0, label="x"), tv.Value(-3.0, label="w")
    return (x * w + 1.0).tanh()


def test_quiz_data_is_the_quizs_own():
    need_dot()
    o = neuron()
    quiz = tv.Quiz(o, upstream=2.0)
    data = stepper_parts(o, quiz=quiz).data
    asked = data["quiz"]["questions"]
    assert [q["expected"] for q in asked] == [q.expected for q in quiz.questions]
    assert [q["prompt"] for q in asked] == [q.prompt for q in quiz.questions]
    assert all(q["diagnoses"] for q in asked)
    assert all(f["phase"] in ("start", "forward") for f in data["frames"])
    assert all(n["contribs"] == [] and n["sum"] == "" for n in data["nodes"])
    assert "nudges" not in data  # a nudge panel would give the answers away


def test_quiz_page_hides_the_chain_rule_lines():
    need_dot()
    o = neuron()
    html = tv.backprop_html(o, quiz=True).html
    data = json.loads(re.search(r'id="tv-data">(.*?)</script>', html, re.S).group(1))
    assert not any("dL/d" in line for f in data["frames"] for line in f["lines"])
    assert tv.backprop_html(o).frames > tv.backprop_html(o, quiz=True).frames


def test_a_wrong_quiz_argument_says_what_to_pass():
    need_dot()
    o = neuron()
    with pytest.raises(ValueError, match="another graph"):
        tv.backprop_html(o, quiz=tv.Quiz(neuron()))
    with pytest.raises(TypeError, match="quiz must be True, False or a tv.Quiz"):
        tv.backprop_html(o, quiz="yes")
