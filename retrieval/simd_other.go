//go:build !amd64 || purego

package retrieval

// Without amd64 assembly (on arm64, say, or under the purego build tag),
// both scans run portable Go kernels: vek has no SIMD there either.
const (
	hasInt8Kernel  = false
	vekMatVec      = false
	hasDot64Kernel = false
)

// dotsBlocksSIMD is never called where hasInt8Kernel is false.
func dotsBlocksSIMD(dst []int32, codes []int8, size int, offsets []int32, pairs []uint32) {
	panic("retrieval: no SIMD int8 kernel on this platform")
}

// upperBoundsSIMD is never called where hasInt8Kernel is false.
func upperBoundsSIMD(mask []uint64, dots []int32, scales []float32, t, radius, floor float32) {
	panic("retrieval: no SIMD bound kernel on this platform")
}

// dot64SIMD is never called where hasDot64Kernel is false.
func dot64SIMD(s *[dot64Lanes]float64, a, b []float32) {
	panic("retrieval: no SIMD float64 dot kernel on this platform")
}
