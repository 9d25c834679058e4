"""Which loss fits a model and its labels: fit's default, its checks, and accuracy's threshold."""

from __future__ import annotations

import numbers
from typing import Callable, Optional, Sequence

import tinygrad_value as tv

from . import losses

THRESHOLDS = {"scores": 0.0, "logits": 0.0, "probabilities": 0.5}


def threshold_for(loss) -> float:
    """Where a one-output prediction turns positive under ``loss`` (a name or function)."""
    kind = getattr(losses.LOSSES.get(loss, loss), "kind", "scores")
    if kind == "regression":
        raise ValueError(f"accuracy: {_name(loss)} is a regression loss; accuracy means nothing "
                         f"for real-valued targets")
    return THRESHOLDS[kind]


def _name(fn) -> str:
    return fn if isinstance(fn, str) else getattr(fn, "__name__", repr(fn))


def _labels(targets: Sequence) -> Optional[set]:
    """The set of label values when every target is a whole number, else None."""
    out = set()
    for t in targets:
        v = t.data if isinstance(t, tv.Value) else t
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or v != int(v):
            return None
        out.add(int(v))
    return out


def default_loss(width: int, targets: Sequence, output_activation: Optional[str]) -> Callable:
    """The loss for ``width`` outputs and these targets: k outputs and class indices →
    cross_entropy; one output and labels in {-1, 1} → hinge; in {0, 1} → BCE (on the
    probabilities of a sigmoid output, else with logits); real targets → mse."""
    labels = _labels(targets)
    if width > 1:
        if labels is not None:  # class indices (cross_entropy checks their range)
            return losses.cross_entropy
        raise ValueError(f"fit: the model has {width} outputs, so the targets should be class "
                         f"indices 0..{width - 1}, not real numbers (give loss= explicitly for "
                         f"anything else)")
    if labels is None or len(labels) > 2 or not labels <= {-1, 0, 1}:
        if labels is not None and len(labels) > 2 and labels <= set(range(len(labels))):
            raise ValueError(f"fit: {len(labels)} classes but the model has 1 output; give the "
                             f"last layer {len(labels)} outputs (cross_entropy), or pass "
                             f"loss='mse' if the labels are real targets")
        return losses.mse
    if -1 in labels:
        return losses.hinge
    if output_activation == "sigmoid":
        return losses.binary_cross_entropy
    return losses.binary_cross_entropy_with_logits


def check_loss(loss_fn: Callable, width: int) -> None:
    """A declared loss that cannot read this many outputs raises, naming the one to use."""
    per_class = getattr(loss_fn, "per_class", None)
    if per_class is None:
        return  # a user's function: it knows what it wants
    name = _name(loss_fn)
    if per_class and width == 1:
        raise ValueError(f"fit: {name} needs one output per class, but the model has 1 output; "
                         f"for 0/1 labels use loss='binary_cross_entropy_with_logits' (or "
                         f"'bce' after a sigmoid), for -1/+1 labels loss='hinge', or give the "
                         f"last layer one output per class")
    if not per_class and width > 1:
        raise ValueError(f"fit: {name} compares one output with one target, but the model has "
                         f"{width} outputs; for class indices use loss='cross_entropy'")
