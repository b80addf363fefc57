package hmpps

import (
	"fmt"
	"log/slog"
	"runtime"

	"hmpps/rerank"
	"hmpps/retrieval"
	"hmpps/retrieval/lexical"
	"hmpps/summarize"
)

// Defaults the engine uses when an option is not given.
const (
	// DefaultTopN is how many results a search returns when Request.TopN is 0.
	DefaultTopN = 10
	// DefaultRetrieveK is how many candidates the engine retrieves when the
	// request names none (from each index, then fused, in hybrid retrieval).
	DefaultRetrieveK = 100
	// DefaultSummaryWords is the word budget of each product summary.
	DefaultSummaryWords = 60
	// DefaultHistoryMinScore is stage one's threshold when WithHistoryFilter
	// is not given: a history item must have at least this similarity to the
	// query to be kept. It suits the default hashing embedder, whose
	// unrelated texts score near 0; a neural embedder, whose unrelated texts
	// often score 0.3 or more, needs its own threshold.
	DefaultHistoryMinScore float32 = 0.05
)

// Option configures an Engine; pass options to New or Open.
type Option func(*config)

// config is everything New needs; the zero value of each field means "use
// the default", except where a *Set flag says the caller chose nil on purpose.
type config struct {
	textEmbedder  retrieval.Embedder
	imageEmbedder retrieval.ImageEmbedder
	// imageEmbedderSet distinguishes WithImageEmbedder(nil), which turns
	// images off, from not configuring images at all.
	imageEmbedderSet bool
	fusion           retrieval.VectorFusion
	fusionSet        bool
	index            retrieval.Index
	indexFactory     retrieval.IndexFactory
	history          retrieval.HistoryFilter
	historySet       bool
	summarizer       summarize.Summarizer
	summarizerSet    bool
	summaryWords     int
	reranker         rerank.Reranker
	retrieveK        int
	lexical          lexical.Params
	retrieval        Retrieval
	topN             int
	concurrency      int
	logger           *slog.Logger
	limits           Limits
	shared           SharedCatalog
	// model is the learned two-stage ranker (WithModel); nil runs the
	// untrained pipeline.
	model *Model
	// ollamaConfig is WithOllama's argument; ollama is what New built from
	// it (nil without WithOllama).
	ollamaConfig *OllamaConfig
	ollama       *ollamaSetup
	// probeUsage is the call applyOllama made to learn the embedding
	// model's dimension, counted as indexing work.
	probeUsage retrieval.Usage
	// plan is what the engine does with the stages above (see newPlan).
	plan plan
}

// WithTextEmbedder sets the text embedder. If not given, the engine uses a
// retrieval.HashingEmbedder of retrieval.DefaultTextDimension, which is
// lexical: plug in a neural embedder for semantic matching.
func WithTextEmbedder(e retrieval.Embedder) Option {
	return func(c *config) { c.textEmbedder = e }
}

// WithImageEmbedder sets the image embedder. If not given, the engine uses
// the offline retrieval.ColorLayoutEmbedder. Passing nil turns image
// embedding off: product vectors are then text-only.
func WithImageEmbedder(e retrieval.ImageEmbedder) Option {
	return func(c *config) { c.imageEmbedder, c.imageEmbedderSet = e, true }
}

// WithVectorFusion sets the weights that combine a product's text and image
// vectors (see retrieval.VectorFusion). If not given, retrieval.DefaultVectorFusion.
func WithVectorFusion(f retrieval.VectorFusion) Option {
	return func(c *config) { c.fusion, c.fusionSet = f, true }
}

// WithIndex sets the vector index. Its dimension must equal the text
// embedder's dimension plus the image embedder's, and its metric must be
// retrieval.InnerProduct, because fused vectors are compared by inner
// product; WithIndexFactory spares the caller both. If not given, the
// engine creates an in-memory retrieval.Embedded index, quantized, which
// returns the exact scan's results (see retrieval.EmbeddedOptions.Quantize);
// the engine owns the index and closes it on Close.
//
// An index that lends its vectors and filters by function
// (retrieval.VectorReader and retrieval.FuncSearcher, as Embedded does)
// holds the only copy of each vector: the engine reads a product's vector
// there, gives the index no metadata, and writes it under the lock that
// searches take (briefly: it is in process). Another index, such as
// Milvus's, gets each product's metadata, and the engine keeps a copy of
// every vector.
func WithIndex(ix retrieval.Index) Option {
	return func(c *config) { c.index = ix }
}

// WithHistoryFilter configures stage one: how many history items to keep
// and how relevant they must be. If not given, retrieval.DefaultHistoryK
// items scoring at least DefaultHistoryMinScore. The engine runs stage one
// once per search, against the query: every candidate is judged against the
// same kept history, which is what lets a model reuse the shared prompt
// prefix. A filter with a CandidateWeight is therefore refused by New; it is
// for callers who run HistoryFilter themselves, per candidate.
func WithHistoryFilter(f retrieval.HistoryFilter) Option {
	return func(c *config) { c.history, c.historySet = f, true }
}

// WithSummarizer sets the summarizer. If not given, the offline
// summarize.Extractive. Passing nil turns summaries off: stages then see the
// product's full plain text.
func WithSummarizer(s summarize.Summarizer) Option {
	return func(c *config) { c.summarizer, c.summarizerSet = s, true }
}

// WithSummaryWords sets the word budget of each summary. If zero,
// DefaultSummaryWords.
func WithSummaryWords(n int) Option {
	return func(c *config) { c.summaryWords = n }
}

// WithReranker sets the reranker. If not given, the offline
// rerank.Preference. When the reranker fails, the engine falls back to
// rerank.Preference for that search and marks the results degraded.
//
// What the engine does with a reranker is decided here, once, from the
// optional interfaces it implements. A reranker gets the summary and
// picture of every kept history item and candidate, unless it is a
// rerank.ContentReader that reads vectors only (rerank.Preference is): then
// a search summarizes just the results it returns, after ranking, and a
// failure of the reranker is an error, not a fallback; with a trained
// model, the learned score takes its place (see WithModel). A
// rerank.Selective reranker gets summaries of the candidates it selects
// only; a rerank.Fallbacker gets a trained model's score as its offline
// twin; a rerank.Prompter's template renders Engine.ExportTraining's
// prompts.
func WithReranker(r rerank.Reranker) Option {
	return func(c *config) { c.reranker = r }
}

// WithRetrieveK sets how many candidates are taken from the index when a
// request names none. If zero, DefaultRetrieveK.
func WithRetrieveK(k int) Option {
	return func(c *config) { c.retrieveK = k }
}

// WithRetrieval sets where the candidates of a request that names none come
// from: the vector index, the lexical index, or both fused (see Retrieval).
// If not given, RetrieveHybrid. The lexical index is in-process whatever
// the vector index is, Milvus included.
func WithRetrieval(r Retrieval) Option {
	return func(c *config) { c.retrieval = r }
}

// WithLexical sets the BM25F parameters of the engine's lexical index,
// which scores every candidate's text against the query (Result.LexicalScore).
// Zero fields take the retrieval.DefaultLexical values; if not given, all
// of them do.
func WithLexical(p lexical.Params) Option {
	return func(c *config) { c.lexical = p }
}

// WithTopN sets how many results a search returns when the request does not
// say. If zero, DefaultTopN.
func WithTopN(n int) Option {
	return func(c *config) { c.topN = n }
}

// WithConcurrency bounds how many summaries are computed at once. If zero,
// the number of CPUs.
func WithConcurrency(n int) Option {
	return func(c *config) { c.concurrency = n }
}

// WithLogger sets the logger for fallbacks and skipped work. If not given,
// the engine logs nothing.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger = l }
}

// WithModel loads a Model trained by Train: its learned history filter
// replaces the configured one (unless m.DisableStageOne), and with an
// offline reranker (one that reads vectors only, such as the default
// rerank.Preference) its learned score ranks the candidates (unless
// m.DisableStageTwo). With a model reranker (for
// example WithOllama's), the model still judges the candidates, reading the
// kept history of the learned stage one; the learned score is its offline
// twin: it picks the candidates the model judges when
// OllamaConfig.RerankCandidates bounds them, orders the others, scores them
// all when the model fails, is reported in Result.LearnedScore, and breaks
// the model's ties. The model must have been trained with embedders of the
// engine's dimensions. Passing nil runs the untrained pipeline.
//
// The engine keeps a copy of m as it is when New or Open applies the
// option: changing m's switches afterwards does not change the engine.
func WithModel(m *Model) Option {
	return func(c *config) { c.model = m.clone() }
}

// newConfig applies opts over the defaults and validates the result.
func newConfig(opts []Option) (config, error) {
	var c config
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	if err := c.applyOllama(); err != nil {
		return c, err
	}
	if c.textEmbedder == nil {
		e, err := retrieval.NewHashingEmbedder(retrieval.DefaultTextDimension)
		if err != nil {
			return c, err
		}
		c.textEmbedder = e
	}
	if !c.imageEmbedderSet {
		c.imageEmbedder = retrieval.ColorLayoutEmbedder{}
	}
	if !c.fusionSet {
		c.fusion = retrieval.DefaultVectorFusion
	}
	if !c.historySet {
		min := DefaultHistoryMinScore
		c.history = retrieval.HistoryFilter{K: retrieval.DefaultHistoryK, MinScore: &min}
	}
	if !c.summarizerSet {
		c.summarizer = summarize.Extractive{}
	}
	if c.reranker == nil {
		c.reranker = rerank.Preference{}
	}
	if c.summaryWords == 0 {
		c.summaryWords = DefaultSummaryWords
	}
	if c.retrieveK == 0 {
		c.retrieveK = DefaultRetrieveK
	}
	if c.topN == 0 {
		c.topN = DefaultTopN
	}
	if c.concurrency == 0 {
		c.concurrency = runtime.GOMAXPROCS(0)
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	limits, err := c.limits.resolve()
	if err != nil {
		return c, err
	}
	c.limits = limits
	switch {
	case c.textEmbedder.Dimension() <= 0:
		return c, fmt.Errorf("hmpps: text embedder reports dimension %d", c.textEmbedder.Dimension())
	case c.imageEmbedder != nil && c.imageEmbedder.Dimension() <= 0:
		return c, fmt.Errorf("hmpps: image embedder reports dimension %d", c.imageEmbedder.Dimension())
	case c.summaryWords < 0:
		return c, fmt.Errorf("hmpps: summary words must not be negative, got %d", c.summaryWords)
	case c.retrieveK < 0:
		return c, fmt.Errorf("hmpps: retrieve k must not be negative, got %d", c.retrieveK)
	case c.topN < 0:
		return c, fmt.Errorf("hmpps: top n must not be negative, got %d", c.topN)
	case c.retrieval < RetrieveHybrid || c.retrieval > RetrieveLexical:
		return c, fmt.Errorf("hmpps: unknown retrieval %v", c.retrieval)
	case c.concurrency < 0:
		return c, fmt.Errorf("hmpps: concurrency must not be negative, got %d", c.concurrency)
	}
	if m := c.model; m != nil && (m.textDim != c.textEmbedder.Dimension() || m.imageDim != c.imageDim()) {
		return c, fmt.Errorf("%w: trained with text/image dimensions %d/%d, engine has %d/%d", ErrInvalidModel,
			m.textDim, m.imageDim, c.textEmbedder.Dimension(), c.imageDim())
	}
	if err := c.fusion.Validate(); err != nil {
		return c, fmt.Errorf("hmpps: %w", err)
	}
	if err := c.history.Validate(); err != nil {
		return c, fmt.Errorf("hmpps: %w", err)
	}
	if c.history.CandidateWeight != 0 {
		return c, fmt.Errorf("hmpps: the engine runs stage one once per search, against the query; a history filter with CandidateWeight %v is for per-candidate use outside the engine", c.history.CandidateWeight)
	}
	if err := c.checkVerdict(); err != nil {
		return c, err
	}
	c.plan = newPlan(&c)
	return c, nil
}

// imageDim is the length of the image block of fused vectors (0 when images
// are off).
func (c *config) imageDim() int {
	if c.imageEmbedder == nil {
		return 0
	}
	return c.imageEmbedder.Dimension()
}

// vectorDim is the length of fused vectors, which the index stores.
func (c *config) vectorDim() int { return c.textEmbedder.Dimension() + c.imageDim() }
