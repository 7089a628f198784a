//go:build !purego

#include "textflag.h"

// AVX2/FMA kernel for gemm (see kernel.go for the layout and the contract). A tile is
// 24 rows (3 vectors of 8) × 4 outputs: 12 accumulators Y0–Y11 (Y(3c+v) holds output c,
// rows 8v..8v+7), the 3 input vectors in Y12–Y14 and one broadcast weight in Y15.

#include "kernel_amd64.h"

// KSTEP(off) accumulates input row k (at SI) times weight row k (at BX+off).
#define KSTEP(aoff, woff) \
	VMOVUPS aoff(SI), Y12 \
	VMOVUPS aoff+32(SI), Y13 \
	VMOVUPS aoff+64(SI), Y14 \
	VBROADCASTSS woff(BX), Y15 \
	VFMADD231PS Y15, Y12, Y0 \
	VFMADD231PS Y15, Y13, Y1 \
	VFMADD231PS Y15, Y14, Y2 \
	VBROADCASTSS woff+4(BX), Y15 \
	VFMADD231PS Y15, Y12, Y3 \
	VFMADD231PS Y15, Y13, Y4 \
	VFMADD231PS Y15, Y14, Y5 \
	VBROADCASTSS woff+8(BX), Y15 \
	VFMADD231PS Y15, Y12, Y6 \
	VFMADD231PS Y15, Y13, Y7 \
	VFMADD231PS Y15, Y14, Y8 \
	VBROADCASTSS woff+12(BX), Y15 \
	VFMADD231PS Y15, Y12, Y9 \
	VFMADD231PS Y15, Y13, Y10 \
	VFMADD231PS Y15, Y14, Y11

// func gemmAVX2(dst, a, w, bias *float32, groups, kp, panels, aStride, dstStride, epi int, auxOff uintptr)
// Strides in float32s; kp is a positive multiple of 4; auxOff in bytes.
TEXT ·gemmAVX2(SB), NOSPLIT, $0-88
	MOVQ dst+0(FP), R9
	MOVQ a+8(FP), R8
	MOVQ groups+32(FP), R10
	MOVQ kp+40(FP), R12
	IMULQ $96, R12          // bytes of one group's input: kp·24·4
	MOVQ epi+72(FP), R13
	MOVQ auxOff+80(FP), R14

group:
	MOVQ w+16(FP), BX
	MOVQ bias+24(FP), CX
	MOVQ R9, DI
	MOVQ panels+48(FP), R11

panel:
	VBROADCASTSS 0(CX), Y0
	VMOVAPS Y0, Y1
	VMOVAPS Y0, Y2
	VBROADCASTSS 4(CX), Y3
	VMOVAPS Y3, Y4
	VMOVAPS Y3, Y5
	VBROADCASTSS 8(CX), Y6
	VMOVAPS Y6, Y7
	VMOVAPS Y6, Y8
	VBROADCASTSS 12(CX), Y9
	VMOVAPS Y9, Y10
	VMOVAPS Y9, Y11
	MOVQ R8, SI
	LEAQ (R8)(R12*1), DX

k4:	// kp is a multiple of 4: four steps per trip
	KSTEP(0, 0)
	KSTEP(96, 16)
	KSTEP(192, 32)
	KSTEP(288, 48)
	ADDQ $384, SI
	ADDQ $64, BX
	CMPQ SI, DX
	JNE k4

	CMPQ R13, $1
	JNE notsilu
	SILU(Y0)
	SILU(Y1)
	SILU(Y2)
	SILU(Y3)
	SILU(Y4)
	SILU(Y5)
	SILU(Y6)
	SILU(Y7)
	SILU(Y8)
	SILU(Y9)
	SILU(Y10)
	SILU(Y11)
	JMP store

notsilu:
	CMPQ R13, $3
	JNE notsilud
	SILUD(Y0, 0)
	SILUD(Y1, 32)
	SILUD(Y2, 64)
	SILUD(Y3, 96)
	SILUD(Y4, 128)
	SILUD(Y5, 160)
	SILUD(Y6, 192)
	SILUD(Y7, 224)
	SILUD(Y8, 256)
	SILUD(Y9, 288)
	SILUD(Y10, 320)
	SILUD(Y11, 352)
	JMP store

notsilud:
	CMPQ R13, $4
	JNE notmul
	MULAUX(Y0, 0)
	MULAUX(Y1, 32)
	MULAUX(Y2, 64)
	MULAUX(Y3, 96)
	MULAUX(Y4, 128)
	MULAUX(Y5, 160)
	MULAUX(Y6, 192)
	MULAUX(Y7, 224)
	MULAUX(Y8, 256)
	MULAUX(Y9, 288)
	MULAUX(Y10, 320)
	MULAUX(Y11, 352)
	JMP store

notmul:
	CMPQ R13, $2
	JNE store
	VXORPS Y12, Y12, Y12
	RELU(Y0)
	RELU(Y1)
	RELU(Y2)
	RELU(Y3)
	RELU(Y4)
	RELU(Y5)
	RELU(Y6)
	RELU(Y7)
	RELU(Y8)
	RELU(Y9)
	RELU(Y10)
	RELU(Y11)

store:
	VMOVUPS Y0, 0(DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	VMOVUPS Y4, 128(DI)
	VMOVUPS Y5, 160(DI)
	VMOVUPS Y6, 192(DI)
	VMOVUPS Y7, 224(DI)
	VMOVUPS Y8, 256(DI)
	VMOVUPS Y9, 288(DI)
	VMOVUPS Y10, 320(DI)
	VMOVUPS Y11, 352(DI)
	ADDQ $384, DI
	ADDQ $16, CX
	DECQ R11
	JNZ panel

	MOVQ aStride+56(FP), AX
	LEAQ (R8)(AX*4), R8
	MOVQ dstStride+64(FP), AX
	LEAQ (R9)(AX*4), R9
	DECQ R10
	JNZ group
	VZEROUPPER
	RET

// func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL eaxArg+0(FP), AX
	MOVL ecxArg+4(FP), CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL BX, ebx+12(FP)
	MOVL CX, ecx+16(FP)
	MOVL DX, edx+20(FP)
	RET

// func xgetbv() (eax, edx uint32)
TEXT ·xgetbv(SB), NOSPLIT, $0-8
	MOVL $0, CX
	XGETBV
	MOVL AX, eax+0(FP)
	MOVL DX, edx+4(FP)
	RET
