package rerank

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/ollama/ollama/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/internal/ollamacall"
	"hmpps/internal/ollamatest"
)

func TestVerdictFromLogprobs(t *testing.T) {
	alt := func(tok string, p float64) api.TokenLogprob {
		return api.TokenLogprob{Token: tok, Logprob: math.Log(p)}
	}
	tests := []struct {
		name     string
		alts     []api.TokenLogprob
		logOdds  float64
		mass     float64
		notFound bool
	}{
		{"both sides, spellings summed", []api.TokenLogprob{alt(" yes", 0.4), alt("Yes", 0.2), alt(" no", 0.15), alt("NO", 0.05), alt(" the", 0.1)},
			math.Log(0.6 / 0.2), 0.8, false},
		{"no missing: bounded by the least listed", []api.TokenLogprob{alt(" yes", 0.5), alt(" the", 0.3), alt(" a", 0.01)},
			math.Log(0.5 / 0.01), 0.5, false},
		{"no missing: bounded by what the list leaves", []api.TokenLogprob{alt(" yes", 0.995), alt(" a", 0.004)},
			math.Log(0.995 / 0.001), 0.995, false},
		{"everything on yes: clamped", []api.TokenLogprob{{Token: "yes", Logprob: 0}}, MaxLogOdds, 1, false},
		{"neither", []api.TokenLogprob{alt(" the", 0.5), alt(" a", 0.2)}, 0, 0, true},
		{"not a probability", []api.TokenLogprob{{Token: "yes", Logprob: 3}}, 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, ok := verdictFromLogprobs([]api.Logprob{{TopLogprobs: tt.alts}})
			require.Equal(t, !tt.notFound, ok)
			if tt.notFound {
				return
			}
			assert.InDelta(t, tt.logOdds, v.LogOdds, 1e-9)
			assert.InDelta(t, tt.mass, v.Mass, 1e-9)
			s, ok := scoreFromLogprobs([]api.Logprob{{TopLogprobs: tt.alts}})
			require.True(t, ok)
			if s > 0 && s < 1 {
				assert.InDelta(t, s, v.P(), 1e-9, "with both sides listed, the verdict's P is the score")
			}
		})
	}
}

func TestVerdictFromText(t *testing.T) {
	assert.Equal(t, Verdict{LogOdds: MaxLogOdds, Answer: "Yes."}, verdictFromText(1, "Yes."))
	assert.Equal(t, Verdict{LogOdds: -MaxLogOdds, Answer: "no"}, verdictFromText(0, "no"))
}

// TestMLLMReportsVerdicts checks that judged candidates carry the answer
// and the others are marked unjudged.
func TestMLLMReportsVerdicts(t *testing.T) {
	srv := ollamatest.New(t, ollamatest.Config{Models: []string{"judge"}, Chat: ollamatest.YesNo(func(req *api.ChatRequest) float64 {
		if ollamatest.Prompt(req) != "" && req.Messages[len(req.Messages)-1].Content[len("Candidate product: "):][:1] == "K" {
			return 0.8
		}
		return 0.3
	})})
	m := MLLM{Client: ollamacall.NewClient(srv.URL, nil), Model: "judge", MaxCandidates: 2, Fallback: Func(func(_ context.Context, req Request) (Result, error) {
		res := Result{Scores: make([]Score, len(req.Candidates))}
		for i, c := range req.Candidates {
			res.Scores[i] = Score{ID: c.ID, Score: float64(len(req.Candidates) - i)}
		}
		return res, nil
	})}
	req := Request{Query: "knitting magazine", Candidates: []Item{
		{ID: "a", Text: "Knitting monthly"}, {ID: "b", Text: "Racing weekly"}, {ID: "c", Text: "Knitting quarterly"}}}
	res, err := m.Rerank(context.Background(), req)
	require.NoError(t, err)
	require.Len(t, res.Scores, 3)
	for i, want := range []float64{0.8, 0.3} {
		s := res.Scores[i]
		assert.True(t, s.Judged)
		require.NotNil(t, s.Verdict)
		assert.InDelta(t, math.Log(want/(1-want)), s.Verdict.LogOdds, 1e-9)
		assert.InDelta(t, 0.9, s.Verdict.Mass, 1e-9, "the fake leaves a tenth to other tokens")
		assert.InDelta(t, want, s.Score, 1e-9)
	}
	assert.False(t, res.Scores[2].Judged, "beyond MaxCandidates")
	assert.Nil(t, res.Scores[2].Verdict)
}

func TestJudgeID(t *testing.T) {
	base := MLLM{Model: "m"}
	assert.Regexp(t, `^m, chat, prompt [0-9a-f]{8}$`, base.JudgeID())
	other := base
	other.Mode = ModeCompletion
	assert.NotEqual(t, base.JudgeID(), other.JudgeID())
	tmpl := DefaultPromptTemplate
	tmpl.System += " Be brief."
	other = base
	other.Template = &tmpl
	assert.NotEqual(t, base.JudgeID(), other.JudgeID())
	other = base
	other.MaxCandidates, other.Concurrency = 5, 2
	assert.Equal(t, base.JudgeID(), other.JudgeID(), "how many are judged, and how fast, change no verdict")
}

// TestInstructAnswerTokensAreRecognized reads what the instruct judges of
// make eval-model put among the top 20 alternatives of their answer, in
// both modes (testdata/instruct-answer-tokens.json, recorded from the real
// server): every spelling of yes and no is read as such, and nothing else.
func TestInstructAnswerTokensAreRecognized(t *testing.T) {
	b, err := os.ReadFile("testdata/instruct-answer-tokens.json")
	require.NoError(t, err)
	var records []struct {
		Model, Mode    string
		Yes, No, Other []string
	}
	require.NoError(t, json.Unmarshal(b, &records))
	require.Len(t, records, 6, "three models, two modes")
	for _, r := range records {
		assert.NotEmpty(t, r.Yes, "%s %s", r.Model, r.Mode)
		assert.NotEmpty(t, r.No, "%s %s", r.Model, r.Mode)
		for _, tok := range r.Yes {
			assert.Equal(t, yes, classify(tok), "%s %s: %q", r.Model, r.Mode, tok)
		}
		for _, tok := range r.No {
			assert.Equal(t, no, classify(tok), "%s %s: %q", r.Model, r.Mode, tok)
		}
		for _, tok := range r.Other {
			assert.Equal(t, neither, classify(tok), "%s %s: %q", r.Model, r.Mode, tok)
		}
	}
}
