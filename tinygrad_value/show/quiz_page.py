"""The quiz as data for the page and the widget: questions, expected numbers, diagnoses.

Every number here comes from ``Quiz`` (one non-mutating backward pass in Python); the page's
script only compares the learner's number with them, within the quiz's tolerance, and shows the
sentences written here. It never computes a derivative.
"""

from __future__ import annotations

import math

from ..engine.value import Value
from .quiz import ABS_TOL, REL_TOL, UNKNOWN, Quiz


def _number(x: float):
    """JSON has no inf or nan; a question whose number is not finite keeps it as text."""
    return x if math.isfinite(x) else str(x)


def quiz_data(quiz: Quiz, ids: dict[Value, str]) -> dict:
    """What the page's quiz mode reads: one entry per question, in the quiz's order."""
    questions = []
    for q in quiz.questions:
        questions.append({
            "node": ids[q.node],
            "child": ids[q.child] if q.child is not None else None,
            "prompt": q.prompt,
            "expected": _number(q.expected),
            "right": f"Right: {q._what()} = {q.expected:.6g}.",
            "unknown": UNKNOWN.replace("{what}", q._what()),
            "reveal": f"The answer is {q.expected:.6g}.",
            "shown": f"{q.expected:.4f}",
            "hint": quiz._hint(q),
            "diagnoses": [{"value": d.value, "text": d.text, "group": d.group}
                          for d in quiz.diagnoses(q) if math.isfinite(d.value)],
        })
    intro = (f"Backprop quiz: {len(quiz)} questions. L = {quiz.upstream:g} · "
             f"{quiz.names[quiz.root]}, so the upstream gradient is {quiz.upstream:g}, not 1.")
    data = {"kind": quiz.kind, "upstream": quiz.upstream, "intro": intro,
            "rel_tol": REL_TOL, "abs_tol": ABS_TOL, "questions": questions, "root": ids[quiz.root]}
    if quiz.kind == "grad":  # the graph shows dL/dL = g from the start, then each grad found
        data["root_shown"] = f"{quiz.upstream:.4f}"
    return data
