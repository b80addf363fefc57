package eval

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRank(t *testing.T) {
	tests := []struct {
		name   string
		scores []float64
		target int
		want   int
	}{
		{"best", []float64{0.9, 0.5, 0.1}, 0, 1},
		{"middle", []float64{0.9, 0.5, 0.1}, 1, 2},
		{"last", []float64{0.9, 0.5, 0.1}, 2, 3},
		{"tie with one above: after it", []float64{0.5, 0.5, 0.1}, 0, 2},
		{"tie counted whichever comes first", []float64{0.5, 0.5, 0.1}, 1, 2},
		{"all equal: last", []float64{1, 1, 1, 1}, 2, 4},
		{"tie below the top", []float64{0.9, 0.3, 0.3, 0.3, 0.1}, 3, 4},
		{"negative scores", []float64{-1, -2, -0.5}, 0, 2},
		{"infinities", []float64{math.Inf(1), 0, math.Inf(-1)}, 2, 3},
		{"single", []float64{0}, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Rank(tt.scores, tt.target)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestRankErrors(t *testing.T) {
	for _, tc := range []struct {
		scores []float64
		target int
	}{{[]float64{1, math.NaN()}, 0}, {[]float64{1}, 1}, {[]float64{1}, -1}, {nil, 0}} {
		_, err := Rank(tc.scores, tc.target)
		assert.ErrorIs(t, err, ErrInvalidScores, "%v %d", tc.scores, tc.target)
	}
}

func TestMetricValues(t *testing.T) {
	// Hand-computed: NDCG of one relevant item at rank r is 1/log2(r+1).
	tests := []struct {
		rank                              int
		hr1, hr5, hr10, ndcg5, ndcg10, rr float64
	}{
		{1, 1, 1, 1, 1, 1, 1},
		{2, 0, 1, 1, 0.6309297535714575, 0.6309297535714575, 0.5},
		{3, 0, 1, 1, 0.5, 0.5, 1.0 / 3},
		{5, 0, 1, 1, 0.38685280723454163, 0.38685280723454163, 0.2},
		{6, 0, 0, 1, 0, 0.35620718710802218, 1.0 / 6},
		{10, 0, 0, 1, 0, 0.28906482631788782, 0.1},
		{11, 0, 0, 0, 0, 0, 1.0 / 11},
		{100, 0, 0, 0, 0, 0, 0.01},
	}
	for _, tt := range tests {
		want := map[Metric]float64{HR1: tt.hr1, HR5: tt.hr5, HR10: tt.hr10, NDCG5: tt.ndcg5, NDCG10: tt.ndcg10, MRR: tt.rr}
		for m, w := range want {
			assert.InDelta(t, w, m.Value(tt.rank), 1e-12, "%s at rank %d", m, tt.rank)
		}
	}
	assert.Equal(t, 0.0, NDCG(0, 10))
	assert.Equal(t, 0.0, HitRate(0, 10))
	assert.Equal(t, 0.0, ReciprocalRank(0))
}

func TestMetricMeanWithTies(t *testing.T) {
	// Three users. User 1's target ties with one other candidate at the
	// top: pessimistic rank 2. User 2's target is alone at the top. User 3's
	// method scored every one of 4 candidates alike: rank 4.
	var ranks []int
	for _, c := range []struct {
		scores []float64
		target int
	}{
		{[]float64{0.7, 0.7, 0.1}, 0},
		{[]float64{0.2, 0.9, 0.1}, 1},
		{[]float64{0, 0, 0, 0}, 3},
	} {
		r, err := Rank(c.scores, c.target)
		require.NoError(t, err)
		ranks = append(ranks, r)
	}
	assert.Equal(t, []int{2, 1, 4}, ranks)
	assert.InDelta(t, 1.0/3, HR1.Mean(ranks), 1e-12)
	assert.InDelta(t, 1.0, HR5.Mean(ranks), 1e-12)
	// (1/log2(3) + 1 + 1/log2(5)) / 3
	assert.InDelta(t, (0.6309297535714575+1+0.43067655807339306)/3, NDCG10.Mean(ranks), 1e-12)
	assert.InDelta(t, (0.5+1+0.25)/3, MRR.Mean(ranks), 1e-12)
	assert.True(t, math.IsNaN(MRR.Mean(nil)))
}

func TestMetricText(t *testing.T) {
	for _, m := range AllMetrics() {
		b, err := m.MarshalText()
		require.NoError(t, err)
		var back Metric
		require.NoError(t, back.UnmarshalText(b))
		assert.Equal(t, m, back)
	}
	assert.Equal(t, "NDCG@10", NDCG10.String())
	assert.Equal(t, "Metric(99)", Metric(99).String())
	_, err := Metric(99).MarshalText()
	assert.Error(t, err)
	var m Metric
	assert.Error(t, m.UnmarshalText([]byte("HR@3")))
	assert.True(t, math.IsNaN(Metric(99).Value(1)))
}
