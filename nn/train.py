"""A small training loop: fit(model, X, y) with mini-batches, a progress bar and a History."""

from __future__ import annotations

import numbers
import random
import sys
from typing import Callable, List, Optional, Sequence, Union

import tinygrad_value as tv
from tinygrad_value.engine.backward import gc_paused

from . import losses, optim
from .atomic import interrupts_deferred
from .history import History
from .loss_choice import THRESHOLDS, check_loss, default_loss, threshold_for
from .losses import _data
from .module import Module
from .progress import progress_bar


def accuracy(outputs: Sequence, targets: Sequence, threshold: Optional[float] = None,
             loss: Union[str, Callable, None] = None) -> float:
    """The fraction of correct predictions.

    Multi-class (each output a list of scores): correct when argmax equals the class index.
    Binary (each output one number): predicted positive when output > ``threshold``, and a
    target is positive when > 0 (labels 1 vs 0 or -1). The threshold follows the ``loss``'s
    declared kind (0.5 for probabilities, 0 for scores and logits), else 0. Outputs may be
    Values or plain numbers, or one NumPy array of them (a row of scores per sample, or one
    number each), which is counted in NumPy with the same result.
    """
    if not hasattr(outputs, "ndim"):
        outputs = list(outputs)
    targets = list(targets)
    if len(outputs) != len(targets):
        raise ValueError(f"accuracy: {len(outputs)} outputs but {len(targets)} targets")
    if len(outputs) == 0:
        raise ValueError("accuracy: no outputs")
    if threshold is None:
        threshold = 0.0 if loss is None else threshold_for(loss)
    if hasattr(outputs, "ndim"):  # a NumPy array of outputs, as the compiled fit has them
        fast = _array_correct(outputs, targets, threshold)
        if fast is not None:
            return fast / len(outputs)
        outputs = outputs.tolist()
    correct = 0
    for out, t in zip(outputs, targets):
        if isinstance(out, (list, tuple)):
            scores = [_data(s) for s in out]
            correct += scores.index(max(scores)) == int(_data(t))
        else:
            correct += (_data(out) > threshold) == (_data(t) > 0)
    return correct / len(outputs)


def _array_correct(a, targets, threshold: float) -> Optional[int]:
    """How many of a compiled step's outputs (one float array) are right, counted
    the way ``accuracy``'s loop counts them; None when it would not agree with the loop, i.e. when
    a NaN is present (``max`` over a list with a NaN depends on where the NaN stands, argmax
    does not) or the rows are not one score or a row of scores each."""
    import numpy as np

    if a.ndim not in (1, 2) or a.size == 0 or a.dtype.kind != "f" or np.isnan(a).any():
        return None
    if a.ndim == 2:  # argmax is the first maximum, as list.index(max(row))
        labels = np.fromiter((int(_data(t)) for t in targets), dtype=np.int64, count=len(a))
        return int(np.count_nonzero(a.argmax(axis=1) == labels))
    positive = np.fromiter((_data(t) > 0 for t in targets), dtype=bool, count=len(a))
    return int(np.count_nonzero((a > threshold) == positive))


def _resolve_loss(loss) -> Callable:
    if callable(loss):
        return loss
    if loss not in losses.LOSSES:
        raise ValueError(f"unknown loss {loss!r}; choose one of {', '.join(losses.LOSSES)} "
                         f"or pass a function (outputs, targets) -> Value")
    return losses.LOSSES[loss]


def _default_metric(loss_fn) -> Optional[Callable]:
    """From the loss's declared kind: none for regression, else accuracy at its threshold."""
    kind = getattr(loss_fn, "kind", "scores")
    if kind == "regression":
        return None  # accuracy means nothing for real-valued targets
    threshold = THRESHOLDS[kind]

    def metric(outputs, targets):
        return accuracy(outputs, targets, threshold=threshold)
    metric.takes_arrays = True  # fit may hand it the compiled step's outputs as one array
    return metric


def _output_width(model, row) -> int:
    """How many numbers the model returns for one row (run once, in eval mode, no graph kept,
    so no Dropout draw moves the random state)."""
    was_training = model.training
    model.eval()
    try:
        with tv.no_grad():
            out = model(row)
    finally:
        model.train(was_training)
    return len(out) if isinstance(out, (list, tuple)) else 1


def _batches(n: int, batch_size: Optional[int], rng: random.Random) -> List[List[int]]:
    """Index lists for one epoch: everything in order (full batch), or shuffled chunks."""
    order = list(range(n))
    if batch_size is None or batch_size >= n:
        return [order]
    rng.shuffle(order)
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


def fit(model: Module, X: Sequence[Sequence[float]], y: Sequence,
        loss: Union[str, Callable] = "auto", optimizer: Optional[optim.Optimizer] = None,
        epochs: Optional[int] = None, steps: Optional[int] = None,
        batch_size: Optional[int] = None, l2: float = 0.0,
        schedule: Optional[Callable[[int], float]] = None, seed: int = 0,
        metric: Union[str, Callable, None] = "auto", progress: bool = True,
        compiled: bool = False, callback: Optional[Callable] = None) -> History:
    """Minimise ``loss(outputs, targets) + l2·Σp²`` over the model's parameters.

    Each step: take a batch (all rows when ``batch_size`` is None, else shuffled chunks drawn
    with ``random.Random(seed)``), run the model on every row, zero the grads, backward, set the
    optimizer's ``lr = schedule(step)`` if a schedule is given, and ``optimizer.step()``.
    Runs ``steps`` steps if given, else ``epochs`` passes over the data (default 10).
    ``optimizer`` defaults to ``SGD(model.parameters(), lr=0.1)``. ``loss="auto"`` picks the
    loss from the model's output width and the labels (``nn.loss_choice.default_loss``); a
    declared loss that does not fit the output width raises ``ValueError`` naming the right one.

    ``compiled=True`` builds the loss graph once, for the first batch's size, on leaf Values
    holding the inputs, the targets and a weight per row, and replays it with ``tv.compile``:
    each step writes the batch into the leaves' ``.data`` and calls the program. Choices made
    from the data are ops of the graph (huber's branch and bce's clamp are ``clamp`` ops, the
    max subtracted in softmax is ``max``, ReLU), so every replay takes the branch its batch
    calls for, and each Dropout mask is redrawn at every replay. A last, smaller batch
    replays the same program with the missing rows weighted by zero (for the built-in losses,
    which declare their per-row terms as ``loss.terms``; a loss function without them gets one
    program per batch size).

    ``callback(step, history, model)`` runs after every step; returning ``False`` stops the
    run, and a callback that blocks pauses it (a live view can wait for a button here).
    Ctrl-C ends the run cleanly: ``fit`` returns the History so far with ``interrupted=True``,
    and the model is exactly at its last completed step (optimizer steps are all or nothing).
    ``progress`` shows a tqdm bar on runs of 20 steps or more (when tqdm is installed).
    """
    X, y = list(X), list(y)
    if len(X) != len(y):
        raise ValueError(f"fit: X has {len(X)} rows but y has {len(y)} targets")
    if not X:
        raise ValueError("fit: no training data")
    if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
        raise ValueError(f"fit: batch_size must be a positive int or None, got {batch_size!r}")
    if epochs is not None and steps is not None:
        raise ValueError("fit: give epochs or steps, not both")
    width = _output_width(model, X[0])
    if loss == "auto":
        loss_fn = default_loss(width, y, getattr(model, "output_activation", None))
    else:
        loss_fn = _resolve_loss(loss)
        check_loss(loss_fn, width)
    if isinstance(metric, str):
        if metric != "auto":
            raise ValueError(f"fit: metric must be 'auto', None or a function (outputs, "
                             f"targets) -> float, got {metric!r}")
        metric = _default_metric(loss_fn)
    params = model.parameters()
    if optimizer is None:
        optimizer = optim.SGD(params, lr=0.1)
    rng = random.Random(seed)
    per_epoch = 1 if batch_size is None else -(-len(X) // batch_size)  # ⌈n / batch_size⌉
    total_steps = steps if steps is not None else per_epoch * (10 if epochs is None else epochs)
    run_step = (_CompiledStep if compiled else _EagerStep)(model, loss_fn, l2, params)

    history = History()
    bar = _progress_bar(total_steps) if progress else None
    was_training = model.training
    model.train()
    # The compiled path keeps parameters, grads and optimizer state in arrays between steps
    # (run_step.arrays); the Values and the state lists are brought up to date (sync) before
    # a callback and when fit ends, however it ends.
    if compiled:
        run_step.use_arrays(X, optimizer)
    step = 0
    try:
        while step < total_steps:
            epoch_losses, epoch_accs = [], []
            for idx in _batches(len(X), batch_size, rng):
                if step >= total_steps:
                    break
                xb, yb = [X[i] for i in idx], [y[i] for i in idx]
                if not run_step.arrays:
                    for p in params:  # backward() adds into leaves: start the step from 0
                        p.grad = 0.0
                # A step allocates a whole graph of Values, which hold no reference cycles;
                # pausing the cyclic collector meanwhile halves the time of an eager step.
                with gc_paused():
                    value, outputs = run_step(xb, yb, idx)
                if schedule is not None:
                    optimizer.lr = float(schedule(step))
                if hasattr(outputs, "tolist") and not getattr(metric, "takes_arrays", False):
                    outputs = outputs.tolist()  # a metric of the user's gets lists, as always
                acc = metric(outputs, yb) if metric is not None else None
                # The update and its record happen together: a Ctrl-C in between would leave
                # a model one step ahead of its History.
                with interrupts_deferred():
                    history.lr.append(optimizer.current_lr)
                    if run_step.arrays:
                        run_step.optimizer_step(optimizer)
                    else:
                        optimizer.step()
                    history.loss.append(value)
                    history.accuracy.append(acc)
                    epoch_losses.append(value)
                    epoch_accs.append(acc)
                    step += 1
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(loss=f"{value:.4g}",
                                    **({} if acc is None else {"acc": f"{acc:.3f}"}))
                if callback is not None:
                    if run_step.arrays:
                        run_step.sync(optimizer)
                    stop = callback(step - 1, history, model) is False
                    if run_step.arrays:  # the callback may have changed parameters or state
                        run_step.reload(optimizer)
                    if stop:
                        history.stopped_early = True
                        break
            if epoch_losses:
                history.epoch_loss.append(sum(epoch_losses) / len(epoch_losses))
                history.epoch_accuracy.append(
                    None if metric is None else sum(epoch_accs) / len(epoch_accs))
            if history.stopped_early:
                break
    except KeyboardInterrupt:
        history.interrupted = True
        print(f"fit: interrupted after {len(history)} of {total_steps} steps; the model is "
              f"at step {len(history)}", file=sys.stderr)
    finally:
        if run_step.arrays:
            with interrupts_deferred():
                run_step.sync(optimizer)
        if bar is not None:
            bar.close()
        model.train(was_training)
    return history


def _progress_bar(total: int):
    return progress_bar(total, desc="fit") if total >= 20 else None


def _position(program, leaf) -> int:
    """``leaf``'s position in the program, -1 if the graph does not use it."""
    try:
        return int(program.index([leaf])[0])
    except KeyError:
        return -1


class _EagerStep:
    """Build the graph afresh for the batch, backward through it."""

    arrays = False  # parameters live in their Values (see _CompiledStep's array mode)

    def __init__(self, model, loss_fn, l2, params):
        self.model, self.loss_fn, self.l2, self.params = model, loss_fn, l2, params

    def objective(self, outputs, targets) -> tv.Value:
        total = self.loss_fn(outputs, targets)
        if self.l2:
            total = total + self.l2 * losses.l2(self.params)
        return total

    def __call__(self, xb, yb, idx=None):
        outputs = [self.model(row) for row in xb]
        total = self.objective(outputs, yb)
        total.backward()
        return total.data, outputs


class _CompiledStep(_EagerStep):
    """Build the graph once on leaf Values, then replay it with ``tv.compile``.

    With a loss that declares its per-row terms (``loss.terms``) the objective is written
    ``(1/B) Σ wᵢ·tᵢ + l2·Σp²`` over leaf weights wᵢ: 1 for a full batch of B rows (the eager
    mean, to the bit), B/r for the r rows of a smaller batch and 0 for the rows it lacks,
    which are filled with a copy of its first row (so every term stays finite).

    Array mode (``use_arrays``, when the data is a rectangular table of numbers and the
    optimizer updates exactly the model's parameters with a rule ``step_arrays`` knows): the
    batch, the targets, the row weights and the parameters go into the program with one
    ``load`` each, the gradients come out with ``grads``, and the optimizer steps on arrays.
    ``P``, ``G`` and ``state`` are the committed step's parameters, gradients and optimizer
    state; ``sync`` writes them into the Values and the optimizer's lists, ``reload`` reads
    them back (after a callback, which may have changed them)."""

    def __init__(self, model, loss_fn, l2, params):
        super().__init__(model, loss_fn, l2, params)
        self.programs = {}  # batch size -> (input leaves, target leaves, weights, outputs, program)
        self.rows = getattr(loss_fn, "terms", None)
        self.arrays = False  # array mode (use_arrays); _EagerStep has the same flag
        self._optimizer = None
        self._indices = {}  # batch size -> positions (x, y, weights, params, outputs) or None

    def objective(self, outputs, targets, weights=None) -> tv.Value:
        if weights is None:
            return super().objective(outputs, targets)
        terms = self.rows(outputs, targets)
        total = losses._mean([t * w for t, w in zip(terms, weights)])
        if self.l2:
            total = total + self.l2 * losses.l2(self.params)
        return total

    # --- array mode -----------------------------------------------------------------------

    def use_arrays(self, X, optimizer) -> bool:
        """Switch to array mode if it computes exactly what the Values would; say whether."""
        import numpy as np

        if (not isinstance(optimizer, optim.Optimizer) or not optimizer.supports_arrays()
                or len(optimizer.params) != len(self.params)
                or any(a is not b for a, b in zip(optimizer.params, self.params))):
            return False
        try:
            table = np.asarray(X, dtype=np.float64)
        except (TypeError, ValueError):  # Values in the rows (float() them), or ragged rows
            try:
                table = np.array([[float(v) for v in row] for row in X], dtype=np.float64)
            except (TypeError, ValueError):
                return False
        if table.ndim != 2:
            return False
        self.X, self._optimizer = table, optimizer
        self.arrays = True
        self.reload(optimizer)
        return True

    def reload(self, optimizer) -> None:
        """Read the parameters' .data and the optimizer's state lists into the arrays."""
        import numpy as np

        data = np.fromiter((p.data for p in self.params), dtype=np.float64,
                           count=len(self.params))
        state = optimizer.state_arrays()
        grads = getattr(self, "G", None)
        if grads is None:
            grads = np.fromiter((p.grad for p in self.params), dtype=np.float64,
                                count=len(self.params))
        self.P, self.state, self.G = data, state, grads
        self._pending = None

    def sync(self, optimizer) -> None:
        """Write the committed step into the Values' .data and .grad and the state lists."""
        for p, x, g in zip(self.params, self.P.tolist(), self.G.tolist()):
            p.data, p.grad = x, g
        optimizer.load_state_arrays(self.state)

    def optimizer_step(self, optimizer) -> None:
        """The optimizer's step on the arrays, from this step's gradients (run with Ctrl-C
        deferred: parameters, gradients, state and the step count change together)."""
        grads = self._pending
        new_p, new_state = optimizer.step_arrays(self.P, grads, self.state)
        self.P, self.G, self.state, self._pending = new_p, grads, new_state, None

    def _positions(self, size, entry):
        """The program's positions of this entry's leaves (x, y, w, params: a leaf the graph
        does not use gets -1, and nothing is loaded there) and of its outputs (None if one was
        folded into a sum: the scores are then read node by node)."""
        import numpy as np

        x_leaves, y_leaves, weights, outputs, program = entry
        flat_y = [v for t in y_leaves for v in (t if isinstance(t, list) else [t])]
        flat_out = [v for o in outputs for v in (o if isinstance(o, (list, tuple)) else [o])]
        pos = {}
        for name, nodes in (("x", [v for row in x_leaves for v in row]), ("y", flat_y),
                            ("w", weights or []), ("params", self.params)):
            try:
                at = program.index(nodes)
            except KeyError:  # a leaf the loss does not depend on: find which, one by one
                at = np.array([_position(program, node) for node in nodes], dtype=np.int64)
            keep = at >= 0
            pos[name] = (at, None) if keep.all() else (at[keep], keep)
        try:
            pos["out"] = program.index(flat_out)
        except (KeyError, ValueError):  # folded into a sum: read with program.value
            pos["out"] = None
        pos["width"] = len(outputs[0]) if isinstance(outputs[0], (list, tuple)) else None
        pos["onehot"] = isinstance(y_leaves[0], list)
        pos["rows"] = np.arange(size)
        return pos

    @staticmethod
    def _load(program, where, data) -> None:
        at, keep = where
        data = data.reshape(-1)
        program.load(at, data if keep is None else data[keep])

    def _run_arrays(self, xb, yb, idx, size, entry):
        import numpy as np

        x_leaves, y_leaves, weights, outputs, program = entry
        pos = self._indices.get(size)
        if pos is None:
            pos = self._indices[size] = self._positions(size, entry)
        n = len(idx)
        rows = list(idx) + [idx[0]] * (size - n)  # absent rows: a copy of the first row
        self._load(program, pos["x"], self.X[rows])
        targets = list(yb) + [yb[0]] * (size - n)
        if pos["onehot"]:
            onehot = np.zeros((size, len(y_leaves[0])), dtype=np.float64)
            onehot[pos["rows"], np.asarray(targets, dtype=np.int64)] = 1.0
            self._load(program, pos["y"], onehot)
        else:
            self._load(program, pos["y"],
                       np.array([float(t) for t in targets], dtype=np.float64))
        if weights is not None:
            w = np.zeros(size, dtype=np.float64)
            w[:n] = size / n
            self._load(program, pos["w"], w)
        self._load(program, pos["params"], self.P)
        value = program.run()
        program.run_backward()
        at, keep = pos["params"]
        if keep is None:
            self._pending = program.grads(at)
        else:  # a parameter the loss does not use: zero gradient, as backward() leaves it
            self._pending = np.zeros(len(self.params), dtype=np.float64)
            self._pending[keep] = program.grads(at)
        if pos["out"] is None:
            return float(value), self._scores(program, outputs[:n])
        flat = program.values(pos["out"])
        if pos["width"] is not None:
            flat = flat.reshape(size, pos["width"])
        return float(value), flat[:n].copy()  # fit turns it into lists unless its metric
        # takes arrays (the default accuracy, which then counts in NumPy)

    # --- both modes --------------------------------------------------------------------------

    def _build(self, xb, yb):
        x_leaves = [[tv.Value(v) for v in row] for row in xb]
        outputs = [self.model(row) for row in x_leaves]
        y_leaves = [self._target_leaves(out, t) for out, t in zip(outputs, yb)]
        weights = None if self.rows is None else [tv.Value(1.0) for _ in xb]
        root = self.objective(outputs, y_leaves, weights)
        return x_leaves, y_leaves, weights, outputs, tv.compile(root)

    @staticmethod
    def _target_leaves(output, target):
        if isinstance(output, (list, tuple)):  # a class index becomes a one-hot list of leaves
            return [tv.Value(1.0 if k == target else 0.0) for k in range(len(output))]
        return tv.Value(target)

    @staticmethod
    def _scores(program, outputs):
        return [[program.value(o) for o in out] if isinstance(out, (list, tuple))
                else program.value(out) for out in outputs]

    def _check_targets(self, outputs, yb):
        """The eager loss validates targets each step; a replay never calls it again, so class
        indices (which become one-hot leaves) are checked here."""
        if not isinstance(outputs[0], (list, tuple)):
            return
        k = len(outputs[0])
        for i, t in enumerate(yb):
            if not (isinstance(t, numbers.Integral) and not isinstance(t, bool) and 0 <= t < k):
                raise ValueError(f"fit: target {t!r} of row {i} is not a class index in "
                                 f"0..{k - 1}")

    def _entry(self, n: int):
        """The program for a batch of ``n`` rows: the first one built, if it has room (and the
        loss weights rows), else one for ``n`` (built once, on first use)."""
        if self.rows is not None and self.programs:
            full = next(iter(self.programs))
            if n <= full:
                return full
        return n

    def __call__(self, xb, yb, idx=None):
        n = len(xb)
        size = self._entry(n)
        entry = self.programs.get(size)
        if entry is None:
            entry = self.programs[size] = self._build(xb, yb)
        x_leaves, y_leaves, weights, outputs, program = entry
        self._check_targets(outputs, yb)
        if self.arrays and not hasattr(program, "load"):  # a stand-in for tv.compile (tests)
            self.sync(self._optimizer)  # back to the Values, from this step on
            for p in self.params:
                p.grad = 0.0
            self.arrays = False
        if self.arrays:
            return self._run_arrays(xb, yb, idx, size, entry)
        if n < size:  # absent rows: a copy of the first row, weighted by zero
            xb = list(xb) + [xb[0]] * (size - n)
            yb = list(yb) + [yb[0]] * (size - n)
        if weights is not None:
            scale = size / n
            for i, w in enumerate(weights):
                w.data = scale if i < n else 0.0
        for leaves, row in zip(x_leaves, xb):
            for leaf, v in zip(leaves, row):
                leaf.data = float(v)
        for leaf, t in zip(y_leaves, yb):
            if isinstance(leaf, list):
                for k, onehot in enumerate(leaf):
                    onehot.data = 1.0 if k == t else 0.0
            else:
                leaf.data = float(t)
        value = program()
        return float(value), self._scores(program, outputs[:n])
