package hmpps

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"golang.org/x/sync/errgroup"

	"hmpps/internal/imageprep"
	"hmpps/internal/ollamacall"
	"hmpps/rerank"
	"hmpps/retrieval"
	"hmpps/summarize"
)

// Defaults of OllamaConfig.
const (
	// DefaultOllamaConcurrency is how many model calls a search makes at
	// once, for reranking and for summaries.
	DefaultOllamaConcurrency = rerank.DefaultMLLMConcurrency
	// DefaultOllamaTimeout bounds one model call, including the server's
	// queue and loading the model on first use.
	DefaultOllamaTimeout = rerank.DefaultMLLMTimeout
	// DefaultImageMaxSide is the longest side, in pixels, of the pictures
	// sent to the vision model (see imageprep.DefaultMaxSide).
	DefaultImageMaxSide = imageprep.DefaultMaxSide
	// DefaultImageCacheBytes bounds the cache of prepared pictures.
	DefaultImageCacheBytes = imageprep.DefaultCacheBytes
)

// OllamaConfig turns on the model-backed stages, served by Ollama. Only the
// stages whose model is named change; the others stay on their offline
// default, and an option given explicitly (WithReranker, WithSummarizer,
// WithTextEmbedder) wins over the stage this config would build.
type OllamaConfig struct {
	// Host is the server's address: "host:port" or a URL. If empty, the
	// OLLAMA_HOST environment variable, read as the official client reads
	// it, and http://127.0.0.1:11434 without it.
	Host string
	// HTTPClient carries the model calls. If nil, http.DefaultClient; the
	// per-call Timeout applies either way.
	HTTPClient *http.Client
	// VisionModel reranks the candidates (rerank.MLLM), e.g.
	// "qwen2.5vl:7b", and writes the captions. If empty, the offline
	// rerank.Preference reranks.
	VisionModel string
	// SummarizerModel writes the perspective-guided summaries
	// (summarize.Perspective). If empty, VisionModel does; if both are
	// empty, the offline summarize.Extractive.
	SummarizerModel string
	// EmbedModel embeds product texts and queries (retrieval.OllamaEmbedder),
	// e.g. "nomic-embed-text". If empty, the offline hashing embedder. A
	// neural embedder scores unrelated texts well above zero: give stage
	// one a MinScore that suits it (WithHistoryFilter).
	EmbedModel string
	// EmbedDimension is EmbedModel's vector length. If zero, New asks the
	// server once, so an unreachable server or a missing model fails New.
	EmbedDimension int
	// EmbedConcurrency is how many batches of product texts Upsert sends
	// to EmbedModel at once. If zero,
	// retrieval.DefaultOllamaEmbedConcurrency.
	EmbedConcurrency int
	// Timeout bounds each model call. If zero, DefaultOllamaTimeout.
	Timeout time.Duration
	// Concurrency is how many model calls a search makes at once. If zero,
	// DefaultOllamaConcurrency; it also becomes the engine's concurrency
	// unless WithConcurrency is given.
	Concurrency int
	// KeepAlive is how long the server keeps each model loaded after a
	// call. If zero, the server's default (5 minutes); negative keeps it
	// loaded.
	KeepAlive time.Duration
	// PromptTemplate replaces the reranker's prompt (see
	// rerank.PromptTemplate). If nil, rerank.DefaultPromptTemplate, or
	// rerank.DefaultCompletionTemplate in completion mode.
	PromptTemplate *rerank.PromptTemplate
	// RerankMode is how the reranker asks VisionModel: rerank.ModeChat
	// (the default) for instruction-tuned models, rerank.ModeCompletion (a
	// raw few-shot prompt) for small or base models such as Gemma 3 270M.
	RerankMode rerank.MLLMMode
	// RerankCandidates is how many candidates per search VisionModel
	// judges, one call each: the best by the offline score; the others keep
	// their offline order below them. If zero, all of them.
	RerankCandidates int
	// ImageMaxSide is the longest side of the pictures sent to the models;
	// larger ones are downscaled and re-encoded as JPEG. If zero,
	// DefaultImageMaxSide.
	ImageMaxSide int
	// ImageCacheBytes bounds the cache of prepared pictures, kept per
	// product so that each is prepared once. If zero,
	// DefaultImageCacheBytes.
	ImageCacheBytes int64
	// ImageHTTPClient fetches pictures given as http(s) URLs. If nil, they
	// are not fetched and such products are judged on their text only:
	// the engine reaches out to catalogue URLs only when told to.
	ImageHTTPClient *http.Client
	// Captions makes Upsert describe each product's picture with
	// VisionModel once, at indexing time, and store it in Product.Caption,
	// so that the embedder and the summaries see visual facts too.
	Captions bool
	// CaptionWords is the caption's word budget. If zero,
	// summarize.DefaultCaptionWords.
	CaptionWords int
}

// WithOllama turns on the stages served by an Ollama server: the MLLM
// reranker, the perspective-guided summarizer, the Ollama embedder and
// captions, as cfg names their models. It also makes the engine send the
// models prepared pictures: downscaled to cfg.ImageMaxSide, re-encoded as
// JPEG, cached per product, fetched from http(s) URLs when
// cfg.ImageHTTPClient allows it. A picture that cannot be prepared leaves
// that product text-only and its result degraded with the reason.
//
// Without this option the engine makes no network call.
func WithOllama(cfg OllamaConfig) Option {
	return func(c *config) { c.ollamaConfig = &cfg }
}

// ollamaSetup is what the engine keeps of its Ollama configuration.
type ollamaSetup struct {
	cfg OllamaConfig
	// images caches prepared pictures by product record: records are
	// immutable, so a re-upserted product gets a fresh one.
	images *imageprep.Cache[recordKey]
	// preparer prepares pictures outside the cache (captions at indexing).
	preparer imageprep.Preparer
	// captioner writes captions; nil when captions are off.
	captioner *summarize.Perspective
}

// applyOllama builds the configured Ollama stages into c, leaving alone the
// ones set by other options. It runs before the offline defaults are filled.
func (c *config) applyOllama() error {
	oc := c.ollamaConfig
	if oc == nil {
		return nil
	}
	switch {
	case oc.VisionModel == "" && oc.SummarizerModel == "" && oc.EmbedModel == "":
		return fmt.Errorf("hmpps: WithOllama names no model: set VisionModel, SummarizerModel or EmbedModel")
	case oc.Captions && oc.VisionModel == "":
		return fmt.Errorf("hmpps: WithOllama: captions need a VisionModel")
	case oc.Timeout < 0, oc.Concurrency < 0, oc.ImageMaxSide < 0, oc.ImageCacheBytes < 0, oc.EmbedDimension < 0, oc.EmbedConcurrency < 0, oc.CaptionWords < 0, oc.RerankCandidates < 0:
		return fmt.Errorf("hmpps: WithOllama: settings must not be negative")
	}
	timeout := oc.Timeout
	if timeout == 0 {
		timeout = DefaultOllamaTimeout
	}
	concurrency := oc.Concurrency
	if concurrency == 0 {
		concurrency = DefaultOllamaConcurrency
	}
	if c.concurrency == 0 {
		c.concurrency = concurrency
	}
	client := ollamacall.NewClient(oc.Host, oc.HTTPClient)

	setup := &ollamaSetup{cfg: *oc}
	setup.preparer = imageprep.Preparer{MaxSide: oc.ImageMaxSide, HTTPClient: oc.ImageHTTPClient}
	setup.images = imageprep.NewCache[recordKey](setup.preparer, oc.ImageCacheBytes)
	c.ollama = setup

	if oc.VisionModel != "" && c.reranker == nil {
		m := rerank.MLLM{Client: client, Model: oc.VisionModel, Template: oc.PromptTemplate,
			Concurrency: concurrency, Timeout: timeout, KeepAlive: oc.KeepAlive,
			Mode: oc.RerankMode, MaxCandidates: oc.RerankCandidates}
		if err := m.Validate(); err != nil {
			return fmt.Errorf("hmpps: %w", err)
		}
		c.reranker = m
	}
	summarizerModel := oc.SummarizerModel
	if summarizerModel == "" {
		summarizerModel = oc.VisionModel
	}
	if summarizerModel != "" && !c.summarizerSet {
		p, err := summarize.NewPerspective(summarize.PerspectiveConfig{Client: client, Model: summarizerModel,
			Timeout: timeout, KeepAlive: oc.KeepAlive})
		if err != nil {
			return fmt.Errorf("hmpps: %w", err)
		}
		c.summarizer, c.summarizerSet = p, true
	}
	if oc.Captions {
		p, err := summarize.NewPerspective(summarize.PerspectiveConfig{Client: client, Model: oc.VisionModel,
			Timeout: timeout, KeepAlive: oc.KeepAlive})
		if err != nil {
			return fmt.Errorf("hmpps: %w", err)
		}
		setup.captioner = p
	}
	if oc.EmbedModel != "" && c.textEmbedder == nil {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		e, err := retrieval.NewOllamaEmbedder(ctx, retrieval.OllamaEmbedderConfig{Client: client, Model: oc.EmbedModel,
			Dimension: oc.EmbedDimension, Concurrency: oc.EmbedConcurrency, Timeout: timeout, KeepAlive: oc.KeepAlive})
		if err != nil {
			return fmt.Errorf("hmpps: %w", err)
		}
		c.textEmbedder = e
		c.probeUsage = e.Usage()
	}
	return nil
}

// modelImage is the picture a model stage sees for one item, or why it has
// none.
type modelImage struct {
	data []byte
	// degraded says why a picture the product has could not be prepared.
	degraded string
}

// modelImages returns the pictures the summarizer and reranker see for
// items. Offline, that is the bytes the image embedder saw. With WithOllama,
// each product's first picture is prepared for the vision model (and cached
// per record); one that cannot be prepared leaves its item text-only, with
// the reason.
func (e *Engine) modelImages(ctx context.Context, items []*entry) []modelImage {
	out := make([]modelImage, len(items))
	if e.cfg.ollama == nil {
		for i, it := range items {
			out[i].data = it.rec.picture()
		}
		return out
	}
	var g errgroup.Group
	g.SetLimit(e.cfg.concurrency)
	for i, it := range items {
		p := it.rec.product()
		src, ok := imageSource(it.rec.picture(), p.Images)
		if !ok {
			continue
		}
		key := e.recordKey(it)
		g.Go(func() error {
			data, err := e.cfg.ollama.images.Prepare(ctx, key, src)
			switch {
			case err == nil:
				out[i].data = data
			case errors.Is(err, imageprep.ErrRemoteImage), ctx.Err() != nil:
				// Not fetched by choice, or the search is over.
			default:
				e.cfg.logger.WarnContext(ctx, "picture not usable; product judged on its text", "product", it.product.ID, "err", err)
				out[i].degraded = "image: " + err.Error()
			}
			return nil
		})
	}
	_ = g.Wait() // no task returns an error
	return out
}

// imageSource returns where a product's picture comes from: the bytes that
// were embedded (picture), else its first image with bytes or a URI.
func imageSource(picture []byte, images []Image) (imageprep.Source, bool) {
	if len(picture) > 0 {
		return imageprep.Source{Data: picture}, true
	}
	for _, im := range images {
		if len(im.Data) > 0 || im.URI != "" {
			return imageprep.Source{Data: im.Data, URI: im.URI}, true
		}
	}
	return imageprep.Source{}, false
}
