package weights

import (
	"encoding/binary"
	"fmt"
	"math"
)

// DType is a tensor's storage type, spelled as in safetensors headers.
// Whatever the storage type, decoded values are float32.
type DType string

// The storage types this package reads and writes.
const (
	F32  DType = "F32"  // IEEE 754 binary32
	F16  DType = "F16"  // IEEE 754 binary16 (half precision)
	BF16 DType = "BF16" // bfloat16: the top 16 bits of a binary32
)

// DTypes lists the storage types, widest first.
func DTypes() []DType { return []DType{F32, F16, BF16} }

// ParseDType returns the DType named s ("F32", "f16", "bf16", ..., case-insensitive,
// with "float32", "float16" and "bfloat16" as synonyms).
func ParseDType(s string) (DType, error) {
	switch s {
	case "F32", "f32", "float32":
		return F32, nil
	case "F16", "f16", "float16":
		return F16, nil
	case "BF16", "bf16", "bfloat16":
		return BF16, nil
	}
	return "", fmt.Errorf("weights: unknown dtype %q (want F32, F16 or BF16)", s)
}

// Size is the number of bytes one value takes, or 0 for an unknown dtype.
func (d DType) Size() int {
	switch d {
	case F32:
		return 4
	case F16, BF16:
		return 2
	}
	return 0
}

func (d DType) valid() bool { return d.Size() != 0 }

// putValues writes vs into b (len(b) == len(vs)*d.Size()) in little-endian order.
// It returns the index of the first value that d cannot hold as a finite number
// (float16 overflows to ±Inf above 65504), or -1.
func (d DType) putValues(b []byte, vs []float32) int {
	switch d {
	case F32:
		for i, v := range vs {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
		}
	case F16:
		for i, v := range vs {
			h := Float16Bits(v)
			if h&0x7c00 == 0x7c00 {
				return i
			}
			binary.LittleEndian.PutUint16(b[2*i:], h)
		}
	case BF16:
		for i, v := range vs {
			h := BFloat16Bits(v)
			if h&0x7f80 == 0x7f80 {
				return i
			}
			binary.LittleEndian.PutUint16(b[2*i:], h)
		}
	}
	return -1
}

// values decodes len(dst) little-endian values of type d from b into dst.
// It returns the index of the first value that is NaN or infinite, or -1.
func (d DType) values(dst []float32, b []byte) int {
	bad := -1
	switch d {
	case F32:
		for i := range dst {
			u := binary.LittleEndian.Uint32(b[4*i:])
			if u&0x7f800000 == 0x7f800000 && bad < 0 {
				bad = i
			}
			dst[i] = math.Float32frombits(u)
		}
	case F16:
		for i := range dst {
			h := binary.LittleEndian.Uint16(b[2*i:])
			if h&0x7c00 == 0x7c00 && bad < 0 {
				bad = i
			}
			dst[i] = Float16FromBits(h)
		}
	case BF16:
		for i := range dst {
			h := binary.LittleEndian.Uint16(b[2*i:])
			if h&0x7f80 == 0x7f80 && bad < 0 {
				bad = i
			}
			dst[i] = BFloat16FromBits(h)
		}
	}
	return bad
}
