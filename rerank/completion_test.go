package rerank

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/internal/ollamatest"
)

// completionCandidate finds which candidate of mllmRequest a raw prompt is
// about from its last lines.
func completionCandidate(prompt string) string {
	_, last, _ := strings.Cut(prompt, "Search query: waterproof boots\n")
	for id := range wantP {
		if strings.Contains(last, "Candidate "+id+",") {
			return id
		}
	}
	return ""
}

var judgeCompletion = ollamatest.YesNoCompletion(func(prompt string) float64 { return wantP[completionCandidate(prompt)] })

func TestMLLMCompletionMode(t *testing.T) {
	tests := []struct {
		name       string
		caps       []string
		wantImages bool
	}{
		{"vision model gets the pictures", nil, true},
		{"text-only model gets none, and a note says so", []string{"completion"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := ollamatest.New(t, ollamatest.Config{Generate: judgeCompletion, Capabilities: tt.caps})
			m := MLLM{Client: srv.APIClient(), Model: "base", Mode: ModeCompletion, Options: map[string]any{"num_ctx": 4096}}
			req := mllmRequest()
			res, err := m.Rerank(context.Background(), req)
			require.NoError(t, err)
			require.Len(t, res.Scores, len(req.Candidates))
			for i, s := range res.Scores {
				assert.Equal(t, req.Candidates[i].ID, s.ID)
				assert.InDelta(t, wantP[s.ID], s.Score, 1e-9, "every spelling of yes and no summed")
				assert.False(t, s.Degraded, s.Reason)
			}
			assert.Empty(t, srv.Chats(), "completion mode does not chat")
			calls := srv.Generates()
			require.Len(t, calls, len(req.Candidates))
			var prefix string
			for _, c := range calls {
				r := c.Request
				var raw map[string]any
				require.NoError(t, json.Unmarshal(c.Body, &raw))
				assert.Equal(t, true, raw["raw"], "no template: the few-shot text is the whole prompt")
				assert.Equal(t, false, raw["stream"])
				assert.Equal(t, map[string]any{"num_predict": 1.0, "temperature": 0.0, "num_ctx": 4096.0}, r.Options)
				assert.True(t, r.Logprobs)
				assert.Equal(t, TopLogprobs, r.TopLogprobs)
				assert.True(t, strings.HasPrefix(r.Prompt, DefaultCompletionTemplate.System), "few-shot block first")
				assert.True(t, strings.HasSuffix(r.Prompt, "\nRelevant:"), "the next token is the answer")
				// Everything before the candidate is the same in every call.
				shared, _, ok := strings.Cut(r.Prompt, "Search query: waterproof boots\n")
				require.True(t, ok)
				if prefix == "" {
					prefix = shared
				}
				assert.Equal(t, prefix, shared)
				if tt.wantImages {
					assert.NotEmpty(t, r.Images)
					assert.Contains(t, r.Prompt, "[picture")
				} else {
					assert.Empty(t, r.Images)
					assert.NotContains(t, r.Prompt, "[picture")
				}
			}
			if tt.wantImages {
				assert.Empty(t, res.Notes)
			} else {
				require.Len(t, res.Notes, 1)
				assert.Contains(t, res.Notes[0], "has no vision")
			}
		})
	}
}

func TestMLLMChatModeWithoutVision(t *testing.T) {
	srv := ollamatest.New(t, ollamatest.Config{Chat: judgeByCandidate, Capabilities: []string{"completion"}})
	res, err := MLLM{Client: srv.APIClient(), Model: "text"}.Rerank(context.Background(), mllmRequest())
	require.NoError(t, err)
	for _, c := range srv.Chats() {
		for _, msg := range c.Request.Messages {
			assert.Empty(t, msg.Images)
			assert.NotContains(t, msg.Content, "[picture")
		}
	}
	require.Len(t, res.Notes, 1)
	assert.Contains(t, res.Notes[0], `model "text" has no vision`)
}

func TestMLLMAsksCapabilitiesOnce(t *testing.T) {
	srv := ollamatest.New(t, ollamatest.Config{Chat: judgeByCandidate})
	m := MLLM{Client: srv.APIClient(), Model: "vision"}
	for range 3 {
		_, err := m.Rerank(context.Background(), mllmRequest())
		require.NoError(t, err)
	}
	assert.Equal(t, 1, srv.Shows())
}

func TestMLLMMaxCandidates(t *testing.T) {
	tests := []struct {
		name      string
		max       int
		wantCalls int
	}{
		{"all when zero", 0, 4},
		{"all when not fewer", 4, 4},
		{"best two by the offline score", 2, 2},
		{"one", 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := ollamatest.New(t, ollamatest.Config{Chat: judgeByCandidate})
			req := mllmRequest()
			offline, err := Preference{}.Rerank(context.Background(), req)
			require.NoError(t, err)
			res, err := MLLM{Client: srv.APIClient(), Model: "vision", MaxCandidates: tt.max}.Rerank(context.Background(), req)
			require.NoError(t, err)
			require.Len(t, res.Scores, 4)
			require.Len(t, srv.Chats(), tt.wantCalls)
			var judged, rest []Score
			for i, s := range res.Scores {
				assert.Equal(t, req.Candidates[i].ID, s.ID)
				assert.False(t, s.Degraded)
				if s.Reason == "" {
					judged = append(judged, s)
					assert.InDelta(t, wantP[s.ID], s.Score, 1e-9)
				} else {
					assert.Contains(t, s.Reason, "not judged by the model")
					rest = append(rest, s)
				}
			}
			require.Len(t, judged, tt.wantCalls)
			// Selected names the judged candidates, without a model call, and
			// without the texts: they are what a caller leaves out for the
			// others.
			textless := req
			textless.Candidates = slices.Clone(req.Candidates)
			for i := range textless.Candidates {
				textless.Candidates[i].Text, textless.Candidates[i].Image = "", nil
			}
			calls := len(srv.Chats())
			selected, err := MLLM{Client: srv.APIClient(), Model: "vision", MaxCandidates: tt.max}.Selected(context.Background(), textless)
			require.NoError(t, err)
			assert.Equal(t, calls, len(srv.Chats()), "Selected makes no model call")
			assert.True(t, slices.IsSorted(selected), "ascending")
			var selectedIDs, judgedIDs []string
			for _, i := range selected {
				selectedIDs = append(selectedIDs, req.Candidates[i].ID)
			}
			for _, j := range judged {
				judgedIDs = append(judgedIDs, j.ID)
			}
			assert.Equal(t, judgedIDs, selectedIDs, "Selected names the candidates Rerank judges")
			for _, j := range judged {
				for _, r := range rest {
					assert.Greater(t, j.Score, r.Score, "judged candidates rank above the rest")
					assert.Greater(t, offlineScore(offline, j.ID), offlineScore(offline, r.ID), "the best by the offline score were judged")
				}
			}
			for a := range rest {
				for b := range rest {
					if offlineScore(offline, rest[a].ID) > offlineScore(offline, rest[b].ID) {
						assert.Greater(t, rest[a].Score, rest[b].Score, "the rest keep their offline order")
					}
				}
			}
			if tt.wantCalls < 4 {
				assert.Contains(t, strings.Join(res.Notes, "\n"), "judged the best")
			}
		})
	}
}

func offlineScore(res Result, id string) float64 {
	for _, s := range res.Scores {
		if s.ID == id {
			return s.Score
		}
	}
	return 0
}

func TestCompletionPromptLayout(t *testing.T) {
	p, err := DefaultCompletionTemplate.Render("knitting magazine", nil, []Item{{ID: "a", Text: "Yarn quarterly."}})
	require.NoError(t, err)
	got := p.Completion(0)
	assert.True(t, strings.HasSuffix(got, "Bought before: nothing related\nSearch query: knitting magazine\nCandidate: Yarn quarterly.\nRelevant:"), got)
	assert.Equal(t, 4, strings.Count(got, "\nRelevant: "), "four judged examples")
	assert.Equal(t, "completion", ModeCompletion.String())
	assert.Equal(t, "chat", ModeChat.String())
}
