package sampler

import (
	"math/rand/v2"
	"testing"
)

// TestPackedMulGroups: Packed.MulGroups on a Blocked's raw groups, cut into chunks of
// 1 and 2 groups, gives MatMul.Mul's products bit for bit (the same kernel and sums),
// and Blocked.Raw holds column f of row r where Stride and GroupRows say.
func TestPackedMulGroups(t *testing.T) {
	const m, k, n = 77, 13, 6
	rng := rand.New(rand.NewPCG(5, 6))
	a, w, bias := randSlice(rng, m*k), randSlice(rng, n*k), randSlice(rng, n)
	want := make([]float32, m*n)
	var mm MatMul
	mm.Mul(want, a, w, m, k, n, MulOpts{Bias: bias})
	var ab, out Blocked
	ab.Resize(m, k)
	ab.Load(a)
	if ab.Stride() != Stride(k) || Stride(k) != 16*GroupRows {
		t.Fatalf("Stride %d, Stride(%d) %d, want %d", ab.Stride(), k, Stride(k), 16*GroupRows)
	}
	for r := range m {
		for f := range k {
			if got := ab.Raw()[r/GroupRows*ab.Stride()+f*GroupRows+r%GroupRows]; got != a[r*k+f] {
				t.Fatalf("Raw at row %d column %d: %g, want %g", r, f, got, a[r*k+f])
			}
		}
	}
	p := Pack(w, bias, n, k)
	out.Resize(m, n)
	groups := (m + GroupRows - 1) / GroupRows
	for _, chunk := range []int{1, 2} {
		for g0 := 0; g0 < groups; g0 += chunk {
			g := min(chunk, groups-g0)
			p.MulGroups(out.Raw()[g0*out.Stride():], out.Stride(), ab.Raw()[g0*ab.Stride():], ab.Stride(), g)
		}
		got := make([]float32, m*n)
		out.Store(got)
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("chunks of %d groups: [%d] = %g, Mul gives %g", chunk, i, got[i], want[i])
			}
		}
	}
}
