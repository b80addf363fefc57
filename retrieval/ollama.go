package retrieval

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ollama/ollama/api"
	"golang.org/x/sync/errgroup"

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
	// DefaultOllamaEmbedConcurrency is how many batches one Embed call has
	// in flight at once. Ollama runs an embedding model one text at a time
	// (it loads embedding models with one parallel slot), so more than one
	// batch in flight does not make the model faster: on a CPU server over
	// loopback, 1, 2 and 4 embedded a catalog at the same rate within the
	// noise. A second batch keeps a remote server busy while the previous
	// answer travels back; more only queue on the server.
	DefaultOllamaEmbedConcurrency = 2
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
	// ContextLength is the most tokens the model reads of one text. If
	// zero, the server's answer (/api/show): the num_ctx parameter of the
	// model's Modelfile when it sets a smaller one, else the context length
	// the model was trained with. Negative: texts are sent whole. See Embed
	// for how texts are kept within it.
	ContextLength int
	// BatchSize is how many texts go into one call. If zero,
	// DefaultOllamaBatchSize.
	BatchSize int
	// Concurrency is how many batches one Embed call sends at once. If
	// zero, DefaultOllamaEmbedConcurrency.
	Concurrency int
	// Timeout bounds each call. If zero, DefaultOllamaTimeout; negative
	// means no limit beyond the caller's context.
	Timeout time.Duration
	// KeepAlive is how long the server keeps the model loaded after a call.
	// If zero, the server's default (5 minutes); negative keeps it loaded.
	KeepAlive time.Duration
}

// OllamaEmbedder is an Embedder backed by an Ollama embedding model through
// /api/embed. It sends texts in batches, several at once, keeps each text
// within the model's context, checks that every vector has the model's
// dimension and only finite components, and counts its calls. It is safe
// for concurrent use.
type OllamaEmbedder struct {
	cfg OllamaEmbedderConfig

	// Counters behind Usage; atomics because embedders are shared by
	// concurrent searches.
	calls, promptTokens atomic.Int64
	// shortened counts the texts sent again shorter after the server
	// refused them for their length.
	shortened atomic.Int64

	// mu guards the model's facts, learned from /api/show once: at
	// construction when that contacts the server anyway, else on the first
	// Embed, so that a configured Dimension keeps the constructor offline.
	mu      sync.Mutex
	learned bool
	facts   modelFacts
}

// modelFacts is what the embedder learns of the model from the server.
type modelFacts struct {
	// contextLength is ContextLength as configured or learned; zero or
	// negative when texts are sent whole.
	contextLength int
	// wordPiece is set when the server tokenizes with its BERT WordPiece,
	// whose input texts are folded first (see wordPieceText).
	wordPiece bool
}

var _ UsageEmbedder = (*OllamaEmbedder)(nil)

// probeText is what NewOllamaEmbedder embeds to learn the dimension.
const probeText = "dimension probe"

// NewOllamaEmbedder returns an embedder for cfg. When cfg.Dimension is zero
// it asks the server about the model (/api/show) and embeds a probe text to
// learn the dimension, so an unreachable server or a missing model fails
// here, with an error wrapping ErrModelUnavailable or ErrModelNotFound.
// Otherwise it makes no call: the first Embed asks /api/show.
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
	case cfg.Concurrency < 0:
		return nil, fmt.Errorf("%w: ollama embedder concurrency %d is negative", ErrInvalidConfig, cfg.Concurrency)
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = DefaultOllamaBatchSize
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = DefaultOllamaEmbedConcurrency
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultOllamaTimeout
	}
	e := &OllamaEmbedder{cfg: cfg}
	if cfg.Dimension == 0 {
		if _, err := e.modelFacts(ctx); err != nil {
			return nil, err
		}
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

// ContextLength returns the most tokens the model reads of one text, as
// configured or learned from the server; zero before the embedder asked
// the server, or when the server did not say, and negative when configured
// so.
func (e *OllamaEmbedder) ContextLength() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.learned {
		return max(e.cfg.ContextLength, 0)
	}
	return e.facts.contextLength
}

// modelFacts returns what the embedder knows of the model, asking the
// server the first time.
func (e *OllamaEmbedder) modelFacts(ctx context.Context) (modelFacts, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.learned {
		return e.facts, nil
	}
	info, err := ollamacall.Show(ctx, e.cfg.Client, e.cfg.Model, max(e.cfg.Timeout, 0))
	if err != nil {
		return modelFacts{}, fmt.Errorf("retrieval: ollama embedder: %w", err)
	}
	e.facts = modelFacts{contextLength: info.ContextLength, wordPiece: info.Tokenizer == "bert"}
	if e.cfg.ContextLength != 0 {
		e.facts.contextLength = e.cfg.ContextLength
	}
	e.learned = true
	return e.facts, nil
}

// Model returns the embedding model's name.
func (e *OllamaEmbedder) Model() string { return e.cfg.Model }

// Usage returns the calls made and prompt tokens the server counted since
// the embedder was created, the probe included.
func (e *OllamaEmbedder) Usage() Usage {
	return Usage{ModelCalls: int(e.calls.Load()), PromptTokens: int(e.promptTokens.Load())}
}

// Embed returns one vector per text, in order. It calls the server once per
// batch of BatchSize texts, up to Concurrency batches at once.
//
// A model on Ollama's WordPiece tokenizer (BERT-family embedding models)
// gets each text folded first, so that the server reads the tokens BERT's
// reference tokenizer would (see wordPieceText): accents stripped,
// typographic punctuation made ASCII.
//
// No text fails for its length. A text longer than the model's context is
// cut, never split and pooled: the model reads its head, where a product
// text puts its title, brand and category. The embedder counts no tokens
// (it has no tokenizer of the model), so it cuts each text after
// ContextLength words, since every word is at least one token: what it
// drops the model could not have read. The server cuts the rest, in tokens
// (the request's truncate is on). Ollama's cut can still overshoot: it
// turns the first tokens back into text and embeds that, and the text can
// tokenize longer than the tokens it came from (BERT's [UNK] becomes three
// tokens, "do not" becomes "don't"), so the server refuses it with HTTP 400
// and fails the whole batch with it. A refused batch is therefore split in
// halves until the refused text is alone; the others embed, and that one is
// sent again with its last quarter cut off, until the server takes it.
//
// A vector of the wrong dimension or with a NaN or infinite component
// fails the call with an error wrapping ErrBadModelAnswer and
// ErrDimensionMismatch or ErrInvalidVector. When a batch fails, the call
// returns no vectors.
func (e *OllamaEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	vecs, _, err := e.EmbedUsage(ctx, texts)
	return vecs, err
}

// EmbedUsage is Embed, with the calls this call made (failed ones included)
// and the prompt tokens the server counted for them.
func (e *OllamaEmbedder) EmbedUsage(ctx context.Context, texts []string) ([][]float32, Usage, error) {
	out := make([][]float32, len(texts))
	size := e.cfg.BatchSize
	switch {
	case len(texts) == 0:
		return out, Usage{}, nil
	case len(texts) <= size:
		// One batch, a query among them: no goroutine.
		usage, err := e.embedBatch(ctx, 0, texts, out)
		if err != nil {
			return nil, usage, err
		}
		return out, usage, nil
	}
	usages := make([]Usage, (len(texts)+size-1)/size)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(e.cfg.Concurrency)
	for b := range usages {
		start := b * size
		end := min(start+size, len(texts))
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err // another batch failed: not sent
			}
			var err error
			usages[b], err = e.embedBatch(gctx, start, texts[start:end], out[start:end])
			return err
		})
	}
	err := g.Wait()
	var usage Usage
	for _, u := range usages {
		usage = usage.Add(u)
	}
	if err != nil {
		return nil, usage, err
	}
	return out, usage, nil
}

// embedBatch embeds texts, the batch at offset in the caller's list, into
// out, with each text folded for the server's tokenizer and cut to the
// model's context in words (see Embed).
func (e *OllamaEmbedder) embedBatch(ctx context.Context, offset int, texts []string, out [][]float32) (Usage, error) {
	facts, err := e.modelFacts(ctx)
	if err != nil {
		return Usage{}, err
	}
	fitted := texts
	if n := facts.contextLength; n > 0 || facts.wordPiece {
		fitted = make([]string, len(texts))
		for i, t := range texts {
			if facts.wordPiece {
				t = wordPieceText(t)
			}
			if n > 0 {
				t, _ = cutWords(t, n)
			}
			fitted[i] = t
		}
	}
	return e.embedFitted(ctx, offset, fitted, out)
}

// embedFitted makes one call for texts; when the server refuses the batch
// for a text's length, it halves the batch, and sends a lone refused text
// again shorter (see Embed).
func (e *OllamaEmbedder) embedFitted(ctx context.Context, offset int, texts []string, out [][]float32) (Usage, error) {
	vecs, usage, err := e.call(ctx, texts)
	switch {
	case err == nil:
		if len(vecs) != len(texts) {
			return usage, fmt.Errorf("retrieval: ollama embedder %q: %w: %d vectors for %d texts", e.cfg.Model, ErrBadModelAnswer, len(vecs), len(texts))
		}
		for i, v := range vecs {
			if err := CheckVector(v, e.cfg.Dimension); err != nil {
				return usage, fmt.Errorf("retrieval: ollama embedder %q: text %d: %w: %w", e.cfg.Model, offset+i, ErrBadModelAnswer, err)
			}
		}
		copy(out, vecs)
		return usage, nil
	case !errors.Is(err, ollamacall.ErrTooLong):
		return usage, err
	case len(texts) > 1:
		mid := len(texts) / 2
		u, err := e.embedFitted(ctx, offset, texts[:mid], out[:mid])
		usage = usage.Add(u)
		if err != nil {
			return usage, err
		}
		u, err = e.embedFitted(ctx, offset+mid, texts[mid:], out[mid:])
		return usage.Add(u), err
	}
	shorter, ok := shorten(texts[0])
	if !ok {
		return usage, fmt.Errorf("retrieval: ollama embedder: text %d: %w", offset, err)
	}
	e.shortened.Add(1)
	u, err := e.embedFitted(ctx, offset, []string{shorter}, out)
	return usage.Add(u), err
}

// call makes one /api/embed request and counts it, whether it succeeds or
// not: the server was asked either way.
func (e *OllamaEmbedder) call(ctx context.Context, texts []string) ([][]float32, Usage, error) {
	timeout := max(e.cfg.Timeout, 0)
	e.calls.Add(1)
	usage := Usage{ModelCalls: 1}
	truncate := true // the server's default, relied upon (see Embed)
	resp, err := ollamacall.Embed(ctx, e.cfg.Client, &api.EmbedRequest{
		Model:     e.cfg.Model,
		Input:     texts,
		KeepAlive: ollamacall.KeepAlive(e.cfg.KeepAlive),
		Truncate:  &truncate,
	}, timeout)
	if err != nil {
		return nil, usage, fmt.Errorf("retrieval: ollama embedder: %w", err)
	}
	e.promptTokens.Add(int64(resp.PromptEvalCount))
	usage.PromptTokens = resp.PromptEvalCount
	return resp.Embeddings, usage, nil
}
