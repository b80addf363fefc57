//go:build amd64 && !purego

package retrieval

import (
	"github.com/viterin/vek"
	"golang.org/x/sys/cpu"
)

var (
	// hasInt8Kernel says whether dotsInt8SIMD may run: it needs AVX2, which
	// cpu.X86.HasAVX2 reports only when the OS also saves the YMM registers.
	hasInt8Kernel = cpu.X86.HasAVX2
	// vekMatVec says whether vek32.MatMul_Into runs its AVX2 kernel. Where
	// it does not, matVec uses matVecGo: vek's portable fallback allocates
	// on every call and accumulates into a single sum.
	vekMatVec = vek.Info().Acceleration
	// hasDot64Kernel says whether dot64SIMD may run: it needs AVX2 and FMA.
	hasDot64Kernel = cpu.X86.HasAVX2 && cpu.X86.HasFMA
)

// dotsInt8SIMD is dotsInt8 in AVX2 assembly: 16 codes at a time are
// sign-extended to int16 (VPMOVSXBW), multiplied by the query and summed in
// pairs into int32 lanes (VPMADDWD), and accumulated (VPADDD). The shape
// checks are dotsInt8's.
//
//go:noescape
func dotsInt8SIMD(dst []int32, codes []int8, query []int16, stride int)

// dot64SIMD is dot64Go in AVX2 and FMA assembly, with the same order of
// additions and so the same bits; Dot64 checks the shape.
//
//go:noescape
func dot64SIMD(s *[dot64Lanes]float64, a, b []float32)
