"""Model files as JSON, written atomically (never pickle: loading a file runs no code).

Parameters: ``{"format": "nn.nnfs.parameters", "version": 1, "layers": [{"weights": [[...]],
"biases": [[...]]}, ...]}``. A whole model adds its layers' classes and constructor arguments,
the loss, accuracy and optimizer classes and hyperparameters (not optimizer state); only the
classes of ``nn.nnfs`` can be named, so a file cannot make us build anything else.
"""

from __future__ import annotations

import json

import numpy as np

from tinygrad_value.files import write_atomic

_LAYER_ARGS = {
    "Layer_Dense": ("weight_regularizer_l1", "weight_regularizer_l2", "bias_regularizer_l1",
                    "bias_regularizer_l2"),
}


def _classes() -> dict:
    from . import accuracy, activations, layers, losses, optimizers

    found = {}
    for module in (accuracy, activations, layers, losses, optimizers):
        for name in dir(module):
            if name.startswith(("Layer_", "Activation_", "Loss_", "Optimizer_", "Accuracy_")):
                found[name] = getattr(module, name)
    return found


def _params(model) -> list:
    return [{"weights": w.tolist(), "biases": b.tolist()} for w, b in model.get_parameters()]


def save_parameters(model, path) -> None:
    write_atomic(path, json.dumps({"format": "nn.nnfs.parameters", "version": 1,
                                   "layers": _params(model)}))


def _read(path, kind: str) -> dict:
    with open(path, encoding="utf-8") as f:
        try:
            doc = json.load(f)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path} is not an nn.nnfs {kind} file (not JSON: {exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != f"nn.nnfs.{kind}":
        raise ValueError(f"{path} is not an nn.nnfs {kind} file (format "
                         f"{doc.get('format') if isinstance(doc, dict) else None!r})")
    return doc


def _pairs(doc) -> list:
    return [(np.array(p["weights"], dtype=np.float64), np.array(p["biases"], dtype=np.float64))
            for p in doc["layers"]]


def load_parameters(model, path) -> None:
    doc = _read(path, "parameters")
    if model.loss is not None:
        model.finalize()
    model.set_parameters(_pairs(doc))


def _describe(obj) -> dict | None:
    if obj is None:
        return None
    name = type(obj).__name__
    out: dict = {"class": name}
    if name in _LAYER_ARGS:
        out["args"] = {k: getattr(obj, k) for k in _LAYER_ARGS[name]}
        out["shape"] = list(obj.weights.shape)
    elif name == "Layer_Dropout":
        out["args"] = {"rate": 1 - obj.rate}
    elif name.startswith("Optimizer_"):
        out["args"] = obj.config()
    elif name == "Accuracy_Categorical":
        out["args"] = {"binary": obj.binary}
    return out


def save_model(model, path) -> None:
    doc = {"format": "nn.nnfs.model", "version": 1,
           "layers": [_describe(layer) for layer in model.layers],
           "loss": _describe(model.loss), "optimizer": _describe(model.optimizer),
           "accuracy": _describe(model.accuracy), "parameters": _params(model)}
    write_atomic(path, json.dumps(doc))


def _build(spec, classes):
    if spec is None:
        return None
    cls = classes.get(spec.get("class"))
    if cls is None:
        raise ValueError(f"unknown nn.nnfs class {spec.get('class')!r} in the model file")
    args = dict(spec.get("args", {}))
    if "shape" in spec:
        return cls(*spec["shape"], **args)
    return cls(**args)


def load_model(path):
    from .model import Model

    doc = _read(path, "model")
    classes = _classes()
    model = Model()
    for spec in doc["layers"]:
        model.add(_build(spec, classes))
    model.set(loss=_build(doc["loss"], classes), optimizer=_build(doc["optimizer"], classes),
              accuracy=_build(doc["accuracy"], classes))
    model.finalize()
    model.set_parameters(_pairs({"layers": doc["parameters"]}))
    return model
