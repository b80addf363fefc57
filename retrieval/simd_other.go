//go:build !amd64 || purego

package retrieval

// Without amd64 assembly (on arm64, say, or under the purego build tag),
// both scans run portable Go kernels: vek has no SIMD there either.
const (
	hasInt8Kernel  = false
	vekMatVec      = false
	hasDot64Kernel = false
)

// dotsInt8SIMD is never called where hasInt8Kernel is false.
func dotsInt8SIMD(dst []int32, codes []int8, query []int16, stride int) {
	panic("retrieval: no SIMD int8 kernel on this platform")
}

// dot64SIMD is never called where hasDot64Kernel is false.
func dot64SIMD(s *[dot64Lanes]float64, a, b []float32) {
	panic("retrieval: no SIMD float64 dot kernel on this platform")
}
