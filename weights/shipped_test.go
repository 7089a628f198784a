package weights_test

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/flowmatch/flowmatch/sampler"
	"github.com/flowmatch/flowmatch/weights"
)

// The shipped models (weights/*.safetensors) are published: they must not say where or
// by whom they were built, and rewriting their metadata must never change what they
// sample.

// shippedSampleHashes pins, for every shipped model, the SHA-256 of 256 samples drawn
// as `flowmatch sample -model FILE -n 256 -seed 1` draws them (20-NFE midpoint, the
// noise from shippedRNG(1)): the float32 values, n×dim row-major, little-endian. A
// rewrite of a file's metadata keeps them; new tensors change them.
//
// Each model has two pins, because the kernels differ in their last bits: the first is
// the AVX2 kernel's (amd64 with AVX2 and FMA, which fuses multiply-adds), the second the
// kernels that round every product (the Go kernel: -tags purego or an amd64 without
// AVX2; and the WebAssembly kernel, which gives the Go kernel's bits exactly, checked
// under GOOS=js GOARCH=wasm). Go compilers for arm64 and others fuse multiply-adds in
// the Go kernel and the solver, so there the hashes are not compared (shippedHashChecked).
var shippedSampleHashes = map[string][2]string{
	"2spirals-ot-otcfm.safetensors": {
		"9fb2a67620eaf0d967c98d496cb0a00e70b97abc3b644a49ed6ff6d20fc38854",
		"d0960c1c19859c02f5b20ac9bd906daa146856f6e0f641e08f95bbc5a3b5a380"},
	"2spirals-ot.safetensors": {
		"a854c6b35ac9068a301edcf8191ec6efe22068f03ff927e02d845c40ce722407",
		"d34c1d90194e8220fb615ff2b27e7061713b52aeb84557553a5125f5401246c6"},
	"8gaussians-ot-otcfm.safetensors": {
		"73ec794d15b044745f9c0f2d152a69c73f39a9edd5615fdcd02fc6c0e3311488",
		"61ee1ebe735f46d2aaf1c70df491ad6976ca6f6748792b26640371c38c36aa6b"},
	"8gaussians-ot.safetensors": {
		"e897c6fb3307b9b13a00bc010a0e9b61602e058514749652345422cec4a4778b",
		"611271a2e7c82beefac5f872b2e199df1ff3b7370130f0d64a017cf3f7042714"},
	"8gaussians-ve.safetensors": {
		"7bb77dd98a169a0ffdd1277aa21b6c8eae372e85ea736dffa049a0765508c348",
		"265dfb88952bd67ff750631d24acf4eb6e234dd4b1e0b0365ca06721c01d8ffc"},
	"8gaussians-vp.safetensors": {
		"1c56a83d69708109e040ce532ad0422f62ca9dbc66d18b5fbf83017f742414f6",
		"fb8ca7850e62895ea782a0f8a7baac31aad5e276280c070bdc678f97ad5b45ea"},
	"checkerboard-ot-otcfm.safetensors": {
		"1e82cad0fcec4c2f92f41948db7ee07ce0d1d6243d8a44be5566a7574502ece3",
		"9bb9553cede4df9f1e0646147ef57a30de7b7d9456b7f4e3cfaf1faa9d161599"},
	"checkerboard-ot.safetensors": {
		"7868927d6d813a3fd0829c75384c418459568f17614a0afd87432714b2a3f877",
		"6b2b84643f2464a3bb8efd467eed8dba485b8e2e9a59d3e9f1581149f43d03ab"},
	"circles-ot-otcfm.safetensors": {
		"bcbc102cd00f152203665337650d0cb94015fe78c8b03b3a33f7d8a5c25fca05",
		"e5b6b5969def61d104b7851aeb5b7b4445365557ce1c952278b06c502449d4d5"},
	"circles-ot.safetensors": {
		"7b553ab47312eaf5ca763d39f447574ba8e09ca646fd9316779aefb710e4c82b",
		"92f0434143bd021086ad299a0718380502243f3a04aa6ecc2bd19d95ebdf2313"},
	"moons-ot-otcfm.safetensors": {
		"424550589fa69ceef29303405e1269662eac8fdc45725d10ace75d97eacab11e",
		"595ef20152f15708432d36cd1952d7fa0ed2ef4bcf2089e087f73fc5ea30f6bf"},
	"moons-ot.safetensors": {
		"799e54a22b7c76a71ccf1e9154ea4b6d50319f677ff8d1eee4f83b202e147d09",
		"002add4a2410ef1817d37d56df324f8a46b191227c38b2ee125b43069713787f"},
	"moons-ve.safetensors": {
		"7334a798693b16debdf39e2fa53381316d7f550e3f560c72b38ee4e25de57220",
		"52ba7fcf450bdc58722d2cd3a46750da1c160bb757e28b5aa839917bb9c76157"},
	"moons-vp.safetensors": {
		"e69d14cd51240b4e2678d4429c3748da0d8d5f195cc9003c9bcc63b5096bf09c",
		"30bf87640a8751dc12eefeed33681466ee303414d018d2b4f47cca42c87600e4"},
	"pinwheel-ot-otcfm.safetensors": {
		"1e2789f23eef3820f6abe15480e16aef1593f352ece0ed20c3936a51e1e08338",
		"925ecfe4cb31745aad5ca353032084dabf5afe904b50b39ad1e8ba656d7addc6"},
	"pinwheel-ot.safetensors": {
		"2e4fb2973400e744f4b85e28ea6f1a30a95f830988fdd5f090be9730d8992637",
		"9ac5b28fd95e95260cb46a800c569f6945685550327b9885e46d075c4990b278"},
	"rings-ot-otcfm.safetensors": {
		"a58a2af85e3f372f7f02930160e5648eb898af3dfc0dfbd1faf2e2c037a08bae",
		"eaedc44b6aa99e8e8bf0349a899401ee727d672e6ea7cb5467843b0bff94f2f3"},
	"rings-ot.safetensors": {
		"18e65c5c798938cd136f4db030b33e14d9bb45d9145405ef2ee50970910f1f70",
		"068b40a9d0d0daaa4e081507345c9582ad6cafbd3ddc47cac070184e86046782"},
	"swissroll-ot-otcfm.safetensors": {
		"220937b0acb3da24359e539194cba6492f89f493b78b519f79db96b2c3415d57",
		"08b2e13e2ab8c275a3467dc6ad4e70f46bd1155900d1d5b6e67e479bd7029209"},
	"swissroll-ot.safetensors": {
		"8d5e87c12bf649cf8bb1b9e13fcf86814b6a9dd86aafb1f9ccc5928de0ca8937",
		"99b1121ba9e9f57d0a750aeded14813fb434fa123be8e8ca20c9a905076a9594"},
}

// shippedRNG is cli's sampleRNG (cli/sample.go), the random source behind
// `flowmatch sample -seed`.
func shippedRNG(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, 0x666c6f776d617463)) // "flowmatc"
}

func shippedFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no shipped models in weights/")
	}
	return files
}

// TestShippedNoMachinePaths checks that no metadata value of a shipped model, at any
// depth (JSON inside the string values, and JSON inside strings inside that, such as
// provenance.notes.config), holds an absolute path, a home or temporary folder, or a
// Windows drive: provenance.command records base names only (FORMAT.md).
func TestShippedNoMachinePaths(t *testing.T) {
	for _, name := range shippedFiles(t) {
		md := rawMetadata(t, name)
		for k, v := range md {
			for _, bad := range machinePaths(v) {
				t.Errorf("%s: __metadata__ %q holds a machine path: %q", name, k, bad)
			}
		}
		if f, err := weights.ReadFile(name); err != nil {
			t.Errorf("%v", err)
		} else if cmd, want := f.Meta.Provenance.Command, shippedCommandPrefix(f); !strings.HasPrefix(cmd, want) {
			t.Errorf("%s: provenance.command %q does not start with %q", name, cmd, want)
		}
	}
}

// shippedCommandPrefix is how a shipped file's provenance.command starts: the image
// classifier (the judge of image models, not a flow) comes from the train module's
// trainclassifier, every model from flowmatch train.
func shippedCommandPrefix(f *weights.File) string {
	if f.Meta.Arch == weights.ArchClassifier {
		return "trainclassifier "
	}
	return "flowmatch train "
}

// rawMetadata reads a file's __metadata__ straight from its header, so that the check
// sees every key, including ones the weights package would not decode.
func rawMetadata(t *testing.T, name string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 8 {
		t.Fatalf("%s: too short", name)
	}
	n := binary.LittleEndian.Uint64(b)
	if n > uint64(len(b)-8) {
		t.Fatalf("%s: header length %d beyond the file", name, n)
	}
	var h struct {
		Meta map[string]string `json:"__metadata__"`
	}
	if err := json.Unmarshal(b[8:8+n], &h); err != nil {
		t.Fatalf("%s: header: %v", name, err)
	}
	return h.Meta
}

// machinePaths returns the parts of s that name a place on the machine that wrote it.
// s is searched as text, word by word (and the value after "=" in a word such as
// -o=/x/y), and, when it is JSON, every key and string inside it, recursively.
func machinePaths(s string) []string {
	var bad []string
	var v any
	if err := json.Unmarshal([]byte(s), &v); err == nil {
		if _, isString := v.(string); !isString {
			walkJSON(v, func(str string) { bad = append(bad, machinePaths(str)...) })
			return bad
		}
	}
	for _, w := range strings.Fields(s) {
		words := []string{w}
		if i := strings.IndexByte(w, '='); i >= 0 {
			words = append(words, w[i+1:])
		}
		for _, w := range words {
			w = strings.Trim(w, `'"`)
			if isMachinePath(w) {
				bad = append(bad, w)
				break
			}
		}
	}
	return bad
}

func isMachinePath(w string) bool {
	lw := strings.ToLower(w)
	if strings.HasPrefix(w, "/") || strings.HasPrefix(w, "~") || strings.HasPrefix(w, `\\`) {
		return true
	}
	if len(w) >= 3 && (w[0] >= 'a' && w[0] <= 'z' || w[0] >= 'A' && w[0] <= 'Z') && w[1] == ':' && (w[2] == '\\' || w[2] == '/') {
		return true // C:\ or C:/
	}
	for _, dir := range []string{"/tmp/", "/home/", "/root/", "/users/", "/var/", `\users\`, `\temp\`, "$home", "%userprofile%"} {
		if strings.Contains(lw, dir) {
			return true
		}
	}
	return false
}

// walkJSON calls f with every object key and string value in v.
func walkJSON(v any, f func(string)) {
	switch v := v.(type) {
	case string:
		f(v)
	case []any:
		for _, e := range v {
			walkJSON(e, f)
		}
	case map[string]any:
		for k, e := range v {
			f(k)
			walkJSON(e, f)
		}
	}
}

func TestMachinePathsDetector(t *testing.T) {
	for _, s := range []string{
		`flowmatch train -data moons -o /tmp/zoo/moons-ot.safetensors`,
		`flowmatch train -o=/srv/m.safetensors`,
		`flowmatch train -ckpt build/x/home/a.ckpt -o /home/ann/m.safetensors`,
		`{"command":"flowmatch train -o C:\\Users\\ann\\m.safetensors"}`,
		`{"notes":{"config":"{\"data\":\"/root/points.csv\"}"}}`,
		`{"notes":{"where":"~/models"}}`,
		`{"/opt/x":"key"}`,
		`/usr/local/bin/flowmatch train`,
	} {
		if len(machinePaths(s)) == 0 {
			t.Errorf("machinePaths(%q) found nothing", s)
		}
	}
	for _, s := range []string{
		`flowmatch train -data moons -path ot -lr 2e-3 -ckpt moons-ot.ckpt -o moons-ot.safetensors`,
		`{"config":"{\"data\":\"moons\",\"path\":{\"name\":\"ot\"}}","dtype":"F16"}`,
		`{"dim":2,"hidden":[128,128,128],"activation":"silu","time":{"kind":"raw"}}`,
		`1.13.1+dfsg-4 (Debian libtorch-dev)`, `2026-11-29T13:10:10Z`, `flowmatch`,
	} {
		if bad := machinePaths(s); len(bad) > 0 {
			t.Errorf("machinePaths(%q) = %q, want nothing", s, bad)
		}
	}
}

// shippedTensorHashes pins the image models by their tensors' values (the SHA-256 of
// every tensor's float32 values in file order, little-endian) rather than by samples:
// sampling 256 images takes minutes, and the U-Net's sums differ in their last bits
// between kernels in more places than the MLP's.
var shippedTensorHashes = map[string]string{
	"fashion-unet.safetensors": "da76da048b18e9d23011523a3d0e0caf4837735dce97a49a08fe908fec68934d",
}

// checkShippedImages checks an image model: its tensors are the pinned ones, and two
// unconditional images through two midpoint steps come out finite.
func checkShippedImages(t *testing.T, name string, f *weights.File) {
	h := sha256.New()
	for _, ts := range f.Tensors {
		b := make([]byte, 4*len(ts.Data))
		for i, v := range ts.Data {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
		}
		h.Write(b)
	}
	got := hex.EncodeToString(h.Sum(nil))
	if want, ok := shippedTensorHashes[name]; !ok || got != want {
		t.Errorf("%s: tensors' SHA-256 %s, pinned %q: pin a new model in shippedTensorHashes", name, got, want)
	}
	x, _, err := f.Sample(2, shippedRNG(1), sampler.Options{Method: sampler.Midpoint, Steps: 2})
	if err != nil {
		t.Errorf("%s: %v", name, err)
		return
	}
	for i, v := range x {
		if math.IsNaN(float64(v)) || math.Abs(float64(v)) > 10 {
			t.Fatalf("%s: sample value %d is %v", name, i, v)
		}
	}
}

// shippedHashChecked says whether this build's arithmetic is one of the two that
// shippedSampleHashes pins: amd64 (either kernel) and WebAssembly.
func shippedHashChecked() bool { return runtime.GOARCH == "amd64" || runtime.GOARCH == "wasm" }

// TestShippedSamples checks that every shipped model is float16, samples, and samples
// exactly what it sampled when it was pinned.
func TestShippedSamples(t *testing.T) {
	files := shippedFiles(t)
	check := shippedHashChecked()
	if !check {
		t.Logf("not comparing sample hashes on %s/%s (pinned for amd64 and wasm)", runtime.GOOS, runtime.GOARCH)
	}
	var names []string
	for _, name := range files {
		names = append(names, name)
		f, err := weights.ReadFile(name)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		for _, ts := range f.Tensors {
			if ts.DType != weights.F16 {
				t.Errorf("%s: tensor %s stored as %s, want F16", name, ts.Name, ts.DType)
			}
		}
		if f.Meta.Arch == weights.ArchClassifier {
			continue // no velocity field to sample; package classifier's Example loads it
		}
		if f.Meta.Arch == weights.ArchUNet {
			checkShippedImages(t, name, f)
			continue
		}
		const n = 256
		x, st, err := f.Sample(n, shippedRNG(1), sampler.Options{Method: sampler.Midpoint, Steps: 10})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if st.NFE != 20 {
			t.Errorf("%s: NFE %d, want 20", name, st.NFE)
		}
		b := make([]byte, 4*len(x))
		for i, v := range x {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
		}
		sum := sha256.Sum256(b)
		got := hex.EncodeToString(sum[:])
		want, ok := shippedSampleHashes[name]
		switch {
		case !ok:
			t.Errorf("%s: no pinned sample hash; if the model is new, pin its samples in shippedSampleHashes (this build: %s)", name, got)
		case check && got != want[0] && got != want[1]:
			t.Errorf("%s: samples changed: SHA-256 %s, pinned %s (AVX2) or %s (Go, wasm): the tensors differ from the shipped ones", name, got, want[0], want[1])
		}
	}
	for name := range shippedTensorHashes {
		if !slices.Contains(names, name) {
			t.Errorf("%s is pinned in shippedTensorHashes but not in weights/", name)
		}
	}
	for name := range shippedSampleHashes {
		if !slices.Contains(names, name) {
			t.Errorf("%s is pinned in shippedSampleHashes but not in weights/", name)
		}
	}
}
