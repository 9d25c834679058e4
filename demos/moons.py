"""micrograd's demo, ours: a small MLP learns the two moons with a max-margin loss.

    python -m demos.moons                  # -> out/moons_boundary.png, out/moons_curve.png
    python -m demos.moons --live           # watch it learn at http://127.0.0.1:<port>/
                                           # -> out/moons_live_boundary.png, ..._curve.png
    python -m demos.moons --record out/run.html   # a replay page with a timeline slider instead
                                           # -> out/moons_record_*.png

``--live`` and ``--record`` train a smaller network, so they write their pictures under their own
names and never overwrite ``make demo``'s. Ctrl-C at any point says "stopped" in one line.

The recipe is micrograd's notebook: 100 points of ``make_moons(noise=0.1)`` with labels -1/+1,
``random.seed(1337)``, ``MLP(2, [16, 16, 1])``, the SVM max-margin loss
mean(relu(1 - yᵢ·sᵢ)) plus 1e-4·Σp², and plain SGD with lr = 1.0 - 0.9·k/100 at step k, full batch.
The loss graph is built once and replayed with ``tv.compile`` (``--eager`` rebuilds it every
step, as micrograd does).

In ``--live`` / ``--record`` mode the default network is MLP(2, [8, 8, 1]) with one ``dot`` node
per neuron, so that one sample's loss graph (drawn as the model learns) stays readable; ``--hidden``
picks another size.
"""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import List, Optional, Sequence

from ._common import Timer, file_url, out_dir, parse_args, plot_decision_boundary, predict, pyplot

N_SAMPLES, NOISE, DATA_SEED, WEIGHT_SEED = 100, 0.1, 1, 1337
HIDDEN, LIVE_HIDDEN = [16, 16], [8, 8]
STEPS, QUICK_STEPS, QUICK_SAMPLES = 100, 20, 60
ALPHA = 1e-4  # L2 strength


def _add_flags(parser) -> None:
    parser.add_argument("--steps", type=int, default=None, help=f"training steps (default {STEPS})")
    parser.add_argument("--eager", action="store_true",
                        help="rebuild the graph every step instead of the compiled replay")
    parser.add_argument("--hidden", default=None,
                        help="hidden sizes, e.g. 16,16 (default 16,16; 8,8 with --live/--record)")
    parser.add_argument("--live", action="store_true",
                        help="serve a live view of the training on 127.0.0.1 (opens no browser)")
    parser.add_argument("--port", type=int, default=0, help="port for --live (default: a free one)")
    parser.add_argument("--delay", type=float, default=0.1,
                        help="--live: at least this many seconds per step, so you can watch")
    parser.add_argument("--paused", action="store_true",
                        help="--live: pause after the first step; press Resume or Step on the page")
    parser.add_argument("--linger", type=float, default=None,
                        help="--live: serve this long after training (default: until Ctrl-C)")
    parser.add_argument("--record", default=None, metavar="PATH",
                        help="write a self-contained replay page (timeline slider) to PATH")


def _sizes(text: Optional[str], default: List[int]) -> List[int]:
    if text is None:
        return list(default)
    try:
        sizes = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise SystemExit(f"--hidden wants sizes like 16,16, got {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise SystemExit(f"--hidden wants positive sizes like 16,16, got {text!r}")
    return sizes


def plot_curves(path: Path, history, title: str) -> None:
    """Loss (left axis) and accuracy (right axis) per step."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=110)
    steps = range(len(history.loss))
    ax.plot(steps, history.loss, color="#dc2626", label="loss")
    ax.set_xlabel("step")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_ylabel("loss (max-margin + L2)", color="#dc2626")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax2 = ax.twinx()
    acc = [a if a is not None else float("nan") for a in history.accuracy]
    ax2.plot(steps, [100 * a for a in acc], color="#059669", label="accuracy")
    ax2.set_ylabel("accuracy (%)", color="#059669")
    ax2.set_ylim(0, 102)
    lines = ax.get_lines() + ax2.get_lines()
    ax.legend(lines, [ln.get_label() for ln in lines], loc="center right", fontsize=8)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_boundary(path: Path, model, X, y, title: str, resolution: int) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 5), dpi=110)
    plot_decision_boundary(ax, model, X, y, resolution=resolution, title=title)  # y: -1/+1
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _prefix(args) -> str:
    """The pictures' file-name stem: a watched run trains another network, so it has its own."""
    return "moons_live" if args.live else "moons_record" if args.record is not None else "moons"


def _linger(view, seconds: Optional[float]) -> None:
    """Keep serving for ``seconds`` (None: until Ctrl-C, which reaches the caller)."""
    end = None if seconds is None else time.monotonic() + seconds
    while not view.closed and (end is None or time.monotonic() < end):
        time.sleep(0.1 if end is None else max(0.0, min(0.1, end - time.monotonic())))


def main(argv: Optional[Sequence[str]] = None) -> dict:
    """Train, draw, report. Returns the paths written and the final accuracy.

    Ctrl-C (during training, drawing or while the live view lingers) prints one line saying
    where it stopped and exits with status 130, without a traceback.
    """
    progress = {"step": 0, "steps": None}
    try:
        return _main(argv, progress)
    except KeyboardInterrupt:
        done = "" if progress["steps"] is None else \
            f" after {progress['step']} of {progress['steps']} steps"
        print(f"moons: stopped (Ctrl-C){done}", flush=True)
        raise SystemExit(130) from None


def _main(argv: Optional[Sequence[str]], progress: dict) -> dict:
    args = parse_args("micrograd's moons demo: MLP + max-margin loss + SGD.", argv, _add_flags)
    import nn

    watching = args.live or args.record is not None
    steps = args.steps if args.steps is not None else QUICK_STEPS if args.quick else STEPS
    if steps < 1:
        raise SystemExit("--steps must be at least 1")
    progress["steps"] = steps
    hidden = _sizes(args.hidden, LIVE_HIDDEN if watching else HIDDEN)
    compiled = not args.eager
    n_samples = QUICK_SAMPLES if args.quick else N_SAMPLES

    X, y = nn.data.make_moons(n_samples=n_samples, noise=NOISE, random_state=DATA_SEED, signed=True)
    random.seed(WEIGHT_SEED)
    model = nn.MLP(2, hidden + [1], use_dot=watching)
    n_params = len(model.parameters())
    optimizer = nn.optim.SGD(model.parameters(), lr=1.0)
    mode = "compiled replay" if compiled else "eager"
    print(f"moons: {n_samples} points, MLP(2, {hidden + [1]}) with {n_params} parameters, "
          f"{steps} steps, {mode}")

    callbacks = []
    view = recorder = None
    if args.live:
        from nn.live import LiveView

        view = LiveView(model, X, y, port=args.port, min_step_seconds=max(0.0, args.delay),
                        graph_every=5, start_paused=args.paused,
                        title="tinygrad-value: moons, live")
        callbacks.append(view.callback)
    if args.record is not None:
        from nn.live import LiveRecorder

        recorder = LiveRecorder(model, X, y, args.record, every=max(1, steps // 60),
                                title="tinygrad-value: moons, recorded")
        callbacks.append(recorder.callback)

    def callback(step, history, model):
        for cb in callbacks:
            cb(step, history, model)

    try:
        with Timer() as timer:
            history = nn.fit(model, X, y, loss="hinge", optimizer=optimizer, steps=steps, l2=ALPHA,
                             schedule=lambda k: 1.0 - 0.9 * k / steps, compiled=compiled,
                             callback=callback if callbacks else None, progress=True)
        progress["step"] = len(history)
        if history.interrupted:  # fit caught the Ctrl-C; the demo stops here too
            raise KeyboardInterrupt
        final_acc = nn.accuracy(predict(model, X)[:, 0], y)  # sign(score) == label
        print(f"trained in {timer.seconds:.2f} s: final loss {history.final_loss:.4f}, "
              f"accuracy {100 * final_acc:.1f}%")

        folder = out_dir(args.out)
        boundary_png = folder / f"{_prefix(args)}_boundary.png"
        curve_png = folder / f"{_prefix(args)}_curve.png"
        title = f"MLP(2, {hidden + [1]}) after {steps} steps: {100 * final_acc:.0f}% accuracy"
        # without the compiled replay every grid point is an eager forward pass: keep it coarse
        resolution = 100 if compiled else 30 if args.quick else 60
        plot_boundary(boundary_png, model, X, y, title, resolution=resolution)
        plot_curves(curve_png, history, f"moons: loss and accuracy over {steps} steps")
        result = {"boundary_png": str(boundary_png), "curve_png": str(curve_png),
                  "accuracy": final_acc, "loss": history.final_loss, "steps": steps,
                  "compiled": compiled, "seconds": timer.seconds}
        if recorder is not None:
            result["record_html"] = str(recorder.save())
        print(f"wrote {boundary_png}\nwrote {curve_png}")
        if recorder is not None:
            print(f"wrote {result['record_html']}  (open {file_url(result['record_html'])})")
        if view is not None:
            view.finish()
            result["url"] = view.url
            wait = "until Ctrl-C" if args.linger is None else f"for {args.linger:g} s"
            print(f"training done; the live view stays up at {view.url} {wait}", flush=True)
            _linger(view, args.linger)
        return result
    finally:
        if view is not None:
            view.close()


if __name__ == "__main__":
    main()
