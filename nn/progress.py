"""fit's progress bar: a notebook widget, a terminal bar, or one quiet summary line."""

from __future__ import annotations

import sys
import time


def _in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    ip = shell.get_ipython() if shell is not None and hasattr(shell, "get_ipython") else None
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"


def progress_bar(total: int, desc: str = "fit"):
    """A widget bar in a notebook with ipywidgets; a tqdm bar on a terminal; otherwise (a
    notebook without ipywidgets, a log file, a pipe) one line at the end. tqdm's rate is the
    average over the whole run (``smoothing=0``), so rate and remaining time are honest."""
    notebook = _in_notebook()
    try:
        if notebook:
            import ipywidgets  # noqa: F401 - tqdm.notebook needs it; without it, no warning spam
            from tqdm.notebook import tqdm
            return tqdm(total=total, desc=desc, smoothing=0)
        if sys.stderr.isatty():
            from tqdm import tqdm
            return tqdm(total=total, desc=desc, smoothing=0, leave=False)
    except ImportError:
        pass
    return TextProgress(total, desc, sys.stdout if notebook else sys.stderr)


class TextProgress:
    """Silent while running; on ``close()`` one line: steps, seconds, rate and the last
    postfix (loss, accuracy)."""

    def __init__(self, total: int, desc: str, file) -> None:
        self.total, self.desc, self.file = total, desc, file
        self.n, self.postfix, self.start = 0, {}, time.perf_counter()

    def update(self, n: int = 1) -> None:
        self.n += n

    def set_postfix(self, **kw) -> None:
        self.postfix = kw

    def close(self) -> None:
        if self.file is None:
            return
        seconds = time.perf_counter() - self.start
        rate = self.n / seconds if seconds > 0 else float("inf")
        extra = "".join(f", {k} {v}" for k, v in self.postfix.items())
        print(f"{self.desc}: {self.n}/{self.total} steps in {seconds:.2f} s "
              f"({rate:.0f} steps/s){extra}", file=self.file, flush=True)
        self.file = None  # close once
