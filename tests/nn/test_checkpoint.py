"""Hostile and damaged model files: every one is refused with a StateDictError, none loads
silently wrong; saves survive kill -9, keep the file's mode, owner and symlinks."""

from __future__ import annotations

import gzip
import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest

import nn
from nn.checkpoint import checksum


def _model(seed=0, sizes=(3, 1)):
    random.seed(seed)
    return nn.MLP(2, list(sizes))


def _saved(tmp_path, seed=0):
    path = tmp_path / "m.json"
    _model(seed).save(path)
    return path


def _refused(path, match, **kwargs):
    model = _model(7)
    before = model.state_dict()
    with pytest.raises(nn.StateDictError, match=match) as info:
        model.load(path, **kwargs)
    assert str(path) in str(info.value)
    assert model.state_dict() == before


def test_a_saved_file_carries_a_checksum_of_its_contents(tmp_path):
    path = _saved(tmp_path)
    payload = json.loads(path.read_text())
    assert payload["checksum"] == checksum(payload["model"], payload["parameters"])
    assert payload["checksum"].startswith("sha256:")


@pytest.mark.parametrize("transform,match", [
    (lambda b: b[:10] + b"\xff\xfe\xfa" + b[10:], "not UTF-8"),
    (gzip.compress, "gzip"),
    (lambda b: b.decode().encode("utf-16"), "UTF-16"),
])
def test_bytes_that_are_not_utf8_text(tmp_path, transform, match):
    path = _saved(tmp_path)
    path.write_bytes(transform(path.read_bytes()))
    _refused(path, match)


def _with_weight(path, text):
    """The saved file with its first weight's number replaced by ``text`` (raw JSON)."""
    payload = json.loads(path.read_text())
    first = next(iter(payload["parameters"]))
    raw = json.dumps(payload, indent=1)
    start = raw.index(f'"{first}": ') + len(f'"{first}": ')
    end = raw.index(",", start)
    path.write_text(raw[:start] + text + raw[end:])


@pytest.mark.parametrize("number,match", [
    ("1" * 400, "400 digits is too large for a float"),
    ("1" * 5000, "too long to read"),
])
def test_numbers_beyond_a_float(tmp_path, number, match):
    path = _saved(tmp_path)
    _with_weight(path, number)
    _refused(path, match)


def test_absurdly_nested_json(tmp_path):
    path = tmp_path / "m.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    _refused(path, "nested too deeply|not a tinygrad-value")


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_nonfinite_weights_are_refused_unless_allowed(tmp_path, number):
    path = _saved(tmp_path)
    _with_weight(path, number)
    _refused(path, "NaN or infinite weights.*allow_nonfinite=True")
    model = _model(7).load(path, allow_nonfinite=True, verify=False)
    assert not all(abs(p.data) < 1e300 for p in model.parameters())


@pytest.mark.parametrize("field,value,match", [
    ("version", True, "version True"),
    ("version", 1.0, "version 1.0"),
    ("model", None, "\"model\" entry"),
    ("checksum", 5, "\"checksum\" entry"),
    ("extra", 1, "unknown entries 'extra'"),
])
def test_wrong_types_at_the_top_level(tmp_path, field, value, match):
    path = _saved(tmp_path)
    payload = json.loads(path.read_text())
    payload[field] = value
    path.write_text(json.dumps(payload))
    _refused(path, match)


def test_an_edited_weight_fails_the_checksum_unless_verify_is_off(tmp_path):
    path = _saved(tmp_path)
    payload = json.loads(path.read_text())
    key = next(iter(payload["parameters"]))
    payload["parameters"][key] = 0.125
    path.write_text(json.dumps(payload))
    _refused(path, "checksum does not match.*verify=False")
    assert _model(7).load(path, verify=False).state_dict()[key] == 0.125


def test_no_single_bit_flip_changes_a_weight_silently(tmp_path):
    path = _saved(tmp_path)
    good = path.read_bytes()
    expected = _model(0).state_dict()
    outcomes = {"refused": 0, "same weights": 0}
    for i in range(len(good)):
        for bit in range(8):
            damaged = bytearray(good)
            damaged[i] ^= 1 << bit
            path.write_bytes(bytes(damaged))
            model = _model(7)
            try:
                model.load(path)
            except nn.StateDictError:
                outcomes["refused"] += 1
                continue
            assert model.state_dict() == expected, f"flip of bit {bit} of byte {i} loaded"
            outcomes["same weights"] += 1
    assert outcomes["refused"] > 0.9 * 8 * len(good)


def test_save_cleans_temporaries_left_by_a_killed_save(tmp_path):
    path = _saved(tmp_path)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".m.json.{dead.pid}.abcd1234.tmp"
    stale.write_text("half a model")
    live = tmp_path / f".m.json.{os.getppid()}.abcd1234.tmp"  # a writer still running
    live.write_text("being written")
    other = tmp_path / f".other.json.{dead.pid}.abcd1234.tmp"
    other.write_text("another target's")
    _model(1).save(path)
    assert not stale.exists()
    assert live.exists() and other.exists()


def test_kill_9_during_saves_leaves_a_loadable_file(tmp_path):
    path = tmp_path / "m.json"
    _model(0).save(path)
    script = ("import random, sys, nn\n"
              "random.seed(1)\nm = nn.MLP(2, [64, 64, 1])\n"
              "print('ready', flush=True)\n"
              "while True:\n    m.save(sys.argv[1])\n")
    rng = random.Random(5)
    for _ in range(5):
        proc = subprocess.Popen([sys.executable, "-c", script, str(path)],
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 0.2))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        text = path.read_text()
        model = _model(0) if '"MLP(2, [3, 1])"' in text else (random.seed(1),
                                                              nn.MLP(2, [64, 64, 1]))[1]
        model.load(path)  # whole: either the first file or one of the killed process's saves
    _model(0).save(path)
    assert sorted(os.listdir(tmp_path)) == ["m.json"]


def test_a_failed_save_names_the_target_not_the_temp_file(tmp_path, monkeypatch):
    path = _saved(tmp_path)

    def denied(src, dst):
        raise PermissionError(13, "Permission denied", src)

    monkeypatch.setattr(os, "replace", denied)
    with pytest.raises(PermissionError) as info:
        _model(1).save(path)
    assert info.value.filename == str(path)
    assert ".tmp" not in str(info.value)


def test_a_symlink_is_written_through(tmp_path):
    real = tmp_path / "real.json"
    _model(0).save(real)
    link = tmp_path / "link.json"
    link.symlink_to(real)
    _model(1).save(link)
    assert link.is_symlink()
    assert _model(7).load(real).state_dict() == _model(1).state_dict()


def test_an_existing_files_mode_and_owner_are_kept(tmp_path):
    path = _saved(tmp_path)
    os.chmod(path, 0o640)
    can_chown = os.geteuid() == 0
    if can_chown:
        os.chown(path, 1234, 1234)
    _model(1).save(path)
    st = path.stat()
    assert st.st_mode & 0o777 == 0o640
    if can_chown:
        assert (st.st_uid, st.st_gid) == (1234, 1234)
