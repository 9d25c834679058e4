// The quiz panel (shared by the page and the widget): asks the Quiz's questions in backward
// order and checks each typed number against the expected value Python computed (quiz_page.py),
// within the quiz's tolerance, giving Python's diagnosis sentences. It never does calculus: the
// only arithmetic here is the distance between two numbers.
// tvMountQuiz(root, Q, stepper, opts): opts.onAnswer(index, text, correct) hears every checked
// answer, opts.onQuestion(index) every move. Returns { go(i), check(text), score(), current() }.
function tvMountQuiz(root, Q, stepper, opts) {
  "use strict";
  function q(id) { return root.querySelector("#" + id); }
  var input = q("tv-quiz-answer"), feedback = q("tv-quiz-feedback"), reveal = q("tv-quiz-reveal");
  var qs = Q.questions, cur = 0, tries = [], first = [], found = {};
  if (Q.root_shown !== undefined) { found[Q.root] = Q.root_shown; }
  var byId = {};
  stepper.nodes.forEach(function (n) { byId[n.id] = n; });

  function close(a, e) { return Math.abs(a - e) <= Math.max(Q.abs_tol, Q.rel_tol * Math.abs(e)); }
  // Python's format(x, "g"): 6 significant digits, trailing zeros dropped, an exponent
  // when it is below -4 or at least 6; so the sentences read as the terminal's.
  function fmtG(x) {
    if (!isFinite(x)) { return isNaN(x) ? "nan" : (x > 0 ? "inf" : "-inf"); }
    if (x === 0) { return (1 / x < 0) ? "-0" : "0"; }
    var parts = x.toExponential(5).split("e"), exp = parseInt(parts[1], 10);
    var strip = function (t) { return t.indexOf(".") < 0 ? t : t.replace(/0+$/, "").replace(/\.$/, ""); };
    if (exp < -4 || exp >= 6) {
      var a = Math.abs(exp);
      return strip(parts[0]) + "e" + (exp < 0 ? "-" : "+") + (a < 10 ? "0" : "") + a;
    }
    return strip(x.toFixed(Math.max(0, 5 - exp)));
  }
  function parse(text) {
    var t = String(text).trim();
    return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t) ? Number(t) : null;
  }
  function diagnose(item, a) {
    var said = [], groups = {};
    item.diagnoses.forEach(function (d) {
      if (!close(a, d.value) || (d.group && groups[d.group])) { return; }
      said.push(d.text.split("{answer}").join(fmtG(a)));
      if (d.group) { groups[d.group] = true; }
    });
    if (!said.length) { return item.unknown.split("{answer}").join(fmtG(a)); }
    return "Not quite: " + said.join("; or ") + ".";
  }
  function score() {
    var right = 0, asked = 0;
    first.forEach(function (c) { if (c !== undefined) { asked++; if (c) { right++; } } });
    return [right, asked];
  }
  function showScore() {
    var s = score(), done = cur >= qs.length;
    q("tv-quiz-score").textContent = (done ? "Done. " : "") + "Score: " + s[0] + "/" + s[1] +
      " right at the first try.";
    root.setAttribute("data-quiz-score", s[0] + "/" + s[1]);
  }
  function mark(item, on) {
    if (!item) { return; }
    var n = byId[item.node], c = item.child ? byId[item.child] : null;
    if (n && n.g) { n.g.classList.toggle("tv-asked", on); }
    if (c && c.g) { c.g.classList.toggle("tv-asked-child", on); }
  }
  function go(i) {
    mark(qs[cur], false);
    cur = Math.max(0, Math.min(qs.length, i | 0));
    var item = qs[cur], done = cur >= qs.length;
    q("tv-quiz-counter").textContent = done ? "" : "Question " + (cur + 1) + " of " + qs.length;
    q("tv-quiz-prompt").textContent = done ? "No more questions." : item.prompt;
    feedback.textContent = reveal.textContent = "";
    feedback.className = "";
    input.value = "";
    input.disabled = q("tv-quiz-check").disabled = q("tv-quiz-hint").disabled = done;
    q("tv-quiz-next").disabled = done;
    root.setAttribute("data-quiz-question", String(cur));
    if (!done) { mark(item, true); stepper.select(item.node); }
    showScore();
    if (opts.onQuestion) { opts.onQuestion(cur); }
  }
  function say(text, cls) { feedback.textContent = text; feedback.className = cls; }
  function check(text) {
    var item = qs[cur];
    if (!item) { return null; }
    var a = parse(text);
    if (a === null) {
      say("'" + String(text).trim() + "' is not a number; answer with a number such as -1.5", "tv-wrong");
      return null;
    }
    var correct = close(a, item.expected);
    if (first[cur] === undefined) { first[cur] = correct; }
    tries[cur] = (tries[cur] || 0) + 1;
    say(correct ? item.right : diagnose(item, a), correct ? "tv-right" : "tv-wrong");
    if (!correct && tries[cur] > 1) { reveal.textContent = item.reveal; }  // as the terminal:
    // one retry, then the answer
    if ((correct || tries[cur] > 1) && !item.child) {
      found[item.node] = item.shown;
      stepper.overlay("grad", found);
    }
    showScore();
    if (opts.onAnswer) { opts.onAnswer(cur, String(text).trim(), correct); }
    return correct;
  }
  q("tv-quiz-intro").textContent = Q.intro;
  q("tv-quiz-check").addEventListener("click", function () { check(input.value); });
  q("tv-quiz-hint").addEventListener("click", function () { say(qs[cur].hint, "tv-hint"); });
  q("tv-quiz-next").addEventListener("click", function () { go(cur + 1); });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter") { check(input.value); e.preventDefault(); }
    e.stopPropagation();  // typing is not stepping
  });
  stepper.overlay("grad", found);
  go(opts.question || 0);
  return { go: go, check: check, score: score, current: function () { return cur; } };
}
