package sampler

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// bitIdentSpecs cover every activation (each takes its own route through the layer
// loop and the epilogues), both time embeddings, and hidden widths of 64 and 128.
var bitIdentSpecs = []MLPSpec{
	{Dim: 2, Hidden: []int{64, 64, 64}},
	{Dim: 2, Hidden: []int{128, 128, 128}, Time: TimeEmbedding{Kind: TimeFourier, Freqs: 3}},
	{Dim: 3, Hidden: []int{64, 37}, Activation: ActTanh, Time: TimeEmbedding{Kind: TimeFourier, Freqs: 2}},
	{Dim: 5, Hidden: []int{128, 64}, Activation: ActReLU},
}

// Batch sizes that are not multiples of groupRows or blockRows; 1,000 rows are enough
// blocks to be shared between workers.
var bitIdentBatches = []int{1, 7, 1000}

// bitIdentHashes pins, per kernel, the SHA-256 of the little-endian float32 outputs
// of bitIdentOutputs, computed before the network code was refactored (issue 16), so
// that refactoring cannot change a single bit. The AVX2 kernel fuses multiply-adds, so
// its hashes differ from the Go kernel's; the wasm kernel does gemmGo's operations in
// gemmGo's order, so it shares the Go kernel's hashes.
var bitIdentHashes = map[string]map[string]string{
	"avx2": {
		"velocity": "1483243daf24480dbbe13eb145cb2859b85a0e57de4abd92d318117e668469ee",
		"jvp":      "f6ec9a3a882e0d477f4517554779c96ec67c15d82ef60870840d613e578cdf56",
		"div":      "4ada23bedac3366b872213d092b0981701cbd5a7c19b3f18607d9f63696cee9a",
		"euler":    "ab621797af1a9a20adb3008276455df50c93ab90fefa74e8319d00c5ee2aaba4",
		"midpoint": "1ea300a355b1c11998b26a809f7a39d89a6cb011b777fe5bf5a2d843c4c22c2f",
		"heun":     "11d5a0ddaa6f951254ea3b9172b2cc0350d6d57e7b91cd4646a713f755c4bba8",
		"rk4":      "2353c17afd68bcf6c2197ce15380e3813a88b2f99927a8df486a28a930979595",
		"dopri5":   "252b4e04f37ad0185566b59f045fb0026f2d2a652d124157b4f9ce00b1cc0277",
	},
	"go": {
		"velocity": "78a63f66abe57bd490dc0278602a1f1703c788cff265d2f3643303a7970739ff",
		"jvp":      "43c38d8919b4b7fc92fcceefa254714c8e5f5ea46238dbb5c7e69ec0ad69d426",
		"div":      "5964b39518949c0a11b6205f1cf90817715986367328a8b19be72ce9ba77b3d2",
		"euler":    "57e25b16359f69a657e981a2241810c0cadfd061a29ae25cb14408fec84285d4",
		"midpoint": "beb52d699657771da21979b0526dc1f25f08d55fd72397c00c2b609caa1993a7",
		"heun":     "99e560edc2a568c0fb66e593861c37eea7b97e81674e5d183493b2378174be7d",
		"rk4":      "3ba8d0a02375b0cc3bf5ca1780c717a86efc4c60e08eb6b5ad9e8aa61e406b92",
		"dopri5":   "23f423ae717a7b924083a566df1fdb24371355073dc97040b0fc4caef628999f",
	},
}

// bitIdentOutputs evaluates the forward pass, the JVP, the divergence and a solve with
// every method for each spec and batch size, and returns the SHA-256 of each kind of
// output, all specs and batches in one hash.
func bitIdentOutputs(t *testing.T) map[string]string {
	hs := map[string][]byte{}
	add := func(op string, vals ...[]float32) {
		for _, v := range vals {
			b := make([]byte, 4*len(v))
			for i, f := range v {
				binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
			}
			hs[op] = append(hs[op], b...)
		}
	}
	for si, spec := range bitIdentSpecs {
		m, _, _ := randomMLP(t, spec, uint64(100+si))
		for _, n := range bitIdentBatches {
			rng := rand.New(rand.NewPCG(uint64(si), uint64(n)))
			d := spec.Dim
			x, v := make([]float32, n*d), make([]float32, n*d)
			for i := range x {
				x[i] = float32(2 * rng.NormFloat64())
				v[i] = float32(rng.NormFloat64())
			}
			const tt = 0.37
			dst, jv, div := make([]float32, n*d), make([]float32, n*d), make([]float32, n)
			m.Velocity(dst, x, tt)
			add("velocity", dst)
			m.VelocityJVP(dst, jv, x, v, tt)
			add("jvp", dst, jv)
			m.VelocityDiv(dst, div, x, tt)
			add("div", dst, div)
			for _, method := range Methods() {
				y := append([]float32(nil), x...)
				st, err := Solve(m, y, Options{Method: method, Steps: 6, RTol: 1e-4, ATol: 1e-4})
				if err != nil {
					t.Fatalf("%s: %v", method, err)
				}
				add(method, y, []float32{float32(st.NFE), float32(st.Steps), float32(st.Rejected)})
			}
		}
	}
	out := map[string]string{}
	for op, b := range hs {
		sum := sha256.Sum256(b)
		out[op] = hex.EncodeToString(sum[:])
	}
	return out
}

// TestBitIdentical checks the network's outputs and solves against the pinned hashes,
// on one thread and spread over four workers (rows never mix, so both must agree).
// amd64, wasm and the arm64 NEON kernel are pinned; elsewhere the Go compiler may fuse
// multiply-adds, and the test only checks that the worker count changes nothing.
func TestBitIdentical(t *testing.T) {
	key := kernelName
	if key == "wasm" {
		key = "go"
	}
	want := bitIdentHashes[key]
	pinned := runtime.GOARCH == "amd64" || runtime.GOARCH == "wasm" || kernelName == "neon-simd"
	var first map[string]string
	for _, procs := range []int{1, 4} {
		old := runtime.GOMAXPROCS(procs)
		got := bitIdentOutputs(t)
		runtime.GOMAXPROCS(old)
		if first == nil {
			first = got
		}
		for _, op := range append([]string{"velocity", "jvp", "div"}, Methods()...) {
			if got[op] != first[op] {
				t.Errorf("%s: GOMAXPROCS %d gives %s, GOMAXPROCS 1 gave %s", op, procs, got[op], first[op])
			}
			if pinned && got[op] != want[op] {
				t.Errorf("%s (kernel %s, GOMAXPROCS %d): SHA-256 %s, pinned %q", op, kernelName, procs, got[op], want[op])
			}
		}
	}
	if !pinned {
		t.Logf("hashes not pinned on %s: %v", runtime.GOARCH, fmt.Sprint(first))
	}
}
