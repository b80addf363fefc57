package hmpps

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTrainRefit proves what Refit does: the model is the one a training on
// the examples and the validation purchases together, for the best epoch's
// number of passes, learns; it keeps the early-stopped training's curve,
// and counts the validation purchases.
func TestTrainRefit(t *testing.T) {
	ctx := context.Background()
	e := newTestEngine(t)
	examples, val := segmentExamples(40), heldOut(8)
	opts := TrainOptions{Validation: val, Negatives: 6, Seed: 3, Epochs: 12, Patience: 3}
	first, err := Train(ctx, e, examples, opts)
	require.NoError(t, err)

	opts.Refit = true
	m, err := Train(ctx, e, examples, opts)
	require.NoError(t, err)
	assert.True(t, m.Summary().Refit)
	assert.False(t, first.Summary().Refit)
	assert.Equal(t, len(examples)+len(val), m.Summary().Examples)
	assert.Equal(t, len(val), m.Summary().ValidationExamples)
	assert.Equal(t, first.Curve(), m.Curve(), "the curve is the early-stopped training's")
	assert.Equal(t, first.BestEpoch(), m.BestEpoch())

	// The same as training on everything for the best epoch's passes.
	all := append(append([]TrainingExample(nil), examples...), val...)
	again, err := Train(ctx, e, all, TrainOptions{Negatives: 6, Seed: 3, Epochs: first.BestEpoch()})
	require.NoError(t, err)
	assert.Equal(t, again.FeatureWeights(), m.FeatureWeights())
	assert.NotEqual(t, first.FeatureWeights(), m.FeatureWeights())

	// The validation purchases are counted: four held-out users bought
	// each leather boot.
	for _, id := range []string{"boot-leather-1", "boot-trail-2"} {
		assert.Greater(t, m.popularity[id], first.popularity[id], id)
	}

	// It survives the model file.
	var b bytes.Buffer
	_, err = m.WriteTo(&b)
	require.NoError(t, err)
	read, err := ReadModel(&b)
	require.NoError(t, err)
	assert.True(t, read.Summary().Refit)
}
