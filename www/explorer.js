// The page around the explorer's canvas: builds the controls from the app's own list,
// forwards keys, keeps the time slider and readout in step, shows errors in words, and
// exposes window.flowmatch (the same API as app.html's, see README.md).
(function () {
  "use strict";
  var frame = document.getElementById("app");
  var errorBox = document.getElementById("error");
  var controlsBox = document.getElementById("controls");
  var slider = document.getElementById("time");
  var hud = document.getElementById("hud");
  var playButton = document.getElementById("play");
  var inner = null;       // app.html's window.flowmatch, once it is running
  var dragging = false;   // the time slider is held
  var lastControls = "";

  function showError(text) {
    errorBox.textContent = text || "";
    errorBox.hidden = !text;
  }
  window.flowmatchOnError = showError;

  if (typeof WebAssembly !== "object" || typeof WebAssembly.instantiate !== "function") {
    showError("This browser cannot run WebAssembly, which the explorer needs. A recent Firefox, Chrome, Safari or Edge can.");
    controlsBox.innerHTML = "";
    return;
  }

  // The notStarted status, until the app answers.
  function idle() {
    return { ready: false, loading: true, t: 0, nfe: 0, particles: 0, fps: 0, model: "", dataset: "",
      path: "", solver: "", sample: [], lanes: [], error: errorBox.hidden ? "" : errorBox.textContent };
  }

  window.flowmatch = {
    // status() returns a plain object: t, nfe, particles, fps, model, dataset, path, solver,
    // sample (up to 2,000 [x, y] pairs in data coordinates) and more; see README.md.
    status: function (opts) {
      if (!inner) return idle();
      var s = opts === undefined ? inner.status() : inner.status(opts);
      if (s.firstFrameAt) s.firstFrameMs = s.firstFrameAt - performance.timeOrigin;
      return s;
    },
    controls: function () { return inner ? inner.controls() : []; },
    shortcuts: function () { return inner ? inner.shortcuts() : []; },
    set: function (name, value) { if (!inner) return "not ready"; var e = inner.set(name, String(value)); refresh(); return e; },
    do: function (action) { if (!inner) return "not ready"; var e = inner.do(action); refresh(); return e; },
    key: function (code, shift) { return inner ? inner.key(code, !!shift) : false; },
    drop: function (x, y) { return inner ? inner.drop(x, y) : "not ready"; },
    // The "Your data" mode: the trained model ({name, bytes}) or null, the points, a link.
    model: function () { return inner ? inner.model() : null; },
    points: function () { return inner ? inner.points() : new Float32Array(0); },
    pointsCSV: function () { return inner ? inner.pointsCSV() : null; },
    link: function () { return inner ? inner.link() : ""; },
    loadCSV: function (name, text) { return inner ? inner.loadCSV(name, text) : "not ready"; },
    setPoints: function (name, xy, source) { return inner ? inner.setPoints(name, xy, source || "drawn") : "not ready"; },
    // The Images mode: a model file dropped or opened ({name, Uint8Array}); see README.md.
    loadModel: function (name, bytes) { return inner ? inner.loadModel(name, bytes) : "not ready"; },
    download: download,
    get ready() { return !!inner; }
  };

  window.flowmatchOnReady = function (api) {
    if (inner) return;
    inner = api;
    buildShortcuts();
    refresh();
    tick();
  };
  frame.src = "app.html" + location.search + location.hash;
  // In case the frame started before this page's hook existed.
  var poll = setInterval(function () {
    if (inner) { clearInterval(poll); return; }
    try {
      var w = frame.contentWindow;
      if (w && w.flowmatch) window.flowmatchOnReady(w.flowmatch);
    } catch (e) { /* not same-origin yet */ }
  }, 100);

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text != null) e.textContent = text;
    return e;
  }

  // Build (or rebuild) the settings from the app's control list.
  function refresh() {
    if (!inner) return;
    var list = inner.controls();
    var sig = JSON.stringify(list);
    if (sig === lastControls) return;
    lastControls = sig;
    controlsBox.innerHTML = "";
    var toggles = el("div", { "class": "toggles" });
    var groupB = false;
    list.forEach(function (c) {
      if (c.hidden) return;
      var id = "c-" + c.name;
      var keyHint = c.key ? " " : "";
      if (c.kind === "toggle") {
        var lab = el("label", { "for": id });
        var box = el("input", { type: "checkbox", id: id });
        box.checked = c.value === "on";
        box.addEventListener("change", function () { setControl(c.name, box.checked ? "on" : "off"); });
        lab.appendChild(box);
        lab.appendChild(document.createTextNode(c.label));
        if (c.key) { lab.appendChild(document.createTextNode(keyHint)); lab.appendChild(el("kbd", {}, c.key)); }
        toggles.appendChild(lab);
        return;
      }
      if (c.kind === "range") { // a slider from 0 (min) to max, its value beside it
        var rl = el("label", { "for": id }, c.label + " ");
        var out = el("output", { "for": id }, c.value);
        rl.appendChild(out);
        var range = el("input", { type: "range", id: id, min: String(c.min || 0), max: String(c.max), step: String(c.step || "any"), value: c.value });
        range.addEventListener("input", function () { out.textContent = range.value; });
        range.addEventListener("change", function () { setControl(c.name, range.value); });
        controlsBox.appendChild(rl);
        controlsBox.appendChild(range);
        return;
      }
      if (/B$/.test(c.name) && !groupB) {
        groupB = true;
        controlsBox.appendChild(el("p", { "class": "group" }, "Second panel"));
      }
      var label = el("label", { "for": id }, c.label + " ");
      if (c.key) label.appendChild(el("kbd", {}, c.key));
      var sel = el("select", { id: id });
      (c.options || []).forEach(function (o) {
        var opt = el("option", { value: o }, o);
        if (o === c.value) opt.selected = true;
        sel.appendChild(opt);
      });
      sel.addEventListener("change", function () { setControl(c.name, sel.value); });
      controlsBox.appendChild(label);
      controlsBox.appendChild(sel);
      if (c.name === "speed") {
        controlsBox.appendChild(el("p", { "class": "group" }, "Show"));
        controlsBox.appendChild(toggles);
      }
    });
  }

  // The "Your data" mode's buttons, shown in that mode: train, pause, reset, erase,
  // download the model, copy a link to the drawing.
  var ownBox = el("section", { id: "yours", "aria-label": "your data", "class": "yours" });
  ownBox.hidden = true;
  [["Train", "train", "train on the points (resumes when paused)"], ["Pause training", "hold", "pause the training"],
    ["Reset", "reset", "forget the trained model"], ["Erase all", "erase-all", "remove every point"]].forEach(function (b) {
    var btn = el("button", { type: "button", "data-own": b[1], title: b[2] }, b[0]);
    btn.addEventListener("click", function () {
      if (!inner) return;
      var err = inner.do(b[1]);
      showError(err || "");
    });
    ownBox.appendChild(btn);
  });
  var dl = el("button", { type: "button", id: "download", title: "save the model as .safetensors" }, "Download model");
  dl.addEventListener("click", function () { var e = download(); if (e) showError(e); });
  ownBox.appendChild(dl);
  var dlPoints = el("button", { type: "button", title: "save the points as CSV, for flowmatch eval -data" }, "Download points");
  dlPoints.addEventListener("click", function () {
    if (!inner) return;
    var p = inner.pointsCSV();
    save(new Blob([p.text], { type: "text/csv" }), p.name);
  });
  ownBox.appendChild(dlPoints);
  var share = el("button", { type: "button", title: "a link that carries the drawn points" }, "Copy link");
  share.addEventListener("click", function () {
    if (!inner) return;
    var url = location.href.replace(/#.*$/, "") + inner.link();
    if (navigator.clipboard) navigator.clipboard.writeText(url).catch(function () {});
    history.replaceState(null, "", url);
  });
  ownBox.appendChild(share);
  ownBox.appendChild(el("p", { "class": "note" }, "Draw on the plot (the brush is among the settings), drop or paste a CSV of x,y rows, or start from a toy. " +
    "Training runs in a Web Worker; the particles show the model every half second."));
  document.getElementById("transport").appendChild(ownBox); // under the plot, beside playback

  // download saves the trained model; it returns an error in words, or "".
  function download() {
    var m = inner ? inner.model() : null;
    if (!m) return "no model yet: press Train first";
    save(new Blob([m.bytes], { type: "application/octet-stream" }), m.name);
    return "";
  }

  function save(blob, name) {
    var a = el("a", { download: name });
    a.href = URL.createObjectURL(blob);
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  }

  // A CSV pasted anywhere on the page (not into a form field) becomes the points.
  document.addEventListener("paste", function (e) {
    var t = e.target;
    if (!inner || (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA"))) return;
    var text = e.clipboardData && e.clipboardData.getData("text");
    if (!text) return;
    e.preventDefault();
    inner.set("mode", "yours");
    showError(inner.loadCSV("pasted", text) || "");
    refresh();
  });

  function setControl(name, value) {
    var err = inner.set(name, value);
    if (err) showError(err);
    lastControls = "";
    refresh();
  }

  function buildShortcuts() {
    var ul = document.getElementById("shortcuts");
    ul.innerHTML = "";
    inner.shortcuts().forEach(function (s) {
      var li = el("li");
      li.appendChild(el("kbd", {}, s.keys));
      li.appendChild(document.createTextNode(" " + s.what));
      ul.appendChild(li);
    });
  }

  document.querySelectorAll("[data-do]").forEach(function (b) {
    b.addEventListener("click", function () {
      if (!inner) return;
      var err = inner.do(b.getAttribute("data-do"));
      if (err) showError(err);
    });
  });

  slider.addEventListener("pointerdown", function () { dragging = true; });
  window.addEventListener("pointerup", function () { dragging = false; });
  slider.addEventListener("input", function () {
    if (inner) inner.set("t", slider.value);
  });

  // Keyboard shortcuts while the page (not a form control) has focus; the canvas
  // handles its own when it has focus.
  document.addEventListener("keydown", function (e) {
    if (!inner || e.ctrlKey || e.metaKey || e.altKey) return;
    var t = e.target;
    if (t && (t.tagName === "SELECT" || t.tagName === "INPUT" || t.tagName === "TEXTAREA") && e.code !== "Space") return;
    if (t && t.tagName === "BUTTON" && (e.code === "Space" || e.code === "Enter")) return;
    if (inner.key(e.code, e.shiftKey)) {
      e.preventDefault();
      lastControls = "";
      refresh();
    }
  });

  // Keep the slider, readout and buttons in step with the app, a few times a second.
  var ticks = 0;
  function tick() {
    var s = window.flowmatch.status({ sample: false });
    if (s.ready) {
      if (!dragging && document.activeElement !== slider) {
        slider.max = String(s.tMax || 1);
        slider.value = String(s.t);
      }
      var text = "t " + s.t.toFixed(3) + " · NFE " + s.nfe + " of " + s.nfeTotal + " · " +
        s.particles.toLocaleString() + " particles · " + Math.round(s.fps) + " fps";
      var lw = s.lanes && s.lanes.length ? s.lanes[0].workers : 0;
      if (lw > 0) text += " · " + lw + (lw === 1 ? " worker" : " workers");
      if (s.lanes && s.lanes.length > 1) {
        text = s.lanes.map(function (l) {
          return l.path.toUpperCase() + (l.coupling === "ot" ? " OT-CFM" : "") + " " + l.solver + ": NFE " + l.nfe + (l.w2 >= 0 ? ", W2 " + l.w2.toFixed(3) : "");
        }).join(" | ") + " · " + Math.round(s.fps) + " fps";
      }
      hud.textContent = text;
      playButton.textContent = s.playing ? "Pause" : "Play";
      ownBox.hidden = s.mode !== "yours";
      if (s.mode === "yours" && s.train) {
        var tr = s.train;
        text = tr.points.toLocaleString() + " points · " + tr.state + (tr.state === "idle" ? "" : " · step " + tr.step + " of " + tr.steps +
          " · loss " + tr.loss.toFixed(4) + " · " + Math.round(tr.stepsPerSec) + " steps/s");
        hud.textContent = text;
        if (tr.error) showError(tr.error);
        dl.disabled = !tr.hasModel;
      }
      if (s.mode === "images" && s.image) {
        var im = s.image;
        text = "t " + s.t.toFixed(3) + " · NFE " + s.nfe + " of " + s.nfeTotal + " · " + im.images + " images · guidance " + im.guidance +
          " · " + Math.round(s.fps) + " fps" + (im.workers > 0 ? " · " + im.workers + (im.workers === 1 ? " worker" : " workers") : "") +
          (im.seconds > 0 ? " · t = 1 after " + im.seconds.toFixed(2) + " s" : "");
        hud.textContent = text;
      }
      if (s.error) showError(s.error);
      else if (!errorBox.hidden && /^could not load|no longer finite/.test(errorBox.textContent)) showError("");
      if (++ticks % 5 === 0) refresh();
    }
    setTimeout(tick, 200);
  }
})();
