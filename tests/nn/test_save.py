"""Module.save / Module.load: JSON round trip, atomic writes, clear errors on bad files."""

from __future__ import annotations

import json
import os
import random

import pytest

import nn


def _model(seed=0, sizes=(3, 1)):
    random.seed(seed)
    return nn.MLP(2, list(sizes))


def test_round_trip_restores_every_weight_exactly(tmp_path):
    a, b = _model(0), _model(1)
    a.layers[0].neurons[0].w[0].data = 0.1 + 0.2  # a float that needs all 17 digits
    path = tmp_path / "model.json"
    a.save(path)
    assert b.load(path) is b
    assert b.state_dict() == a.state_dict()
    payload = json.loads(path.read_text())
    assert payload["format"] == "tinygrad-value/nn" and payload["version"] == 1
    assert payload["model"] == "MLP(2, [3, 1])"
    assert os.listdir(tmp_path) == ["model.json"]  # no temporary files left behind


def test_overwriting_replaces_the_file(tmp_path):
    path = tmp_path / "m.json"
    _model(0).save(path)
    newer = _model(1)
    newer.save(path)
    assert _model(2).load(path).state_dict() == newer.state_dict()


@pytest.mark.parametrize("failing", ["os.replace", "os.fsync", "json.dumps"])
def test_interrupted_save_keeps_the_previous_file(tmp_path, monkeypatch, failing):
    path = tmp_path / "m.json"
    old = _model(0)
    old.save(path)
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise OSError("simulated crash / disk full")

    module, name = failing.split(".")
    monkeypatch.setattr({"os": os, "json": json}[module], name, boom)
    with pytest.raises(OSError, match="simulated"):
        _model(1).save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.json"]
    assert _model(3).load(path).state_dict() == old.state_dict()


def test_write_failing_midway_keeps_the_previous_file(tmp_path, monkeypatch):
    """The temporary file gets half the text, then the 'disk' fills up."""
    import io

    path = tmp_path / "m.json"
    _model(0).save(path)
    before = path.read_bytes()
    real_write = io.TextIOWrapper.write

    def fdopen(fd, *args, **kwargs):
        f = real_fdopen(fd, *args, **kwargs)

        class Wrapper:
            def __enter__(self):
                return self

            def __exit__(self, *exc):
                f.close()

            def write(self, text):
                real_write(f, text[: len(text) // 2])
                f.flush()
                raise OSError(28, "No space left on device")

            def __getattr__(self, name):
                return getattr(f, name)

        return Wrapper()

    real_fdopen = os.fdopen
    monkeypatch.setattr(os, "fdopen", fdopen)
    with pytest.raises(OSError, match="No space left"):
        _model(1).save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.json"]


def test_truncated_file_is_reported_and_model_unchanged(tmp_path):
    path = tmp_path / "m.json"
    _model(0).save(path)
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    model = _model(1)
    before = model.state_dict()
    with pytest.raises(nn.StateDictError, match="not valid JSON.*corrupt or truncated"):
        model.load(path)
    assert model.state_dict() == before


@pytest.mark.parametrize("payload,message", [
    ([1, 2, 3], "not a tinygrad-value model file"),
    ({"format": "something-else", "version": 1, "parameters": {}}, "not a tinygrad-value"),
    ({"format": "tinygrad-value/nn", "version": 99, "parameters": {}}, "version 99"),
    ({"format": "tinygrad-value/nn", "version": 1}, "\"parameters\" entry is missing"),
])
def test_foreign_or_future_files_are_rejected(tmp_path, payload, message):
    path = tmp_path / "m.json"
    path.write_text(json.dumps(payload))
    model = _model(1)
    before = model.state_dict()
    with pytest.raises(nn.StateDictError, match=message):
        model.load(path)
    assert model.state_dict() == before


def test_architecture_mismatch_names_both_shapes(tmp_path):
    path = tmp_path / "m.json"
    _model(0, (16, 1)).save(path)
    model = _model(1, (8, 1))
    before = model.state_dict()
    with pytest.raises(nn.StateDictError,
                       match=r"holds MLP\(2, \[16, 1\]\) but the model is MLP\(2, \[8, 1\]\)"):
        model.load(path)
    assert model.state_dict() == before


def test_edited_file_names_the_bad_key_and_changes_nothing(tmp_path):
    path = tmp_path / "m.json"
    _model(0).save(path)
    payload = json.loads(path.read_text())
    payload["parameters"]["layers.1.neurons.0.w.2"] = [1.0, 2.0]
    path.write_text(json.dumps(payload))
    model = _model(1)
    before = model.state_dict()
    with pytest.raises(nn.StateDictError, match=r"'layers.1.neurons.0.w.2': expected a number"):
        model.load(path)
    assert model.state_dict() == before
    del payload["parameters"]["layers.1.neurons.0.w.2"]
    path.write_text(json.dumps(payload))
    with pytest.raises(nn.StateDictError, match=r"missing 1 key\(s\): 'layers.1.neurons.0.w.2'"):
        model.load(path)
    assert model.state_dict() == before


def test_missing_file_is_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        _model(0).load(tmp_path / "nope.json")


def test_saved_file_has_a_normal_files_mode(tmp_path):
    """mkstemp makes its file private (0600); the saved model gets 0666 minus the umask."""
    umask = os.umask(0)
    os.umask(umask)
    path = tmp_path / "m.json"
    _model(0).save(path)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
