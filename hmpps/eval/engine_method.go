package eval

import (
	"context"
	"fmt"

	"hmpps/hmpps"
	"hmpps/internal/promptsize"
)

// NewEngine returns an hmpps.Engine configured by opts that holds every
// product of the catalog, ready for an EngineMethod.
func NewEngine(ctx context.Context, products []hmpps.Product, opts ...hmpps.Option) (*hmpps.Engine, error) {
	e, err := hmpps.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	if err := e.Upsert(ctx, products...); err != nil {
		e.Close()
		return nil, fmt.Errorf("eval: %w", err)
	}
	return e, nil
}

// HistoryUse is what an EngineMethod sends the engine as history.
type HistoryUse int

const (
	// FilteredHistory sends the task's history and lets stage one keep what
	// the engine's HistoryFilter keeps: the pipeline as configured.
	FilteredHistory HistoryUse = iota
	// AllHistory sends the history with Request.HistoryK set to its length,
	// so stage one keeps every item. Pair it with an engine whose
	// HistoryFilter has no MinScore (retrieval.HistoryFilter{} does not) to
	// ablate stage one.
	AllHistory
	// NoHistory sends no history: the ranking is not personalized.
	NoHistory
)

// EngineMethod ranks a task's candidates with an hmpps.Engine, passing them
// as Request.CandidateIDs and the user's history as Request.HistoryIDs, or,
// with a Depth, letting the engine retrieve its own candidates from the
// whole catalog. The engine's options and History select the full pipeline
// or an ablation.
type EngineMethod struct {
	// Label is the method's name in reports.
	Label string
	// Engine must hold every candidate and history product (see NewEngine).
	Engine *hmpps.Engine
	// History is what is sent as history.
	History HistoryUse
	// Depth, when positive, is the whole-catalog mode (see
	// EvaluateCatalog): the engine retrieves and ranks from its catalog, as
	// a shop's search does, with Request.CandidateIDs empty,
	// ExcludeHistory set and TopN = Depth. Its results score by their
	// place (Depth for the first, down to 1), so the engine's own order,
	// tie-breaks included, is the ranking; the task's candidates it did not
	// return score 0, and results that are not candidates (a purchase the
	// engine was not told of, with NoHistory) are passed over.
	Depth int
	// MeasurePrompt, when set, reports the PromptSize of every task: the
	// kept history and candidates as the reranker receives them (summaries,
	// or full text when the engine has no summarizer). It costs a second
	// search per task, over the kept history items.
	MeasurePrompt bool
}

// Name returns m.Label.
func (m *EngineMethod) Name() string { return m.Label }

// Score implements Method with one Engine.Search.
func (m *EngineMethod) Score(ctx context.Context, t Task) (Scored, error) {
	req := hmpps.Request{Query: t.Query, CandidateIDs: t.Candidates, TopN: len(t.Candidates)}
	if m.Depth > 0 {
		req = hmpps.Request{Query: t.Query, ExcludeHistory: true, TopN: m.Depth}
	}
	switch m.History {
	case FilteredHistory:
		req.HistoryIDs = t.History
	case AllHistory:
		req.HistoryIDs, req.HistoryK = t.History, len(t.History)
	}
	resp, err := m.Engine.Search(ctx, req)
	if err != nil {
		return Scored{}, fmt.Errorf("eval: %s: user %q: %w", m.Label, t.User, err)
	}
	if m.Depth > 0 {
		return m.byPlace(t, resp), nil
	}
	byID := make(map[string]hmpps.Result, len(resp.Results))
	for _, r := range resp.Results {
		byID[r.ID] = r
	}
	out := Scored{Scores: make([]float64, len(t.Candidates)), Degraded: resp.Degraded}
	for i, id := range t.Candidates {
		r, ok := byID[id]
		if !ok {
			return Scored{}, fmt.Errorf("%w: %s returned no result for candidate %q", ErrInvalidScores, m.Label, id)
		}
		out.Scores[i] = r.Score
	}
	if m.MeasurePrompt {
		out.Prompt, err = m.promptSize(ctx, t.Query, resp)
		if err != nil {
			return Scored{}, err
		}
	}
	return out, nil
}

// byPlace scores the task's candidates by their place in the engine's
// results (see Depth).
func (m *EngineMethod) byPlace(t Task, resp *hmpps.Response) Scored {
	place := make(map[string]int, len(resp.Results))
	for i, r := range resp.Results {
		place[r.ID] = i
	}
	// found[i] is the candidate index of the i-th result, -1 for none.
	found := make([]int, len(resp.Results))
	for i := range found {
		found[i] = -1
	}
	for i, id := range t.Candidates {
		if p, ok := place[id]; ok {
			found[p] = i
		}
	}
	out := Scored{Scores: make([]float64, len(t.Candidates)), Degraded: resp.Degraded}
	score := float64(m.Depth)
	for _, i := range found {
		if i >= 0 && score > 0 {
			out.Scores[i] = score
			score--
		}
	}
	return out
}

// promptSize measures what the reranker read. The response carries each
// candidate's text (Result.Summary) but only the IDs of the kept history, so
// the history is run through the same engine as candidates of the same
// query, without history: the engine then prepares their texts exactly as it
// did for the reranker.
func (m *EngineMethod) promptSize(ctx context.Context, query string, resp *hmpps.Response) (*PromptSize, error) {
	p := &PromptSize{QueryTokens: promptsize.Tokens(query), HistoryItems: len(resp.History)}
	var sum int
	for _, r := range resp.Results {
		sum += promptsize.Tokens(r.Summary)
	}
	if len(resp.Results) > 0 {
		p.CandidateTokens = float64(sum) / float64(len(resp.Results))
	}
	if len(resp.History) == 0 {
		return p, nil
	}
	ids := make([]string, len(resp.History))
	for i, h := range resp.History {
		ids[i] = h.ID
	}
	hist, err := m.Engine.Search(ctx, hmpps.Request{Query: query, CandidateIDs: ids, TopN: len(ids)})
	if err != nil {
		return nil, fmt.Errorf("eval: %s: history texts: %w", m.Label, err)
	}
	for _, r := range hist.Results {
		p.HistoryTokens += promptsize.Tokens(r.Summary)
	}
	return p, nil
}
