package trainer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/flowmatch/flowmatch/cli"
	"github.com/flowmatch/flowmatch/recipe"
	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/train/internal/tt"
)

// The recipe's float32 rules are the engine's kernels: recipe.AdamW.Update and
// recipe.EMAUpdate give, bit for bit, what libtorch gives on CPU, and recipe.MSE the
// same output gradient; so a pure-Go trainer follows the same optimiser arithmetic.
// (Where libtorch runs its kernels without fused multiply-adds, lerp_ rounds once
// more, and the two may differ in the last bit.)
func TestRecipeKernelsMatchEngine(t *testing.T) {
	fused := atenFMA()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	spec := sampler.MLPSpec{Dim: 2, Hidden: []int{64, 48}, Activation: "silu", Time: sampler.TimeEmbedding{Kind: "raw"}}
	const B = 16
	e, err := newEngine(spec, B, tt.CPU)
	if err != nil {
		t.Fatal(err)
	}
	defer e.free()
	rng := rand.New(rand.NewPCG(11, 12))
	vec := func(s float64) []float32 {
		v := make([]float32, e.n)
		for i := range v {
			v[i] = float32(s * rng.NormFloat64())
		}
		return v
	}
	read := func(flat tt.T) []float32 {
		out := make([]float32, e.n)
		e.read(out, flat)
		return out
	}
	same := func(what string, got, want []float32) {
		t.Helper()
		for i := range want {
			if !fused && math.Abs(float64(got[i]-want[i])) <= 1e-6*(math.Abs(float64(want[i]))+1) {
				continue
			}
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%s: element %d: recipe %v (%#x), libtorch %v (%#x)", what, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
			}
		}
	}
	for _, tc := range []struct {
		opt       recipe.AdamW
		step      int
		lr, scale float64
	}{
		{recipe.AdamW{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}, 1, 2e-3, 1},
		{recipe.AdamW{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.01}, 7, 1e-3, 0.37},
		{recipe.AdamW{Beta1: 0.8, Beta2: 0.95, Eps: 1e-6, WeightDecay: 1e-4}, 1000, 3e-4, 0.9},
		{recipe.AdamW{Beta1: 0.3, Beta2: 0.4, Eps: 1e-3}, 3, 0.1, 1}, // lerp weights ≥ 0.5
	} {
		p, g, m, v := vec(1), vec(1), vec(0.1), vec(0.1)
		for i := range v {
			v[i] *= v[i]
		}
		e.write(e.P, p)
		e.write(e.G, g)
		e.write(e.M, m)
		e.write(e.V, v)
		e.adamw(tc.step, tc.lr, tc.scale, tc.opt)
		tc.opt.Update(p, g, m, v, tc.step, tc.lr, tc.scale)
		same("AdamW m", m, read(e.M))
		same("AdamW v", v, read(e.V))
		same("AdamW p", p, read(e.P))
	}
	for _, decay := range []float64{recipe.EMADecay(0.999, 0), recipe.EMADecay(0.999, 5), 0.3, 0.5, 0.999, 0.9999} {
		avg, p := vec(1), vec(1)
		e.write(e.E, avg)
		e.write(e.P, p)
		e.emaUpdate(decay)
		recipe.EMAUpdate(avg, p, decay)
		same("EMA", avg, read(e.E))
	}
	if err := e.err(); err != nil {
		t.Fatal(err)
	}

	// The loss's gradient with respect to the output, and the loss itself.
	p := recipe.InitParams(e.shapes, 3)
	e.write(e.P, p)
	x, u := e.inputs()
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	for i := range u {
		u[i] = float32(rng.NormFloat64())
	}
	loss := e.lossAndGrad()
	L := len(e.shapes)
	out := append([]float32(nil), tt.Floats(e.OUT, B*spec.Dim)...)
	gout := tt.Floats(e.GH[L-1], B*spec.Dim)
	grad := make([]float32, len(out))
	goLoss := recipe.MSE(grad, out, u)
	same("MSE gradient", grad, gout)
	if math.Abs(goLoss-loss) > 1e-6*loss {
		t.Errorf("MSE %v, libtorch %v", goLoss, loss)
	}
	if g := recipe.GradNorm(read(e.G)); math.Abs(g-e.gradNorm()) > 1e-5*g {
		t.Errorf("gradient norm %v, libtorch %v", g, e.gradNorm())
	}
}

// atenFMA reports whether libtorch's CPU kernels fuse multiply-adds here: ATen's AVX2
// and AVX-512 kernels do, its default ones do not. ATEN_CPU_CAPABILITY chooses, or
// else the CPU (ATen takes AVX2 where the CPU has AVX2 and FMA).
func atenFMA() bool {
	switch os.Getenv("ATEN_CPU_CAPABILITY") {
	case "default":
		return false
	case "avx2", "avx512":
		return true
	}
	if runtime.GOARCH != "amd64" {
		return false
	}
	info, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(info), "\n") {
		if name, flags, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(name) == "flags" {
			f := " " + flags + " "
			return strings.Contains(f, " avx2 ") && strings.Contains(f, " fma ")
		}
	}
	return false
}

// Pinned runs: 30 fixed-seed steps of two small recipes export exactly these weights
// (SHA-256 of the safetensors data section, recorded with the trainer before the
// recipe moved to package recipe). libtorch picks its kernels by CPU, and OpenBLAS
// too, so the runs go in a child process with both pinned to their portable x86-64
// kernels (ATEN_CPU_CAPABILITY=default, OPENBLAS_CORETYPE=Nehalem): the hashes then
// hold on any x86-64 machine with the same libtorch and OpenBLAS. A change to the
// training arithmetic (the batches, the schedules, the step) shows here.
var pinnedRuns = []struct{ args, sha256 string }{
	{"-data moons -path ot -steps 30 -hidden 32 -layers 2 -batch 128 -warmup 10 -min-lr 0.1 -wd 1e-4 -clip 0.5 -seed 7",
		"79c99fad50746b51680ded93f1b335f997623fee56e9bebdeba3432aafac0b42"},
	{"-data 8gaussians -path vp -coupling ot -ot-group 50 -time fourier -freqs 2 -steps 30 -hidden 32 -layers 2 -batch 128 -warmup 10 -seed 7",
		"3e28401446b0fa9ac7ff3fa1797d9b546e670cd6c270920ed8ecd6d70d482fec"},
}

// pinnedLibtorch is the libtorch the hashes were recorded with.
const pinnedLibtorch = "1.13.1+dfsg-4 (Debian libtorch-dev)"

func TestPinnedRuns(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skipf("hashes recorded on amd64 only (this is %s)", runtime.GOARCH)
	}
	if LibtorchVersion != pinnedLibtorch {
		t.Skipf("hashes recorded with libtorch %s, this is %s", pinnedLibtorch, LibtorchVersion)
	}
	if os.Getenv("FLOWMATCH_PINNED_CHILD") != "1" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestPinnedRuns$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), "FLOWMATCH_PINNED_CHILD=1", "ATEN_CPU_CAPABILITY=default", "OPENBLAS_CORETYPE=Nehalem")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		t.Logf("child:\n%s", out)
		return
	}
	for _, pr := range pinnedRuns {
		out := filepath.Join(t.TempDir(), "m.safetensors")
		args := append(strings.Fields(pr.args), "-dtype", "f32", "-ckpt-every", "0", "-device", "cpu", "-o", out)
		cfg, err := ParseFlags(cli.Env{Args: args, Stdout: os.Stdout, Stderr: os.Stderr})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Run(context.Background(), cfg, Options{NoVerify: true}); err != nil {
			t.Fatal(err)
		}
		if got := dataHash(t, out); got != pr.sha256 {
			t.Errorf("%s: weights hash %s, pinned %s: the training arithmetic changed (or this machine's OpenBLAS differs)", pr.args, got, pr.sha256)
		}
	}
}

// dataHash is the SHA-256 of a safetensors file's data section: every tensor's bytes.
func dataHash(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(b)
	if n > uint64(len(b)-8) || !bytes.HasPrefix(b[8:], []byte("{")) {
		t.Fatalf("%s: not a safetensors file", path)
	}
	sum := sha256.Sum256(b[8+n:])
	return hex.EncodeToString(sum[:])
}
