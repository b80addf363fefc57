package retrieval

import "context"

// Usage counts the work a model-backed stage did for one call. Every stage
// (embedding, summarizing, reranking) reports it in the same shape so that the
// engine can add them up per search; it lives in this package because every
// stage already depends on it. The offline stages report zero model calls.
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

// UsageEmbedder is an Embedder that also reports the model work of each
// call, so that a caller embedding for several purposes (indexing, queries)
// can attribute it. OllamaEmbedder is one; the hmpps engine asks every
// embedder for it, and one without it counts as making no model calls.
type UsageEmbedder interface {
	Embedder
	// EmbedUsage is Embed with the model work of this call; when it fails,
	// the work done before the failure.
	EmbedUsage(ctx context.Context, texts []string) ([][]float32, Usage, error)
}

// EmbedWithUsage embeds texts with e, with the call's usage when e is a
// UsageEmbedder and zero usage otherwise.
func EmbedWithUsage(ctx context.Context, e Embedder, texts []string) ([][]float32, Usage, error) {
	if ue, ok := e.(UsageEmbedder); ok {
		return ue.EmbedUsage(ctx, texts)
	}
	vecs, err := e.Embed(ctx, texts)
	return vecs, Usage{}, err
}
