package hmpps_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/hmpps"
	"hmpps/hmpps/eval"
	"hmpps/internal/ollamalive"
	"hmpps/retrieval"
)

// magazineCatalog returns every product of the shared Amazon Magazine
// metadata (2,320), or skips the test when the data is absent.
func magazineCatalog(t *testing.T) []hmpps.Product {
	t.Helper()
	dir := os.Getenv("HMPPS_DATA_DIR")
	if dir == "" {
		// This package is hmpps, one level below the repository root.
		dir = filepath.Join("..", "..", "shared", "data", "amazon-magazine")
	}
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("skipping: the Amazon Magazine data is not at %s (the repository root's ../shared/data/amazon-magazine; set HMPPS_DATA_DIR to point elsewhere): %v", dir, err)
	}
	products, err := eval.LoadAmazonCatalog(context.Background(), dir)
	require.NoError(t, err)
	return products
}

// TestRealEmbedderCatalogLive indexes the whole Magazine catalog with the
// real embedding model as the engine's text embedder (the one
// scripts/ollama.sh registers, or HMPPS_OLLAMA_EMBED_MODEL), long
// descriptions included, and searches it by vector alone.
func TestRealEmbedderCatalogLive(t *testing.T) {
	env := ollamalive.RequireEmbed(t)
	products := magazineCatalog(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	e, err := hmpps.New(hmpps.WithOllama(hmpps.OllamaConfig{Host: env.Host, EmbedModel: env.EmbedModel, Timeout: 5 * time.Minute}),
		hmpps.WithRetrieval(hmpps.RetrieveVector))
	require.NoError(t, err)
	defer e.Close()

	start := time.Now()
	require.NoError(t, e.Upsert(ctx, products...), "every product embeds, whatever its length")
	took := time.Since(start)
	require.Equal(t, len(products), e.Len())
	u := e.Usage()
	t.Logf("upserted %d products in %v: %.1f products/s; %+v", len(products), took.Round(time.Millisecond),
		float64(len(products))/took.Seconds(), u)

	tests := []struct{ query, want string }{
		{"golf", "golf"},
		{"knitting and crochet patterns", "knit"},
		{"cooking recipes", "cook"},
		{"living with diabetes", "diabet"},
	}
	for _, tt := range tests {
		resp, err := e.Search(ctx, hmpps.Request{Query: tt.query, TopN: 5})
		require.NoError(t, err)
		require.NotEmpty(t, resp.Results)
		var titles []string
		found := false
		for _, r := range resp.Results {
			titles = append(titles, r.Product.Title)
			text := strings.ToLower(r.Product.Title + " " + r.Product.Description)
			found = found || strings.Contains(text, tt.want)
		}
		t.Logf("%-30q %q", tt.query, titles)
		assert.True(t, found, "%q: no result about %q in the top 5", tt.query, tt.want)
	}

	// The query embedding's share of a search: every distinct category
	// path as a query, the median of Timings.Embed / Timings.Total.
	seen := make(map[string]bool)
	var shares []float64
	var embeds, totals []time.Duration
	for _, p := range products {
		q := strings.ToLower(strings.Join(p.Category, " "))
		if q == "" || seen[q] || len(seen) == 100 {
			continue
		}
		seen[q] = true
		resp, err := e.Search(ctx, hmpps.Request{Query: q, TopN: 10})
		require.NoError(t, err)
		embeds = append(embeds, resp.Timings.Embed)
		totals = append(totals, resp.Timings.Total)
		shares = append(shares, resp.Timings.Embed.Seconds()/resp.Timings.Total.Seconds())
	}
	slices.Sort(shares)
	slices.Sort(embeds)
	slices.Sort(totals)
	n := len(shares)
	require.Positive(t, n)
	t.Logf("%d searches, p50: query embedding %v, search %v, the embedding's share %.0f%% (p90 share %.0f%%)", n,
		embeds[n/2], totals[n/2], 100*shares[n/2], 100*shares[n*9/10])
}

// upsertKiller kills the server when the embed request number before
// arrives, before sending it: the requests before it were answered whole.
type upsertKiller struct {
	before atomic.Int64
	sent   atomic.Int64
	kill   func()
}

func (k *upsertKiller) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path == "/api/embed" && k.sent.Add(1) == k.before.Load() {
		k.kill()
	}
	return http.DefaultTransport.RoundTrip(r)
}

// TestRealEmbedderServerKilledMidUpsertLive kills the server after the
// first batch of an Upsert has embedded, as the second goes out: the Upsert
// fails and writes nothing, the catalog stays as it was, and the next
// Upsert after a restart writes it all.
func TestRealEmbedderServerKilledMidUpsertLive(t *testing.T) {
	env := ollamalive.RequireEmbed(t)
	products := magazineCatalog(t)[:200]
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	srv := ollamalive.Start(ctx, t, env)
	kill := &upsertKiller{kill: srv.Kill}
	e, err := hmpps.New(hmpps.WithOllama(hmpps.OllamaConfig{Host: srv.Host, HTTPClient: &http.Client{Transport: kill},
		EmbedModel: env.EmbedModel, EmbedConcurrency: 1, Timeout: 5 * time.Minute}))
	require.NoError(t, err)
	defer e.Close()

	require.NoError(t, e.Upsert(ctx, products[:8]...))
	kill.before.Store(kill.sent.Load() + 2) // the Upsert's second batch
	err = e.Upsert(ctx, products[8:]...)
	require.ErrorIs(t, err, retrieval.ErrModelUnavailable)
	t.Logf("the Upsert after the kill: %v", err)
	assert.Equal(t, 8, e.Len(), "nothing of the failed Upsert was written")
	for _, p := range products[8:] {
		_, err := e.Get(ctx, p.ID)
		require.ErrorIs(t, err, hmpps.ErrNotFound, p.ID)
	}

	ollamalive.StartOn(ctx, t, env, srv.Port())
	require.NoError(t, e.Upsert(ctx, products[8:]...))
	assert.Equal(t, len(products), e.Len())
}
