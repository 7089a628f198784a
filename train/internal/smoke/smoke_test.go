package smoke

import (
	"strings"
	"testing"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// TestMatmulBackward checks that the adapted gotch builds, links and runs autograd.
func TestMatmulBackward(t *testing.T) {
	a := ts.MustOfSlice([]float32{1, 2, 3, 4, 5, 6}).MustView([]int64{2, 3}, true).MustSetRequiresGrad(true, true)
	b := ts.MustOfSlice([]float32{1, 0, 0, 1, 1, 1}).MustView([]int64{3, 2}, true)
	c := a.MustMatmul(b, false)
	got := c.Float64Values()
	want := []float64{4, 5, 10, 11}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("matmul = %v, want %v", got, want)
		}
	}
	loss := c.MustSum(gotch.Float, false)
	loss.MustBackward()
	g := a.MustGrad(false).Float64Values()
	// d sum(a b) / d a_ij = sum_k b_jk.
	wantG := []float64{1, 1, 2, 1, 1, 2}
	for i := range wantG {
		if g[i] != wantG[i] {
			t.Fatalf("grad = %v, want %v", g, wantG)
		}
	}
}

// An op whose wrapper did not compile against this libtorch fails at run time with an
// error that names it, instead of breaking the build.
func TestPatchedOpErrors(t *testing.T) {
	x := ts.MustOnes([]int64{1, 3}, gotch.Float, gotch.CPU)
	_, err := x.SqueezeDims([]int64{0}, false)
	if err == nil {
		t.Skip("atg_squeeze_dims compiles against this libtorch (not patched)")
	}
	if !strings.Contains(err.Error(), "atg_squeeze_dims") || !strings.Contains(err.Error(), "not available") {
		t.Fatalf("error does not name the op: %v", err)
	}
}
