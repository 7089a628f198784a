//go:build !js

package main

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/flowmatch/flowmatch/explorer"
	"github.com/flowmatch/flowmatch/outfile"
	"github.com/flowmatch/flowmatch/wasm/internal/desktopflags"
	_ "github.com/flowmatch/flowmatch/wasm/internal/desktopflags/preflight" // before Ebiten's init: -h and no display
	"github.com/hajimehoshi/ebiten/v2"
)

// nativeHost is the desktop's host: models from a folder, settings from flags, the
// controls drawn on the canvas, and a screenshot mode for tests.
type nativeHost struct {
	dir      string
	set      map[string]string
	shot     string
	shotWait time.Duration
	settle   bool
	noUI     bool
	workers  explorer.ModelPool // a GoPool; nil: integrate only within each frame's budget
}

var _ host = (*nativeHost)(nil)

func newHost() *nativeHost {
	// preflight has handled -h, a bad command line and a missing display already.
	f, err := desktopflags.Parse(os.Args[1:])
	if err == nil {
		err = f.CheckSettings(paramOrder)
	}
	if err == nil && f.Shot != "" {
		if cerr := outfile.Check(f.Shot); cerr != nil {
			err = fmt.Errorf("-shot: %w", cerr)
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "flowmatch-explorer: %v\n", err)
		os.Exit(2)
	}
	h := &nativeHost{dir: f.Models, set: f.Settings, shot: f.Shot, shotWait: f.ShotTimeout, settle: f.Settle, noUI: f.NoUI}
	if h.dir == "" {
		h.dir = findModels()
	}
	if f.Workers > 0 && !h.settle {
		h.workers = explorer.NewGoPool(f.Workers)
	}
	return h
}

// findModels looks for models beside the working directory and the executable.
func findModels() string {
	var roots []string
	if wd, err := os.Getwd(); err == nil {
		roots = append(roots, wd, filepath.Dir(wd))
	}
	if exe, err := os.Executable(); err == nil {
		roots = append(roots, filepath.Dir(exe), filepath.Dir(filepath.Dir(exe)))
	}
	for _, r := range roots {
		for _, sub := range []string{"www/models", "weights"} {
			d := filepath.Join(r, sub)
			if m, _ := filepath.Glob(filepath.Join(d, "*"+explorer.ModelExt)); len(m) > 0 {
				return d
			}
		}
	}
	return "weights"
}

// manifest is the folder's manifest.json when it has one (make www writes it), else
// the list the same builder makes from the folder's model files; files it leaves out
// are logged.
func (h *nativeHost) manifest() (*explorer.Manifest, error) {
	b, err := os.ReadFile(filepath.Join(h.dir, "manifest.json"))
	if err == nil {
		return explorer.ParseManifest(b)
	}
	m, skipped := explorer.ManifestFromFS(os.DirFS(h.dir), "")
	for _, s := range skipped {
		h.warn(fmt.Sprintf("skipping %s: %v", filepath.Join(h.dir, s.File), s.Err))
	}
	if len(m.Models) == 0 {
		return nil, fmt.Errorf("no models in %s: run make www or make train-defaults, or pass -models DIR", h.dir)
	}
	return m, nil
}

func (h *nativeHost) load(e explorer.Entry) (*explorer.Model, error) {
	b, err := os.ReadFile(filepath.Join(h.dir, filepath.FromSlash(e.File)))
	if err != nil {
		return nil, err
	}
	return explorer.DecodeShared(h.workers, e, b)
}

func (h *nativeHost) params() map[string]string { return h.set }
func (h *nativeHost) canvasUI() bool            { return !h.noUI }

// pool is the app's Pool: goroutines (the sampler spreads each batch over the cores
// itself), or none.
func (h *nativeHost) pool() explorer.Pool { return h.workers }

func (h *nativeHost) warn(s string) { log.Print(s) }

func (h *nativeHost) attach(g *Game) {
	if h.settle {
		g.app.Settle()
		if _, ok := h.set["t"]; !ok {
			g.app.Set("t", "1")
		}
	}
	if h.shot == "" {
		return
	}
	start := time.Now()
	frames := 0
	g.onFrame = func(g *Game, screen *ebiten.Image) {
		st := g.app.Status()
		if st.Particles > 0 {
			frames++
		}
		// With -settle everything is computed before the first frame: a few frames are
		// enough. Otherwise wait for the run to reach its end.
		finished := frames > 3 && (h.settle || st.Done && st.T >= st.TMax)
		if !finished && time.Since(start) < h.shotWait && st.Error == "" {
			return
		}
		if err := writePNG(h.shot, screen); err != nil {
			log.Print(err)
		}
		fmt.Printf("screenshot %s: t %.3f, nfe %d, particles %d, frames %d, %.1f fps, first frame after %.0f ms\n",
			h.shot, st.T, st.NFE, st.Particles, st.Frames, st.FPS, st.FirstFrameMs)
		if st.Error != "" {
			fmt.Println("error:", st.Error)
		}
		g.err = ebiten.Termination
		g.onFrame = nil
	}
}

func writePNG(path string, img *ebiten.Image) error {
	b := img.Bounds()
	pix := make([]byte, 4*b.Dx()*b.Dy())
	img.ReadPixels(pix)
	rgba := &image.NRGBA{Pix: pix, Stride: 4 * b.Dx(), Rect: image.Rect(0, 0, b.Dx(), b.Dy())}
	var buf bytes.Buffer
	if err := png.Encode(&buf, rgba); err != nil {
		return err
	}
	if strings.TrimSpace(path) == "" {
		return fmt.Errorf("no screenshot path")
	}
	return outfile.WriteFile(path, buf.Bytes())
}
