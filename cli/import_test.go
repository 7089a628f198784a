package cli

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/weights"
)

// stTensor is one tensor of a plain safetensors file, as PyTorch code writes it.
type stTensor struct {
	name  string
	dtype string // F32, F64, F16, BF16, or another dtype stored as zeros
	shape []int
	vals  []float64
}

// writeSafetensors writes a plain safetensors file (no flowmatch metadata; md, if not
// nil, as __metadata__) the way safetensors.torch.save_file does: header padded with
// spaces to 8 bytes, tensors back to back.
func writeSafetensors(t *testing.T, path string, md map[string]string, ts ...stTensor) {
	t.Helper()
	header := map[string]any{}
	if md != nil {
		header["__metadata__"] = md
	}
	var data []byte
	for _, x := range ts {
		var b []byte
		for _, v := range x.vals {
			switch x.dtype {
			case "F32":
				b = binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(v)))
			case "F64", "I64":
				b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
			case "F16":
				b = binary.LittleEndian.AppendUint16(b, weights.Float16Bits(float32(v)))
			case "BF16":
				b = binary.LittleEndian.AppendUint16(b, weights.BFloat16Bits(float32(v)))
			default:
				t.Fatalf("test setup: dtype %s", x.dtype)
			}
		}
		header[x.name] = map[string]any{"dtype": x.dtype, "shape": x.shape, "data_offsets": []int{len(data), len(data) + len(b)}}
		data = append(data, b...)
	}
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	for (8+len(h))%8 != 0 {
		h = append(h, ' ')
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	out = append(append(out, h...), data...)
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// torchMLP is a PyTorch-style MLP as the test writes it: Linear layers named
// prefix+"."+index, PyTorch's uniform(±1/√fan_in) initialisation.
type torchMLP struct {
	names  []string
	ws, bs [][]float64
	ins    []int
}

func newTorchMLP(seed uint64, names []string, widths ...int) torchMLP {
	rng := rand.New(rand.NewPCG(seed, 99))
	m := torchMLP{names: names}
	for l := range names {
		in, out := widths[l], widths[l+1]
		bound := 1 / math.Sqrt(float64(in))
		w, b := make([]float64, out*in), make([]float64, out)
		for i := range w {
			w[i] = float64(float32((2*rng.Float64() - 1) * bound))
		}
		for i := range b {
			b[i] = float64(float32((2*rng.Float64() - 1) * bound))
		}
		m.ws, m.bs, m.ins = append(m.ws, w), append(m.bs, b), append(m.ins, in)
	}
	return m
}

func (m torchMLP) tensors(dtype string) []stTensor {
	var ts []stTensor
	for l, n := range m.names {
		out := len(m.bs[l])
		ts = append(ts, stTensor{n + ".weight", dtype, []int{out, m.ins[l]}, m.ws[l]},
			stTensor{n + ".bias", dtype, []int{out}, m.bs[l]})
	}
	return ts
}

// forward is the network as PyTorch computes it, in float64: input is the first
// layer's whole input row (x and time features in the network's own order).
func (m torchMLP) forward(act string, input []float64) []float64 {
	h := input
	for l := range m.ws {
		out := make([]float64, len(m.bs[l]))
		for o := range out {
			z := m.bs[l][o]
			for i, v := range h {
				z += m.ws[l][o*len(h)+i] * v
			}
			if l < len(m.ws)-1 {
				z = refAct(act, z)
			}
			out[o] = z
		}
		h = out
	}
	return h
}

// timeInput is [t, sin 2πkt, cos 2πkt, …] for F = freqs (none for raw).
func timeInput(t float64, freqs int) []float64 {
	f := []float64{t}
	for k := 1; k <= freqs; k++ {
		f = append(f, math.Sin(2*math.Pi*float64(k)*t), math.Cos(2*math.Pi*float64(k)*t))
	}
	return f
}

// refAct is PyTorch's activation in float64.
func refAct(name string, z float64) float64 {
	switch name {
	case sampler.ActReLU:
		return math.Max(z, 0)
	case sampler.ActTanh:
		return math.Tanh(z)
	case sampler.ActSELU:
		if z > 0 {
			return 1.0507009873554805 * z
		}
		return 1.0507009873554805 * 1.6732632423543772 * (math.Exp(z) - 1)
	case sampler.ActGELU:
		return 0.5 * z * math.Erfc(-z/math.Sqrt2)
	}
	return z / (1 + math.Exp(-z))
}

// TestImportMatchesTheirNetwork imports networks of each preset, activation, time
// input, input order, time convention and input dtype, and checks that the model
// file's velocity is the PyTorch network's: v(x, t) = net([x, t]), or with
// -flip-time −net([x, 1 − t]).
func TestImportMatchesTheirNetwork(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name  string
		args  []string
		net   torchMLP
		act   string
		dim   int
		freqs int
		tx    bool
		flip  bool
		dtype string
	}{
		{"torchcfm", []string{"-preset", "torchcfm", "-data", "moons"},
			newTorchMLP(1, []string{"net.0", "net.2", "net.4", "net.6"}, 3, 64, 64, 64, 2), sampler.ActSELU, 2, 0, false, false, "F32"},
		{"fm2d", []string{"-preset", "fm2d", "-data", "checkerboard", "-mean", "0,0", "-std", "0.9,0.9"},
			newTorchMLP(2, []string{"main.0", "main.2", "main.4", "main.6", "main.8"}, 3, 32, 32, 32, 32, 2), sampler.ActSiLU, 2, 0, false, false, "F32"},
		{"gelu glob f64", []string{"-layers", "model.*", "-act", "gelu", "-path", "ot"},
			newTorchMLP(3, []string{"model.0", "model.3", "model.10"}, 4, 20, 17, 3), sampler.ActGELU, 3, 0, false, false, "F64"},
		{"tanh tx fourier", []string{"-layers", "a,b,c", "-act", "tanh", "-time", "fourier", "-freqs", "2", "-order", "tx", "-path", "vp"},
			newTorchMLP(4, []string{"a", "b", "c"}, 7, 16, 16, 2), sampler.ActTanh, 2, 2, true, false, "F32"},
		{"relu flip f16", []string{"-layers", "net.*", "-act", "relu", "-path", "ot", "-flip-time"},
			newTorchMLP(5, []string{"net.0", "net.2", "net.4"}, 3, 24, 24, 2), sampler.ActReLU, 2, 0, false, true, "F16"},
		{"selu flip fourier tx bf16", []string{"-preset", "torchcfm", "-layers", "net.0,net.2,net.4,net.6", "-time", "fourier", "-freqs", "3", "-order", "tx", "-flip-time"},
			newTorchMLP(6, []string{"net.0", "net.2", "net.4", "net.6"}, 9, 32, 32, 32, 2), sampler.ActSELU, 2, 3, true, true, "BF16"},
		{"silu flip", []string{"-layers", "f1,f2", "-act", "silu", "-path", "ve", "-flip-time", "-sigma-max", "5"},
			newTorchMLP(7, []string{"f1", "f2"}, 2, 40, 1), sampler.ActSiLU, 1, 0, false, true, "F32"},
	}
	for ci, c := range cases {
		base := strings.ReplaceAll(c.name, " ", "-")
		in := filepath.Join(dir, base+".pt.safetensors")
		out := filepath.Join(dir, base+".safetensors")
		ts := c.net.tensors(c.dtype)
		writeSafetensors(t, in, map[string]string{"format": "pt"}, ts...)
		code, stdout, stderr := fmRun(append(append([]string{"import"}, c.args...), in, "-o", out)...)
		if code != 0 || stdout != "" || !strings.HasPrefix(stderr, "flowmatch import: ") {
			t.Fatalf("%s: exit %d, stdout %q, stderr %q", c.name, code, stdout, stderr)
		}
		f, err := weights.ReadFile(out)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := f.Meta.Model; got.Activation != c.act || got.Dim != c.dim || got.Time.Freqs != c.freqs {
			t.Errorf("%s: model %+v", c.name, got)
		}
		prov := f.Meta.Provenance
		if prov.Notes["imported_from"] != base+".pt.safetensors" || !strings.HasPrefix(prov.Command, "flowmatch import ") ||
			strings.Contains(prov.Command, dir) || !strings.Contains(prov.Command, "-o "+base+".safetensors") {
			t.Errorf("%s: provenance %+v", c.name, prov)
		}
		// The file's tensors round what the PyTorch network holds (F16, BF16 exactly;
		// F64 to float32), and the reference computes with those.
		net := c.net
		for l := range net.ws {
			for i := range net.ws[l] {
				net.ws[l][i] = roundAs(c.dtype, net.ws[l][i])
			}
			for i := range net.bs[l] {
				net.bs[l][i] = roundAs(c.dtype, net.bs[l][i])
			}
		}
		m, _, err := f.Model()
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(11, uint64(ci)))
		n := 50
		x := make([]float32, n*c.dim)
		for i := range x {
			x[i] = float32(2 * rng.NormFloat64())
		}
		for _, tt := range []float64{0, 0.23, 0.5, 0.91, 1} {
			got := make([]float32, len(x))
			m.Velocity(got, x, tt)
			for i := 0; i < n; i++ {
				xi := make([]float64, c.dim)
				for j := range xi {
					xi[j] = float64(x[i*c.dim+j])
				}
				theirT, sign := tt, 1.0
				if c.flip {
					theirT, sign = 1-tt, -1
				}
				input := append(append([]float64(nil), xi...), timeInput(theirT, c.freqs)...)
				if c.tx {
					input = append(timeInput(theirT, c.freqs), xi...)
				}
				want := net.forward(c.act, input)
				for j, w := range want {
					if g := float64(got[i*c.dim+j]); math.Abs(g-sign*w) > 1e-5*(1+math.Abs(w)) {
						t.Fatalf("%s: t %g, point %d, coordinate %d: got %.9g, want %.9g", c.name, tt, i, j, g, sign*w)
					}
				}
			}
		}
	}
}

func roundAs(dtype string, v float64) float64 {
	switch dtype {
	case "F16":
		return float64(weights.Float16FromBits(weights.Float16Bits(float32(v))))
	case "BF16":
		return float64(weights.BFloat16FromBits(weights.BFloat16Bits(float32(v))))
	}
	return float64(float32(v))
}

// TestImportMeta checks the metadata the flags set, and -dtype.
func TestImportMeta(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.safetensors")
	writeSafetensors(t, in, nil, newTorchMLP(1, []string{"net.0", "net.2", "net.4", "net.6"}, 3, 8, 8, 8, 2).tensors("F32")...)
	out := filepath.Join(dir, "out.safetensors")
	code, _, stderr := fmRun("import", "-preset", "torchcfm", "-path", "vp", "-beta-max", "15", "-eps", "0.01", "-t-min", "0.1",
		"-data", "moons", "-mean", "0.5,-0.25", "-std", "2,0.5", "-dtype", "f16", in, "-o", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	f, err := weights.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	m := f.Meta
	if m.Path.Name != "vp" || m.Path.BetaMax != 15 || m.Path.BetaMin != 0.1 || m.Path.Eps != 0.01 || m.Path.TMin != 0.1 || m.Path.TMax != 0.99 {
		t.Errorf("path %+v", m.Path)
	}
	if m.Data.Name != "moons" || m.Data.Normalization == nil || m.Data.Normalization.Mean[1] != -0.25 || m.Data.Normalization.Std[0] != 2 {
		t.Errorf("data %+v", m.Data)
	}
	if f.Tensors[0].DType != weights.F16 {
		t.Errorf("dtype %s, want F16", f.Tensors[0].DType)
	}
	want := "flowmatch import -preset torchcfm -path vp -beta-max 15 -eps 0.01 -t-min 0.1 -data moons -mean 0.5,-0.25 -std 2,0.5 -dtype f16 in.safetensors -o out.safetensors"
	if m.Provenance.Command != want {
		t.Errorf("command %q\nwant    %q", m.Provenance.Command, want)
	}
	if got := weights.RecordedCommand("import", []string{"-layers", "net.*", "/home/u/x y.safetensors", "-o=/tmp/a/b.safetensors"}); got !=
		`flowmatch import -layers 'net.*' 'x y.safetensors' -o=b.safetensors` {
		t.Errorf("command line %s", got)
	}
	if code, stdout, _ := fmRun("import", "-h"); code != 0 || !strings.Contains(stdout, "-flip-time") || !strings.Contains(stdout, "torchcfm") {
		t.Errorf("import -h: exit %d, %q", code, stdout)
	}
}

// TestImportErrors feeds import the inputs and flags users get wrong: each is exit 2,
// one line on stderr naming what was wrong (the first tensor that does not fit), and
// no output file.
func TestImportErrors(t *testing.T) {
	dir := t.TempDir()
	good := newTorchMLP(1, []string{"net.0", "net.2", "net.4", "net.6"}, 3, 16, 16, 16, 2)
	file := func(name string, ts ...stTensor) string {
		p := filepath.Join(dir, name)
		writeSafetensors(t, p, nil, ts...)
		return p
	}
	raw := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	in := file("good.safetensors", good.tensors("F32")...)
	ts := good.tensors("F32")
	mod := func(i int, f func(*stTensor)) []stTensor {
		c := append([]stTensor(nil), ts...)
		f(&c[i])
		return c
	}
	// net.2 has 12 outputs, but net.4 takes 16 inputs.
	narrow := newTorchMLP(2, []string{"net.0", "net.2", "net.4", "net.6"}, 3, 16, 12, 16, 2)
	narrow.ins[2], narrow.ws[2] = 16, make([]float64, 16*16)
	noTime := newTorchMLP(3, []string{"net.0", "net.2", "net.4", "net.6"}, 2, 16, 16, 16, 2)
	deep := newTorchMLP(4, []string{"net.0", "net.2", "net.4", "net.6", "net.8"}, 3, 8, 8, 8, 8, 2)
	three := newTorchMLP(5, []string{"net.0", "net.2", "net.4", "net.6"}, 4, 8, 8, 8, 3)
	nan := mod(2, func(s *stTensor) { s.vals = append([]float64{math.NaN()}, s.vals[1:]...) })
	big := mod(0, func(s *stTensor) { s.dtype = "F64"; s.vals = append([]float64{1e300}, s.vals[1:]...) })
	bad := map[string]string{
		"narrow":    file("narrow.safetensors", narrow.tensors("F32")...),
		"notime":    file("notime.safetensors", noTime.tensors("F32")...),
		"deep":      file("deep.safetensors", deep.tensors("F32")...),
		"three":     file("three.safetensors", three.tensors("F32")...),
		"nobias":    file("nobias.safetensors", append(ts[:5:5], ts[6:]...)...),
		"vector":    file("vector.safetensors", mod(0, func(s *stTensor) { s.shape = []int{48} })...),
		"biasrows":  file("biasrows.safetensors", mod(3, func(s *stTensor) { s.shape = []int{4, 4} })...),
		"int":       file("int.safetensors", mod(1, func(s *stTensor) { s.dtype = "I64" })...),
		"nan":       file("nan.safetensors", nan...),
		"big":       file("big.safetensors", big...),
		"empty":     file("none.safetensors"),
		"zero":      raw("zero.safetensors", nil),
		"garbage":   raw("garbage.safetensors", []byte("\xff\xff\xff\xff\xff\xff\xff\xffnot a model")),
		"pickle":    raw("model.pt", []byte("PK\x03\x04\x00\x00\x08\x00archive/data.pkl")),
		"notjson":   raw("notjson.safetensors", append(binary.LittleEndian.AppendUint64(nil, 8), "[1,2,3] "...)),
		"beyond":    raw("beyond.safetensors", append(binary.LittleEndian.AppendUint64(nil, 64), fmt.Sprintf("%-64s", `{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`)...)),
		"flowmatch": testModel(t, dir),
	}
	folder := filepath.Join(dir, "folder")
	if err := os.Mkdir(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.safetensors")
	out := filepath.Join(dir, "out.safetensors")
	for _, c := range []struct {
		args []string
		want string
	}{
		// The input.
		{[]string{missing}, missing},
		{[]string{folder}, folder + " is a folder"},
		{[]string{bad["zero"]}, "too short for the header length"},
		{[]string{bad["garbage"]}, "not a safetensors file: header length"},
		{[]string{bad["pickle"]}, "is a PyTorch pickle (torch.save), not safetensors"},
		{[]string{bad["notjson"]}, "the header is not a JSON object"},
		{[]string{bad["beyond"]}, `tensor "a": data_offsets [0, 16] outside the 0-byte data buffer`},
		{[]string{bad["empty"]}, "holds no tensors"},
		{[]string{bad["flowmatch"]}, "already a flowmatch model file"},
		// Its tensors against the layers, naming the first that does not fit.
		{[]string{bad["narrow"]}, `tensor "net.4.weight": shape [16 16] takes 16 inputs, but net.2 has 12 outputs`},
		{[]string{bad["notime"]}, `tensor "net.0.weight": shape [16 2] takes 2 inputs, want 3: 2 data coordinates (the outputs of net.6) + 1 time input (-time raw); it takes no t (a TorchCFM MLP needs time_varying=True)`},
		{[]string{bad["deep"]}, `tensor "net.8.bias" is not in the layers -layers names (net.0,net.2,net.4,net.6)`},
		{[]string{bad["nobias"]}, `tensor "net.4.bias" (the bias of layer net.4`},
		{[]string{bad["vector"]}, `tensor "net.0.weight": shape [48] is not a matrix`},
		{[]string{bad["biasrows"]}, `tensor "net.2.bias": shape [4 4], want [16]`},
		{[]string{bad["int"]}, `tensor "net.0.bias": dtype I64 is not a floating-point type`},
		{[]string{bad["nan"]}, `tensor "net.2.weight": value 0 is NaN`},
		{[]string{bad["big"]}, `tensor "net.0.weight": value 0 is +Inf`},
		{[]string{in, "-time", "fourier", "-freqs", "1"}, `tensor "net.0.weight": shape [16 3] takes 3 inputs, want 5`},
		{[]string{bad["three"], "-data", "moons"}, "-data moons is 2-dimensional, but the network's output (net.6) has 3 coordinates"},
		{[]string{in, "-mean", "0,0,0", "-std", "1,1,1"}, "-mean and -std have 3 values, want 2"},
		{[]string{in, "-layers", "net.0"}, "-layers names 1 layer"},
		{[]string{in, "-layers", "body.*"}, "-layers body.*: the file has no tensor body.N.weight (it holds 8 tensors: net.0.bias"},
		{[]string{in, "-layers", "net.0,net.2,net.4,net.5"}, `tensor "net.5.weight" (the weight of layer net.5) is not in good.safetensors`},
		// The flags.
		{[]string{in, in}, "want one input file (a safetensors state_dict), got 2"},
		{[]string{in, "-o", ""}, "-o is required"},
		{[]string{in, "-preset", "diffusers"}, `unknown -preset "diffusers" (want fm2d or torchcfm)`},
		{[]string{in, "-act", "mish"}, `unknown -act "mish" (want silu, relu, tanh, selu, gelu)`},
		{[]string{in, "-time", "sinusoidal"}, `unknown -time "sinusoidal"`},
		{[]string{in, "-time", "fourier"}, "-time fourier needs -freqs F"},
		{[]string{in, "-freqs", "3"}, "-freqs goes with -time fourier"},
		{[]string{in, "-order", "yx"}, `unknown -order "yx"`},
		{[]string{in, "-path", "sb"}, `unknown -path "sb"`},
		{[]string{in, "-beta-min", "0.2"}, "-beta-min does not apply to -path ot"},
		{[]string{in, "-path", "ve", "-sigma-max", "-1"}, "-path ve:"},
		{[]string{in, "-t-max", "1.5"}, "-t-min 0, -t-max 1.5: want 0 ≤ t-min < t-max ≤ 1"},
		{[]string{in, "-data", "mnist"}, `unknown -data "mnist"`},
		{[]string{in, "-mean", "0,0"}, "-mean and -std go together"},
		{[]string{in, "-mean", "0,x", "-std", "1,1"}, `-mean "0,x": "x" is not a finite number`},
		{[]string{in, "-mean", "0,0", "-std", "1,0"}, "-std value 1 is 0"},
		{[]string{in, "-mean", "0,0", "-std", "1"}, "-mean has 2 values and -std 1"},
		{[]string{in, "-dtype", "f64"}, `unknown -dtype "f64"`},
		{[]string{in, "-o", folder}, "-o: " + folder + " is a folder"},
		{[]string{in, "-o", in}, "is the input file"},
		{[]string{in, "-bogus"}, "-bogus"},
	} {
		args := append([]string{"import"}, c.args...)
		if !slices.Contains(c.args, "-o") {
			args = append(args, "-o", out)
		}
		if !slices.Contains(c.args, "-preset") {
			args = append(args, "-preset", "torchcfm")
		}
		code, stdout, stderr := fmRun(args...)
		if code != 2 || !strings.Contains(stderr, c.want) || stdout != "" {
			t.Errorf("flowmatch %q: exit %d, stdout %q, stderr %q; want 2 and %q", args, code, stdout, stderr, c.want)
		}
		if !strings.HasPrefix(stderr, "flowmatch import: ") || strings.Count(stderr, "\n") != 1 || strings.Contains(stderr, "goroutine") {
			t.Errorf("flowmatch %q: stderr is not one line: %q", args, stderr)
		}
		if _, err := os.Stat(out); err == nil {
			t.Fatalf("flowmatch %q wrote %s", args, out)
		}
	}
	// Without a preset, the layers, the activation and the path are required.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"import"}, "want one input file (a safetensors state_dict), got 0"},
		{[]string{"import", in, "-o", out}, "name the Linear layers with -layers"},
		{[]string{"import", in, "-o", out, "-layers", "net.*"}, "-act is required without -preset"},
		{[]string{"import", in, "-o", out, "-layers", "net.*", "-act", "selu"}, "-path is required without -preset"},
		{[]string{"import", in, "-o", out, "-layers", "net.0,,net.2", "-act", "selu", "-path", "ot"}, "a layer name is empty"},
	} {
		code, _, stderr := fmRun(c.args...)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("flowmatch %q: exit %d, stderr %q; want 2 and %q", c.args, code, stderr, c.want)
		}
	}
}
