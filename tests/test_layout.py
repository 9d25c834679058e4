"""The layout's promises: what importing each package pulls in, and the public names."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def _modules_after(statement: str) -> set:
    code = f"import sys, json; {statement}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout))


def test_import_tinygrad_value_needs_neither_numpy_nor_graphviz():
    loaded = _modules_after("import tinygrad_value")
    assert "numpy" not in loaded
    assert "graphviz" not in loaded
    assert "nn" not in loaded


def test_import_nn_loads_neither_the_live_view_nor_matplotlib():
    loaded = _modules_after("import nn")
    assert not {m for m in loaded if m.startswith("nn.live")}
    assert "matplotlib" not in loaded
    assert "http.server" not in loaded


def test_live_names_still_reachable_from_nn():
    import nn
    import nn.live

    assert nn.LiveView is nn.live.LiveView
    assert nn.LiveRecorder is nn.live.LiveRecorder
    with pytest.raises(AttributeError, match="no attribute 'LiveVeiw'"):
        nn.LiveVeiw  # noqa: B018 - a typo is still an AttributeError


@pytest.mark.parametrize("name", ["Value", "sum", "dot", "no_grad", "gradcheck", "GradcheckError",
                                  "draw_dot", "render_graph", "backprop_steps", "compile"])
def test_design_names_importable_from_tv(name):
    import tinygrad_value as tv

    assert hasattr(tv, name)


def test_each_folder_says_what_it_may_import():
    import importlib

    for pkg in ["tinygrad_value.engine", "tinygrad_value.show", "tinygrad_value.compiled",
                "nn.live"]:
        doc = importlib.import_module(pkg).__doc__ or ""
        assert "import" in doc, f"{pkg}'s docstring does not say what it may import"
