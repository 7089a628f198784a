package weights

import "math"

// Float16Bits returns the IEEE 754 binary16 encoding of f, rounded to nearest with
// ties to even, as hardware and numpy's float16 do. Values beyond the largest half
// (65504) round to ±Inf once they reach 65520, the midpoint towards the next power of
// two; values below the smallest subnormal (2⁻²⁴) round to ±0; the sign of zero is
// kept. A NaN stays a (quiet) NaN with the top bits of its payload.
func Float16Bits(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23) & 0xff
	mant := b & 0x7fffff
	switch {
	case exp == 0xff: // Inf or NaN
		if mant == 0 {
			return sign | 0x7c00
		}
		return sign | 0x7e00 | uint16(mant>>13)
	case exp > 127+15: // ≥ 2¹⁶: beyond any finite half
		return sign | 0x7c00
	case exp >= 127-14: // a normal half, before rounding
		h := uint32(exp-127+15)<<10 | mant>>13
		rem := mant & 0x1fff
		if rem > 0x1000 || rem == 0x1000 && h&1 == 1 {
			h++ // a carry out of the mantissa steps the exponent, up to Inf: both right
		}
		return sign | uint16(h)
	case exp < 127-25: // below half of the smallest subnormal: ±0
		return sign
	}
	// A subnormal half m·2⁻²⁴: f = s·2^(exp−150) with s the 24-bit significand, so
	// m = s·2^(exp−126), s shifted right by 126−exp and rounded.
	s := mant | 0x800000
	shift := uint(126 - exp) // 14 … 24
	m := s >> shift
	rem := s & (1<<shift - 1)
	half := uint32(1) << (shift - 1)
	if rem > half || rem == half && m&1 == 1 {
		m++ // may carry into the smallest normal, 0x0400: right too
	}
	return sign | uint16(m)
}

// Float16FromBits returns the float32 value of the binary16 encoding h. Every half
// value is exactly representable as a float32.
func Float16FromBits(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch exp {
	case 0: // zero or subnormal: mant·2⁻²⁴, exact in float32
		v := float32(mant) * (1.0 / (1 << 24))
		return math.Float32frombits(math.Float32bits(v) | sign)
	case 0x1f: // Inf or NaN
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}

// BFloat16Bits returns the bfloat16 encoding of f (its top 16 bits, rounded to nearest
// with ties to even). Values that round past the largest bfloat16 become ±Inf; a NaN
// stays a quiet NaN.
func BFloat16Bits(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 { // NaN
		return uint16(b>>16) | 0x40
	}
	b += 0x7fff + (b>>16)&1
	return uint16(b >> 16)
}

// BFloat16FromBits returns the float32 value of the bfloat16 encoding h (exact).
func BFloat16FromBits(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }
