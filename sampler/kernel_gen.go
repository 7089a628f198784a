//go:build ignore

// kernel_gen writes kernel_wasm.s, the WebAssembly kernel for gemm (see kernel.go):
//
//	go run kernel_gen.go
//
// Go's compiler keeps at most 16 float32 values in wasm locals and dispatches every loop
// back-edge through a jump table; written by hand, the inner loop is a plain wasm loop
// over 2×4 tiles whose 8 accumulators, 2 inputs and 1 weight stay in locals, which V8
// keeps in registers. SiLU is a separate loop over the stored tiles (siluWasm): with the
// accumulators live, V8 would rebuild its dozen constants for every value; in a loop of
// its own it keeps them in registers. siluWasm evaluates the same expression as
// fastexp.SiLU, operation for operation, so both give the same float32 results.
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/flowmatch/flowmatch/internal/fastexp"
)

const (
	G = 24 // groupRows
	C = 4  // panelCols
)

// unroll is how many k steps one trip of the inner loop takes (a divisor of C).
var unroll = 1

var b strings.Builder

func emit(format string, args ...any) { fmt.Fprintf(&b, "\t"+format+"\n", args...) }

// f32 formats a float32 constant; the assembler reads it as a float only with a point.
func f32(x float32) string {
	s := strconv.FormatFloat(float64(x), 'e', -1, 32)
	if !strings.Contains(s, ".") {
		s = strings.Replace(s, "e", ".0e", 1)
	}
	return "$" + s
}

// silu sets local x to x/(1+e^(−x)), as fastexp.SiLU does; F11–F14 are scratch.
func silu(x string) {
	expNeg(x)
	emit("F32Const %s", f32(1))
	emit("F32Add")
	emit("Set F14")
	emit("Get %s", x)
	emit("Get F14")
	emit("F32Div")
	emit("Set %s", x)
}

// siluDeriv leaves silu(x) in F14 and silu'(x) on the stack, as fastexp.SiLUDeriv
// computes them; F11–F14 are scratch.
func siluDeriv(x string) {
	expNeg(x)
	emit("Set F12") // e
	emit("F32Const %s", f32(1))
	emit("F32Const %s", f32(1))
	emit("Get F12")
	emit("F32Add")
	emit("F32Div")
	emit("Tee F13") // s = 1/(1+e)
	emit("Get %s", x)
	emit("F32Mul")
	emit("Set F14") // zs = x·s
	emit("Get F13") // s + zs·(e·s)
	emit("Get F14")
	emit("Get F12")
	emit("Get F13")
	emit("F32Mul")
	emit("F32Mul")
	emit("F32Add")
}

// expNeg pushes e^(−x) for local x, as expNeg in kernel.go computes it; F11–F14 are
// scratch.
func expNeg(x string) {
	// y = −x, clamped to [fastexp.Lo, fastexp.Hi]; f32.min and f32.max cost V8 a compare and
	// three branches each, so the common case tests |x| once.
	emit("Get %s", x)
	emit("F32Neg")
	emit("Set F11")
	emit("Get %s", x)
	emit("F32Abs")
	emit("F32Const %s", f32(-fastexp.Lo))
	emit("F32Ge")
	emit("If")
	emit("Get F11")
	emit("F32Const %s", f32(fastexp.Lo))
	emit("F32Max")
	emit("F32Const %s", f32(fastexp.Hi))
	emit("F32Min")
	emit("Set F11")
	emit("End")
	emit("Get F11")
	emit("F32Const %s", f32(fastexp.Log2E)) // t = y·log2e + magic
	emit("F32Mul")
	emit("F32Const %s", f32(fastexp.Magic))
	emit("F32Add")
	emit("Tee F12")
	emit("F32Const %s", f32(fastexp.Magic)) // n = t − magic
	emit("F32Sub")
	emit("Set F13")
	emit("Get F11") // r = y − n·ln2Hi − n·ln2Lo
	emit("Get F13")
	emit("F32Const %s", f32(fastexp.Ln2Hi))
	emit("F32Mul")
	emit("F32Sub")
	emit("Get F13")
	emit("F32Const %s", f32(fastexp.Ln2Lo))
	emit("F32Mul")
	emit("F32Sub")
	emit("Tee F11")
	emit("Get F11") // r2 = r·r
	emit("F32Mul")
	emit("Set F14")
	// p = (1 + r) + r2·((c1 + c2·r) + r2·((c3 + c4·r) + r2·c5))
	emit("F32Const %s", f32(fastexp.C3))
	emit("Get F11")
	emit("F32Const %s", f32(fastexp.C4))
	emit("F32Mul")
	emit("F32Add")
	emit("Get F14")
	emit("F32Const %s", f32(fastexp.C5))
	emit("F32Mul")
	emit("F32Add")
	emit("Get F14")
	emit("F32Mul")
	emit("F32Const %s", f32(fastexp.C1))
	emit("Get F11")
	emit("F32Const %s", f32(fastexp.C2))
	emit("F32Mul")
	emit("F32Add")
	emit("F32Add")
	emit("Get F14")
	emit("F32Mul")
	emit("F32Const %s", f32(1))
	emit("Get F11")
	emit("F32Add")
	emit("F32Add")
	// · 2^n, from t's low bits
	emit("Get F12")
	emit("I32ReinterpretF32")
	emit("I32Const $23")
	emit("I32Shl")
	emit("I32Const $0x3f800000")
	emit("I32Add")
	emit("F32ReinterpretI32")
	emit("F32Mul")
}

// elementwise writes a loop over n float32s at x (and y, advanced alike) that runs body
// with the value of x in F0 and its address in R0 (R1: y's address).
func elementwise(name, args, frame string, twoPointers bool, body func()) {
	fmt.Fprintf(&b, "\n// func %s(%s)\nTEXT ·%s(SB), NOSPLIT, %s\n", name, args, name, frame)
	emit("MOVD x+0(FP), R0")
	if twoPointers {
		emit("MOVD y+8(FP), R1")
		emit("MOVD n+16(FP), R2")
	} else {
		emit("MOVD n+8(FP), R2")
	}
	emit("Get R2")
	emit("I64Eqz")
	emit("If")
	emit("RET")
	emit("End")
	emit("Get R0") // R2 = end of x
	emit("Get R2")
	emit("I64Const $2")
	emit("I64Shl")
	emit("I64Add")
	emit("Set R2")
	emit("Loop")
	emit("Get R0")
	emit("I32WrapI64")
	emit("F32Load $0")
	emit("Set F0")
	body()
	if twoPointers {
		emit("Get R1")
		emit("I64Const $4")
		emit("I64Add")
		emit("Set R1")
	}
	emit("Get R0")
	emit("I64Const $4")
	emit("I64Add")
	emit("Tee R0")
	emit("Get R2")
	emit("I64Ne")
	emit("BrIf $0")
	emit("End")
	emit("RET")
}

// acc names the accumulator of tile row r (0, 1) and output c.
func acc(r, c int) string { return fmt.Sprintf("F%d", r*C+c) }

func main() {
	if len(os.Args) > 1 {
		unroll, _ = strconv.Atoi(os.Args[1])
	}
	b.WriteString(`// Code generated by kernel_gen.go; DO NOT EDIT.

//go:build !purego

#include "textflag.h"

// func gemmWasm(dst, a, w, bias *float32, groups, kp, panels, aStride, dstStride, epi int)
//
// Locals: R0 dst group, R1 input group, R2 weight panel, R3 bias, R4 groups left,
// R5 bytes of a group's input, R6 panels left, R7 dst tile, R8 row offset in the group,
// R9 input row pointer, R10 weight row pointer, R11 end of R9, R12 epilogue, R13 scratch;
// F0–F7 the 2×4 accumulators, F8 F9 inputs, F10 a weight. The epilogue does ReLU
// only; gemmImpl runs siluWasm over the output for SiLU.
TEXT ·gemmWasm(SB), NOSPLIT, $0-80
`)
	emitGemm()

	// siluWasm sets x[i] = silu(x[i]).
	elementwise("siluWasm", "x *float32, n int", "$0-16", false, func() {
		silu("F0")
		emit("Get R0")
		emit("I32WrapI64")
		emit("Get F0")
		emit("F32Store $0")
	})
	// siluDerivWasm sets x[i] = silu(x[i]) and y[i] = silu'(x[i]).
	elementwise("siluDerivWasm", "x, y *float32, n int", "$0-24", true, func() {
		siluDeriv("F0")
		emit("Set F1")
		emit("Get R0")
		emit("I32WrapI64")
		emit("Get F14")
		emit("F32Store $0")
		emit("Get R1")
		emit("I32WrapI64")
		emit("Get F1")
		emit("F32Store $0")
	})
	// mulWasm sets x[i] *= y[i].
	elementwise("mulWasm", "x, y *float32, n int", "$0-24", true, func() {
		emit("Get R0")
		emit("I32WrapI64")
		emit("Get F0")
		emit("Get R1")
		emit("I32WrapI64")
		emit("F32Load $0")
		emit("F32Mul")
		emit("F32Store $0")
	})

	if err := os.WriteFile("kernel_wasm.s", []byte(b.String()), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// emitGemm writes gemmWasm's body: loops over groups, weight panels and pairs of rows.
func emitGemm() {
	emit("MOVD dst+0(FP), R0")
	emit("MOVD a+8(FP), R1")
	emit("MOVD groups+32(FP), R4")
	emit("MOVD kp+40(FP), R5")
	emit("Get R5")
	emit("I64Const $%d", G*4)
	emit("I64Mul")
	emit("Set R5")
	emit("MOVD epi+72(FP), R12")

	emit("Loop") // groups
	emit("MOVD w+16(FP), R2")
	emit("MOVD bias+24(FP), R3")
	emit("Get R0")
	emit("Set R7")
	emit("MOVD panels+48(FP), R6")

	emit("Loop") // panels
	emit("I64Const $0")
	emit("Set R8")

	emit("Loop") // row pairs
	emitTile()
	emit("Get R8")
	emit("I64Const $8")
	emit("I64Add")
	emit("Tee R8")
	emit("I64Const $%d", 4*G)
	emit("I64LtU")
	emit("BrIf $0")
	emit("End") // row pairs

	emit("Get R10") // the next panel starts where this one's weights end
	emit("Set R2")
	emit("Get R3")
	emit("I64Const $%d", 4*C)
	emit("I64Add")
	emit("Set R3")
	emit("Get R7")
	emit("I64Const $%d", 4*C*G)
	emit("I64Add")
	emit("Set R7")
	emit("Get R6")
	emit("I64Const $1")
	emit("I64Sub")
	emit("Tee R6")
	emit("I64Eqz")
	emit("I32Eqz")
	emit("BrIf $0")
	emit("End") // panels

	emit("MOVD aStride+56(FP), R13")
	emit("Get R1")
	emit("Get R13")
	emit("I64Const $2")
	emit("I64Shl")
	emit("I64Add")
	emit("Set R1")
	emit("MOVD dstStride+64(FP), R13")
	emit("Get R0")
	emit("Get R13")
	emit("I64Const $2")
	emit("I64Shl")
	emit("I64Add")
	emit("Set R0")
	emit("Get R4")
	emit("I64Const $1")
	emit("I64Sub")
	emit("Tee R4")
	emit("I64Eqz")
	emit("I32Eqz")
	emit("BrIf $0")
	emit("End") // groups
	emit("RET")
}

// emitTile writes one 2×4 tile of outputs (rows R8/4 and R8/4+1 of the group): the
// bias, the products summed over k, ReLU when asked for, the store.
func emitTile() {
	for c := 0; c < C; c++ {
		emit("Get R3")
		emit("I32WrapI64")
		emit("F32Load $%d", 4*c)
		emit("Tee %s", acc(0, c))
		emit("Set %s", acc(1, c))
	}
	emit("Get R1")
	emit("Get R8")
	emit("I64Add")
	emit("Tee R9")
	emit("Get R5")
	emit("I64Add")
	emit("Set R11")
	emit("Get R2")
	emit("Set R10")

	emitKLoop()

	emit("Get R12")
	emit("I64Const $2")
	emit("I64Eq")
	emit("If")
	for r := 0; r < 2; r++ {
		for c := 0; c < C; c++ {
			emit("Get %s", acc(r, c))
			emit("F32Const %s", f32(0))
			emit("F32Max")
			emit("Set %s", acc(r, c))
		}
	}
	emit("End")

	emit("Get R7")
	emit("Get R8")
	emit("I64Add")
	emit("Set R13")
	for c := 0; c < C; c++ {
		for r := 0; r < 2; r++ {
			emit("Get R13")
			emit("I32WrapI64")
			emit("Get %s", acc(r, c))
			emit("F32Store $%d", 4*(c*G+r))
		}
	}
}

// emitKLoop writes the inner loop, which adds unroll k steps of products a time into the
// accumulators.
func emitKLoop() {
	emit("Loop") // k, unroll steps at a time (kp is a multiple of panelCols)
	for u := 0; u < unroll; u++ {
		emit("Get R9")
		emit("I32WrapI64")
		emit("F32Load $%d", 4*(u*G))
		emit("Set F8")
		emit("Get R9")
		emit("I32WrapI64")
		emit("F32Load $%d", 4*(u*G+1))
		emit("Set F9")
		for c := 0; c < C; c++ {
			emit("Get R10")
			emit("I32WrapI64")
			emit("F32Load $%d", 4*(u*C+c))
			emit("Set F10")
			for r, a := range []string{"F8", "F9"} {
				emit("Get %s", a)
				emit("Get F10")
				emit("F32Mul")
				emit("Get %s", acc(r, c))
				emit("F32Add")
				emit("Set %s", acc(r, c))
			}
		}
	}
	emit("Get R10")
	emit("I64Const $%d", 4*C*unroll)
	emit("I64Add")
	emit("Set R10")
	emit("Get R9")
	emit("I64Const $%d", 4*G*unroll)
	emit("I64Add")
	emit("Tee R9")
	emit("Get R11")
	emit("I64Ne")
	emit("BrIf $0")
	emit("End") // k
}
