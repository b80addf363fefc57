package ollamacall

// Usage counts the work a model-backed stage did for one call. Every stage
// (embedding, summarizing, reranking) reports it in the same shape so that the
// engine can add them up per search; the public packages name it
// retrieval.Usage and summarize.Usage. The offline stages report zero model
// calls.
type Usage struct {
	// ModelCalls is the number of requests sent to a model server.
	ModelCalls int
	// PromptTokens is the number of prompt tokens the server evaluated, as it
	// reported them.
	PromptTokens int
	// GeneratedTokens is the number of tokens the server generated.
	GeneratedTokens int
	// CacheHits is the number of results served from a cache instead of a
	// model call.
	CacheHits int
}

// Add returns the field-wise sum of u and o.
func (u Usage) Add(o Usage) Usage {
	return Usage{
		ModelCalls:      u.ModelCalls + o.ModelCalls,
		PromptTokens:    u.PromptTokens + o.PromptTokens,
		GeneratedTokens: u.GeneratedTokens + o.GeneratedTokens,
		CacheHits:       u.CacheHits + o.CacheHits,
	}
}
