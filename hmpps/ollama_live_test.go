package hmpps_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/hmpps"
	"hmpps/internal/democatalog"
	"hmpps/internal/imageprep"
	"hmpps/internal/ollamacall"
	"hmpps/summarize"
)

// TestOllamaLive runs the whole pipeline against a real Ollama server:
//
//	HMPPS_OLLAMA_HOST=127.0.0.1:11434 HMPPS_OLLAMA_VISION_MODEL=qwen2.5vl:3b \
//	HMPPS_OLLAMA_EMBED_MODEL=nomic-embed-text go test -run OllamaLive -v ./hmpps/
//
// The embedding model is optional.
func TestOllamaLive(t *testing.T) {
	host, vision := os.Getenv("HMPPS_OLLAMA_HOST"), os.Getenv("HMPPS_OLLAMA_VISION_MODEL")
	if host == "" || vision == "" {
		t.Skip("live Ollama test skipped: set HMPPS_OLLAMA_HOST and HMPPS_OLLAMA_VISION_MODEL " +
			"(and optionally HMPPS_OLLAMA_EMBED_MODEL) to run the pipeline against a real server")
	}
	embed := os.Getenv("HMPPS_OLLAMA_EMBED_MODEL")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()

	e, err := hmpps.New(
		hmpps.WithOllama(hmpps.OllamaConfig{Host: host, VisionModel: vision, EmbedModel: embed, Timeout: 5 * time.Minute}),
		hmpps.WithRetrieveK(6),
	)
	require.NoError(t, err)
	defer e.Close()
	require.NoError(t, e.Upsert(ctx, democatalog.Products()...))

	alex := democatalog.Shoppers()[0]
	resp, err := e.Search(ctx, hmpps.Request{Query: democatalog.DefaultQuery, HistoryIDs: alex.HistoryIDs, ExcludeHistory: true, TopN: 6})
	require.NoError(t, err)
	require.NotEmpty(t, resp.Results)
	for _, r := range resp.Results {
		t.Logf("%.3f %-40s %s", r.Score, r.Product.Title, r.Summary)
		assert.False(t, r.Degraded, "%s: %s", r.ID, r.DegradedReason)
		assert.GreaterOrEqual(t, r.Score, 0.0)
		assert.LessOrEqual(t, r.Score, 1.0)
	}
	// Scores strictly between 0 and 1 come from the answer token's
	// log-probabilities, not from the text fallback.
	graded := 0
	for _, r := range resp.Results {
		if r.Score > 0 && r.Score < 1 {
			graded++
		}
	}
	assert.Positive(t, graded, "the server returned no usable log-probabilities")
	assert.Positive(t, resp.Usage.ModelCalls)
	assert.Positive(t, resp.Usage.PromptTokens)
	assert.Positive(t, resp.Usage.GeneratedTokens)
	t.Logf("usage %+v, timings %+v", resp.Usage, resp.Timings)

	// A caption of one picture, as indexing with Captions would make.
	p, err := summarize.NewPerspective(summarize.PerspectiveConfig{Client: ollamacall.NewClient(host, nil), Model: vision})
	require.NoError(t, err)
	boot := democatalog.Products()[0]
	img, err := imageprep.Preparer{}.Prepare(ctx, imageprep.Source{Data: boot.Images[0].Data})
	require.NoError(t, err)
	c, err := p.Caption(ctx, summarize.Document{ID: boot.ID, Title: boot.Title, Image: img}, 0)
	require.NoError(t, err)
	t.Logf("caption of %s: %s", boot.Title, c.Text)
	assert.NotEmpty(t, c.Text)
}
