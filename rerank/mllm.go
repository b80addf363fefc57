package rerank

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
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
	ErrModelNotFound = ollamacall.ErrModelNotFound
	// ErrModelUnavailable reports a server that cannot be reached, failed,
	// or did not answer within the timeout.
	ErrModelUnavailable = ollamacall.ErrUnavailable
	// ErrBadModelAnswer reports an answer that is neither yes nor no.
	ErrBadModelAnswer = ollamacall.ErrBadAnswer
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
// remaining calls at once. A missing model, or no candidate answered at
// all, makes Rerank return an error wrapping ErrModelNotFound or
// ErrModelUnavailable; callers such as the hmpps engine then fall back for
// the whole search. A server lost after some answers keeps them: the
// candidates it did not judge fall back, marked Degraded with the reason.
//
// In ModeCompletion the same parts are sent as one raw /api/generate
// prompt (see DefaultCompletionTemplate) instead of chat messages.
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
	// Mode is how the model is asked: ModeChat (the default) for
	// instruction-tuned models, ModeCompletion for small or base models.
	Mode MLLMMode
	// MaxCandidates is how many candidates the model judges per request:
	// the best MaxCandidates by Fallback's offline score. The others keep
	// their offline order below every judged candidate (see Rerank). If
	// zero, all; each judged candidate costs one model call.
	MaxCandidates int
}

var (
	_ Selective     = MLLM{}
	_ ContentReader = MLLM{}
	_ Fallbacker    = MLLM{}
	_ Prompter      = MLLM{}
)

// ReadsContent returns true: the model reads the items' texts and pictures.
func (MLLM) ReadsContent() bool { return true }

// WithFallback returns a copy of m whose Fallback is f, or m as it is when
// its Fallback is set already.
func (m MLLM) WithFallback(f Reranker) Reranker {
	if m.Fallback == nil {
		m.Fallback = f
	}
	return m
}

// PromptTemplate returns the template m renders its prompts with: Template,
// or the default of m's Mode.
func (m MLLM) PromptTemplate() PromptTemplate { return m.template() }

// template returns the prompt template in use.
func (m MLLM) template() PromptTemplate {
	if m.Template != nil {
		return *m.Template
	}
	if m.Mode == ModeCompletion {
		return DefaultCompletionTemplate
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
	case m.MaxCandidates < 0:
		return fmt.Errorf("%w: mllm max candidates %d is negative", ErrInvalidConfig, m.MaxCandidates)
	case m.Mode != ModeChat && m.Mode != ModeCompletion:
		return fmt.Errorf("%w: mllm mode %d is unknown", ErrInvalidConfig, m.Mode)
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
	verdict  *Verdict
	answered bool  // the server answered (even if unusably)
	err      error // why the score must come from the fallback
	usage    retrieval.Usage
}

// Rerank judges the candidates; see MLLM.
//
// It first asks the server once (per client and model) what the model can
// do: a model the server does not have fails here with an error wrapping
// ErrModelNotFound. A model without vision gets no pictures: they are left
// out of the prompt, the items are judged on their texts, and a note in
// Result.Notes says so.
//
// With MaxCandidates set and more candidates than that, only the best
// MaxCandidates by Fallback's offline score are sent to the model; the
// others get scores below every judged one (not probabilities), in their
// offline order, with a Reason saying they were not judged, and a note.
func (m MLLM) Rerank(ctx context.Context, req Request) (Result, error) {
	if err := m.Validate(); err != nil {
		return Result{}, err
	}
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("rerank: mllm: %w", err)
	}
	caps, err := m.capabilities(ctx, m.timeout())
	if err != nil {
		return Result{}, fmt.Errorf("rerank: mllm: %w", err)
	}
	var notes []string
	if !ollamacall.HasCapability(caps, "vision") {
		var dropped bool
		if req, dropped = withoutImages(req); dropped {
			notes = append(notes, fmt.Sprintf("model %q has no vision: pictures were not sent, items were judged on their texts", m.Model))
		}
	}
	if k := m.MaxCandidates; k > 0 && len(req.Candidates) > k {
		return m.rerankTop(ctx, req, k, notes)
	}
	res, err := m.judgeAll(ctx, req)
	res.Notes = append(notes, res.Notes...)
	return res, err
}

// Selected returns the indexes of the candidates Rerank sends the model,
// ascending: all of them, or with MaxCandidates set and more candidates
// than that, the best MaxCandidates by Fallback's offline score, which
// reads the vectors and kept history only. It makes no model call. The
// engine summarizes only these candidates for the model (see
// Selective).
func (m MLLM) Selected(ctx context.Context, req Request) ([]int, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	k := m.MaxCandidates
	if k <= 0 || len(req.Candidates) <= k {
		all := make([]int, len(req.Candidates))
		for i := range all {
			all[i] = i
		}
		return all, nil
	}
	order, err := m.offlineOrder(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("rerank: mllm: offline order for max candidates: %w", err)
	}
	top := order[:k]
	slices.Sort(top)
	return top, nil
}

// offlineOrder returns the candidates' indexes from best to worst by
// Fallback's offline score, equal scores in request order.
func (m MLLM) offlineOrder(ctx context.Context, req Request) ([]int, error) {
	offline, err := m.fallback(ctx, req)
	if err != nil {
		return nil, err
	}
	order := make([]int, len(req.Candidates))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return offline[order[a]].Score > offline[order[b]].Score })
	return order, nil
}

// rerankTop sends the best k candidates by the offline score to the model
// and places the others below them in offline order.
func (m MLLM) rerankTop(ctx context.Context, req Request, k int, notes []string) (Result, error) {
	order, err := m.offlineOrder(ctx, req)
	if err != nil {
		return Result{}, fmt.Errorf("rerank: mllm: offline order for max candidates: %w", err)
	}
	top, rest := order[:k], order[k:]
	sub := req
	sub.Candidates = make([]Item, k)
	for j, i := range top {
		sub.Candidates[j] = req.Candidates[i]
	}
	res, err := m.judgeAll(ctx, sub)
	if err != nil {
		return res, err
	}
	scores := make([]Score, len(req.Candidates))
	floor := 0.0
	for j, i := range top {
		scores[i] = res.Scores[j]
		floor = min(floor, res.Scores[j].Score)
	}
	for r, i := range rest {
		scores[i] = Score{ID: req.Candidates[i].ID, Score: floor - float64(r+1),
			Reason: fmt.Sprintf("not judged by the model: beyond its %d candidates, kept in offline order", k)}
	}
	res.Scores = scores
	res.Notes = append(notes, fmt.Sprintf("the model judged the best %d of %d candidates by the offline score; the others keep their offline order below them", k, len(req.Candidates)))
	return res, nil
}

// timeout returns the per-call timeout, 0 meaning none.
func (m MLLM) timeout() time.Duration {
	switch {
	case m.Timeout == 0:
		return DefaultMLLMTimeout
	case m.Timeout < 0:
		return 0
	}
	return m.Timeout
}

// judgeAll sends every candidate of req to the model.
func (m MLLM) judgeAll(ctx context.Context, req Request) (Result, error) {
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
	answered := 0
	var firstErr error
	for _, j := range js {
		if j.answered {
			answered++
		} else if firstErr == nil {
			firstErr = j.err
		}
	}
	if cause := context.Cause(callCtx); cause != nil && !errors.Is(cause, context.Canceled) {
		// A missing model is an error of the setup, never hidden; a server
		// lost in the middle of a search keeps the answers it gave, and
		// the candidates it did not answer fall back, flagged.
		if answered == 0 || errors.Is(cause, ErrModelNotFound) {
			return res, fmt.Errorf("rerank: mllm: %w", cause)
		}
		for i := range js {
			if !js[i].answered {
				js[i].err = fmt.Errorf("not judged: %w", cause)
			}
		}
	}
	if n > 0 && answered == 0 {
		return res, fmt.Errorf("rerank: mllm: no candidate got an answer: %w", firstErr)
	}

	res.Scores = make([]Score, n)
	var fallback []Score
	var fallbackErr error
	for i, j := range js {
		res.Scores[i] = Score{ID: req.Candidates[i].ID, Score: j.score, Judged: true}
		if j.err == nil {
			res.Scores[i].Verdict = j.verdict
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
	// An over-long prompt must fail rather than lose its beginning:
	// the server truncates from the front, which would drop the
	// history and the query and leave the candidate alone.
	truncate := false
	var (
		logprobs []api.Logprob
		text     string
		metrics  api.Metrics
		err      error
	)
	if m.Mode == ModeCompletion {
		req := &api.GenerateRequest{
			Model:       m.Model,
			Prompt:      p.Completion(i),
			Raw:         true,
			Images:      imageData(p.Images(i)),
			Options:     options,
			Think:       &api.ThinkValue{Value: false},
			Logprobs:    true,
			TopLogprobs: TopLogprobs,
			KeepAlive:   ollamacall.KeepAlive(m.KeepAlive),
			Truncate:    &truncate,
		}
		var resp api.GenerateResponse
		resp, err = ollamacall.Generate(ctx, m.Client, req, m.timeout())
		logprobs, text, metrics = resp.Logprobs, resp.Response, resp.Metrics
	} else {
		req := &api.ChatRequest{
			Model:       m.Model,
			Messages:    p.Messages(i),
			Options:     options,
			Think:       &api.ThinkValue{Value: false},
			Logprobs:    true,
			TopLogprobs: TopLogprobs,
			KeepAlive:   ollamacall.KeepAlive(m.KeepAlive),
			Truncate:    &truncate,
		}
		var resp api.ChatResponse
		resp, err = ollamacall.Chat(ctx, m.Client, req, m.timeout())
		logprobs, text, metrics = resp.Logprobs, resp.Message.Content, resp.Metrics
	}
	j := judgement{usage: retrieval.Usage{ModelCalls: 1}}
	if err != nil {
		j.err = err
		return j
	}
	j.answered = true
	j.usage.PromptTokens, j.usage.GeneratedTokens = metrics.PromptEvalCount, metrics.EvalCount
	if s, ok := scoreFromLogprobs(logprobs); ok {
		v, _ := verdictFromLogprobs(logprobs)
		j.score, j.verdict = s, &v
		return j
	}
	if s, ok := scoreFromText(text); ok {
		v := verdictFromText(s, text)
		j.score, j.verdict = s, &v
		return j
	}
	j.err = fmt.Errorf("%w: %q is neither yes nor no", ErrBadModelAnswer, truncateText(text, 40))
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
