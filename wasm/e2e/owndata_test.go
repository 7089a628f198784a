package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/flowmatch/flowmatch/dataset"
	"github.com/flowmatch/flowmatch/explorer"
	"github.com/flowmatch/flowmatch/metrics"
	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/weights"
)

// ownW2Goal is the "Your data" mode's goal (issue 13), asserted on the page's
// particles: a model trained in the page samples within 1.3× the i.i.d. floor, the W2
// that an ideal model scores (metrics.W2IIDFloor: two moons draws balance their moons
// exactly, so the data-vs-data W2 is about 1.25× lower than any model's can be). The
// downloaded file, sampled natively from other noise, is held to ownW2Bound, the bound
// TestBrowser puts on the shipped models: it checks the file, not the training.
const (
	ownW2Goal  = 1.3
	ownW2Bound = maxW2Ratio
)

// ownSteps is the fixed number of training steps ($FLOWMATCH_E2E_OWN_STEPS overrides it):
// independent pairs, a peak learning rate of 1e-2 (the mode's defaults).
func ownSteps() int {
	if n, err := strconv.Atoi(os.Getenv("FLOWMATCH_E2E_OWN_STEPS")); err == nil && n > 0 {
		return n
	}
	return 6000
}

// ownStatus is the "Your data" part of window.flowmatch.status().
type ownStatus struct {
	Mode   string               `json:"mode"`
	Done   bool                 `json:"done"`
	T      float64              `json:"t"`
	TMax   float64              `json:"tMax"`
	Model  string               `json:"model"`
	Error  string               `json:"error"`
	Sample [][2]float64         `json:"sample"`
	Train  explorer.TrainStatus `json:"train"`
}

func getOwn(t *testing.T, ctx context.Context) ownStatus {
	t.Helper()
	var st ownStatus
	if err := json.Unmarshal([]byte(eval[string](t, ctx, `JSON.stringify(window.flowmatch.status())`)), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// waitOwn polls the status until ok, failing on a training error or the timeout.
func waitOwn(t *testing.T, ctx context.Context, what string, timeout time.Duration, ok func(ownStatus) bool) ownStatus {
	t.Helper()
	deadline, lastLog := time.Now().Add(timeout), time.Now()
	for {
		st := getOwn(t, ctx)
		switch {
		case ok(st):
			return st
		case st.Train.Error != "" || st.Error != "":
			t.Fatalf("waiting for %s: %s %s", what, st.Train.Error, st.Error)
		case time.Now().After(deadline):
			t.Fatalf("waiting for %s: gave up after %v: %+v", what, timeout, st.Train)
		case time.Since(lastLog) > 10*time.Second:
			t.Logf("  waiting for %s: %s, step %d of %d, %.0f steps/s", what, st.Train.State, st.Train.Step, st.Train.Steps, st.Train.StepsPerSec)
			lastLog = time.Now()
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// trainInPage trains for the set steps and waits for the final model's particles to
// reach the end; it returns them and the time the training took.
func trainInPage(t *testing.T, ctx context.Context, what string) ([]float32, ownStatus) {
	t.Helper()
	if e := eval[any](t, ctx, `window.flowmatch.do("train")`); e != nil {
		t.Fatalf("train: %v", e)
	}
	start := time.Now()
	st := waitOwn(t, ctx, what+" to train", 15*time.Minute, func(s ownStatus) bool { return s.Train.State == explorer.TrainDone })
	wall := time.Since(start)
	st = waitOwn(t, ctx, what+"'s particles to reach the end", 3*time.Minute, func(s ownStatus) bool {
		return s.Done && s.TMax > 0 && s.T >= s.TMax && len(s.Sample) > 0
	})
	t.Logf("%s: %d points, %d steps in %.1f s of training (%.1f s by the test's clock), %.0f steps/s, loss %.4f",
		what, st.Train.Points, st.Train.Step, st.Train.Seconds, wall.Seconds(), st.Train.StepsPerSec, st.Train.Loss)
	pts := make([]float32, 0, 2*len(st.Sample))
	for _, p := range st.Sample {
		pts = append(pts, float32(p[0]), float32(p[1]))
	}
	return pts, st
}

// checkW2 asserts that pts are within bound of the i.i.d. floor of draw, and logs how
// far they are from ownW2Goal.
func checkW2(t *testing.T, what string, pts []float32, draw func(n int, seed uint64) []float32, bound float64) {
	t.Helper()
	n := len(pts) / 2
	w2, err := metrics.W2(pts, draw(n, 101), 2)
	if err != nil {
		t.Fatal(err)
	}
	seed := uint64(200)
	next := func(m int) ([]float32, error) { seed++; return draw(m, seed), nil }
	floor, _, err := metrics.W2IIDFloor(next, 2, n, 8, rand.New(rand.NewPCG(7, 8))) // 8 draws, as make results: one draw varies by 10–30%
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: W2(particles, fresh data) = %.4f; i.i.d. floor %.4f; ratio %.2f (goal ≤ %.1f: %v; asserted ≤ %.1f)",
		what, w2, floor, w2/floor, ownW2Goal, w2 <= ownW2Goal*floor, bound)
	if w2 > bound*floor {
		t.Errorf("%s: W2 %.4f > %.1f × the i.i.d. floor %.4f", what, w2, bound, floor)
	}
}

// modelBytes is the page's trained model file, window.flowmatch.model().
func modelBytes(t *testing.T, ctx context.Context) ([]byte, string) {
	t.Helper()
	var m struct {
		Name  string `json:"name"`
		Bytes []byte `json:"bytes"`
	}
	js := `(() => { const m = window.flowmatch.model(); if (!m) return "null";
		let s = ""; for (let i = 0; i < m.bytes.length; i += 8192) s += String.fromCharCode.apply(null, m.bytes.subarray(i, i + 8192));
		return JSON.stringify({name: m.name, bytes: btoa(s)}); })()`
	if err := json.Unmarshal([]byte(eval[string](t, ctx, js)), &m); err != nil || m.Bytes == nil {
		t.Fatalf("window.flowmatch.model(): %v", err)
	}
	return m.Bytes, m.Name
}

// drawRing draws a ring of radius r around (0, 0) with synthetic pointer events on the
// canvas: a press, moves around the circle with the button held, a release.
func drawRing(t *testing.T, ctx context.Context, r float64, moves int) {
	t.Helper()
	st := getOwn(t, ctx)
	v := st.Train.View
	if v.Port.W <= 0 || v.Half <= 0 {
		t.Fatalf("the drawing's view is not known: %+v", v)
	}
	// The canvas fills app.html's frame; the page's coordinates are the frame's plus
	// the canvas's in CSS pixels (the view's are the canvas's device pixels).
	at := eval[[]float64](t, ctx, `(() => { const f = document.getElementById("app"), r = f.getBoundingClientRect();
		const c = f.contentDocument.querySelector("canvas").getBoundingClientRect();
		return [r.x + c.x, r.y + c.y, f.contentWindow.devicePixelRatio]; })()`)
	page := func(x, y float64) (float64, float64) {
		sx, sy := v.ToScreen(x, y)
		return at[0] + sx/at[2], at[1] + sy/at[2]
	}
	held := func(p *input.DispatchMouseEventParams) { p.Buttons = 1 } // the left button, down
	var acts []chromedp.Action[chromedp.Void]
	x, y := page(r, 0)
	acts = append(acts, chromedp.MouseEvent(chromedp.MousePressed, x, y, chromedp.ButtonLeft, held, chromedp.ClickCount(1)))
	for i := 1; i <= moves; i++ {
		a := 2 * math.Pi * float64(i) / float64(moves)
		x, y = page(r*math.Cos(a), r*math.Sin(a))
		acts = append(acts, chromedp.MouseEvent(chromedp.MouseMoved, x, y, chromedp.ButtonLeft, held))
	}
	acts = append(acts, chromedp.MouseEvent(chromedp.MouseReleased, x, y, chromedp.ButtonLeft, chromedp.ClickCount(1)))
	if err := chromedp.Do(ctx, acts...); err != nil {
		t.Fatal(err)
	}
}

// TestBrowserYourData: in headless Chromium, the "Your data" mode trains a page-generated
// 2,000-point moons and a ring drawn with synthetic pointer events for a fixed number of
// steps in a Web Worker, and the particles of each model come within ownW2Goal of the
// i.i.d. floor (logged, with the time); the
// downloaded bytes decode with the weights package and sample in the drawn coordinates.
// It takes the mode's screenshots (yourdata-*.png) for the README.
func TestBrowserYourData(t *testing.T) {
	dir, _ := site(t)
	url := serve(t, dir)
	ctx := browser(t)
	cons := watchConsole(ctx)
	steps := ownSteps()
	q := fmt.Sprintf("?mode=yours&trainSteps=%d&particles=2000&solver=midpoint&nfe=40&toy=moons", steps)
	if err := chromedp.Do(ctx, chromedp.Navigate(url+q)); err != nil {
		t.Fatal(err)
	}
	st := waitOwn(t, ctx, "the page", 2*time.Minute, func(s ownStatus) bool { return s.Mode == explorer.ModeYours && s.Train.Points > 0 })
	if st.Train.Points != explorer.ToyPoints || st.Train.Data != "moons" {
		t.Fatalf("the page's moons: %+v", st.Train)
	}
	moons := func(n int, seed uint64) []float32 {
		x, err := dataset.Sample("moons", n, rand.New(rand.NewPCG(seed, 5)))
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	pts, _ := trainInPage(t, ctx, "moons")
	checkW2(t, "moons", pts, moons, ownW2Goal)
	screenshot(t, ctx, "yourdata-moons.png")

	// The downloaded model decodes and samples natively, in the data's coordinates.
	b, name := modelBytes(t, ctx)
	f, err := weights.DecodeBytes(b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if p := f.Meta.Provenance; p.Steps != steps || p.Command != "browser" || p.Notes["engine"] != "go" || f.Meta.Data.Normalization == nil {
		t.Errorf("%s: provenance %+v", name, p)
	}
	net, _, err := f.Field()
	if err != nil {
		t.Fatal(err)
	}
	x := explorer.Noise(77, 2000, 2)
	if _, err := sampler.Solve(net, x, sampler.Options{Method: sampler.Midpoint, Steps: 20}); err != nil {
		t.Fatal(err)
	}
	f.Meta.Data.ToData(x)
	checkW2(t, "moons, the downloaded file sampled natively", x, moons, ownW2Bound)

	// A ring, drawn.
	const radius, spread = 1.5, 0.05
	for _, js := range []string{`window.flowmatch.do("reset")`, `window.flowmatch.do("erase-all")`,
		`window.flowmatch.set("spread", "0.05")`, `window.flowmatch.set("dab", "4")`} {
		if e := eval[any](t, ctx, js); e != nil {
			t.Fatalf("%s: %v", js, e)
		}
	}
	drawRing(t, ctx, radius, 500)
	st = getOwn(t, ctx)
	if st.Train.Points < 1900 || st.Train.Data != "drawn" {
		t.Fatalf("the drawn ring: %+v", st.Train)
	}
	ring := func(n int, seed uint64) []float32 {
		rng := rand.New(rand.NewPCG(seed, 6))
		x := make([]float32, 2*n)
		for i := range n {
			a := 2 * math.Pi * rng.Float64()
			x[2*i], x[2*i+1] = float32(radius*math.Cos(a)+spread*rng.NormFloat64()), float32(radius*math.Sin(a)+spread*rng.NormFloat64())
		}
		return x
	}
	pts, _ = trainInPage(t, ctx, "the drawn ring")
	checkW2(t, "ring", pts, ring, ownW2Goal)
	screenshot(t, ctx, "yourdata-ring.png")
	if errs := cons.Errors(); len(errs) > 0 {
		t.Errorf("console errors: %v", errs)
	}
}

// TestBrowserYourDataLinks: a page's address carries the points: ?data= a CSV of the
// same site (fetched; a bad file or another site's address is an error in the page, not
// a panic) or #points= a drawing (explorer.EncodePoints).
func TestBrowserYourDataLinks(t *testing.T) {
	dir := copySite(t, wwwDir(t))
	testModel(t, filepath.Join(dir, "models", "moons-ot.safetensors"), "ot")
	writeManifest(t, dir, explorer.Manifest{Version: 1, Default: "moons-ot", Models: []explorer.Entry{
		{Name: "moons-ot", Dataset: "moons", Path: "ot", File: "moons-ot.safetensors"}}})
	csv := "x,y\n"
	for i := range 300 {
		csv += fmt.Sprintf("%g,%g\n", math.Cos(float64(i)), 2+math.Sin(float64(i)))
	}
	for name, body := range map[string]string{"pts.csv": csv, "bad.csv": "1,2,3\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	url := serve(t, dir)
	ctx := browser(t)
	drawn := explorer.Brush(nil, 1, -1, 0.3, 123, rand.New(rand.NewPCG(1, 1)))
	for _, c := range []struct {
		query      string
		points     int
		data, fail string
	}{
		{"?data=pts.csv", 300, "pts.csv", ""},
		{"?data=bad.csv", 0, "", "bad.csv"},
		{"?data=missing.csv", 0, "", "404"},
		{"?data=http://example.com/x.csv", 0, "", "only files of this site"},
		{"#points=" + explorer.EncodePoints(drawn), 123, "linked", ""},
		{"?again=1#points=AAAA", 0, "", "points"},
	} {
		if err := chromedp.Do(ctx, chromedp.Navigate(url+"/"+c.query)); err != nil {
			t.Fatal(err)
		}
		var st ownStatus
		deadline := time.Now().Add(2 * time.Minute)
		for {
			st = getOwn(t, ctx)
			if st.Mode == explorer.ModeYours && (st.Train.Points > 0 || st.Train.Error != "") || time.Now().After(deadline) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if st.Train.Points != c.points || st.Train.Data != c.data || (c.fail == "") != (st.Train.Error == "") ||
			!strings.Contains(st.Train.Error, c.fail) {
			t.Errorf("%s: mode %q, %d points of %q, error %q; want %d points of %q, an error saying %q",
				c.query, st.Mode, st.Train.Points, st.Train.Data, st.Train.Error, c.points, c.data, c.fail)
		}
	}
}
