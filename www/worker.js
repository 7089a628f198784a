// A Web Worker of the flowmatch explorer: runs worker.wasm (wasm/worker), which
// integrates the slices of particles the page sends it. See wasm/worker/doc.go for the
// messages. Messages that arrive while Go starts are kept and handed over in order.
"use strict";
importScripts("wasm_exec.js");

var pending = [];
self.onmessage = function (e) { pending.push(e.data); };

var go = new Go();
var started = typeof WebAssembly.instantiateStreaming === "function"
  ? WebAssembly.instantiateStreaming(fetch("worker.wasm"), go.importObject)
  : fetch("worker.wasm").then(function (r) { return r.arrayBuffer(); })
      .then(function (b) { return WebAssembly.instantiate(b, go.importObject); });
started.then(function (r) {
  go.run(r.instance); // runs main until it waits for work; it installs self.flowmatchWorker
  var handle = self.flowmatchWorker;
  if (typeof handle !== "function") throw new Error("worker.wasm did not install its message handler");
  self.onmessage = function (e) { handle(e.data); };
  var queued = pending;
  pending = null;
  queued.forEach(function (m) { handle(m); });
}).catch(function (err) {
  self.postMessage({ type: "fatal", error: "could not start worker.wasm: " + err });
});
