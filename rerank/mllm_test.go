package rerank

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ollama/ollama/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/internal/ollamacall"
	"hmpps/internal/ollamatest"
	"hmpps/retrieval"
)

// mllmRequest has four candidates whose texts name their wanted P(yes), two
// history items with pictures and one without, and unit vectors so that the
// Preference fallback can score them.
func mllmRequest() Request {
	v := func(x, y float32) []float32 {
		n := float32(math.Sqrt(float64(x*x + y*y)))
		return []float32{x / n, y / n}
	}
	return Request{
		Query:       "waterproof boots",
		QueryVector: v(1, 0),
		History: []Item{
			{ID: "h1", Text: "Brown leather belt.", Vector: v(0.2, 1), Image: []byte("history picture 1"), Relevance: 0.8},
			{ID: "h2", Text: "Leather wallet.", Vector: v(0.3, 1), Relevance: 0.5},
			{ID: "h3", Text: "Waxed leather boots.", Vector: v(1, 1), Image: []byte("history picture 3"), Relevance: 0.9},
		},
		Candidates: []Item{
			{ID: "c1", Text: "Candidate c1, leather boot.", Vector: v(1, 0.5), Image: []byte("c1 picture")},
			{ID: "c2", Text: "Candidate c2, mesh trail boot.", Vector: v(1, -0.5), Image: []byte("c2 picture")},
			{ID: "c3", Text: "Candidate c3, rubber boot.", Vector: v(1, 0)},
			{ID: "c4", Text: "Candidate c4, chelsea boot.", Vector: v(1, 0.8), Image: []byte("c4 picture")},
		},
	}
}

// wantP is the judge's P(yes) for each candidate of mllmRequest.
var wantP = map[string]float64{"c1": 0.9, "c2": 0.2, "c3": 0.55, "c4": 0.7}

// candidateOf finds which candidate a request is about from its last
// message.
func candidateOf(req *api.ChatRequest) string {
	last := req.Messages[len(req.Messages)-1].Content
	for id := range wantP {
		if strings.Contains(last, "Candidate "+id+",") {
			return id
		}
	}
	return ""
}

var judgeByCandidate = ollamatest.YesNo(func(req *api.ChatRequest) float64 { return wantP[candidateOf(req)] })

func TestMLLMScoresFollowTheJudge(t *testing.T) {
	srv := ollamatest.New(t, ollamatest.Config{Models: []string{"vision"}, Chat: judgeByCandidate})
	m := MLLM{Client: srv.APIClient(), Model: "vision", KeepAlive: 10 * time.Minute, Options: map[string]any{"num_ctx": 8192, "num_predict": 99}}
	req := mllmRequest()
	res, err := m.Rerank(context.Background(), req)
	require.NoError(t, err)

	require.Len(t, res.Scores, len(req.Candidates))
	for i, s := range res.Scores {
		assert.Equal(t, req.Candidates[i].ID, s.ID, "request order")
		assert.InDelta(t, wantP[s.ID], s.Score, 1e-9, s.ID)
		assert.False(t, s.Degraded, s.Reason)
	}
	calls := srv.Chats()
	require.Len(t, calls, len(req.Candidates), "one call per candidate")
	var promptTokens int
	for _, c := range calls {
		promptTokens += ollamatest.PromptTokens(&c.Request)
	}
	assert.Equal(t, retrieval.Usage{ModelCalls: 4, PromptTokens: promptTokens, GeneratedTokens: 4}, res.Usage)
}

func TestMLLMRequestShape(t *testing.T) {
	srv := ollamatest.New(t, ollamatest.Config{Chat: judgeByCandidate})
	m := MLLM{Client: srv.APIClient(), Model: "vision", KeepAlive: -1, Options: map[string]any{"num_ctx": 8192, "num_predict": 99}}
	req := mllmRequest()
	_, err := m.Rerank(context.Background(), req)
	require.NoError(t, err)

	calls := srv.Chats()
	require.Len(t, calls, 4)
	first := calls[0].Request
	for _, c := range calls {
		r := c.Request
		var raw map[string]any
		require.NoError(t, json.Unmarshal(c.Body, &raw))
		assert.Equal(t, false, raw["stream"], "streaming off")
		assert.Equal(t, false, raw["think"], "thinking off")
		assert.Equal(t, false, raw["truncate"], "an over-long prompt must fail, not lose its start")
		assert.EqualValues(t, -1, raw["keep_alive"])
		assert.Equal(t, map[string]any{"num_predict": 1.0, "temperature": 0.0, "num_ctx": 8192.0}, r.Options, "one token, greedy; the caller's extras kept")
		assert.True(t, r.Logprobs)
		assert.Equal(t, 20, r.TopLogprobs)

		require.Len(t, r.Messages, 3)
		assert.Equal(t, "system", r.Messages[0].Role)
		assert.Equal(t, "user", r.Messages[1].Role)
		assert.Equal(t, "user", r.Messages[2].Role)
		// Everything but the last message is the same, byte for byte and
		// picture for picture, for every candidate: the prompt cache.
		assert.Equal(t, first.Messages[:2], r.Messages[:2])
		assert.Contains(t, r.Messages[1].Content, "Search query: waterproof boots")
		assert.Equal(t, []api.ImageData{[]byte("history picture 1"), []byte("history picture 3")}, r.Messages[1].Images)
		// The candidate comes last, with its own picture.
		id := candidateOf(&r)
		require.NotEmpty(t, id)
		assert.NotContains(t, r.Messages[1].Content, "Candidate "+id)
		if id == "c3" {
			assert.Empty(t, r.Messages[2].Images)
			assert.NotContains(t, r.Messages[2].Content, "[picture")
		} else {
			assert.Equal(t, []api.ImageData{[]byte(id + " picture")}, r.Messages[2].Images)
			assert.Contains(t, r.Messages[2].Content, "[picture 3]", "numbered after the two history pictures")
		}
	}
}

func TestMLLMBoundsConcurrency(t *testing.T) {
	var inFlight, peak atomic.Int32
	srv := ollamatest.New(t, ollamatest.Config{Chat: func(ctx context.Context, req *api.ChatRequest) (api.ChatResponse, error) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
		return judgeByCandidate(ctx, req)
	}})
	req := mllmRequest()
	for range 3 {
		req.Candidates = append(req.Candidates, req.Candidates...)
	}
	_, err := MLLM{Client: srv.APIClient(), Model: "m", Concurrency: 3}.Rerank(context.Background(), req)
	require.NoError(t, err)
	assert.LessOrEqual(t, peak.Load(), int32(3))
	assert.Len(t, srv.Chats(), len(req.Candidates))
}

// preferenceScores are what the fallback gives mllmRequest's candidates.
func preferenceScores(t *testing.T) map[string]float64 {
	res, err := Preference{}.Rerank(context.Background(), mllmRequest())
	require.NoError(t, err)
	out := make(map[string]float64)
	for _, s := range res.Scores {
		out[s.ID] = s.Score
	}
	return out
}

func TestMLLMFallsBackPerCandidate(t *testing.T) {
	pref := preferenceScores(t)
	only := func(id string, bad ollamatest.ChatFunc) ollamatest.ChatFunc {
		return func(ctx context.Context, req *api.ChatRequest) (api.ChatResponse, error) {
			if candidateOf(req) == id {
				return bad(ctx, req)
			}
			return judgeByCandidate(ctx, req)
		}
	}
	text := func(s string) ollamatest.ChatFunc {
		return ollamatest.Text(func(*api.ChatRequest) string { return s })
	}
	fail := func(err error) ollamatest.ChatFunc {
		return func(context.Context, *api.ChatRequest) (api.ChatResponse, error) { return api.ChatResponse{}, err }
	}
	slow := func(ctx context.Context, req *api.ChatRequest) (api.ChatResponse, error) {
		select {
		case <-time.After(5 * time.Second):
		case <-ctx.Done():
		}
		return judgeByCandidate(ctx, req)
	}
	tests := []struct {
		name       string
		chat       ollamatest.ChatFunc
		wantScore  float64
		degraded   bool
		wantReason string
	}{
		{"no logprobs, yes in the text", only("c2", text("Yes")), 1, false, ""},
		{"no logprobs, no in the text", only("c2", text(" no.")), 0, false, ""},
		{"garbage text", only("c2", text("I think it depends")), pref["c2"], true, "neither yes nor no"},
		{"empty answer", only("c2", text("")), pref["c2"], true, "neither yes nor no"},
		{"500", only("c2", fail(&ollamatest.Error{Status: 500, Message: "runner crashed"})), pref["c2"], true, "runner crashed"},
		{"not JSON", only("c2", fail(&ollamatest.Raw{Status: 200, Body: "<html>"})), pref["c2"], true, "unusable answer"},
		{"slow past the timeout", only("c2", slow), pref["c2"], true, "no answer within"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := ollamatest.New(t, ollamatest.Config{Chat: tt.chat})
			start := time.Now()
			res, err := MLLM{Client: srv.APIClient(), Model: "m", Timeout: 300 * time.Millisecond}.Rerank(context.Background(), mllmRequest())
			require.NoError(t, err)
			assert.Less(t, time.Since(start), 3*time.Second)
			for _, s := range res.Scores {
				if s.ID != "c2" {
					assert.InDelta(t, wantP[s.ID], s.Score, 1e-9, s.ID)
					assert.False(t, s.Degraded)
					continue
				}
				assert.InDelta(t, tt.wantScore, s.Score, 1e-9)
				assert.Equal(t, tt.degraded, s.Degraded)
				assert.Contains(t, s.Reason, tt.wantReason)
			}
			assert.Equal(t, 4, res.Usage.ModelCalls)
		})
	}
}

func TestMLLMFallbackWithoutVectors(t *testing.T) {
	srv := ollamatest.New(t, ollamatest.Config{Chat: func(ctx context.Context, req *api.ChatRequest) (api.ChatResponse, error) {
		if candidateOf(req) == "c1" {
			return api.ChatResponse{Message: api.Message{Content: "perhaps"}}, nil
		}
		return judgeByCandidate(ctx, req)
	}})
	req := mllmRequest()
	req.QueryVector = nil
	res, err := MLLM{Client: srv.APIClient(), Model: "m"}.Rerank(context.Background(), req)
	require.NoError(t, err)
	assert.True(t, res.Scores[0].Degraded)
	assert.Zero(t, res.Scores[0].Score)
	assert.Contains(t, res.Scores[0].Reason, "fallback: rerank: query vector")
}

func TestMLLMErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	refused := ln.Addr().String()
	require.NoError(t, ln.Close())
	fail := func(err error) ollamatest.ChatFunc {
		return func(context.Context, *api.ChatRequest) (api.ChatResponse, error) { return api.ChatResponse{}, err }
	}
	tests := []struct {
		name      string
		cfg       *ollamatest.Config // nil: a refused connection
		timeout   time.Duration
		wantErr   error
		wantMsg   string
		wantCalls int // at most
	}{
		{"connection refused", nil, 0, ErrModelUnavailable, "connection refused", 0},
		{"model not found", &ollamatest.Config{Models: []string{"other"}}, 0, ErrModelNotFound, "ollama pull vision", 1},
		{"500 for every candidate", &ollamatest.Config{Chat: fail(&ollamatest.Error{Status: 500, Message: "boom"})}, 0, ErrModelUnavailable, "no candidate got an answer", 4},
		{"every call too slow", &ollamatest.Config{Delay: 5 * time.Second, Chat: judgeByCandidate}, 100 * time.Millisecond, context.DeadlineExceeded, "no answer within 100ms", 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := ollamacall.NewClient(refused, nil)
			var srv *ollamatest.Server
			if tt.cfg != nil {
				srv = ollamatest.New(t, *tt.cfg)
				client = srv.APIClient()
			}
			start := time.Now()
			res, err := MLLM{Client: client, Model: "vision", Concurrency: 1, Timeout: tt.timeout}.Rerank(context.Background(), mllmRequest())
			require.ErrorIs(t, err, tt.wantErr)
			assert.Contains(t, err.Error(), tt.wantMsg)
			assert.Less(t, time.Since(start), 3*time.Second)
			assert.Nil(t, res.Scores)
			if srv != nil {
				assert.LessOrEqual(t, len(srv.Chats()), tt.wantCalls, "a fatal error stops the remaining calls")
				assert.Equal(t, len(srv.Chats()), res.Usage.ModelCalls)
			}
		})
	}
}

func TestMLLMCanceled(t *testing.T) {
	srv := ollamatest.New(t, ollamatest.Config{Delay: 10 * time.Second, Chat: judgeByCandidate})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := MLLM{Client: srv.APIClient(), Model: "m"}.Rerank(ctx, mllmRequest())
	require.ErrorIs(t, err, context.Canceled)
	assert.Less(t, time.Since(start), 2*time.Second, "cancelling stops the outstanding calls")

	_, err = MLLM{Client: srv.APIClient(), Model: "m"}.Rerank(ctx, mllmRequest())
	require.ErrorIs(t, err, context.Canceled, "an already cancelled ctx sends nothing")
}

func TestMLLMValidate(t *testing.T) {
	c := api.NewClient(nil, nil)
	broken := PromptTemplate{System: "s", Context: "{{.Nope}}", Candidate: "c"}
	tests := []struct {
		name    string
		m       MLLM
		wantMsg string
	}{
		{"no client", MLLM{Model: "m"}, "client"},
		{"no model", MLLM{Client: c}, "model"},
		{"negative concurrency", MLLM{Client: c, Model: "m", Concurrency: -1}, "concurrency"},
		{"broken template", MLLM{Client: c, Model: "m", Template: &broken}, "Nope"},
		{"template without candidate", MLLM{Client: c, Model: "m", Template: &PromptTemplate{Context: "x"}}, "no candidate part"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.m.Validate()
			require.ErrorIs(t, err, ErrInvalidConfig)
			assert.Contains(t, err.Error(), tt.wantMsg)
			_, err = tt.m.Rerank(context.Background(), mllmRequest())
			require.ErrorIs(t, err, ErrInvalidConfig)
		})
	}
	require.NoError(t, MLLM{Client: c, Model: "m"}.Validate())
}

func TestMLLMNoCandidates(t *testing.T) {
	srv := ollamatest.New(t, ollamatest.Config{Chat: judgeByCandidate})
	req := mllmRequest()
	req.Candidates = nil
	res, err := MLLM{Client: srv.APIClient(), Model: "m"}.Rerank(context.Background(), req)
	require.NoError(t, err)
	assert.Empty(t, res.Scores)
	assert.Empty(t, srv.Chats())
}

func ExampleMLLM_Prompt() {
	m := MLLM{Model: "qwen2.5vl:7b"}
	p, err := m.Prompt(Request{
		Query:      "waterproof boots",
		History:    []Item{{Text: "Brown leather belt.", Image: []byte{1}}},
		Candidates: []Item{{Text: "Waxed leather boots, waterproof.", Image: []byte{2}}},
	})
	if err != nil {
		panic(err)
	}
	for _, msg := range p.Messages(0)[1:] {
		fmt.Printf("[%s, %d picture(s)]\n%s\n", msg.Role, len(msg.Images), msg.Content)
	}
	// Output:
	// [user, 1 picture(s)]
	// Products this customer bought before that relate to the search:
	// 1. [picture 1] Brown leather belt.
	//
	// Search query: waterproof boots
	// [user, 1 picture(s)]
	// Candidate product: [picture 2] Waxed leather boots, waterproof.
	//
	// Would this customer buy the candidate product for this search? Answer yes or no.
}
