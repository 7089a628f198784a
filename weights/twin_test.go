package weights_test

import (
	"bytes"
	"flag"
	"math"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/flowmatch/flowmatch/dataset"
	"github.com/flowmatch/flowmatch/metrics"
	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/weights"
)

// TestFloat16Twins checks, for every float32 model file it finds, that the file's
// float16 twin is about half the size and samples as well: with the same noise (2,000
// points, 20-NFE midpoint), the twin's W2 to fresh data from the model's dataset is
// within 1 % of the original's. It takes a while (an exact assignment on 2,000 points
// per model), so it runs only when asked, on weights/*.safetensors (the default models)
// or on the files a glob names:
//
//	go test ./weights -run TestFloat16Twins -v -twins
//	go test ./weights -run TestFloat16Twins -v -twins -twins-glob='/tmp/zoo/*.safetensors'
//
// Files already stored as float16 or bfloat16 are skipped (their float32 original is
// needed).
var (
	twins     = flag.Bool("twins", false, "compare float16 twins of model files (see TestFloat16Twins)")
	twinsGlob = flag.String("twins-glob", "*.safetensors", "the model files -twins compares (relative to weights/)")
)

func TestFloat16Twins(t *testing.T) {
	if !*twins {
		t.Skip("run with -twins to compare the float16 twins of model files")
	}
	if runtime.GOOS == "js" {
		t.Skip("not under wasm")
	}
	glob := *twinsGlob
	files, err := filepath.Glob(glob)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Skipf("no model files match %q yet", glob)
	}
	const n = 2000
	checked := 0
	for _, name := range files {
		f32, err := weights.ReadFile(name)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if dt := f32.Tensors[0].DType; dt != weights.F32 {
			t.Logf("%s: stored as %s; its float32 original is needed for the comparison", name, dt)
			continue
		}
		var b32, b16 bytes.Buffer
		if err := weights.Encode(&b32, f32, weights.F32); err != nil {
			t.Fatal(err)
		}
		if err := weights.Encode(&b16, f32, weights.F16); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		f16, err := weights.DecodeBytes(b16.Bytes())
		if err != nil {
			t.Fatalf("%s: the float16 twin does not decode: %v", name, err)
		}
		ratio := float64(b16.Len()) / float64(b32.Len())

		opt := sampler.Options{Method: sampler.Midpoint, Steps: 10}
		s32, _, err := f32.Sample(n, rand.New(rand.NewPCG(1, 2)), opt)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		s16, _, err := f16.Sample(n, rand.New(rand.NewPCG(1, 2)), opt)
		if err != nil {
			t.Fatalf("%s (float16): %v", name, err)
		}
		data, err := dataset.Sample(f32.Meta.Data.Name, n, rand.New(rand.NewPCG(3, 4)))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		d := f32.Meta.Model.Dim
		w32, err1 := metrics.W2(s32, data, d)
		w16, err2 := metrics.W2(s16, data, d)
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: W2: %v, %v", name, err1, err2)
		}
		// The paired distance between the two sample sets bounds |w16 − w32| (triangle
		// inequality, W2 ≤ the cost of the pairing by shared noise).
		var ss float64
		for i := range s32 {
			e := float64(s32[i] - s16[i])
			ss += e * e
		}
		pair := math.Sqrt(ss / n)
		rel := math.Abs(w16-w32) / w32
		t.Logf("%s: %s, %d → %d bytes (×%.3f); W2 to %s data: float32 %.4f, float16 %.4f (%+.2f %%); paired RMS %.2g",
			name, f32.Meta.Data.Name, b32.Len(), b16.Len(), ratio, f32.Meta.Data.Name, w32, w16, 100*(w16-w32)/w32, pair)
		if ratio > 0.52 {
			t.Errorf("%s: the float16 twin is ×%.3f the size, want about 0.5", name, ratio)
		}
		if rel > 0.01 {
			t.Errorf("%s: W2 %.4f (float16) vs %.4f (float32): %.2f %% apart, want within 1 %%", name, w16, w32, 100*rel)
		}
		checked++
	}
	t.Logf("%d model(s) compared", checked)
}
