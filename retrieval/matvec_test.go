package retrieval

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/viterin/vek/vek32"
)

func TestMatVec(t *testing.T) {
	tests := []struct {
		name      string
		rows, dim int
	}{
		{"one component", 5, 1},
		{"under one step", 4, 3},
		{"one step", 3, 4},
		{"steps and a tail", 7, 11},
		{"384 dims", 256, 384},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(tt.rows), uint64(tt.dim)))
			m := randomVector(rng, tt.rows*tt.dim)
			q := randomVector(rng, tt.dim)
			for name, kernel := range map[string]func(dst, m, q []float32, dim int) []float32{
				"go": matVecGo, "dispatch": matVec, "vek": vek32.MatMul_Into,
			} {
				dst := make([]float32, tt.rows+1)
				dst[tt.rows] = 42
				got := kernel(dst, m, q, tt.dim)
				require.Len(t, got, tt.rows, name)
				for r := range tt.rows {
					var want float64
					for j := range tt.dim {
						want += float64(m[r*tt.dim+j]) * float64(q[j])
					}
					assert.InDelta(t, want, got[r], 1e-5*max(1, math.Abs(want)), "%s: row %d", name, r)
				}
				assert.Equal(t, float32(42), dst[tt.rows], "%s wrote past the rows", name)
			}
		})
	}
}

// TestMatVecOverflow checks that both kernels turn a row whose products
// overflow with opposite signs into NaN, which Search ranks last.
func TestMatVecOverflow(t *testing.T) {
	m := make([]float32, 32)
	q := make([]float32, 32)
	m[0], m[1] = 1e38, 1e38
	q[0], q[1] = 1e38, -1e38
	for name, kernel := range map[string]func(dst, m, q []float32, dim int) []float32{"go": matVecGo, "dispatch": matVec} {
		got := kernel(make([]float32, 1), m, q, 32)
		assert.True(t, math.IsNaN(float64(got[0])), "%s: %v", name, got[0])
	}
}

// BenchmarkMatVecKernels scores 100k rows of 384 components in Search's
// blocks with each float32 kernel: vek's (AVX2 where it has it), the
// portable one used where vek has no SIMD, and the single-sum loop of vek's
// own fallback. On amd64 the last two stand in for arm64, where vek is
// pure Go.
func BenchmarkMatVecKernels(b *testing.B) {
	const rows, dim, block = 100_000, 384, 256
	rng := rand.New(rand.NewPCG(5, 5))
	m := uniformVectors(rng, 1, rows*dim)[0]
	q := randomVector(rng, dim)
	dst := make([]float32, block)
	kernels := []struct {
		name   string
		kernel func(dst, m, q []float32, dim int) []float32
	}{
		{"vek", vek32.MatMul_Into},
		{"go", matVecGo},
		{"single-sum", func(dst, m, q []float32, dim int) []float32 {
			for r := range len(m) / dim {
				var s float32
				for j, y := range q {
					s += m[r*dim+j] * y
				}
				dst[r] = s
			}
			return dst
		}},
	}
	for _, k := range kernels {
		b.Run(fmt.Sprintf("kernel=%s", k.name), func(b *testing.B) {
			b.SetBytes(rows * dim * 4)
			for b.Loop() {
				for start := 0; start < rows; start += block {
					end := min(start+block, rows)
					k.kernel(dst, m[start*dim:end*dim], q, dim)
				}
			}
		})
	}
}
