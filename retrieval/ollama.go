package retrieval

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/ollama/ollama/api"

	"hmpps/internal/ollamacall"
)

// Errors of the model-backed stages, shared with the rerank and summarize
// packages (the same values), so that one errors.Is test works whichever
// stage failed.
var (
	// ErrModelNotFound reports a model the Ollama server does not have; the
	// error text names the `ollama pull` command that fixes it.
	ErrModelNotFound = ollamacall.ErrModelNotFound
	// ErrModelUnavailable reports an Ollama server that cannot be reached,
	// failed, or did not answer within the timeout.
	ErrModelUnavailable = ollamacall.ErrUnavailable
	// ErrBadModelAnswer reports an answer that arrived but cannot be used,
	// such as a vector of the wrong dimension or a reply that is not JSON.
	ErrBadModelAnswer = ollamacall.ErrBadAnswer
	// ErrModelUnsupported reports a model that cannot do what was asked,
	// such as embeddings from a generative model without the embedding
	// capability.
	ErrModelUnsupported = ollamacall.ErrUnsupported
)

// Defaults of OllamaEmbedderConfig.
const (
	// DefaultOllamaBatchSize is how many texts go into one /api/embed call.
	DefaultOllamaBatchSize = 32
	// DefaultOllamaTimeout bounds one call, including loading the model on
	// first use.
	DefaultOllamaTimeout = 2 * time.Minute
)

// OllamaEmbedderConfig configures NewOllamaEmbedder.
type OllamaEmbedderConfig struct {
	// Client talks to the server; required. The hmpps package builds one
	// from its Ollama configuration.
	Client *api.Client
	// Model is the embedding model, e.g. "nomic-embed-text"; required.
	Model string
	// Dimension is the length of the model's vectors. If zero, the
	// constructor asks the server once, by embedding a short probe text.
	Dimension int
	// BatchSize is how many texts go into one call. If zero,
	// DefaultOllamaBatchSize.
	BatchSize int
	// Timeout bounds each call. If zero, DefaultOllamaTimeout; negative
	// means no limit beyond the caller's context.
	Timeout time.Duration
	// KeepAlive is how long the server keeps the model loaded after a call.
	// If zero, the server's default (5 minutes); negative keeps it loaded.
	KeepAlive time.Duration
}

// OllamaEmbedder is an Embedder backed by an Ollama embedding model through
// /api/embed. It sends texts in batches, checks that every vector has the
// model's dimension and only finite components, and counts its calls. It is
// safe for concurrent use.
type OllamaEmbedder struct {
	cfg OllamaEmbedderConfig

	// Counters behind Usage; atomics because embedders are shared by
	// concurrent searches.
	calls, promptTokens atomic.Int64
}

var _ UsageEmbedder = (*OllamaEmbedder)(nil)

// probeText is what NewOllamaEmbedder embeds to learn the dimension.
const probeText = "dimension probe"

// NewOllamaEmbedder returns an embedder for cfg. When cfg.Dimension is zero
// it makes one call to learn it, so an unreachable server or a missing model
// fails here, with an error wrapping ErrModelUnavailable or ErrModelNotFound.
func NewOllamaEmbedder(ctx context.Context, cfg OllamaEmbedderConfig) (*OllamaEmbedder, error) {
	switch {
	case cfg.Client == nil:
		return nil, fmt.Errorf("%w: ollama embedder needs a client", ErrInvalidConfig)
	case cfg.Model == "":
		return nil, fmt.Errorf("%w: ollama embedder needs a model name", ErrInvalidConfig)
	case cfg.Dimension < 0:
		return nil, fmt.Errorf("%w: ollama embedder dimension %d is negative", ErrInvalidConfig, cfg.Dimension)
	case cfg.BatchSize < 0:
		return nil, fmt.Errorf("%w: ollama embedder batch size %d is negative", ErrInvalidConfig, cfg.BatchSize)
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = DefaultOllamaBatchSize
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultOllamaTimeout
	}
	e := &OllamaEmbedder{cfg: cfg}
	if cfg.Dimension == 0 {
		vecs, _, err := e.call(ctx, []string{probeText})
		if err != nil {
			return nil, err
		}
		if len(vecs) != 1 || len(vecs[0]) == 0 {
			return nil, fmt.Errorf("retrieval: ollama embedder %q: %w: the probe returned %d vectors", cfg.Model, ErrBadModelAnswer, len(vecs))
		}
		e.cfg.Dimension = len(vecs[0])
	}
	return e, nil
}

// Dimension returns the length of the model's vectors.
func (e *OllamaEmbedder) Dimension() int { return e.cfg.Dimension }

// Model returns the embedding model's name.
func (e *OllamaEmbedder) Model() string { return e.cfg.Model }

// Usage returns the calls made and prompt tokens the server counted since
// the embedder was created, the probe included.
func (e *OllamaEmbedder) Usage() Usage {
	return Usage{ModelCalls: int(e.calls.Load()), PromptTokens: int(e.promptTokens.Load())}
}

// Embed returns one vector per text, in order, calling the server once per
// batch. A vector of the wrong dimension or with a NaN or infinite component
// fails the call with an error wrapping ErrBadModelAnswer and
// ErrDimensionMismatch or ErrInvalidVector.
func (e *OllamaEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	vecs, _, err := e.EmbedUsage(ctx, texts)
	return vecs, err
}

// EmbedUsage is Embed, with the calls this call made (failed ones included)
// and the prompt tokens the server counted for them.
func (e *OllamaEmbedder) EmbedUsage(ctx context.Context, texts []string) ([][]float32, Usage, error) {
	var usage Usage
	out := make([][]float32, 0, len(texts))
	for start := 0; start < len(texts); start += e.cfg.BatchSize {
		batch := texts[start:min(start+e.cfg.BatchSize, len(texts))]
		vecs, u, err := e.call(ctx, batch)
		usage = usage.Add(u)
		if err != nil {
			return nil, usage, err
		}
		if len(vecs) != len(batch) {
			return nil, usage, fmt.Errorf("retrieval: ollama embedder %q: %w: %d vectors for %d texts", e.cfg.Model, ErrBadModelAnswer, len(vecs), len(batch))
		}
		for i, v := range vecs {
			if err := CheckVector(v, e.cfg.Dimension); err != nil {
				return nil, usage, fmt.Errorf("retrieval: ollama embedder %q: text %d: %w: %w", e.cfg.Model, start+i, ErrBadModelAnswer, err)
			}
		}
		out = append(out, vecs...)
	}
	return out, usage, nil
}

// call makes one /api/embed request and counts it, whether it succeeds or
// not: the server was asked either way.
func (e *OllamaEmbedder) call(ctx context.Context, texts []string) ([][]float32, Usage, error) {
	timeout := max(e.cfg.Timeout, 0)
	e.calls.Add(1)
	usage := Usage{ModelCalls: 1}
	resp, err := ollamacall.Embed(ctx, e.cfg.Client, &api.EmbedRequest{
		Model:     e.cfg.Model,
		Input:     texts,
		KeepAlive: ollamacall.KeepAlive(e.cfg.KeepAlive),
	}, timeout)
	if err != nil {
		return nil, usage, fmt.Errorf("retrieval: ollama embedder: %w", err)
	}
	e.promptTokens.Add(int64(resp.PromptEvalCount))
	usage.PromptTokens = resp.PromptEvalCount
	return resp.Embeddings, usage, nil
}
