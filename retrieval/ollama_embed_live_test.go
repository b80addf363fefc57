package retrieval

import (
	"context"
	"math"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ollama/ollama/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/internal/ollamacall"
	"hmpps/internal/ollamalive"
)

// The live tests of a real embedding model: all-MiniLM-L6-v2 as
// scripts/ollama.sh converts and registers it (make test does that), or the
// model HMPPS_OLLAMA_EMBED_MODEL names on the server HMPPS_OLLAMA_HOST.

func newLiveEmbedder(ctx context.Context, t *testing.T, env ollamalive.Env) *OllamaEmbedder {
	t.Helper()
	e, err := NewOllamaEmbedder(ctx, OllamaEmbedderConfig{Client: ollamacall.NewClient(env.Host, nil), Model: env.EmbedModel,
		Timeout: 5 * time.Minute})
	require.NoError(t, err)
	return e
}

func cosine(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	return dot / math.Sqrt(na*nb)
}

func TestOllamaEmbedderRealModelLive(t *testing.T) {
	env := ollamalive.RequireEmbed(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	client := ollamacall.NewClient(env.Host, nil)
	e := newLiveEmbedder(ctx, t, env)

	t.Run("dimension and context learned from the server", func(t *testing.T) {
		show, err := client.Show(ctx, &api.ShowRequest{Model: env.EmbedModel})
		require.NoError(t, err)
		arch, _ := show.ModelInfo["general.architecture"].(string)
		width, _ := show.ModelInfo[arch+".embedding_length"].(float64)
		info, err := ollamacall.Show(ctx, client, env.EmbedModel, time.Minute)
		require.NoError(t, err)
		t.Logf("%s: %s, dimension %d, context %d tokens (trained %v; parameters %q), tokenizer %q", env.EmbedModel, arch,
			e.Dimension(), e.ContextLength(), show.ModelInfo[arch+".context_length"], show.Parameters, info.Tokenizer)
		assert.Equal(t, int(width), e.Dimension(), "the probe's vector is as wide as the model")
		assert.Positive(t, e.ContextLength())
		assert.Equal(t, info.ContextLength, e.ContextLength())
		assert.Contains(t, info.Capabilities, "embedding")
	})

	t.Run("synonyms closer than unrelated texts", func(t *testing.T) {
		tests := []struct{ anchor, near, far string }{
			{"waterproof hiking boots", "leather boot wax", "industrial scientific abrasive finishing products sanding rolls"},
			{"couch", "sofa", "carburetor"},
			{"knitting magazine", "crochet and yarn patterns", "car racing news"},
			{"digital multimeter", "voltage tester", "italian pasta recipes"},
			{"cooking food wine recipes", "Bon Appetit: the food magazine", "Golf Digest"},
		}
		for _, tt := range tests {
			vecs, err := e.Embed(ctx, []string{tt.anchor, tt.near, tt.far})
			require.NoError(t, err)
			near, far := cosine(vecs[0], vecs[1]), cosine(vecs[0], vecs[2])
			t.Logf("%-28q near %.3f  far %.3f", tt.anchor, near, far)
			assert.Greater(t, near, far, "%q: %q should be closer than %q", tt.anchor, tt.near, tt.far)
		}
	})

	// Ollama's WordPiece reads typographic punctuation and accents as
	// [UNK]; the embedder folds them, so the server reads the plain text.
	t.Run("typographic text reads as plain text", func(t *testing.T) {
		typo := "Condé Nast Traveler’s “best” cafés – you’ll love them…"
		plain := "Conde Nast Traveler's \"best\" cafes - you'll love them..."
		raw, err := ollamacall.Embed(ctx, client, &api.EmbedRequest{Model: env.EmbedModel, Input: []string{typo, plain}}, time.Minute)
		require.NoError(t, err)
		vecs, err := e.Embed(ctx, []string{typo, plain})
		require.NoError(t, err)
		before, after := cosine(raw.Embeddings[0], raw.Embeddings[1]), cosine(vecs[0], vecs[1])
		t.Logf("cosine of the typographic and the plain text: sent as is %.3f, folded %.3f", before, after)
		assert.Less(t, before, 0.95, "the server's WordPiece alone reads them differently")
		assert.Greater(t, after, 0.999)
	})

	// A text whose head holds characters the vocabulary lacks (here emoji)
	// over the whole context: Ollama cuts it to the context in tokens, turns
	// the tokens back into text, and each [UNK] comes back as three tokens,
	// so the server refuses the text it cut itself, and a batch with it.
	t.Run("a text the server's truncation cannot fit", func(t *testing.T) {
		words := make([]string, 2*e.ContextLength())
		for i := range words {
			words[i] = "magazine"
			if i%2 == 1 {
				words[i] = "\U0001F4DA"
			}
		}
		long := strings.Join(words, " ")
		_, err := ollamacall.Embed(ctx, client, &api.EmbedRequest{Model: env.EmbedModel, Input: []string{long}}, time.Minute)
		require.ErrorIs(t, err, ollamacall.ErrTooLong, "the server's own truncation overshoots")
		t.Logf("the server alone: %v", err)

		before := e.shortened.Load()
		texts := []string{"Knitting and crochet patterns", long, "Golf Digest"}
		vecs, err := e.Embed(ctx, texts)
		require.NoError(t, err)
		require.Len(t, vecs, 3)
		assert.Positive(t, e.shortened.Load()-before, "sent again, shorter")
		alone, err := e.Embed(ctx, []string{texts[0], texts[2]})
		require.NoError(t, err)
		assert.Greater(t, cosine(alone[0], vecs[0]), 0.9999, "the batch's other texts embed as they would alone")
		assert.Greater(t, cosine(alone[1], vecs[2]), 0.9999)
	})
}

// embedKiller kills the server when the embed request number before
// arrives, before sending it: the requests before it were answered whole,
// that one and the later ones meet a dead server.
type embedKiller struct {
	before atomic.Int64
	sent   atomic.Int64
	kill   func()
}

func (k *embedKiller) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path == "/api/embed" && k.sent.Add(1) == k.before.Load() {
		k.kill()
	}
	return http.DefaultTransport.RoundTrip(r)
}

// The server dies after the first of several batches: Embed fails with an
// error that says so and returns no vectors at all, and works again once
// the server is back on its address.
func TestOllamaEmbedderServerKilledMidBatchLive(t *testing.T) {
	env := ollamalive.RequireEmbed(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	srv := ollamalive.Start(ctx, t, env)
	kill := &embedKiller{kill: srv.Kill}
	client := ollamacall.NewClient(srv.Host, &http.Client{Transport: kill})
	e, err := NewOllamaEmbedder(ctx, OllamaEmbedderConfig{Client: client, Model: env.EmbedModel, BatchSize: 4, Concurrency: 1,
		Timeout: 5 * time.Minute})
	require.NoError(t, err)
	texts := make([]string, 20)
	for i := range texts {
		texts[i] = "product number " + strings.Repeat("x", i+1)
	}
	kill.before.Store(kill.sent.Load() + 2) // the Embed's second batch
	vecs, usage, err := e.EmbedUsage(ctx, texts)
	require.ErrorIs(t, err, ErrModelUnavailable)
	t.Logf("after the kill: %v (usage %+v)", err, usage)
	assert.Nil(t, vecs, "nothing half-embedded comes back")
	assert.Equal(t, 2, usage.ModelCalls, "the answered batch and the one that met the dead server")

	ollamalive.StartOn(ctx, t, env, srv.Port())
	vecs, err = e.Embed(ctx, texts)
	require.NoError(t, err)
	assert.Len(t, vecs, len(texts))
}
