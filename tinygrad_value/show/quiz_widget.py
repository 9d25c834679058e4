"""``tv.QuizWidget(root)``: the backprop quiz in a notebook cell, the page's quiz mode as a widget.

A ``StepperWidget`` in quiz mode (the same front end, ``front/quiz.js``): the graph after its
forward pass and the quiz panel. Typed answers are checked in the view against the numbers
Python computed, and sent back in ``answers`` ([question, text] pairs), which this side replays
through its own ``Quiz``; ``score`` (synced) is that quiz's score, ``question`` (synced) the
question on show. ``w.answer(x)`` answers the current question from Python, and the view shows
it as if typed.
"""

from __future__ import annotations

import traitlets

from ..engine.value import Value
from .quiz import Feedback, Question, Quiz
from .widget import StepperWidget


class QuizWidget(StepperWidget):
    """Ask ``tv.Quiz(root, upstream, kind, seed)``'s questions in a notebook cell.

    ``question`` (synced int): the question on show, ``0 .. len(quiz)`` (``len`` means done).
    ``score`` (synced [right, asked]): first answers right, questions answered, as
    ``quiz.score``. ``answers`` (synced): every answer checked so far, as [question, text].
    """

    question = traitlets.Int(0).tag(sync=True)
    score = traitlets.List([0, 0]).tag(sync=True)
    answers = traitlets.List([]).tag(sync=True)

    def __init__(self, root: Value, upstream: float | None = None, kind: str = "grad",
                 seed: int = 0, **kwargs) -> None:
        self.quiz = Quiz(root, upstream=upstream, kind=kind, seed=seed)
        self._replayed = 0
        super().__init__(root, _quiz=self.quiz, **kwargs)
        self.feedback: list[Feedback] = []  # Python's verdict on each entry of ``answers``

    @traitlets.validate("question")
    def _check_question(self, proposal) -> int:
        i = proposal["value"]
        if not 0 <= i <= len(self.quiz):
            raise traitlets.TraitError(f"question must be from 0 to {len(self.quiz)} (this quiz "
                                       f"has {len(self.quiz)} questions; {len(self.quiz)} means "
                                       f"done), got {i}")
        return i

    @traitlets.validate("answers")
    def _check_answers(self, proposal) -> list:
        new = proposal["value"]
        if new[:self._replayed] != self.answers[:self._replayed]:
            raise traitlets.TraitError("answers can only grow: checked answers stay checked")
        for pair in new[self._replayed:]:
            if (not isinstance(pair, (list, tuple)) or len(pair) != 2
                    or not isinstance(pair[0], int) or not 0 <= pair[0] < len(self.quiz)):
                raise traitlets.TraitError(f"each answer is [question number, text], got "
                                           f"{pair!r}")
        return [list(p) for p in new]

    @traitlets.observe("answers")
    def _score_answers(self, change) -> None:
        for i, text in change["new"][self._replayed:]:
            self.feedback.append(self.quiz.questions[i].check(text))
            self._replayed += 1
        self.score = list(self.quiz.score)

    @property
    def current(self) -> Question | None:
        """The question on show (None when done)."""
        return self.quiz.questions[self.question] if self.question < len(self.quiz) else None

    def answer(self, text) -> Feedback:
        """Answer the question on show, as if typed: Python checks it, the view shows it."""
        if self.current is None:
            raise RuntimeError("the quiz is done: set w.question to go back to a question")
        self.answers = self.answers + [[self.question, str(text)]]
        return self.feedback[-1]

    def next(self) -> Question | None:
        """Move to the next question (the view follows); returns it, or None when done."""
        self.question = min(self.question + 1, len(self.quiz))
        return self.current

    def __repr__(self) -> str:
        right, asked = self.quiz.score
        return (f"QuizWidget(question {min(self.question + 1, len(self.quiz))} of "
                f"{len(self.quiz)}, score {right}/{asked})")
