package retrieval

import (
	"context"

	"hmpps/internal/ollamacall"
)

// Usage counts the work a model-backed stage did for one call: model calls,
// prompt and generated tokens, cache hits. Every stage (embedding,
// summarizing, reranking) reports it in the same shape, so that the engine
// adds them up per search; summarize.Usage is the same type. The offline
// stages report zero model calls.
type Usage = ollamacall.Usage

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
