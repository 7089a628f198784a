//go:build goexperiment.simd && go1.27 && !purego

package sampler

import (
	"maps"
	"testing"
)

func init() {
	// The NEON kernel does the AVX2 kernels' operations in their order (see
	// kernel_archsimd_arm64.go): the forward pass and the solves share their pinned
	// hashes. The JVP and the divergence do not: the networks' Go code outside the
	// kernels (tanh's derivative 1 − th², for one) is fused into multiply-adds by the
	// arm64 compiler and not by the amd64 one. Those two are pinned as the NEON kernel
	// gave them under qemu-aarch64 (Go 1.27.3).
	h := maps.Clone(bitIdentHashes["avx2"])
	h["jvp"] = "7e1f8ac8e4a4c1168fac08907289d55c9b0bf06dc6d59a7f532731dea5609afc"
	h["div"] = "a42b6d9bc2bce2be18eb0225ebc7dbb786c20f3f62fc8e22b71076699a88cfcd"
	bitIdentHashes["neon-simd"] = h
}

// goSIMDKernel is the Go SIMD kernel TestGoSIMDKernelFMA checks.
func goSIMDKernel(t *testing.T) (gemmFunc, string) { return gemmNEON, "neon-simd" }

type gemmFunc = func(dst, a []float32, ly *packedLayer, bias []float32, groups, aStride, dstStride, epi int, aux []float32)
