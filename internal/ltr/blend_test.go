package ltr

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// blendLists makes lists of c candidates with a base score that points at
// the positive weakly, and a second signal that points at it with strength
// signal (0: noise).
func blendLists(n, c int, signal float64, seed uint64) []BlendList {
	rng := rand.New(rand.NewPCG(seed, 1))
	lists := make([]BlendList, n)
	for i := range lists {
		l := BlendList{C: c, Positive: rng.IntN(c)}
		for j := range c {
			base, extra := rng.NormFloat64(), rng.NormFloat64()
			if j == l.Positive {
				base += 0.5
				extra += signal
			}
			l.X = append(l.X, base, extra)
		}
		lists[i] = l
	}
	return lists
}

func TestFitBlend(t *testing.T) {
	informative, _, err := FitBlend(blendLists(400, 8, 2, 1), 2, BlendOptions{L2: 0.01})
	require.NoError(t, err)
	noise, _, err := FitBlend(blendLists(400, 8, 0, 1), 2, BlendOptions{L2: 0.01})
	require.NoError(t, err)
	t.Logf("informative %v, noise %v", informative, noise)
	assert.Greater(t, informative[1], 1.0)
	assert.Less(t, math.Abs(noise[1]), 0.15)
	assert.Greater(t, noise[0], 0.2, "the base score keeps its weight")
}

func TestFitBlendIsTheMinimum(t *testing.T) {
	lists := blendLists(200, 5, 1, 2)
	w, loss, err := FitBlend(lists, 2, BlendOptions{L2: 0.1})
	require.NoError(t, err)
	assert.InDelta(t, blendLoss(lists, w, 2, 0.1), loss, 1e-12)
	for _, d := range [][]float64{{1e-3, 0}, {-1e-3, 0}, {0, 1e-3}, {0, -1e-3}} {
		assert.Less(t, loss, blendLoss(lists, []float64{w[0] + d[0], w[1] + d[1]}, 2, 0.1), "a step %v away is worse", d)
	}
	// The gradient vanishes there, and matches finite differences elsewhere.
	_, grad, _ := blendObjective(lists, w, 2, 0.1)
	assert.InDelta(t, 0, grad[0], 1e-6)
	assert.InDelta(t, 0, grad[1], 1e-6)
	at := []float64{0.3, -0.2}
	_, grad, _ = blendObjective(lists, at, 2, 0.1)
	for k := range 2 {
		up, down := append([]float64(nil), at...), append([]float64(nil), at...)
		up[k] += 1e-6
		down[k] -= 1e-6
		assert.InDelta(t, (blendLoss(lists, up, 2, 0.1)-blendLoss(lists, down, 2, 0.1))/2e-6, grad[k], 1e-5)
	}
}

func TestFitBlendRejectsBadLists(t *testing.T) {
	for name, l := range map[string]BlendList{
		"short":          {X: []float64{1, 2, 3}, C: 2, Positive: 0},
		"positive out":   {X: []float64{1, 2}, C: 1, Positive: 1},
		"no candidates":  {C: 0},
		"not a number":   {X: []float64{math.NaN(), 1}, C: 1},
		"infinite value": {X: []float64{math.Inf(1), 1}, C: 1},
	} {
		_, _, err := FitBlend([]BlendList{l}, 2, BlendOptions{})
		assert.ErrorIs(t, err, ErrInvalidList, name)
	}
	w, loss, err := FitBlend(nil, 3, BlendOptions{})
	require.NoError(t, err)
	assert.Equal(t, []float64{1, 0, 0}, w, "nothing to fit: the base score alone")
	assert.Zero(t, loss)
}
