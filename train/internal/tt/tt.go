// Package tt is a thin layer over gotch's C bindings (libtch) for the training loop.
//
// gotch's ts.Tensor methods allocate on every call: each returns a fresh Go *Tensor
// (a global mutex, a formatted name, a map entry, a finalizer), its C++ handle, and a
// malloc(0) for the return slot that is never freed; in-place methods replace the
// receiver's handle and leak the old one. In a loop of tens of thousands of steps that
// is both slow and a leak. tt calls the libtch functions directly, writing into
// tensors allocated once (the out= variants of the ATen ops), and frees every handle
// libtorch returns at once, so a training step creates no Go or C++ objects.
//
// libtorch reports errors through a thread-local string, so a Ctx must be used from a
// single goroutine locked to its OS thread (runtime.LockOSThread). Errors are sticky:
// the first one is kept in Ctx.Err and later calls still run; check Err once a step.
package tt

// #include <stdlib.h>
// int at_get_num_threads(); // defined in gotch's libtch (torch_api.cpp)
// void at_set_num_threads(int n_threads);
import "C"

import (
	"fmt"
	"math"
	"unsafe"

	lib "github.com/sugarme/gotch/libtch"
)

// T is a libtorch tensor handle. Handles made by Ctx (Empty, Zeros, Scalar, Narrow, View, Tr)
// must be released with Ctx.Free.
type T = lib.Ctensor

// Device is gotch's device code: CPU is -1, CUDA device k is k.
type Device int32

// CPU is the CPU device.
const CPU Device = -1

// kFloat is at::ScalarType::Float.
const kFloat = 6

// CUDAAvailable reports whether libtorch sees a CUDA device.
func CUDAAvailable() bool { return lib.AtcCudaIsAvailable() }

// NumThreads is libtorch's intra-op thread count (matrix products use OpenBLAS's own
// threads).
func NumThreads() int { return int(C.at_get_num_threads()) }

// SetNumThreads sets libtorch's intra-op thread count.
func SetNumThreads(n int) { C.at_set_num_threads(C.int(n)) }

// Ctx issues ops and collects the first error.
type Ctx struct {
	// ret is the C-allocated slot libtorch writes returned handles into (a Go pointer
	// would trip cgo's pointer checks, which scan the whole Go object around it).
	ret *lib.Ctensor
	Err error
	// Calls counts the libtorch calls made, for profiling.
	Calls int64
}

func (c *Ctx) slot() *lib.Ctensor {
	if c.ret == nil {
		c.ret = (*lib.Ctensor)(C.calloc(1, C.size_t(unsafe.Sizeof(lib.Ctensor(nil)))))
	}
	*c.ret = nil
	c.Calls++
	return c.ret
}

// Close releases the return slot. The Ctx may be used again afterwards.
func (c *Ctx) Close() {
	if c.ret != nil {
		C.free(unsafe.Pointer(c.ret))
		c.ret = nil
	}
}

func (c *Ctx) check(op string) {
	p := unsafe.Pointer(lib.GetAndResetLastErr())
	if p == nil {
		return
	}
	msg := C.GoString((*C.char)(p))
	C.free(p)
	if c.Err == nil {
		c.Err = fmt.Errorf("libtorch %s: %s", op, firstLine(msg))
	}
}

func firstLine(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			return s[:i]
		}
	}
	return s
}

// done frees the handle an out= or in-place op returned.
func (c *Ctx) done(op string) {
	c.check(op)
	if *c.ret != nil {
		lib.AtFree(*c.ret)
		*c.ret = nil
	}
}

// keep returns the handle a constructor or view op returned.
func (c *Ctx) keep(op string) T {
	c.check(op)
	t := *c.ret
	*c.ret = nil
	return t
}

// Free releases a handle (nil is ignored).
func (c *Ctx) Free(t T) {
	if t != nil {
		lib.AtFree(t)
	}
}

func (c *Ctx) scalar(v float64) lib.Cscalar { return lib.AtsFloat(v) }

// Empty allocates an uninitialised float32 tensor.
func (c *Ctx) Empty(dev Device, shape ...int64) T {
	lib.AtgEmpty(c.slot(), shape, len(shape), kFloat, int32(dev))
	return c.keep("empty")
}

// Zeros allocates a float32 tensor of zeros.
func (c *Ctx) Zeros(dev Device, shape ...int64) T {
	lib.AtgZeros(c.slot(), shape, len(shape), kFloat, int32(dev))
	return c.keep("zeros")
}

// Scalar allocates a 0-dim float32 tensor holding 0.
func (c *Ctx) Scalar(dev Device) T {
	one := c.Zeros(dev, 1)
	lib.AtgSqueeze(c.slot(), one)
	t := c.keep("squeeze")
	c.Free(one)
	return t
}

// Narrow returns the view t[start:start+length] along dim.
func (c *Ctx) Narrow(t T, dim, start, length int64) T {
	lib.AtgNarrow(c.slot(), t, dim, start, length)
	return c.keep("narrow")
}

// View returns t viewed with a new shape.
func (c *Ctx) View(t T, shape ...int64) T {
	lib.AtgView(c.slot(), t, shape, len(shape))
	return c.keep("view")
}

// Tr returns the transposed view of a matrix.
func (c *Ctx) Tr(t T) T {
	lib.AtgT(c.slot(), t)
	return c.keep("t")
}

// Addmm: out = bias + a @ b (bias broadcast over rows).
func (c *Ctx) Addmm(out, bias, a, b T) {
	lib.AtgAddmmOut(c.slot(), out, bias, a, b)
	c.done("addmm")
}

// Mm: out = a @ b.
func (c *Ctx) Mm(out, a, b T) {
	lib.AtgMmOut(c.slot(), out, a, b)
	c.done("mm")
}

// SiLU: out = x·σ(x).
func (c *Ctx) SiLU(out, x T) {
	lib.AtgSiluOut(c.slot(), out, x)
	c.done("silu")
}

// SiLUBackward: gin = gout · d silu(x)/dx.
func (c *Ctx) SiLUBackward(gin, gout, x T) {
	lib.AtgSiluBackwardGradInput(c.slot(), gin, gout, x)
	c.done("silu_backward")
}

var dim0 = []int64{0}

// SumRows: out[j] = Σ_i x[i][j].
func (c *Ctx) SumRows(out, x T) {
	lib.AtgSumIntlistOut(c.slot(), out, x, dim0, 1, 0, kFloat)
	c.done("sum")
}

// Sub: out = a − b.
func (c *Ctx) Sub(out, a, b T) {
	lib.AtgSubOut(c.slot(), out, a, b)
	c.done("sub")
}

// Mul: out = a·b elementwise.
func (c *Ctx) Mul(out, a, b T) {
	lib.AtgMulOut(c.slot(), out, a, b)
	c.done("mul")
}

// Div: out = a/b elementwise.
func (c *Ctx) Div(out, a, b T) {
	lib.AtgDivOut(c.slot(), out, a, b)
	c.done("div")
}

// Sqrt: out = √x.
func (c *Ctx) Sqrt(out, x T) {
	lib.AtgSqrtOut(c.slot(), out, x)
	c.done("sqrt")
}

// Add_: t += x.
func (c *Ctx) Add_(t, x T) {
	lib.AtgAdd_(c.slot(), t, x)
	c.done("add_")
}

// Scale_: t *= v.
func (c *Ctx) Scale_(t T, v float64) {
	s := c.scalar(v)
	lib.AtgMulScalar_(c.slot(), t, s)
	lib.AtsFree(s)
	c.done("mul_")
}

// Shift_: t += v.
func (c *Ctx) Shift_(t T, v float64) {
	s := c.scalar(v)
	lib.AtgAddScalar_(c.slot(), t, s)
	lib.AtsFree(s)
	c.done("add_")
}

// Lerp_: t += w·(end − t).
func (c *Ctx) Lerp_(t, end T, w float64) {
	s := c.scalar(w)
	lib.AtgLerp_(c.slot(), t, end, s)
	lib.AtsFree(s)
	c.done("lerp_")
}

// Zero_: t = 0.
func (c *Ctx) Zero_(t T) {
	lib.AtgZero_(c.slot(), t)
	c.done("zero_")
}

// Norm: out (a 0-dim tensor) = ‖x‖₂.
func (c *Ctx) Norm(out, x T) {
	lib.AtgNormScalarOut(c.slot(), out, x)
	c.done("norm")
}

// Copy_: dst = src (any devices).
func (c *Ctx) Copy_(dst, src T) {
	c.Calls++
	lib.AtCopy_(dst, src)
	c.check("copy_")
}

// Floats returns the float32 storage of a contiguous CPU tensor of n elements as a
// Go slice, valid while the tensor lives.
func Floats(t T, n int) []float32 {
	return unsafe.Slice((*float32)(lib.AtDataPtr(t)), n)
}

// IsCUDA reports whether a tensor lives on a CUDA device.
func IsCUDA(t T) bool { return lib.AtDevice(t) >= 0 }

// Finite reports whether v is neither NaN nor infinite.
func Finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
