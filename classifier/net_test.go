package classifier

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/weights"
)

func smallSpec() weights.ClassifierSpec {
	return weights.ClassifierSpec{Side: 8, Channels: []int{3, 5}, Hidden: 7, Classes: 4}
}

func randomPixels(n, d int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 4))
	x := make([]float32, n*d)
	for i := range x {
		x[i] = rng.Float32()
	}
	return x
}

// reference is the network computed naively in float64 on NCHW images, straight from
// PyTorch's definitions: the independent implementation the im2col one is checked
// against.
func reference(spec weights.ClassifierSpec, w map[string][]float32, img []float32) (feat, logits []float64) {
	s, ci := spec.Side, 1
	a := make([]float64, len(img))
	for i, v := range img {
		a[i] = float64(v)
	}
	for l, co := range spec.Channels {
		for k := range 2 {
			wt, b := w[weights.ConvName(l, k)+".weight"], w[weights.ConvName(l, k)+".bias"]
			out := make([]float64, co*s*s)
			for o := range co {
				for y := range s {
					for x := range s {
						z := float64(b[o])
						for c := range ci {
							for dy := range 3 {
								for dx := range 3 {
									yy, xx := y+dy-1, x+dx-1
									if yy >= 0 && yy < s && xx >= 0 && xx < s {
										z += float64(wt[((o*ci+c)*3+dy)*3+dx]) * a[(c*s+yy)*s+xx]
									}
								}
							}
						}
						out[(o*s+y)*s+x] = math.Max(z, 0)
					}
				}
			}
			a, ci = out, co
		}
		h := s / 2
		p := make([]float64, ci*h*h)
		for c := range ci {
			for y := range h {
				for x := range h {
					p[(c*h+y)*h+x] = math.Max(math.Max(a[(c*s+2*y)*s+2*x], a[(c*s+2*y)*s+2*x+1]),
						math.Max(a[(c*s+2*y+1)*s+2*x], a[(c*s+2*y+1)*s+2*x+1]))
				}
			}
		}
		a, s = p, h
	}
	linear := func(x []float64, name string, out int, relu bool) []float64 {
		wt, b := w[name+".weight"], w[name+".bias"]
		y := make([]float64, out)
		for o := range out {
			z := float64(b[o])
			for i, v := range x {
				z += float64(wt[o*len(x)+i]) * v
			}
			if relu {
				z = math.Max(z, 0)
			}
			y[o] = z
		}
		return y
	}
	feat = linear(a, "fc1", spec.Hidden, true)
	return feat, linear(feat, "fc2", spec.Classes, false)
}

// TestForwardMatchesReference: logits and features agree with the float64 reference
// within 1e-5 relative, for a batch that spans several chunks and workers, and the
// split over workers changes nothing, bit for bit.
func TestForwardMatchesReference(t *testing.T) {
	spec := smallSpec()
	w := RandomTensors(spec, 1)
	net, err := New(spec, w)
	if err != nil {
		t.Fatal(err)
	}
	n, d := 2*chunk+5, spec.Dim()
	x := randomPixels(n, d, 2)
	net.Workers = 1
	feat, logits := net.run(x, true, true)
	for i := range n {
		rf, rl := reference(spec, w, x[i*d:(i+1)*d])
		check(t, "features", i, feat[i*spec.Hidden:(i+1)*spec.Hidden], rf)
		check(t, "logits", i, logits[i*spec.Classes:(i+1)*spec.Classes], rl)
	}
	net.Workers = 3
	f3 := net.Features(x)
	for i := range f3 {
		if f3[i] != feat[i] {
			t.Fatalf("feature %d: %v on 3 workers, %v on 1", i, f3[i], feat[i])
		}
	}
	pred := net.Predict(x)
	for i, p := range pred {
		row := logits[i*spec.Classes : (i+1)*spec.Classes]
		for _, v := range row {
			if v > row[p] {
				t.Fatalf("image %d: predicted %d, logits %v", i, p, row)
			}
		}
	}
}

func check(t *testing.T, what string, i int, got []float32, want []float64) {
	t.Helper()
	var scale float64
	for _, v := range want {
		scale = math.Max(scale, math.Abs(v))
	}
	for j, v := range want {
		if e := math.Abs(float64(got[j]) - v); e > 1e-5*(1+scale) {
			t.Fatalf("image %d %s %d: %v, reference %v", i, what, j, got[j], v)
		}
	}
}

func testFile(t *testing.T, spec weights.ClassifierSpec, pixels []float64) *weights.File {
	t.Helper()
	f, err := weights.NewFileTensors(weights.Meta{Arch: weights.ArchClassifier, Net: &spec,
		Path: weights.PathInfo{PathSpec: sampler.PathSpec{Name: sampler.PathOT}},
		Data: weights.DataInfo{Name: "test", Shape: []int{1, spec.Side, spec.Side}, Pixels: pixels,
			Classes: []string{"a", "b", "c", "d"}}}, RandomTensors(spec, 5))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestDecodeRoundTrip: a written file decodes to the same network; a file of another
// kind or input scale is refused with one line.
func TestDecodeRoundTrip(t *testing.T) {
	spec := smallSpec()
	f := testFile(t, spec, []float64{0, 1})
	var buf bytes.Buffer
	if err := weights.Encode(&buf, f, weights.F32); err != nil {
		t.Fatal(err)
	}
	net, err := Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if got := net.Spec(); len(net.Classes()) != 4 || got.String() != spec.String() {
		t.Fatalf("classes %v, spec %s", net.Classes(), got.String())
	}
	x := randomPixels(3, spec.Dim(), 9)
	want, _ := New(spec, RandomTensors(spec, 5))
	a, b := net.Logits(x), want.Logits(x)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("logit %d: %v decoded, %v built", i, a[i], b[i])
		}
	}
	if _, err := FromFile(testFile(t, spec, []float64{-1, 1})); err == nil || !strings.Contains(err.Error(), "pixels") {
		t.Errorf("pixels [-1 1]: %v", err)
	}
	ms := sampler.MLPSpec{Dim: 2, Hidden: []int{4}}
	var ws, bs [][]float32
	for _, sh := range ms.LayerShapes() {
		ws, bs = append(ws, make([]float32, sh[0]*sh[1])), append(bs, make([]float32, sh[0]))
	}
	mlp, err := weights.NewFile(weights.Meta{Model: ms, Path: weights.PathInfo{PathSpec: sampler.PathSpec{Name: sampler.PathOT}}}, ws, bs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := FromFile(mlp); !errors.Is(err, ErrNotClassifier) || strings.Contains(err.Error(), "\n") {
		t.Errorf("an MLP file: %v", err)
	}
}
