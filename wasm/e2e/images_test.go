package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/flowmatch/flowmatch/dataset"
	"github.com/flowmatch/flowmatch/explorer"
	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/unet"
	"github.com/flowmatch/flowmatch/weights"
)

// shippedImageModel is the trained image model, which make www copies into the site.
const shippedImageModel = "fashion-unet"

// imageStatus is the Images mode's part of window.flowmatch.status().
type imageStatus struct {
	Mode     string                `json:"mode"`
	T        float64               `json:"t"`
	NFE      int                   `json:"nfe"`
	NFETotal int                   `json:"nfeTotal"`
	Solver   string                `json:"solver"`
	Workers  int                   `json:"workers"`
	Kernel   string                `json:"kernel"`
	First    float64               `json:"firstFrameMs"`
	Done     bool                  `json:"done"`
	Ready    bool                  `json:"ready"`
	Error    string                `json:"error"`
	Image    *explorer.ImageStatus `json:"image"`
	FPS      float64               `json:"fps"`
	UpdateMs float64               `json:"updateMs"`
	DrawMs   float64               `json:"drawMs"`
}

func getImages(t *testing.T, ctx context.Context) imageStatus {
	t.Helper()
	var st imageStatus
	if err := json.Unmarshal([]byte(eval[string](t, ctx, `JSON.stringify(window.flowmatch.status({sample: false}))`)), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// waitImages polls the status until ok, failing on an error in the page or the timeout.
func waitImages(t *testing.T, ctx context.Context, what string, timeout time.Duration, ok func(imageStatus) bool) imageStatus {
	t.Helper()
	deadline, lastLog := time.Now().Add(timeout), time.Now()
	for {
		st := getImages(t, ctx)
		switch {
		case st.Ready && st.Image != nil && ok(st):
			return st
		case st.Error != "":
			t.Fatalf("waiting for %s: the page reports an error: %s", what, st.Error)
		case time.Now().After(deadline):
			t.Fatalf("waiting for %s: gave up after %v: %+v", what, timeout, st)
		case time.Since(lastLog) > 10*time.Second && st.Image != nil:
			t.Logf("  waiting for %s: t %.2f, frontier %.2f", what, st.T, st.Image.Frontier)
			lastLog = time.Now()
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// randomImageModel writes a random-initialised U-Net of the shipped model's shape
// (unet.Default, Fashion-MNIST's 10 classes): the test needs the network's cost and
// shapes, not its quality.
func randomImageModel(t *testing.T, path string) {
	t.Helper()
	cfg := unet.Default()
	tensors := unet.RandomTensors(cfg, 14)
	f, err := weights.NewFileTensors(weights.Meta{Arch: weights.ArchUNet, Net: &weights.UNetSpec{Config: cfg},
		Path: weights.PathInfo{PathSpec: sampler.PathSpec{Name: sampler.PathOT}},
		Data: weights.DataInfo{Name: "fashion-mnist", Shape: cfg.Shape, Classes: dataset.FashionMNISTClasses(), Pixels: []float64{-1, 1}}}, tensors)
	if err != nil {
		t.Fatal(err)
	}
	if err := weights.WriteFile(path, f, weights.F16); err != nil {
		t.Fatal(err)
	}
}

// imageSite is the site to test the Images mode on and its image model's entry: www/
// when its manifest lists the shipped image model; else a copy of the site with the
// shipped file from weights/ when it exists, or a random one of its shape.
func imageSite(t *testing.T) (string, explorer.Entry) {
	www := wwwDir(t)
	if b, err := os.ReadFile(filepath.Join(www, "models", "manifest.json")); err == nil {
		m, err := explorer.ParseManifest(b)
		if err != nil {
			t.Fatalf("www/models/manifest.json: %v", err)
		}
		for _, e := range m.Models {
			if e.IsImage() && e.Name == shippedImageModel {
				t.Logf("the shipped image model, models/%s", e.File)
				return www, e
			}
		}
	}
	dir := copySite(t, www)
	models := filepath.Join(dir, "models")
	if _, err := os.Stat(filepath.Join(www, "models")); err == nil {
		if err := os.CopyFS(models, os.DirFS(filepath.Join(www, "models"))); err != nil {
			t.Fatal(err)
		}
	}
	dst := filepath.Join(models, shippedImageModel+".safetensors")
	if b, err := os.ReadFile(filepath.Join("..", "..", "weights", shippedImageModel+".safetensors")); err == nil {
		t.Logf("the shipped image model from weights/ (www/ was built before it)")
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
	} else {
		t.Logf("no weights/%s.safetensors yet: a random-initialised U-Net of its shape (images of noise)", shippedImageModel)
		randomImageModel(t, dst)
	}
	if _, err := os.Stat(filepath.Join(models, "moons-ot.safetensors")); err != nil {
		testModel(t, filepath.Join(models, "moons-ot.safetensors"), "ot")
	}
	os.Remove(filepath.Join(models, "manifest.json"))
	m, skipped := explorer.ManifestFromFS(os.DirFS(models), "")
	for _, s := range skipped {
		os.Remove(filepath.Join(models, s.File))
	}
	writeManifest(t, dir, *m)
	for _, e := range m.Models {
		if e.IsImage() {
			return dir, e
		}
	}
	t.Fatalf("the manifest lists no image model: %+v (skipped %v)", m, skipped)
	return "", explorer.Entry{}
}

// TestBrowserImages: the Images mode in headless Chromium: 16 images of all classes
// with guidance 1 through 10 midpoint steps (NFE 20) over 2 Web Workers, SIMD build. It
// waits for t = 1 and checks the status, the labels (image i: class i mod 10), that the
// canvas shows images (not blank cells) and x̂₁ beside them, that scrubbing shows a kept
// step at once, and that a 2-D model offered to the mode is one message; it logs the
// seconds the run took to reach t = 1 (issue 14's goal: ≤ 3 s on 2 cores; logged, not
// asserted).
func TestBrowserImages(t *testing.T) {
	dir, entry := imageSite(t)
	url := serve(t, dir)
	ctx := browser(t)
	cons := watchConsole(ctx)
	q := url + "?mode=images&class=all&guidance=1&images=16&solver=midpoint&nfe=20&workers=2"
	if err := chromedp.Do(ctx, chromedp.Navigate(q)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	st := waitImages(t, ctx, "t = 1", 5*time.Minute, func(s imageStatus) bool { return s.Done && s.T == 1 && s.Image.Seconds > 0 })
	is := st.Image
	t.Logf("16 images of %s, guidance 1, 10 midpoint steps (NFE 20) over %d Web Workers, kernel %s: t = 1 reached %.2f s after the run started (the page's clock; %.1f s after navigation by the test's, model loading and worker start included); the first frame of images %.0f ms after navigation started",
		entry.Name, is.Workers, st.Kernel, is.Seconds, time.Since(start).Seconds(), st.First)
	if st.First <= 0 {
		t.Errorf("firstFrameMs = %g in the Images mode", st.First)
	}
	if st.Mode != explorer.ModeImages || is.Class != explorer.ClassAll || is.Guidance != 1 || st.NFE != 20 || st.NFETotal != 20 ||
		st.Solver != "midpoint" || is.Images != 16 || is.Steps != 10 || st.Workers != 2 || is.Workers != 2 || is.PoolError != "" || st.Kernel != "simd" {
		t.Errorf("status %+v, images %+v", st, is)
	}
	if len(is.Labels) != 16 || len(entry.Classes) != 10 {
		t.Fatalf("%d labels, %d classes", len(is.Labels), len(entry.Classes))
	}
	for i, l := range is.Labels {
		if l != entry.Classes[i%10] {
			t.Errorf("image %d is labelled %q, want class %d mod 10, %q", i, l, i, entry.Classes[i%10])
		}
	}
	checkCells(t, ctx, "explorer-images.png", is.Cells)
	if kind := eval[string](t, ctx, `(() => { const e = document.getElementById("c-guidance"); return e ? e.type : "none"; })()`); kind != "range" {
		t.Errorf("the guidance control is a %q, want a slider (range)", kind)
	}

	// A second run from new noise, the workers warm; what the page's own thread spends a
	// frame meanwhile (it shares the 2 cores with the workers).
	eval[any](t, ctx, `window.flowmatch.do("noise")`)
	var fps, upd, draw []float64
	st = waitImages(t, ctx, "t = 1 from new noise", 5*time.Minute, func(s imageStatus) bool {
		if !s.Done {
			fps, upd, draw = append(fps, s.FPS), append(upd, s.UpdateMs), append(draw, s.DrawMs)
		}
		return s.Done && s.T == 1 && s.Image.Seconds > 0
	})
	t.Logf("again from new noise (workers warm): t = 1 reached %.2f s after the run started (goal ≤ 3 s, logged, not asserted); meanwhile the page drew %.0f fps, its update %.1f ms and drawing %.1f ms a frame (medians)",
		st.Image.Seconds, median(fps), median(upd), median(draw))

	// Scrubbing shows a kept step at once; x̂₁ beside x_t.
	eval[any](t, ctx, `window.flowmatch.set("clean", "on")`)
	scrub := eval[string](t, ctx, `(() => { window.flowmatch.set("t", "0.5"); return JSON.stringify(window.flowmatch.status({sample: false})); })()`)
	var sc imageStatus
	json.Unmarshal([]byte(scrub), &sc)
	if sc.T != 0.5 || sc.NFE != 10 || sc.Image.Step != 5 || len(sc.Image.CleanCells) != 16 || !sc.Image.Clean {
		t.Errorf("scrubbed to t = 0.5: t %v, nfe %d, step %d, %d x̂₁ cells", sc.T, sc.NFE, sc.Image.Step, len(sc.Image.CleanCells))
	}
	time.Sleep(300 * time.Millisecond) // a frame or two
	checkCells(t, ctx, "explorer-images-clean.png", append(sc.Image.Cells, sc.Image.CleanCells...))

	// A 2-D model offered to the Images mode is one message in words.
	msg, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch("models/moons-ot.safetensors").then(r => r.arrayBuffer()).then(b => String(window.flowmatch.loadModel("moons-ot.safetensors", new Uint8Array(b))))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msg, "the Images mode shows image models") {
		t.Errorf("a 2-D model dropped in the Images mode: %q", msg)
	}
	t.Logf("a 2-D model dropped on the Images mode: %s", msg)
	// And the image model offered to the 2-D views: by name, and as a dropped file.
	eval[any](t, ctx, `window.flowmatch.set("mode", "models")`)
	if e := eval[string](t, ctx, `String(window.flowmatch.set("model", "`+entry.Name+`"))`); !strings.Contains(e, "is an image model") {
		t.Errorf("model=%s in the 2-D mode: %q", entry.Name, e)
	}
	msg, err = chromedp.Run(ctx, chromedp.Evaluate[string](`fetch("models/`+entry.File+`").then(r => r.arrayBuffer()).then(b => String(window.flowmatch.loadModel("`+entry.File+`", new Uint8Array(b))))`,
		chromedp.EvalAwaitPromise))
	if err != nil || !strings.Contains(msg, "switch to the Images mode") {
		t.Errorf("the image model dropped on the 2-D view: %q, %v", msg, err)
	}
	t.Logf("the image model dropped on the 2-D view: %s", msg)
	if errs := cons.Errors(); len(errs) > 0 {
		t.Errorf("console errors:\n  %s", strings.Join(errs, "\n  "))
	}
}

// checkCells screenshots the page and checks that every cell (canvas pixels of the app's
// frame) holds a grey image with detail: not blank, not one flat colour.
func checkCells(t *testing.T, ctx context.Context, name string, cells []explorer.Rect) {
	t.Helper()
	img := screenshot(t, ctx, name)
	var off struct{ X, Y, Scale float64 }
	if err := json.Unmarshal([]byte(eval[string](t, ctx, `(() => { const r = document.getElementById("app").getBoundingClientRect();
		return JSON.stringify({X: r.left, Y: r.top, Scale: window.devicePixelRatio || 1}); })()`)), &off); err != nil {
		t.Fatal(err)
	}
	for i, c := range cells {
		// The lower 60% of the cell: its class label is drawn over the top left corner.
		r := image.Rect(int(off.X+c.X/off.Scale)+2, int(off.Y+(c.Y+0.4*c.H)/off.Scale), int(off.X+(c.X+c.W)/off.Scale)-2, int(off.Y+(c.Y+c.H)/off.Scale)-2)
		sd, grey := cellStats(img, r)
		if sd < 8 || grey < 0.9 {
			t.Errorf("cell %d at %v: intensity sd %.1f of 255, %.0f%% grey pixels: not an image", i, r, sd, 100*grey)
		}
	}
}

// cellStats is the standard deviation of r's intensities (0–255) and the fraction of its
// pixels that are grey (r = g = b within 3).
func cellStats(img image.Image, r image.Rectangle) (sd, grey float64) {
	var s, s2, n, g float64
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			v := float64(cr>>8+cg>>8+cb>>8) / 3
			s, s2, n = s+v, s2+v*v, n+1
			if max(cr, cg, cb)>>8-min(cr, cg, cb)>>8 <= 3 {
				g++
			}
		}
	}
	if n == 0 {
		return 0, 0
	}
	m := s / n
	return math.Sqrt(math.Max(0, s2/n-m*m)), g / n
}

// TestDesktopImages: the Images mode in the desktop build under Xvfb: 9 images and
// their x̂₁ to t = 1, saved as a PNG of the window whose image tiles are grey pixels.
func TestDesktopImages(t *testing.T) {
	if _, err := exec.LookPath("Xvfb"); err != nil {
		skip(t, "no Xvfb (apt-get install xvfb)")
	}
	dir, _ := imageSite(t)
	bin := filepath.Join(t.TempDir(), "flowmatch-explorer")
	build := exec.Command("go", "build", "-o", bin, "github.com/flowmatch/flowmatch/wasm")
	build.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := build.CombinedOutput(); err != nil {
		skip(t, "the desktop build needs cgo and the X11/GL headers: %v\n%s", err, out)
	}
	display := fmt.Sprintf(":%d", 80+rand.IntN(9))
	xvfb := exec.Command("Xvfb", display, "-screen", "0", "1280x860x24", "-nolisten", "tcp")
	if err := xvfb.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { xvfb.Process.Kill(); xvfb.Wait() }()
	time.Sleep(time.Second)
	shot := filepath.Join(outDir(t), "desktop-images.png")
	os.Remove(shot)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	app := exec.CommandContext(ctx, bin, "-models", filepath.Join(dir, "models"), "-mode", "images", "-images", "9", "-nfe", "10", "-clean", "on", "-shot", shot)
	app.Env = append(os.Environ(), "DISPLAY="+display)
	out, err := app.CombinedOutput()
	t.Logf("desktop explorer: %s", strings.TrimSpace(string(out)))
	if err != nil || !strings.Contains(string(out), "t 1.000, nfe 10, particles 9") {
		t.Fatalf("the desktop explorer: %v, want the run at t = 1 with 9 images", err)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	grey := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r == g && g == bl && r>>8 > 40 {
				grey++
			}
		}
	}
	if grey < 5000 {
		t.Errorf("the desktop window has %d grey pixels (of every fourth): are the images drawn?", grey)
	}
	t.Logf("desktop screenshot %s: %d grey pixels of every fourth", shot, grey)
}
