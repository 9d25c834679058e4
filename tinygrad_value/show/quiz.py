"""A backprop quiz: the learner computes each gradient (or local derivative) and is told why not.

``Quiz(root)`` seeds L = g·root with an upstream g that is not ±1, so an answer that forgets to
multiply by the upstream gradient is visibly wrong (micrograd's exercises seed 1 and cannot
tell). Questions come in backward order; every expected number is computed here, on a private
table of gradients, so the caller's ``.grad`` fields are never touched.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Dict, Iterator, List, NamedTuple, Optional, Tuple

from ..engine.backward import local_grads, topo_order
from ..engine.value import Value
from .names import node_names
from .stepper import backprop_steps

REL_TOL, ABS_TOL = 1e-3, 1e-4


class Feedback(NamedTuple):
    """The verdict on one answer: right or not, the expected number, and a sentence why."""

    correct: bool
    expected: float
    message: str


class Diagnosis(NamedTuple):
    """A usual mistake: the number it gives and the sentence naming it (``{answer}`` stands
    for the learner's number). Of several diagnoses in one ``group``, only the first that
    matches is said."""

    value: float
    text: str
    group: Optional[str] = None


UNKNOWN = "Not quite: {answer} is not {what}. Ask for a hint."


def close(answer: float, expected: float) -> bool:
    """Within 1e-3 relative or 1e-4 absolute."""
    return abs(answer - expected) <= max(ABS_TOL, REL_TOL * abs(expected))


@dataclass(eq=False)
class Question:
    """One thing to compute. ``node`` (and ``child`` for a local derivative), a ``prompt``
    for people, and ``check(answer)``; checking again is a retry, and only the first answer
    counts towards the quiz's score."""

    quiz: "Quiz"
    node: Value
    prompt: str
    expected: float
    child: Optional[Value] = None
    answered: bool = False
    first_correct: Optional[bool] = None

    def check(self, answer) -> Feedback:
        try:
            value = float(answer)
        except (TypeError, ValueError):
            return Feedback(False, self.expected,
                            f"{answer!r} is not a number; answer with a number such as -1.5")
        correct = close(value, self.expected)
        if not self.answered:
            self.answered = True
            self.first_correct = correct
        if correct:
            return Feedback(True, self.expected, f"Right: {self._what()} = {self.expected:.6g}.")
        return Feedback(False, self.expected, self.quiz._diagnose(self, value))

    def hint(self) -> str:
        return self.quiz._hint(self)

    def _what(self) -> str:
        names = self.quiz.names
        if self.child is None:
            return f"dL/d{names[self.node]}"
        return f"∂{names[self.node]}/∂{names[self.child]}"


class Quiz:
    """Ask, in backward order, for dL/dnode (``kind="grad"``) of every node below the root, or
    for ∂node/∂child (``kind="local"``) of every interior node and each of its distinct children.

    L = g·root, with ``g = upstream`` or, by default, a number drawn from ``seed`` that is not
    ±1 (its magnitude in [1.5, 3]). ``quiz.score`` is (first answers correct, questions asked).
    """

    def __init__(self, root: Value, upstream: Optional[float] = None, kind: str = "grad",
                 seed: int = 0) -> None:
        if not isinstance(root, Value):
            raise TypeError(f"Quiz needs the Value at the top of a graph, got "
                            f"{type(root).__name__}")
        if kind not in ("grad", "local"):
            raise ValueError(f"Quiz kind must be 'grad' or 'local', got {kind!r}")
        if upstream is None:
            rng = random.Random(seed)
            upstream = round(rng.choice([-1, 1]) * rng.uniform(1.5, 3.0), 1)
        self.upstream = float(upstream)
        if not math.isfinite(self.upstream):
            raise ValueError(f"the upstream gradient must be a finite number, got {upstream!r}")
        self.root, self.kind = root, kind
        self.order = topo_order(root)
        self.names = node_names(self.order)
        # dL/dn = g · d root/dn, from one non-mutating pass of the stepper; each node's
        # received contributions (parent, local, amount) are what the diagnoses compare with.
        self.grads: Dict[Value, float] = {v: 0.0 for v in self.order}
        self.received: Dict[Value, List[Tuple[Value, float, float]]] = {v: [] for v in self.order}
        self.grads[root] = self.upstream
        for step in backprop_steps(root, inplace=False):
            for child, local, amount in step.contributions:
                self.grads[child] += self.upstream * amount
                self.received[child].append((step.node, local, self.upstream * amount))
        self.questions = self._questions()
        self._current: Optional[Question] = None

    # --- the questions ---------------------------------------------------------------

    def _questions(self) -> List[Question]:
        g, names = self.upstream, self.names
        out = []
        if self.kind == "grad":
            for node in reversed(self.order):
                if node is self.root:
                    continue
                what = f"{names[node]} = {node.data:.4g}"
                if node._fn is not None:
                    formula = node._fn.formula([names[c] for c in node.children], node._arg)
                    what = f"{names[node]} = {formula} = {node.data:.4g}"
                prompt = (f"L = {g:g} · {names[self.root]}. What is dL/d{names[node]}? "
                          f"({what}; {self._uses(node)})")
                out.append(Question(self, node, prompt, self.grads[node]))
            return out
        for node in reversed(self.order):
            if node._fn is None:
                continue
            locals_: Dict[Value, float] = {}
            for child, local in zip(node.children, local_grads(node)):
                locals_[child] = locals_.get(child, 0.0) + float(local)
            formula = node._fn.formula([names[c] for c in node.children], node._arg)
            for child, local in locals_.items():
                prompt = (f"{names[node]} = {formula} = {node.data:.4g}. What is "
                          f"∂{names[node]}/∂{names[child]} at {names[child]} = {child.data:.4g}?")
                out.append(Question(self, node, prompt, local, child=child))
        return out

    def _uses(self, node: Value) -> str:
        """'it feeds o', 'it feeds y twice', 'it feeds a and b'."""
        counts: Dict[str, int] = {}
        for parent, _, _ in self.received[node]:
            counts[self.names[parent]] = counts.get(self.names[parent], 0) + 1
        if not counts:
            return "it does not reach L"
        words = {1: "", 2: " twice", 3: " three times"}
        parts = [name + words.get(n, f" {n} times") for name, n in counts.items()]
        return "it feeds " + " and ".join(parts)

    def __iter__(self) -> Iterator[Question]:
        for q in self.questions:
            self._current = q
            yield q
        self._current = None

    def __len__(self) -> int:
        return len(self.questions)

    @property
    def score(self) -> Tuple[int, int]:
        """(questions whose first answer was right, questions answered)."""
        asked = [q for q in self.questions if q.answered]
        return sum(bool(q.first_correct) for q in asked), len(asked)

    def hint(self) -> str:
        """A hint for the question being asked now (the last one the iteration yielded)."""
        if self._current is None:
            raise RuntimeError("no question is being asked: iterate over the quiz first")
        return self._hint(self._current)

    # --- feedback --------------------------------------------------------------------

    def _hint(self, q: Question) -> str:
        names = self.names
        if q.child is not None:
            return (f"Differentiate {names[q.node]}'s op ({q.node._fn.name}) with respect to "
                    f"{names[q.child]} alone, at the current numbers; no upstream gradient.")
        parts = []
        for parent, _, _ in self.received[q.node]:
            parts.append(f"dL/d{names[parent]} × ∂{names[parent]}/∂{names[q.node]} "
                         f"(dL/d{names[parent]} = {self.grads[parent]:.4g})")
        uses = " + ".join(parts) if parts else "0 (it does not reach L)"
        return f"dL/d{names[q.node]} is the sum over its uses of upstream × local: {uses}."

    def diagnoses(self, q: Question) -> List[Diagnosis]:
        """The usual mistakes for q, each as the wrong number it would give and the sentence
        that names it. Only mistakes that give a number other than the right one are listed, so
        an answer near ``value`` is that mistake. The page's quiz mode reads this same list."""
        e, g, names = q.expected, self.upstream, self.names
        what = q._what()
        found = []
        if q.child is None:
            received = self.received[q.node]
            if len(received) == 1:
                parent, local, _ = received[0]
                if not close(e, local):
                    found.append(Diagnosis(
                        local, f"{{answer}} is the local derivative ∂{names[parent]}/"
                        f"∂{names[q.node]}; multiply it by the upstream gradient "
                        f"dL/d{names[parent]} to get {what}"))
            if not close(e, e / g):
                found.append(Diagnosis(
                    e / g, f"that is d{names[self.root]}/d{names[q.node]}: the upstream factor "
                    f"is forgotten (L = {g:g}·{names[self.root]}, so multiply by {g:g})"))
            if len(received) > 1:
                for parent, _, amount in received:
                    if not close(amount, 0.0):
                        found.append(Diagnosis(
                            e - amount, f"{names[q.node]} is used {len(received)} times and "
                            f"the gradients from every use add up; one contribution through "
                            f"{names[parent]} ({amount:.4g}) is missing", group="missing"))
        if not close(e, 0.0):
            found.append(Diagnosis(-e, f"the sign is flipped: {what} has the opposite sign"))
        return found

    def _diagnose(self, q: Question, answer: float) -> str:
        """Name the usual mistakes the answer matches (several, when it matches several; of the
        missing contributions, the first that matches)."""
        found, groups = [], set()
        for d in self.diagnoses(q):
            if close(answer, d.value) and (d.group is None or d.group not in groups):
                found.append(d.text.replace("{answer}", f"{answer:g}"))
                if d.group is not None:
                    groups.add(d.group)
        if not found:
            return UNKNOWN.format(answer=f"{answer:g}", what=q._what())
        return "Not quite: " + "; or ".join(found) + "."


def run_in_terminal(quiz: Quiz, read, write, retries: int = 1) -> Tuple[int, int]:
    """Ask every question through ``read(prompt) -> str`` / ``write(text)``: a wrong answer
    gets its diagnosis and ``retries`` more tries, then the expected number; ``?`` gives a hint
    and ``q`` stops. End of input stops too. Returns the score."""
    write(f"Backprop quiz: {len(quiz)} questions. L = {quiz.upstream:g} · "
          f"{quiz.names[quiz.root]}, so the upstream gradient is {quiz.upstream:g}, not 1. "
          f"Answer with a number; '?' for a hint, 'q' to stop.")
    for i, q in enumerate(quiz, 1):
        write(f"\n[{i}/{len(quiz)}] {q.prompt}")
        tries = 0
        while True:
            try:
                answer = read("> ").strip()
            except EOFError:
                answer = "q"
            if answer.lower() in ("q", "quit", "exit"):
                return _finish(quiz, write)
            if answer == "?":
                write(quiz.hint())
                continue
            feedback = q.check(answer)
            write(feedback.message)
            if feedback.correct:
                break
            tries += 1
            if tries > retries:
                write(f"The answer is {feedback.expected:.6g}.")
                break
    return _finish(quiz, write)


def _finish(quiz: Quiz, write) -> Tuple[int, int]:
    right, asked = quiz.score
    write(f"\nScore: {right}/{asked} right at the first try.")
    return right, asked
