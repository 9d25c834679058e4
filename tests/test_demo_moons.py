"""demos.moons, reduced: it trains, writes valid PNGs, reports its accuracy; --record, --live."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

from demos import moons

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
