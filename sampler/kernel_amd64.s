//go:build !purego

#include "textflag.h"

// AVX2/FMA kernel for gemm (see kernel.go for the layout and the contract). A tile is
// 24 rows (3 vectors of 8) × 4 outputs: 12 accumulators Y0–Y11 (Y(3c+v) holds output c,
// rows 8v..8v+7), the 3 input vectors in Y12–Y14 and one broadcast weight in Y15.

// Constants, each repeated 8 times for full-width memory operands.
DATA kconst<>+0(SB)/4, $0x80000000
DATA kconst<>+4(SB)/4, $0x80000000
DATA kconst<>+8(SB)/4, $0x80000000
DATA kconst<>+12(SB)/4, $0x80000000
DATA kconst<>+16(SB)/4, $0x80000000
DATA kconst<>+20(SB)/4, $0x80000000
DATA kconst<>+24(SB)/4, $0x80000000
DATA kconst<>+28(SB)/4, $0x80000000
DATA kconst<>+32(SB)/4, $0xc2ae0000
DATA kconst<>+36(SB)/4, $0xc2ae0000
DATA kconst<>+40(SB)/4, $0xc2ae0000
DATA kconst<>+44(SB)/4, $0xc2ae0000
DATA kconst<>+48(SB)/4, $0xc2ae0000
DATA kconst<>+52(SB)/4, $0xc2ae0000
DATA kconst<>+56(SB)/4, $0xc2ae0000
DATA kconst<>+60(SB)/4, $0xc2ae0000
DATA kconst<>+64(SB)/4, $0x42b00000
DATA kconst<>+68(SB)/4, $0x42b00000
DATA kconst<>+72(SB)/4, $0x42b00000
DATA kconst<>+76(SB)/4, $0x42b00000
DATA kconst<>+80(SB)/4, $0x42b00000
DATA kconst<>+84(SB)/4, $0x42b00000
DATA kconst<>+88(SB)/4, $0x42b00000
DATA kconst<>+92(SB)/4, $0x42b00000
DATA kconst<>+96(SB)/4, $0x3fb8aa3b
DATA kconst<>+100(SB)/4, $0x3fb8aa3b
DATA kconst<>+104(SB)/4, $0x3fb8aa3b
DATA kconst<>+108(SB)/4, $0x3fb8aa3b
DATA kconst<>+112(SB)/4, $0x3fb8aa3b
DATA kconst<>+116(SB)/4, $0x3fb8aa3b
DATA kconst<>+120(SB)/4, $0x3fb8aa3b
DATA kconst<>+124(SB)/4, $0x3fb8aa3b
DATA kconst<>+128(SB)/4, $0x4b400000
DATA kconst<>+132(SB)/4, $0x4b400000
DATA kconst<>+136(SB)/4, $0x4b400000
DATA kconst<>+140(SB)/4, $0x4b400000
DATA kconst<>+144(SB)/4, $0x4b400000
DATA kconst<>+148(SB)/4, $0x4b400000
DATA kconst<>+152(SB)/4, $0x4b400000
DATA kconst<>+156(SB)/4, $0x4b400000
DATA kconst<>+160(SB)/4, $0x3f318000
DATA kconst<>+164(SB)/4, $0x3f318000
DATA kconst<>+168(SB)/4, $0x3f318000
DATA kconst<>+172(SB)/4, $0x3f318000
DATA kconst<>+176(SB)/4, $0x3f318000
DATA kconst<>+180(SB)/4, $0x3f318000
DATA kconst<>+184(SB)/4, $0x3f318000
DATA kconst<>+188(SB)/4, $0x3f318000
DATA kconst<>+192(SB)/4, $0xb95e8083
DATA kconst<>+196(SB)/4, $0xb95e8083
DATA kconst<>+200(SB)/4, $0xb95e8083
DATA kconst<>+204(SB)/4, $0xb95e8083
DATA kconst<>+208(SB)/4, $0xb95e8083
DATA kconst<>+212(SB)/4, $0xb95e8083
DATA kconst<>+216(SB)/4, $0xb95e8083
DATA kconst<>+220(SB)/4, $0xb95e8083
DATA kconst<>+224(SB)/4, $0x3ab51226
DATA kconst<>+228(SB)/4, $0x3ab51226
DATA kconst<>+232(SB)/4, $0x3ab51226
DATA kconst<>+236(SB)/4, $0x3ab51226
DATA kconst<>+240(SB)/4, $0x3ab51226
DATA kconst<>+244(SB)/4, $0x3ab51226
DATA kconst<>+248(SB)/4, $0x3ab51226
DATA kconst<>+252(SB)/4, $0x3ab51226
DATA kconst<>+256(SB)/4, $0x3c091cea
DATA kconst<>+260(SB)/4, $0x3c091cea
DATA kconst<>+264(SB)/4, $0x3c091cea
DATA kconst<>+268(SB)/4, $0x3c091cea
DATA kconst<>+272(SB)/4, $0x3c091cea
DATA kconst<>+276(SB)/4, $0x3c091cea
DATA kconst<>+280(SB)/4, $0x3c091cea
DATA kconst<>+284(SB)/4, $0x3c091cea
DATA kconst<>+288(SB)/4, $0x3d2aac79
DATA kconst<>+292(SB)/4, $0x3d2aac79
DATA kconst<>+296(SB)/4, $0x3d2aac79
DATA kconst<>+300(SB)/4, $0x3d2aac79
DATA kconst<>+304(SB)/4, $0x3d2aac79
DATA kconst<>+308(SB)/4, $0x3d2aac79
DATA kconst<>+312(SB)/4, $0x3d2aac79
DATA kconst<>+316(SB)/4, $0x3d2aac79
DATA kconst<>+320(SB)/4, $0x3e2aaa49
DATA kconst<>+324(SB)/4, $0x3e2aaa49
DATA kconst<>+328(SB)/4, $0x3e2aaa49
DATA kconst<>+332(SB)/4, $0x3e2aaa49
DATA kconst<>+336(SB)/4, $0x3e2aaa49
DATA kconst<>+340(SB)/4, $0x3e2aaa49
DATA kconst<>+344(SB)/4, $0x3e2aaa49
DATA kconst<>+348(SB)/4, $0x3e2aaa49
DATA kconst<>+352(SB)/4, $0x3efffffe
DATA kconst<>+356(SB)/4, $0x3efffffe
DATA kconst<>+360(SB)/4, $0x3efffffe
DATA kconst<>+364(SB)/4, $0x3efffffe
DATA kconst<>+368(SB)/4, $0x3efffffe
DATA kconst<>+372(SB)/4, $0x3efffffe
DATA kconst<>+376(SB)/4, $0x3efffffe
DATA kconst<>+380(SB)/4, $0x3efffffe
DATA kconst<>+384(SB)/4, $0x3f800000
DATA kconst<>+388(SB)/4, $0x3f800000
DATA kconst<>+392(SB)/4, $0x3f800000
DATA kconst<>+396(SB)/4, $0x3f800000
DATA kconst<>+400(SB)/4, $0x3f800000
DATA kconst<>+404(SB)/4, $0x3f800000
DATA kconst<>+408(SB)/4, $0x3f800000
DATA kconst<>+412(SB)/4, $0x3f800000
DATA kconst<>+416(SB)/4, $0x3f800000
DATA kconst<>+420(SB)/4, $0x3f800000
DATA kconst<>+424(SB)/4, $0x3f800000
DATA kconst<>+428(SB)/4, $0x3f800000
DATA kconst<>+432(SB)/4, $0x3f800000
DATA kconst<>+436(SB)/4, $0x3f800000
DATA kconst<>+440(SB)/4, $0x3f800000
DATA kconst<>+444(SB)/4, $0x3f800000
GLOBL kconst<>(SB), RODATA|NOPTR, $448

#define K_signbit kconst<>+0(SB)
#define K_explo kconst<>+32(SB)
#define K_exphi kconst<>+64(SB)
#define K_log2e kconst<>+96(SB)
#define K_magic kconst<>+128(SB)
#define K_ln2hi kconst<>+160(SB)
#define K_ln2lo kconst<>+192(SB)
#define K_c5 kconst<>+224(SB)
#define K_c4 kconst<>+256(SB)
#define K_c3 kconst<>+288(SB)
#define K_c2 kconst<>+320(SB)
#define K_c1 kconst<>+352(SB)
#define K_one kconst<>+384(SB)
#define K_onebits kconst<>+416(SB)

// SILU(X) sets X = X/(1+e^(−X)) with the same approximation as silu in kernel.go (FMA
// where kernel.go rounds twice). Clobbers Y12–Y14.
#define SILU(X) \
	VXORPS K_signbit, X, Y12 \
	VMAXPS K_explo, Y12, Y12 \
	VMINPS K_exphi, Y12, Y12 \
	VMOVUPS K_magic, Y13 \
	VFMADD231PS K_log2e, Y12, Y13 \
	VSUBPS K_magic, Y13, Y14 \
	VFNMADD231PS K_ln2hi, Y14, Y12 \
	VFNMADD231PS K_ln2lo, Y14, Y12 \
	VMOVUPS K_c5, Y14 \
	VFMADD213PS K_c4, Y12, Y14 \
	VFMADD213PS K_c3, Y12, Y14 \
	VFMADD213PS K_c2, Y12, Y14 \
	VFMADD213PS K_c1, Y12, Y14 \
	VFMADD213PS K_one, Y12, Y14 \
	VFMADD213PS K_one, Y12, Y14 \
	VPSLLD $23, Y13, Y13 \
	VPADDD K_onebits, Y13, Y13 \
	VMULPS Y13, Y14, Y14 \
	VADDPS K_one, Y14, Y14 \
	VDIVPS Y14, X, X

// SILUD(X, off) sets X = silu(X) and stores silu'(X) = s + (X·s)·(e·s), s = 1/(1+e), at
// off(DI)(R14*1), the aux output. Clobbers Y12–Y14.
#define SILUD(X, off) \
	VXORPS K_signbit, X, Y12 \
	VMAXPS K_explo, Y12, Y12 \
	VMINPS K_exphi, Y12, Y12 \
	VMOVUPS K_magic, Y13 \
	VFMADD231PS K_log2e, Y12, Y13 \
	VSUBPS K_magic, Y13, Y14 \
	VFNMADD231PS K_ln2hi, Y14, Y12 \
	VFNMADD231PS K_ln2lo, Y14, Y12 \
	VMOVUPS K_c5, Y14 \
	VFMADD213PS K_c4, Y12, Y14 \
	VFMADD213PS K_c3, Y12, Y14 \
	VFMADD213PS K_c2, Y12, Y14 \
	VFMADD213PS K_c1, Y12, Y14 \
	VFMADD213PS K_one, Y12, Y14 \
	VFMADD213PS K_one, Y12, Y14 \
	VPSLLD $23, Y13, Y13 \
	VPADDD K_onebits, Y13, Y13 \
	VMULPS Y13, Y14, Y14 \
	VADDPS K_one, Y14, Y13 \
	VMOVUPS K_one, Y12 \
	VDIVPS Y13, Y12, Y12 \
	VMULPS Y12, X, X \
	VMULPS Y12, Y14, Y14 \
	VMULPS X, Y14, Y14 \
	VADDPS Y12, Y14, Y14 \
	VMOVUPS Y14, off(DI)(R14*1)

// MULAUX(X, off) sets X *= the aux value at off(DI)(R14*1).
#define MULAUX(X, off) VMULPS off(DI)(R14*1), X, X

// RELU(X) sets X = max(X, 0), keeping NaN. Needs Y12 = 0.
#define RELU(X) VMAXPS X, Y12, X

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
