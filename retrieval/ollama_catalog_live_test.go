package retrieval_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"hmpps/hmpps/eval"
	"hmpps/internal/htmltext"
	"hmpps/internal/ollamacall"
	"hmpps/internal/ollamalive"
	"hmpps/retrieval"
)

// dataDir returns the shared data folder name (amazon-magazine,
// amazon-scientific) beside the repository, or HMPPS_DATA_ROOT/name, or
// skips when it is absent.
func dataDir(tb testing.TB, name string) string {
	tb.Helper()
	root := os.Getenv("HMPPS_DATA_ROOT")
	if root == "" {
		// This package is retrieval, one level below the repository root.
		root = filepath.Join("..", "..", "shared", "data")
	}
	dir := filepath.Join(root, name)
	if _, err := os.Stat(dir); err != nil {
		tb.Skipf("skipping: the shared data %s is not at %s (the repository root's ../shared/data; set HMPPS_DATA_ROOT to point elsewhere): %v", name, dir, err)
	}
	return dir
}

// magazineTexts returns the text of every product of the Magazine catalog
// (2,320) as the engine builds it: title, brand, category path,
// description.
func magazineTexts(tb testing.TB) []string {
	tb.Helper()
	products, err := eval.LoadAmazonCatalog(context.Background(), dataDir(tb, "amazon-magazine"))
	require.NoError(tb, err)
	texts := make([]string, len(products))
	for i, p := range products {
		var parts []string
		for _, s := range []string{p.Title, p.Brand, strings.Join(p.Category, " "), p.Description} {
			if s = strings.TrimSpace(s); s != "" {
				parts = append(parts, s)
			}
		}
		texts[i] = strings.Join(parts, ". ")
	}
	return texts
}

// scientificTexts returns the text of every product of the Scientific
// catalog (4,385): its line of Scientific.text ("TITLE. CATEGORY. BRAND. ")
// and, for the 3,103 that have one, its description.
func scientificTexts(tb testing.TB) []string {
	tb.Helper()
	dir := dataDir(tb, "amazon-scientific")
	descriptions := make(map[string]string)
	f, err := os.Open(filepath.Join(dir, "Scientific.descriptions.jsonl"))
	require.NoError(tb, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var row struct {
			ASIN        string   `json:"asin"`
			Description []string `json:"description"`
		}
		require.NoError(tb, json.Unmarshal(sc.Bytes(), &row))
		var parts []string
		for _, d := range row.Description {
			if d = htmltext.Plain(d); d != "" {
				parts = append(parts, d)
			}
		}
		descriptions[row.ASIN] = strings.Join(parts, " ")
	}
	require.NoError(tb, sc.Err())

	f2, err := os.Open(filepath.Join(dir, "Scientific.text"))
	require.NoError(tb, err)
	defer f2.Close()
	var texts []string
	sc = bufio.NewScanner(f2)
	sc.Buffer(nil, 1<<20)
	for first := true; sc.Scan(); first = false {
		asin, text, ok := strings.Cut(sc.Text(), "\t")
		if first || !ok {
			continue // the header
		}
		texts = append(texts, strings.TrimSpace(strings.TrimSpace(text)+" "+descriptions[asin]))
	}
	require.NoError(tb, sc.Err())
	require.Len(tb, texts, 4385)
	return texts
}

// TestOllamaEmbedderScientificCatalogLive embeds every product of the
// Scientific catalog with the real model: none fails for its length or
// anything else. (The Magazine catalog is embedded by the engine's live
// test in package hmpps.)
func TestOllamaEmbedderScientificCatalogLive(t *testing.T) {
	env := ollamalive.RequireEmbed(t)
	texts := scientificTexts(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	e, err := retrieval.NewOllamaEmbedder(ctx, retrieval.OllamaEmbedderConfig{Client: ollamacall.NewClient(env.Host, nil),
		Model: env.EmbedModel, Timeout: 5 * time.Minute})
	require.NoError(t, err)
	start := time.Now()
	vecs, u, err := e.EmbedUsage(ctx, texts)
	took := time.Since(start)
	require.NoError(t, err)
	require.Len(t, vecs, len(texts))
	t.Logf("%d texts in %v: %.1f texts/s, %d calls, %.0f tokens per text", len(texts), took.Round(time.Millisecond),
		float64(len(texts))/took.Seconds(), u.ModelCalls, float64(u.PromptTokens)/float64(len(texts)))
}

// BenchmarkOllamaEmbedCatalogLive embeds a whole catalog with the real
// model once per iteration at several concurrencies and reports texts per
// second; run it once each:
//
//	scripts/ollama.sh run go test -run '^$' -bench OllamaEmbedCatalogLive -benchtime 1x ./retrieval/
func BenchmarkOllamaEmbedCatalogLive(b *testing.B) {
	env := ollamalive.RequireEmbed(b)
	catalogs := []struct {
		name  string
		texts func(testing.TB) []string
	}{{"magazine", magazineTexts}, {"scientific", scientificTexts}}
	for _, c := range catalogs {
		for _, concurrency := range []int{1, 2, 4} {
			b.Run(fmt.Sprintf("%s/concurrency=%d", c.name, concurrency), func(b *testing.B) {
				texts := c.texts(b)
				ctx := context.Background()
				e, err := retrieval.NewOllamaEmbedder(ctx, retrieval.OllamaEmbedderConfig{Client: ollamacall.NewClient(env.Host, nil),
					Model: env.EmbedModel, Concurrency: concurrency, Timeout: 10 * time.Minute})
				require.NoError(b, err)
				b.ResetTimer()
				for b.Loop() {
					_, err := e.Embed(ctx, texts)
					require.NoError(b, err)
				}
				b.ReportMetric(float64(len(texts)*b.N)/b.Elapsed().Seconds(), "texts/s")
			})
		}
	}
}
