package rerank

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ollama/ollama/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/internal/ollamacall"
	"hmpps/internal/ollamalive"
)

// The live tests run against the real server and model of
// scripts/ollama.sh (make test does that); see internal/ollamalive.

// liveRequest is a small search the 270M model can judge: one candidate fits
// the query and the history, the others do not. Two items carry pictures,
// which a text-only model must not get.
func liveRequest() Request {
	return Request{
		Query: "knitting magazine",
		History: []Item{
			{ID: "h1", Text: "Magazine about quilting and sewing patterns", Image: []byte("history picture")},
		},
		Candidates: []Item{
			{ID: "knit", Text: "Knitting and crochet patterns magazine, monthly", Image: []byte("candidate picture")},
			{ID: "cars", Text: "Car and truck racing magazine"},
			{ID: "yarn", Text: "Yarn crafts quarterly with knitting projects"},
			{ID: "games", Text: "Computer gaming news weekly"},
		},
	}
}

func TestMLLMCompletionLive(t *testing.T) {
	env := ollamalive.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	client := ollamacall.NewClient(env.Host, nil)
	m := MLLM{Client: client, Model: env.Model, Mode: ModeCompletion, Timeout: 5 * time.Minute}
	req := liveRequest()
	start := time.Now()
	res, err := m.Rerank(ctx, req)
	require.NoError(t, err)
	t.Logf("%d candidates in %v: %+v notes %q", len(req.Candidates), time.Since(start), res.Usage, res.Notes)
	require.Len(t, res.Scores, len(req.Candidates))
	distinct := map[float64]bool{}
	for _, s := range res.Scores {
		t.Logf("%-6s %.4f", s.ID, s.Score)
		assert.False(t, s.Degraded, "%s: %s", s.ID, s.Reason)
		assert.Greater(t, s.Score, 0.0, "graded by log-probabilities, not the text fallback")
		assert.Less(t, s.Score, 1.0, "graded by log-probabilities, not the text fallback")
		distinct[s.Score] = true
	}
	assert.Greater(t, len(distinct), 1, "scores differ across candidates")
	require.Len(t, res.Notes, 1, "the text-only model got no pictures, and says so")
	assert.Contains(t, res.Notes[0], "has no vision")
	assert.Equal(t, len(req.Candidates), res.Usage.ModelCalls)

	// The answer position's real alternatives: both answers among them, in
	// spellings classify knows. The fixture records what this model gave.
	p, err := m.Prompt(withoutImagesLive(req))
	require.NoError(t, err)
	resp, err := ollamacall.Generate(ctx, client, &api.GenerateRequest{Model: env.Model, Prompt: p.Completion(0), Raw: true,
		Options: map[string]any{"num_predict": 1, "temperature": 0}, Logprobs: true, TopLogprobs: TopLogprobs}, 5*time.Minute)
	require.NoError(t, err)
	require.NotEmpty(t, resp.Logprobs)
	var yesToks, noToks []string
	for _, alt := range resp.Logprobs[0].TopLogprobs {
		switch classify(alt.Token) {
		case yes:
			yesToks = append(yesToks, alt.Token)
		case no:
			noToks = append(noToks, alt.Token)
		}
	}
	t.Logf("answer %q; yes spellings %q, no spellings %q", resp.Response, yesToks, noToks)
	assert.NotEmpty(t, yesToks)
	assert.NotEmpty(t, noToks)
	fixture := loadTokenFixture(t)
	for _, tok := range append(yesToks, noToks...) {
		assert.Contains(t, append(fixture.Yes, fixture.No...), tok, "a spelling the fixture does not record")
	}
}

// withoutImagesLive is the request as the text-only model sees it.
func withoutImagesLive(req Request) Request {
	req, _ = withoutImages(req)
	return req
}

// TestMLLMPromptCacheLive checks on a private server, logging at debug
// level, that the 2nd..Nth candidate of one search reuse the shared prefix
// from the server's cache. prompt_eval_count cannot show it: this Ollama
// reports the whole prompt's length whatever the cache held.
func TestMLLMPromptCacheLive(t *testing.T) {
	env := ollamalive.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	srv := ollamalive.Start(ctx, t, env, "OLLAMA_DEBUG=1")
	client := ollamacall.NewClient(srv.Host, nil)
	m := MLLM{Client: client, Model: env.Model, Mode: ModeCompletion, Concurrency: 1, Timeout: 5 * time.Minute}
	req := liveRequest()
	p, err := m.Prompt(withoutImagesLive(req))
	require.NoError(t, err)
	for i := range req.Candidates {
		start := time.Now()
		resp, err := ollamacall.Generate(ctx, client, &api.GenerateRequest{Model: env.Model, Prompt: p.Completion(i), Raw: true,
			Options: map[string]any{"num_predict": 1, "temperature": 0}, Logprobs: true, TopLogprobs: TopLogprobs}, 5*time.Minute)
		require.NoError(t, err)
		t.Logf("candidate %d: prompt_eval_count %d, prompt eval %v, total %v, wall %v", i+1,
			resp.PromptEvalCount, resp.PromptEvalDuration.Round(time.Millisecond), resp.TotalDuration.Round(time.Millisecond),
			time.Since(start).Round(time.Millisecond))
	}
	log, err := os.ReadFile(srv.Log)
	require.NoError(t, err)
	slots := regexp.MustCompile(`loading cache slot.* prompt=(\d+) used=(\d+) remaining=(\d+)`).FindAllSubmatch(log, -1)
	require.Len(t, slots, len(req.Candidates), "one cache lookup per call")
	for i, s := range slots {
		prompt, _ := strconv.Atoi(string(s[1]))
		used, _ := strconv.Atoi(string(s[2]))
		remaining, _ := strconv.Atoi(string(s[3]))
		t.Logf("candidate %d: %d prompt tokens, %d from the cache, %d evaluated", i+1, prompt, used, remaining)
		if i == 0 {
			assert.Zero(t, used, "a fresh server has nothing cached")
			continue
		}
		assert.Greater(t, used, prompt*3/4, "the shared prefix comes from the cache")
		assert.Less(t, remaining, 40, "only about the candidate's own tokens are evaluated")
	}
}

func TestMLLMChatModeOnBaseModelLive(t *testing.T) {
	env := ollamalive.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	m := MLLM{Client: ollamacall.NewClient(env.Host, nil), Model: env.Model, Mode: ModeChat, Timeout: 5 * time.Minute}
	req := liveRequest()
	res, err := m.Rerank(ctx, req)
	require.NoError(t, err, "the server answered, so the search goes on")
	require.Len(t, res.Scores, len(req.Candidates))
	degraded := 0
	for _, s := range res.Scores {
		t.Logf("%-6s %.4f degraded=%v %s", s.ID, s.Score, s.Degraded, s.Reason)
		if s.Degraded {
			degraded++
			assert.Contains(t, s.Reason, "neither yes nor no", "the honest reason: the base model does not answer yes or no")
		} else {
			assert.GreaterOrEqual(t, s.Score, 0.0)
			assert.LessOrEqual(t, s.Score, 1.0)
		}
	}
	t.Logf("chat mode on the base model: %d of %d candidates degraded", degraded, len(req.Candidates))
}

func TestMLLMMissingModelLive(t *testing.T) {
	env := ollamalive.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	_, err := MLLM{Client: ollamacall.NewClient(env.Host, nil), Model: "no-such-model", Mode: ModeCompletion}.Rerank(ctx, liveRequest())
	require.ErrorIs(t, err, ErrModelNotFound)
	assert.Contains(t, err.Error(), "no-such-model")
	assert.Less(t, time.Since(start), 30*time.Second, "at the first call")
}

// killingTransport kills the server once it has answered after generate
// answers.
type killingTransport struct {
	after    int32
	answered atomic.Int32
	kill     func()
}

func (k *killingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil && r.URL.Path == "/api/generate" && k.answered.Add(1) == k.after {
		k.kill()
	}
	return resp, err
}

func TestMLLMServerKilledMidSearchLive(t *testing.T) {
	env := ollamalive.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	srv := ollamalive.Start(ctx, t, env)
	kt := &killingTransport{after: 2, kill: srv.Kill}
	client := ollamacall.NewClient(srv.Host, &http.Client{Transport: kt})
	m := MLLM{Client: client, Model: env.Model, Mode: ModeCompletion, Concurrency: 1, Timeout: 5 * time.Minute}
	req := liveRequest()
	req.Candidates = append(req.Candidates, Item{ID: "wool", Text: "Wool and fibre arts magazine"}, Item{ID: "golf", Text: "Golf digest"})

	res, err := m.Rerank(ctx, req)
	require.NoError(t, err, "the answers given before the crash are kept")
	require.Len(t, res.Scores, len(req.Candidates))
	judged, flagged := 0, 0
	for _, s := range res.Scores {
		t.Logf("%-6s %.4f degraded=%v %s", s.ID, s.Score, s.Degraded, s.Reason)
		if s.Degraded {
			flagged++
			assert.NotEmpty(t, s.Reason)
		} else {
			judged++
		}
	}
	assert.Equal(t, 2, judged, "the two answered before the kill")
	assert.Equal(t, len(req.Candidates)-2, flagged, "every unfinished candidate falls back, flagged")

	// The next search after a restart on the same address works.
	ollamalive.StartOn(ctx, t, env, srv.Port())
	kt.after = -1
	res, err = m.Rerank(ctx, req)
	require.NoError(t, err)
	for _, s := range res.Scores {
		assert.False(t, s.Degraded, "%s: %s", s.ID, s.Reason)
	}
}

func TestMLLMTimeoutLive(t *testing.T) {
	env := ollamalive.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	m := MLLM{Client: ollamacall.NewClient(env.Host, nil), Model: env.Model, Mode: ModeCompletion, Timeout: 5 * time.Millisecond}
	start := time.Now()
	_, err := m.Rerank(ctx, liveRequest())
	require.ErrorIs(t, err, ErrModelUnavailable, "no answer in time: the caller falls back (the engine marks the search degraded)")
	assert.Contains(t, err.Error(), "no answer within 5ms")
	assert.Less(t, time.Since(start), time.Minute, "not hung")
}

// tokenFixture is testdata/gemma3-270m-answer-tokens.json: the answer
// position's alternatives the real server returned.
type tokenFixture struct {
	Model string   `json:"model"`
	Yes   []string `json:"yes"`
	No    []string `json:"no"`
	Other []string `json:"other"`
}

func loadTokenFixture(t *testing.T) tokenFixture {
	t.Helper()
	b, err := os.ReadFile("testdata/gemma3-270m-answer-tokens.json")
	require.NoError(t, err)
	var f tokenFixture
	require.NoError(t, json.Unmarshal(b, &f))
	return f
}

func TestRealAnswerTokensAreRecognized(t *testing.T) {
	f := loadTokenFixture(t)
	for _, tok := range f.Yes {
		assert.Equal(t, yes, classify(tok), "%q", tok)
	}
	for _, tok := range f.No {
		assert.Equal(t, no, classify(tok), "%q", tok)
	}
	for _, tok := range f.Other {
		assert.Equal(t, neither, classify(tok), "%q", tok)
	}
}
