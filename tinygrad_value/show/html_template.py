"""The stepper page's HTML skeleton, CSS and JavaScript (kept in a module, so no package data).

``html.py`` fills the ``$``-placeholders with ``string.Template``: already-escaped text, the SVG
drawn by graphviz, and the step data as JSON. The script only ever sets ``textContent``, never
``innerHTML``, so labels from users cannot become markup.
"""

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$title</title>
<style>
$css
</style>
</head>
<body>
<header>
  <h1>$title</h1>
  <p id="tv-source">$source</p>
</header>
<nav id="tv-controls" aria-label="steps">
  <button id="tv-prev" type="button" title="previous step (left arrow)">&#9664; Prev</button>
  <button id="tv-next" type="button" title="next step (right arrow)">Next &#9654;</button>
  <input id="tv-slider" type="range" min="0" max="$last" value="0" step="1" aria-label="step">
  <span id="tv-counter"></span>
  <span id="tv-phase"></span>
  <button id="tv-zoom" type="button" title="fit the graph to the window, or show it full size">Full size</button>
</nav>
<section id="tv-step" aria-live="polite">
  <h2 id="tv-step-title"></h2>
  <pre id="tv-step-lines"></pre>
</section>
<main id="tv-graph">
$svg
</main>
<section id="tv-details">
  <h2 id="tv-node-title">Click a node</h2>
  <pre id="tv-node-info">to see its gradient as the sum of the contributions it receives.</pre>
</section>
<footer>
  <span class="tv-key tv-input">input</span>
  <span class="tv-key tv-param">parameter</span>
  <span class="tv-key tv-const">constant</span>
  <span class="tv-key tv-output">output L</span>
  <span class="tv-key tv-current">current step</span>
  <span>&larr; / &rarr; keys step, Home / End jump. "?" = not computed yet.</span>
</footer>
<script type="application/json" id="tv-data">$data</script>
<script>
$js
</script>
</body>
</html>
"""

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
       margin: 0; padding: 12px 18px; color: #111827; background: #fafafa; }
header h1 { font-size: 20px; margin: 0 0 4px; }
#tv-source { font-family: ui-monospace, Menlo, Consolas, monospace; color: #374151; margin: 0 0 10px;
             white-space: pre-wrap; }
#tv-controls { display: flex; gap: 10px; align-items: center; flex-wrap: wrap; margin-bottom: 8px; }
#tv-controls button { font-size: 15px; padding: 4px 14px; border-radius: 6px; border: 1px solid #9ca3af;
                      background: #fff; cursor: pointer; }
#tv-controls button:disabled { opacity: .4; cursor: default; }
#tv-slider { flex: 1 1 240px; max-width: 520px; }
#tv-counter { font-variant-numeric: tabular-nums; min-width: 6em; }
#tv-phase { font-weight: 600; padding: 1px 8px; border-radius: 10px; background: #e5e7eb; }
#tv-phase.forward { background: #dbeafe; } #tv-phase.backward { background: #fee2e2; }
#tv-step, #tv-details { background: #fff; border: 1px solid #e5e7eb; border-radius: 8px;
                        padding: 6px 12px; margin: 6px 0; }
#tv-step h2, #tv-details h2 { font-size: 15px; margin: 4px 0; }
#tv-step pre, #tv-details pre { margin: 4px 0; font-size: 14px; white-space: pre-wrap; }
#tv-graph { overflow: auto; background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; }
#tv-graph svg { max-width: 100%; height: auto; display: block; margin: auto; }
#tv-graph.tv-natural { max-height: 75vh; }
#tv-graph.tv-natural svg { max-width: none; }
#tv-graph .node { cursor: pointer; }
#tv-graph .node.tv-pending polygon, #tv-graph .node.tv-pending text { opacity: .35; }
#tv-graph .node.tv-current polygon, #tv-graph .node.tv-current ellipse {
  stroke: #e11d48; stroke-width: 4px; }
#tv-graph .node.tv-target polygon { stroke: #f59e0b; stroke-width: 3px; }
#tv-graph .node.tv-selected polygon { stroke-dasharray: 5 3; stroke: #2563eb; stroke-width: 3px; }
#tv-graph .edge.tv-active path { stroke: #e11d48; stroke-width: 3px; }
#tv-graph .edge.tv-active polygon { stroke: #e11d48; fill: #e11d48; }
#tv-graph .node.tv-fresh text { font-weight: 700; }
.tv-future { color: #9ca3af; }
footer { margin-top: 8px; font-size: 13px; color: #4b5563; display: flex; gap: 12px; flex-wrap: wrap; }
.tv-key { padding: 1px 8px; border: 1px solid #9ca3af; border-radius: 4px; }
.tv-input { background: #dbeafe; } .tv-param { background: #fde68a; } .tv-const { background: #f3f4f6; }
.tv-output { background: #bbf7d0; border-width: 2px; } .tv-current { border: 3px solid #e11d48; }
"""

JS = r"""
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("tv-data").textContent);
  var frames = D.frames, nodes = D.nodes, byId = {};
  var slider = document.getElementById("tv-slider");
  var prevBtn = document.getElementById("tv-prev"), nextBtn = document.getElementById("tv-next");
  var cur = 0, selected = null;

  function lastText(g, prefix) {  // the record field whose text starts with prefix
    var found = null, texts = g.getElementsByTagName("text");
    for (var i = 0; i < texts.length; i++) {
      if (texts[i].textContent.indexOf(prefix) === 0) { found = texts[i]; }
    }
    return found;
  }
  nodes.forEach(function (n) {
    byId[n.id] = n;
    n.g = document.getElementById(n.id);
    n.opG = document.getElementById(n.id + "_op");
    if (!n.g) { return; }
    n.dataText = lastText(n.g, "data ");
    n.gradText = lastText(n.g, "grad ");
    n.g.addEventListener("click", function () { select(n.id); });
    if (n.opG) { n.opG.addEventListener("click", function () { select(n.id); }); }
  });

  function setText(id, text) { document.getElementById(id).textContent = text; }

  // Everything known after frame k: values computed so far, gradients as accumulated so far.
  function stateAt(k) {
    var data = {}, grads = {}, id;
    for (var i = 0; i <= k; i++) {
      for (id in frames[i].data) { data[id] = frames[i].data[id]; }
      for (id in frames[i].grads) { grads[id] = frames[i].grads[id]; }
    }
    return { data: data, grads: grads };
  }

  function show(k) {
    k = Math.max(0, Math.min(frames.length - 1, k | 0));
    cur = k;
    var f = frames[k], s = stateAt(k);
    var active = {}, targets = {}, fresh = {};
    (f.edges || []).forEach(function (e) { active[e] = true; });
    (f.targets || []).forEach(function (t) { targets[t] = true; });
    Object.keys(f.grads).concat(Object.keys(f.data)).forEach(function (t) { fresh[t] = true; });
    nodes.forEach(function (n) {
      if (!n.g) { return; }
      var known = Object.prototype.hasOwnProperty.call(s.data, n.id);
      var hasGrad = Object.prototype.hasOwnProperty.call(s.grads, n.id);
      if (n.dataText) { n.dataText.textContent = "data " + (known ? s.data[n.id] : "?"); }
      if (n.gradText) { n.gradText.textContent = "grad " + (hasGrad ? s.grads[n.id] : "?"); }
      n.g.classList.toggle("tv-pending", !known);
      n.g.classList.toggle("tv-current", n.id === f.node);
      n.g.classList.toggle("tv-target", !!targets[n.id]);
      n.g.classList.toggle("tv-fresh", !!fresh[n.id]);
      if (n.opG) { n.opG.classList.toggle("tv-current", n.id === f.node); }
    });
    var edges = document.querySelectorAll("#tv-graph g.edge");
    for (var i = 0; i < edges.length; i++) {
      edges[i].classList.toggle("tv-active", !!active[edges[i].id]);
    }
    setText("tv-step-title", f.title);
    setText("tv-step-lines", f.lines.join("\n"));
    setText("tv-counter", "step " + k + " / " + (frames.length - 1));
    var phase = document.getElementById("tv-phase");
    phase.textContent = f.phase;
    phase.className = f.phase;
    slider.value = String(k);
    prevBtn.disabled = k === 0;
    nextBtn.disabled = k === frames.length - 1;
    if (natural && f.node && byId[f.node] && byId[f.node].g) {  // keep the step in view
      byId[f.node].g.scrollIntoView({ block: "nearest", inline: "center" });
    }
    document.body.setAttribute("data-frame", String(k));
    document.body.setAttribute("data-current", f.node || "");
    if (selected) { select(selected); }
  }

  function select(id) {
    var n = byId[id];
    if (!n) { return; }
    if (selected && byId[selected] && byId[selected].g) {
      byId[selected].g.classList.remove("tv-selected");
    }
    selected = id;
    if (n.g) { n.g.classList.add("tv-selected"); }
    setText("tv-node-title", n.name + "  (" + n.kind + ")");
    var box = document.getElementById("tv-node-info");
    box.textContent = "";
    function line(text, cls) {
      var span = document.createElement("span");
      span.textContent = text + "\n";
      if (cls) { span.className = cls; }
      box.appendChild(span);
    }
    line(n.formula);
    line(n.sum);
    n.contribs.forEach(function (c) {
      var later = c.frame > cur;
      line("  step " + c.frame + ": " + c.text + (later ? "   (not yet)" : ""),
           later ? "tv-future" : "");
    });
  }

  // Fit the graph to the window unless that would shrink it past reading; then full size.
  var graphBox = document.getElementById("tv-graph"), zoomBtn = document.getElementById("tv-zoom");
  var svgEl = graphBox.querySelector("svg"), natural = false;
  function setNatural(on) {
    natural = on;
    graphBox.classList.toggle("tv-natural", on);
    zoomBtn.textContent = on ? "Fit to window" : "Full size";
  }
  if (svgEl) {
    var fullWidth = parseFloat(svgEl.getAttribute("width")) * 4 / 3;  // pt -> px
    setNatural(fullWidth > 0 && graphBox.clientWidth / fullWidth < 0.5);
  }
  zoomBtn.addEventListener("click", function () { setNatural(!natural); show(cur); });
  prevBtn.addEventListener("click", function () { show(cur - 1); });
  nextBtn.addEventListener("click", function () { show(cur + 1); });
  slider.addEventListener("input", function () { show(parseInt(slider.value, 10)); });
  document.addEventListener("keydown", function (e) {
    if (e.target && e.target.tagName === "INPUT") { return; }  // the slider handles its own keys
    if (e.key === "ArrowRight" || e.key === "ArrowDown" || e.key === " ") { show(cur + 1); }
    else if (e.key === "ArrowLeft" || e.key === "ArrowUp") { show(cur - 1); }
    else if (e.key === "Home") { show(0); }
    else if (e.key === "End") { show(frames.length - 1); }
    else { return; }
    e.preventDefault();
  });
  window.tvStepper = { show: show, select: select, frames: frames, nodes: nodes,
                       current: function () { return cur; } };
  show(0);
})();
"""
