package weights

import (
	"bytes"
	"encoding/binary"
	"os"
	"reflect"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to the decoders. Whatever the input, they must not
// panic; Decode and DecodeBytes must agree; and a file they accept must re-encode
// (as float32, and as its own dtype when it has one) to a file that decodes to the same
// thing. The seeds are valid files of each dtype and model kind, truncations and
// mutations of them. testdata/fuzz/FuzzDecode holds inputs a 12-minute run found that
// reach the deeper checks (accepted files, NaN values, shape, offset and time-range
// errors); it found no crasher. Keep any future crasher there as a regression case:
//
//	go test -run '^$' -fuzz FuzzDecode -fuzztime 3m ./weights/
func FuzzDecode(f *testing.F) {
	var seeds [][]byte
	for _, name := range []string{"testdata/golden-f32.safetensors", "testdata/golden-f16.safetensors"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	for mi, meta := range testMetas() {
		file := randomFile(f, uint64(mi), meta)
		for _, dtype := range DTypes() {
			seeds = append(seeds, must(Marshal(file, dtype)))
		}
	}
	for _, s := range seeds[:3] {
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
	for _, s := range seeds[3:] {
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
		if _, _, err := g.Model(); err != nil {
			t.Fatalf("accepted file has no model: %v", err)
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
