package hmpps

import (
	"context"
	"testing"

	"github.com/ollama/ollama/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/rerank"
	"hmpps/summarize"
)

// TestPlanFromOptionalInterfaces checks that what the engine does with a
// reranker and a summarizer follows the interfaces they implement, not
// their concrete types: a value and a pointer are the same stage.
func TestPlanFromOptionalInterfaces(t *testing.T) {
	client := api.NewClient(nil, nil)
	custom := rerank.PromptTemplate{System: "judge", Candidate: "{{.Candidate.Text}}"}
	mllm := rerank.MLLM{Client: client, Model: "m", Template: &custom}
	completion := rerank.MLLM{Client: client, Model: "m", Mode: rerank.ModeCompletion}
	reading := rerank.Func(func(context.Context, rerank.Request) (rerank.Result, error) { return rerank.Result{}, nil })
	tests := []struct {
		name         string
		reranker     rerank.Reranker
		readsContent bool
		fallbacker   bool
		template     rerank.PromptTemplate
	}{
		{"preference", rerank.Preference{}, false, false, rerank.DefaultPromptTemplate},
		{"preference pointer", &rerank.Preference{QueryWeight: 1}, false, false, rerank.DefaultPromptTemplate},
		{"mllm", mllm, true, true, custom},
		{"mllm pointer", &mllm, true, true, custom},
		{"mllm completion", completion, true, true, rerank.DefaultCompletionTemplate},
		{"func", reading, true, false, rerank.DefaultPromptTemplate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := newConfig([]Option{WithReranker(tt.reranker)})
			require.NoError(t, err)
			assert.Equal(t, tt.readsContent, c.plan.readsContent)
			assert.Equal(t, tt.fallbacker, c.plan.fallbacker != nil)
			assert.Equal(t, tt.template, c.plan.template)
			assert.False(t, c.plan.learnedRanks, "no model")
		})
	}
}

// TestPlanPreparesForTheConfiguredSummarizer checks that the texts prepared
// at Upsert serve the configured extractive summarizer, value or pointer,
// with its own settings.
func TestPlanPreparesForTheConfiguredSummarizer(t *testing.T) {
	own := &summarize.Extractive{Stopwords: map[string]bool{}, SpecBoost: -1}
	c, err := newConfig([]Option{WithSummarizer(own)})
	require.NoError(t, err)
	assert.Equal(t, own, c.plan.preparer)

	c, err = newConfig([]Option{WithSummarizer(summarize.Func(func(context.Context, string, summarize.Document, int) (summarize.Summary, error) {
		return summarize.Summary{}, nil
	}))})
	require.NoError(t, err)
	assert.Equal(t, summarize.Extractive{}, c.plan.preparer, "other summarizers fall back to the default extractive one")
}

// TestWithModelCopiesTheModel checks that an engine keeps the model as it
// was given: changing the model's switches afterwards changes neither the
// engine's plan nor its searches, and is no data race (go test -race).
func TestWithModelCopiesTheModel(t *testing.T) {
	e := newTestEngine(t)
	m := trainTestModel(t, e, TrainOptions{Seed: 1})
	trained := newTestEngine(t, WithModel(m))
	req := Request{Query: "waterproof boots", HistoryIDs: leatherFan}
	want, err := trained.Search(context.Background(), req)
	require.NoError(t, err)
	require.True(t, trained.cfg.plan.learnedRanks)

	done := make(chan struct{})
	go func() {
		defer close(done)
		m.DisableStageOne, m.DisableStageTwo, m.HistoryK = true, true, 1
	}()
	got, err := trained.Search(context.Background(), req)
	<-done
	require.NoError(t, err)
	assert.True(t, trained.cfg.plan.learnedRanks, "the engine's plan is unchanged")
	assert.Equal(t, ids(want.Results), ids(got.Results))
	assert.Equal(t, len(want.History), len(got.History))
}
