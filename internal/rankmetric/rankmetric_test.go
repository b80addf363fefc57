package rankmetric

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRank(t *testing.T) {
	tests := []struct {
		name   string
		scores []float64
		target int
		want   int
	}{
		{"first", []float64{3, 2, 1}, 0, 1},
		{"last", []float64{3, 2, 1}, 2, 3},
		{"ties count against the target", []float64{1, 1, 1}, 0, 3},
		{"one item", []float64{0}, 0, 1},
		{"ties against the positive", []float64{3, 1, 2}, 0, 1},
		{"all tied", []float64{2, 2, 2}, 1, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Rank(tt.scores, tt.target))
		})
	}
}

func TestMetrics(t *testing.T) {
	assert.Equal(t, 1.0, NDCG(1, 10))
	assert.InDelta(t, 1/math.Log2(3), NDCG(2, 10), 1e-15)
	assert.Zero(t, NDCG(11, 10))
	assert.Zero(t, NDCG(0, 10), "a miss")
	assert.Equal(t, 1.0, HitRate(10, 10))
	assert.Zero(t, HitRate(11, 10))
	assert.Zero(t, HitRate(0, 10))
	assert.Equal(t, 0.25, ReciprocalRank(4))
	assert.Zero(t, ReciprocalRank(0))
}
