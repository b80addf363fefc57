package retrieval

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQuantizeVector(t *testing.T) {
	tests := []struct {
		name      string
		v         []float32
		wantCodes []int8
		wantScale float32
	}{
		{"largest component maps to 127", []float32{1, -0.5, 0.25, 0}, []int8{127, -64, 32, 0}, 1.0 / 127},
		{"negative extreme", []float32{-2, 1}, []int8{-127, 64}, 2.0 / 127},
		{"zero vector", []float32{0, 0, 0}, []int8{0, 0, 0}, 0},
		{"huge components", []float32{3e38, -3e38}, []int8{127, -127}, 3e38 / 127},
		{"subnormal components", []float32{1e-45, -1e-45}, []int8{127, -127}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := make([]int8, len(tt.v)+5)
			for i := range dst {
				dst[i] = 99 // stale content must go
			}
			scale := quantizeVector(dst, tt.v)
			assert.Equal(t, tt.wantCodes, dst[:len(tt.v)])
			assert.Equal(t, make([]int8, 5), dst[len(tt.v):], "padding is zero")
			assert.InDelta(t, tt.wantScale, scale, float64(tt.wantScale)*1e-6)
		})
	}
}

// TestQuantizeVectorError checks the error bound that recall rests on: every
// component within half a step of its code.
func TestQuantizeVectorError(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for range 100 {
		v := gaussianVector(rng, 384)
		codes := make([]int8, 384)
		scale := quantizeVector(codes, v)
		for j, x := range v {
			require.InDelta(t, x, scale*float32(codes[j]), float64(scale)*0.5001)
		}
	}
}

func TestQuantizeQuery(t *testing.T) {
	tests := []struct {
		name   string
		q      []float32
		stride int
		want   []int16
	}{
		{"full int16 range", []float32{1, -0.5, 0}, 32, []int16{32767, -16384, 0}},
		{"zero query", []float32{0, 0}, 32, []int16{0, 0}},
		// 127·65536·258 < 2^31 <= 127·65536·259
		{"long rows narrow the range", []float32{-1, 0.5}, 65536, []int16{-258, 129}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := make([]int16, tt.stride)
			dst[tt.stride-1] = 7
			quantizeQuery(dst, tt.q)
			assert.Equal(t, tt.want, dst[:len(tt.q)])
			assert.Zero(t, dst[tt.stride-1], "padding is zero")
		})
	}
}

func TestQueryCodeMaxCannotOverflow(t *testing.T) {
	for _, stride := range []int{32, 384, 1024, 4096, MaxDimension} {
		worst := int64(maxCode) * int64(queryCodeMax(stride)) * int64(stride)
		assert.LessOrEqual(t, worst, int64(math.MaxInt32), "stride %d", stride)
		assert.Positive(t, queryCodeMax(stride))
	}
}
