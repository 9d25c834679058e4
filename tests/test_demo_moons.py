"""demos.moons, reduced: it trains, writes valid PNGs, reports its accuracy; --record, --live."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from demos import moons

ROOT = Path(__file__).resolve().parents[1]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def assert_png(path, min_side=100):
    data = Path(path).read_bytes()
    assert data[:8] == PNG_MAGIC, f"{path} is not a PNG"
    import matplotlib.image

    image = matplotlib.image.imread(path)  # decodes the whole file
    height, width = image.shape[:2]
    assert height >= min_side and width >= min_side
    assert image.std() > 0.01, "the picture is blank"


def test_quick_run_writes_pictures_and_reports_accuracy(tmp_path, capsys):
    result = moons.main(["--quick", "--steps", "12", "--out", str(tmp_path)])
    assert result["steps"] == 12
    assert 0.5 <= result["accuracy"] <= 1.0
    assert_png(result["boundary_png"])
    assert_png(result["curve_png"])
    assert Path(result["boundary_png"]) == tmp_path / "moons_boundary.png"
    assert Path(result["curve_png"]) == tmp_path / "moons_curve.png"
    out = capsys.readouterr().out
    assert "accuracy" in out and str(tmp_path / "moons_boundary.png") in out


def test_eager_flag_and_hidden_sizes(tmp_path):
    result = moons.main(["--quick", "--steps", "3", "--eager", "--hidden", "4,4",
                         "--out", str(tmp_path)])
    assert result["compiled"] is False
    assert_png(result["boundary_png"])
    with pytest.raises(SystemExit):
        moons.main(["--quick", "--hidden", "4,x", "--out", str(tmp_path)])


def test_record_writes_a_replay_page(tmp_path):
    path = tmp_path / "run.html"
    result = moons.main(["--quick", "--steps", "6", "--hidden", "4,4", "--out", str(tmp_path),
                         "--record", str(path)])
    assert result["record_html"] == str(path)
    html = path.read_text(encoding="utf-8")
    start = html.index('type="application/json">') + len('type="application/json">')
    config = json.loads(html[start:html.index("</script>", start)])
    assert config["mode"] == "replay"
    assert config["steps"] == list(range(6))
    assert config["frames"][0]["step"] == -1 and config["frames"][-1]["step"] == 5


def test_live_serves_then_closes(tmp_path, capsys):
    result = moons.main(["--quick", "--steps", "4", "--hidden", "4,4", "--delay", "0",
                         "--linger", "0", "--out", str(tmp_path), "--live"])
    url = result["url"]
    assert url.startswith("http://127.0.0.1:")
    assert url in capsys.readouterr().out
    with pytest.raises(OSError):  # main() closed the server on its way out
        urllib.request.urlopen(url + "api/state", timeout=2)


def test_live_and_record_write_their_own_pictures(tmp_path):
    """A watched run trains another network: it must not overwrite `make demo`'s pictures."""
    live = moons.main(["--quick", "--steps", "3", "--hidden", "4,4", "--delay", "0",
                       "--linger", "0", "--out", str(tmp_path), "--live"])
    assert Path(live["boundary_png"]) == tmp_path / "moons_live_boundary.png"
    assert Path(live["curve_png"]) == tmp_path / "moons_live_curve.png"
    record = moons.main(["--quick", "--steps", "3", "--hidden", "4,4", "--out", str(tmp_path),
                         "--record", str(tmp_path / "run.html")])
    assert Path(record["boundary_png"]) == tmp_path / "moons_record_boundary.png"
    assert sorted(p.name for p in tmp_path.glob("*.png")) == [
        "moons_live_boundary.png", "moons_live_curve.png",
        "moons_record_boundary.png", "moons_record_curve.png"]
    for png in tmp_path.glob("*.png"):
        assert_png(png)


class Demo:
    """``python -m demos.moons`` in a subprocess; its stdout lines arrive on a queue."""

    def __init__(self, args):
        env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen([sys.executable, "-m", "demos.moons", *args], cwd=ROOT,
                                     env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        self.lines: "queue.Queue[str]" = queue.Queue()
        self.stdout = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        for line in self.proc.stdout:
            self.stdout.append(line)
            self.lines.put(line)

    def wait_for(self, text, timeout=60):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            if text in line:
                return line
        self.proc.kill()
        raise AssertionError(f"no line with {text!r}; got {''.join(self.stdout)}"
                             f"{self.proc.stderr.read()}")

    def interrupt(self, timeout=15):
        self.proc.send_signal(signal.SIGINT)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError("Ctrl-C did not stop the demo") from None
        time.sleep(0.1)  # let the pump read the last line
        return code, "".join(self.stdout), self.proc.stderr.read()


def _assert_stopped(code, out, err, steps):
    assert "Traceback" not in out + err, err[-3000:]
    assert code == 130, (code, out, err[-2000:])
    stopped = [line for line in out.splitlines() if "stopped" in line]
    assert len(stopped) == 1 and out.splitlines()[-1] == stopped[0], out
    assert stopped[0].startswith("moons: stopped (Ctrl-C) after ")
    done, total = stopped[0].split(" after ")[1].split(" steps")[0].split(" of ")
    assert int(total) == steps
    return int(done)


def test_ctrl_c_during_live_training_says_stopped(tmp_path):
    demo = Demo(["--quick", "--steps", "200", "--hidden", "4,4", "--delay", "0.05",
                 "--out", str(tmp_path), "--live"])
    url = demo.wait_for("live view: ").split()[2]
    end = time.monotonic() + 30
    while time.monotonic() < end:  # interrupt in the middle of training, not before it
        with urllib.request.urlopen(url + "api/state", timeout=5) as resp:
            if (json.load(resp)["step"] or 0) >= 5:
                break
        time.sleep(0.05)
    code, out, err = demo.interrupt()
    done = _assert_stopped(code, out, err, steps=200)
    assert 5 <= done < 200
    assert not list(tmp_path.glob("*.png")), "an interrupted run writes no pictures"
    with pytest.raises(OSError):  # the server is gone with the process
        urllib.request.urlopen(url + "api/state", timeout=2)


def test_ctrl_c_while_the_live_view_lingers_says_stopped(tmp_path):
    demo = Demo(["--quick", "--steps", "4", "--hidden", "4,4", "--delay", "0",
                 "--out", str(tmp_path), "--live"])
    demo.wait_for("the live view stays up")
    code, out, err = demo.interrupt()
    assert _assert_stopped(code, out, err, steps=4) == 4
    assert sorted(p.name for p in tmp_path.glob("*.png")) == [
        "moons_live_boundary.png", "moons_live_curve.png"]
