"""The stepper page: one self-contained file, escaped labels, step data that matches Python."""

from __future__ import annotations

import html
import json
import re

import pytest
from conftest import need_dot

import tinygrad_value as tv
from tinygrad_value.show.expr import parse

SRC = "x=2.0; w=-3.0; b=6.8813735870195432; n=x*w+b; o=n.tanh()"


def page_data(text: str) -> dict:
    m = re.search(r'<script type="application/json" id="tv-data">(.*?)</script>', text, re.DOTALL)
    assert m, "the step data block is missing"
    return json.loads(m.group(1))


@pytest.fixture
def page(tmp_path):
    need_dot()
    p = parse(SRC)
    return tv.backprop_html(p.root, tmp_path / "backprop.html", source=SRC), p


def test_writes_one_self_contained_file(page, tmp_path):
    pg, _ = page
    assert pg.path == tmp_path / "backprop.html"
    text = pg.path.read_text(encoding="utf-8")
    assert text == pg.html
    assert text.startswith("<!DOCTYPE html>") and "<svg" in text
    # nothing fetched from anywhere: no src/href attributes, no CSS url(), no imports
    assert not re.search(r"\b(src|href)\s*=", text)
    assert "url(" not in text and "@import" not in text and "fetch(" not in text
    # the only http strings are the SVG's XML namespace names
    assert set(re.findall(r"https?://[^\s\"'<>]+", text)) <= {
        "http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backprop.html"]  # no temp file left


def test_step_data_matches_python(page):
    pg, p = page
    data = page_data(pg.html)
    order = tv.topo_order(p.root)
    assert [n["id"] for n in data["nodes"]] == [f"v{i}" for i in range(len(order))]
    by_name = {n["name"]: n for n in data["nodes"]}
    assert all(v.grad == 0.0 for v in order)  # writing the page ran no backward pass
    fresh = parse(SRC)  # the numbers the page shows: those of one backward() on the same graph
    fresh.root.backward()
    for name, v in fresh.names.items():
        assert by_name[name]["grad"] == f"{v.grad:.4f}"
        assert by_name[name]["data"] == f"{v.data:.4f}"
        assert by_name[name]["grad_value"] == pytest.approx(v.grad)
    phases = [f["phase"] for f in data["frames"]]
    assert phases == ["start"] + ["forward"] * 3 + ["seed"] + ["backward"] * 3 + ["done"]
    last_backward = data["frames"][7]
    assert "dL/dx += dL/dn1 · ∂n1/∂x = 0.5000 · -3.0000 = -1.5000" in last_backward["lines"]
    assert last_backward["grads"][by_name["x"]["id"]] == "-1.5000"
    assert by_name["x"]["sum"] == "dL/dx = -1.5000 (from n1) = -1.5000"
    # every node and op node of the step data is in the SVG under the same id
    for n in data["nodes"]:
        assert f'id="{n["id"]}"' in pg.html
    for f in data["frames"]:
        for e in f["edges"]:
            assert f'id="{e}"' in pg.html


def test_user_labels_are_escaped(tmp_path):
    need_dot()
    evil = "<script>alert(1)</script>"
    x = tv.Value(1.0, label=evil)
    y = (x * 2.0).tanh()
    y.label = "</script><img onerror=alert(2)>"
    pg = tv.backprop_html(y, None, title="<b>t</b>", source="a < b & c")
    text = pg.html
    assert evil not in text and "<img" not in text and "<b>t</b>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text  # in the SVG, as text
    assert "&lt;b&gt;t&lt;/b&gt;" in text and "a &lt; b &amp; c" in text
    # exactly the page's own two scripts
    assert len(re.findall(r"<script\b", text)) == 2
    assert len(re.findall(r"</script>", text)) == 2
    data = page_data(text)  # the JSON block survives and decodes back to the raw labels
    assert {n["label"] for n in data["nodes"]} >= {evil, "</script><img onerror=alert(2)>"}
    assert pg.path is None


def test_repr_html_is_an_isolated_iframe(page):
    pg, _ = page
    r = pg._repr_html_()
    assert r.startswith("<iframe srcdoc=") and 'sandbox="allow-scripts"' in r
    srcdoc = re.search(r'srcdoc="(.*?)"', r, re.DOTALL).group(1)
    assert html.unescape(srcdoc) == pg.html
    assert "<script" not in r  # escaped inside the attribute
    assert "steps" in repr(pg)


def test_non_finite_values_travel_as_strings(tmp_path):
    need_dot()
    x = tv.Value(1000.0, label="x")
    y = x.exp()  # inf
    pg = tv.backprop_html(y)
    data = page_data(pg.html)
    assert "inf" in {n["data"] for n in data["nodes"]}
    assert "Infinity" not in pg.html.split('id="tv-data">')[1].split("</script>")[0]


def test_too_large_a_graph_is_refused(tmp_path):
    v = tv.Value(1.0)
    for _ in range(1000):
        v = v + 1.0
    with pytest.raises(ValueError, match="max_nodes"):
        tv.backprop_html(v, tmp_path / "big.html")
    assert not (tmp_path / "big.html").exists()
