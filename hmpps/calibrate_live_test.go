package hmpps_test

import (
	"bytes"
	"context"
	"math"
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

// TestCalibrateLive calibrates the real model of scripts/ollama.sh (Gemma 3
// 270M in make test, in completion mode) on the two shoppers' purchases:
// every judged candidate gets a real verdict, the fit is finite and reads
// back from the model file, and the calibrated engine searches with it,
// asking the model only when the fit trusts it. Whether a 270M model earns
// trust here is not asserted: on six purchases no answer is significant,
// and make eval-model measures it on real data.
func TestCalibrateLive(t *testing.T) {
	env := ollamalive.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()

	products := democatalog.Products()
	byID := map[string]hmpps.Product{}
	for _, p := range products {
		byID[p.ID] = p
	}
	var examples []hmpps.TrainingExample
	for _, s := range democatalog.Shoppers() {
		for i := 1; i < len(s.HistoryIDs); i++ {
			examples = append(examples, hmpps.TrainingExample{User: s.Name, Query: strings.Join(byID[s.HistoryIDs[i]].Category, " "),
				HistoryIDs: s.HistoryIDs[:i], Positive: s.HistoryIDs[i]})
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

	cfg := hmpps.OllamaConfig{Host: env.Host, VisionModel: env.Model, RerankMode: rerank.ModeCompletion, RerankCandidates: 3,
		Concurrency: 1, Timeout: 5 * time.Minute}
	judged, err := hmpps.New(append(opts, hmpps.WithOllama(cfg), hmpps.WithModel(model))...)
	require.NoError(t, err)
	defer judged.Close()
	require.NoError(t, judged.Upsert(ctx, products...))
	// The last purchase of each shopper, among six other products each, as
	// a held-out list would be.
	var validation []hmpps.TrainingExample
	for _, ex := range []hmpps.TrainingExample{examples[len(examples)/2-1], examples[len(examples)-1],
		examples[len(examples)/2-2], examples[len(examples)-2]} {
		for _, p := range products {
			if len(ex.Negatives) < 6 && p.ID != ex.Positive && !strings.HasPrefix(p.ID, ex.Positive[:3]) {
				ex.Negatives = append(ex.Negatives, p.ID)
			}
		}
		validation = append(validation, ex)
	}
	start := time.Now()
	calibrated, err := hmpps.Calibrate(ctx, judged, validation, hmpps.CalibrateOptions{Folds: 2})
	require.NoError(t, err)
	fit, ok := calibrated.Verdict()
	require.True(t, ok)
	t.Logf("calibrated in %v: %+v", time.Since(start), fit)
	assert.Equal(t, len(validation), fit.Examples)
	assert.Zero(t, fit.Unanswered, "every judged candidate answered yes or no")
	assert.Equal(t, fit.Judged, fit.Usage.ModelCalls, "one real call per judged candidate")
	for _, w := range fit.Weights {
		assert.False(t, math.IsNaN(w.Weight) || math.IsInf(w.Weight, 0), "%+v", w)
	}
	assert.Contains(t, fit.Judge, env.Model+", completion, prompt ")

	var buf bytes.Buffer
	_, err = calibrated.WriteTo(&buf)
	require.NoError(t, err)
	read, err := hmpps.ReadModel(&buf)
	require.NoError(t, err)
	back, _ := read.Verdict()
	assert.Equal(t, fit, back)

	e, err := hmpps.New(append(opts, hmpps.WithOllama(cfg), hmpps.WithModel(read))...)
	require.NoError(t, err)
	defer e.Close()
	require.NoError(t, e.Upsert(ctx, products...))
	resp, err := e.Search(ctx, hmpps.Request{Query: democatalog.DefaultQuery, HistoryIDs: democatalog.Shoppers()[0].HistoryIDs, ExcludeHistory: true, TopN: 6})
	require.NoError(t, err)
	for _, r := range resp.Results {
		t.Logf("%8.3f learned %7.3f verdict %+v %s", r.Score, r.LearnedScore, r.Verdict, r.Product.Title)
	}
	if fit.Trusted {
		assert.Equal(t, 3, resp.Usage.ModelCalls)
		assert.NotNil(t, resp.Results[0].Verdict)
	} else {
		assert.Zero(t, resp.Usage.ModelCalls, "an untrusted judge is not asked")
		assert.Contains(t, strings.Join(resp.Notes, "\n"), "was not asked")
	}
}
