package benchnet

import (
	"path/filepath"
	"testing"

	"github.com/flowmatch/flowmatch/weights"
)

// The model file written for the browser's workers holds the same network: the sampler
// built from it reproduces the float64 reference on the check batch.
func TestWeightsFile(t *testing.T) {
	for _, h := range []int{8, 64} {
		m := New(2, []int{h, h, h}, 200, uint64(h))
		f, err := m.WeightsFile()
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "h.safetensors")
		if err := weights.WriteFile(path, f, weights.F32); err != nil {
			t.Fatal(err)
		}
		back, err := weights.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if back.Meta.Path.TMin != 0 || back.Meta.Path.TMax != 1 || back.Meta.Data.Normalization != nil {
			t.Errorf("H=%d: path %+v, data %+v: want OT on [0, 1], no normalisation", h, back.Meta.Path, back.Meta.Data)
		}
		mlp, _, err := back.Model()
		if err != nil {
			t.Fatal(err)
		}
		got := make([]float32, len(m.CheckX))
		mlp.Velocity(got, m.CheckX, m.CheckT)
		if e, err := m.Check(got); err != nil {
			t.Errorf("H=%d: %v", h, err)
		} else {
			t.Logf("H=%d: largest error %.2g", h, e)
		}
		// The parameters are stored exactly.
		w, b, err := back.Params()
		if err != nil {
			t.Fatal(err)
		}
		for l := range m.Weights {
			for i, v := range m.Weights[l] {
				if w[l][i] != v {
					t.Fatalf("H=%d: layer %d weight %d is %v, want %v", h, l, i, w[l][i], v)
				}
			}
			for i, v := range m.Biases[l] {
				if b[l][i] != v {
					t.Fatalf("H=%d: layer %d bias %d is %v, want %v", h, l, i, b[l][i], v)
				}
			}
		}
	}
}
