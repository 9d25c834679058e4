"""Loss functions and penalties on Values; each reduces by the mean, as torch.nn.functional does.

Every loss takes ``(predictions, targets)``: a single Value and a number, or two equal-length
lists. Targets may be numbers or Values (a compiled training step feeds targets through leaf
Values, so every loss whose graph must not depend on the target's value accepts them).
"""

from __future__ import annotations

import functools
import math
import numbers
from typing import List, Sequence, Tuple, Union

import tinygrad_value as tv
from tinygrad_value.engine.value import as_value as _as_value

Scalar = Union[tv.Value, float, int]
LOG_CLAMP = -100.0  # PyTorch's binary_cross_entropy clamps log at -100
_TINY = math.exp(LOG_CLAMP)


KINDS = ("regression", "scores", "probabilities", "logits")


def declare(kind: str, per_class: bool = False):
    """Mark a loss with what its predictions are, so ``fit`` and ``accuracy`` can read it:
    ``regression`` (no accuracy), ``scores`` and ``logits`` (positive when > 0),
    ``probabilities`` (positive when > 0.5); ``per_class`` losses take one output per class."""
    if kind not in KINDS:
        raise ValueError(f"unknown loss kind {kind!r}; choose one of {', '.join(KINDS)}")

    def mark(fn):
        fn.kind, fn.per_class = kind, per_class
        return fn

    return mark


def _pairs(name: str, predictions, targets) -> Tuple[list, list]:
    """Both arguments as equal-length lists (a lone Value/number becomes a list of one)."""
    preds = list(predictions) if isinstance(predictions, (list, tuple)) else [predictions]
    targs = list(targets) if isinstance(targets, (list, tuple)) else [targets]
    if len(preds) != len(targs):
        raise ValueError(f"{name}: {len(preds)} predictions but {len(targs)} targets; "
                         f"they must have the same length")
    if not preds:
        raise ValueError(f"{name}: no predictions (empty list)")
    for i, p in enumerate(preds):
        if isinstance(p, (list, tuple)):
            raise ValueError(f"{name}: prediction {i} is a list; expected one Value per target "
                             f"(did the model's last layer have more than one output?)")
    return preds, targs


def _data(t) -> float:
    return t.data if isinstance(t, tv.Value) else float(t)


def _mean(terms: list) -> tv.Value:
    """(t₀ + t₁ + … + tₙ₋₁) / n as one n-ary sum node and one division."""
    return tv.sum(terms) / len(terms)


def mean_of_rows(terms_fn):
    """The loss (1/n) Σ tᵢ built from ``terms_fn(predictions, targets, ...)``, which returns one
    term tᵢ per row. The loss keeps ``terms_fn`` as ``loss.terms``: ``fit(compiled=True)`` reads
    it to weight rows, so a last partial batch replays the full batch's program with the
    absent rows weighted by zero."""

    @functools.wraps(terms_fn)
    def loss(predictions, targets, *args, **kwargs) -> tv.Value:
        return _mean(terms_fn(predictions, targets, *args, **kwargs))

    loss.__annotations__ = {**terms_fn.__annotations__, "return": "tv.Value"}
    loss.terms = terms_fn
    return loss


@declare("regression")
@mean_of_rows
def mse(predictions, targets) -> List[tv.Value]:
    """Mean squared error: (1/n) Σ (pᵢ - yᵢ)²."""
    preds, targs = _pairs("mse", predictions, targets)
    return [(p - y) ** 2 for p, y in zip(preds, targs)]


@declare("regression")
@mean_of_rows
def mae(predictions, targets) -> List[tv.Value]:
    """Mean absolute error: (1/n) Σ |pᵢ - yᵢ| (gradient sign(pᵢ - yᵢ)/n, 0 at the kink)."""
    preds, targs = _pairs("mae", predictions, targets)
    return [_as_value(p - y).abs() for p, y in zip(preds, targs)]


@declare("regression")
@mean_of_rows
def huber(predictions, targets, delta: float = 1.0) -> List[tv.Value]:
    """Huber loss, mean over elements: with d = pᵢ - yᵢ, ½d² where |d| <= δ, else δ(|d| - ½δ).
    Quadratic near 0, linear in the tails (gradient clipped to ±δ).

    Both branches are one expression of elementwise ops, ½q² + δ(|d| - q) with
    q = min(|d|, δ) (``clamp_max``), so the graph does not depend on which branch the data
    takes: a compiled replay picks the branch each batch calls for."""
    if not delta > 0:
        raise ValueError(f"huber: delta must be > 0, got {delta!r}")
    preds, targs = _pairs("huber", predictions, targets)
    terms = []
    for p, y in zip(preds, targs):
        a = _as_value(p - y).abs()
        q = a.clamp_max(delta)
        terms.append(0.5 * q * q + delta * (a - q))
    return terms


def _clamped_log(p: tv.Value) -> tv.Value:
    """max(log p, -100), PyTorch's clamp, written log(max(p, e⁻¹⁰⁰)) so that p = 0 gives -100
    (not a domain error) and the clamp is an op of the graph (``clamp_min``), replayed with
    each batch's data; its gradient is 0 where the clamp holds."""
    return p.clamp_min(_TINY).log()


@declare("probabilities")
@mean_of_rows
def binary_cross_entropy(predictions, targets) -> List[tv.Value]:
    """-(1/n) Σ [yᵢ log pᵢ + (1 - yᵢ) log(1 - pᵢ)] for probabilities pᵢ in [0, 1] and targets
    yᵢ in [0, 1]; each log is clamped at -100 as in PyTorch."""
    preds, targs = _pairs("binary_cross_entropy", predictions, targets)
    terms = []
    for i, (p, y) in enumerate(zip(preds, targs)):
        p = _as_value(p)
        if not 0.0 <= p.data <= 1.0:
            raise ValueError(f"binary_cross_entropy: prediction {i} is {p.data!r}, not a "
                             f"probability in [0, 1] (for raw scores use "
                             f"binary_cross_entropy_with_logits)")
        if not 0.0 <= _data(y) <= 1.0:
            raise ValueError(f"binary_cross_entropy: target {i} is {_data(y)!r}, not in [0, 1]")
        terms.append(-(y * _clamped_log(p) + (1 - y) * _clamped_log(1 - p)))
    return terms


def softplus(z: tv.Value) -> tv.Value:
    """log(1 + eᶻ), computed as max(z, 0) + log(1 + e^-|z|) so e never overflows.

    max(z, 0) is written ½(z + |z|): the same number, and its gradient at z = 0 is ½, which
    makes softplus'(0) = σ(0) = ½ exactly (relu'(0) = 0 would give 0 there)."""
    a = z.abs()
    return 0.5 * (z + a) + (1 + (-a).exp()).log()


@declare("logits")
@mean_of_rows
def binary_cross_entropy_with_logits(logits, targets) -> List[tv.Value]:
    """BCE of σ(zᵢ) against yᵢ without forming σ: (1/n) Σ [softplus(zᵢ) - yᵢ·zᵢ], stable for any
    z; the gradient is (σ(zᵢ) - yᵢ)/n."""
    zs, targs = _pairs("binary_cross_entropy_with_logits", logits, targets)
    terms = []
    for i, (z, y) in enumerate(zip(zs, targs)):
        if not 0.0 <= _data(y) <= 1.0:
            raise ValueError(f"binary_cross_entropy_with_logits: target {i} is {_data(y)!r}, "
                             f"not in [0, 1]")
        z = _as_value(z)
        terms.append(softplus(z) - y * z)
    return terms


def _logits(name: str, logits) -> List[tv.Value]:
    zs = [_as_value(z) for z in logits]
    if not zs:
        raise ValueError(f"{name}: no logits (empty list)")
    return zs


def _max(zs: List[tv.Value]) -> tv.Value:
    """max z, detached: ``max`` nodes (so a compiled replay recomputes it from each batch)
    through which no gradient flows. Paired off as a tree, ⌈log₂ n⌉ deep rather than a chain
    n - 1 deep: a replay runs one level of the graph at a time."""
    level = list(zs)
    while len(level) > 1:
        paired = [a.max(b) for a, b in zip(level[::2], level[1::2])]
        level = paired + level[len(paired) * 2:]
    return level[0].detach()


def _shifted(zs: List[tv.Value]) -> Tuple[List[tv.Value], List[tv.Value], tv.Value]:
    """The pieces of a stable softmax: zᵢ - m, e^(zᵢ - m) and Σⱼ e^(zⱼ - m), with m = max z,
    which makes every exponent <= 0. softmax does not depend on m, so its gradient through m
    is 0 and m is detached (as PyTorch's logsumexp does); it is still a node of the graph, so
    a compiled replay shifts by the max of the batch it is given."""
    m = _max(zs)
    shifted = [z - m for z in zs]
    exps = [s.exp() for s in shifted]
    return shifted, exps, tv.sum(exps)


def log_softmax(logits: Sequence[Scalar]) -> List[tv.Value]:
    """log softmax(z)ᵢ = zᵢ - log Σⱼ e^zⱼ, computed as (zᵢ - m) - log Σⱼ e^(zⱼ - m)."""
    shifted, _, total = _shifted(_logits("log_softmax", logits))
    lse = total.log()
    return [s - lse for s in shifted]


def softmax(logits: Sequence[Scalar]) -> List[tv.Value]:
    """softmax(z)ᵢ = e^zᵢ / Σⱼ e^zⱼ, computed as e^(zᵢ - m) / Σⱼ e^(zⱼ - m) so nothing overflows."""
    _, exps, total = _shifted(_logits("softmax", logits))
    return [e / total for e in exps]


def _one_cross_entropy(logits, target, where: str) -> tv.Value:
    zs = _logits("cross_entropy", logits)
    if isinstance(target, (list, tuple)):  # class probabilities (soft or one-hot targets)
        if len(target) != len(zs):
            raise ValueError(f"cross_entropy{where}: {len(zs)} logits but {len(target)} "
                             f"target probabilities")
        # (Value targets are a compiled step's one-hot leaves: fit checks those itself)
        total = sum(_data(t) for t in target)
        if not any(isinstance(t, tv.Value) for t in target) and abs(total - 1.0) > 1e-6:
            raise ValueError(f"cross_entropy{where}: the target probabilities sum to {total:g}, "
                             f"not 1; if they are class labels of a batch, each prediction must "
                             f"be a list of logits (one per class), and one-output models want "
                             f"binary_cross_entropy_with_logits or hinge")
        return -tv.dot(target, log_softmax(zs))
    if isinstance(target, bool) or not isinstance(target, numbers.Integral):
        raise TypeError(f"cross_entropy{where}: the target must be a class index (int) or a "
                        f"list of class probabilities, got {type(target).__name__} {target!r}")
    if not 0 <= target < len(zs):
        raise ValueError(f"cross_entropy{where}: class index {target} is out of range for "
                         f"{len(zs)} classes (0 to {len(zs) - 1})")
    # -log softmax(z)_t = log Σⱼ e^(zⱼ - m) - (z_t - m); its gradient is softmax(z) - onehot(t).
    shifted, _, total = _shifted(zs)
    return total.log() - shifted[target]


@declare("logits", per_class=True)
def cross_entropy(logits, targets) -> tv.Value:
    """-log softmax(z)[t], from raw logits z and a class index t, via a stable log-sum-exp.

    A batch (a list of logit lists and a list of indices) gives the mean over samples. A target
    may also be a list of class probabilities y: then the loss is -Σₖ yₖ log softmax(z)ₖ.
    """
    if logits and isinstance(logits[0], (list, tuple)):
        return _mean(_cross_entropy_terms(logits, targets))
    return _one_cross_entropy(logits, targets, "")


def _cross_entropy_terms(logits, targets) -> List[tv.Value]:
    """One cross-entropy term per sample of a batch (``cross_entropy.terms``)."""
    if not isinstance(targets, (list, tuple)):
        raise TypeError("cross_entropy: a batch of logits needs a list of targets, "
                        f"got {type(targets).__name__}")
    if len(logits) != len(targets):
        raise ValueError(f"cross_entropy: {len(logits)} samples of logits but "
                         f"{len(targets)} targets")
    return [_one_cross_entropy(z, t, f" (sample {i})")
            for i, (z, t) in enumerate(zip(logits, targets))]


cross_entropy.terms = _cross_entropy_terms


@declare("scores")
@mean_of_rows
def hinge(scores, targets) -> List[tv.Value]:
    """micrograd's max-margin (SVM) loss: (1/n) Σ max(0, 1 - yᵢ·sᵢ) for labels yᵢ in {-1, +1}."""
    preds, targs = _pairs("hinge", scores, targets)
    for i, y in enumerate(targs):
        if _data(y) not in (-1.0, 1.0):
            raise ValueError(f"hinge: target {i} is {_data(y)!r}; hinge labels must be -1 or +1 "
                             f"(map 0/1 labels with y * 2 - 1)")
    return [_as_value(1 - y * s).relu() for s, y in zip(preds, targs)]


def l1(params: Sequence[tv.Value]) -> tv.Value:
    """Σ |p| (the caller multiplies by λ)."""
    return tv.sum([_as_value(p).abs() for p in params])


def l2(params: Sequence[tv.Value]) -> tv.Value:
    """Σ p² (the caller multiplies by λ)."""
    return tv.sum([p * p for p in params])


LOSSES = {"mse": mse, "mae": mae, "huber": huber, "hinge": hinge,
          "binary_cross_entropy": binary_cross_entropy, "bce": binary_cross_entropy,
          "binary_cross_entropy_with_logits": binary_cross_entropy_with_logits,
          "cross_entropy": cross_entropy}
