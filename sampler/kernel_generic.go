//go:build purego || !(amd64 || wasm || (arm64 && goexperiment.simd && go1.27))

package sampler

// kernelName says which gemm kernel this build runs.
var kernelName = "go"

func gemmImpl(dst, a []float32, ly *packedLayer, bias []float32, groups, aStride, dstStride, epi int, aux []float32) {
	gemmGo(dst, a, ly, bias, groups, aStride, dstStride, epi, aux)
}
