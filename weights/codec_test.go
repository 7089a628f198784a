package weights

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowmatch/flowmatch/sampler"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// rounded returns v as dtype stores it.
func rounded(v float32, dtype DType) float32 {
	switch dtype {
	case F16:
		return Float16FromBits(Float16Bits(v))
	case BF16:
		return BFloat16FromBits(BFloat16Bits(v))
	}
	return v
}

func TestRoundTrip(t *testing.T) {
	for mi, meta := range testMetas() {
		f := randomFile(t, uint64(mi), meta)
		for _, dtype := range DTypes() {
			b, err := Marshal(f, dtype)
			if err != nil {
				t.Fatalf("meta %d, %s: Marshal: %v", mi, dtype, err)
			}
			if len(b) < 8 || (8+binary.LittleEndian.Uint64(b))%8 != 0 {
				t.Errorf("meta %d, %s: tensor data does not start 8-byte aligned", mi, dtype)
			}
			g, err := DecodeBytes(b)
			if err != nil {
				t.Fatalf("meta %d, %s: DecodeBytes: %v", mi, dtype, err)
			}
			if !reflect.DeepEqual(g.Meta, f.Meta) {
				t.Errorf("meta %d, %s: metadata changed:\n got %+v\nwant %+v", mi, dtype, g.Meta, f.Meta)
			}
			if len(g.Tensors) != len(f.Tensors) {
				t.Fatalf("meta %d, %s: %d tensors, want %d", mi, dtype, len(g.Tensors), len(f.Tensors))
			}
			for i, gt := range g.Tensors {
				ft := f.Tensors[i]
				if gt.Name != ft.Name || gt.DType != dtype || !reflect.DeepEqual(gt.Shape, ft.Shape) {
					t.Fatalf("meta %d, %s: tensor %d is %s %s %v, want %s %s %v", mi, dtype, i, gt.Name, gt.DType, gt.Shape, ft.Name, dtype, ft.Shape)
				}
				for k, v := range gt.Data {
					want := rounded(ft.Data[k], dtype)
					if v != want {
						t.Fatalf("meta %d, %s: %s[%d] = %v, want %v", mi, dtype, gt.Name, k, v, want)
					}
					// Half precision keeps 11 significant bits (relative error ≤ 2⁻¹¹) for
					// normal halves and an absolute error ≤ 2⁻²⁵ below them.
					tol := map[DType]float64{F32: 0, F16: 0x1p-11, BF16: 0x1p-8}[dtype]
					if d := math.Abs(float64(v - ft.Data[k])); d > tol*math.Abs(float64(ft.Data[k])) && d > 0x1p-25 {
						t.Fatalf("meta %d, %s: %s[%d] = %v, from %v: error %g too large", mi, dtype, gt.Name, k, v, ft.Data[k], d)
					}
				}
			}
			// Decode from a reader agrees, and re-encoding gives the same bytes.
			h, err := Decode(bytes.NewReader(b))
			if err != nil || !reflect.DeepEqual(h, g) {
				t.Fatalf("meta %d, %s: Decode differs from DecodeBytes (err %v)", mi, dtype, err)
			}
			b2, err := Marshal(g, dtype)
			if err != nil || !bytes.Equal(b2, b) {
				t.Fatalf("meta %d, %s: re-encoding the decoded file changed its bytes (err %v)", mi, dtype, err)
			}
		}
	}
}

func TestFloat16HalfSize(t *testing.T) {
	f := randomFile(t, 7, Meta{
		Model: sampler.MLPSpec{Dim: 2, Hidden: []int{256, 256, 256}},
		Path:  PathInfo{PathSpec: sampler.PathSpec{Name: sampler.PathOT}},
	})
	b32, _ := Marshal(f, F32)
	b16, _ := Marshal(f, F16)
	if r := float64(len(b16)) / float64(len(b32)); r > 0.51 {
		t.Errorf("float16 file is %d bytes, float32 %d: ratio %.3f, want about 0.5", len(b16), len(b32), r)
	}
}

// goldenWant is what decoding f's encoding as dtype gives.
func goldenWant(f *File, dtype DType) *File {
	want := *f
	want.Tensors = nil
	for _, ft := range f.Tensors {
		wt := Tensor{Name: ft.Name, DType: dtype, Shape: ft.Shape}
		for _, v := range ft.Data {
			wt.Data = append(wt.Data, rounded(v, dtype))
		}
		want.Tensors = append(want.Tensors, wt)
	}
	return &want
}

// TestGolden checks the encoder against the golden files byte for byte (the files the
// writer writes now: golden-arch-*, version 1 with "arch", and golden-v2-f32, version
// 2), and that the version 1 files written before "arch" existed (golden-f32 and
// golden-f16, never rewritten) still read, as the same model.
func TestGolden(t *testing.T) {
	for _, g := range []struct {
		name    string
		f       *File
		dtype   DType
		version string
	}{
		{"golden-arch-f32.safetensors", goldenFile(t), F32, "1"},
		{"golden-arch-f16.safetensors", goldenFile(t), F16, "1"},
		{"golden-v2-f32.safetensors", goldenV2File(t), F32, "2"},
	} {
		name := filepath.Join("testdata", g.name)
		b, err := Marshal(g.f, g.dtype)
		if err != nil {
			t.Fatal(err)
		}
		if *update {
			if err := WriteFile(name, g.f, g.dtype); err != nil {
				t.Fatal(err)
			}
		}
		golden, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, golden) {
			t.Errorf("%s: encoding differs from the golden file (go test ./weights -run TestGolden -update rewrites it, if the change is intended)", name)
		}
		hdr, _ := splitFile(t, golden)
		if want := `"arch":"mlp"`; !strings.Contains(hdr, want) || !strings.Contains(hdr, `"format_version":"`+g.version+`"`) {
			t.Errorf("%s: header lacks %s or format_version %q: %s", name, want, g.version, hdr)
		}
		f, err := ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if want := goldenWant(g.f, g.dtype); !reflect.DeepEqual(f, want) {
			t.Errorf("%s decodes to\n%+v\nwant\n%+v", name, f, want)
		}
	}
	for _, dtype := range []DType{F32, F16} {
		suffix := strings.ToLower(string(dtype)) + ".safetensors"
		old, err := os.ReadFile(filepath.Join("testdata", "golden-"+suffix))
		if err != nil {
			t.Fatal(err)
		}
		cur, err := os.ReadFile(filepath.Join("testdata", "golden-arch-"+suffix))
		if err != nil {
			t.Fatal(err)
		}
		// The only difference is the arch key (and the padding after the header).
		oh, od := splitFile(t, old)
		ch, cd := splitFile(t, cur)
		if strings.Contains(oh, `"arch"`) || !strings.Contains(oh, `"format_version":"1"`) {
			t.Fatalf("golden-%s is not a version 1 file without arch: %s", suffix, oh)
		}
		if strings.TrimRight(oh, " ") != strings.Replace(strings.TrimRight(ch, " "), `"arch":"mlp",`, "", 1) || !bytes.Equal(od, cd) {
			t.Errorf("golden-%s and golden-arch-%s differ by more than the arch key", suffix, suffix)
		}
		g, err := DecodeBytes(old)
		if err != nil {
			t.Fatalf("golden-%s (version 1, no arch): %v", suffix, err)
		}
		if want := goldenWant(goldenFile(t), dtype); !reflect.DeepEqual(g, want) {
			t.Errorf("golden-%s decodes to\n%+v\nwant\n%+v", suffix, g, want)
		}
		if g.Meta.Arch != ArchMLP {
			t.Errorf("golden-%s: Arch %q, want %q", suffix, g.Meta.Arch, ArchMLP)
		}
		// Re-encoded, it is what the writer writes now.
		if b, err := Marshal(g, dtype); err != nil || !bytes.Equal(b, cur) {
			t.Errorf("golden-%s re-encoded differs from golden-arch-%s (err %v)", suffix, suffix, err)
		}
	}
	// A few values spelled out, independent of the encoder.
	for _, name := range []string{"testdata/golden-f16.safetensors", "testdata/golden-arch-f16.safetensors"} {
		g, err := ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name string
			i    int
			want float32
		}{
			{"layers.1.weight", 0, 0.0999755859375}, // 0x2e66
			{"layers.1.weight", 3, 0.0010004043579101562},
			{"layers.1.weight", 4, 65504},
			{"layers.1.weight", 5, -2.9802322387695312e-06}, // subnormal: -50·2⁻²⁴
			{"layers.1.bias", 1, -0.333251953125},
		} {
			if got := g.Tensor(c.name).Data[c.i]; got != c.want {
				t.Errorf("%s: %s[%d] = %v, want %v", name, c.name, c.i, got, c.want)
			}
		}
	}
}

// header returns the JSON header of an encoded file and its data buffer.
func splitFile(t testing.TB, b []byte) (string, []byte) {
	t.Helper()
	n := binary.LittleEndian.Uint64(b)
	return string(b[8 : 8+n]), b[8+n:]
}

// join builds a file from a header and a data buffer.
func join(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(b, header...), data...)
}

// TestDecodeErrors checks that hostile and broken inputs are refused with a message
// that says what was wrong, starting from a good file in both forms: version 1 as
// written before "arch" existed (testdata/golden-f32.safetensors), and as the writer
// writes it now, with "arch".
func TestDecodeErrors(t *testing.T) {
	for _, form := range []struct {
		name     string
		f32, f16 []byte
		arch     bool
	}{
		{"no arch", must(os.ReadFile("testdata/golden-f32.safetensors")), must(os.ReadFile("testdata/golden-f16.safetensors")), false},
		{"arch", must(Marshal(goldenFile(t), F32)), must(Marshal(goldenFile(t), F16)), true},
	} {
		t.Run(form.name, func(t *testing.T) { testDecodeErrors(t, form.f32, form.f16, form.arch) })
	}
}

func testDecodeErrors(t *testing.T, good, g16 []byte, hasArch bool) {
	hdr, data := splitFile(t, good)
	hdr = strings.TrimRight(hdr, " ")
	if strings.Contains(hdr, `"arch":"mlp"`) != hasArch {
		t.Fatalf("test setup: arch in the header is not %v: %s", hasArch, hdr)
	}
	// edit replaces one occurrence of each old in the header by its new, insisting that
	// it is there: edit(old1, new1, old2, new2, …).
	edit := func(pairs ...string) []byte {
		h := hdr
		for i := 0; i < len(pairs); i += 2 {
			if !strings.Contains(h, pairs[i]) {
				t.Fatalf("test setup: %q not in the header %s", pairs[i], h)
			}
			h = strings.Replace(h, pairs[i], pairs[i+1], 1)
		}
		return join(h, data)
	}
	// withArch gives the header an arch key of the given JSON value, in place of the
	// one it has or beside the others.
	withArch := func(value string, pairs ...string) []byte {
		if hasArch {
			return edit(append([]string{`"arch":"mlp"`, `"arch":` + value}, pairs...)...)
		}
		return edit(append([]string{`"data":`, `"arch":` + value + `,"data":`}, pairs...)...)
	}
	v2 := func(pairs ...string) []byte {
		return edit(append([]string{`"format_version":"1"`, `"format_version":"2"`}, pairs...)...)
	}
	// v3src gives a version 3 file the data source src (a JSON object, escaped).
	v3src := func(src string) []byte {
		return edit(`"format_version":"1"`, `"format_version":"3"`, `\"dim\":2}`, `\"dim\":2,\"source\":`+src+`}`)
	}
	const sha = `0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef`
	const (
		dataEnd = `\"dim\":2}`
		mlp     = `"model":"{\"dim\":2,\"hidden\":[3],\"activation\":\"silu\",\"time\":{\"kind\":\"raw\"}}"`
	)
	nanData := append([]byte(nil), data...)
	binary.LittleEndian.PutUint32(nanData[4*4:], math.Float32bits(float32(math.NaN())))
	h16, d16 := splitFile(t, g16)
	infData := append([]byte(nil), d16...)
	binary.LittleEndian.PutUint16(infData[2*10:], 0xfc00)
	hugeHeader := binary.LittleEndian.AppendUint64(nil, 1<<40)

	cases := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "truncated: the header length needs 8 bytes, only 0 left"},
		{"short length", []byte{1, 2, 3}, "truncated: the header length"},
		{"header length huge", append(hugeHeader, '{', '}'), "header length 1099511627776 outside [2, 100000000]"},
		{"header length under the cap but beyond the input", join(hdr, data)[:8+100], "truncated: the JSON header needs"},
		{"header length too small", join("{", nil), "header length 1 outside"},
		{"not an object", join("[1,2]", nil), "does not start with '{'"},
		{"invalid JSON", join("{\"a\":", nil), "the JSON header:"},
		{"invalid UTF-8", join("{\"\xff\":1}", nil), "not valid UTF-8"},
		{"garbage after the header", join(hdr+"x", data), "after its closing brace"},
		{"a second object", join(hdr+"{}", data), "after its closing brace"},
		{"no metadata", join(`{"layers.0.weight":{"dtype":"F32","shape":[3,3],"data_offsets":[0,36]}}`, data[:36]), "no __metadata__"},
		{"metadata not an object", join(`{"__metadata__":[]}`, nil), "__metadata__ is not a JSON object"},
		{"metadata value not a string", edit(`"format":"flowmatch"`, `"format":1`), `__metadata__ "format" is not a string`},
		{"duplicate metadata key", edit(`"format":"flowmatch"`, `"format":"flowmatch","format":"flowmatch"`), `__metadata__ has the key "format" twice`},
		{"duplicate tensor", edit(`{"__metadata__"`, `{"layers.0.bias":{"dtype":"F32","shape":[3],"data_offsets":[36,48]},"__metadata__"`), `the JSON header has the key "layers.0.bias" twice`},
		{"wrong format", edit(`"format":"flowmatch"`, `"format":"other"`), `"format" is "other", want "flowmatch": not a flowmatch file`},
		{"no format", edit(`"format":"flowmatch",`, ``), `no "format" key: not a flowmatch file`},
		{"future version", edit(`"format_version":"1"`, `"format_version":"5"`), `format version "5" not supported (this reader knows versions 1 to 4)`},
		{"version not a number", edit(`"format_version":"1"`, `"format_version":"01"`), `format version "01" not supported`},
		{"unknown arch", withArch(`"unet2"`), `weights: unknown network arch "unet2"`},
		{"unknown arch, version 2", withArch(`"unet2"`, `"format_version":"1"`, `"format_version":"2"`), `weights: unknown network arch "unet2"`},
		{"arch empty", withArch(`""`), `unknown network arch ""`},
		{"arch in capitals", withArch(`"MLP"`), `unknown network arch "MLP"`},
		{"arch not a string", withArch(`["mlp"]`), `__metadata__ "arch" is not a string`},
		{"arch twice", withArch(`"mlp","arch":"mlp"`), `__metadata__ has the key "arch" twice`},
		{"arch and spec disagree", edit(mlp, `"model":"{\"dim\":2,\"channels\":[32,64],\"time\":{\"kind\":\"fourier\",\"freqs\":8}}"`),
			`metadata "model" (arch "mlp"): json: unknown field "channels"`},
		{"arch mlp, spec of another kind", withArch(`"mlp"`, mlp, `"model":"{\"kind\":\"unet\",\"dim\":2}"`),
			`metadata "model" (arch "mlp"): json: unknown field "kind"`},
		{"data shape in version 1", edit(dataEnd, `\"dim\":2,\"shape\":[1,2]}`), `format version 1, but data "shape" needs version 2`},
		{"data classes in version 1", edit(dataEnd, `\"dim\":2,\"classes\":[\"a\",\"b\"]}`), `format version 1, but data "classes" needs version 2`},
		{"data shape product", v2(dataEnd, `\"dim\":2,\"shape\":[1,3]}`), `metadata "data": shape [1 3] holds 3 values, but dim is 2`},
		{"data shape product small", v2(dataEnd, `\"dim\":2,\"shape\":[1]}`), `metadata "data": shape [1] holds 1 values, but dim is 2`},
		{"data shape product huge", v2(dataEnd, `\"dim\":2,\"shape\":[4294967296,4294967296,4294967296]}`), `shape [4294967296 4294967296 4294967296] holds more than dim = 2 values`},
		{"data shape extent 0", v2(dataEnd, `\"dim\":2,\"shape\":[0,2]}`), `shape [0 2]: extent 0, want each at least 1`},
		{"data shape negative", v2(dataEnd, `\"dim\":2,\"shape\":[-1,-2]}`), `shape [-1 -2]: extent -1`},
		{"data shape rank", v2(dataEnd, `\"dim\":2,\"shape\":[1,1,1,1,1,1,1,1,2]}`), `has 9 axes, want at most 8`},
		{"data shape fractional", v2(dataEnd, `\"dim\":2,\"shape\":[0.5,4]}`), `metadata "data": json: cannot unmarshal number 0.5`},
		{"data classes repeated", v2(dataEnd, `\"dim\":2,\"classes\":[\"a\",\"b\",\"a\"]}`), `metadata "data": classes 0 and 2 are both "a"`},
		{"data class empty", v2(dataEnd, `\"dim\":2,\"classes\":[\"a\",\"\"]}`), `metadata "data": class 1 is "", want a non-empty UTF-8 name`},
		{"data unknown field", v2(dataEnd, `\"dim\":2,\"labels\":[\"a\"]}`), `metadata "data": json: unknown field "labels"`},
		{"no model", edit(`"model":`, `"modell":`), `__metadata__ has no "model" key`},
		{"model not JSON", edit(`"model":"{`, `"model":"{{`), `metadata "model" (arch "mlp"): invalid character`},
		{"model dim 0", edit(`\"dim\":2,\"hidden\"`, `\"dim\":0,\"hidden\"`), `metadata "model": sampler: mlp: dim 0 outside`},
		{"model unknown field", edit(`\"hidden\":[3]`, `\"hidden\":[3],\"cond\":1`), `metadata "model" (arch "mlp"): json: unknown field "cond"`},
		{"model bad activation", edit(`\"activation\":\"silu\"`, `\"activation\":\"mish\"`), `unknown activation "mish"`},
		{"model width huge", edit(`\"hidden\":[3]`, `\"hidden\":[1000000]`), `hidden layer 0 has width 1000000`},
		{"no path", edit(`"path":`, `"pat":`), `no "path" key`},
		{"unknown path", edit(`\"name\":\"ot\"`, `\"name\":\"sb\"`), `metadata "path": sampler: unknown path "sb"`},
		{"t_max beyond the path", edit(`\"t_max\":1`, `\"t_max\":1.5`), `time range [t_min, t_max] = [0, 1.5], want 0 ≤ t_min < t_max ≤ 1`},
		{"t_min after t_max", edit(`\"t_min\":0`, `\"t_min\":1`), `time range [t_min, t_max] = [1, 1]`},
		{"data dim", edit(`\"dim\":2}`, `\"dim\":3}`), `metadata "data": dim 3 but the model's dim is 2`},
		{"normalization length", edit(`\"dim\":2}`, `\"dim\":2,\"normalization\":{\"mean\":[0],\"std\":[1]}}`), `normalization has 1 means and 1 stds, want 2`},
		{"normalization std negative", edit(`"format_version":"1"`, `"format_version":"3"`, `\"dim\":2}`, `\"dim\":2,\"normalization\":{\"mean\":[0,0],\"std\":[1,-1]}}`), `normalization coordinate 1: mean 0, std -1 (want finite, std ≥ 0)`},
		{"normalization std 0 in version 1", edit(`\"dim\":2}`, `\"dim\":2,\"normalization\":{\"mean\":[0,0],\"std\":[1,0]}}`), `format version 1, but data normalization std 0 needs version 3`},
		{"source in version 2", v2(`\"dim\":2}`, `\"dim\":2,\"source\":{\"rows\":5,\"holdout\":{\"seed\":1,\"rows\":0}}}`), `format version 2, but data "source" needs version 3`},
		{"source folder", v3src(`{\"file\":\"home/me/x.csv\",\"rows\":5,\"holdout\":{\"seed\":1,\"rows\":0}}`), `source file "home/me/x.csv", want a file's base name`},
		{"source dot-dot", v3src(`{\"file\":\"..\",\"rows\":5,\"holdout\":{\"seed\":1,\"rows\":0}}`), `source file ".."`},
		{"source rows", v3src(`{\"file\":\"x.csv\",\"rows\":-1,\"holdout\":{\"seed\":1,\"rows\":0}}`), `source rows -1, want at least 1`},
		{"source sha", v3src(`{\"file\":\"x.csv\",\"rows\":5,\"sha256\":\"ABC\",\"holdout\":{\"seed\":1,\"rows\":0}}`), `source sha256 "ABC", want 64 lower-case hex digits`},
		{"holdout all rows", v3src(`{\"rows\":5,\"sha256\":\"` + sha + `\",\"holdout\":{\"rule\":\"r\",\"seed\":1,\"rows\":5}}`), `holdout rows 5 of 5, want 0 ≤ holdout < rows`},
		{"holdout without rule", v3src(`{\"rows\":5,\"holdout\":{\"seed\":1,\"rows\":1}}`), `holdout of 1 rows names no rule`},
		{"source unknown field", v3src(`{\"rows\":5,\"lines\":5,\"holdout\":{\"seed\":1,\"rows\":0}}`), `json: unknown field "lines"`},
		{"provenance wrong type", edit(`\"seed\":1`, `\"seed\":\"one\"`), `metadata "provenance": json: cannot unmarshal string`},
		{"unknown dtype", edit(`"dtype":"F32"`, `"dtype":"F64"`), `tensor "layers.0.weight": dtype "F64" not supported`},
		{"unknown entry field", edit(`"dtype":"F32",`, `"dtype":"F32","extra":1,`), `tensor "layers.0.weight": json: unknown field "extra"`},
		{"no shape", edit(`"shape":[3,3],`, ``), `tensor "layers.0.weight": no shape`},
		{"negative dimension", edit(`"shape":[3,3]`, `"shape":[-3,3]`), `shape [-3 3]: "-3" is not a dimension`},
		{"fractional offset", edit(`"data_offsets":[0,36]`, `"data_offsets":[0,36.5]`), `"36.5" is not an offset`},
		{"three offsets", edit(`"data_offsets":[0,36]`, `"data_offsets":[0,36,48]`), `data_offsets has 3 entries, want 2`},
		{"offsets reversed", edit(`"data_offsets":[0,36]`, `"data_offsets":[36,0]`), `data_offsets [36, 0] end before they begin`},
		{"wrong shape", edit(`"shape":[2,3]`, `"shape":[3,2]`), `tensor "layers.1.weight": shape [3 2] but model says [2 3]`},
		{"wrong rank", edit(`"shape":[3]`, `"shape":[3,1]`), `tensor "layers.0.bias": shape [3 1] but model says [3]`},
		{"unexpected tensor", edit(`"layers.1.bias"`, `"layers.2.bias"`),
			`unexpected tensor "layers.2.bias": the mlp network 3→3→2 silu holds 4 tensors: layers.0.weight, layers.0.bias, layers.1.weight, layers.1.bias`},
		{"missing tensor", edit(`,"layers.1.bias":{"dtype":"F32","shape":[2],"data_offsets":[72,80]}`, ``), `tensor "layers.1.bias" is missing`},
		{"offsets overlap", edit(`"data_offsets":[36,48]`, `"data_offsets":[32,44]`), `overlap the tensor before it, which ends at 36`},
		{"offsets leave a hole", edit(`"data_offsets":[36,48]`, `"data_offsets":[40,52]`), `leave a hole: the tensor before it ends at 36`},
		{"offsets do not start at 0", edit(`"data_offsets":[0,36]`, `"data_offsets":[4,40]`), `data_offsets [4, 40]: the first tensor must begin at 0`},
		{"offsets disagree with shape", edit(`"data_offsets":[0,36]`, `"data_offsets":[0,40]`), `data_offsets [0, 40] hold 40 bytes, but F32 [3 3] needs 36`},
		{"offsets beyond the data", edit(`"data_offsets":[72,80]`, `"data_offsets":[1000000072,1000000080]`), `leave a hole`},
		{"misaligned", join(strings.Replace(strings.TrimRight(h16, " "), `"layers.0.bias":{"dtype":"F16","shape":[3],"data_offsets":[18,24]}`,
			`"layers.0.bias":{"dtype":"F32","shape":[3],"data_offsets":[18,30]}`, 1), d16), `offset 18 is not aligned to F32's 4 bytes`},
		{"data truncated", good[:len(good)-1], "truncated: the tensor data needs 80 bytes, only 79 left"},
		{"trailing data", append(append([]byte(nil), good...), 0), "1 bytes of trailing data after the last tensor"},
		{"NaN", join(hdr, nanData), `tensor "layers.0.weight": value 4 ([1 1]) is NaN`},
		{"Inf in float16", join(h16, infData), `tensor "layers.0.bias": value 1 ([1]) is -Inf`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := DecodeBytes(c.in)
			if err == nil {
				t.Fatalf("DecodeBytes succeeded (%d tensors), want error containing %q", len(f.Tensors), c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q\n  does not contain %q", err, c.want)
			}
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Errorf("error %q is a %T, not a *FormatError", err, err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q spans lines", err)
			}
			if c.name != "trailing data" {
				if _, err := Decode(bytes.NewReader(c.in)); err == nil {
					t.Errorf("Decode succeeded where DecodeBytes failed")
				}
			}
		})
	}
}

// TestDecodeAllocations checks that a header or data claiming more bytes than the input
// holds is refused without allocating for the claim.
func TestDecodeAllocations(t *testing.T) {
	if runtime.GOARCH == "wasm" {
		t.Skip("memory statistics are coarse under wasm")
	}
	good, _ := Marshal(goldenFile(t), F32)
	hdr, _ := splitFile(t, good)
	bigModel := strings.Replace(strings.Replace(hdr, `\"hidden\":[3]`, `\"hidden\":[16384,16384,16384]`, 1), `"shape":[3,3]`, `"shape":[16384,3]`, 1)
	for _, c := range []struct {
		name string
		in   []byte
	}{
		{"header of 99 MB claimed, 100 bytes present", append(binary.LittleEndian.AppendUint64(nil, 99_000_000), make([]byte, 100)...)},
		{"header of 2^63 claimed", append(binary.LittleEndian.AppendUint64(nil, 1<<63), '{', '}')},
		{"a gigabyte of tensors claimed", join(bigModel, nil)},
	} {
		for _, dec := range []struct {
			name string
			fn   func([]byte) error
		}{
			{"Decode", func(b []byte) error { _, err := Decode(bytes.NewReader(b)); return err }},
			{"DecodeBytes", func(b []byte) error { _, err := DecodeBytes(b); return err }},
		} {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			err := dec.fn(c.in)
			runtime.ReadMemStats(&after)
			if err == nil {
				t.Errorf("%s, %s: no error", c.name, dec.name)
			}
			if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
				t.Errorf("%s, %s: allocated %d bytes (error: %v)", c.name, dec.name, got, err)
			}
		}
	}
}

func TestEncodeErrors(t *testing.T) {
	f := goldenFile(t)
	mod := func(change func(f *File)) *File {
		g, _ := DecodeBytes(must(Marshal(f, F32)))
		change(g)
		return g
	}
	for _, c := range []struct {
		name  string
		f     *File
		dtype DType
		want  string
	}{
		{"bad dtype", f, DType("F64"), `dtype "F64" not supported`},
		{"float16 overflow", mod(func(g *File) { g.Tensors[0].Data[4] = 1e5 }), F16, `tensor "layers.0.weight": value 4 ([1 1]) = 100000 does not fit in F16`},
		{"NaN", mod(func(g *File) { g.Tensors[1].Data[2] = float32(math.NaN()) }), F32, `tensor "layers.0.bias": value 2 ([2]) is NaN`},
		{"short data", mod(func(g *File) { g.Tensors[2].Data = g.Tensors[2].Data[:5] }), F32, `tensor "layers.1.weight": shape [2 3] needs 6 values, has 5`},
		{"duplicate", mod(func(g *File) { g.Tensors[3] = g.Tensors[1] }), F32, `tensor "layers.0.bias" appears twice`},
		{"missing", mod(func(g *File) { g.Tensors = g.Tensors[:3] }), F32, `tensor "layers.1.bias" is missing`},
		{"reserved extra key", mod(func(g *File) { g.Meta.Extra = map[string]string{"model": "x"} }), F32, `metadata Extra key "model" is reserved`},
		{"reserved extra key arch", mod(func(g *File) { g.Meta.Extra = map[string]string{"arch": "mlp"} }), F32, `metadata Extra key "arch" is reserved`},
		{"unknown arch", mod(func(g *File) { g.Meta.Arch = "unet2" }), F32, `weights: unknown network arch "unet2"`},
		{"data shape", mod(func(g *File) { g.Meta.Data.Shape = []int{3} }), F32, `metadata "data": shape [3] holds 3 values, but dim is 2`},
		{"NaN loss", mod(func(g *File) { g.Meta.Provenance.FinalLoss = math.NaN() }), F32, `final_loss, lr, ema and train_seconds must be finite`},
	} {
		var buf bytes.Buffer
		err := Encode(&buf, c.f, c.dtype)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Encode error %v, want %q", c.name, err, c.want)
		}
		if buf.Len() != 0 {
			t.Errorf("%s: Encode wrote %d bytes before failing", c.name, buf.Len())
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestNewFile(t *testing.T) {
	spec := sampler.MLPSpec{Dim: 2, Hidden: []int{4}}
	w, b := randomParams(rand.New(rand.NewPCG(1, 2)), spec)
	ot := PathInfo{PathSpec: sampler.PathSpec{Name: sampler.PathOT}}
	for _, c := range []struct {
		name string
		meta Meta
		w, b [][]float32
		want string
	}{
		{"layers", Meta{Model: spec, Path: ot}, w[:1], b[:1], "has 2 layers, got 1 weights and 1 biases"},
		{"weight length", Meta{Model: spec, Path: ot}, [][]float32{w[0][:3], w[1]}, b, `tensor "layers.0.weight": shape [4 3] needs 12 values, has 3`},
		{"bad spec", Meta{Model: sampler.MLPSpec{Dim: 2}, Path: ot}, w, b, "0 hidden layers"},
		{"bad path", Meta{Model: spec}, w, b, `unknown path ""`},
		{"infinite weight", Meta{Model: spec, Path: ot}, [][]float32{{1, 2, float32(math.Inf(1)), 4, 5, 6, 7, 8, 9, 10, 11, 12}, w[1]}, b, `value 2 ([0 2]) is +Inf`},
	} {
		if _, err := NewFile(c.meta, c.w, c.b); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: NewFile error %v, want %q", c.name, err, c.want)
		}
	}
	// Defaults are written out in full.
	f, err := NewFile(Meta{Model: spec, Path: PathInfo{PathSpec: sampler.PathSpec{Name: sampler.PathVE}}}, w, b)
	if err != nil {
		t.Fatal(err)
	}
	m := f.Meta
	if m.Model.Activation != "silu" || m.Model.Time.Kind != "raw" || m.Path.SigmaMin != 0.01 || m.Path.SigmaMax != 10 ||
		m.Path.Eps != 1e-3 || m.Path.TMax != 1-1e-3 || m.Data.Dim != 2 {
		t.Errorf("defaults not filled in: %+v", m)
	}
	// NewFile copies its arguments.
	w[0][0] = 42
	if f.Tensors[0].Data[0] == 42 {
		t.Error("NewFile kept the caller's slice")
	}
}

func TestModelMatchesParameters(t *testing.T) {
	for mi, meta := range testMetas() {
		f := randomFile(t, uint64(mi), meta)
		w, b, err := f.Params()
		if err != nil {
			t.Fatal(err)
		}
		direct, err := sampler.NewMLP(f.Meta.Model, w, b)
		if err != nil {
			t.Fatal(err)
		}
		for _, dtype := range DTypes() {
			g := must(DecodeBytes(must(Marshal(f, dtype))))
			mlp, path, err := g.Model()
			if err != nil {
				t.Fatal(err)
			}
			if path.Spec() != f.Meta.Path.PathSpec {
				t.Errorf("meta %d: path %+v, want %+v", mi, path.Spec(), f.Meta.Path.PathSpec)
			}
			d := meta.Model.Dim
			rng := rand.New(rand.NewPCG(3, 4))
			x := make([]float32, 50*d)
			for i := range x {
				x[i] = float32(rng.NormFloat64())
			}
			v1, v2 := make([]float32, len(x)), make([]float32, len(x))
			direct.Velocity(v1, x, 0.3)
			mlp.Velocity(v2, x, 0.3)
			for i := range v1 {
				tol := map[DType]float64{F32: 0, F16: 5e-3, BF16: 4e-2}[dtype]
				if math.Abs(float64(v1[i]-v2[i])) > tol*(1+math.Abs(float64(v1[i]))) {
					t.Fatalf("meta %d, %s: velocity %d = %v, want %v", mi, dtype, i, v2[i], v1[i])
				}
			}
		}
	}
}

func TestSample(t *testing.T) {
	metas := testMetas()
	f := randomFile(t, 5, metas[1]) // with a normalization
	opt := sampler.Options{Method: sampler.RK4, Steps: 5}
	a, st, err := f.Sample(100, rand.New(rand.NewPCG(9, 9)), opt)
	if err != nil {
		t.Fatal(err)
	}
	if st.NFE != 20 || st.Steps != 5 || len(a) != 300 {
		t.Errorf("stats %+v, %d values; want NFE 20, 5 steps, 300 values", st, len(a))
	}
	b, _, _ := f.Sample(100, rand.New(rand.NewPCG(9, 9)), opt)
	if !reflect.DeepEqual(a, b) {
		t.Error("the same seed gave different samples")
	}
	// Without the normalization, the same draws map back by the affine map.
	g := *f
	g.Meta.Data.Normalization = nil
	c, _, _ := g.Sample(100, rand.New(rand.NewPCG(9, 9)), opt)
	nz := f.Meta.Data.Normalization
	for i := range c {
		want := nz.Mean[i%3] + nz.Std[i%3]*float64(c[i])
		if math.Abs(float64(a[i])-want) > 1e-5*(1+math.Abs(want)) {
			t.Fatalf("value %d = %v, want %v", i, a[i], want)
		}
	}
	// The solve runs over the file's time range.
	var t0, t1 float64 = -1, -1
	opt.OnStep = func(t float64, x []float32) {
		if t0 < 0 {
			t0 = t
		}
		t1 = t
	}
	f.Sample(3, rand.New(rand.NewPCG(1, 1)), opt)
	if t0 != f.Meta.Path.TMin || math.Abs(t1-f.Meta.Path.TMax) > 1e-12 {
		t.Errorf("solved over [%g, %g], want [%g, %g]", t0, t1, f.Meta.Path.TMin, f.Meta.Path.TMax)
	}
	if _, _, err := f.Sample(0, rand.New(rand.NewPCG(1, 1)), opt); err == nil {
		t.Error("Sample(0) succeeded")
	}
}

func TestWriteReadFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.safetensors")
	f := goldenFile(t)
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, f, F16); err != nil {
		t.Fatal(err)
	}
	g, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if g.Tensors[0].DType != F16 || g.Meta.Data.Name != "golden" {
		t.Errorf("read back %+v", g)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	// A failed write leaves the old file and no temporary.
	bad := *f
	bad.Tensors = bad.Tensors[:1]
	if err := WriteFile(path, &bad, F32); err == nil {
		t.Error("WriteFile of an invalid File succeeded")
	}
	if h, err := ReadFile(path); err != nil || h.Tensors[0].DType != F16 {
		t.Errorf("the old file was damaged: %v", err)
	}
	if err := WriteFile(filepath.Join(dir, "no", "such", "dir.safetensors"), f, F32); err == nil {
		t.Error("WriteFile into a missing directory succeeded")
	}
	// ReadFile names the file in format errors.
	if err := os.WriteFile(path, []byte("garbage!garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = ReadFile(path)
	var fe *FormatError
	if !errors.As(err, &fe) || fe.File != path || !strings.HasPrefix(err.Error(), "weights: "+path+": ") {
		t.Errorf("ReadFile error %v does not name the file", err)
	}
	if _, err := ReadFile(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadFile of a missing file: %v", err)
	}
	if runtime.GOOS != "js" && runtime.GOOS != "windows" {
		// Not a regular file: decoded as a stream, refused at once.
		if _, err := ReadFile("/dev/zero"); err == nil || !strings.Contains(err.Error(), "header length 0 outside") {
			t.Errorf("ReadFile(/dev/zero): %v", err)
		}
	}
}

// TestWriteFileNotRegular checks that WriteFile writes through what is not a regular
// file instead of renaming a temporary file over it: as root, the old code replaced
// /dev/null with a model file, and a symlink with a file.
func TestWriteFileNotRegular(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("devices, FIFOs and symlinks as Linux has them")
	}
	f := goldenFile(t)
	want, err := Marshal(f, F32)
	if err != nil {
		t.Fatal(err)
	}
	isDevice := func(t *testing.T, path string) {
		t.Helper()
		st, err := os.Lstat(path)
		if err != nil || st.Mode()&os.ModeCharDevice == 0 {
			t.Fatalf("%s is no longer a character device: %v %v", path, st.Mode(), err)
		}
	}
	// A regression here replaces the machine's own /dev/null or /dev/full with a file
	// (as root), which breaks everything else running: put the device back.
	restore := func(path, minor string) {
		if st, err := os.Lstat(path); os.Geteuid() == 0 && err == nil && st.Mode()&os.ModeCharDevice == 0 {
			os.Remove(path)
			exec.Command("mknod", "-m", "666", path, "c", "1", minor).Run()
		}
	}

	t.Run("dev-null", func(t *testing.T) {
		t.Cleanup(func() { restore("/dev/null", "3") })
		if err := WriteFile("/dev/null", f, F32); err != nil {
			t.Fatal(err)
		}
		isDevice(t, "/dev/null")
	})
	t.Run("dev-full", func(t *testing.T) {
		t.Cleanup(func() { restore("/dev/full", "7") })
		err := WriteFile("/dev/full", f, F32)
		if err == nil || !strings.Contains(err.Error(), "no space left") || strings.Contains(err.Error(), "\n") {
			t.Errorf("WriteFile(/dev/full) = %v, want one line about no space", err)
		}
		isDevice(t, "/dev/full")
	})
	t.Run("mknod", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("making a device node needs root")
		}
		// A device node of our own (1, 3 is null), so that no shared device is at stake.
		dev := filepath.Join(t.TempDir(), "null")
		if out, err := exec.Command("mknod", dev, "c", "1", "3").CombinedOutput(); err != nil {
			t.Skipf("mknod: %v %s", err, out)
		}
		if w, err := os.OpenFile(dev, os.O_WRONLY, 0); err != nil {
			t.Skipf("cannot open a device node here (nodev?): %v", err)
		} else {
			w.Close()
		}
		if err := WriteFile(dev, f, F32); err != nil {
			t.Fatal(err)
		}
		isDevice(t, dev)
		if entries, _ := os.ReadDir(filepath.Dir(dev)); len(entries) != 1 {
			t.Errorf("folder holds %v, want the device alone", entries)
		}
	})
	t.Run("symlink", func(t *testing.T) {
		dir := t.TempDir()
		target := filepath.Join(dir, "real.safetensors")
		if err := os.WriteFile(target, []byte("old"), 0o600); err != nil {
			t.Fatal(err)
		}
		link := filepath.Join(dir, "link.safetensors")
		if err := os.Symlink("real.safetensors", link); err != nil {
			t.Fatal(err)
		}
		if err := WriteFile(link, f, F32); err != nil {
			t.Fatal(err)
		}
		if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
			t.Fatalf("the link was replaced: %v %v", st.Mode(), err)
		}
		if b, _ := os.ReadFile(target); !bytes.Equal(b, want) {
			t.Errorf("the link's target holds %d bytes, want the %d of the model", len(b), len(want))
		}
		if st, _ := os.Stat(target); st.Mode().Perm() != 0o600 {
			t.Errorf("target's mode %v, want its own 0600 kept", st.Mode().Perm())
		}
		// A dangling link gets its target created.
		dangling := filepath.Join(dir, "dangling.safetensors")
		if err := os.Symlink("new.safetensors", dangling); err != nil {
			t.Fatal(err)
		}
		if err := WriteFile(dangling, f, F32); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, "new.safetensors")); !bytes.Equal(b, want) {
			t.Error("the dangling link's target was not written")
		}
	})
	t.Run("fifo", func(t *testing.T) {
		fifo := filepath.Join(t.TempDir(), "pipe")
		if out, err := exec.Command("mkfifo", fifo).CombinedOutput(); err != nil {
			t.Skipf("mkfifo: %v %s", err, out)
		}
		got := make(chan []byte, 1)
		go func() {
			b, _ := os.ReadFile(fifo)
			got <- b
		}()
		if err := WriteFile(fifo, f, F32); err != nil {
			// Let the reader go.
			if w, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
				w.Close()
			}
			t.Fatal(err)
		}
		select {
		case b := <-got:
			if !bytes.Equal(b, want) {
				t.Errorf("the reader got %d bytes, want the %d of the model", len(b), len(want))
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the reader got nothing in 10 s")
		}
		if st, err := os.Lstat(fifo); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
			t.Errorf("the FIFO was replaced: %v %v", st.Mode(), err)
		}
	})
	t.Run("folder", func(t *testing.T) {
		dir := t.TempDir()
		err := WriteFile(dir, f, F32)
		if err == nil || !strings.Contains(err.Error(), "folder") || strings.Contains(err.Error(), "\n") {
			t.Errorf("WriteFile(folder) = %v, want one line saying it is a folder", err)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("folder holds %v after a refused write", entries)
		}
	})
}

// TestPixels round-trips an image model's pixel range (version 4), maps values to
// intensities, and refuses a range without a shape or with equal ends.
func TestPixels(t *testing.T) {
	d := DataInfo{Dim: 4, Shape: []int{1, 2, 2}, Pixels: []float64{-1, 1}}
	x := []float32{-1, 0, 1, 3}
	d.ToPixels(x)
	if want := []float32{0, 0.5, 1, 1}; !slices.Equal(x, want) {
		t.Errorf("ToPixels = %v, want %v", x, want)
	}
	for _, bad := range []DataInfo{
		{Dim: 4, Pixels: []float64{-1, 1}},
		{Dim: 4, Shape: []int{1, 2, 2}, Pixels: []float64{1, 1}},
		{Dim: 4, Shape: []int{1, 2, 2}, Pixels: []float64{0}},
	} {
		if err := bad.checkPixels(); err == nil {
			t.Errorf("checkPixels(%v) accepted", bad.Pixels)
		}
	}
	if err := d.checkPixels(); err != nil {
		t.Errorf("checkPixels: %v", err)
	}
	m := Meta{Data: d}
	if v, what := m.needs(); v != 4 || !strings.Contains(what, "pixels") {
		t.Errorf("needs = %d %q, want 4 for pixels", v, what)
	}
}

// TestPixelsRoundTrip writes an image model's file and reads it back: version 4, the
// pixel range kept.
func TestPixelsRoundTrip(t *testing.T) {
	f := unetFile(t, smallUNet(), 1)
	f.Meta.Data.Pixels = []float64{-1, 1}
	f.Meta.Data.Dim = smallUNet().Dim()
	b := must(Marshal(f, F32))
	g, err := DecodeBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(g.Meta.Data.Pixels, []float64{-1, 1}) || g.Meta.Version() != 4 {
		t.Errorf("read back pixels %v, version %d; want [-1 1], 4", g.Meta.Data.Pixels, g.Meta.Version())
	}
}
