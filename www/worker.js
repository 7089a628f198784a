// A Web Worker of the flowmatch explorer: runs worker.wasm (wasm/worker), which
// integrates the slices of particles the page sends it. See wasm/worker/doc.go for the
// messages. Messages that arrive while Go starts are kept and handed over in order.
//
// Started as worker.js?module, it waits for the page to post {type: "module", module}:
// worker.wasm compiled once by the page for all its workers (module null: fetch it here).
// Started as worker.js, it fetches and compiles worker.wasm itself.
// With kernel=simd in its URL (the page's build is main-simd.wasm) it fetches
// worker-simd.wasm instead: the workers always run the same kernel as the page.
"use strict";
importScripts("wasm_exec.js");

var wasmFile = /[?&]kernel=simd\b/.test(self.location.search) ? "worker-simd.wasm" : "worker.wasm";

var pending = [];
var begun = false;
var go = new Go();

function start(module) {
  begun = true;
  var started;
  if (module) {
    started = WebAssembly.instantiate(module, go.importObject);
  } else if (typeof WebAssembly.instantiateStreaming === "function") {
    started = WebAssembly.instantiateStreaming(fetch(wasmFile), go.importObject)
      .then(function (r) { return r.instance; });
  } else {
    started = fetch(wasmFile).then(function (r) { return r.arrayBuffer(); })
      .then(function (b) { return WebAssembly.instantiate(b, go.importObject); })
      .then(function (r) { return r.instance; });
  }
  started.then(function (instance) {
    go.run(instance); // runs main until it waits for work; it installs self.flowmatchWorker
    var handle = self.flowmatchWorker;
    if (typeof handle !== "function") throw new Error("worker.wasm did not install its message handler");
    self.onmessage = function (e) { handle(e.data); };
    var queued = pending;
    pending = null;
    queued.forEach(function (m) { handle(m); });
  }).catch(function (err) {
    self.postMessage({ type: "fatal", error: "could not start " + wasmFile + ": " + err });
  });
}

self.onmessage = function (e) {
  var m = e.data;
  if (!begun && m && m.type === "module") {
    start(m.module);
    return;
  }
  pending.push(m);
};
if (!/[?&]module\b/.test(self.location.search)) start(null);
