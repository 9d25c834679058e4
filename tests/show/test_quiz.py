"""tv.Quiz: expected answers equal backward() under the upstream, mistakes are diagnosed,
retries do not change the score, and the caller's grads are untouched."""

from __future__ import annotations

import subprocess
import sys

import pytest

import tinygrad_value as tv


def _neuron():
    x, w, b = tv.Value(2.0, label="x"), tv.Value(-3.0, label="w"), tv.Value(6.88, label="b")
    n = x * w + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return o, (x, w, b, n)


def _all_grads_under(root, g):
    """dL/dnode for L = g·root, from the engine itself (backward on a scaled root)."""
    nodes = tv.topo_order(root)
    for v in nodes:
        v.grad = 0.0
    root.backward()
    grads = {v: g * v.grad for v in nodes}
    for v in nodes:
        v.grad = 0.0
    return grads


def test_default_upstream_is_not_one_and_is_seeded():
    o, _ = _neuron()
    g = tv.Quiz(o).upstream
    assert abs(abs(g) - 1.0) > 0.4
    assert tv.Quiz(o, seed=0).upstream == g
    assert {tv.Quiz(o, seed=s).upstream for s in range(10)} != {g}


@pytest.mark.parametrize("upstream", [None, 2.5, -0.5])
def test_grad_questions_expect_backward_scaled_by_the_upstream(upstream):
    o, (x, w, b, n) = _neuron()
    quiz = tv.Quiz(o, upstream=upstream)
    expected = _all_grads_under(o, quiz.upstream)
    asked = [q.node for q in quiz]
    assert set(asked) == set(tv.topo_order(o)) - {o}
    order = tv.topo_order(o)
    assert [order.index(v) for v in asked] == sorted((order.index(v) for v in asked),
                                                     reverse=True)  # backward order
    for q in quiz.questions:
        assert q.expected == pytest.approx(expected[q.node], rel=1e-12)
        assert f"{quiz.upstream:g}" in q.prompt
        fb = q.check(expected[q.node])
        assert fb.correct and fb.expected == pytest.approx(expected[q.node])
    assert quiz.score == (len(quiz), len(quiz))


def test_tolerance_is_1e3_relative_or_1e4_absolute():
    o, _ = _neuron()
    q = next(iter(tv.Quiz(o, upstream=2.0)))
    e = q.expected
    assert q.check(e * (1 + 9e-4)).correct
    assert not q.check(e * (1 + 2e-3)).correct
    x = tv.Value(0.0, label="x")
    y = x * 3.0
    small = tv.Quiz(y, upstream=2.0).questions
    zero_grad = [q for q in small if q.expected == 0.0]
    assert zero_grad and zero_grad[0].check(5e-5).correct and not zero_grad[0].check(2e-4).correct


def test_the_usual_mistakes_are_named():
    o, (x, w, b, n) = _neuron()
    quiz = tv.Quiz(o, upstream=2.5)
    q_n = next(q for q in quiz.questions if q.node is n)
    local = 1 - o.data ** 2
    assert "local derivative" in q_n.check(local).message
    q_w = next(q for q in quiz.questions if q.node is w)
    forgot = q_w.expected / 2.5
    assert "upstream" in q_w.check(forgot).message
    assert "sign" in q_w.check(-q_w.expected).message
    assert "hint" in q_w.check(123.0).message
    assert not q_w.check("abc").correct


def test_a_node_used_twice_missing_one_contribution():
    a = tv.Value(1.5, label="a")
    b = a * 2.0
    b.label = "b"
    c = a.exp()
    c.label = "c"
    L = b + c
    L.label = "L"
    quiz = tv.Quiz(L, upstream=3.0)
    q_a = next(q for q in quiz.questions if q.node is a)
    only_b = 3.0 * 2.0
    fb = q_a.check(only_b)
    assert not fb.correct and "used 2 times" in fb.message and "missing" in fb.message


def test_retries_count_only_the_first_answer():
    o, _ = _neuron()
    quiz = tv.Quiz(o)
    qs = iter(quiz)
    q1 = next(qs)
    assert not q1.check(q1.expected + 1).correct
    assert q1.check(q1.expected).correct  # a retry is checked...
    assert quiz.score == (0, 1)  # ...but the first answer is what counts
    q2 = next(qs)
    q2.check(q2.expected)
    q2.check(q2.expected + 5)
    assert quiz.score == (1, 2)


def test_hint_names_the_uses_and_upstreams():
    o, (x, w, b, n) = _neuron()
    quiz = tv.Quiz(o, upstream=2.0)
    with pytest.raises(RuntimeError):
        quiz.hint()
    for q in quiz:
        if q.node is w:
            assert "dL/dn1" in quiz.hint() or "dL/d" in quiz.hint()
            break


def test_local_questions_expect_each_local_derivative():
    o, (x, w, b, n) = _neuron()
    quiz = tv.Quiz(o, kind="local")
    pairs = {(q.node, q.child): q.expected for q in quiz}
    assert pairs[(o, n)] == pytest.approx(1 - o.data ** 2)
    mul = next(node for node in tv.topo_order(o) if node.op == "*")
    assert pairs[(mul, x)] == -3.0 and pairs[(mul, w)] == 2.0
    sq = x * x
    q = tv.Quiz(sq, kind="local").questions
    assert len(q) == 1 and q[0].expected == 4.0  # ∂(x·x)/∂x = 2x


def test_the_quiz_leaves_every_grad_as_it_found_it():
    o, (x, w, b, n) = _neuron()
    o.backward()
    before = {v: (v.data, v.grad) for v in tv.topo_order(o)}
    for kind in ("grad", "local"):
        quiz = tv.Quiz(o, kind=kind, upstream=1.7)
        for q in quiz:
            q.check(0.0)
            quiz.hint()
    assert {v: (v.data, v.grad) for v in tv.topo_order(o)} == before


def test_bad_arguments_say_what_is_wrong():
    with pytest.raises(TypeError, match="Value"):
        tv.Quiz(3.0)
    o, _ = _neuron()
    with pytest.raises(ValueError, match="kind"):
        tv.Quiz(o, kind="grads")


def test_terminal_quiz_reads_answers_from_stdin():
    expr = "x=2.0; w=-3.0; n=x*w; o=n.tanh()"
    quiz = tv.Quiz(__import__("tinygrad_value.show.expr", fromlist=["parse"]).parse(expr).root)
    answers = [f"{q.expected:.6f}" for q in quiz.questions]
    answers[1] = "999"  # one wrong first answer, then right on the retry
    answers.insert(2, f"{quiz.questions[1].expected:.6f}")
    result = subprocess.run([sys.executable, "-m", "tinygrad_value", "quiz", expr],
                            input="\n".join(answers) + "\n", capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    n = len(quiz.questions)
    assert f"Score: {n - 1}/{n}" in result.stdout
    assert "Not quite" in result.stdout and result.stdout.count("Right") == n
