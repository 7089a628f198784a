package weights

import (
	"bufio"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// halfValue is the value of a finite half from the IEEE 754 definition, computed
// independently of Float16FromBits.
func halfValue(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	e, m := int(h>>10)&0x1f, float64(h&0x3ff)
	if e == 0 {
		return sign * math.Ldexp(m, -24)
	}
	return sign * math.Ldexp(1+m/1024, e-15)
}

// positiveHalves are the finite non-negative halves in increasing order, as float64.
var positiveHalves = func() []float64 {
	v := make([]float64, 0x7c00)
	for h := range v {
		v[h] = halfValue(uint16(h))
	}
	return v
}()

// refFloat16 rounds x to the nearest half, ties to the even encoding, by searching the
// table of all halves: a reference that shares nothing with Float16Bits.
func refFloat16(x float32) uint16 {
	v := float64(x)
	var sign uint16
	if math.Signbit(v) {
		sign, v = 0x8000, -v
	}
	if math.IsInf(v, 0) || v >= 65520 { // 65520 is the tie between 65504 and 2¹⁶: even is Inf
		return sign | 0x7c00
	}
	i := sort.SearchFloat64s(positiveHalves, v) // first half ≥ v
	if i == len(positiveHalves) {
		return sign | 0x7bff
	}
	if positiveHalves[i] == v || i == 0 {
		return sign | uint16(i)
	}
	lo, hi := v-positiveHalves[i-1], positiveHalves[i]-v
	switch {
	case lo < hi:
		return sign | uint16(i-1)
	case hi < lo:
		return sign | uint16(i)
	case i%2 == 0:
		return sign | uint16(i)
	}
	return sign | uint16(i-1)
}

func TestFloat16FromBitsAll(t *testing.T) {
	for i := 0; i < 1<<16; i++ {
		h := uint16(i)
		f := Float16FromBits(h)
		switch e := h >> 10 & 0x1f; {
		case e == 0x1f && h&0x3ff != 0:
			if !math.IsNaN(float64(f)) {
				t.Fatalf("Float16FromBits(%#04x) = %v, want NaN", h, f)
			}
			if back := Float16Bits(f); back&0x7c00 != 0x7c00 || back&0x3ff == 0 || back&0x8000 != h&0x8000 {
				t.Fatalf("NaN %#04x came back as %#04x", h, back)
			}
			continue
		case e == 0x1f:
			if !math.IsInf(float64(f), 0) || math.Signbit(float64(f)) != (h&0x8000 != 0) {
				t.Fatalf("Float16FromBits(%#04x) = %v, want ±Inf", h, f)
			}
		default:
			if want := halfValue(h); float64(f) != want || math.Signbit(float64(f)) != (h&0x8000 != 0) {
				t.Fatalf("Float16FromBits(%#04x) = %v, want %v", h, f, want)
			}
		}
		if back := Float16Bits(f); back != h {
			t.Fatalf("Float16Bits(Float16FromBits(%#04x)) = %#04x", h, back)
		}
	}
}

// TestFloat16Rounding checks the float32 values where rounding decides: for every pair
// of adjacent halves, the exact midpoint (a tie) and the float32 values just either side
// of it, against the table-search reference.
func TestFloat16Rounding(t *testing.T) {
	check := func(x float32) {
		t.Helper()
		if got, want := Float16Bits(x), refFloat16(x); got != want {
			t.Fatalf("Float16Bits(%g [%#08x]) = %#04x, want %#04x", x, math.Float32bits(x), got, want)
		}
	}
	for h := 0; h < 0x7bff; h++ {
		mid := float32((positiveHalves[h] + positiveHalves[h+1]) / 2) // exact: 12 significant bits
		for _, x := range []float32{mid, math.Nextafter32(mid, 0), math.Nextafter32(mid, 1e9), float32(positiveHalves[h])} {
			check(x)
			check(-x)
		}
	}
	// Above the largest half, and a stride through every float32 bit pattern.
	for _, x := range []float32{65504, 65519.996, 65520, 65536, 1e30, math.MaxFloat32} {
		check(x)
		check(-x)
	}
	stride := uint64(65521)
	if testing.Short() {
		stride = 1 << 20
	}
	for b := uint64(0); b < 1<<32; b += stride {
		x := math.Float32frombits(uint32(b))
		if !math.IsNaN(float64(x)) {
			check(x)
		}
	}
}

func TestFloat16Specials(t *testing.T) {
	inf := float32(math.Inf(1))
	for _, c := range []struct {
		x    float32
		want uint16
	}{
		{0, 0x0000},
		{float32(math.Copysign(0, -1)), 0x8000},
		{1, 0x3c00},
		{-2, 0xc000},
		{65504, 0x7bff},       // the largest half
		{65519.99, 0x7bff},    // below the tie
		{65520, 0x7c00},       // the tie rounds to even: Inf
		{1e6, 0x7c00},         // overflow
		{-1e6, 0xfc00},        // overflow
		{inf, 0x7c00},         // +Inf
		{-inf, 0xfc00},        // -Inf
		{0x1p-14, 0x0400},     // the smallest normal
		{0x1p-24, 0x0001},     // the smallest subnormal
		{0x1p-25, 0x0000},     // half of it: a tie, rounds to even (zero)
		{0x1.000002p-25, 1},   // just above the tie
		{0x1.8p-24, 0x0002},   // 1.5 × smallest: a tie, rounds to even (2)
		{0x1.4p-24, 0x0001},   // 1.25 × smallest
		{0x1.ff8p-15, 0x03ff}, // the largest subnormal
		{0x1.ffcp-15, 0x0400}, // its tie with the smallest normal: even is the normal
		{1e-10, 0x0000},       // underflow
		{-1e-10, 0x8000},      // underflow keeps the sign
		{1 + 0x1p-11, 0x3c00}, // a tie between 1 and 1+2⁻¹⁰: even is 1
		{1 + 3*0x1p-11, 0x3c02},
		{0.1, 0x2e66},
		{1.0 / 3, 0x3555},
	} {
		if got := Float16Bits(c.x); got != c.want {
			t.Errorf("Float16Bits(%g) = %#04x, want %#04x", c.x, got, c.want)
		}
	}
	nan := float32(math.NaN())
	if h := Float16Bits(nan); h&0x7c00 != 0x7c00 || h&0x3ff == 0 {
		t.Errorf("Float16Bits(NaN) = %#04x, not a NaN", h)
	}
}

// TestFloat16Numpy compares against numpy's float16 conversion, tabulated by
// testdata/gen_f16_table.py.
func TestFloat16Numpy(t *testing.T) {
	f, err := os.Open("testdata/f16_numpy.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		var b, h uint64
		fields := strings.Fields(line)
		if len(fields) == 2 {
			b, err = strconv.ParseUint(fields[0], 16, 32)
			if err == nil {
				h, err = strconv.ParseUint(fields[1], 16, 16)
			}
		}
		if len(fields) != 2 || err != nil {
			t.Fatalf("bad line %q", line)
		}
		x := math.Float32frombits(uint32(b))
		if got := Float16Bits(x); got != uint16(h) {
			t.Errorf("Float16Bits(%g [%#08x]) = %#04x, numpy says %#04x", x, b, got, h)
		}
		n++
	}
	if n < 9000 {
		t.Fatalf("only %d cases read", n)
	}
}

func TestBFloat16(t *testing.T) {
	for i := 0; i < 1<<16; i++ {
		h := uint16(i)
		f := BFloat16FromBits(h)
		if math.IsNaN(float64(f)) {
			if b := BFloat16Bits(f); b&0x7f80 != 0x7f80 || b&0x7f == 0 {
				t.Fatalf("NaN %#04x came back as %#04x", h, b)
			}
			continue
		}
		if b := BFloat16Bits(f); b != h {
			t.Fatalf("BFloat16Bits(BFloat16FromBits(%#04x)) = %#04x", h, b)
		}
	}
	// Rounding against the nearest of the two neighbours, ties to even.
	for b := uint64(0); b < 1<<32; b += 65519 {
		x := math.Float32frombits(uint32(b))
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			continue
		}
		lo := uint32(b) &^ 0xffff
		hi := lo + 0x10000
		dlo := math.Abs(float64(x) - float64(math.Float32frombits(lo)))
		dhi := math.Inf(1)
		if hi&0x7f800000 != 0x7f800000 || hi&0x7fffff == 0 { // hi is finite or ±Inf, not NaN
			dhi = math.Abs(float64(math.Float32frombits(hi)) - float64(x))
			if math.IsInf(float64(math.Float32frombits(hi)), 0) {
				// Overflow: the rounding is as if the exponent were unbounded.
				dhi = math.Abs(math.Ldexp(1, 128) - math.Abs(float64(x)))
			}
		}
		want := uint16(lo >> 16)
		if dhi < dlo || dhi == dlo && (lo>>16)&1 == 1 {
			want = uint16(hi >> 16)
		}
		if got := BFloat16Bits(x); got != want {
			t.Fatalf("BFloat16Bits(%g [%#08x]) = %#04x, want %#04x", x, b, got, want)
		}
	}
	if got := BFloat16Bits(math.MaxFloat32); got != 0x7f80 {
		t.Errorf("BFloat16Bits(MaxFloat32) = %#04x, want +Inf", got)
	}
	if got := BFloat16Bits(1 + 0x1p-8); got != 0x3f80 { // a tie: even is 1
		t.Errorf("BFloat16Bits(1+2⁻⁸) = %#04x, want 0x3f80", got)
	}
}
