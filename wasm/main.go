// Command wasm is the flowmatch explorer: an Ebiten app that animates particles
// flowing from noise into data with the pure-Go sampler, and lets people explore
// paths, solvers, step counts, the vector field and the learned density.
//
// Built with GOOS=js GOARCH=wasm it is www/main.wasm, driven by the page's HTML
// controls through window.flowmatch (see www/README.md). Built natively it is a desktop
// program with the controls drawn on the canvas (make desktop).
package main

import (
	"errors"
	"log"
	"math/rand/v2"
	"strings"

	"github.com/flowmatch/flowmatch/dataset"
	"github.com/flowmatch/flowmatch/explorer"
	"github.com/hajimehoshi/ebiten/v2"
)

// paramOrder is the order in which settings from the query string or the command line
// are applied: the explorer's control table's, the model first, since it decides which
// paths exist.
var paramOrder = explorer.ParamOrder()

func main() {
	var h host = newHost()
	man, err := h.manifest()
	app := explorer.New(explorer.Config{Load: h.load, Data: sampleData, Pool: h.pool()}, man, explorer.DefaultSettings(), err)
	params := h.params()
	var bad []string
	for _, name := range paramOrder {
		if v, ok := params[name]; ok {
			if err := app.Set(name, v); err != nil {
				bad = append(bad, err.Error())
			}
		}
	}
	g := newGame(app, h.canvasUI())
	if len(bad) > 0 {
		msg := "ignored settings: " + strings.Join(bad, "; ")
		h.warn(msg)
		app.Notify(msg)
	}
	h.attach(g)
	ebiten.SetWindowTitle("flowmatch explorer: noise flowing into data")
	ebiten.SetWindowSize(1200, 800)
	ebiten.SetWindowResizingMode(ebiten.WindowResizingModeEnabled)
	// One Update per frame: the app measures its frame time and spends part of each
	// frame integrating; catch-up ticks would stack that work and slow the frames down.
	ebiten.SetTPS(ebiten.SyncWithFPS)
	if err := ebiten.RunGameWithOptions(g, &ebiten.RunGameOptions{}); err != nil && !errors.Is(err, ebiten.Termination) {
		log.Fatal(err)
	}
}

// sampleData draws the true data for the overlay and the live quality figure.
func sampleData(name string, n int, seed uint64) ([]float32, error) {
	return dataset.Sample(name, n, rand.New(rand.NewPCG(seed, 0xda7a)))
}
