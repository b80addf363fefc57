package ltr

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"hmpps/internal/rankmetric"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// randomList returns a list of c candidates and h history items with
// features drawn from rng.
func randomList(rng *rand.Rand, d Dims, c, h int) List {
	l := List{C: c, H: h, Positive: rng.IntN(c)}
	fill := func(n int) []float64 {
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = rng.NormFloat64()
		}
		return xs
	}
	l.Cand, l.Hist, l.Pair = fill(c*d.Cand), fill(h*d.Hist), fill(c*h*d.Pair)
	return l
}

func randomWeights(rng *rand.Rand, d Dims) Weights {
	w := NewWeights(d)
	for _, g := range w.groups() {
		for i := range g {
			g[i] = rng.NormFloat64() * 0.7
		}
	}
	return w
}

// TestLossGradMatchesFiniteDifferences checks every component of the
// analytic gradient, the attention's included, against central differences.
func TestLossGradMatchesFiniteDifferences(t *testing.T) {
	tests := []struct {
		name string
		d    Dims
		c, h int
	}{
		{"all kinds", Dims{Cand: 3, Hist: 2, Pair: 2}, 5, 4},
		{"no history", Dims{Cand: 2, Hist: 2, Pair: 1}, 4, 0},
		{"one history item", Dims{Cand: 1, Hist: 3, Pair: 2}, 3, 1},
		{"no pair features", Dims{Cand: 2, Hist: 1}, 3, 2},
		{"hidden units", Dims{Cand: 3, Hist: 2, Pair: 2, Units: 4}, 5, 4},
		{"hidden units, no history", Dims{Cand: 2, Hist: 2, Pair: 2, Units: 3}, 4, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			l := randomList(rng, tt.d, tt.c, tt.h)
			require.NoError(t, l.Check(tt.d))
			w := randomWeights(rng, tt.d)
			grad := NewWeights(tt.d)
			LossGrad(w, &l, &grad, nil)
			const eps = 1e-6
			scratchGrad := NewWeights(tt.d)
			for gi, g := range w.groups() {
				for j := range g {
					orig := g[j]
					g[j] = orig + eps
					up := LossGrad(w, &l, &scratchGrad, nil)
					g[j] = orig - eps
					down := LossGrad(w, &l, &scratchGrad, nil)
					g[j] = orig
					numeric := (up - down) / (2 * eps)
					assert.InDelta(t, numeric, grad.groups()[gi][j], 1e-6, "group %d weight %d", gi, j)
				}
			}
		})
	}
}

// TestTrainLearnsKnownAnswer builds lists where the positive is the
// candidate most similar to the one history item flagged by its stage-one
// feature, the other history items being noise: only a model that learns
// to attend to the flagged item and to weigh that similarity ranks well.
func TestTrainLearnsKnownAnswer(t *testing.T) {
	d := Dims{Cand: 1, Hist: 1, Pair: 1}
	rng := rand.New(rand.NewPCG(3, 4))
	gen := func(n int) []List {
		lists := make([]List, n)
		for i := range lists {
			const c, h = 10, 5
			l := List{C: c, H: h, Cand: make([]float64, c), Hist: make([]float64, h), Pair: make([]float64, c*h)}
			flagged := rng.IntN(h)
			l.Hist[flagged] = 1
			for j := range l.Cand {
				l.Cand[j] = rng.NormFloat64() // noise the ranker must learn to ignore
			}
			for j := range l.Pair {
				l.Pair[j] = rng.NormFloat64()
			}
			best := 0
			for cc := range c {
				if l.Pair[cc*h+flagged] > l.Pair[best*h+flagged] {
					best = cc
				}
			}
			l.Positive = best
			lists[i] = l
		}
		return lists
	}
	train, val := gen(400), gen(100)
	ndcg := func(w Weights) float64 {
		var sum float64
		for i := range val {
			a := w.Attention(&val[i], nil)
			sum += rankmetric.NDCG(rankmetric.Rank(w.Score(&val[i], a, nil), val[i].Positive), 10)
		}
		return sum / float64(len(val))
	}
	before := ndcg(NewWeights(d))
	res, err := Train(context.Background(), d, train, Options{Epochs: 40, Seed: 1, Validate: ndcg})
	require.NoError(t, err)
	first, best := res.Curve[0], res.Curve[res.Best]
	assert.Less(t, best.Loss, first.Loss, "training lowers the loss")
	assert.Greater(t, res.Weights.Attn[0], 1.0, "attends to the flagged item")
	assert.Greater(t, res.Weights.Pair[0], 1.0, "weighs the similarity to it")
	assert.Less(t, math.Abs(res.Weights.Cand[0]), 0.5, "ignores the noise feature")
	assert.Greater(t, best.Validation, 0.9)
	assert.Greater(t, best.Validation, before+0.3)

	frozen, err := Train(context.Background(), d, train, Options{Epochs: 40, Seed: 1, Validate: ndcg, FreezeAttention: true})
	require.NoError(t, err)
	assert.Zero(t, frozen.Weights.Attn[0], "a frozen stage one stays uniform")
	assert.Less(t, frozen.Curve[frozen.Best].Validation, best.Validation-0.1, "and ranks worse here")
}

func TestTrainRejectsBadInput(t *testing.T) {
	d := Dims{Cand: 1}
	ctx := context.Background()
	tests := []struct {
		name  string
		lists []List
	}{
		{"no lists", nil},
		{"no positive", []List{{C: 2, Cand: []float64{1, 2}, Positive: -1}}},
		{"positive out of range", []List{{C: 2, Cand: []float64{1, 2}, Positive: 2}}},
		{"short features", []List{{C: 2, Cand: []float64{1}}}},
		{"NaN feature", []List{{C: 2, Cand: []float64{1, math.NaN()}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Train(ctx, d, tt.lists, Options{})
			assert.ErrorIs(t, err, ErrInvalidList)
		})
	}
}

func TestScalerStandardizes(t *testing.T) {
	d := Dims{Cand: 2, Hist: 1, Pair: 1}
	lists := []List{
		{C: 2, H: 1, Cand: []float64{1, 5, 3, 5}, Hist: []float64{2}, Pair: []float64{1, 3}},
		{C: 1, H: 1, Cand: []float64{5, 5}, Hist: []float64{4}, Pair: []float64{5}},
	}
	s := FitScaler(d, lists)
	assert.Equal(t, []float64{3, 5}, s.CandMean)
	assert.InDeltaSlice(t, []float64{math.Sqrt(8.0 / 3), 1}, s.CandStd, 1e-12, "a constant feature keeps unit scale")
	assert.Equal(t, []float64{3}, s.HistMean)
	assert.Equal(t, []float64{3}, s.PairMean)
	s.Apply(&lists[0])
	assert.InDelta(t, -2/math.Sqrt(8.0/3), lists[0].Cand[0], 1e-12)
	assert.Zero(t, lists[0].Cand[1])
	assert.Equal(t, []float64{-1}, lists[0].Hist)
}
