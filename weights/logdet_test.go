package weights

import (
	"math"
	"testing"
)

func TestLogDetToData(t *testing.T) {
	if v := (DataInfo{Dim: 2}).LogDetToData(); v != 0 {
		t.Errorf("no normalization: %g", v)
	}
	d := DataInfo{Dim: 2, Normalization: &Normalization{Mean: []float64{1, -1}, Std: []float64{2, 3}}}
	if v := d.LogDetToData(); math.Abs(v-math.Log(6)) > 1e-15 {
		t.Errorf("std (2, 3): %g, want log 6", v)
	}
}
