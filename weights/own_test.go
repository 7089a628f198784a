package weights

import (
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/flowmatch/flowmatch/sampler"
)

// ownMeta is a model of a user's 3-D data whose last coordinate is constant.
func ownMeta() Meta {
	return Meta{
		Model: sampler.MLPSpec{Dim: 3, Hidden: []int{8}},
		Path:  PathInfo{PathSpec: sampler.PathSpec{Name: sampler.PathOT}},
		Data: DataInfo{Name: "points.csv",
			Normalization: &Normalization{Mean: []float64{10, -3, 7.25}, Std: []float64{2, 0.5, 0}},
			Source: Source{File: "points.csv", Rows: 20000, SHA256: strings.Repeat("0f", 32),
				Holdout: Holdout{Rule: "dataset.Holdout/v1", Seed: 1<<64 - 1, Rows: 2000}}},
	}
}

// TestOwnData: a user's data's record and a constant coordinate survive a round trip,
// are written as version 3, and the constant coordinate comes back exactly constant.
func TestOwnData(t *testing.T) {
	f := randomFile(t, 3, ownMeta())
	b, err := Marshal(f, F32)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b[:min(len(b), 4096)]), `"format_version":"3"`) {
		t.Errorf("own data not written as version 3")
	}
	g, err := DecodeBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g.Meta.Data, f.Meta.Data) {
		t.Errorf("data after a round trip:\n got %+v\nwant %+v", g.Meta.Data, f.Meta.Data)
	}
	x := []float32{1, 2, 3, -1e6, 0, 1e6}
	g.Meta.Data.ToData(x)
	want := []float32{12, -2, 7.25, -1999990, -3, 7.25}
	if !reflect.DeepEqual(x, want) {
		t.Errorf("ToData = %v, want %v", x, want)
	}
	g.Meta.Data.FromData(x)
	if want := []float32{1, 2, 0, -1e6, 0, 0}; !reflect.DeepEqual(x, want) {
		t.Errorf("FromData = %v, want %v (a constant coordinate at 0)", x, want)
	}
	if ld, want := g.Meta.Data.LogDetToData(), math.Log(2)+math.Log(0.5); math.Abs(ld-want) > 1e-15 {
		t.Errorf("LogDetToData = %v, want %v (the constant coordinate left out)", ld, want)
	}
	if c := g.Meta.Data.ConstantCoords(); !reflect.DeepEqual(c, []int{2}) {
		t.Errorf("ConstantCoords = %v, want [2]", c)
	}
	// Samples from the file keep the constant coordinate exactly.
	s, _, err := g.Sample(50, rand.New(rand.NewPCG(1, 2)), sampler.Options{Method: sampler.Euler, Steps: 2})
	if err != nil {
		t.Fatal(err)
	}
	for i := 2; i < len(s); i += 3 {
		if s[i] != 7.25 {
			t.Fatalf("sample %d: constant coordinate %v, want 7.25", i/3, s[i])
		}
	}
}
