package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/hmpps"
	"hmpps/internal/ollamatest"
)

// embedInputs returns every text the server was asked to embed, with how
// many times.
func embedInputs(t *testing.T, srv *ollamatest.Server) map[string]int {
	t.Helper()
	out := make(map[string]int)
	for _, c := range srv.Embeds() {
		texts, err := ollamatest.EmbedInputs(&c.Request)
		require.NoError(t, err)
		for _, s := range texts {
			out[s]++
		}
	}
	return out
}

// TestEmbedEvalCachesCatalogVectors runs the real-embedding evaluation
// twice against an in-process Ollama server: the first run embeds both
// catalogs and saves them in the cache folder, the second opens them and
// asks the server for the queries only, and ranks the same.
func TestEmbedEvalCachesCatalogVectors(t *testing.T) {
	if testing.Short() {
		t.Skip("trains four models, twice")
	}
	recbole, magazine, out := writeTinyRecBole(t), writeTinyData(t), t.TempDir()
	args := []string{"-embed-model", "fake-embed", "-data", magazine, "-recbole", recbole, "-out", out, "-bootstrap", "20"}
	runOnce := func() (string, map[string]int, embedResult) {
		srv := ollamatest.New(t, ollamatest.Config{Models: []string{"fake-embed"}, Embed: ollamatest.HashEmbed(32)})
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), append(args, "-ollama-host", srv.URL), &stdout, &stderr)
		require.NoError(t, err, stderr.String())
		var res embedResult
		b, err := os.ReadFile(filepath.Join(out, "embed.json"))
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(b, &res))
		return stdout.String(), embedInputs(t, srv), res
	}

	md, first, res := runOnce()
	t.Log(md)
	for _, want := range []string{
		"# Real embeddings: fake-embed", "## The embedded catalogs", "| " + nameHMPPS + " |", "| " + nameTrained + " |",
		"| hmpps, fake-embed vectors |", "| hmpps, trained, fake-embed vectors |", "hmpps, fake-embed vectors vs hmpps",
		"hmpps, trained, fake-embed vectors vs hmpps, trained", "## Retrieval recall@100 over the whole catalog", "| fake-embed |",
		"p50 share", ", test split, whole catalog", ", test split, 99 random negatives", "| embedded |",
	} {
		assert.Contains(t, md, want)
	}
	require.Len(t, res.Files, 2)
	assert.Equal(t, 40, res.Files[0].Products)
	assert.Equal(t, 40, res.Files[1].Products)
	require.Len(t, res.Recall, 6)
	require.NotNil(t, res.Catalog)
	require.NotNil(t, res.Magazine)
	assert.Len(t, res.Catalog.Training, 2)
	assert.Len(t, res.Magazine.Training, 2)
	entries, err := os.ReadDir(filepath.Join(out, "cache"))
	require.NoError(t, err)
	assert.Len(t, entries, 4, "an engine file and its description per catalog")

	md2, second, res2 := runOnce()
	assert.Contains(t, md2, "| opened from the cache |")
	assert.NotContains(t, md2, "| embedded |")
	var catalogTexts int
	for s := range first {
		if second[s] == 0 {
			catalogTexts++
		}
	}
	for s := range second {
		assert.Contains(t, first, s, "the second run asked for a text the first did not: %q", s)
	}
	assert.Equal(t, 80, catalogTexts, "the second run embeds no product of either catalog, only queries")
	assert.Less(t, len(second), len(first))
	for _, pair := range [][2]*embedSection{{res.Catalog, res2.Catalog}, {res.Magazine, res2.Magazine}} {
		a, b := pair[0].Report.Methods, pair[1].Report.Methods
		require.Len(t, b, len(a))
		for i := range a {
			assert.Equal(t, a[i].Metrics, b[i].Metrics, "%s: the cached vectors rank as the embedded ones", a[i].Name)
		}
	}
	assert.Equal(t, res.Recall, res2.Recall)
}

// TestCachedCatalogKeyedByModelAndProducts checks that an engine file is
// reused only for the same model, dimension and products.
func TestCachedCatalogKeyedByModelAndProducts(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	socks := []hmpps.Product{{ID: "a", Title: "red wool socks"}, {ID: "b", Title: "blue cotton shirt"}}
	more := append(append([]hmpps.Product(nil), socks...), hmpps.Product{ID: "c", Title: "green rain jacket"})
	tests := []struct {
		name     string
		model    string
		dim      int
		products []hmpps.Product
		cached   bool
	}{
		{"first", "m", 16, socks, false},
		{"same again", "m", 16, socks, true},
		{"other dimension", "m", 8, socks, false},
		{"other model", "n", 16, socks, false},
		{"other products", "m", 16, more, false},
		{"first again", "m", 16, socks, true},
	}
	for _, tt := range tests {
		srv := ollamatest.New(t, ollamatest.Config{Models: []string{tt.model}, Embed: ollamatest.HashEmbed(tt.dim)})
		re, err := newRealEmbedder(ctx, srv.URL, tt.model)
		require.NoError(t, err, tt.name)
		f, err := cachedCatalog(ctx, dir, "shop", tt.products, re)
		require.NoError(t, err, tt.name)
		assert.Equal(t, tt.cached, f.Cached, tt.name)
		assert.Equal(t, len(tt.products), f.Products, tt.name)
		inputs := embedInputs(t, srv)
		assert.Equal(t, !tt.cached, len(inputs) > 1, "%s: the catalog is embedded only without a cached file: %v", tt.name, inputs)
		e, err := openCatalog(ctx, f, re)
		require.NoError(t, err, tt.name)
		assert.Equal(t, len(tt.products), e.Len(), tt.name)
		require.NoError(t, e.Close())
	}
}
