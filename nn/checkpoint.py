"""Model files: a module's parameters as JSON, saved atomically and checked thoroughly on load.

The file is one JSON object::

    {"format": "tinygrad-value/nn", "version": 1, "model": "MLP(2, [16, 1])",
     "checksum": "sha256:…", "parameters": {"layers.0.neurons.0.w.0": 0.23, …}}

``checksum`` is the SHA-256 of the model line and the parameters written compactly, so a
flipped bit that still parses (a digit of a weight) is caught. Loading refuses, with a
``StateDictError`` naming the file and the problem, anything that is not exactly such a file:
bytes that are not UTF-8 (gzip, UTF-16), JSON nested absurdly deep, numbers beyond a float,
NaN or infinite weights (unless allowed), wrong types for the version or the model, unknown
keys. The model is changed only once every check has passed.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from typing import TYPE_CHECKING, Dict

from tinygrad_value.files import write_atomic

if TYPE_CHECKING:  # pragma: no cover
    from .module import Module

FORMAT = "tinygrad-value/nn"
FORMAT_VERSION = 1
KEYS = {"format", "version", "model", "checksum", "parameters"}


class StateDictError(ValueError):
    """A state dict or saved file does not fit the model; the message says which key and why."""


def checksum(model: str, parameters: Dict[str, float]) -> str:
    """``sha256:<hex>`` of the model line and parameters, written compactly in file order."""
    text = json.dumps([model, parameters], separators=(",", ":"), allow_nan=True)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def save(module: "Module", path) -> None:
    """Write ``module``'s parameters to ``path`` atomically (see ``tinygrad_value.files``)."""
    model, parameters = module.describe(), module.state_dict()
    payload = {"format": FORMAT, "version": FORMAT_VERSION, "model": model,
               "checksum": checksum(model, parameters), "parameters": parameters}
    write_atomic(path, json.dumps(payload, indent=1, allow_nan=True))


def load(module: "Module", path, *, allow_nonfinite: bool = False, verify: bool = True):
    """Read a file written by ``save`` into ``module`` and return it.

    ``allow_nonfinite`` accepts NaN and infinite weights (refused by default: such a model
    only ever predicts NaN); ``verify=False`` skips the checksum, for a file edited by hand.
    A missing file is the usual ``FileNotFoundError``; every other problem a StateDictError.
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        raw = f.read()
    payload = _parse(path, raw)
    params = payload["parameters"]
    for key, v in params.items():
        if isinstance(v, float) and not math.isfinite(v) and not allow_nonfinite:
            raise StateDictError(f"{path}: parameter {key!r} is {v!r}; a model with NaN or "
                                 f"infinite weights predicts nothing useful (pass "
                                 f"allow_nonfinite=True to load it anyway)")
    saved_model = payload["model"]
    if saved_model != module.describe():
        raise StateDictError(f"{path}: the file holds {saved_model} but the model is "
                             f"{module.describe()}")
    try:
        values = module.checked_state(params)
    except StateDictError as e:
        raise StateDictError(f"{path}: {e}") from None
    if verify and "checksum" in payload and payload["checksum"] != checksum(saved_model, params):
        raise StateDictError(f"{path}: the checksum does not match the contents: the file was "
                             f"damaged or edited after it was saved (if you edited it on "
                             f"purpose, load it with verify=False)")
    return module.load_state_dict(values)


def _parse(path: str, raw: bytes) -> dict:
    """The file's JSON object, its top level checked; StateDictError for anything else."""
    if raw[:2] == b"\x1f\x8b":
        raise StateDictError(f"{path}: this is a gzip-compressed file; decompress it first")
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise StateDictError(f"{path}: this file is UTF-16 text; model files are UTF-8")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise StateDictError(f"{path}: not UTF-8 text (byte {e.start} is invalid); the file "
                             f"is corrupt or not a model file") from None
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as e:
        raise StateDictError(
            f"{path}: not valid JSON ({e.msg} at line {e.lineno} column {e.colno}); "
            f"the file is corrupt or truncated") from None
    except ValueError as e:  # an integer of more digits than Python converts
        raise StateDictError(f"{path}: a number in the file is too long to read ({e})") from None
    except RecursionError:
        raise StateDictError(f"{path}: the JSON is nested too deeply to be a model file") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise StateDictError(f"{path}: not a tinygrad-value model file "
                             f"(expected a JSON object with \"format\": \"{FORMAT}\")")
    version = payload.get("version")
    if type(version) is not int or version != FORMAT_VERSION:
        raise StateDictError(f"{path}: format version {version!r} is not supported "
                             f"(this code reads version {FORMAT_VERSION}, an integer)")
    unknown = sorted(set(payload) - KEYS)
    if unknown:
        raise StateDictError(f"{path}: unknown entries {', '.join(map(repr, unknown))} (a "
                             f"model file has {', '.join(sorted(KEYS))})")
    if not isinstance(payload.get("parameters"), dict):
        raise StateDictError(f"{path}: the \"parameters\" entry is missing or not an object")
    if not isinstance(payload.get("model"), str):
        raise StateDictError(f"{path}: the \"model\" entry is missing or not a string "
                             f"(got {payload.get('model')!r})")
    if "checksum" in payload and not isinstance(payload["checksum"], str):
        raise StateDictError(f"{path}: the \"checksum\" entry is not a string")
    return payload
