package weights

import (
	"bytes"
	"encoding/binary"
	"os"
	"reflect"
	"strings"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to the decoders. Whatever the input, they must not
// panic; Decode and DecodeBytes must agree; a file they accept must re-encode (as
// float32, and as its own dtype when it has one) to a file that decodes to the same
// thing, and must build its network. The seeds are valid files of each dtype and model
// kind, in both forms (version 1 without "arch", as written before it existed; with
// "arch", versions 1 and 2), truncations and mutations of them, and files refused for
// an unknown arch, a model spec not of the file's arch, a data shape that does not hold
// dim values and version 2 contents in a version 1 file; a U-Net file ("arch": "unet")
// with its truncations and mutations, and U-Net files refused for version 1, an absurd
// width and groups that do not divide the channels; a classifier file ("arch":
// "classifier", which must decode but build no velocity field) with its truncations and
// mutations, and classifier files refused for a side the pools do not halve, an absurd
// width and a tensor of the wrong shape. testdata/fuzz/FuzzDecode holds
// inputs a 12-minute run found that reach the deeper checks (accepted files, NaN values,
// shape, offset and time-range errors); it found no crasher. Keep any future crasher
// there as a regression case:
//
//	go test -run '^$' -fuzz FuzzDecode -fuzztime 3m ./weights/
func FuzzDecode(f *testing.F) {
	var seeds [][]byte
	for _, name := range []string{
		"testdata/golden-f32.safetensors",      // version 1, no arch
		"testdata/golden-arch-f32.safetensors", // version 1, arch
		"testdata/golden-v2-f32.safetensors",   // version 2: data shape and classes
		"testdata/golden-f16.safetensors",
		"testdata/golden-arch-f16.safetensors",
	} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	mutated := len(seeds[:3])
	for mi, meta := range testMetas() {
		file := randomFile(f, uint64(mi), meta)
		for _, dtype := range DTypes() {
			seeds = append(seeds, must(Marshal(file, dtype)))
		}
	}
	// Refused files, each one edit from a good one.
	edit := func(file []byte, old, new string) []byte {
		hdr, data := splitFile(f, file)
		if !strings.Contains(hdr, old) {
			f.Fatalf("seed setup: %q not in %s", old, hdr)
		}
		b := join(strings.Replace(hdr, old, new, 1), data)
		if _, err := DecodeBytes(b); err == nil {
			f.Fatalf("seed setup: %q for %q is not refused", new, old)
		}
		return b
	}
	seeds = append(seeds,
		edit(seeds[1], `"arch":"mlp"`, `"arch":"unet2"`),
		edit(seeds[1], `\"hidden\":[3]`, `\"channels\":[3]`),
		edit(seeds[2], `\"shape\":[1,2]`, `\"shape\":[1,3]`),
		edit(seeds[2], `"format_version":"2"`, `"format_version":"1"`))
	// A U-Net file (version 2), mutated like the golden files, and refused edits of it.
	unetSeed := must(Marshal(unetFile(f, smallUNet(), 1), F32))
	seeds = append(seeds, must(Marshal(unetFile(f, smallUNet(), 2), F16)),
		edit(unetSeed, `"format_version":"2"`, `"format_version":"1"`),
		edit(unetSeed, `\"channels\":2`, `\"channels\":1000000`),
		edit(unetSeed, `\"groups\":2`, `\"groups\":3`))
	// A classifier file (version 4), and refused edits of it.
	clfSeed := must(Marshal(classifierFile(f, smallClassifier(), 1), F32))
	seeds = append(seeds, must(Marshal(classifierFile(f, smallClassifier(), 2), F16)),
		edit(clfSeed, `\"side\":4`, `\"side\":6`),
		edit(clfSeed, `\"channels\":[2,3]`, `\"channels\":[2,3000000]`),
		edit(clfSeed, `\"hidden\":5`, `\"hidden\":6`))
	for _, s := range append(seeds[:mutated:mutated], unetSeed, clfSeed) {
		f.Add(s)
		for _, cut := range []int{0, 4, 8, 9, 30, len(s) / 2, len(s) - 1} {
			f.Add(s[:cut])
		}
		// Flip bytes in the length, the header and the data.
		for _, at := range []int{0, 3, 7, 8, 20, 100, 200, len(s) - 3} {
			m := bytes.Clone(s)
			m[at] ^= 0x40
			f.Add(m)
		}
		big := bytes.Clone(s)
		binary.LittleEndian.PutUint64(big, 1<<62)
		f.Add(big)
	}
	for _, s := range seeds[mutated:] {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := DecodeBytes(data)
		h, rerr := Decode(bytes.NewReader(data))
		if err == nil && (rerr != nil || !reflect.DeepEqual(g, h)) {
			t.Fatalf("DecodeBytes accepted what Decode did not (%v), or they differ", rerr)
		}
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		check := func(dtype DType) {
			b, err := Marshal(g, dtype)
			if err != nil {
				t.Fatalf("re-encoding an accepted file as %s: %v", dtype, err)
			}
			k, err := DecodeBytes(b)
			if err != nil {
				t.Fatalf("decoding the re-encoded file (%s): %v", dtype, err)
			}
			want := *g
			want.Tensors = nil
			for _, gt := range g.Tensors {
				gt.DType = dtype
				want.Tensors = append(want.Tensors, gt)
			}
			if !reflect.DeepEqual(k, &want) {
				t.Fatalf("re-encoded file (%s) decodes differently", dtype)
			}
		}
		check(F32)
		same := true
		for _, gt := range g.Tensors {
			same = same && gt.DType == g.Tensors[0].DType
		}
		if same {
			check(g.Tensors[0].DType)
		}
		if _, _, err := g.Field(); g.Meta.Arch == ArchClassifier {
			if err == nil || !strings.Contains(err.Error(), ErrNotField.Error()) {
				t.Fatalf("accepted classifier file: Field gives %v, want a refusal", err)
			}
		} else if err != nil {
			t.Fatalf("accepted file has no network: %v", err)
		}
		if g.Meta.Arch == ArchMLP {
			if _, _, err := g.Model(); err != nil {
				t.Fatalf("accepted MLP file has no model: %v", err)
			}
		}
	})
}

func BenchmarkDecodeBytes(b *testing.B) {
	data, err := os.ReadFile("testdata/golden-f32.safetensors")
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		if _, err := DecodeBytes(data); err != nil {
			b.Fatal(err)
		}
	}
}
