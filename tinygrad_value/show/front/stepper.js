// The stepper's front-end, one copy for the offline page (backprop_html) and the notebook widget
// (StepperWidget). tvMountStepper(root, D, opts) brings the markup of stepper.html inside `root`
// to life with the step data D; every lookup is scoped to root, so several steppers can share a
// document. It only ever sets textContent, never innerHTML: labels from users stay text.
// opts.keys: where arrow keys are heard (the page: document; a widget: its own element);
// opts.mirror: an element that also gets data-frame/data-current; opts.onStep(k): called when
// the learner moves to frame k; opts.start: the first frame (else D.start, else 0). When D has
// `nudges` or `quiz` (made in Python: nudge.py, quiz_page.py), their panels are mounted too
// (nudge.js, quiz.js, concatenated after this file). Returns { show, select, current, frames,
// nodes, overlay, nudges, quiz }.
function tvMountStepper(root, D, opts) {
  "use strict";
  opts = opts || {};
  var frames = D.frames, nodes = D.nodes, byId = {};
  var has = function (o, k) { return Object.prototype.hasOwnProperty.call(o, k); };
  function q(id) { return root.querySelector("#" + id); }
  var slider = q("tv-slider"), prevBtn = q("tv-prev"), nextBtn = q("tv-next");
  var graphBox = q("tv-graph"), zoomBtn = q("tv-zoom");
  var cur = 0, selected = null, natural = false;
  // numbers shown on top of the frame's own: overlays.data (a nudged forward pass) and
  // overlays.grad (gradients the learner has found in the quiz), {node id: text} each
  var overlays = { data: {}, grad: {} };

  function lastText(g, prefix) {  // the record field whose text starts with prefix
    var found = null, texts = g.getElementsByTagName("text");
    for (var i = 0; i < texts.length; i++) {
      if (texts[i].textContent.indexOf(prefix) === 0) { found = texts[i]; }
    }
    return found;
  }
  nodes.forEach(function (n) {
    byId[n.id] = n;
    n.g = graphBox.querySelector('[id="' + n.id + '"]');
    n.opG = graphBox.querySelector('[id="' + n.id + '_op"]');
    if (!n.g) { return; }
    n.dataText = lastText(n.g, "data ");
    n.gradText = lastText(n.g, "grad ");
    n.g.addEventListener("click", function () { select(n.id); });
    if (n.opG) { n.opG.addEventListener("click", function () { select(n.id); }); }
  });

  function setText(id, text) { q(id).textContent = text; }
  function mark(name, value) {
    root.setAttribute(name, value);
    if (opts.mirror) { opts.mirror.setAttribute(name, value); }
  }

  // Everything known after frame k: values computed so far, gradients as accumulated so far.
  function stateAt(k) {
    var data = {}, grads = {}, id;
    for (var i = 0; i <= k; i++) {
      for (id in frames[i].data) { data[id] = frames[i].data[id]; }
      for (id in frames[i].grads) { grads[id] = frames[i].grads[id]; }
    }
    return { data: data, grads: grads };
  }

  function show(k, quiet) {
    k = Math.max(0, Math.min(frames.length - 1, k | 0));
    var moved = k !== cur;
    cur = k;
    var f = frames[k], s = stateAt(k);
    var active = {}, targets = {}, fresh = {};
    (f.edges || []).forEach(function (e) { active[e] = true; });
    (f.targets || []).forEach(function (t) { targets[t] = true; });
    Object.keys(f.grads).concat(Object.keys(f.data)).forEach(function (t) { fresh[t] = true; });
    nodes.forEach(function (n) {
      if (!n.g) { return; }
      var known = has(s.data, n.id), hasGrad = has(s.grads, n.id);
      var nudged = has(overlays.data, n.id), found = has(overlays.grad, n.id);
      if (nudged) { known = true; }
      if (n.dataText) {
        n.dataText.textContent = "data " + (nudged ? overlays.data[n.id] : known ? s.data[n.id] : "?");
      }
      if (n.gradText) {
        n.gradText.textContent = "grad " + (found ? overlays.grad[n.id] : hasGrad ? s.grads[n.id] : "?");
      }
      n.g.classList.toggle("tv-nudged", nudged);
      n.g.classList.toggle("tv-found", found);
      n.g.classList.toggle("tv-pending", !known);
      n.g.classList.toggle("tv-current", n.id === f.node);
      n.g.classList.toggle("tv-target", !!targets[n.id]);
      n.g.classList.toggle("tv-fresh", !!fresh[n.id]);
      if (n.opG) { n.opG.classList.toggle("tv-current", n.id === f.node); }
    });
    var edges = graphBox.querySelectorAll("g.edge");
    for (var i = 0; i < edges.length; i++) {
      edges[i].classList.toggle("tv-active", !!active[edges[i].id]);
    }
    setText("tv-step-title", f.title);
    setText("tv-step-lines", f.lines.join("\n"));
    setText("tv-counter", "step " + k + " / " + (frames.length - 1));
    var phase = q("tv-phase");
    phase.textContent = f.phase;
    phase.className = f.phase;
    slider.value = String(k);
    prevBtn.disabled = k === 0;
    nextBtn.disabled = k === frames.length - 1;
    if (natural && f.node && byId[f.node] && byId[f.node].g) {  // keep the step in view
      byId[f.node].g.scrollIntoView({ block: "nearest", inline: "center" });
    }
    mark("data-frame", String(k));
    mark("data-current", f.node || "");
    if (selected) { select(selected); }
    if (moved && !quiet && opts.onStep) { opts.onStep(k); }
  }

  // The clicked node, as it stands at the current frame: what is not computed yet says so.
  function select(id) {
    var n = byId[id];
    if (!n) { return; }
    if (selected && byId[selected] && byId[selected].g) {
      byId[selected].g.classList.remove("tv-selected");
    }
    selected = id;
    if (n.g) { n.g.classList.add("tv-selected"); }
    setText("tv-node-title", n.title + "  (" + n.kind + ")");
    var box = q("tv-node-info"), s = stateAt(cur);
    box.textContent = "";
    function line(text, cls) {
      var span = document.createElement("span");
      span.textContent = text + "\n";
      if (cls) { span.className = cls; }
      box.appendChild(span);
    }
    var dL = "dL/d" + n.name;
    line(has(s.data, id) ? n.formula : n.definition + "   (value not yet computed)");
    var done = n.contribs.filter(function (c) { return c.frame <= cur; });
    if (D.quiz && !has(s.grads, id)) {
      line(dL + " = ?   (the quiz asks for it)", "tv-future");
    } else if (!has(s.grads, id)) {
      var when = n.contribs.length ? n.contribs[0].frame : D.seed;
      line(dL + " = ? (not yet: the backward pass reaches it at step " + when + ")", "tv-future");
    } else if (id === D.root || done.length === n.contribs.length) {
      line(n.sum);
    } else {
      line(dL + " so far = " + done.map(function (c) { return c.part; }).join(" + ") + " = " +
           s.grads[id] + "   (not yet complete: " + (n.contribs.length - done.length) +
           " more to come)");
    }
    n.contribs.forEach(function (c) {
      var later = c.frame > cur;
      line("  step " + c.frame + ": " + c.text + (later ? "   (not yet)" : ""),
           later ? "tv-future" : "");
    });
  }

  // Fit the graph to its box unless that would shrink it past reading; then full size.
  var svgEl = graphBox.querySelector("svg");
  function setNatural(on) {
    natural = on;
    graphBox.classList.toggle("tv-natural", on);
    zoomBtn.textContent = on ? "Fit to window" : "Full size";
  }
  function fit() {
    if (!svgEl) { return; }
    if (!graphBox.clientWidth) { requestAnimationFrame(fit); return; }  // not laid out yet
    var fullWidth = parseFloat(svgEl.getAttribute("width")) * 4 / 3;  // pt -> px
    setNatural(fullWidth > 0 && graphBox.clientWidth / fullWidth < 0.5);
  }
  fit();
  zoomBtn.addEventListener("click", function () { setNatural(!natural); show(cur); });
  prevBtn.addEventListener("click", function () { show(cur - 1); });
  nextBtn.addEventListener("click", function () { show(cur + 1); });
  slider.addEventListener("input", function () { show(parseInt(slider.value, 10)); });
  (opts.keys || root).addEventListener("keydown", function (e) {
    if (e.target && e.target.tagName === "INPUT") { return; }  // the slider handles its own keys
    if (e.key === "ArrowRight" || e.key === "ArrowDown" || e.key === " ") { show(cur + 1); }
    else if (e.key === "ArrowLeft" || e.key === "ArrowUp") { show(cur - 1); }
    else if (e.key === "Home") { show(0); }
    else if (e.key === "End") { show(frames.length - 1); }
    else { return; }
    e.preventDefault();
  });
  // Replace one overlay ("data" or "grad") with {node id: text} and redraw.
  function overlay(kind, map) { overlays[kind] = map || {}; show(cur, true); }
  cur = -1;
  show(opts.start !== undefined ? opts.start : (D.start || 0), true);
  var api = { show: show, select: select, frames: frames, nodes: nodes, overlay: overlay,
              current: function () { return cur; } };
  if (D.nudges) { api.nudges = tvMountNudges(root, D.nudges, api, opts); }
  if (D.quiz) { api.quiz = tvMountQuiz(root, D.quiz, api, opts); }
  return api;
}
