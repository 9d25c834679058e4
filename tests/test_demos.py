"""The demos run at a reduced size (``--quick``) and write valid pictures, pages and numbers.

Each demo is called in-process through ``main(argv)`` with ``--out`` a temporary folder; ``make
demo``'s entry point (``python -m demos.main --quick``) also runs in a subprocess. A test skips
only when a third-party module it needs is genuinely missing (locally; CI requires them).
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import need_dot, need_module

ROOT = Path(__file__).resolve().parent.parent
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
OPTIMIZERS = ["SGD", "SGD+momentum+decay", "Adagrad", "RMSprop", "Adam"]


@pytest.fixture(autouse=True)
def _headless(monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")


def need_plotting():
    need_module("numpy", "REQUIRE_DEMO_DEPS")
    need_module("matplotlib", "REQUIRE_DEMO_DEPS")


def need_graphviz():
    need_module("graphviz", "REQUIRE_DOT")
    need_dot()


# --- validity checks for what the demos write ----------------------------------------------


def assert_png(path, min_side: int = 100):
    """A real PNG: the 8-byte signature, and matplotlib decodes it into a sizeable image."""
    import matplotlib.image as mpimg

    path = Path(path)
    assert path.is_file(), f"{path} was not written"
    assert path.read_bytes()[:8] == PNG_MAGIC, f"{path} is not a PNG"
    image = mpimg.imread(path)
    assert image.ndim == 3 and image.shape[2] in (3, 4), image.shape
    assert min(image.shape[:2]) >= min_side, f"{path} is only {image.shape[:2]} pixels"
    assert image.std() > 0.01, f"{path} is blank"
    return image


def svg_texts(svg_root: ET.Element) -> list[str]:
    return [t.text or "" for t in svg_root.iter() if t.tag.endswith("text")]


def assert_svg(path) -> ET.Element:
    path = Path(path)
    assert path.is_file(), f"{path} was not written"
    root = ET.parse(path).getroot()  # raises on malformed XML
    assert root.tag.endswith("svg"), root.tag
    return root


# --- shared helpers -------------------------------------------------------------------------


def test_common_flags_and_out_dir(tmp_path):
    from demos._common import file_url, out_dir, parse_args

    args = parse_args("x", [])
    assert args.out == "out" and args.quick is False
    args = parse_args("x", ["--out", str(tmp_path / "a" / "b"), "--quick"])
    assert args.quick is True
    folder = out_dir(args.out)
    assert folder.is_dir()
    assert file_url(folder).startswith("file:///")


def test_predict_matches_the_eager_model():
    """The compiled batch predictor gives the eager forward pass, and leaves grads alone."""
    np = need_module("numpy", "REQUIRE_DEMO_DEPS")
    import random

    import nn
    import tinygrad_value as tv
    from demos._common import Predictor, classes_from_outputs, predict

    random.seed(3)
    model = nn.MLP(2, [5, 3])
    for p in model.parameters():
        p.grad = 0.25
    points = np.random.default_rng(0).normal(size=(37, 2))  # not a multiple of the batch
    got = predict(model, points, batch=16)  # 37 > 2 batches: the compiled replay
    with tv.no_grad():
        want = np.array([[v.data for v in model([tv.Value(a), tv.Value(b)])] for a, b in points])
    assert got.shape == (37, 3)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
    eager = Predictor(model, nin=2, compiled=False)(points)
    np.testing.assert_allclose(eager, want, rtol=1e-12, atol=1e-12)
    # a Predictor follows the model: the replay re-reads the parameters' data
    compiled = Predictor(model, nin=2, batch=8)
    for p in model.parameters():
        p.data *= 0.5
    with tv.no_grad():
        want = np.array([[v.data for v in model([tv.Value(a), tv.Value(b)])] for a, b in points])
    np.testing.assert_allclose(compiled(points), want, rtol=1e-9, atol=1e-12)
    assert all(p.grad == 0.25 for p in model.parameters())
    assert list(classes_from_outputs(got)) == list(want.argmax(axis=1))
    assert list(classes_from_outputs(np.array([[-1.0], [2.0]]))) == [0, 1]


def test_decision_boundary_accepts_signed_labels(tmp_path):
    need_plotting()
    import random

    import nn
    from demos._common import plot_decision_boundary, pyplot

    random.seed(0)
    model = nn.MLP(2, [4, 1])
    plt = pyplot()
    fig, ax = plt.subplots()
    plot_decision_boundary(ax, model, [[0, 0], [1, 1], [0, 1]], [-1, 1, 1], resolution=20,
                           title="t")
    fig.savefig(tmp_path / "b.png")
    plt.close(fig)
    assert_png(tmp_path / "b.png", min_side=50)


# --- trace_graph and stepper ----------------------------------------------------------------


def test_trace_graph_writes_the_neuron_svg(tmp_path):
    need_graphviz()
    from demos import trace_graph

    result = trace_graph.main(["--out", str(tmp_path), "--quick"])
    assert result["svg"] == str(tmp_path / "neuron.svg")
    assert math.isclose(result["output"], math.sqrt(0.5), rel_tol=1e-12)  # tanh(0.8814) = 1/√2
    want = {"x1": -1.5, "w1": 1.0, "x2": 0.5, "w2": 0.0, "b": 0.5, "n": 0.5, "o": 1.0}
    for label, grad in want.items():
        assert result["grads"][label] == pytest.approx(grad, abs=1e-12), label
    texts = " | ".join(svg_texts(assert_svg(result["svg"])))
    for label in ("x1", "x2", "w1", "w2", "b", "n", "o", "tanh"):
        assert label in texts
    assert "grad -1.5000" in texts.replace("\u2212", "-")  # dL/dx1 drawn on x1's record


def test_stepper_writes_a_page_with_the_graph_and_the_steps(tmp_path, capsys):
    need_graphviz()
    from demos import stepper

    result = stepper.main(["--out", str(tmp_path), "--quick"])
    path = Path(result["html"])
    assert path == tmp_path / "backprop.html"
    assert result["url"] == path.resolve().as_uri()
    assert result["url"] in capsys.readouterr().out  # tells the reader how to open it
    page = path.read_text(encoding="utf-8")
    assert page.lstrip().lower().startswith("<!doctype html")
    # the graph, inline, as well-formed SVG naming every node
    svg = re.search(r"<svg\b.*?</svg>", page, re.DOTALL)
    assert svg, "no inline <svg> in the page"
    texts = " | ".join(svg_texts(ET.fromstring(svg.group(0))))
    for label in ("x1", "x2", "w1", "w2", "b", "n", "o"):
        assert label in texts
    # the steps, as JSON data for the page's script
    data = re.search(r'<script type="application/json"[^>]*>(.*?)</script>', page, re.DOTALL)
    assert data, "no step data in the page"
    text = json.dumps(json.loads(data.group(1)))
    assert "-1.5" in text  # x1's gradient, w1 · dL/d(x1*w1) = -3 · 0.5
    assert result["steps"] == 5  # one backward step per op: *, *, +, +, tanh
    assert result["frames"] >= result["steps"]
    # the page is self-contained: nothing fetched from the network
    assert not re.search(r"""(src|href)\s*=\s*["']https?://""", page)
    assert result["grads"]["x1"] == pytest.approx(-1.5)


# --- training demos -------------------------------------------------------------------------


def test_spiral_quick_trains_all_five_optimizers(tmp_path):
    need_plotting()
    from demos import spiral

    start = time.perf_counter()
    result = spiral.main(["--out", str(tmp_path), "--quick"])
    seconds = time.perf_counter() - start
    assert_png(result["png"], min_side=300)
    assert result["png"] == str(tmp_path / "spiral.png")
    assert list(result["results"]) == OPTIMIZERS
    for name, r in result["results"].items():
        assert math.isfinite(r["loss"]), name
        # every optimizer makes progress from the same starting weights
        assert r["loss"] < r["initial_loss"], (name, r)
        assert 0.0 <= r["accuracy"] <= 1.0
    initial = {r["initial_loss"] for r in result["results"].values()}
    assert len(initial) == 1, f"the optimizers did not start from the same weights: {initial}"
    # three balanced classes: chance is 1/3. In the quick run (90 points, MLP(2, [32, 3]), 300
    # steps) Adam reaches ~90% and momentum SGD 65-80% (seeds 0, 1); 70% fails a broken run.
    assert max(r["accuracy"] for r in result["results"].values()) > 0.7
    assert seconds < 60, f"spiral --quick took {seconds:.0f} s"


def test_digits_quick_reaches_a_useful_test_accuracy(tmp_path):
    need_plotting()
    need_module("sklearn", "REQUIRE_DEMO_DEPS")
    from demos import digits

    result = digits.main(["--out", str(tmp_path), "--quick"])
    assert_png(result["confusion_png"], min_side=300)
    assert_png(result["errors_png"], min_side=100)
    counts = result["confusion"]
    assert len(counts) == 10 and sum(map(sum, counts)) == 360  # the held-out images
    diagonal = sum(counts[i][i] for i in range(10))
    assert diagonal / 360 == pytest.approx(result["test_accuracy"])
    # chance is 10%; a linear softmax classifier already gets ~95% on this set. Three quick
    # epochs of a small MLP land at 94-97% (seeds 0-2); 85% leaves room for numeric noise while
    # still failing if training or the compiled replay is broken (those stay near chance).
    assert result["test_accuracy"] > 0.85, result["test_accuracy"]
    assert result["epoch_loss"][-1] < result["epoch_loss"][0]


# --- make demo ------------------------------------------------------------------------------


def test_make_demo_entry_point_runs_quickly(tmp_path):
    """``python -m demos.main --quick`` (what ``make demo`` runs, reduced) succeeds, writes the
    boundary PNG, the neuron SVG and the backprop page, and prints their paths."""
    need_plotting()
    need_graphviz()
    need_module("sklearn", "REQUIRE_DEMO_DEPS")
    out = tmp_path / "out"
    env = {**os.environ, "MPLBACKEND": "Agg"}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "demos.main", "--quick", "--out", str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
                          check=False)
    seconds = time.perf_counter() - start
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    pngs = sorted(out.glob("*.png"))
    assert pngs, f"no PNG written into {out}: {sorted(os.listdir(out))}"
    for png in pngs:
        assert_png(png)
        assert str(png) in proc.stdout
    for name in ("neuron.svg", "backprop.html"):
        assert (out / name).is_file(), name
        assert str(out / name) in proc.stdout
    assert_svg(out / "neuron.svg")
    assert "<svg" in (out / "backprop.html").read_text(encoding="utf-8")
    assert "file://" in proc.stdout
    assert seconds < 60, f"demos.main --quick took {seconds:.0f} s"


def test_demo_without_matplotlib_says_how_to_run_it():
    import subprocess
    import sys

    code = ("import sys; sys.modules['matplotlib'] = None\n"
            "from demos._common import pyplot\npyplot()")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode != 0
    assert "matplotlib is not installed" in run.stderr and "make demo" in run.stderr
    assert ".venv/bin/python" in run.stderr
