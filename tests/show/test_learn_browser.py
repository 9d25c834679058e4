"""The page's quiz mode and nudge panel in a real browser (Debian's chromium via Playwright).

The quiz: every message the page shows for a typed answer must be the very sentence Python's
``Quiz`` gives for that answer (a wrong one of each kind, then the right one), and the score
must be Python's. The nudges: every number drawn on the graph after nudging a leaf by h must be
what the engine computes on a graph built afresh with that leaf at x + h.
"""

from __future__ import annotations

import re

import pytest
from conftest import need_dot

import tinygrad_value as tv
from tinygrad_value.show.expr import parse
from tinygrad_value.show.page import front

NEURON = "x1=2.0; x2=0.0; w1=-3.0; w2=1.0; b=6.8813735870195432; n=x1*w1 + x2*w2 + b; o=n.tanh()"
TWICE = "x=1.5; y=-2.0; a=x*y; b=a+x; c=b*b + a"  # x and a are used twice


@pytest.fixture(scope="module", autouse=True)
def _needs_dot():
    need_dot()


def open_page(browser, path):
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: errors.append("request " + r.url)
            if not r.url.startswith("file://") else None)
    page.goto(path.as_uri())
    return page, errors


def answer(page, text):
    page.fill("#tv-quiz-answer", text)
    page.click("#tv-quiz-check")
    return page.text_content("#tv-quiz-feedback")


def wrong_answers(quiz, q):
    """One wrong number for each mistake the quiz knows for q, and one it does not."""
    return [d.value for d in quiz.diagnoses(q)] + [q.expected + 123.0]


@pytest.mark.parametrize("src", [NEURON, TWICE])
def test_quiz_page_gives_pythons_diagnosis_and_score(browser, tmp_path, src):
    program = parse(src)
    path = tmp_path / "quiz.html"
    tv.backprop_html(program.root, path, quiz=tv.Quiz(program.root, upstream=-2.5))
    python = tv.Quiz(parse(src).root, upstream=-2.5)  # the same quiz on a fresh graph
    page, errors = open_page(browser, path)
    kinds = set()
    for i, q in enumerate(python):
        assert page.text_content("#tv-quiz-prompt") == q.prompt
        assert page.text_content("#tv-quiz-counter") == f"Question {i + 1} of {len(python)}"
        if i % 2 == 0:  # wrong answers first (one of each known mistake), then the right one
            for t, wrong in enumerate(wrong_answers(python, q)):
                shown = answer(page, repr(wrong))
                assert shown == q.check(wrong).message and shown.startswith("Not quite")
                kinds.update(k for k, word in [("local", "local derivative"),
                                               ("upstream", "upstream factor"),
                                               ("sign", "sign is flipped"),
                                               ("missing", "is missing")] if word in shown)
                assert page.text_content("#tv-quiz-reveal") == \
                    ("" if t == 0 else f"The answer is {q.expected:.6g}.")
        shown = answer(page, f"{q.expected:.6f}")
        assert shown == q.check(q.expected).message and shown.startswith("Right")
        assert page.text_content("#tv-quiz-score") == \
            f"Score: {python.score[0]}/{python.score[1]} right at the first try."
        page.click("#tv-quiz-next")
    assert page.text_content("#tv-quiz-score").startswith("Done. Score: ")
    assert python.score[0] < python.score[1]  # the wrong first answers counted
    assert page.get_attribute(".tv-stepper", "data-quiz-score") == "%d/%d" % python.score
    if src == TWICE:
        assert kinds == {"local", "upstream", "sign", "missing"}
    page.close()
    assert errors == []


def test_quiz_page_shows_every_diagnosis_for_one_wrong_number(browser, tmp_path):
    program = parse(TWICE)
    x = program.names["x"]
    path = tmp_path / "quiz.html"
    tv.backprop_html(program.root, path, quiz=tv.Quiz(program.root, upstream=3.0))
    python = tv.Quiz(parse(TWICE).root, upstream=3.0)
    target = next(i for i, q in enumerate(python) if q.node.label == "x")
    page, errors = open_page(browser, path)
    for _ in range(target):
        page.click("#tv-quiz-next")
    q = python.questions[target]
    missing = next(d.value for d in python.diagnoses(q) if d.group == "missing")
    assert answer(page, repr(missing)) == q.check(missing).message
    assert "used 2 times" in q.check(missing).message
    assert answer(page, "abc") == "'abc' is not a number; answer with a number such as -1.5"
    page.click("#tv-quiz-hint")
    assert page.text_content("#tv-quiz-feedback") == q.hint()
    # the graph gives nothing away: the forward pass only, no grad but dL/dL = 3
    grads = page.eval_on_selector_all("#tv-graph g.node text", "ts => ts.map(t => t.textContent)"
                                      ".filter(t => t.startsWith('grad '))")
    assert sorted(set(grads)) == ["grad 3.0000", "grad ?"]
    assert page.is_disabled("#tv-next")  # no backward frames to step into
    assert x.grad == 0.0
    page.close()
    assert errors == []


def test_the_page_scripts_do_no_calculus():
    for name in ("quiz.js", "nudge.js"):
        text = front(name)
        assert not re.search(r"Math\.(exp|log|tanh|pow|sqrt)|\*\*", text), name


def _with(src: str, name: str, value: float) -> str:
    """src with leaf ``name`` assigned ``value`` instead."""
    out, n = re.subn(rf"\b{name}=[^;]+", f"{name}={value!r}", src)
    assert n == 1
    return out


def graph_numbers(page):
    return page.evaluate("""() => {
        const out = {};
        for (const g of document.querySelectorAll('#tv-graph g.node')) {
            const d = [...g.querySelectorAll('text')].map(t => t.textContent)
                .filter(t => t.startsWith('data ')).pop();
            if (d !== undefined) out[g.id] = d;
        }
        return out;
    }""")


@pytest.mark.parametrize("src", [NEURON, TWICE])
def test_nudges_show_the_engines_numbers_and_the_ratio_tends_to_1(browser, tmp_path, src):
    program = parse(src)
    path = tmp_path / "nudge.html"
    tv.backprop_html(program.root, path)
    before = [(v.data, v.grad) for v in tv.topo_order(program.root)]
    page, errors = open_page(browser, path)
    page.keyboard.press("End")  # every value known, so each one drawn is the nudged one
    leaves = [name for name, v in program.names.items() if v._fn is None]
    offered = page.eval_on_selector_all(
        "#tv-nudge-leaf option", "os => os.slice(1).map(o => o.textContent.split(' ')[0])")
    assert sorted(offered) == sorted(leaves) and leaves
    fresh = parse(src)
    fresh.root.backward()
    for i, name in enumerate(offered):
        page.select_option("#tv-nudge-leaf", index=i + 1)
        leaf = fresh.names[name]
        ratios = []
        for k, h in enumerate([1.0, 0.1, 0.01, 0.001]):
            page.select_option("#tv-nudge-h", index=k)
            nudged = parse(_with(src, name, leaf.data + h))  # the engine, eagerly, at x + h
            order = tv.topo_order(nudged.root)
            downstream = {i for i, v in enumerate(tv.topo_order(fresh.root))
                          if v is leaf or _depends(v, leaf)}
            drawn = graph_numbers(page)
            for j, v in enumerate(order):
                if j in downstream:
                    assert drawn[f"v{j}"] == f"data {v.data:.4f}", (name, h, j)
            rows = page.eval_on_selector_all("#tv-nudge-table tr", "rs => rs.map(r => "
                                             "[...r.children].map(c => c.textContent))")
            delta = nudged.root.data - fresh.root.data
            assert rows[k + 1][:3] == [f"{h:.6g}", f"{delta:.6g}", f"{leaf.grad * h:.6g}"]
            if leaf.grad != 0:
                assert rows[k + 1][3] == f"{delta / (leaf.grad * h):.6f}"
                ratios.append(abs(float(rows[k + 1][3]) - 1))
            assert page.get_attribute(".tv-stepper", "data-nudge") == f"{name} {h:.6g}"
        if ratios:
            # from h = 0.1 down, |ratio - 1| shrinks with h (at h = 1 tanh may already bend)
            assert ratios[-1] < 0.01 and ratios[1:] == sorted(ratios[1:], reverse=True), ratios
    page.click("#tv-nudge-clear")
    assert graph_numbers(page)[f"v{len(tv.topo_order(fresh.root)) - 1}"] == \
        f"data {fresh.root.data:.4f}"
    assert [(v.data, v.grad) for v in tv.topo_order(program.root)] == before
    page.screenshot(path=str(tmp_path / "nudge.png"), full_page=True)
    page.close()
    assert errors == []


def _depends(v, leaf) -> bool:
    stack, seen = list(v.children), set()
    while stack:
        c = stack.pop()
        if c is leaf:
            return True
        if id(c) not in seen:
            seen.add(id(c))
            stack.extend(c.children)
    return False
