package explorer

import (
	"errors"
	"math"
	"os"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/unet"
	"github.com/flowmatch/flowmatch/weights"
)

// imageOnly are the controls shown in the Images mode only.
var imageOnly = map[string]bool{"imageModel": true, "class": true, "guidance": true, "images": true, "clean": true}

// tinyUNet is a U-Net small enough to sample in tests: 1×8×8 images of 10 classes.
func tinyUNet() unet.Config {
	return unet.Config{Shape: []int{1, 8, 8}, Channels: 4, Mult: []int{1, 2}, Blocks: 1, Groups: 2,
		TimeFeatures: 4, Emb: 8, Classes: 10}
}

var testClasses = []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}

// imageModelFile is a U-Net file of cfg with unet.RandomTensors' values, for
// Fashion-MNIST-like data on the OT path.
func imageModelFile(t testing.TB, cfg unet.Config, seed uint64) []byte {
	t.Helper()
	tensors := unet.RandomTensors(cfg, seed)
	meta := weights.Meta{Arch: weights.ArchUNet, Net: &weights.UNetSpec{Config: cfg},
		Path: weights.PathInfo{PathSpec: sampler.PathSpec{Name: sampler.PathOT}},
		Data: weights.DataInfo{Name: "fashion-mnist", Shape: cfg.Shape, Classes: testClasses[:cfg.Classes], Pixels: []float64{-1, 1}}}
	f, err := weights.NewFileTensors(meta, tensors)
	if err != nil {
		t.Fatal(err)
	}
	b, err := weights.Marshal(f, weights.F32)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func imageNet(t testing.TB, b []byte) *unet.Net {
	t.Helper()
	m, err := DecodeModel("img", "", b)
	if err != nil {
		t.Fatal(err)
	}
	net, err := m.UNet()
	if err != nil {
		t.Fatal(err)
	}
	return net
}

// TestImageLabels: all classes gives image i class i mod 10, a class every image it; the
// grid is near-square and its cells lie in the panel without overlapping.
func TestImageLabels(t *testing.T) {
	for i, c := range imageLabels(testClasses, ClassAll, 23) {
		if c != i%10 {
			t.Fatalf("all: image %d has class %d", i, c)
		}
	}
	for _, c := range imageLabels(testClasses, "Dress", 5) {
		if c != 3 {
			t.Fatalf("Dress: class %d", c)
		}
	}
	for _, c := range imageLabels(nil, ClassAll, 3) {
		if c != 0 {
			t.Fatalf("no classes: label %d, want the null class 0", c)
		}
	}
	for _, tc := range []struct{ n, cols, rows int }{{1, 1, 1}, {4, 2, 2}, {10, 4, 3}, {16, 4, 4}, {17, 5, 4}, {64, 8, 8}} {
		if c, r := gridShape(tc.n); c != tc.cols || r != tc.rows {
			t.Errorf("gridShape(%d) = %d×%d, want %d×%d", tc.n, c, r, tc.cols, tc.rows)
		}
		port := Rect{X: 10, Y: 20, W: 900, H: 500}
		cells, clean := imageCells(port, tc.n, true)
		all := append(cells, clean...)
		if len(cells) != tc.n || len(clean) != tc.n {
			t.Fatalf("%d images: %d and %d cells", tc.n, len(cells), len(clean))
		}
		for i, a := range all {
			if a.W < 1 || a.W != a.H || a.X < port.X || a.Y < port.Y || a.X+a.W > port.X+port.W || a.Y+a.H > port.Y+port.H {
				t.Errorf("%d images: cell %d %+v is not a square in %+v", tc.n, i, a, port)
			}
			for j, b := range all[:i] {
				if a.X < b.X+b.W && b.X < a.X+a.W && a.Y < b.Y+b.H && b.Y < a.Y+a.H {
					t.Errorf("%d images: cells %d and %d overlap", tc.n, j, i)
				}
			}
		}
	}
}

// TestImageRun: each step's images equal sampler.Solve's on the guided field (within
// float32 rounding: the run steps rows in pieces), and x̂₁ of each step equals x_t +
// (1 − t)·v(x_t, t) computed directly from the guided field, for every solver.
func TestImageRun(t *testing.T) {
	net := imageNet(t, imageModelFile(t, tinyUNet(), 1))
	n, d, steps := 5, net.Dim(), 3
	labels := imageLabels(testClasses, ClassAll, n)
	x0 := Noise(2, n, d)
	for _, method := range sampler.Methods() {
		r, err := NewImageRun(net, method, steps, 0, 1, x0, labels, 1.5)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range []int{1, 7, 3} { // uneven pieces
			r.Advance(u)
		}
		r.Finish()
		g := &unet.Guided{Net: net, Labels: labels, W: 1.5}
		want := append([]float32(nil), x0...)
		grid := []float64{r.Time(0), r.Time(1), r.Time(2), r.Time(3)}
		var frames [][]float32
		if _, err := sampler.Solve(g, want, sampler.Options{Method: method, Grid: grid,
			OnStep: func(_ float64, x []float32) { frames = append(frames, append([]float32(nil), x...)) }}); err != nil {
			t.Fatal(err)
		}
		v := make([]float32, n*d)
		for k := 0; k <= steps; k++ {
			closeTo(t, method+" frame", r.Frame(k), frames[k], 1e-5) // frames[0] is the start
			g.Velocity(v, r.Frame(k), r.Time(k))
			wantClean := make([]float32, n*d)
			for i := range wantClean {
				wantClean[i] = r.Frame(k)[i] + float32(1-r.Time(k))*v[i]
			}
			closeTo(t, method+" x̂₁", r.Clean(k), wantClean, 1e-5)
		}
	}
}

// closeTo fails unless got and want agree within tol relative to 1 + max |want|.
func closeTo(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	var e, s float64
	for i := range want {
		e = math.Max(e, math.Abs(float64(got[i])-float64(want[i])))
		s = math.Max(s, math.Abs(float64(want[i])))
	}
	if e > tol*(1+s) {
		t.Errorf("%s: max difference %.3g (scale %.3g)", what, e, s)
	}
}

// TestImageRunFarmed: shared over workers (more than the images, and fewer), the run
// gives the images and x̂₁ it gives computed here; a worker's error takes it back.
func TestImageRunFarmed(t *testing.T) {
	b := imageModelFile(t, tinyUNet(), 1)
	net := imageNet(t, b)
	n, d := 5, net.Dim()
	labels := imageLabels(testClasses, "Bag", n)
	x0 := Noise(3, n, d)
	local, _ := NewImageRun(net, sampler.Midpoint, 4, 0, 1, x0, labels, 1)
	local.Finish()
	for _, workers := range []int{2, 7} {
		p := newGoPool(t, workers, map[string][]byte{"img": b})
		r, _ := NewImageRun(net, sampler.Midpoint, 4, 0, 1, x0, labels, 1)
		id := 0
		if !r.Farm(p, "img", func() int { id++; return id }) || r.Workers() != min(workers, n) {
			t.Fatalf("%d workers: farmed to %d", workers, r.Workers())
		}
		for !r.Done() {
			time.Sleep(time.Millisecond) // let the workers run (js/wasm does not preempt)
			for _, res := range p.Poll(nil) {
				if !r.Deliver(res) {
					t.Fatalf("result of job %d not the run's", res.ID)
				}
			}
		}
		if r.PoolErr() != "" {
			t.Fatal(r.PoolErr())
		}
		for k := 0; k <= 4; k++ {
			closeTo(t, "farmed frame", r.Frame(k), local.Frame(k), 1e-6)
			closeTo(t, "farmed x̂₁", r.Clean(k), local.Clean(k), 1e-6)
		}
	}
	// A worker that does not have the model answers with an error: the run comes back.
	p := newGoPool(t, 2, nil)
	r, _ := NewImageRun(net, sampler.Euler, 2, 0, 1, x0, labels, 1)
	id := 0
	r.Farm(p, "img", func() int { id++; return id })
	for r.Farmed() {
		time.Sleep(time.Millisecond)
		for _, res := range p.Poll(nil) {
			r.Deliver(res)
		}
	}
	if !strings.Contains(r.PoolErr(), "was not sent") {
		t.Errorf("pool error %q", r.PoolErr())
	}
	r.Finish()
	if !r.Done() || r.Err() != nil {
		t.Errorf("taken back: done %v, %v", r.Done(), r.Err())
	}
}

// imageApp is an app whose manifest has a 2-D model and an image model, both decoded
// from files as the page decodes them.
func imageApp(t *testing.T, pool Pool) (*App, *fakeClock) {
	t.Helper()
	files := fstest.MapFS{
		"fashion-unet.safetensors": {Data: imageModelFile(t, tinyUNet(), 1)},
		"moons-ot.safetensors":     {Data: mustRead(t, "../weights/moons-ot.safetensors")},
	}
	man, skipped := ManifestFromFS(files, "")
	if len(skipped) > 0 || len(man.Models) != 2 {
		t.Fatalf("manifest %+v, skipped %v", man, skipped)
	}
	clk := newFakeClock()
	cfg := Config{Now: clk.Now, Pool: pool, Load: func(e Entry) (*Model, error) {
		f, ok := files[e.File]
		if !ok {
			return nil, errors.New("no such file")
		}
		if mp, ok := pool.(ModelPool); ok {
			return DecodeShared(mp, e, f.Data)
		}
		return DecodeModel(e.Name, e.Dataset, f.Data)
	}}
	a := New(cfg, man, DefaultSettings(), nil)
	a.SetArea(Rect{0, 0, 800, 600})
	return a, clk
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("shipped model: %v", err)
	}
	return b
}

// TestImagesMode: the mode in the app, computed in a pool: the manifest's entry, the
// status while loading and at t = 1, labels i mod 10, scrubbing without computing, x̂₁
// beside x_t, and the settings' errors.
func TestImagesMode(t *testing.T) {
	p := NewGoPool(2)
	t.Cleanup(func() { p.Close() })
	a, clk := imageApp(t, p)
	if ds := a.Manifest().Datasets(); len(ds) != 1 || ds[0] != "moons" {
		t.Errorf("2-D datasets %v", ds)
	}
	e, _ := a.imageEntry(a.Settings())
	if e.Kind != KindImage || len(e.Shape) != 3 || e.Shape[1] != 8 || len(e.Classes) != 10 || e.Dataset != "fashion-mnist" {
		t.Errorf("image entry %+v", e)
	}
	for _, kv := range [][2]string{{"mode", ModeImages}, {"nfe", "6"}, {"solver", "midpoint"}} {
		if err := a.Set(kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range a.Controls() {
		shown := imageOnly[c.Name] && c.Name != "imageModel" || imageShared[c.Name]
		if shown == c.Hidden {
			t.Errorf("control %s hidden %v in the Images mode", c.Name, c.Hidden)
		}
	}
	for i := 0; i < 2000 && !a.Status().Done; i++ {
		clk.frame(a, 1)
		time.Sleep(time.Millisecond)
	}
	clk.run(a, 200, 50*time.Millisecond) // play to the end
	st := a.Status()
	is := st.Image
	if st.Mode != ModeImages || is == nil || !is.Done || is.T != 1 || st.T != 1 || st.NFE != 6 || is.Steps != 3 || st.Solver != "midpoint" ||
		is.Images != 16 || is.Guidance != 1 || is.Class != ClassAll || is.Workers != 2 || is.Seconds <= 0 || len(is.Cells) != 16 || st.Error != "" ||
		st.FirstFrameMs <= 0 {
		t.Fatalf("status %+v, image %+v", st, is)
	}
	for i, l := range is.Labels {
		if l != testClasses[i%10] {
			t.Errorf("image %d labelled %q, want %q", i, l, testClasses[i%10])
		}
	}
	// Scrubbing shows the kept steps at once; x̂₁ beside them.
	run := a.img.run
	for _, tt := range []string{"0.5", "0", "0.34", "1"} {
		a.Set("t", tt)
		sc := a.Scene()
		g := sc.Panels[0].Images
		if g == nil || a.img.run != run || g.K != run.FrameAt(a.Clock().T) || &g.X[0][0] == nil {
			t.Fatalf("t %s: grid %+v", tt, g)
		}
		for i, x := range g.X {
			want := append([]float32(nil), run.Frame(g.K)[i*64:(i+1)*64]...)
			a.models[a.img.slot].model.Data.ToPixels(want)
			closeTo(t, "pixels", x, want, 0)
		}
	}
	a.Set("clean", "on")
	a.Set("t", "0.5")
	if g := a.Scene().Panels[0].Images; len(g.Clean) != 16 || len(g.CleanCells) != 16 || g.K != 1 {
		t.Errorf("x̂₁ shown: %d images, %d cells, step %d", len(g.Clean), len(g.CleanCells), g.K)
	}
	a.Do("step")
	if k := run.FrameAt(a.Clock().T); k != 2 {
		t.Errorf("a step forward from t = 0.5 shows step %d, want 2", k)
	}
	// Settings: a class by name or number; out of range and bad guidance refused.
	for _, kv := range [][2]string{{"class", "7"}, {"class", "dress"}, {"guidance", "0"}, {"guidance", "4"}, {"images", "64"}} {
		if err := a.Set(kv[0], kv[1]); err != nil {
			t.Errorf("%s=%s: %v", kv[0], kv[1], err)
		}
	}
	if a.Settings().Img.Class != "Dress" {
		t.Errorf("class %q", a.Settings().Img.Class)
	}
	for _, kv := range [][3]string{{"class", "12", "a class 0 to 9"}, {"class", "hat", "Ankle boot"}, {"guidance", "-1", "from 0 to 4"},
		{"guidance", "NaN", "from 0 to 4"}, {"images", "65", "1 to 64"}} {
		if err := a.Set(kv[0], kv[1]); err == nil || !strings.Contains(err.Error(), kv[2]) {
			t.Errorf("%s=%s: %v, want one naming %q", kv[0], kv[1], err, kv[2])
		}
	}
}

// TestImagesBadModels: an image model offered to the 2-D pictures, and a 2-D model to
// the Images mode, each give one message in words; a manifest without image models
// offers no Images mode.
func TestImagesBadModels(t *testing.T) {
	a, _ := imageApp(t, nil)
	if err := a.Set("model", "fashion-unet"); err == nil || !strings.Contains(err.Error(), "Images mode") {
		t.Errorf("model=fashion-unet in the 2-D mode: %v", err)
	}
	// A hand-made manifest that lists the image file as a 2-D model, and the reverse.
	img := imageModelFile(t, tinyUNet(), 1)
	moons := mustRead(t, "../weights/moons-ot.safetensors")
	man := &Manifest{Version: 1, Models: []Entry{
		{Name: "fashion-ot", Dataset: "fashion", Path: "ot", File: "img"},
		{Name: "moons-img", Dataset: "moons-img", Path: "ot", File: "moons", Kind: KindImage, Shape: []int{1, 8, 8}, Classes: testClasses},
	}}
	files := map[string][]byte{"img": img, "moons": moons}
	clk := newFakeClock()
	b := New(Config{Now: clk.Now, Load: func(e Entry) (*Model, error) { return DecodeModel(e.Name, e.Dataset, files[e.File]) }},
		man, DefaultSettings(), nil)
	b.drainLoads(true)
	b.Update()
	if err := b.Status().Error; !strings.Contains(err, "fashion-ot is an image model (fashion-mnist, 1×8×8): it is shown in the Images mode") {
		t.Errorf("an image model as a 2-D one: %q", err)
	}
	if err := b.Set("mode", ModeImages); err != nil {
		t.Fatal(err)
	}
	b.drainLoads(true)
	b.Update()
	st := b.Status()
	if !strings.Contains(st.Error, "moons-img is a 2-D model (moons): the Images mode shows image models") || st.Image.Done {
		t.Errorf("a 2-D model as an image one: %q", st.Error)
	}
	b.Scene()
	c, _ := newTestApp(t, DefaultSettings())
	if err := c.Set("mode", ModeImages); err == nil || !strings.Contains(err.Error(), "models, yours") {
		t.Errorf("mode=images without image models: %v", err)
	}
}

// TestLoadModelFile: a dropped image model is shown in the Images mode; elsewhere, and a
// 2-D model there, and a file that is not a model, are one message each.
func TestLoadModelFile(t *testing.T) {
	p := NewGoPool(1)
	t.Cleanup(func() { p.Close() })
	a, clk := imageApp(t, p)
	img := imageModelFile(t, tinyUNet(), 9)
	moons := mustRead(t, "../weights/moons-ot.safetensors")
	for _, tc := range []struct {
		name string
		b    []byte
		want string
	}{
		{"mine.safetensors", img, "mine.safetensors is an image model (fashion-mnist, 1×8×8): switch to the Images mode"},
		{"m.safetensors", moons, "m.safetensors is a 2-D model (moons): the 2-D views show the site's models"},
		{"x.safetensors", []byte("junk"), "x.safetensors: not a valid model file"},
	} {
		if err := a.LoadModelFile(tc.name, tc.b); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s in the 2-D mode: %v, want %q", tc.name, err, tc.want)
		}
	}
	a.Set("mode", ModeImages)
	if err := a.LoadModelFile("m.safetensors", moons); err == nil || !strings.Contains(err.Error(), "the Images mode shows image models") {
		t.Errorf("a 2-D model in the Images mode: %v", err)
	}
	if err := a.LoadModelFile("mine.safetensors", img); err != nil {
		t.Fatal(err)
	}
	a.Set("nfe", "2")
	for i := 0; i < 2000 && !a.Status().Done; i++ {
		clk.frame(a, 1)
		time.Sleep(time.Millisecond)
	}
	st := a.Status()
	if st.Image.Model != "mine#1" || !st.Image.Done || st.Image.Workers != 1 || st.Error != "" {
		t.Errorf("the dropped model: %+v", st.Image)
	}
	ctl, _ := a.controlNamed("imageModel")
	if ctl.Hidden || len(ctl.Options) != 2 {
		t.Errorf("image model control %+v", ctl)
	}
}
