package rerank

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ollama/ollama/api"

	"hmpps/internal/ollamacall"
	"hmpps/retrieval"
)

// Errors of the MLLM reranker. The model errors are the same values as
// retrieval's, so one errors.Is test works whichever stage failed.
var (
	// ErrInvalidConfig reports an MLLM without a client or model, a
	// negative setting, or a prompt template that does not render.
	ErrInvalidConfig = errors.New("rerank: invalid configuration")
	// ErrModelNotFound reports a model the Ollama server does not have.
	ErrModelNotFound = retrieval.ErrModelNotFound
	// ErrModelUnavailable reports a server that cannot be reached, failed,
	// or did not answer within the timeout.
	ErrModelUnavailable = retrieval.ErrModelUnavailable
	// ErrBadModelAnswer reports an answer that is neither yes nor no.
	ErrBadModelAnswer = retrieval.ErrBadModelAnswer
)

// Defaults of the MLLM fields.
const (
	// DefaultMLLMConcurrency is how many candidates are judged at once. It
	// matches Ollama's usual number of parallel requests per model; more
	// only queue on the server.
	DefaultMLLMConcurrency = 4
	// DefaultMLLMTimeout bounds one candidate's call, including waiting in
	// the server's queue and loading the model on first use.
	DefaultMLLMTimeout = 2 * time.Minute
	// TopLogprobs is how many alternatives of the answer token are asked
	// for: the most Ollama allows, so that every spelling of yes and no
	// with any weight is seen.
	TopLogprobs = 20
)

// MLLM is the paper's pointwise reranker on a vision model served by Ollama.
// For each candidate it sends one chat request: the instruction, the kept
// history (texts and pictures) and the query, then the candidate (text and
// picture) last, rendered by Template (see PromptTemplate for why this order
// lets the server reuse its prompt cache). It asks for a single token at
// temperature 0 with thinking off and the top 20 log-probabilities of that
// token, and scores
//
//	P(yes) / (P(yes) + P(no))
//
// summing every spelling of each answer among the alternatives. When the
// alternatives hold neither (a server or model without log-probabilities),
// the generated word decides: 1 for yes, 0 for no. When that fails too, or
// the call fails, the candidate gets Fallback's score, marked Degraded with
// the reason; such scores are on Fallback's scale, not probabilities.
//
// Candidates are judged Concurrency at a time, each call bounded by
// Timeout. Cancelling ctx stops the outstanding calls and Rerank returns
// the context's error. A missing model or an unreachable server stops the
// remaining calls at once and Rerank returns an error wrapping
// ErrModelNotFound or ErrModelUnavailable; so it does when no candidate got
// an answer at all. Callers such as the hmpps engine then fall back for the
// whole search.
//
// Usage reports every call sent and the token counts the server returned.
// An MLLM is safe for concurrent use as long as its fields are not changed.
type MLLM struct {
	// Client talks to the Ollama server; required.
	Client *api.Client
	// Model is the vision model, e.g. "qwen2.5vl:7b"; required. A text-only
	// model works too when items carry no pictures.
	Model string
	// Template renders the prompt. If nil, DefaultPromptTemplate.
	Template *PromptTemplate
	// Concurrency is how many calls run at once. If zero,
	// DefaultMLLMConcurrency.
	Concurrency int
	// Timeout bounds each call. If zero, DefaultMLLMTimeout; negative means
	// no limit beyond ctx.
	Timeout time.Duration
	// KeepAlive is how long the server keeps the model loaded after a call.
	// If zero, the server's default (5 minutes); negative keeps it loaded.
	KeepAlive time.Duration
	// Options are extra model options sent with every call, such as
	// "num_ctx" for prompts with many pictures. The reranker's own settings
	// (num_predict 1, temperature 0) take precedence.
	Options map[string]any
	// Fallback scores the candidates the model could not. If nil,
	// Preference{}.
	Fallback Reranker
}

var _ Reranker = MLLM{}

// template returns the prompt template in use.
func (m MLLM) template() PromptTemplate {
	if m.Template != nil {
		return *m.Template
	}
	return DefaultPromptTemplate
}

// Validate reports a missing client or model, a negative setting, or a
// template that does not render.
func (m MLLM) Validate() error {
	switch {
	case m.Client == nil:
		return fmt.Errorf("%w: mllm needs an ollama client", ErrInvalidConfig)
	case m.Model == "":
		return fmt.Errorf("%w: mllm needs a model name", ErrInvalidConfig)
	case m.Concurrency < 0:
		return fmt.Errorf("%w: mllm concurrency %d is negative", ErrInvalidConfig, m.Concurrency)
	}
	return m.template().Validate()
}

// Prompt renders the prompt Rerank would send for req. Training data export
// and prompt-size measurements use it, so that they see exactly what the
// model sees.
func (m MLLM) Prompt(req Request) (*Prompt, error) {
	return m.template().Render(req.Query, req.History, req.Candidates)
}

// judgement is the outcome of one candidate's call.
type judgement struct {
	score    float64
	answered bool  // the server answered (even if unusably)
	err      error // why the score must come from the fallback
	usage    retrieval.Usage
}

// Rerank judges every candidate; see MLLM.
func (m MLLM) Rerank(ctx context.Context, req Request) (Result, error) {
	if err := m.Validate(); err != nil {
		return Result{}, err
	}
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("rerank: mllm: %w", err)
	}
	prompt, err := m.Prompt(req)
	if err != nil {
		return Result{}, err
	}
	n := len(req.Candidates)
	js := make([]judgement, n)

	callCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sem := make(chan struct{}, cmpOr(m.Concurrency, DefaultMLLMConcurrency))
	var wg sync.WaitGroup
launch:
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-callCtx.Done():
			break launch
		}
		wg.Go(func() {
			defer func() { <-sem }()
			js[i] = m.judge(callCtx, prompt, i)
			if js[i].err != nil && ollamacall.IsFatal(js[i].err) {
				cancel(js[i].err)
			}
		})
	}
	wg.Wait()

	var res Result
	for _, j := range js {
		res.Usage = res.Usage.Add(j.usage)
	}
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("rerank: mllm: %w", err)
	}
	if cause := context.Cause(callCtx); cause != nil && !errors.Is(cause, context.Canceled) {
		return res, fmt.Errorf("rerank: mllm: %w", cause)
	}
	answered := 0
	var firstErr error
	for _, j := range js {
		if j.answered {
			answered++
		} else if firstErr == nil {
			firstErr = j.err
		}
	}
	if n > 0 && answered == 0 {
		return res, fmt.Errorf("rerank: mllm: no candidate got an answer: %w", firstErr)
	}

	res.Scores = make([]Score, n)
	var fallback []Score
	var fallbackErr error
	for i, j := range js {
		res.Scores[i] = Score{ID: req.Candidates[i].ID, Score: j.score}
		if j.err == nil {
			continue
		}
		if fallback == nil && fallbackErr == nil {
			fallback, fallbackErr = m.fallback(ctx, req)
		}
		res.Scores[i].Degraded = true
		res.Scores[i].Reason = "mllm: " + j.err.Error()
		if fallbackErr != nil {
			res.Scores[i].Score = 0
			res.Scores[i].Reason += "; fallback: " + fallbackErr.Error()
		} else {
			res.Scores[i].Score = fallback[i].Score
		}
	}
	return res, nil
}

// judge sends candidate i's request and reads the answer.
func (m MLLM) judge(ctx context.Context, p *Prompt, i int) judgement {
	options := make(map[string]any, len(m.Options)+2)
	for k, v := range m.Options {
		options[k] = v
	}
	options["num_predict"] = 1
	options["temperature"] = 0
	truncate := false
	req := &api.ChatRequest{
		Model:       m.Model,
		Messages:    p.Messages(i),
		Options:     options,
		Think:       &api.ThinkValue{Value: false},
		Logprobs:    true,
		TopLogprobs: TopLogprobs,
		KeepAlive:   ollamacall.KeepAlive(m.KeepAlive),
		// An over-long prompt must fail rather than lose its beginning:
		// the server truncates from the front, which would drop the
		// history and the query and leave the candidate alone.
		Truncate: &truncate,
	}
	timeout := m.Timeout
	switch {
	case timeout == 0:
		timeout = DefaultMLLMTimeout
	case timeout < 0:
		timeout = 0
	}
	resp, err := ollamacall.Chat(ctx, m.Client, req, timeout)
	j := judgement{usage: retrieval.Usage{ModelCalls: 1}}
	if err != nil {
		j.err = err
		return j
	}
	j.answered = true
	j.usage.PromptTokens, j.usage.GeneratedTokens = resp.PromptEvalCount, resp.EvalCount
	if s, ok := scoreFromLogprobs(resp.Logprobs); ok {
		j.score = s
		return j
	}
	if s, ok := scoreFromText(resp.Message.Content); ok {
		j.score = s
		return j
	}
	j.err = fmt.Errorf("%w: %q is neither yes nor no", ErrBadModelAnswer, truncateText(resp.Message.Content, 40))
	return j
}

// fallback scores all candidates with the fallback reranker.
func (m MLLM) fallback(ctx context.Context, req Request) ([]Score, error) {
	f := m.Fallback
	if f == nil {
		f = Preference{}
	}
	res, err := f.Rerank(ctx, req)
	if err == nil && len(res.Scores) != len(req.Candidates) {
		err = fmt.Errorf("returned %d scores for %d candidates", len(res.Scores), len(req.Candidates))
	}
	return res.Scores, err
}

func cmpOr(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

// truncateText cuts s to n runes for an error message.
func truncateText(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
