"""tv.bug_hunt: the planted mistake shows in gradcheck and the stepper, guesses are judged,
and the op table is untouched."""

from __future__ import annotations

import pytest

import tinygrad_value as tv
from tinygrad_value.engine.ops import OPS
from tinygrad_value.show.bughunt import BUGS, bugs_by_op


def _planted(hunt):
    return next(b.op for b in BUGS if hunt.guess(b.op).correct)


@pytest.mark.parametrize("seed", range(12))
def test_gradcheck_sees_the_bug_and_the_right_guess_wins(seed):
    hunt = tv.bug_hunt(seed)
    with pytest.raises(tv.GradcheckError):
        tv.gradcheck(hunt.f, hunt.inputs)
    op = _planted(hunt)
    assert op in hunt.suspects
    assert hunt.guess(op).correct and bugs_by_op()[op] in hunt.guess(op).message
    wrong = next(s for s in hunt.suspects if s != op)
    verdict = hunt.guess(wrong)
    assert not verdict.correct and "right here" in verdict.message
    assert not hunt.guess("softmax").correct


def test_every_kind_of_bug_is_drawn_by_some_seed():
    planted = {_planted(tv.bug_hunt(seed)) for seed in range(60)}
    assert planted == {b.op for b in BUGS}


def test_the_stepper_shows_the_wrong_local_derivative():
    hunt = next(h for h in map(tv.bug_hunt, range(60)) if _planted(h) == "tanh")
    steps = [s for s in tv.backprop_steps(hunt.loss) if s.node.op == "tanh"]
    (step,) = steps
    pre = step.contributions[0].child.data
    assert step.contributions[0].local_grad == pytest.approx(1 - pre)  # the planted 1 − x
    assert step.contributions[0].local_grad != pytest.approx(1 - step.node.data ** 2)


def test_the_op_table_is_not_changed():
    before = dict(OPS)
    for seed in range(10):
        tv.bug_hunt(seed)
    assert OPS == before
    x = tv.Value(0.3)
    y = x.tanh()
    y.backward()
    assert x.grad == pytest.approx(1 - y.data ** 2)
