package eval

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBootstrap(t *testing.T) {
	ranks := []int{1, 2, 3, 20, 1, 8, 150, 1, 4, 11}
	s := Bootstrap(ranks, 2000, 7)
	require.Len(t, s, len(AllMetrics()))
	for _, m := range AllMetrics() {
		e := s[m]
		assert.InDelta(t, m.Mean(ranks), e.Mean, 1e-12, m.String())
		assert.LessOrEqual(t, e.Low, e.Mean, m.String())
		assert.GreaterOrEqual(t, e.High, e.Mean, m.String())
		assert.Less(t, e.Low, e.High, m.String())
	}
	// HR@10 is 0.7 over 10 users: the interval is wide, about ±0.3.
	assert.InDelta(t, 0.4, s[HR10].Low, 0.11)
	assert.InDelta(t, 1.0, s[HR10].High, 0.11)

	// The same seed gives the same interval; a constant metric a zero-width
	// one.
	assert.Equal(t, s, Bootstrap(ranks, 2000, 7))
	c := Bootstrap([]int{1, 1, 1}, 0, 1)
	assert.Equal(t, Estimate{1, 1, 1}, c[HR1])
	assert.True(t, math.IsNaN(Bootstrap(nil, 10, 1)[MRR].Mean))
}

func TestCompare(t *testing.T) {
	a := []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 20, 3}
	b := []int{2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 3}
	c, err := Compare(a, b, HR1, 1000, 3)
	require.NoError(t, err)
	assert.Equal(t, 9, c.Wins)
	assert.Equal(t, 1, c.Losses)
	assert.Equal(t, 1, c.Ties)
	assert.InDelta(t, 8.0/11, c.Diff.Mean, 1e-12)
	assert.Greater(t, c.Diff.Low, 0.0)
	// Exact: 2 * (C(10,0) + C(10,1)) / 2^10.
	assert.InDelta(t, 22.0/1024, c.SignP, 1e-12)

	same, err := Compare(a, a, NDCG10, 100, 1)
	require.NoError(t, err)
	assert.Equal(t, Comparison{Metric: NDCG10, Ties: len(a), SignP: 1}, same)

	_, err = Compare(a, b[:3], HR1, 10, 1)
	assert.ErrorIs(t, err, ErrInvalidScores)
}

func TestSignTest(t *testing.T) {
	tests := []struct {
		wins, losses int
		want         float64
	}{
		{0, 0, 1},
		{5, 5, 1},
		{10, 0, 2.0 / 1024},
		{0, 10, 2.0 / 1024},
		{6, 4, 2 * (1 + 10 + 45 + 120 + 210) / 1024.0},
	}
	for _, tt := range tests {
		assert.InDelta(t, tt.want, signTest(tt.wins, tt.losses), 1e-12, "%d/%d", tt.wins, tt.losses)
	}
	assert.Less(t, signTest(300, 100), 1e-20)
}
