package summarize

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/internal/ollamacall"
	"hmpps/internal/ollamalive"
)

// TestPerspectiveLive asks the real model (see internal/ollamalive) for a
// query's perspectives with the JSON-schema Format and for one summary.
// A 270M model may not manage either: then the answer must be a clean error
// wrapping a sentinel, on which the engine uses the extractive summary and
// marks the item degraded (tested in package hmpps).
func TestPerspectiveLive(t *testing.T) {
	env := ollamalive.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	p, err := NewPerspective(PerspectiveConfig{Client: ollamacall.NewClient(env.Host, nil), Model: env.Model, Timeout: 5 * time.Minute})
	require.NoError(t, err)

	start := time.Now()
	views, usage, err := p.Perspectives(ctx, "knitting magazine for beginners")
	t.Logf("perspectives in %v: %q, %+v, err %v", time.Since(start), views, usage, err)
	if err != nil {
		require.ErrorIs(t, err, ErrBadModelAnswer, "a clean, classified failure")
	} else {
		require.NotEmpty(t, views)
		assert.LessOrEqual(t, len(views), DefaultMaxPerspectives)
		for _, v := range views {
			assert.NotEmpty(t, v)
		}
		assert.Equal(t, 1, usage.ModelCalls)
	}

	doc := Document{ID: "knit", Title: "Knit Today",
		Text: "A monthly magazine with knitting and crochet patterns for beginners and experts. Each issue has ten projects, yarn reviews and step-by-step photos."}
	start = time.Now()
	sum, err := p.Summarize(ctx, "knitting magazine for beginners", doc, 30)
	t.Logf("summary in %v: %q, err %v", time.Since(start), sum.Text, err)
	if err != nil {
		assert.True(t, errors.Is(err, ErrBadModelAnswer), "a clean, classified failure: %v", err)
		return
	}
	assert.NotEmpty(t, sum.Text)
}
