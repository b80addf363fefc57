package retrieval

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/internal/ollamacall"
	"hmpps/internal/ollamalive"
)

// TestOllamaEmbedderLive embeds through the real server (see
// internal/ollamalive) with its text model. Ollama embeds with a generative
// model too (the last layer's pooled states); if the server refuses, the
// error must say so clearly at construction.
func TestOllamaEmbedderLive(t *testing.T) {
	env := ollamalive.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	client := ollamacall.NewClient(env.Host, nil)
	caps, err := ollamacall.Capabilities(ctx, client, env.Model, time.Minute)
	require.NoError(t, err)
	t.Logf("model %s capabilities %q", env.Model, caps)

	e, err := NewOllamaEmbedder(ctx, OllamaEmbedderConfig{Client: client, Model: env.Model, Timeout: 5 * time.Minute})
	if err != nil {
		t.Logf("the server does not embed with %s: %v", env.Model, err)
		assert.Contains(t, err.Error(), env.Model)
		assert.ErrorIs(t, err, ErrModelUnsupported, "the model cannot embed; the server is fine")
		assert.NotErrorIs(t, err, ErrModelUnavailable)
		assert.False(t, ollamacall.HasCapability(caps, "embedding"), "a model that reports embedding must embed")
		return
	}
	t.Logf("dimension %d", e.Dimension())
	vecs, err := e.Embed(ctx, []string{"knitting magazine", "crochet and yarn patterns", "car racing news"})
	require.NoError(t, err)
	require.Len(t, vecs, 3)
	for _, v := range vecs {
		require.Len(t, v, e.Dimension())
		for _, x := range v {
			require.False(t, math.IsNaN(float64(x)) || math.IsInf(float64(x), 0))
		}
	}
	assert.NotEqual(t, vecs[0], vecs[2], "different texts, different vectors")
	u := e.Usage()
	assert.Positive(t, u.ModelCalls)
}

func TestOllamaEmbedderMissingModelLive(t *testing.T) {
	env := ollamalive.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := NewOllamaEmbedder(ctx, OllamaEmbedderConfig{Client: ollamacall.NewClient(env.Host, nil), Model: "no-such-embedder"})
	require.ErrorIs(t, err, ErrModelNotFound)
	assert.Contains(t, err.Error(), "no-such-embedder")
}
