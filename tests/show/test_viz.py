"""draw_dot's DOT text: records, op nodes, data-flow edges, kinds, clusters, escaping, limits."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from conftest import need_dot

import tinygrad_value as tv
from tinygrad_value.show.viz import GraphTooLarge, GraphvizNotFound, clusters, escape_record


def neuron(prefix=""):
    x1, x2 = tv.Value(2.0, label="x1"), tv.Value(0.0, label="x2")
    w1 = tv.Value(-3.0, label=f"{prefix}w1")
    w2 = tv.Value(1.0, label=f"{prefix}w2")
    b = tv.Value(6.8813735870195432, label=f"{prefix}b")
    n = x1 * w1 + x2 * w2 + b
    o = n.tanh()
    o.label = f"{prefix}out" if prefix else "o"
    o.backward()
    return o, {"x1": x1, "x2": x2, "w1": w1, "w2": w2, "b": b, "n": n}


def node_line(source: str, node_id: str) -> str:
    (line,) = [ln for ln in source.splitlines() if ln.strip().startswith(node_id + " [")]
    return line


def ids_by_label(root):
    return {v.label: f"v{i}" for i, v in enumerate(tv.topo_order(root)) if v.label}


def test_one_record_per_value_with_label_data_grad():
    o, vs = neuron()
    src = tv.draw_dot(o).source
    ids = ids_by_label(o)
    assert "{ x1 | data 2.0000 | grad -1.5000 }" in node_line(src, ids["x1"])
    assert "{ w1 | data -3.0000 | grad 1.0000 }" in node_line(src, ids["w1"])
    assert "{ o | data 0.7071 | grad 1.0000 }" in node_line(src, ids["o"])
    n_values = len(tv.topo_order(o))
    assert len(re.findall(r"^\s*v\d+ \[", src, re.MULTILINE)) == n_values
    assert src.count("shape=record") == n_values


def test_one_op_node_per_interior_value_and_edges_in_data_flow_direction():
    o, vs = neuron()
    src = tv.draw_dot(o).source
    order = tv.topo_order(o)
    interior = [v for v in order if v.children]
    assert len(re.findall(r"^\s*v\d+_op \[", src, re.MULTILINE)) == len(interior)
    ids = ids_by_label(o)
    o_id = ids["o"]
    assert re.search(rf"^\s*{o_id}_op \[label=tanh", src, re.MULTILINE)
    assert re.search(rf"^\s*{o_id}_op -> {o_id} ", src, re.MULTILINE)  # op -> its result
    assert re.search(rf"^\s*{ids['x1']} -> v\d+_op ", src, re.MULTILINE)  # input -> the op using it
    n_edges = sum(len(v.children) + 1 for v in interior)
    assert len(re.findall(r" -> ", src)) == n_edges


def test_reuse_draws_two_edges():
    x = tv.Value(3.0, label="x")
    y = x * x
    src = tv.draw_dot(y).source
    assert len(re.findall(r"^\s*v0 -> v1_op ", src, re.MULTILINE)) == 2


def test_ids_can_be_given_so_a_page_and_its_drawing_agree():
    o, vs = neuron()
    given = {v: f"node_{v.label or 'anon'}_{i}" for i, v in enumerate(tv.topo_order(o))}
    src = tv.draw_dot(o, ids=given).source
    assert "{ x1 | data 2.0000 | grad -1.5000 }" in node_line(src, given[vs["x1"]])
    assert f"{given[vs['n']]}_op -> {given[vs['n']]}" in src
    with pytest.raises(ValueError, match="every Value"):
        tv.draw_dot(o, ids={o: "v0"})


def test_edges_drawn_without_gradient_ink_have_the_same_ids():
    o, _ = neuron()
    inked, plain = tv.draw_dot(o).source, tv.draw_dot(o, grad_edges=False).source
    edge_ids = re.compile(r'id=(v\d+_(?:in\d+|out))')
    assert edge_ids.findall(plain) == edge_ids.findall(inked) != []


def test_leaves_parameters_constants_and_output_look_different():
    x = tv.Value(1.0, label="x")
    w = tv.Value(2.0, label="layer1.neuron0.w[0]")
    y = (x * w + 3.0).tanh()
    y.label = "y"
    y.backward()
    src = tv.draw_dot(y).source
    ids = ids_by_label(y)
    const_id = next(f"v{i}" for i, v in enumerate(tv.topo_order(y))
                    if not v.label and not v.children)
    fills = {k: re.search(r'fillcolor="([^"]+)"', node_line(src, i)).group(1)
             for k, i in [("input", ids["x"]), ("param", ids["layer1.neuron0.w[0]"]),
                          ("output", ids["y"]), ("const", const_id)]}
    assert len(set(fills.values())) == 4
    assert "penwidth=2.5" in node_line(src, ids["y"])


def test_edge_ink_grows_with_gradient():
    a, b = tv.Value(1.0, label="a"), tv.Value(1.0, label="b")
    y = a * 10.0 + b * 0.1
    y.backward()
    src = tv.draw_dot(y).source

    def width(edge_line_pattern):
        line = next(ln for ln in src.splitlines() if re.search(edge_line_pattern, ln))
        return float(re.search(r"penwidth=([\d.]+)", line).group(1))

    ids = ids_by_label(y)
    assert width(rf"^\s*{ids['a']} -> ") > width(rf"^\s*{ids['b']} -> ")
    src_plain = tv.draw_dot(y, grad_edges=False).source
    assert "penwidth=4" not in src_plain


def test_number_format_options_and_rankdir():
    o, _ = neuron()
    assert "data 2.00 " in tv.draw_dot(o, decimals=2).source
    assert "data 2.000e+00" in tv.draw_dot(o, fmt="{:.3e}").source
    tb = tv.draw_dot(o, rankdir="TB").source
    assert "rankdir=TB" in tb and "{ x1 |" not in tb and "x1 | data 2.0000" in tb
    with pytest.raises(ValueError):
        tv.draw_dot(o, rankdir="sideways")


def test_clusters_group_a_neuron_and_nest_in_its_layer():
    o, vs = neuron(prefix="layer1.neuron3.")
    src = tv.draw_dot(o).source
    assert re.search(r"subgraph cluster_layer1 \{", src)
    assert re.search(r'subgraph "cluster_layer1\.neuron3" \{', src)
    assert src.index("subgraph cluster_layer1 {") < src.index('subgraph "cluster_layer1.neuron3"')
    where = clusters(tv.topo_order(o))
    assert where[vs["w1"]] == where[vs["b"]] == where[o] == "layer1.neuron3"
    assert where[vs["n"]] == "layer1.neuron3"  # unlabelled interior node claimed by the walk
    assert vs["x1"] not in where  # inputs without a dotted label stay outside
    # and in the DOT text, the claimed node sits inside the neuron's block
    block = src[src.index('subgraph "cluster_layer1.neuron3"'):]
    n_id = f"v{tv.topo_order(o).index(vs['n'])}"
    x_id = ids_by_label(o)["x1"]
    assert re.search(rf"^\s*{n_id} \[", block, re.MULTILINE)
    assert not re.search(rf"^\s*{x_id} \[", block, re.MULTILINE)


def test_walk_stops_at_labelled_nodes_and_leaves_constants_outside():
    x = tv.Value(1.0, label="x")
    h = (x * 2.0).tanh()
    h.label = "hidden"  # labelled, no dots: belongs to no cluster and stops the walk
    y = h * tv.Value(0.5, label="layer2.neuron0.w[0]") + 1.0
    y.label = "layer2.neuron0.out"
    where = clusters(tv.topo_order(y))
    assert h not in where
    assert where[y] == "layer2.neuron0"
    mul = y.children[0]
    assert where[mul] == "layer2.neuron0"
    const = y.children[1]
    assert const not in where
    assert tv.draw_dot(y, cluster=False).source.count("subgraph") == 0


@pytest.mark.parametrize("label", ['<script>alert(1)</script>', '{a|b}', 'say "hi"', 'back\\slash',
                                   'ends with \\', '<<b>html</b>>', 'two\nlines', '|', '"'])
def test_labels_are_escaped_and_dot_accepts_them(label):
    need_dot()
    x = tv.Value(1.0, label=label)
    y = x * 2.0
    y.label = label
    g = tv.draw_dot(y)
    svg = g.pipe(format="svg").decode()
    assert "data 1.0000" in svg and "data 2.0000" in svg
    assert "<script>" not in svg


def test_escape_record():
    assert escape_record('a{b}|<c>"d\\') == 'a\\{b\\}\\|\\<c\\>\\"d\\\\'
    assert escape_record("x" * 100).endswith("…") and len(escape_record("x" * 100)) == 40


def test_max_nodes_raises_a_clear_value_error_quickly():
    v = tv.Value(1.0)
    for _ in range(200_000):
        v = v + 1.0
    with pytest.raises(GraphTooLarge) as info:
        tv.draw_dot(v, max_nodes=50)
    assert isinstance(info.value, ValueError)
    assert "max_nodes=50" in str(info.value) and "smaller" in str(info.value)
    with pytest.raises(ValueError):
        tv.draw_dot(v)  # the default limit applies too


def test_render_graph_svg_png_and_dot(tmp_path):
    need_dot()
    o, _ = neuron()
    svg = tv.render_graph(o, tmp_path / "g.svg")
    assert svg.read_text().lstrip().startswith("<?xml") and "data 0.7071" in svg.read_text()
    png = tv.render_graph(o, tmp_path / "sub" / "g.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    dot = tv.render_graph(o, tmp_path / "g.dot")
    assert dot.read_text().startswith("digraph")
    with pytest.raises(ValueError, match="suffix|format"):
        tv.render_graph(o, tmp_path / "g.jpeg")
    assert not [p for p in tmp_path.rglob("*.tmp")]


def test_missing_dot_binary_gives_install_hint_and_keeps_the_source(tmp_path, monkeypatch):
    o, _ = neuron()
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    with pytest.raises(GraphvizNotFound) as info:
        tv.render_graph(o, tmp_path / "g.svg")
    msg = str(info.value)
    assert "apt-get install graphviz" in msg and "brew install graphviz" in msg
    assert (tmp_path / "g.dot").read_text().startswith("digraph")
    assert info.value.source.startswith("digraph")
    assert o._repr_svg_() is None  # Jupyter falls back to the text repr


def test_value_renders_inline_in_jupyter():
    need_dot()
    o, _ = neuron()
    svg = o._repr_svg_()
    assert svg is not None and "<svg" in svg and "data 0.7071" in svg
    v = tv.Value(1.0)
    for _ in range(500):
        v = v * 1.0
    assert v._repr_svg_() is None  # too big to show inline: the plain repr is used


def test_import_does_not_load_graphviz():
    code = "import sys, tinygrad_value; print('graphviz' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_list_instead_of_a_value_names_the_mistake_and_the_fix(tmp_path):
    v = tv.Value(1.0, label="v") * 2.0
    fix = r"render_graph\(v, \.\.\.\) instead of render_graph\(\[v\]"
    with pytest.raises(TypeError, match=fix):
        tv.render_graph([v], tmp_path / "g.svg")
    with pytest.raises(TypeError, match=r"tv\.sum\(values\)"):
        tv.draw_dot([v, v])
    with pytest.raises(TypeError, match="got float"):
        tv.draw_dot(1.5)


HOSTILE_PREFIXES = ["<B>w</B>.w", "a\\.w", '<image xlink:href="http://evil.example/x.png"/>.w',
                    "<<table>>.w", 'q"uote.w', "x\\\\.w"]


@pytest.mark.parametrize("label", HOSTILE_PREFIXES)
def test_cluster_names_are_escaped_like_every_label(label, tmp_path):
    need_dot()
    w = tv.Value(2.0, label=label)
    o = w * tv.Value(3.0, label="x")
    path = tv.render_graph(o, tmp_path / "g.svg")  # no CalledProcessError / DotError
    text = path.read_text(encoding="utf-8")
    assert "<image" not in text and "<b>" not in text.lower() and "<table" not in text.lower()
    prefix = label.rsplit(".", 1)[0]
    shown = prefix.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert f">{shown.replace(chr(34), '&quot;')}</text>" in text  # the cluster title, literally
    page = tv.backprop_html(o, tmp_path / "p.html")
    assert "<image" not in page.html


def _fake_dot(tmp_path, body: str) -> str:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    exe = bin_dir / "dot"
    exe.write_text(f"#!{sys.executable}\nimport sys, time\n{body}\n")
    exe.chmod(0o755)
    return str(bin_dir)


def test_dot_that_hangs_is_stopped_by_the_time_limit(tmp_path, monkeypatch):
    from tinygrad_value.show.rundot import DotError, run_dot

    monkeypatch.setenv("PATH", _fake_dot(tmp_path, "time.sleep(30)"))
    o, _ = neuron()
    with pytest.raises(DotError, match="longer than 0.5 s"):
        run_dot(tv.draw_dot(o).source, "svg", timeout=0.5)


def test_dot_that_fails_says_what_dot_said(tmp_path, monkeypatch):
    from tinygrad_value.show.rundot import DotError

    monkeypatch.setenv("PATH", _fake_dot(tmp_path, "sys.stderr.write('syntax error in line 3')\n"
                                                   "sys.exit(1)"))
    o, _ = neuron()
    with pytest.raises(DotError, match="exit 1.*syntax error in line 3"):
        tv.render_graph(o, tmp_path / "g.svg")
    assert not (tmp_path / "g.svg").exists()
