package eval

import (
	"context"
	"fmt"

	"hmpps/hmpps"
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
// as Request.CandidateIDs and the user's history as Request.HistoryIDs. The
// engine's options and History select the full pipeline or an ablation.
type EngineMethod struct {
	// Label is the method's name in reports.
	Label string
	// Engine must hold every candidate and history product (see NewEngine).
	Engine *hmpps.Engine
	// History is what is sent as history.
	History HistoryUse
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

// promptSize measures what the reranker read. The response carries each
// candidate's text (Result.Summary) but only the IDs of the kept history, so
// the history is run through the same engine as candidates of the same
// query, without history: the engine then prepares their texts exactly as it
// did for the reranker.
func (m *EngineMethod) promptSize(ctx context.Context, query string, resp *hmpps.Response) (*PromptSize, error) {
	p := &PromptSize{QueryTokens: EstimateTokens(query), HistoryItems: len(resp.History)}
	var sum int
	for _, r := range resp.Results {
		sum += EstimateTokens(r.Summary)
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
		p.HistoryTokens += EstimateTokens(r.Summary)
	}
	return p, nil
}
