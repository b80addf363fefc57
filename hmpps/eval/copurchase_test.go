package eval

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTuneCoPurchaseRanksAsTheMethod checks the sweep's shortcut: every
// setting's ranks are those EvaluateCatalog gives CoPurchase with it, and
// weight 0 is BM25's ranking.
func TestTuneCoPurchaseRanksAsTheMethod(t *testing.T) {
	ctx := context.Background()
	d := leakyDataset()
	s, err := BuildLeaveOneOut(d, LeaveOneOutConfig{MaxHistory: 3})
	require.NoError(t, err)
	catalog, tasks, train := Catalog(d), s.Tasks(Validation), s.TrainingSequences()
	bm25 := NewBM25(d.Products)
	grid := CoPurchaseGrid{Windows: []int{1, -1}, Decays: []float64{0, 1}, Normalizations: []string{"raw", "conditional", "cosine", "pmi", "idf"},
		Recents: []int{0, 2}, Weights: []float64{0, 0.3, 1, 5}}
	opts := Options{Depth: 20, BootstrapSamples: 1}
	res, err := TuneCoPurchase(ctx, bm25, catalog, tasks, train, grid, opts)
	require.NoError(t, err)
	require.Len(t, res, 2*2*5*2*4)
	assert.True(t, slices.IsSortedFunc(res, func(a, b CoPurchaseResult) int {
		return -cmpFloat(a.NDCG10, b.NDCG10)
	}), "best first")

	base, err := EvaluateCatalog(ctx, catalog, tasks, []Method{bm25}, opts)
	require.NoError(t, err)
	changed := 0
	for _, r := range res {
		m, err := NewCoPurchase(bm25, train, r.Params)
		require.NoError(t, err)
		rep, err := EvaluateCatalog(ctx, catalog, tasks, []Method{m}, opts)
		require.NoError(t, err)
		require.Equal(t, rep.Methods[0].Ranks, r.Ranks, r.Params.String())
		if r.Params.Weight == 0 {
			assert.Equal(t, base.Methods[0].Ranks, r.Ranks, r.Params.String())
		} else if !slices.Equal(base.Methods[0].Ranks, r.Ranks) {
			changed++
		}
	}
	assert.Positive(t, changed, "co-purchases change some rankings, so the comparison means something")
	assert.Greater(t, res[0].NDCG10, NDCG10.Mean(base.Methods[0].Ranks), "the users of this data buy within their category")
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestCoPurchaseParams(t *testing.T) {
	bm25 := NewBM25(tinyDataset().Products)
	for _, p := range []CoPurchaseParams{
		{Normalization: "lift"}, {Weight: -1}, {Weight: math.NaN()}, {Weight: math.Inf(1)}, {Recent: -1},
	} {
		_, err := NewCoPurchase(bm25, nil, p)
		assert.Error(t, err, "%+v", p)
	}
	m, err := NewCoPurchase(bm25, [][]string{{"a0", "a1"}}, CoPurchaseParams{Weight: 1})
	require.NoError(t, err)
	assert.Equal(t, "bm25 + co-purchase", m.Name())
	assert.Equal(t, 3, m.Table().Options().Window, "the default window")
	assert.Equal(t, "window 0, decay 0, raw, last all purchases, weight 1", m.Params().String())
	assert.Equal(t, "window all, decay 1, cosine, last 5 purchases, weight 0.5",
		CoPurchaseParams{Window: -1, Decay: 1, Normalization: "cosine", Recent: 5, Weight: 0.5}.String())

	// a1 was bought after a0: with a0 in the history, a1 ranks first for a
	// query that matches the whole category alike.
	sc, err := m.Score(context.Background(), Task{Query: "dept", History: []string{"a0"}, Candidates: []string{"a2", "a1", "a3"}})
	require.NoError(t, err)
	assert.Greater(t, sc.Scores[1], sc.Scores[0])
	assert.Equal(t, sc.Scores[0], sc.Scores[2])

	_, err = SweepBlend(context.Background(), []string{"a0"}, []Task{{Query: "q", Target: "a0"}}, bm25,
		[]Boost{{Name: "bad", Scores: func(context.Context, Task) (map[string]float64, error) { return map[string]float64{"a0": -1}, nil }}},
		[]float64{1}, Options{})
	assert.ErrorIs(t, err, ErrInvalidScores)
}
