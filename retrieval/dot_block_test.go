package retrieval

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// blockCodes lays rows (dim codes each) out in blocks, as the index does.
func blockCodes(rows [][]int8, dim int) []int8 {
	size := blockBytes(dim)
	blocks := (len(rows) + codeBlockRows - 1) / codeBlockRows
	out := make([]int8, blocks*size)
	for r, row := range rows {
		block := out[r/codeBlockRows*size:]
		for j, c := range row {
			block[codeOffset(r%codeBlockRows, j)] = c
		}
	}
	return out
}

// refDots is the definition, in int64 so that it cannot overflow.
func refDots(rows [][]int8, query []int16) []int64 {
	out := make([]int64, len(rows))
	for r, row := range rows {
		for j, c := range row {
			out[r] += int64(c) * int64(query[j])
		}
	}
	return out
}

func TestDotsBlocks(t *testing.T) {
	tests := []struct {
		name      string
		rows, dim int
		// codes and query draw from these ranges; the extremes of int8 and
		// int16 are included where the sums still fit an int32.
		codeMin, codeMax   int
		queryMin, queryMax int
		// zeros is the share of query dimensions set to zero.
		zeros float64
	}{
		{"one block, one pair", 64, 2, -127, 127, -32767, 32767, 0},
		{"odd dimension", 64, 7, -127, 127, -32767, 32767, 0},
		{"384 dims", 320, 384, -127, 127, -32767, 32767, 0},
		{"384 dims, sparse query", 320, 384, -127, 127, -32767, 32767, 0.85},
		{"partial last block", 100, 33, -128, 127, -32768, 32767, 0.3},
		{"all minimum", 64, 128, -128, -128, -32768, -32768, 0},
		{"all maximum", 128, 128, 127, 127, 32767, 32767, 0},
		{"long rows, small query", 64, 4096, -127, 127, -255, 255, 0},
		{"zero query", 64, 64, -127, 127, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(tt.rows), uint64(tt.dim)))
			rows := make([][]int8, tt.rows)
			for r := range rows {
				rows[r] = make([]int8, tt.dim)
				for j := range rows[r] {
					rows[r][j] = int8(tt.codeMin + rng.IntN(tt.codeMax-tt.codeMin+1))
				}
			}
			query := make([]int16, tt.dim)
			for j := range query {
				if rng.Float64() >= tt.zeros {
					query[j] = int16(tt.queryMin + rng.IntN(tt.queryMax-tt.queryMin+1))
				}
			}
			want := refDots(rows, query)
			for _, w := range want {
				require.LessOrEqual(t, math.Abs(float64(w)), float64(math.MaxInt32), "test case overflows int32")
			}
			codes := blockCodes(rows, tt.dim)
			var qp queryPairs
			qp.set(query)
			blocks := (tt.rows + codeBlockRows - 1) / codeBlockRows

			kernels := map[string]func([]int32, []int8, int, *queryPairs){
				"go":       func(d []int32, c []int8, s int, qp *queryPairs) { dotsBlocksGo(d, c, s, qp.offsets, qp.codes) },
				"dispatch": dotsBlocks,
			}
			if hasInt8Kernel {
				kernels["simd"] = func(d []int32, c []int8, s int, qp *queryPairs) { dotsBlocksSIMD(d, c, s, qp.offsets, qp.codes) }
			}
			for name, kernel := range kernels {
				got := make([]int32, blocks*codeBlockRows+1)
				got[len(got)-1] = 12345 // a guard past the end
				kernel(got[:blocks*codeBlockRows], codes, blockBytes(tt.dim), &qp)
				for r, w := range want {
					require.Equal(t, w, int64(got[r]), "%s: row %d", name, r)
				}
				for r := tt.rows; r < blocks*codeBlockRows; r++ {
					require.Zero(t, got[r], "%s: padding row %d", name, r)
				}
				require.Equal(t, int32(12345), got[len(got)-1], "%s wrote past dst", name)
			}
		})
	}
}

// TestQueryPairsSkipZeros checks that only the columns with a code that is
// not zero are listed, two by two, with both codes packed as VPMADDWD reads
// them, and an odd last one paired with the first and a zero code.
func TestQueryPairsSkipZeros(t *testing.T) {
	var qp queryPairs
	qp.set([]int16{0, 0, 3, 0, 0, -2, 0, 0, 7})
	const c = codeBlockRows
	assert.Equal(t, []int32{2 * c, 5 * c, 8 * c, 2 * c}, qp.offsets)
	assert.Equal(t, []uint32{3 | uint32(uint16(0xfffe))<<16, 7}, qp.codes)
	qp.set(make([]int16, 10))
	assert.Empty(t, qp.offsets)
	assert.Empty(t, qp.codes)
}

func TestDotsBlocksKernelsAgree(t *testing.T) {
	if !hasInt8Kernel {
		t.Skip("no SIMD kernel on this machine")
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 300 {
		blocks, dim := 1+rng.IntN(4), 1+rng.IntN(300)
		size := blockBytes(dim)
		codes := make([]int8, blocks*size)
		for i := range codes {
			codes[i] = int8(rng.Uint32())
		}
		query := make([]int16, dim)
		for i := range query {
			if rng.IntN(3) > 0 {
				query[i] = int16(rng.IntN(2*255+1) - 255)
			}
		}
		var qp queryPairs
		qp.set(query)
		want := make([]int32, blocks*codeBlockRows)
		got := make([]int32, blocks*codeBlockRows)
		dotsBlocksGo(want, codes, size, qp.offsets, qp.codes)
		dotsBlocksSIMD(got, codes, size, qp.offsets, qp.codes)
		require.Equal(t, want, got, "blocks=%d dim=%d", blocks, dim)
	}
}

func TestDotsBlocksBadShape(t *testing.T) {
	const rows = codeBlockRows
	good := queryPairs{offsets: []int32{0, rows}, codes: []uint32{1}}
	tests := []struct {
		name  string
		dst   []int32
		codes []int8
		size  int
		qp    queryPairs
	}{
		{"rows not a whole block", make([]int32, rows+1), make([]int8, 4*rows), 2 * rows, good},
		{"size not whole columns", make([]int32, rows), make([]int8, 4*rows), 2*rows + 1, good},
		{"short codes", make([]int32, 2*rows), make([]int8, 4*rows-1), 2 * rows, good},
		{"column past the block", make([]int32, rows), make([]int8, 4*rows), 2 * rows, queryPairs{offsets: []int32{0, 2 * rows}, codes: []uint32{1}}},
		{"column off its boundary", make([]int32, rows), make([]int8, 4*rows), 2 * rows, queryPairs{offsets: []int32{0, 2}, codes: []uint32{1}}},
		{"codes without offsets", make([]int32, rows), make([]int8, 4*rows), 2 * rows, queryPairs{codes: []uint32{1}}},
		{"half a pair", make([]int32, rows), make([]int8, 4*rows), 2 * rows, queryPairs{offsets: []int32{0}, codes: []uint32{1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Panics(t, func() { dotsBlocks(tt.dst, tt.codes, tt.size, &tt.qp) })
		})
	}
	assert.NotPanics(t, func() { dotsBlocks(nil, nil, 0, &queryPairs{}) }, "no rows, nothing to check")
}

// TestUpperBoundsKernelsAgree holds the SIMD bounds to the portable ones
// bit for bit, and both to the float64 bound they stand for.
func TestUpperBoundsKernelsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for round := range 200 {
		n := 64 * (1 + rng.IntN(4))
		dots := make([]int32, n)
		scales := make([]float32, n)
		for i := range dots {
			dots[i] = int32(rng.Int64N(1<<32) - 1<<31)
			scales[i] = float32(math.Ldexp(rng.Float64(), -rng.IntN(140)))
			if rng.IntN(20) == 0 {
				scales[i] = 0
			}
		}
		t32 := float32(math.Ldexp(rng.Float64(), -rng.IntN(30)))
		radius := float32(rng.Float64() * 4)
		floor := float32(rng.NormFloat64() * math.Ldexp(1, -rng.IntN(20)))
		if round%10 == 0 {
			floor = float32(math.Inf(-1))
		}
		want := make([]uint64, n/64)
		upperBoundsGo(want, dots, scales, t32, radius, floor)
		for r := range dots {
			exact := float64(scales[r]) * (float64(dots[r])*float64(t32) + float64(radius))
			if exact >= float64(floor) {
				require.NotZero(t, want[r/64]&(1<<(r%64)), "row %d: bound %v reaches floor %v", r, exact, floor)
			}
			lo := float64(scales[r]) * (float64(dots[r])*float64(t32) - float64(radius))
			require.LessOrEqual(t, float64(lowerBound(dots[r], scales[r], t32, radius)), lo, "row %d", r)
			require.GreaterOrEqual(t, float64(upperBound(dots[r], scales[r], t32, radius)), exact, "row %d", r)
		}
		if hasInt8Kernel {
			got := make([]uint64, n/64)
			upperBoundsSIMD(got, dots, scales, t32, radius, floor)
			require.Equal(t, want, got, "round %d", round)
		}
	}
}

// BenchmarkDotsBlocks measures the kernels alone over about 100k rows of
// 384 codes, with a dense query and with one as sparse as a few words
// embedded by HashingEmbedder (48 of 384 dimensions).
func BenchmarkDotsBlocks(b *testing.B) {
	const rows, dim = 100_000 / codeBlockRows * codeBlockRows, 384
	rng := rand.New(rand.NewPCG(1, 2))
	size := blockBytes(dim)
	codes := make([]int8, rows/codeBlockRows*size)
	for i := range codes {
		codes[i] = int8(rng.IntN(255) - 127)
	}
	kernels := []struct {
		name   string
		kernel func([]int32, []int8, int, []int32, []uint32)
	}{{"go", dotsBlocksGo}}
	if hasInt8Kernel {
		kernels = append(kernels, struct {
			name   string
			kernel func([]int32, []int8, int, []int32, []uint32)
		}{"simd", dotsBlocksSIMD})
	}
	for _, nonzero := range []int{dim, 48} {
		query := make([]int16, dim)
		for _, j := range rng.Perm(dim)[:nonzero] {
			query[j] = int16(rng.IntN(2*32767+1) - 32767)
		}
		var qp queryPairs
		qp.set(query)
		for _, k := range kernels {
			b.Run(fmt.Sprintf("kernel=%s/nonzero=%d", k.name, nonzero), func(b *testing.B) {
				dst := make([]int32, 16*codeBlockRows)
				b.SetBytes(int64(rows * dim))
				for b.Loop() {
					for start := 0; start < rows; start += len(dst) {
						n := min(len(dst), rows-start)
						k.kernel(dst[:n], codes[start/codeBlockRows*size:], size, qp.offsets, qp.codes)
					}
				}
			})
		}
	}
}
