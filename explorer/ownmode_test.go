package explorer

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowmatch/flowmatch/dataset"
	"github.com/flowmatch/flowmatch/eval"
	"github.com/flowmatch/flowmatch/weights"
)

// A link's points come back within the quantisation: 1/4095 of the box's side, halved.
func TestPointsCodec(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	pts := Brush(nil, 1.5, -2, 0.7, 500, rng)
	pts = append(pts, -3, 4) // a corner of the box, exactly
	enc := EncodePoints(pts)
	if want := (17 + 3*501 + 2) / 3 * 4; len(enc) > want {
		t.Errorf("%d characters for 501 points, want at most %d", len(enc), want)
	}
	got, err := DecodePoints(enc)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(pts) {
		t.Fatalf("%d values back, want %d", len(got), len(pts))
	}
	x0, y0, x1, y1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for i := 0; i < len(pts); i += 2 {
		x0, x1 = math.Min(x0, float64(pts[i])), math.Max(x1, float64(pts[i]))
		y0, y1 = math.Min(y0, float64(pts[i+1])), math.Max(y1, float64(pts[i+1]))
	}
	for i := range pts {
		side := x1 - x0
		if i%2 == 1 {
			side = y1 - y0
		}
		if d := math.Abs(float64(got[i] - pts[i])); d > side/4095/2*1.001 {
			t.Fatalf("value %d moved by %g (side %g)", i, d, side)
		}
	}
	if e, _ := DecodePoints(EncodePoints(nil)); len(e) != 0 {
		t.Errorf("no points came back as %v", e)
	}
	for _, bad := range []string{"!!", "AQ", EncodePoints(pts)[:30]} {
		if _, err := DecodePoints(bad); err == nil {
			t.Errorf("DecodePoints(%q) took it", bad)
		}
	}
}

// The brush adds density points around the pointer with the spread asked for; the
// eraser removes exactly the points within its radius.
func TestBrushErase(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	pts := Brush(nil, 1, -1, 0.2, 20000, rng)
	var mx, my, vx float64
	for i := 0; i < len(pts); i += 2 {
		mx, my, vx = mx+float64(pts[i]), my+float64(pts[i+1]), vx+(float64(pts[i])-1)*(float64(pts[i])-1)
	}
	n := float64(len(pts) / 2)
	// Standard errors: 0.2/√20000 = 0.0014 for the means, ~1% for the spread.
	if math.Abs(mx/n-1) > 0.006 || math.Abs(my/n+1) > 0.006 || math.Abs(math.Sqrt(vx/n)-0.2) > 0.006 {
		t.Errorf("brush: mean (%.4f, %.4f), spread %.4f; want (1, -1), 0.2", mx/n, my/n, math.Sqrt(vx/n))
	}
	left := Erase(append([]float32(nil), pts...), 1, -1, 0.2)
	inside := 0
	for i := 0; i < len(pts); i += 2 {
		if math.Hypot(float64(pts[i])-1, float64(pts[i+1])+1) <= 0.2 {
			inside++
		}
	}
	if len(left)/2 != len(pts)/2-inside || inside == 0 {
		t.Errorf("erase left %d of %d points, %d were inside", len(left)/2, len(pts)/2, inside)
	}
}

func TestReadPoints(t *testing.T) {
	pts, err := ReadPoints("p.csv", []byte("x,y\n1,2\n3.5,-4\n"))
	if err != nil || len(pts) != 4 || pts[2] != 3.5 || pts[3] != -4 {
		t.Fatalf("ReadPoints = %v, %v", pts, err)
	}
	for _, c := range []struct{ csv, want string }{
		{"1,2,3\n", "p.csv"},
		{"1,a\n", "p.csv:1"},
		{"", "p.csv"},
	} {
		if _, err := ReadPoints("p.csv", []byte(c.csv)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ReadPoints(%q): %v, want an error naming %q", c.csv, err, c.want)
		}
	}
}

// The "Your data" mode end to end in the app: a toy's points, drawn and erased points,
// training in a worker, the model shown in a lane, the status, the file, reset.
func TestOwnMode(t *testing.T) {
	a, clk := newTestApp(t, DefaultSettings())
	a.SetArea(Rect{0, 0, 600, 600})
	for _, kv := range [][2]string{{"mode", ModeYours}, {"toy", "moons"}, {"trainSteps", "120"}, {"net", "2x32"}} {
		if err := a.Set(kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range a.Controls() {
		models := c.Name == "model" || c.Name == "path" || c.Name == "coupling" || c.Name == "compare" || imageOnly[c.Name]
		if models != c.Hidden && c.Name != "pathB" && c.Name != "solverB" && c.Name != "nfeB" {
			t.Errorf("control %s hidden %v in the Your data mode", c.Name, c.Hidden)
		}
	}
	st := a.Status()
	if st.Mode != ModeYours || st.Train == nil || st.Train.Points != ToyPoints || st.Train.State != TrainIdle || st.Train.Data != "moons" {
		t.Fatalf("status %+v, train %+v", st, st.Train)
	}
	sc := a.Scene()
	if len(sc.Panels) != 1 || len(sc.Panels[0].Data) != 2*ToyPoints {
		t.Fatalf("scene before training: %d panels", len(sc.Panels))
	}
	// A press in the drawing adds a dab where it is; the eraser takes it away.
	v := sc.Panels[0].View
	sx, sy := v.ToScreen(v.CX+0.8*v.Half, v.CY+0.8*v.Half) // a corner, away from the moons
	if !a.Press(sx, sy) || a.Status().Train.Points != ToyPoints+4 || !a.DragAt(sx+1, sy) || a.Status().Train.Points != ToyPoints+8 {
		t.Fatalf("after a press and a drag: %d points", a.Status().Train.Points)
	}
	a.Set("tool", "erase")
	a.Set("spread", "0.4")
	a.Press(sx, sy)
	if n := a.Status().Train.Points; n != ToyPoints {
		t.Errorf("after erasing: %d points, want %d", n, ToyPoints)
	}
	if a.Status().Train.Data != "moons+drawn" {
		t.Errorf("data %q", a.Status().Train.Data)
	}
	if err := a.Do("train"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for a.Status().Train.State == TrainRunning && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		clk.frame(a, 1)
	}
	clk.frame(a, 2)
	st = a.Status()
	if tr := st.Train; tr.State != TrainDone || tr.Step != 120 || !(tr.Loss > 0) || !(tr.StepsPerSec > 0) || !tr.HasModel || tr.Models < 1 {
		t.Fatalf("after training: %+v", tr)
	}
	if !strings.HasPrefix(st.Model, ownDataset+"#") || len(st.Lanes) != 1 {
		t.Fatalf("the trained model is not shown: model %q, %d lanes", st.Model, len(st.Lanes))
	}
	if sc := a.Scene(); len(sc.Panels) != 1 || sc.Panels[0].Pos == nil || len(sc.Panels[0].Loss) == 0 {
		t.Errorf("scene after training: %d panels", len(sc.Panels))
	}
	b, name := a.ModelFile()
	f, err := weights.DecodeBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	if name != "moons-drawn-ot-120steps.safetensors" || f.Meta.Provenance.Steps != 120 || f.Meta.Data.Normalization == nil {
		t.Errorf("file %s: provenance %+v", name, f.Meta.Provenance)
	}
	// flowmatch eval -data takes the points' export and scores the model on the rows
	// held out of training.
	csv, csvName := a.PointsCSV()
	path := filepath.Join(t.TempDir(), csvName)
	if err := os.WriteFile(path, csv, 0o644); err != nil {
		t.Fatal(err)
	}
	own, err := dataset.ReadFile(path, dataset.ReadOptions{Dim: 2})
	if err != nil {
		t.Fatal(err)
	}
	res, err := eval.Evaluate(f, eval.Options{N: 200, NLLSteps: -1, Own: own})
	if err != nil || csvName != "moons-drawn.csv" || res.HeldOut != 200 || !(res.W2 > 0) {
		t.Errorf("eval of %s: %+v, %v", csvName, res, err)
	}
	a.Do("reset")
	if st := a.Status(); st.Train.HasModel || len(st.Lanes) != 0 || st.Train.State != TrainIdle {
		t.Errorf("after reset: %+v, %d lanes", st.Train, len(st.Lanes))
	}
	if err := a.Do("erase-all"); err != nil || a.Status().Train.Points != 0 {
		t.Errorf("erase-all: %v, %d points", err, a.Status().Train.Points)
	}
	if err := a.Do("train"); err == nil {
		t.Error("training on no points was not refused")
	}
	if err := a.LoadCSV("bad.csv", []byte("1,2,3\n")); err == nil || !strings.Contains(a.Status().Train.Error, "bad.csv") {
		t.Errorf("a bad CSV: %v, status error %q", err, a.Status().Train.Error)
	}
}
