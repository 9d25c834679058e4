"""nn.fit and nn.accuracy: the training loop, its History, callbacks, and the compiled path."""

from __future__ import annotations

import math
import random

import pytest

import nn
import tinygrad_value as tv
from nn import losses, optim
from tinygrad_value.engine import scalar_math


def test_accuracy_binary_multiclass_and_thresholds():
    assert nn.accuracy([tv.Value(0.3), -2.0, 0.1], [1, -1, -1]) == pytest.approx(2 / 3)
    assert nn.accuracy([0.7, 0.2], [1, 0], threshold=0.5) == 1.0
    assert nn.accuracy([[0.1, 2.0, 0.3], [tv.Value(5.0), 1.0, 2.0]], [1, 2]) == 0.5
    with pytest.raises(ValueError, match="2 outputs but 1 targets"):
        nn.accuracy([1.0, 2.0], [1])


def _blobs(n=12):
    rng = random.Random(0)
    X = [[rng.gauss(2.0 * c - 1.0, 0.4), rng.gauss(0.0, 0.4)] for c in (0, 1) for _ in range(n)]
    y = [c for c in (0, 1) for _ in range(n)]
    return X, y


def test_fit_full_batch_learns_and_records_history():
    X, y = _blobs()
    random.seed(0)
    model = nn.MLP(2, [4, 2])
    history = nn.fit(model, X, y, loss="cross_entropy",
                     optimizer=optim.Adam(model.parameters(), lr=0.05), epochs=30, progress=False)
    assert len(history) == 30 and len(history.epoch_loss) == 30  # full batch: a step per epoch
    assert history.loss == history.epoch_loss
    assert history.final_loss < 0.5 * history.loss[0]
    assert history.final_accuracy == 1.0
    assert history.lr == [0.05] * 30


def test_fit_steps_follow_the_eager_recipe_exactly():
    """fit with full batch = the hand-written micrograd loop, float for float."""
    X, y = _blobs(5)
    y = [2 * v - 1 for v in y]
    random.seed(2)
    a = nn.MLP(2, [3, 1])
    random.seed(2)
    b = nn.MLP(2, [3, 1])
    history = nn.fit(a, X, y, loss="hinge", optimizer=optim.SGD(a.parameters(), lr=0.5),
                     steps=5, l2=1e-3, schedule=lambda k: 0.5 - 0.05 * k, progress=False)
    for k in range(5):
        total = losses.hinge([b(x) for x in X], y) + 1e-3 * losses.l2(b.parameters())
        b.zero_grad()
        total.backward()
        assert history.loss[k] == total.data
        for p in b.parameters():
            p.data -= (0.5 - 0.05 * k) * p.grad
    assert a.state_dict() == b.state_dict()


def test_minibatches_are_seeded_and_cover_each_epoch():
    X, y = _blobs(5)  # 10 rows
    seen = []

    def spy(outputs, targets):
        seen.append(len(targets))
        return losses.cross_entropy(outputs, targets)

    random.seed(0)
    model = nn.MLP(2, [2])
    h = nn.fit(model, X, y, loss=spy, optimizer=optim.SGD(model.parameters(), lr=0.1),
               epochs=2, batch_size=4, progress=False)
    assert seen == [4, 4, 2, 4, 4, 2]
    assert len(h) == 6 and len(h.epoch_loss) == 2
    assert h.epoch_loss[0] == pytest.approx(sum(h.loss[:3]) / 3)
    random.seed(0)
    again = nn.MLP(2, [2])
    h2 = nn.fit(again, X, y, loss=spy, optimizer=optim.SGD(again.parameters(), lr=0.1),
                epochs=2, batch_size=4, progress=False)
    assert h2.loss == h.loss


def test_callback_sees_every_step_and_can_stop():
    X, y = _blobs(4)
    calls = []

    def callback(step, history, model):
        calls.append((step, len(history)))
        return False if step == 2 else None

    h = nn.fit(nn.MLP(2, [2]), X, y, steps=10, callback=callback, progress=False)
    assert calls == [(0, 1), (1, 2), (2, 3)]
    assert h.stopped_early and len(h) == 3


def test_regression_has_no_accuracy_and_mode_is_restored():
    X = [[0.1 * i] for i in range(8)]
    y = [0.5 * x[0] - 0.2 for x in X]
    model = nn.MLP(1, [1]).eval()
    h = nn.fit(model, X, y, loss="mse", optimizer=optim.SGD(model.parameters(), lr=0.3),
               steps=200, progress=False)
    assert h.accuracy == [None] * 200 and h.epoch_accuracy[0] is None
    assert h.final_loss < 1e-4
    assert model.training is False


def test_progress_bar_on_long_runs(capsys):
    pytest.importorskip("tqdm")
    X, y = _blobs(2)
    nn.fit(nn.MLP(2, [2]), X, y, steps=25, progress=True)
    assert "fit" in capsys.readouterr().err


def test_fit_validates_its_arguments():
    X, y = _blobs(2)
    with pytest.raises(ValueError, match="4 rows but y has 3"):
        nn.fit(nn.MLP(2, [2]), X, y[:3], progress=False)
    with pytest.raises(ValueError, match="unknown loss 'l3'"):
        nn.fit(nn.MLP(2, [2]), X, y, loss="l3", progress=False)
    with pytest.raises(ValueError, match="epochs or steps"):
        nn.fit(nn.MLP(2, [2]), X, y, epochs=1, steps=1, progress=False)
    with pytest.raises(ValueError, match="batch_size"):
        nn.fit(nn.MLP(2, [2]), X, y, batch_size=0, progress=False)
    with pytest.raises(ValueError, match="metric must be 'auto'"):
        nn.fit(nn.MLP(2, [2]), X, y, metric="acc", progress=False)


# --- the compiled path ----------------------------------------------------------------------


def _reference_compile(root):
    """tv.compile's contract, written the slow way: replay the fixed graph node by node with the
    op table, then backward() (which adds into leaves)."""
    order = tv.topo_order(root)

    class Program:
        def __call__(self):
            for node in order:
                fn = node._fn
                if fn is None:
                    continue
                args = [c.data for c in node.children]
                if fn.has_param:
                    args.append(node._arg)
                node.data = fn.forward(scalar_math, *args)
            root.backward()
            return root.data

        def value(self, node):
            return node.data

        def grad(self, node):
            return node.grad

    return Program()


def _compare_compiled_with_eager(loss, X, y, nouts, **fit_kwargs):
    histories = []
    for compiled in (False, True):
        random.seed(9)
        model = nn.MLP(len(X[0]), nouts)
        opt = optim.Adam(model.parameters(), lr=0.02)
        histories.append((nn.fit(model, X, y, loss=loss, optimizer=opt, compiled=compiled,
                                 progress=False, **fit_kwargs), model.state_dict()))
    (eager, eager_w), (comp, comp_w) = histories
    assert comp.loss == pytest.approx(eager.loss, rel=1e-9, abs=1e-12)
    assert comp.accuracy == eager.accuracy
    assert list(comp_w.values()) == pytest.approx(list(eager_w.values()), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("compile_fn", ["reference", "tv.compile"])
@pytest.mark.parametrize("task", ["cross_entropy", "hinge"])
def test_compiled_fit_gives_the_eager_history(monkeypatch, compile_fn, task):
    if compile_fn == "reference":
        monkeypatch.setattr(tv, "compile", _reference_compile)
    X, y = _blobs(5)
    if task == "hinge":
        _compare_compiled_with_eager("hinge", X, [2 * v - 1 for v in y], [4, 1], epochs=4,
                                     batch_size=4, l2=1e-3)
    else:
        _compare_compiled_with_eager("cross_entropy", X, y, [4, 2], epochs=4, batch_size=4)


# --- micrograd's demo -----------------------------------------------------------------------


def test_micrograd_demo_reaches_full_training_accuracy():
    """moons (n=100, noise=0.1), y in {-1, 1}, MLP(2, [16, 16, 1]) from random.seed(1337),
    SVM loss + 1e-4·L2, lr = 1 - 0.9·k/100, 100 steps: as in micrograd's demo notebook."""
    X, y = nn.data.make_moons(n_samples=100, noise=0.1, random_state=1, signed=True)
    random.seed(1337)
    model = nn.MLP(2, [16, 16, 1])
    h = nn.fit(model, X, y, loss="hinge", optimizer=optim.SGD(model.parameters(), lr=1.0),
               steps=100, l2=1e-4, schedule=lambda k: 1.0 - 0.9 * k / 100, progress=False)
    assert h.lr[0] == 1.0 and h.lr[-1] == pytest.approx(0.109)
    assert h.final_loss < 0.05
    assert nn.accuracy([model(x) for x in X], y) == 1.0


def test_compiled_fit_checks_class_indices_of_every_batch(monkeypatch):
    monkeypatch.setattr(tv, "compile", _reference_compile, raising=False)
    X, y = _blobs(3)
    y[-1] = 5  # the replay never calls the loss again, so fit checks each batch itself
    with pytest.raises(ValueError, match=r"target 5 of row \d is not a class index in 0..1"):
        nn.fit(nn.MLP(2, [2]), X, y, batch_size=4, epochs=1, compiled=True, progress=False)


@pytest.mark.parametrize("compiled", [False, True])
def test_fit_accepts_numpy_arrays(monkeypatch, compiled):
    np = pytest.importorskip("numpy")
    monkeypatch.setattr(tv, "compile", _reference_compile, raising=False)
    X, y = _blobs(3)
    random.seed(1)
    model = nn.MLP(2, [3, 2])
    h = nn.fit(model, np.array(X), np.array(y), steps=3, compiled=compiled, progress=False)
    random.seed(1)
    again = nn.MLP(2, [3, 2])
    assert nn.fit(again, X, y, steps=3, progress=False).loss == pytest.approx(h.loss, rel=1e-9)


# --- the loss fits the model: defaults, checks, thresholds ----------------------------------


def test_default_loss_follows_output_width_and_labels():
    from nn.loss_choice import default_loss

    assert default_loss(3, [0, 2, 1], None) is losses.cross_entropy
    assert default_loss(1, [-1, 1, 1], None) is losses.hinge
    assert default_loss(1, [0, 1, 1], "linear") is losses.binary_cross_entropy_with_logits
    assert default_loss(1, [0, 1, 1], "sigmoid") is losses.binary_cross_entropy
    assert default_loss(1, [0.5, -1.25], None) is losses.mse
    with pytest.raises(ValueError, match="3 classes but the model has 1 output"):
        default_loss(1, [0, 1, 2], None)


def test_fit_on_a_one_output_model_with_01_labels_learns_instead_of_cross_entropy():
    X, y = _blobs()
    random.seed(0)
    model = nn.MLP(2, [8, 1])
    h = nn.fit(model, X, y, optimizer=optim.Adam(model.parameters(), lr=0.05), steps=40,
               progress=False)
    assert h.final_accuracy == 1.0 and h.final_loss < 0.2 * h.loss[0]
    with pytest.raises(ValueError, match="needs one output per class.*with_logits"):
        nn.fit(model, X, y, loss="cross_entropy", progress=False)
    with pytest.raises(ValueError, match="model has 2 outputs.*cross_entropy"):
        nn.fit(nn.MLP(2, [2]), X, y, loss="bce", progress=False)


def test_cross_entropy_rejects_a_batch_of_labels_posing_as_one_sample():
    with pytest.raises(ValueError, match="sum to 3, not 1"):
        losses.cross_entropy([tv.Value(0.1), tv.Value(0.2), tv.Value(0.3), tv.Value(0.4)],
                             [0, 1, 1, 1])


def test_accuracy_threshold_follows_the_loss_kind():
    probs, y = [0.9, 0.2, 0.7, 0.4], [1, 0, 1, 0]
    assert nn.accuracy(probs, y, loss="bce") == 1.0
    assert nn.accuracy(probs, y) == 0.5  # threshold 0: every probability counts as positive
    assert nn.accuracy([0.3, -0.2], [1, 0], loss=losses.binary_cross_entropy_with_logits) == 1.0
    with pytest.raises(ValueError, match="regression loss"):
        nn.accuracy([0.3], [1], loss="mse")
    X, y = _blobs()
    random.seed(1)
    model = nn.MLP(2, [8, 1], output_activation="sigmoid")
    h = nn.fit(model, X, y, optimizer=optim.Adam(model.parameters(), lr=0.05), steps=40,
               progress=False)
    assert h.final_accuracy == 1.0  # fit read "probabilities" from bce: threshold 0.5


# --- History prints short; the progress line tells the truth --------------------------------


def test_history_repr_plot_and_html():
    X, y = _blobs()
    random.seed(0)
    model = nn.MLP(2, [8, 2])
    h = nn.fit(model, X, y, optimizer=optim.Adam(model.parameters(), lr=0.05), steps=30,
               progress=False)
    text = repr(h)
    assert text.startswith("History(30 steps, loss ") and len(text) < 120
    assert f"{h.loss[0]:.4g} → {h.loss[-1]:.4g}" in text
    assert f"accuracy {h.accuracy[0]:.3f} → {h.accuracy[-1]:.3f}" in text
    page = h._repr_html_()
    assert "<svg" in page and "polyline" in page and "History(30 steps" in page
    pytest.importorskip("matplotlib")
    fig = h.plot()
    axes = fig.get_axes()
    assert len(axes) == 2 and list(axes[0].lines[0].get_ydata()) == h.loss
    assert axes[0].get_legend() is not None
    assert repr(nn.History()) == "History(0 steps)"


def test_text_progress_reports_the_real_rate():
    import io
    import time

    from nn.progress import TextProgress

    out = io.StringIO()
    bar = TextProgress(10, "fit", out)
    for _ in range(10):
        time.sleep(0.01)
        bar.update(1)
    bar.set_postfix(loss="0.5")
    bar.close()
    bar.close()
    line = out.getvalue()
    assert line.count("\n") == 1 and line.startswith("fit: 10/10 steps in 0.1")
    rate = float(line.split("(")[1].split(" steps/s")[0])
    assert 30 <= rate <= 100  # 10 steps in >= 0.1 s: at most 100 steps/s
    assert "loss 0.5" in line


def test_predict_gives_floats_in_eval_mode_and_leaves_grads():
    random.seed(2)
    one = nn.MLP(2, [4, 1], dropout=0.5)
    for p in one.parameters():
        p.grad = 0.5
    X = [[0.1, 0.2], [-1.0, 0.5], [0.3, -0.3]]
    got = nn.predict(one, X)
    one.eval()
    assert got == [one(x).data for x in X] and one.training is False
    one.train()
    assert nn.predict(one, X) == got and one.training is True  # mode restored
    assert nn.predict(one, X, batch=1, compiled=True) == pytest.approx(got, rel=1e-12)
    assert all(p.grad == 0.5 for p in one.parameters())
    many = nn.MLP(2, [4, 3])
    rows = nn.predict(many, X)
    assert len(rows) == 3 and all(len(r) == 3 and isinstance(r[0], float) for r in rows)


def test_predict_picks_a_compiled_batch_for_a_big_network_and_agrees_with_eager():
    from nn.predict import Predictor, _plan

    random.seed(3)
    wide = nn.MLP(64, [32, 10], use_dot=True)  # ~2,400 edges a row: compiling pays off
    small = nn.MLP(2, [4, 1])
    rng = random.Random(0)
    X = [[rng.uniform(0, 1) for _ in range(64)] for _ in range(300)]
    batch, compiled = _plan(wide, X[0], len(X))
    assert compiled and 1 <= batch < len(X)
    assert _plan(small, [0.5, -0.5], 3)[1] is False  # three rows of a tiny network: eager
    got = nn.predict(wide, X)
    want = nn.predict(wide, X, compiled=False)
    assert len(got) == 300 and all(len(r) == 10 for r in got)
    assert max(abs(a - b) for r, s in zip(got, want) for a, b in zip(r, s)) < 1e-12
    # one Predictor follows the model: rows after a parameter change, a short last chunk
    P = Predictor(wide, 64, batch=7)
    for p in wide.parameters():
        p.data *= 0.5
    got = P(X[:10])
    want = nn.predict(wide, X[:10], compiled=False)
    assert max(abs(a - b) for r, s in zip(got, want) for a, b in zip(r, s)) < 1e-12
    with pytest.raises(ValueError, match="rows of 64 inputs, got a row of 3"):
        P([[0.0, 1.0, 2.0]])


def test_predict_sizes_its_plan_on_a_row_of_the_callers():
    """A model whose op has a domain (log needs x > 0) must not be run on made-up zeros."""
    def model(row):
        return row[0].log()

    assert nn.predict(model, [[2.0], [3.0]]) == [math.log(2.0), math.log(3.0)]
