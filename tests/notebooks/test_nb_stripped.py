"""Notebooks are stored without outputs: git holds the lesson, not one run of it."""

from __future__ import annotations

import json

import pytest
from nb_harness import COURSE, KERNEL, course_notebooks


def all_notebooks():
    return sorted(COURSE.rglob("*.ipynb"))


def test_the_course_has_its_chapters():
    names = [p.stem for p in course_notebooks()]
    assert len(names) >= 12, names
    assert [n[:2] for n in names] == [f"{k:02d}" for k in range(1, len(names) + 1)], names


@pytest.mark.parametrize("path", all_notebooks(), ids=lambda p: p.name)
def test_notebook_is_stripped(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    dirty = [(i, cell.get("execution_count"), len(cell.get("outputs", [])))
             for i, cell in enumerate(nb["cells"])
             if cell["cell_type"] == "code"
             and (cell.get("outputs") or cell.get("execution_count"))]
    assert not dirty, (f"{path.name} has outputs or execution counts in cells {dirty}; "
                       f"strip them: jupyter nbconvert --clear-output --inplace {path}")
    assert "widgets" not in nb["metadata"], f"{path.name} stores widget state; clear it"
    assert nb["metadata"].get("kernelspec", {}).get("name") == KERNEL, (
        f"{path.name} must name the {KERNEL!r} kernel")
