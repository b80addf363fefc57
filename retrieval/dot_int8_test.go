package retrieval

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// refDotsInt8 is the definition, in int64 so that it cannot overflow.
func refDotsInt8(rows int, codes []int8, query []int16, stride int) []int64 {
	out := make([]int64, rows)
	for r := range out {
		for j := range stride {
			out[r] += int64(codes[r*stride+j]) * int64(query[j])
		}
	}
	return out
}

func TestDotsInt8(t *testing.T) {
	tests := []struct {
		name         string
		rows, stride int
		// codes and query draw from these ranges; the extremes of int8 and
		// int16 are included where the sums still fit an int32.
		codeMin, codeMax   int
		queryMin, queryMax int
	}{
		{"one row, one step", 1, 32, -127, 127, -32767, 32767},
		{"two steps", 3, 64, -127, 127, -32767, 32767},
		{"384 dims", 257, 384, -127, 127, -32767, 32767},
		{"odd step count", 5, 96, -128, 127, -32768, 32767},
		{"all minimum", 4, 128, -128, -128, -32768, -32768},
		{"all maximum", 4, 128, 127, 127, 32767, 32767},
		{"long rows, small query", 7, 4096, -127, 127, -255, 255},
		{"zero query", 9, 64, -127, 127, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(tt.rows), uint64(tt.stride)))
			codes := make([]int8, tt.rows*tt.stride)
			for i := range codes {
				codes[i] = int8(tt.codeMin + rng.IntN(tt.codeMax-tt.codeMin+1))
			}
			query := make([]int16, tt.stride)
			for i := range query {
				query[i] = int16(tt.queryMin + rng.IntN(tt.queryMax-tt.queryMin+1))
			}
			want := refDotsInt8(tt.rows, codes, query, tt.stride)
			for _, w := range want {
				require.LessOrEqual(t, math.Abs(float64(w)), float64(math.MaxInt32), "test case overflows int32")
			}

			kernels := map[string]func([]int32, []int8, []int16, int){"go": dotsInt8Go, "dispatch": dotsInt8}
			if hasInt8Kernel {
				kernels["simd"] = dotsInt8SIMD
			}
			for name, kernel := range kernels {
				got := make([]int32, tt.rows+1)
				got[tt.rows] = 42 // past the rows asked for: must stay
				kernel(got[:tt.rows], codes, query, tt.stride)
				for r := range tt.rows {
					require.Equal(t, want[r], int64(got[r]), "%s: row %d", name, r)
				}
				assert.Equal(t, int32(42), got[tt.rows], "%s wrote past dst", name)
			}
		})
	}
}

// TestDotsInt8KernelsAgree holds the SIMD kernel against the portable one
// on random shapes and values, overflowing ones included: int32 arithmetic
// wraps the same way in both, whatever the order of the additions.
func TestDotsInt8KernelsAgree(t *testing.T) {
	if !hasInt8Kernel {
		t.Skip("no SIMD int8 kernel on this platform")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		rows, stride := 1+rng.IntN(40), int8Align*(1+rng.IntN(40))
		codes := make([]int8, rows*stride)
		for i := range codes {
			codes[i] = int8(rng.Uint32())
		}
		query := make([]int16, stride)
		for i := range query {
			query[i] = int16(rng.Uint32())
		}
		want, got := make([]int32, rows), make([]int32, rows)
		dotsInt8Go(want, codes, query, stride)
		dotsInt8SIMD(got, codes, query, stride)
		require.Equal(t, want, got, "rows=%d stride=%d", rows, stride)
	}
}

func TestDotsInt8BadShape(t *testing.T) {
	tests := []struct {
		name   string
		dst    []int32
		codes  []int8
		query  []int16
		stride int
	}{
		{"stride not aligned", make([]int32, 1), make([]int8, 48), make([]int16, 48), 48},
		{"zero stride", make([]int32, 1), nil, nil, 0},
		{"short query", make([]int32, 1), make([]int8, 32), make([]int16, 31), 32},
		{"short codes", make([]int32, 2), make([]int8, 63), make([]int16, 32), 32},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Panics(t, func() { dotsInt8(tt.dst, tt.codes, tt.query, tt.stride) })
		})
	}
	assert.NotPanics(t, func() { dotsInt8(nil, nil, nil, 0) }, "no rows, nothing to check")
}

// BenchmarkDotsInt8 measures the kernels alone over 100k rows of 384 codes,
// the quantized scan's inner loop without its heap and filter.
func BenchmarkDotsInt8(b *testing.B) {
	const rows, stride = 100_000, 384
	rng := rand.New(rand.NewPCG(3, 3))
	codes := make([]int8, rows*stride)
	for i := range codes {
		codes[i] = int8(rng.IntN(255) - 127)
	}
	query := make([]int16, stride)
	for i := range query {
		query[i] = int16(rng.IntN(65535) - 32767)
	}
	dst := make([]int32, 256)
	kernels := []struct {
		name   string
		kernel func([]int32, []int8, []int16, int)
	}{{"go", dotsInt8Go}}
	if hasInt8Kernel {
		kernels = append(kernels, struct {
			name   string
			kernel func([]int32, []int8, []int16, int)
		}{"simd", dotsInt8SIMD})
	}
	for _, k := range kernels {
		b.Run(fmt.Sprintf("kernel=%s", k.name), func(b *testing.B) {
			b.SetBytes(rows * stride)
			for b.Loop() {
				for start := 0; start < rows; start += len(dst) {
					n := min(len(dst), rows-start)
					k.kernel(dst[:n], codes[start*stride:], query, stride)
				}
			}
		})
	}
}
