// Command worker is the explorer's Web Worker: www/worker.wasm, started by www/worker.js.
// The page (wasm/pool_js.go) starts a few of them and shares each large batch of
// particles among them, so that every core integrates while the page draws.
//
// It speaks in messages (structured clones):
//
//	page → worker  {type: "model", name, bytes: ArrayBuffer}   a model file, kept under name
//	worker → page  {type: "model", name, error: null | string}
//	page → worker  {type: "run", id, kind, model, method, steps, t0, t1, x: Float32Array}
//	               kind "images" adds labels (a class per row of x) and guidance
//	worker → page  {type: "frame", id, step, x: Float32Array}  after each of the steps
//	               (kind "images": clean, x̂₁ at the step's start, beside x)
//	worker → page  {type: "error", id, error}                   the job stopped (id −1: a
//	                                                            run without a numeric id)
//	page → worker  {type: "cancel", id}
//	worker → page  {type: "ready"}                              once, when Go runs
//	worker → page  {type: "fatal", error}                       worker.js could not start Go
//	page → worker  {type: "module", module}  first, to worker.js?module only: worker.wasm
//	                                         compiled by the page (null: fetch it)
//
// A run's kind is "integrate" (a run without one is an integration too), "train" (the
// "Your data" mode) or "images" (the Images mode: a slice of the grid's images through
// the U-Net with classifier-free guidance); a worker answers a kind it does not know, or a run it cannot read,
// with an error. Positions are n×d float32 values in data space, row after row.
//
// The loop is explorer.Worker.Serve, the same as the desktop's goroutines run: the
// messages are queued as they come and taken in order; a worker takes a step of each of
// its jobs in turn (so that panels side by side advance together) and answers a cancel
// between two steps.
//
// Built for anything but js/wasm it only says what it is.
package main
