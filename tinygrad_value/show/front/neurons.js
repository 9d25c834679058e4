// The network view's front-end, one copy for the offline page (backprop_html(level="neuron")) and
// the notebook widget (StepperWidget(root, level="neuron")). tvMountNeurons(root, D, opts) brings
// the markup of neurons.html inside `root` to life with D (made in Python by neuron_page.py): a
// click on a neuron's box shows its numbers (and, when D.columns has them, the optimizer's state
// per parameter) and its own scalar graph. Every lookup is scoped to root. Numbers are set as
// textContent; only the scalar graph's SVG, drawn and escaped by graphviz, goes in as markup.
// opts.mirror: an element that also gets data-shown; opts.onShow(id): called when the learner
// picks a neuron. A neuron whose `svg` is null (the widget draws them on demand, in Python) shows
// "drawing..." until setSvg(id, svg) brings it. Returns { show(id, quiet), current(), setSvg }.
function tvMountNeurons(root, D, opts) {
  "use strict";
  opts = opts || {};
  var table = root.querySelector("#numbers"), shown = null;
  var width = D.columns.length + 1;  // the name, then data, grad and any optimizer columns

  function row(cells, head) {
    var tr = document.createElement("tr");
    for (var i = 0; i < width; i++) {
      var td = document.createElement(head ? "th" : "td");
      td.textContent = i < cells.length ? cells[i] : "";
      tr.appendChild(td);
    }
    table.appendChild(tr);
  }

  function show(id, quiet) {
    var n = D.neurons[id];
    if (!n) { return false; }
    root.querySelectorAll("g.neuron.chosen").forEach(function (g) { g.classList.remove("chosen"); });
    var box = root.querySelector('#graph [id="' + id + '"]');
    if (box) { box.classList.add("chosen"); }
    root.querySelector("#hint").hidden = true;
    root.querySelector("#neuron-name").textContent = n.name + " \u00b7 " + n.activation;
    table.replaceChildren();
    row([""].concat(D.columns), true);
    row(["z (weighted sum)", n.z, ""]);
    row(["out", n.out, n.grad]);
    n.params.forEach(function (p) { row(p); });
    root.querySelector("#state-note").hidden = D.columns.length <= 2;
    var scalar = root.querySelector("#scalar");
    if (n.svg === null) { scalar.textContent = "drawing " + n.name + "\u2026"; }
    else { scalar.innerHTML = n.svg; }
    shown = id;
    root.dataset.shown = id;
    if (opts.mirror) { opts.mirror.dataset.shown = id; }
    if (!quiet && opts.onShow) { opts.onShow(id); }
    return true;
  }

  root.querySelectorAll("#graph g.neuron").forEach(function (g) {
    g.addEventListener("click", function () { show(g.id); });
  });
  function setSvg(id, svg) {
    if (!D.neurons[id]) { return; }
    D.neurons[id].svg = svg;
    if (shown === id) { root.querySelector("#scalar").innerHTML = svg; }
  }
  return { show: show, current: function () { return shown; }, setSvg: setSvg };
}
