// Package explorer is the state and logic of the flowmatch explorer app, kept apart
// from any graphics library so that it is tested natively and under WebAssembly.
//
// An [App] holds the settings a person chooses (model, path, solver, NFE, particles,
// speed, overlays, side-by-side comparison), the models loaded so far, and one [Lane] per
// panel: a batch of particles integrated from the path's source noise towards the data
// with the pure-Go sampler, a few rows at a time within each frame's budget, keeping
// every step so that a time slider can scrub back and forth. Its [Clock] is the
// animation's schedule, which never runs ahead of what has been computed.
//
// A front end calls [App.Update] once a frame, draws [App.Scene], forwards input to
// [App.Set], [App.Do], [App.Key] and [App.DropAt], and reports [App.Status] (the object
// that window.flowmatch.status() returns in the browser).
package explorer
