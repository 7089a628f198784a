// Package fastexp holds the constants of the project's one fast float32 exponential, the
// sigmoid's e^−z in SiLU, so that every copy of it computes the same float32 values:
// the sampler's Go, assembly and SIMD kernels, their generators, and the U-Net's SiLU;
// and SiLU and SiLUDeriv, the Go loops the others match bit for bit.
//
// The method is Cephes' expf: y = −z is clamped to [Lo, Hi], where 2^n stays a normal
// number; n = round(y·log₂e) by adding and subtracting Magic (1.5·2²³); r = y − n·ln 2 in
// two parts (Ln2Hi is exact in float32, so n·Ln2Hi is too), |r| ≤ ln2/2;
// e^r ≈ 1 + r + r²·(C1 + C2·r + C3·r² + C4·r³ + C5·r⁴); and 2^n is built straight into
// the exponent bits ((bits(y·log₂e + Magic) << 23) + 0x3f800000). The coefficients are a
// minimax fit of e^r's relative error on [−ln2/2, ln2/2] (3·10⁻⁹, well under float32
// rounding; Cephes' degree-7 polynomial costs two operations more for nothing in
// float32). Each user evaluates the polynomial in its own order (Horner or Estrin), which
// its own tests pin.
package fastexp

const (
	Lo    = -87.0
	Hi    = 88.0
	Magic = 12582912.0 // 1.5·2²³
	Log2E = 1.44269504088896341
	Ln2Hi = 0.693359375
	Ln2Lo = -2.12194440e-4
	C1    = 4.9999993452e-01
	C2    = 1.6666520689e-01
	C3    = 4.1668387374e-02
	C4    = 8.3687099603e-03
	C5    = 1.3814613100e-03
)
