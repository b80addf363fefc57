//go:build amd64 && !purego

package retrieval

import (
	"github.com/viterin/vek"
	"golang.org/x/sys/cpu"
)

var (
	// hasInt8Kernel says whether dotsBlocksSIMD and upperBoundsSIMD may run: it needs AVX2, which
	// cpu.X86.HasAVX2 reports only when the OS also saves the YMM registers.
	hasInt8Kernel = cpu.X86.HasAVX2
	// vekMatVec says whether vek32.MatMul_Into runs its AVX2 kernel. Where
	// it does not, matVec uses matVecGo: vek's portable fallback allocates
	// on every call and accumulates into a single sum.
	vekMatVec = vek.Info().Acceleration
	// hasDot64Kernel says whether dot64SIMD may run: it needs AVX2 and FMA.
	hasDot64Kernel = cpu.X86.HasAVX2 && cpu.X86.HasFMA
)

// dotsBlocksSIMD is dotsBlocksGo in AVX2 assembly: 16 codes at a time are
// sign-extended to int16 (VPMOVSXBW), multiplied by the query pair and
// summed in pairs into one int32 lane per row (VPMADDWD), and accumulated
// (VPADDD). The shape checks are dotsBlocks's.
//
//go:noescape
func dotsBlocksSIMD(dst []int32, codes []int8, size int, offsets []int32, pairs []uint32)

// upperBoundsSIMD is upperBoundsGo in AVX2 assembly, eight rows at a time,
// with the same float32 operations and so the same bits. The shape checks
// are upperBounds's.
//
//go:noescape
func upperBoundsSIMD(mask []uint64, dots []int32, scales []float32, t, radius, floor float32)

// dot64SIMD is dot64Go in AVX2 and FMA assembly, with the same order of
// additions and so the same bits; Dot64 checks the shape.
//
//go:noescape
func dot64SIMD(s *[dot64Lanes]float64, a, b []float32)
