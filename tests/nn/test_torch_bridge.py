"""MLP.to_torch / MLP.from_torch: same weights, same outputs to 1e-12."""

from __future__ import annotations

import builtins
import random

import pytest
from conftest import need_torch

import nn

INPUTS = [[0.5, -1.0, 0.25], [2.0, 0.3, -0.7], [-1.5, -0.2, 0.9]]


@pytest.mark.parametrize("kwargs", [{}, {"activation": "tanh", "output_activation": "sigmoid"}])
def test_to_torch_computes_the_same_function(kwargs):
    torch = need_torch()
    random.seed(11)
    model = nn.MLP(3, [5, 4, 2], **kwargs)
    seq = model.to_torch()
    assert all(p.dtype == torch.float64 for p in seq.parameters())
    out = seq(torch.tensor(INPUTS, dtype=torch.float64)).tolist()
    for x, ref in zip(INPUTS, out):
        assert [v.data for v in model(x)] == pytest.approx(ref, rel=1e-12, abs=1e-15)


def test_to_torch_layout_and_activations():
    torch = need_torch()
    model = nn.MLP(2, [3, 1])
    seq = model.to_torch()
    assert [type(m).__name__ for m in seq] == ["Linear", "ReLU", "Linear"]
    assert seq[0].weight[2, 1].item() == model.layers[0].neurons[2].w[1].data
    assert seq[2].bias[0].item() == model.layers[1].neurons[0].b.data
    del torch


def test_from_torch_reads_weights_and_activations_back():
    torch = need_torch()
    torch.manual_seed(0)
    seq = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 4),
                              torch.nn.ReLU(), torch.nn.Linear(4, 2), torch.nn.Sigmoid()).double()
    random.seed(5)
    state = random.getstate()
    model = nn.MLP.from_torch(seq)
    assert random.getstate() == state  # building it did not consume the user's random stream
    assert [layer.activation for layer in model.layers] == ["tanh", "relu", "sigmoid"]
    out = seq(torch.tensor(INPUTS, dtype=torch.float64)).tolist()
    for x, ref in zip(INPUTS, out):
        assert [v.data for v in model(x)] == pytest.approx(ref, rel=1e-12, abs=1e-15)
    back = model.to_torch()
    assert all(torch.equal(a, b) for a, b in zip(back.parameters(), seq.parameters()))


def test_from_torch_rejects_what_it_cannot_convert():
    torch = need_torch()
    with pytest.raises(ValueError, match="module 1 is a Dropout"):
        nn.MLP.from_torch(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Dropout()))
    with pytest.raises(ValueError, match="Linear 0 has 3 outputs but Linear 1 takes 4"):
        nn.MLP.from_torch(torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Linear(4, 1)))
    with pytest.raises(ValueError, match="must follow a Linear"):
        nn.MLP.from_torch(torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Linear(4, 1)))


def test_missing_torch_says_how_to_install(monkeypatch):
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("No module named 'torch'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(ImportError, match="pip install torch"):
        nn.MLP(2, [1]).to_torch()
