package main

import "github.com/flowmatch/flowmatch/explorer"

// host is what main needs from where the app runs: the browser (jsHost, host_js.go)
// or the desktop (nativeHost, host_native.go).
type host interface {
	// manifest lists the models: models/manifest.json beside the page in the browser;
	// on the desktop that file in the models folder, or the list built from the folder's
	// files by the same rule (explorer.ManifestFromFS).
	manifest() (*explorer.Manifest, error)
	// load reads and decodes one model of the manifest.
	load(e explorer.Entry) (*explorer.Model, error)
	// params are the settings given at start: the query string or the command line.
	params() map[string]string
	// canvasUI reports whether the controls are drawn on the canvas.
	canvasUI() bool
	// pool is where lanes are farmed out (Web Workers or goroutines), or nil.
	pool() explorer.Pool
	// warn tells a person something went wrong without stopping: the console or the log.
	warn(s string)
	// attach connects the game to its surroundings once it is made, before it runs.
	attach(g *Game)
}
