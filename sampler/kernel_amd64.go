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

func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)
func xgetbv() (eax, edx uint32)

// gemmAVX2 is the kernel in kernel_amd64.s, assembled in every build (the Go SIMD
// kernel's tests compare against it); auxOff is aux's address minus dst's, in
// bytes (epiSiLUDeriv and epiMul).
//
//go:noescape
func gemmAVX2(dst, a, w, bias *float32, groups, kp, panels, aStride, dstStride, epi int, auxOff uintptr)
