//go:build !purego

package sampler

// useAVX2 says whether the CPU and OS support AVX2 and FMA (checked like
// golang.org/x/sys/cpu does: CPUID leaves 1 and 7, and XCR0 for the YMM state).
var useAVX2 = detectAVX2()

func detectAVX2() bool {
	maxID, _, _, _ := cpuid(0, 0)
	if maxID < 7 {
		return false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	const fma, osxsave, avx = 1 << 12, 1 << 27, 1 << 28
	if ecx1&(fma|osxsave|avx) != fma|osxsave|avx {
		return false
	}
	if xcr0, _ := xgetbv(); xcr0&6 != 6 { // XMM and YMM state saved by the OS
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	return ebx7&(1<<5) != 0
}

// useAVX512 says whether the CPU and OS also support AVX-512 F and VL (CPUID leaf 7,
// and XCR0 for the opmask and the 512-bit and upper-16 register state), which
// gemmAVX512 needs.
var useAVX512 = useAVX2 && detectAVX512()

// asmKernelName is the assembly kernel a build without the tag gosimd runs on a CPU with
// those features (kernel_asm_amd64.go).
func asmKernelName(avx2, avx512 bool) string {
	switch {
	case avx2 && avx512:
		return "avx512"
	case avx2:
		return "avx2"
	}
	return "go"
}

func detectAVX512() bool {
	_, ebx7, _, _ := cpuid(7, 0)
	const avx512f, avx512vl = 1 << 16, 1 << 31
	if ebx7&(avx512f|avx512vl) != avx512f|avx512vl {
		return false
	}
	xcr0, _ := xgetbv()
	return xcr0&0xe6 == 0xe6
}

func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)
func xgetbv() (eax, edx uint32)

// gemmAVX2 is the kernel in kernel_amd64.s, assembled in every build (the Go SIMD
// kernel's tests compare against it); auxOff is aux's address minus dst's, in
// bytes (epiSiLUDeriv and epiMul).
//
//go:noescape
func gemmAVX2(dst, a, w, bias *float32, groups, kp, panels, aStride, dstStride, epi int, auxOff uintptr)

// gemmAVX512 is the kernel in kernel_avx512_amd64.s, with gemmAVX2's arguments and
// results; it runs only where useAVX512 holds.
//
//go:noescape
func gemmAVX512(dst, a, w, bias *float32, groups, kp, panels, aStride, dstStride, epi int, auxOff uintptr)
