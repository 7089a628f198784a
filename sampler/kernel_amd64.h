// Constants and epilogue macros shared by the amd64 gemm kernels (kernel_amd64.s,
// kernel_avx512_amd64.s). Each file that includes this gets its own copy of kconst<>.

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
