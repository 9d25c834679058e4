"""Notebooks are stored without outputs: git holds the lesson, not one run of it."""

from __future__ import annotations

import importlib.util
import json
import shutil

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
                       f"strip them: python notebooks/strip.py {path.name}")
    assert "widgets" not in nb["metadata"], (
        f"{path.name} stores widget state; python notebooks/strip.py {path.name}")
    assert nb["metadata"].get("kernelspec", {}).get("name") == KERNEL, (
        f"{path.name} must name the {KERNEL!r} kernel")


def _strip_module():
    spec = importlib.util.spec_from_file_location("course_strip", COURSE / "strip.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_strip_py_turns_a_run_notebook_back_into_the_stored_one(tmp_path):
    """A notebook as JupyterLab saves it after a run (outputs, counts, widget state) strips back
    to the exact bytes in git."""
    original = course_notebooks()[0]
    run = tmp_path / original.name
    shutil.copy(original, run)
    nb = json.loads(run.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    for k, cell in enumerate(code, 1):
        cell["execution_count"] = k
        cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["2.3\n"]}]
        cell["metadata"]["execution"] = {"iopub.status.idle": "2026-01-01T00:00:00Z"}
    nb["metadata"]["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    run.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    strip = _strip_module()
    assert strip.strip_file(run) is True
    assert run.read_bytes() == original.read_bytes()
    assert strip.strip_file(run) is False  # already clean: left alone
