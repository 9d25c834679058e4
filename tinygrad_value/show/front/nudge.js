// The nudge panel (shared by the page and the widget): pick a leaf and a step h; the graph shows
// every downstream node's new value and the panel ΔL beside grad·h for each h. Every number was
// computed and formatted in Python (nudge.py); this only picks which ones to show.
// tvMountNudges(root, N, stepper, opts): opts.onNudge(leafName, h) is told of the learner's
// choice ("" and 0 when cleared). Returns { set(leafName, h), clear(), current() }.
function tvMountNudges(root, N, stepper, opts) {
  "use strict";
  function q(id) { return root.querySelector("#" + id); }
  var leafSel = q("tv-nudge-leaf"), hSel = q("tv-nudge-h"), table = q("tv-nudge-table");
  var chosen = null;  // { leaf, k } or null
  function option(sel, value, text) {
    var o = document.createElement("option");
    o.value = value; o.textContent = text; sel.appendChild(o);
  }
  option(leafSel, "", "(none)");
  N.leaves.forEach(function (leaf, i) {
    option(leafSel, String(i), leaf.name + "   (dL/d" + leaf.name + " = " + leaf.grad + ")");
  });
  N.hs.forEach(function (h, k) { option(hSel, String(k), h); });

  function cell(tr, text, tag) {
    var td = document.createElement(tag || "td");
    td.textContent = text; tr.appendChild(td);
  }
  function render() {
    table.textContent = "";
    var lines = q("tv-nudge-lines"), summary = q("tv-nudge-summary");
    if (!chosen) {
      summary.textContent = "Pick a leaf to nudge it by h and see every value downstream move.";
      lines.textContent = "";
      root.setAttribute("data-nudge", "");
      stepper.overlay("data", {});
      return;
    }
    var leaf = N.leaves[chosen.leaf], e = leaf.nudges[chosen.k];
    var head = document.createElement("tr");
    ["h", "ΔL", "dL/d" + leaf.name + " · h", "ratio"].forEach(function (t) { cell(head, t, "th"); });
    table.appendChild(head);
    leaf.nudges.forEach(function (n, k) {
      var tr = document.createElement("tr");
      if (k === chosen.k) { tr.className = "tv-chosen"; }
      cell(tr, n.h);
      if (n.error) { cell(tr, n.error); cell(tr, ""); cell(tr, ""); }
      else { cell(tr, n.dL); cell(tr, n.guess); cell(tr, n.ratio); }
      table.appendChild(tr);
    });
    summary.textContent = e.error || e.summary;
    lines.textContent = e.error ? "" : e.lines.join("\n");
    root.setAttribute("data-nudge", leaf.name + " " + e.h);
    stepper.overlay("data", e.error ? {} : e.values);
  }
  function tell() {
    if (!opts.onNudge) { return; }
    if (!chosen) { opts.onNudge("", 0); return; }
    opts.onNudge(N.leaves[chosen.leaf].name, N.leaves[chosen.leaf].nudges[chosen.k].h_value);
  }
  function fromControls() {
    chosen = leafSel.value === "" ? null
      : { leaf: parseInt(leafSel.value, 10), k: parseInt(hSel.value, 10) };
    render();
    tell();
  }
  leafSel.addEventListener("change", fromControls);
  hSel.addEventListener("change", fromControls);
  q("tv-nudge-clear").addEventListener("click", function () { leafSel.value = ""; fromControls(); });

  // Show leaf `name` nudged by h (one of N.hs' numbers); "" clears. Returns false if unknown.
  function set(name, h) {
    if (!name) { chosen = null; leafSel.value = ""; render(); return true; }
    for (var i = 0; i < N.leaves.length; i++) {
      if (N.leaves[i].name !== name) { continue; }
      for (var k = 0; k < N.leaves[i].nudges.length; k++) {
        if (N.leaves[i].nudges[k].h_value === h) {
          chosen = { leaf: i, k: k };
          leafSel.value = String(i); hSel.value = String(k);
          render();
          return true;
        }
      }
    }
    return false;
  }
  render();
  return { set: set, clear: function () { set(""); }, current: function () { return chosen; } };
}
