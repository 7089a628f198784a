package dataset_test

import (
	"math"
	"testing"

	"github.com/flowmatch/flowmatch/dataset"
)

func TestStandardize(t *testing.T) {
	// Column 0: 1, 2, 3, 4 (mean 2.5, population std √1.25); column 1: constant 1e6+0.5.
	x := []float32{1, 1e6 + 0.5, 2, 1e6 + 0.5, 3, 1e6 + 0.5, 4, 1e6 + 0.5}
	mean, std, err := dataset.Standardize(x, 2)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(mean[0]-2.5) > 1e-15 || math.Abs(std[0]-math.Sqrt(1.25)) > 1e-15 {
		t.Errorf("column 0: mean %v std %v, want 2.5 and %v", mean[0], std[0], math.Sqrt(1.25))
	}
	if mean[1] != float64(float32(1e6+0.5)) || std[1] != 0 {
		t.Errorf("constant column: mean %v std %v, want exactly %v and 0", mean[1], std[1], float32(1e6+0.5))
	}
	if c := dataset.ConstantColumns(x, 2); len(c) != 1 || c[0] != 1 {
		t.Errorf("ConstantColumns = %v, want [1]", c)
	}
	// Far from 0: two passes keep the scale (one pass, E[x²]−E[x]², loses it).
	y := []float32{1e7, 1e7 + 1, 1e7 + 2}
	_, s, _ := dataset.Standardize(y, 1)
	if want := math.Sqrt(2.0 / 3); math.Abs(s[0]-want) > 1e-12 {
		t.Errorf("std of 1e7+{0,1,2} = %v, want %v", s[0], want)
	}
	for _, bad := range []struct {
		x []float32
		d int
	}{{nil, 1}, {[]float32{1, 2, 3}, 2}, {[]float32{1}, 0}} {
		if _, _, err := dataset.Standardize(bad.x, bad.d); err == nil {
			t.Errorf("Standardize(%v, %d): no error", bad.x, bad.d)
		}
	}
}

func TestHoldout(t *testing.T) {
	for _, c := range []struct{ n, k int }{{0, 0}, {1, 0}, {2, 1}, {9, 1}, {14, 1}, {15, 2}, {20000, 2000}, {20004, 2000}, {20005, 2001}} {
		if got := dataset.HoldoutCount(c.n); got != c.k {
			t.Errorf("HoldoutCount(%d) = %d, want %d", c.n, got, c.k)
		}
		m := dataset.Holdout(c.n, 7)
		if len(m) != c.n {
			t.Fatalf("Holdout(%d): %d flags", c.n, len(m))
		}
		k := 0
		for _, h := range m {
			if h {
				k++
			}
		}
		if k != c.k {
			t.Errorf("Holdout(%d) holds %d rows, want %d", c.n, k, c.k)
		}
	}
	a, b := dataset.Holdout(1000, 3), dataset.Holdout(1000, 3)
	c := dataset.Holdout(1000, 4)
	same, diff := true, false
	for i := range a {
		same = same && a[i] == b[i]
		diff = diff || a[i] != c[i]
	}
	if !same || !diff {
		t.Errorf("same seed same rows: %v; another seed other rows: %v", same, diff)
	}
	// Uniform: over 2,000 seeds each of 20 rows is held out with probability 2/20; the
	// count per row is Binomial(2000, 0.1): mean 200, sd 13.4; 5 sd is 67.
	const seeds, n = 2000, 20
	var counts [n]int
	for s := uint64(0); s < seeds; s++ {
		for i, h := range dataset.Holdout(n, s) {
			if h {
				counts[i]++
			}
		}
	}
	for i, c := range counts {
		if c < 200-67 || c > 200+67 {
			t.Errorf("row %d held out %d times of %d, want about 200", i, c, seeds)
		}
	}
}

func TestSplit(t *testing.T) {
	const n, d = 25, 3
	x := make([]float32, n*d)
	for i := range x {
		x[i] = float32(i)
	}
	train, held, err := dataset.Split(x, d, 11)
	if err != nil {
		t.Fatal(err)
	}
	if len(held) != 3*d || len(train) != 22*d {
		t.Fatalf("split %d + %d values, want %d + %d", len(train), len(held), 22*d, 3*d)
	}
	mask := dataset.Holdout(n, 11)
	var ti, hi int
	for i := 0; i < n; i++ {
		dst := &train
		at := &ti
		if mask[i] {
			dst, at = &held, &hi
		}
		for j := 0; j < d; j++ {
			if (*dst)[*at*d+j] != x[i*d+j] {
				t.Fatalf("row %d not where the mask puts it, in file order", i)
			}
		}
		*at++
	}
	if _, _, err := dataset.Split(x[:4], 3, 1); err == nil {
		t.Error("Split of ragged values: no error")
	}
}
