//go:build !purego

#include "textflag.h"

// AVX-512 kernel for gemm (see kernel.go for the layout and the contract), for CPUs with
// AVX-512 F and VL. It keeps the 24-row groups of the packed layout, so it reads and writes
// exactly what gemmAVX2 does: a tile is a group's 24 rows, as one 16-wide vector (rows
// 0–15) and one 8-wide vector (rows 16–23), by three panels' 12 outputs, 24 accumulators:
// Z0–Z11 hold rows 0–15 of outputs 0–11, Y16–Y27 rows 16–23; the inputs are in Z28 and
// Y29 and each broadcast weight in Z30. A panel left over (panels mod 3) takes a tile of
// one panel, the same registers for 4 outputs. Each output is its bias plus the products in
// k order with fused multiply-adds, as in gemmAVX2, and the epilogue is gemmAVX2's own
// macros, run over the stored tile 8 rows at a time: so the results are gemmAVX2's, bit for
// bit (TestAVX512BitIdentical). Twice the accumulators per weight loaded make the 12-output
// tile worth it even where 512-bit multiply-adds issue no faster than two 256-bit ones.

#include "kernel_amd64.h"

// ZSILU(X) is SILU (kernel_amd64.h) on 16 lanes: the same operations, so the same bits,
// with each constant broadcast from its first lane. Clobbers Z12–Z14.
#define ZSILU(X) \
	VPXORD.BCST K_signbit, X, Z12 \
	VMAXPS.BCST K_explo, Z12, Z12 \
	VMINPS.BCST K_exphi, Z12, Z12 \
	VBROADCASTSS K_magic, Z13 \
	VFMADD231PS.BCST K_log2e, Z12, Z13 \
	VSUBPS.BCST K_magic, Z13, Z14 \
	VFNMADD231PS.BCST K_ln2hi, Z14, Z12 \
	VFNMADD231PS.BCST K_ln2lo, Z14, Z12 \
	VBROADCASTSS K_c5, Z14 \
	VFMADD213PS.BCST K_c4, Z12, Z14 \
	VFMADD213PS.BCST K_c3, Z12, Z14 \
	VFMADD213PS.BCST K_c2, Z12, Z14 \
	VFMADD213PS.BCST K_c1, Z12, Z14 \
	VFMADD213PS.BCST K_one, Z12, Z14 \
	VFMADD213PS.BCST K_one, Z12, Z14 \
	VPSLLD $23, Z13, Z13 \
	VPADDD.BCST K_onebits, Z13, Z13 \
	VMULPS Z13, Z14, Z14 \
	VADDPS.BCST K_one, Z14, Z14 \
	VDIVPS Z14, X, X

// ZSILUD(X, off) is SILUD on 16 lanes. Clobbers Z12–Z14.
#define ZSILUD(X, off) \
	VPXORD.BCST K_signbit, X, Z12 \
	VMAXPS.BCST K_explo, Z12, Z12 \
	VMINPS.BCST K_exphi, Z12, Z12 \
	VBROADCASTSS K_magic, Z13 \
	VFMADD231PS.BCST K_log2e, Z12, Z13 \
	VSUBPS.BCST K_magic, Z13, Z14 \
	VFNMADD231PS.BCST K_ln2hi, Z14, Z12 \
	VFNMADD231PS.BCST K_ln2lo, Z14, Z12 \
	VBROADCASTSS K_c5, Z14 \
	VFMADD213PS.BCST K_c4, Z12, Z14 \
	VFMADD213PS.BCST K_c3, Z12, Z14 \
	VFMADD213PS.BCST K_c2, Z12, Z14 \
	VFMADD213PS.BCST K_c1, Z12, Z14 \
	VFMADD213PS.BCST K_one, Z12, Z14 \
	VFMADD213PS.BCST K_one, Z12, Z14 \
	VPSLLD $23, Z13, Z13 \
	VPADDD.BCST K_onebits, Z13, Z13 \
	VMULPS Z13, Z14, Z14 \
	VADDPS.BCST K_one, Z14, Z13 \
	VBROADCASTSS K_one, Z12 \
	VDIVPS Z13, Z12, Z12 \
	VMULPS Z12, X, X \
	VMULPS Z12, Z14, Z14 \
	VMULPS X, Z14, Z14 \
	VADDPS Z12, Z14, Z14 \
	VMOVUPS Z14, off(DI)(R14*1)

// KSTEP3(aoff, woff) accumulates input row k (at SI) times weight row k of 3 panels
// (panel p at BX + p·R13 + woff).
#define KSTEP3(aoff, woff) \
	VMOVUPS aoff(SI), Z28 \
	VMOVUPS aoff+64(SI), Y29 \
	VBROADCASTSS woff(BX), Z30 \
	VFMADD231PS Z30, Z28, Z0 \
	VFMADD231PS Y30, Y29, Y16 \
	VBROADCASTSS woff+4(BX), Z30 \
	VFMADD231PS Z30, Z28, Z1 \
	VFMADD231PS Y30, Y29, Y17 \
	VBROADCASTSS woff+8(BX), Z30 \
	VFMADD231PS Z30, Z28, Z2 \
	VFMADD231PS Y30, Y29, Y18 \
	VBROADCASTSS woff+12(BX), Z30 \
	VFMADD231PS Z30, Z28, Z3 \
	VFMADD231PS Y30, Y29, Y19 \
	VBROADCASTSS woff(BX)(R13*1), Z30 \
	VFMADD231PS Z30, Z28, Z4 \
	VFMADD231PS Y30, Y29, Y20 \
	VBROADCASTSS woff+4(BX)(R13*1), Z30 \
	VFMADD231PS Z30, Z28, Z5 \
	VFMADD231PS Y30, Y29, Y21 \
	VBROADCASTSS woff+8(BX)(R13*1), Z30 \
	VFMADD231PS Z30, Z28, Z6 \
	VFMADD231PS Y30, Y29, Y22 \
	VBROADCASTSS woff+12(BX)(R13*1), Z30 \
	VFMADD231PS Z30, Z28, Z7 \
	VFMADD231PS Y30, Y29, Y23 \
	VBROADCASTSS woff(BX)(R13*2), Z30 \
	VFMADD231PS Z30, Z28, Z8 \
	VFMADD231PS Y30, Y29, Y24 \
	VBROADCASTSS woff+4(BX)(R13*2), Z30 \
	VFMADD231PS Z30, Z28, Z9 \
	VFMADD231PS Y30, Y29, Y25 \
	VBROADCASTSS woff+8(BX)(R13*2), Z30 \
	VFMADD231PS Z30, Z28, Z10 \
	VFMADD231PS Y30, Y29, Y26 \
	VBROADCASTSS woff+12(BX)(R13*2), Z30 \
	VFMADD231PS Z30, Z28, Z11 \
	VFMADD231PS Y30, Y29, Y27

// KSTEP1(aoff, woff) accumulates input row k (at SI) times weight row k of 1 panel
// (panel p at BX + p·R13 + woff).
#define KSTEP1(aoff, woff) \
	VMOVUPS aoff(SI), Z28 \
	VMOVUPS aoff+64(SI), Y29 \
	VBROADCASTSS woff(BX), Z30 \
	VFMADD231PS Z30, Z28, Z0 \
	VFMADD231PS Y30, Y29, Y16 \
	VBROADCASTSS woff+4(BX), Z30 \
	VFMADD231PS Z30, Z28, Z1 \
	VFMADD231PS Y30, Y29, Y17 \
	VBROADCASTSS woff+8(BX), Z30 \
	VFMADD231PS Z30, Z28, Z2 \
	VFMADD231PS Y30, Y29, Y18 \
	VBROADCASTSS woff+12(BX), Z30 \
	VFMADD231PS Z30, Z28, Z3 \
	VFMADD231PS Y30, Y29, Y19

// func gemmAVX512(dst, a, w, bias *float32, groups, kp, panels, aStride, dstStride, epi int, auxOff uintptr)
// Strides in float32s; kp is a positive multiple of 4; auxOff in bytes.
TEXT ·gemmAVX512(SB), NOSPLIT, $0-88
	MOVQ dst+0(FP), R9
	MOVQ a+8(FP), R8
	MOVQ groups+32(FP), R10
	MOVQ kp+40(FP), R12
	MOVQ R12, R13
	SHLQ $4, R13           // bytes of one panel's weights: kp·4·4
	IMULQ $96, R12          // bytes of one group's input: kp·24·4
	MOVQ auxOff+80(FP), R14

group:
	MOVQ w+16(FP), BX
	MOVQ bias+24(FP), CX
	MOVQ R9, DI
	MOVQ panels+48(FP), R11

panels:
	CMPQ R11, $3
	JLT single
triple:
	VBROADCASTSS 0(CX), Z0
	VBROADCASTSS 0(CX), Y16
	VBROADCASTSS 4(CX), Z1
	VBROADCASTSS 4(CX), Y17
	VBROADCASTSS 8(CX), Z2
	VBROADCASTSS 8(CX), Y18
	VBROADCASTSS 12(CX), Z3
	VBROADCASTSS 12(CX), Y19
	VBROADCASTSS 16(CX), Z4
	VBROADCASTSS 16(CX), Y20
	VBROADCASTSS 20(CX), Z5
	VBROADCASTSS 20(CX), Y21
	VBROADCASTSS 24(CX), Z6
	VBROADCASTSS 24(CX), Y22
	VBROADCASTSS 28(CX), Z7
	VBROADCASTSS 28(CX), Y23
	VBROADCASTSS 32(CX), Z8
	VBROADCASTSS 32(CX), Y24
	VBROADCASTSS 36(CX), Z9
	VBROADCASTSS 36(CX), Y25
	VBROADCASTSS 40(CX), Z10
	VBROADCASTSS 40(CX), Y26
	VBROADCASTSS 44(CX), Z11
	VBROADCASTSS 44(CX), Y27
	MOVQ R8, SI
	LEAQ (R8)(R12*1), DX

triple_k4:	// kp is a multiple of 4: four steps per trip
	KSTEP3(0, 0)
	KSTEP3(96, 16)
	KSTEP3(192, 32)
	KSTEP3(288, 48)
	ADDQ $384, SI
	ADDQ $64, BX
	CMPQ SI, DX
	JNE triple_k4

	VMOVUPS Z0, 0(DI)
	VMOVUPS Y16, 64(DI)
	VMOVUPS Z1, 96(DI)
	VMOVUPS Y17, 160(DI)
	VMOVUPS Z2, 192(DI)
	VMOVUPS Y18, 256(DI)
	VMOVUPS Z3, 288(DI)
	VMOVUPS Y19, 352(DI)
	VMOVUPS Z4, 384(DI)
	VMOVUPS Y20, 448(DI)
	VMOVUPS Z5, 480(DI)
	VMOVUPS Y21, 544(DI)
	VMOVUPS Z6, 576(DI)
	VMOVUPS Y22, 640(DI)
	VMOVUPS Z7, 672(DI)
	VMOVUPS Y23, 736(DI)
	VMOVUPS Z8, 768(DI)
	VMOVUPS Y24, 832(DI)
	VMOVUPS Z9, 864(DI)
	VMOVUPS Y25, 928(DI)
	VMOVUPS Z10, 960(DI)
	VMOVUPS Y26, 1024(DI)
	VMOVUPS Z11, 1056(DI)
	VMOVUPS Y27, 1120(DI)
	LEAQ (BX)(R13*2), BX   // on to the panel after the tile's last
	ADDQ $48, CX
	MOVQ $18, AX            // 16-row vectors the tile stored
	MOVQ epi+72(FP), DX
	CMPQ DX, $0
	JNE triple_epi
	SHLQ $6, AX
	ADDQ AX, DI
	JMP triple_done
triple_epi:	// the epilogue, in place, 16 rows at a time, leaving DI past the tile
	VMOVUPS (DI), Z0
	CMPQ DX, $1
	JNE triple_notsilu
	ZSILU(Z0)
	JMP triple_store
triple_notsilu:
	CMPQ DX, $3
	JNE triple_notsilud
	ZSILUD(Z0, 0)
	JMP triple_store
triple_notsilud:
	CMPQ DX, $4
	JNE triple_notmul
	VMULPS (DI)(R14*1), Z0, Z0
	JMP triple_store
triple_notmul:
	CMPQ DX, $2
	JNE triple_notrelu
	VPXORD Z12, Z12, Z12
	VMAXPS Z0, Z12, Z0     // RELU's max(x, 0), keeping NaN
	JMP triple_store
triple_notrelu:
triple_store:
	VMOVUPS Z0, (DI)
	ADDQ $64, DI
	DECQ AX
	JNZ triple_epi
triple_done:
	SUBQ $3, R11
	JMP panels

single:
	TESTQ R11, R11
	JZ nextgroup
one:
	VBROADCASTSS 0(CX), Z0
	VBROADCASTSS 0(CX), Y16
	VBROADCASTSS 4(CX), Z1
	VBROADCASTSS 4(CX), Y17
	VBROADCASTSS 8(CX), Z2
	VBROADCASTSS 8(CX), Y18
	VBROADCASTSS 12(CX), Z3
	VBROADCASTSS 12(CX), Y19
	MOVQ R8, SI
	LEAQ (R8)(R12*1), DX

one_k4:	// kp is a multiple of 4: four steps per trip
	KSTEP1(0, 0)
	KSTEP1(96, 16)
	KSTEP1(192, 32)
	KSTEP1(288, 48)
	ADDQ $384, SI
	ADDQ $64, BX
	CMPQ SI, DX
	JNE one_k4

	VMOVUPS Z0, 0(DI)
	VMOVUPS Y16, 64(DI)
	VMOVUPS Z1, 96(DI)
	VMOVUPS Y17, 160(DI)
	VMOVUPS Z2, 192(DI)
	VMOVUPS Y18, 256(DI)
	VMOVUPS Z3, 288(DI)
	VMOVUPS Y19, 352(DI)
	ADDQ $16, CX
	MOVQ $6, AX            // 16-row vectors the tile stored
	MOVQ epi+72(FP), DX
	CMPQ DX, $0
	JNE one_epi
	SHLQ $6, AX
	ADDQ AX, DI
	JMP one_done
one_epi:	// the epilogue, in place, 16 rows at a time, leaving DI past the tile
	VMOVUPS (DI), Z0
	CMPQ DX, $1
	JNE one_notsilu
	ZSILU(Z0)
	JMP one_store
one_notsilu:
	CMPQ DX, $3
	JNE one_notsilud
	ZSILUD(Z0, 0)
	JMP one_store
one_notsilud:
	CMPQ DX, $4
	JNE one_notmul
	VMULPS (DI)(R14*1), Z0, Z0
	JMP one_store
one_notmul:
	CMPQ DX, $2
	JNE one_notrelu
	VPXORD Z12, Z12, Z12
	VMAXPS Z0, Z12, Z0     // RELU's max(x, 0), keeping NaN
	JMP one_store
one_notrelu:
one_store:
	VMOVUPS Z0, (DI)
	ADDQ $64, DI
	DECQ AX
	JNZ one_epi
one_done:
	SUBQ $1, R11
	JMP single

nextgroup:
	MOVQ aStride+56(FP), AX
	LEAQ (R8)(AX*4), R8
	MOVQ dstStride+64(FP), AX
	LEAQ (R9)(AX*4), R9
	DECQ R10
	JNZ group
	VZEROUPPER
	RET
