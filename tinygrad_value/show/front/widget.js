
// anywidget glue (appended to stepper.js, nudge.js and quiz.js to make the widget's ES module):
// the markup comes from Python in `_body`, the steps in `_data`; `step` is synced both ways, and
// so are `nudge_leaf` / `nudge_h` (the nudge on show) and, for QuizWidget, `question`. Answers
// the learner checks go to Python in `answers` ([question, text] pairs), where the Quiz scores
// them; answers Python adds (QuizWidget.answer) are shown here as if typed. At level="neuron"
// the markup and data are the network page's (neurons.js mounts them) and `neuron`, the name
// of the neuron on show, is synced both ways instead; Python draws that neuron's scalar graph
// and sends it in `_scalar` ({id, svg}).
function tvRenderNetwork(model, root) {
  var D = model.get("_data"), idOf = {};
  Object.keys(D.neurons).forEach(function (id) { idOf[D.neurons[id].name] = id; });
  var api = tvMountNeurons(root, D, {
    onShow: function (id) {
      if (model.get("neuron") !== D.neurons[id].name) {
        model.set("neuron", D.neurons[id].name);
        model.save_changes();
      }
    },
  });
  var follow = function () {
    var name = model.get("neuron");
    if (name && api.current() !== idOf[name]) { api.show(idOf[name], true); }
  };
  var drawn = function () {
    var s = model.get("_scalar");
    if (s && s.id) { api.setSvg(s.id, s.svg); }
  };
  model.on("change:neuron", follow);
  model.on("change:_scalar", drawn);
  drawn();
  follow();
  return function () { model.off("change:neuron", follow); model.off("change:_scalar", drawn); };
}

export default {
  render({ model, el }) {
    el.innerHTML = model.get("_body");  // built and escaped by Python, as for the page
    if (model.get("_data").level === "neuron") {
      return tvRenderNetwork(model, el.querySelector(".tv-network"));
    }
    var root = el.querySelector(".tv-stepper");
    root.tabIndex = 0;  // focusable, so the arrow keys step this widget and not the notebook
    var seen = (model.get("answers") || []).length, replaying = false;
    var save = function (pairs) {
      var changed = false;
      Object.keys(pairs).forEach(function (k) {
        if (model.get(k) !== pairs[k]) { model.set(k, pairs[k]); changed = true; }
      });
      if (changed) { model.save_changes(); }
    };
    var api = tvMountStepper(root, model.get("_data"), {
      start: model.get("step"),
      question: model.get("question") || 0,
      onStep: function (k) { save({ step: k }); },
      onNudge: function (leaf, h) { save({ nudge_leaf: leaf, nudge_h: h }); },
      onQuestion: function (i) { if (model.get("question") !== undefined) { save({ question: i }); } },
      onAnswer: function (i, text) {
        if (replaying) { return; }
        var answers = (model.get("answers") || []).concat([[i, text]]);
        seen = answers.length;
        save({ answers: answers });
      },
    });
    root.addEventListener("click", function () { root.focus({ preventScroll: true }); });
    var follow = function () { api.show(model.get("step"), true); };
    var nudge = function () {
      if (api.nudges) { api.nudges.set(model.get("nudge_leaf"), model.get("nudge_h")); }
    };
    var question = function () {
      if (api.quiz && api.quiz.current() !== model.get("question")) { api.quiz.go(model.get("question")); }
    };
    var answers = function () {  // answers given in Python: show them as if typed here
      var all = model.get("answers") || [];
      replaying = true;
      for (; seen < all.length; seen++) {
        if (api.quiz.current() !== all[seen][0]) { api.quiz.go(all[seen][0]); }
        api.quiz.check(all[seen][1]);
      }
      replaying = false;
    };
    model.on("change:step", follow);
    model.on("change:nudge_leaf", nudge);
    model.on("change:nudge_h", nudge);
    if (api.quiz) { model.on("change:question", question); model.on("change:answers", answers); }
    if (model.get("nudge_leaf")) { nudge(); }
    return function () {
      model.off("change:step", follow);
      model.off("change:nudge_leaf", nudge);
      model.off("change:nudge_h", nudge);
      if (api.quiz) { model.off("change:question", question); model.off("change:answers", answers); }
    };
  },
};
