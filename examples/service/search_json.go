package main

import (
	"fmt"
	"time"

	"hmpps/hmpps"
	"hmpps/retrieval"
)

// condition is the JSON form of retrieval.Condition: op is "in" (the
// default) or "prefix".
type condition struct {
	Field  string   `json:"field"`
	Op     string   `json:"op,omitempty"`
	Values []string `json:"values"`
}

// searchRequest is the body of POST /search; see hmpps.Request for what
// each field does.
type searchRequest struct {
	Query          string      `json:"query"`
	HistoryIDs     []string    `json:"history_ids,omitempty"`
	History        []product   `json:"history,omitempty"`
	CandidateIDs   []string    `json:"candidate_ids,omitempty"`
	Filter         []condition `json:"filter,omitempty"`
	TopN           int         `json:"top_n,omitempty"`
	ExcludeHistory bool        `json:"exclude_history,omitempty"`
	HistoryK       int         `json:"history_k,omitempty"`
}

// toEngine converts the request for the engine.
func (s searchRequest) toEngine() (hmpps.Request, error) {
	req := hmpps.Request{Query: s.Query, HistoryIDs: s.HistoryIDs, CandidateIDs: s.CandidateIDs,
		TopN: s.TopN, ExcludeHistory: s.ExcludeHistory, HistoryK: s.HistoryK}
	for i, h := range s.History {
		p, err := h.toEngine()
		if err != nil {
			return req, fmt.Errorf("history item %d: %w", i, err)
		}
		req.History = append(req.History, p)
	}
	for i, c := range s.Filter {
		var op retrieval.Op
		switch c.Op {
		case "", "in":
			op = retrieval.OpIn
		case "prefix":
			op = retrieval.OpPrefix
		default:
			return req, fmt.Errorf("%w: filter condition %d: op must be \"in\" or \"prefix\", got %q", errBadInput, i, c.Op)
		}
		req.Filter = append(req.Filter, retrieval.Condition{Field: c.Field, Op: op, Values: c.Values})
	}
	return req, nil
}

// searchResponse answers POST /search with everything the engine said.
type searchResponse struct {
	Results []result   `json:"results"`
	History []keptItem `json:"history"`
	// Personalized is true when stage one kept a history item, so that the
	// user's history shaped the ranking; false, the results are the same
	// for every user.
	Personalized bool     `json:"personalized"`
	Degraded     bool     `json:"degraded"`
	Candidates   int      `json:"candidates"`
	Notes        []string `json:"notes"`
	TimingsMS    timings  `json:"timings_ms"`
	Usage        usage    `json:"usage"`
}

// result is one ranked candidate with every stage's score.
type result struct {
	ID              string  `json:"id"`
	Product         product `json:"product"`
	Score           float64 `json:"score"`
	RetrievalScore  float64 `json:"retrieval_score"`
	PreferenceScore float64 `json:"preference_score"`
	LexicalScore    float64 `json:"lexical_score"`
	FusedScore      float64 `json:"fused_score"`
	LearnedScore    float64 `json:"learned_score,omitempty"`
	Summary         string  `json:"summary"`
	Degraded        bool    `json:"degraded,omitempty"`
	DegradedReason  string  `json:"degraded_reason,omitempty"`
}

// keptItem is a history item stage one kept.
type keptItem struct {
	ID    string  `json:"id"`
	Title string  `json:"title"`
	Score float32 `json:"score"`
}

// timings are the stages' wall-clock times in milliseconds.
type timings struct {
	Embed         float64 `json:"embed"`
	Retrieve      float64 `json:"retrieve"`
	HistoryFilter float64 `json:"history_filter"`
	Summarize     float64 `json:"summarize"`
	Rerank        float64 `json:"rerank"`
	Total         float64 `json:"total"`
}

// usage counts model calls and tokens.
type usage struct {
	ModelCalls      int `json:"model_calls"`
	PromptTokens    int `json:"prompt_tokens"`
	GeneratedTokens int `json:"generated_tokens"`
	CacheHits       int `json:"cache_hits"`
}

func usageOf(u retrieval.Usage) usage {
	return usage{ModelCalls: u.ModelCalls, PromptTokens: u.PromptTokens, GeneratedTokens: u.GeneratedTokens, CacheHits: u.CacheHits}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// newSearchResponse converts the engine's response.
func newSearchResponse(r *hmpps.Response) searchResponse {
	out := searchResponse{
		Results:    make([]result, len(r.Results)),
		History:    make([]keptItem, len(r.History)),
		Degraded:   r.Degraded,
		Candidates: r.Candidates,
		Notes:      r.Notes,
		Usage:      usageOf(r.Usage),
		TimingsMS: timings{Embed: ms(r.Timings.Embed), Retrieve: ms(r.Timings.Retrieve),
			HistoryFilter: ms(r.Timings.HistoryFilter), Summarize: ms(r.Timings.Summarize),
			Rerank: ms(r.Timings.Rerank), Total: ms(r.Timings.Total)},
		Personalized: personalized(r),
	}
	if out.Notes == nil {
		out.Notes = []string{}
	}
	for i, res := range r.Results {
		out.Results[i] = result{ID: res.ID, Product: fromEngine(res.Product, false), Score: res.Score,
			RetrievalScore: res.RetrievalScore, PreferenceScore: res.PreferenceScore,
			LexicalScore: res.LexicalScore, FusedScore: res.FusedScore, LearnedScore: res.LearnedScore,
			Summary: res.Summary, Degraded: res.Degraded, DegradedReason: res.DegradedReason}
	}
	for i, k := range r.History {
		out.History[i] = keptItem{ID: k.ID, Title: k.Title, Score: k.Score}
	}
	return out
}
