// anywidget glue (appended to live.js to make LiveWidget's ES module): the markup comes from
// Python in `_body`, the page's config in `_config`. Python pushes each new state as a custom
// message {kind: "state", state, svg?} (svg: the sample's graph, when it changed); the buttons
// send {action, ...params} back, the same actions and parameters the page POSTs to its server.
export default {
  render({ model, el }) {
    el.innerHTML = model.get("_body");  // live.html, the page's own markup
    let svg = null, apply = null;
    const onMsg = (msg) => {
      if (!msg || msg.kind !== "state") { return; }
      if (msg.svg !== undefined) { svg = msg.svg; }
      if (apply) { apply(msg.state); }
    };
    model.on("msg:custom", onMsg);
    const io = {
      post(action, params) { model.send(Object.assign({ action }, params || {})); },
      graphSrc() { return svg ? "data:image/svg+xml;charset=utf-8," + encodeURIComponent(svg) : ""; },
      start(applyState) { apply = applyState; model.send({ action: "hello" }); },
    };
    el.tvLive = mountLive(el, model.get("_config"), io);
    return () => { model.off("msg:custom", onMsg); };
  },
};
