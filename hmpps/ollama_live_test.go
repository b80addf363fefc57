package hmpps_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/hmpps"
	"hmpps/internal/democatalog"
	"hmpps/internal/ollamalive"
	"hmpps/rerank"
	"hmpps/summarize"
)

// TestOllamaLive runs the whole pipeline against a real Ollama server: the
// one scripts/ollama.sh starts with its Gemma 3 270M model (make test does
// that), or any server and model named by HMPPS_OLLAMA_HOST and
// HMPPS_OLLAMA_MODEL. The model is a small base model: it reranks in
// completion mode; with no vision, it gets the products' texts.
func TestOllamaLive(t *testing.T) {
	env := ollamalive.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()

	search := func(t *testing.T, cfg hmpps.OllamaConfig, opts ...hmpps.Option) *hmpps.Response {
		e, err := hmpps.New(append([]hmpps.Option{hmpps.WithOllama(cfg), hmpps.WithRetrieveK(6)}, opts...)...)
		require.NoError(t, err)
		defer e.Close()
		require.NoError(t, e.Upsert(ctx, democatalog.Products()...))
		alex := democatalog.Shoppers()[0]
		start := time.Now()
		resp, err := e.Search(ctx, hmpps.Request{Query: democatalog.DefaultQuery, HistoryIDs: alex.HistoryIDs, ExcludeHistory: true, TopN: 6})
		require.NoError(t, err)
		require.NotEmpty(t, resp.Results)
		t.Logf("search in %v: usage %+v, timings %+v", time.Since(start), resp.Usage, resp.Timings)
		for _, r := range resp.Results {
			t.Logf("%8.3f %-40s degraded=%v %s", r.Score, r.Product.Title, r.Degraded, r.DegradedReason)
		}
		return resp
	}
	base := hmpps.OllamaConfig{Host: env.Host, VisionModel: env.Model, RerankMode: rerank.ModeCompletion, Timeout: 5 * time.Minute}

	t.Run("completion reranking", func(t *testing.T) {
		cfg := base
		cfg.RerankCandidates = 4
		// Short summaries keep each prompt inside Gemma 3's 512-token
		// sliding window, the longest prompt whose prefix Ollama's cache
		// can reuse for this model (see docs/ollama.md).
		resp := search(t, cfg, hmpps.WithSummarizer(summarize.Extractive{}), hmpps.WithSummaryWords(20))
		t.Logf("%.0f prompt tokens per judged candidate", float64(resp.Usage.PromptTokens)/float64(resp.Usage.ModelCalls))
		graded := 0
		for i, r := range resp.Results {
			assert.False(t, r.Degraded, "%s: %s", r.ID, r.DegradedReason)
			if i < 4 {
				assert.Greater(t, r.Score, 0.0)
				assert.Less(t, r.Score, 1.0, "a probability from the answer token's log-probabilities")
				graded++
			} else {
				assert.Negative(t, r.Score, "beyond RerankCandidates: offline order below the judged")
			}
		}
		assert.Equal(t, 4, graded)
		// Gemma 3 270M has no vision: the response says it got no pictures.
		assert.Contains(t, strings.Join(resp.Notes, "\n"), "has no vision")
		assert.Equal(t, 4, resp.Usage.ModelCalls, "one call per judged candidate")
		assert.Positive(t, resp.Usage.PromptTokens)
	})

	t.Run("model summaries", func(t *testing.T) {
		cfg := base
		cfg.RerankCandidates = 2
		// A 270M model writes slowly on two cores: three short summaries.
		resp := search(t, cfg, hmpps.WithRetrieveK(3), hmpps.WithSummaryWords(12))
		for _, r := range resp.Results {
			if r.Degraded {
				// The small model may not write usable summaries: then the
				// extractive twin stands in, and the result says so.
				assert.Contains(t, r.DegradedReason, "summarize: ")
				assert.NotContains(t, r.DegradedReason, "rerank: ")
			}
			assert.NotEmpty(t, r.Summary)
		}
	})

	t.Run("trained model", func(t *testing.T) {
		// The two shoppers' purchase sequences, each purchase an example:
		// the history before it, its category words as the query.
		products := democatalog.Products()
		byID := map[string]hmpps.Product{}
		for _, p := range products {
			byID[p.ID] = p
		}
		var examples []hmpps.TrainingExample
		for _, s := range democatalog.Shoppers() {
			for i := 1; i < len(s.HistoryIDs); i++ {
				examples = append(examples, hmpps.TrainingExample{
					User: s.Name, Query: strings.Join(byID[s.HistoryIDs[i]].Category, " "),
					HistoryIDs: s.HistoryIDs[:i], Positive: s.HistoryIDs[i],
				})
			}
		}
		opts := []hmpps.Option{hmpps.WithSummarizer(summarize.Extractive{}), hmpps.WithSummaryWords(20), hmpps.WithRetrieveK(6)}
		offline, err := hmpps.New(opts...)
		require.NoError(t, err)
		defer offline.Close()
		require.NoError(t, offline.Upsert(ctx, products...))
		model, err := hmpps.Train(ctx, offline, examples, hmpps.TrainOptions{Negatives: 6, Epochs: 5, Seed: 1})
		require.NoError(t, err)
		model.HistoryK = 3

		cfg := base
		cfg.RerankCandidates = 3
		live, err := hmpps.New(append(opts, hmpps.WithOllama(cfg), hmpps.WithModel(model))...)
		require.NoError(t, err)
		defer live.Close()
		require.NoError(t, live.Upsert(ctx, products...))
		trained, err := hmpps.New(append(opts, hmpps.WithModel(model))...)
		require.NoError(t, err)
		defer trained.Close()
		require.NoError(t, trained.Upsert(ctx, products...))

		req := hmpps.Request{Query: democatalog.DefaultQuery, HistoryIDs: democatalog.Shoppers()[0].HistoryIDs, ExcludeHistory: true, TopN: 6}
		want, err := trained.Search(ctx, req)
		require.NoError(t, err)
		got, err := live.Search(ctx, req)
		require.NoError(t, err)
		for _, r := range got.Results {
			t.Logf("%8.3f learned %7.3f %-40s degraded=%v %s", r.Score, r.LearnedScore, r.Product.Title, r.Degraded, r.DegradedReason)
		}

		// The model reads the learned stage one's kept history, and judges
		// the learned ranker's best candidates.
		assert.Equal(t, want.History, got.History, "kept history of the learned stage one")
		require.Len(t, got.History, 3)
		assert.Equal(t, 3, got.Usage.ModelCalls, "one call per judged candidate")
		var judged, best []string
		for i, r := range want.Results {
			if i < 3 {
				best = append(best, r.ID)
			}
		}
		for _, r := range got.Results {
			assert.False(t, r.Degraded, "%s: %s", r.ID, r.DegradedReason)
			assert.NotZero(t, r.LearnedScore)
			if r.Score > 0 {
				assert.Less(t, r.Score, 1.0, "a probability from the answer token's log-probabilities")
				judged = append(judged, r.ID)
			}
		}
		assert.ElementsMatch(t, best, judged)
	})

	t.Run("model the server does not have", func(t *testing.T) {
		cfg := base
		cfg.VisionModel = "hmpps-no-such-model"
		e, err := hmpps.New(hmpps.WithOllama(cfg), hmpps.WithSummarizer(summarize.Extractive{}))
		require.NoError(t, err)
		defer e.Close()
		require.NoError(t, e.Upsert(ctx, democatalog.Products()...))
		resp, err := e.Search(ctx, hmpps.Request{Query: democatalog.DefaultQuery, HistoryIDs: democatalog.Shoppers()[0].HistoryIDs})
		require.ErrorIs(t, err, rerank.ErrModelNotFound, "a configuration error, not a degraded search")
		assert.Nil(t, resp)
		assert.Contains(t, err.Error(), "ollama pull hmpps-no-such-model")
	})

	t.Run("timeout shorter than the model needs", func(t *testing.T) {
		cfg := base
		cfg.Timeout = 5 * time.Millisecond
		start := time.Now()
		resp := search(t, cfg, hmpps.WithSummarizer(summarize.Extractive{}))
		assert.Less(t, time.Since(start), 2*time.Minute, "degraded, not hung")
		assert.True(t, resp.Degraded)
		for _, r := range resp.Results {
			assert.True(t, r.Degraded)
			assert.True(t, strings.Contains(r.DegradedReason, "no answer within 5ms"), r.DegradedReason)
		}
	})
}
