// Package explorer is the state and logic of the flowmatch explorer app, kept apart
// from any graphics library so that it is tested natively and under WebAssembly.
//
// An [App] holds the settings a person chooses (model, path, coupling, solver, NFE,
// particles, speed, overlays, side-by-side comparison), the models loaded so far, and
// one [Lane] per panel: a batch of particles integrated from the path's source noise
// towards the data with the pure-Go sampler, a few rows at a time within each frame's
// budget, keeping every step so that a time slider can scrub back and forth. Its
// [Clock] is the animation's schedule, which never runs ahead of what has been
// computed; [App.Clock] gives a copy, cheaply, for a play button or a time slider.
//
// Every setting is one row of the control table (control_table.go): [App.Controls],
// [App.Set], [App.Cycle], [App.Key], [Shortcuts] and [ParamOrder] are all built from it,
// so a new setting is one row. Set refuses settings whose kept trajectories would take
// more than [MaxTrajectoryBytes], reckoned in the model's dimension.
//
// The models come from a [Manifest]: models/manifest.json beside the page in the
// browser. One builder makes it, [BuildManifest], fed from a folder by
// [ManifestFromFS]: make www's manifest tool (wasm/cmd/manifest) writes its result to
// manifest.json, and the desktop program uses it directly in a folder without one. It
// takes each file's dataset, path and coupling from the file's metadata and falls back
// to the name convention DATASET-PATH[-otcfm].safetensors only for what the metadata
// does not say; the model shown first is [DefaultModel] unless the tool is told
// otherwise. Coupling names are the weights package's ([weights.Couplings]).
//
// The "Your data" mode (Settings.Mode [ModeYours]; ownmode.go, owndata.go,
// trainjob.go) learns a person's own 2-D points: drawn with a brush ([Brush]), read
// from a CSV ([App.LoadCSV], through package dataset's reader) or taken from a toy. It
// trains through the same worker protocol as the integration: a [Job] of kind
// [KindTrain] carries the points and the recipe to a worker, which standardises them,
// holds out a tenth, runs package gotrain and sends back a model file every half second
// and at the end; each file is shown in a lane as it comes. gotrain does not know the
// explorer, and the explorer reaches it only through that job.
//
// The Images mode (Settings.Mode [ModeImages]; images.go, imagerun.go, imagefarm.go,
// imagescene.go) shows a grid of images forming from noise through a class-conditional
// U-Net with classifier-free guidance: an [ImageRun] keeps every step's images and their
// predicted clean images x̂₁ = x_t + (1 − t)·v (the first stage of each solver step), so
// scrubbing computes nothing; its rows are shared over the pool as jobs of kind
// [KindImages]. The manifest lists image models with kind [KindImage], their shape and
// classes; the 2-D views never show them, and [App.LoadModelFile] shows a dropped one.
//
// A front end calls [App.Update] once a frame, draws [App.Scene], forwards input to
// [App.Set], [App.Do], [App.Key] and [App.DropAt], and reports [App.Status] (the object
// that window.flowmatch.status() returns in the browser).
package explorer
