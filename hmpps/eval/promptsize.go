package eval

// PromptSize is how much text a pointwise model reranker reads for one task:
// per candidate, the query, the kept history's texts and the candidate's
// text (the fixed instruction aside, which is the same for every method).
// Token counts are estimates, by the same word-piece approximation the
// prompt-size figures use (internal/promptsize).
type PromptSize struct {
	// HistoryItems is the number of history items shown.
	HistoryItems int `json:"history_items"`
	// HistoryTokens is the estimated tokens of their texts, together.
	HistoryTokens int `json:"history_tokens"`
	// CandidateTokens is the mean estimated tokens of one candidate's text.
	CandidateTokens float64 `json:"candidate_tokens"`
	// QueryTokens is the estimated tokens of the query.
	QueryTokens int `json:"query_tokens"`
}

// PerCandidate is the estimated tokens one candidate's judgement reads:
// query, history and candidate.
func (p PromptSize) PerCandidate() float64 {
	return float64(p.QueryTokens+p.HistoryTokens) + p.CandidateTokens
}

// PromptStats averages PromptSize over the tasks of a method.
type PromptStats struct {
	// Tasks is the number of tasks averaged.
	Tasks int `json:"tasks"`
	// HistoryItems, HistoryTokens, CandidateTokens and PerCandidate are the
	// means over tasks of the PromptSize fields and of PerCandidate.
	HistoryItems    float64 `json:"history_items"`
	HistoryTokens   float64 `json:"history_tokens"`
	CandidateTokens float64 `json:"candidate_tokens"`
	PerCandidate    float64 `json:"per_candidate"`
}

// promptStats averages sizes; it returns nil when there are none.
func promptStats(sizes []*PromptSize) *PromptStats {
	var s PromptStats
	for _, p := range sizes {
		if p == nil {
			continue
		}
		s.Tasks++
		s.HistoryItems += float64(p.HistoryItems)
		s.HistoryTokens += float64(p.HistoryTokens)
		s.CandidateTokens += p.CandidateTokens
		s.PerCandidate += p.PerCandidate()
	}
	if s.Tasks == 0 {
		return nil
	}
	n := float64(s.Tasks)
	s.HistoryItems /= n
	s.HistoryTokens /= n
	s.CandidateTokens /= n
	s.PerCandidate /= n
	return &s
}
