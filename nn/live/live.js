// The live view's front end: one copy, used by the page (page.html) and the notebook widget.
// mountLive(root, cfg, io) draws into root (which holds live.html's markup). io connects it to
// Python: io.post(action, params) sends a control, io.start(apply) feeds each new state to
// apply(state), io.graphSrc(graph) is the <img> source of the sample's graph. With io null it
// talks HTTP to the server that sent the page, with the session token from cfg on every POST.
function mountLive(root, CFG, io) {
"use strict";
CFG = CFG || {mode: "live", points: {x: [], y: [], threshold: 0}};
const $ = (id) => root.querySelector("#" + id);
// the class colours (class -1 or 0, class +1 or 1) come from Python's one palette, via cfg
const PALETTE = CFG.palette || ["#ea580c", "#2563eb"];
const rgb = (h) => [1, 3, 5].map(i => parseInt(h.slice(i, i + 2), 16));
const NEG = rgb(PALETTE[0]), POS = rgb(PALETTE[1]);
const darker = (c) => "rgb(" + c.map(v => Math.round(v * 0.8)).join(",") + ")";
const S = {steps: [], loss: [], acc: [], picture: null, sample: 0, status: "", graphVersion: -1,
           cursor: null, gen: null};
const top = root.querySelector(".tv-live") || root.documentElement;
top.style.setProperty("--neg", PALETTE[0]); top.style.setProperty("--pos", PALETTE[1]);
const isPage = root === document;
if (CFG.title) { if (isPage) document.title = CFG.title; $("title").textContent = CFG.title; }
io = io || httpIO(CFG, S);

function stepName(s) { return s === null || s === undefined ? "" : s < 0 ? "before training" : "step " + s; }
function fmt(x, d) { return (x === null || x === undefined) ? "–" : Number(x).toFixed(d); }

// --- canvases at device resolution -------------------------------------------------------
function ctxFor(canvas, cssH) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || canvas.width, h = cssH || canvas.clientHeight || canvas.height;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr);
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return [ctx, w, h];
}

// --- decision boundary -----------------------------------------------------------------------
function toPx(b, w, h, x, y) { return [(x - b[0]) / (b[1] - b[0]) * w, (b[3] - y) / (b[3] - b[2]) * h]; }

function drawBoundary() {
  const canvas = $("boundary"), pts = CFG.points, pic = S.picture;
  const [ctx, w, h] = ctxFor(canvas, canvas.clientWidth);
  ctx.clearRect(0, 0, w, h);
  ctx.fillStyle = "#f9fafb"; ctx.fillRect(0, 0, w, h);
  const thr = pts.threshold || 0;
  let b = pic && pic.boundary ? pic.boundary.bounds : null;
  if (pic && pic.boundary) {
    const n = pic.boundary.n, z = pic.boundary.z;
    const img = new ImageData(n, n);
    for (let i = 0; i < n * n; i++) {
      const s = z[i] - thr, c = s > 0 ? POS : NEG, t = 0.18 + 0.5 * Math.tanh(Math.abs(s) * 1.5);
      img.data[4 * i] = 255 + (c[0] - 255) * t; img.data[4 * i + 1] = 255 + (c[1] - 255) * t;
      img.data[4 * i + 2] = 255 + (c[2] - 255) * t; img.data[4 * i + 3] = 255;
    }
    const off = document.createElement("canvas"); off.width = n; off.height = n;
    off.getContext("2d").putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = true; ctx.imageSmoothingQuality = "high";
    ctx.drawImage(off, 0, 0, w, h);
    // the boundary itself: marching squares over the cell centres, crossings interpolated
    ctx.strokeStyle = "rgba(17,24,39,.6)"; ctx.lineWidth = 1.6; ctx.lineJoin = "round"; ctx.beginPath();
    const cw = w / n, ch = h / n, v = (r, c) => z[r * n + c] - thr;
    const cross = (r0, c0, r1, c1) => {
      const a = v(r0, c0), d = v(r1, c1);
      if ((a > 0) === (d > 0)) return null;
      const t = a / (a - d);
      return [((c0 + (c1 - c0) * t) + 0.5) * cw, ((r0 + (r1 - r0) * t) + 0.5) * ch];
    };
    for (let r = 0; r + 1 < n; r++) for (let c = 0; c + 1 < n; c++) {
      const p = [cross(r, c, r, c + 1), cross(r, c + 1, r + 1, c + 1), cross(r + 1, c + 1, r + 1, c), cross(r + 1, c, r, c)].filter(q => q);
      for (let k = 0; k + 1 < p.length; k += 2) { ctx.moveTo(p[k][0], p[k][1]); ctx.lineTo(p[k + 1][0], p[k + 1][1]); }
    }
    ctx.stroke();
  }
  if (!b) {
    const xs = pts.x.map(p => p[0]), ys = pts.x.map(p => p[1]);
    b = [Math.min(...xs) - .3, Math.max(...xs) + .3, Math.min(...ys) - .3, Math.max(...ys) + .3];
  }
  S.bounds = b;
  // predicted class per point, from the grid cell it falls in
  for (let i = 0; i < pts.x.length; i++) {
    const [px, py] = toPx(b, w, h, pts.x[i][0], pts.x[i][1]);
    const cls = pts.y[i] > thr;
    ctx.beginPath(); ctx.arc(px, py, 4.6, 0, 2 * Math.PI);
    ctx.fillStyle = cls ? darker(POS) : darker(NEG); ctx.fill();
    ctx.lineWidth = 1.2; ctx.strokeStyle = "#fff"; ctx.stroke();
    if (pic && pic.boundary) {
      const n = pic.boundary.n, col = Math.min(n - 1, Math.max(0, Math.floor(px / w * n))),
            row = Math.min(n - 1, Math.max(0, Math.floor(py / h * n)));
      if ((pic.boundary.z[row * n + col] > thr) !== cls) {
        ctx.beginPath(); ctx.arc(px, py, 7.5, 0, 2 * Math.PI); ctx.lineWidth = 1.6;
        ctx.strokeStyle = "#111827"; ctx.stroke();
      }
    }
  }
  const i = S.sample;
  if (i !== null && i < pts.x.length) {
    const [px, py] = toPx(b, w, h, pts.x[i][0], pts.x[i][1]);
    ctx.beginPath(); ctx.arc(px, py, 10, 0, 2 * Math.PI); ctx.lineWidth = 2.5; ctx.strokeStyle = "#facc15"; ctx.stroke();
    ctx.beginPath(); ctx.arc(px, py, 12.5, 0, 2 * Math.PI); ctx.lineWidth = 1; ctx.strokeStyle = "#111827"; ctx.stroke();
  }
  $("boundary-note").textContent = pic ? stepName(pic.step) : "";
}

$("boundary").addEventListener("click", (ev) => {
  if (CFG.mode !== "live" || !S.bounds) return;
  const r = ev.target.getBoundingClientRect(), x = ev.clientX - r.left, y = ev.clientY - r.top;
  let best = -1, bestD = 14 * 14;
  CFG.points.x.forEach((p, i) => {
    const [px, py] = toPx(S.bounds, r.width, r.height, p[0], p[1]);
    const d = (px - x) ** 2 + (py - y) ** 2;
    if (d < bestD) { bestD = d; best = i; }
  });
  if (best >= 0) { S.sample = best; drawBoundary(); io.post("select", {i: best}); $("graph-note").textContent = "drawing…"; }
});

// --- loss and accuracy curves ----------------------------------------------------------------
function drawCurves(uptoStep) {
  const canvas = $("curves");
  const [ctx, w, h] = ctxFor(canvas, 260);
  ctx.clearRect(0, 0, w, h);
  const L = 52, R = 46, T = 12, B = 30, pw = w - L - R, ph = h - T - B;
  const steps = S.steps, loss = S.loss, acc = S.acc;
  const last = steps.length ? steps[steps.length - 1] : 1, first = steps.length ? steps[0] : 0;
  const x0 = Math.min(0, first), x1 = Math.max(last, x0 + 1);
  let lmax = 0; for (const v of loss) if (v !== null && isFinite(v)) lmax = Math.max(lmax, v);
  lmax = lmax > 0 ? niceCeil(lmax) : 1;
  const X = (s) => L + (s - x0) / (x1 - x0) * pw, YL = (v) => T + ph - v / lmax * ph, YA = (v) => T + ph - v * ph;
  ctx.font = "11px system-ui, sans-serif"; ctx.lineWidth = 1;
  ctx.strokeStyle = "#e5e7eb"; ctx.fillStyle = "#6b7280";
  for (let k = 0; k <= 4; k++) {
    const y = T + ph * k / 4;
    ctx.beginPath(); ctx.moveTo(L, y); ctx.lineTo(L + pw, y); ctx.stroke();
    ctx.textAlign = "right"; ctx.fillText(fmtTick(lmax * (1 - k / 4)), L - 6, y + 4);
    ctx.textAlign = "left"; ctx.fillText(Math.round(100 * (1 - k / 4)) + "%", L + pw + 6, y + 4);
  }
  ctx.textAlign = "center";
  const span = x1 - x0, unit = Math.pow(10, Math.floor(Math.log10(span / 5)));
  const tick = [1, 2, 5, 10].map(m => m * unit).find(t => span / t <= 6) || 10 * unit;
  for (let s = Math.ceil(x0 / tick) * tick; s <= x1 + 1e-9; s += tick) ctx.fillText(String(Math.round(s)), X(s), T + ph + 16);
  ctx.fillText("step", L + pw / 2, h - 2);
  ctx.strokeStyle = "#9ca3af"; ctx.strokeRect(L, T, pw, ph);
  const line = (vals, Y, color) => {
    ctx.beginPath(); let on = false;
    for (let i = 0; i < steps.length; i++) {
      const v = vals[i];
      if (v === null || !isFinite(v)) { on = false; continue; }
      const px = X(steps[i]), py = Y(v);
      on ? ctx.lineTo(px, py) : ctx.moveTo(px, py); on = true;
    }
    ctx.strokeStyle = color; ctx.lineWidth = 2; ctx.stroke();
  };
  line(acc, YA, "#059669");
  line(loss, YL, "#dc2626");
  if (uptoStep !== undefined && uptoStep !== null) {
    ctx.strokeStyle = "rgba(17,24,39,.6)"; ctx.setLineDash([4, 3]); ctx.lineWidth = 1;
    const cx = X(Math.max(x0, uptoStep));
    ctx.beginPath(); ctx.moveTo(cx, T); ctx.lineTo(cx, T + ph); ctx.stroke(); ctx.setLineDash([]);
  }
  $("curves-note").textContent = steps.length ? steps.length + " steps recorded" : "waiting for the first step";
}
function niceCeil(v) { const e = Math.pow(10, Math.floor(Math.log10(v))); for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * e >= v) return m * e; return 10 * e; }
function fmtTick(v) { return v >= 10 ? v.toFixed(0) : v >= 1 ? v.toFixed(1) : v.toFixed(2); }

// --- weights ---------------------------------------------------------------------------------
function drawWeights() {
  const canvas = $("weights"), layers = S.picture ? S.picture.weights : [];
  const avail = canvas.clientWidth || 900;
  const gap = 34, rowsMax = Math.max(1, ...layers.map(l => l.rows.length));
  const colsTotal = layers.reduce((a, l) => a + (l.rows[0] ? l.rows[0].length : 0), 0) || 1;
  const cell = Math.max(6, Math.min(22, Math.floor((avail - gap * (layers.length + 1)) / colsTotal), Math.floor(300 / rowsMax)));
  const height = 24 + rowsMax * cell + 30;
  const [ctx, w, h] = ctxFor(canvas, height);
  canvas.style.height = height + "px";
  ctx.clearRect(0, 0, w, h);
  ctx.font = "12px system-ui, sans-serif"; ctx.textBaseline = "alphabetic";
  let x = gap / 2;
  for (const layer of layers) {
    const rows = layer.rows, cols = rows[0] ? rows[0].length : 0;
    let m = 0; for (const r of rows) for (const v of r) m = Math.max(m, Math.abs(v));
    m = m || 1;
    ctx.fillStyle = "#1f2937"; ctx.textAlign = "left";
    const label = layer.name + "  (" + rows.length + "×" + (cols - 1) + " + bias)";
    ctx.fillText(label, x, 15);
    for (let r = 0; r < rows.length; r++) for (let c = 0; c < cols; c++) {
      const v = rows[r][c], t = Math.sqrt(Math.abs(v) / m), col = v >= 0 ? POS : NEG;
      ctx.fillStyle = `rgba(${col[0]},${col[1]},${col[2]},${0.08 + 0.92 * t})`;
      ctx.fillRect(x + c * cell + (c === cols - 1 ? 3 : 0), 22 + r * cell, cell - 1, cell - 1);
    }
    ctx.fillStyle = "#6b7280"; ctx.fillText("max |w| " + m.toFixed(2), x, 22 + rows.length * cell + 16);
    x += Math.max(cols * cell + 3, ctx.measureText(label).width) + gap;
  }
}

// --- the graph ---------------------------------------------------------------------------------
let graphScrolled = false;
$("graph").addEventListener("load", () => {
  if (graphScrolled) return;  // the first time, show the output end: the loss and its grads
  graphScrolled = true;
  const box = $("graphbox"); box.scrollLeft = box.scrollWidth;
});
function showGraph(src, note, sample) {
  const img = $("graph");
  if (src) { img.src = src; img.hidden = false; $("graph-empty").hidden = true; }
  else { img.hidden = true; $("graph-empty").hidden = false; }
  $("graph-note").textContent = note || "";
  if (sample !== undefined && sample !== null) $("graph-sample").textContent = "#" + sample;
}
$("btn-zoom").addEventListener("click", () => {
  const box = $("graphbox"); box.classList.toggle("fit");
  $("btn-zoom").textContent = box.classList.contains("fit") ? "actual size" : "fit to width";
});

// --- gradient health: nn.inspect's numbers per layer, over training ------------------------------
const LAYER_COLOURS = ["#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#0891b2", "#db2777"];
function fmtNum(v) { return v === null || v === undefined ? "–" : Number(v).toPrecision(4); }
function showHealth(h) {
  S.health = h;
  $("card-health").hidden = false;
  const n = h.steps.length;
  $("health-note").textContent = h.error || (n ? "at " + stepName(h.steps[n - 1]) + ", every "
    + "recorded step plotted" : "waiting for the first step");
  const sel = $("health-metric");
  if (!sel.options.length) {
    for (const [key, label] of h.columns) sel.add(new Option(label, key, key === "update", key === "update"));
    sel.addEventListener("change", drawHealth);
  }
  const table = $("health-table"), head = ["layer"].concat(h.columns.map(c => c[1]));
  table.replaceChildren();
  const tr = table.insertRow();
  for (const t of head) { const th = document.createElement("th"); th.textContent = t; tr.appendChild(th); }
  h.layers.forEach((layer, k) => {
    const row = table.insertRow(); row.dataset.layer = layer;
    const name = row.insertCell(); name.textContent = layer; name.style.color = LAYER_COLOURS[k % LAYER_COLOURS.length];
    for (const [key] of h.columns) {
      const vals = h.series[key][layer], v = n ? vals[n - 1] : null, td = row.insertCell();
      td.dataset.col = key; td.dataset.v = v === null ? "" : String(v); td.textContent = fmtNum(v);
    }
  });
  drawHealth();
}
function drawHealth() {
  const h = S.health; if (!h) return;
  const key = $("health-metric").value || "update", linear = key === "dead";
  const [ctx, w, hh] = ctxFor($("health"), 220);
  ctx.clearRect(0, 0, w, hh);
  const L = 58, R = 12, T = 10, B = 28, pw = w - L - R, ph = hh - T - B, steps = h.steps;
  let lo = Infinity, hi = -Infinity;
  for (const layer of h.layers) for (const v of h.series[key][layer]) {
    if (v === null || (!linear && !(v > 0))) continue;
    const y = linear ? v : Math.log10(v); lo = Math.min(lo, y); hi = Math.max(hi, y);
  }
  if (linear) { lo = 0; hi = 1; } else if (!isFinite(lo)) { lo = -3; hi = 0; }
  else { lo = Math.floor(lo); hi = Math.max(Math.ceil(hi), lo + 1); }
  const x0 = steps.length ? steps[0] : 0, x1 = steps.length > 1 ? steps[steps.length - 1] : x0 + 1;
  const X = (s) => L + (s - x0) / (x1 - x0) * pw, Y = (y) => T + ph - (y - lo) / (hi - lo) * ph;
  ctx.font = "11px system-ui, sans-serif"; ctx.fillStyle = "#6b7280"; ctx.strokeStyle = "#e5e7eb"; ctx.lineWidth = 1;
  const ticks = linear ? [0, 0.25, 0.5, 0.75, 1] : Array.from({length: hi - lo + 1}, (_, i) => lo + i);
  for (const t of ticks) {
    ctx.beginPath(); ctx.moveTo(L, Y(t)); ctx.lineTo(L + pw, Y(t)); ctx.stroke();
    ctx.textAlign = "right"; ctx.fillText(linear ? Math.round(100 * t) + "%" : "1e" + t, L - 6, Y(t) + 4);
  }
  ctx.textAlign = "center"; ctx.fillText("step " + x0 + " … " + x1, L + pw / 2, hh - 6);
  ctx.strokeStyle = "#9ca3af"; ctx.strokeRect(L, T, pw, ph);
  h.layers.forEach((layer, k) => {
    ctx.beginPath(); let on = false;
    h.series[key][layer].forEach((v, i) => {
      if (v === null || (!linear && !(v > 0))) { on = false; return; }
      const px = X(steps[i]), py = Y(linear ? v : Math.log10(v));
      on ? ctx.lineTo(px, py) : ctx.moveTo(px, py); on = true;
    });
    ctx.strokeStyle = LAYER_COLOURS[k % LAYER_COLOURS.length]; ctx.lineWidth = 2; ctx.stroke();
  });
}

function showMetrics(step, loss, acc, status) {
  $("m-step").textContent = step === null || step === undefined ? "–" : step < 0 ? "start" : step;
  $("m-loss").textContent = fmt(loss, 4);
  $("m-acc").textContent = acc === null || acc === undefined ? "–" : (100 * acc).toFixed(1) + "%";
  setBadge(status);
}
function setBadge(status) { const st = $("status"); st.textContent = status; st.className = "badge " + status; }

function redraw() { drawBoundary(); drawCurves(S.cursor); drawWeights(); drawHealth(); }
window.addEventListener("resize", () => { if (top.isConnected) redraw(); });

// --- live mode: states from io, controls through io ---------------------------------------------
function applyState(st) {
  if (st.curve_from === 0) { S.steps = []; S.loss = []; S.acc = []; }
  else if (st.curve_from !== S.steps.length) { S.steps.length = Math.min(S.steps.length, st.curve_from);
    S.loss.length = S.steps.length; S.acc.length = S.steps.length; }
  S.steps.push(...st.steps); S.loss.push(...st.loss); S.acc.push(...st.acc);
  S.gen = st.curve_gen;
  if (st.picture) S.picture = st.picture;
  if (st.health) showHealth(st.health);
  S.status = st.status;
  if (document.activeElement !== $("boundary")) S.sample = st.sample;
  showMetrics(st.step, st.last_loss, st.last_acc, st.status);
  const g = st.graph;
  if (g.version !== S.graphVersion) {
    S.graphVersion = g.version;
    if (g.ready) showGraph(io.graphSrc(g), g.error || stepName(g.step), g.sample);
    else showGraph(null, g.error || "drawing…", g.sample);
  }
  const banner = st.note || (st.status === "paused" ? "Training is paused: the training loop waits "
    + "inside its callback until you press Resume or Step." : st.status === "waiting" ?
    "Training waits for this page to connect." : "");
  $("banner").textContent = banner; $("banner").hidden = !banner;
  if (isPage) document.title = (st.status === "paused" ? "paused · " : "") + (CFG.title || "live training");
  const hasLr = st.lr !== null && st.lr !== undefined;
  $("lr-control").hidden = !hasLr;
  if (hasLr && document.activeElement !== $("lr")) $("lr").value = String(st.lr);
  $("btn-pause").disabled = st.status !== "running";
  $("btn-resume").disabled = st.status !== "paused";
  $("btn-step").disabled = st.status === "done" || st.status === "closed";
  redraw();
}

function startLive() {
  $("live-controls").hidden = false;
  $("btn-pause").onclick = () => io.post("pause");
  $("btn-resume").onclick = () => io.post("resume");
  $("btn-step").onclick = () => io.post("step");
  // the field shows once there is an optimizer to set (a widget may be given one later)
  $("lr-control").hidden = !CFG.lr_control;
  $("lr").addEventListener("change", () => {
    const v = Number($("lr").value);
    if (v > 0 && v <= 100) io.post("lr", {v: Math.max(1, Math.round(v * 1e6))});
  });
  io.start(applyState, setBadge);
}

// --- replay mode: every frame embedded, a slider over them -------------------------------------
function startReplay() {
  $("replay-controls").hidden = false;
  $("click-hint").textContent = "the recording follows sample #" + CFG.sample;
  S.steps = CFG.steps; S.loss = CFG.loss; S.acc = CFG.acc; S.sample = CFG.sample;
  const frames = CFG.frames, slider = $("slider");
  slider.max = String(frames.length - 1);
  const svgUrls = frames.map(f => f.svg ? "data:image/svg+xml;charset=utf-8," + encodeURIComponent(f.svg) : null);
  function show(i) {
    const f = frames[i];
    S.picture = f; S.cursor = f.step;
    const k = S.steps.lastIndexOf(f.step);
    showMetrics(f.step, k >= 0 ? S.loss[k] : null, k >= 0 ? S.acc[k] : null, "replay");
    $("slider-label").textContent = (i + 1) + " / " + frames.length;
    let j = i; while (j >= 0 && !svgUrls[j]) j--;
    if (j < 0) j = svgUrls.findIndex(u => u);
    if (j >= 0) showGraph(svgUrls[j], "drawn " + (frames[j].step < 0 ? "before training" : "at step " + frames[j].step), CFG.sample);
    else showGraph(null, frames[i].svg_error || "no graph recorded", CFG.sample);
    redraw();
  }
  slider.addEventListener("input", () => show(Number(slider.value)));
  let timer = null;
  $("btn-play").onclick = () => {
    if (timer) { clearInterval(timer); timer = null; $("btn-play").textContent = "Play"; return; }
    if (Number(slider.value) >= frames.length - 1) slider.value = "0";
    $("btn-play").textContent = "Stop";
    timer = setInterval(() => {
      const v = Number(slider.value);
      if (v >= frames.length - 1) { clearInterval(timer); timer = null; $("btn-play").textContent = "Play"; return; }
      slider.value = String(v + 1); show(v + 1);
    }, 350);
  };
  slider.value = String(frames.length - 1);
  show(frames.length - 1);
}

redraw();
if (CFG.mode === "replay") startReplay(); else startLive();
return {S, CFG, toPx, applyState, redraw};
}

// The page's connection: server-sent events, polling /api/state as a fallback.
function httpIO(CFG, S) {
  return {
    post(action, params) {
      const q = params ? "?" + new URLSearchParams(params) : "";
      return fetch("/api/" + action + q, {method: "POST", headers: {"X-Live-Token": CFG.token || ""}})
        .catch(() => {});
    },
    graphSrc(g) { return "/graph.svg?v=" + g.version; },
    start(apply, setBadge) {
      let polling = false;
      const poll = () => fetch("/api/state?since=" + S.steps.length + (S.gen === null ? "" : "&g=" + S.gen))
        .then(r => r.json()).then(apply)
        .catch(() => setBadge("offline")).finally(() => setTimeout(poll, 700));
      if (!window.EventSource) { polling = true; poll(); return; }
      const es = new EventSource("/events?since=0");
      es.onmessage = (ev) => { try { apply(JSON.parse(ev.data)); } catch (e) { console.error(e); } };
      es.onerror = () => {
        if (S.status === "done") { es.close(); return; }  // the server may be gone; the page stays
        setBadge("offline");
        if (es.readyState === EventSource.CLOSED && !polling) { polling = true; poll(); }
      };
    },
  };
}
