"""The stress run's seeded hostile inputs, at a smaller count: no crash on any surface.

``benchmarks/live_stress.py`` reports these outcomes at full size; here the same generators
check that the expression parser, model files and the live server answer every hostile input
with a clear error or a correct result, never a crash or a silently changed model.
"""

from __future__ import annotations

from benchmarks import live_stress


def crashes(outcomes):
    return {k: v for k, v in outcomes.items() if k.startswith("crash") or "(bad)" in k}


def test_hostile_expressions_get_clear_errors():
    outcomes = live_stress.hostile_parser(1500)
    assert sum(outcomes.values()) == 1500
    assert not crashes(outcomes), outcomes
    assert outcomes["clear error"] > 0 and outcomes["accepted"] > 0  # both kinds were tried


def test_hostile_model_files_are_refused_or_loaded_exactly(tmp_path):
    outcomes = live_stress.hostile_model_files(400, str(tmp_path))
    assert sum(outcomes.values()) == 400
    assert not crashes(outcomes), outcomes
    assert outcomes["clear error"] > 300


def test_hostile_requests_leave_training_alone():
    outcomes, checks = live_stress.hostile_requests(300)
    assert sum(outcomes.values()) == 300
    assert not crashes(outcomes), outcomes
    assert checks == {"state changed": False, "training alive": True, "still serving": True}
