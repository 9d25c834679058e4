
// anywidget glue (appended to stepper.js to make the widget's ES module): the markup comes from
// Python in `_body`, the steps in `_data`; `step` is synced both ways.
export default {
  render({ model, el }) {
    el.innerHTML = model.get("_body");  // built and escaped by Python, as for the page
    var root = el.querySelector(".tv-stepper");
    root.tabIndex = 0;  // focusable, so the arrow keys step this widget and not the notebook
    var api = tvMountStepper(root, model.get("_data"), {
      start: model.get("step"),
      onStep: function (k) {
        if (model.get("step") !== k) { model.set("step", k); model.save_changes(); }
      },
    });
    root.addEventListener("click", function () { root.focus({ preventScroll: true }); });
    var follow = function () { api.show(model.get("step"), true); };
    model.on("change:step", follow);
    return function () { model.off("change:step", follow); };
  },
};
