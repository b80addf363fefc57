package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"hmpps/hmpps"
	"hmpps/hmpps/eval"
	"hmpps/rerank"
	"hmpps/retrieval"
	"hmpps/summarize"
)

// Method names as the report prints them.
const (
	nameHMPPS          = "hmpps"
	nameNoFilter       = "hmpps − history filter"
	nameNoPersonal     = "hmpps − personalization"
	nameNoSummaries    = "hmpps − summaries"
	nameNoFilterNoSums = "hmpps − filter − summaries"
	nameTuned          = "hmpps, tuned on validation"
)

// suite is the set of methods every split is scored with, and the engines
// behind them.
type suite struct {
	methods []eval.Method
	engines []*hmpps.Engine
}

// Close closes the suite's engines.
func (s *suite) Close() {
	for _, e := range s.engines {
		e.Close()
	}
}

// engine builds an engine over the catalog and remembers it for Close.
func (s *suite) engine(ctx context.Context, d *eval.Dataset, opts ...hmpps.Option) (*hmpps.Engine, error) {
	e, err := eval.NewEngine(ctx, d.Products, opts...)
	if err != nil {
		return nil, err
	}
	s.engines = append(s.engines, e)
	return e, nil
}

// newSuite builds the baselines, the hmpps pipeline with its offline
// defaults, its ablations, the validation-tuned pipeline when tuned is not
// nil, and the model pipeline when one is configured.
func newSuite(ctx context.Context, d *eval.Dataset, split *eval.Split, cfg config, tuned *tuneConfig) (*suite, error) {
	s := &suite{}
	text, err := retrieval.NewHashingEmbedder(retrieval.DefaultTextDimension)
	if err != nil {
		return nil, err
	}
	cosine, err := eval.NewQueryCosine(ctx, text, d.Products)
	if err != nil {
		return nil, err
	}
	s.methods = append(s.methods,
		eval.Random{Seed: cfg.seed},
		eval.Popularity{Counts: split.TrainPurchases},
		eval.NewBM25(d.Products),
		cosine,
	)

	// The ablations: "all history" is a filter without a threshold whose K
	// the method raises to the history's length.
	full, err := s.engine(ctx, d)
	if err != nil {
		return nil, err
	}
	allHistory, err := s.engine(ctx, d, hmpps.WithHistoryFilter(retrieval.HistoryFilter{}))
	if err != nil {
		return nil, err
	}
	noSums, err := s.engine(ctx, d, hmpps.WithSummarizer(nil))
	if err != nil {
		return nil, err
	}
	allNoSums, err := s.engine(ctx, d, hmpps.WithHistoryFilter(retrieval.HistoryFilter{}), hmpps.WithSummarizer(nil))
	if err != nil {
		return nil, err
	}
	s.methods = append(s.methods,
		&eval.EngineMethod{Label: nameHMPPS, Engine: full, MeasurePrompt: true},
		&eval.EngineMethod{Label: nameNoFilter, Engine: allHistory, History: eval.AllHistory, MeasurePrompt: true},
		&eval.EngineMethod{Label: nameNoPersonal, Engine: full, History: eval.NoHistory, MeasurePrompt: true},
		&eval.EngineMethod{Label: nameNoSummaries, Engine: noSums, MeasurePrompt: true},
		&eval.EngineMethod{Label: nameNoFilterNoSums, Engine: allNoSums, History: eval.AllHistory, MeasurePrompt: true},
	)
	if tuned != nil {
		e, err := s.engine(ctx, d, tuned.options(split.MaxHistory, true)...)
		if err != nil {
			return nil, err
		}
		s.methods = append(s.methods, &eval.EngineMethod{Label: nameTuned, Engine: e, MeasurePrompt: true})
	}
	m, err := modelMethod(ctx, s, d, cfg, nameHMPPS)
	if err != nil {
		return nil, err
	}
	if m != nil {
		s.methods = append(s.methods, m)
	}
	return s, nil
}

// modelMethod returns the HMPPS pipeline with an Ollama vision model as
// reranker and summarizer (hmpps.WithOllama) when -ollama-model is set, and
// nil otherwise; label names the engine it is built on and opts its other
// options (a trained model, say, whose score then picks the judged
// candidates and orders the rest). Product pictures are URLs that are not
// fetched (no ImageHTTPClient), so the model judges text; the engine falls
// back to the offline stages per candidate when a call fails, and the report
// counts the tasks that did. A model makes one call per candidate: use
// -tasks to bound a first run.
func modelMethod(ctx context.Context, s *suite, d *eval.Dataset, cfg config, label string, opts ...hmpps.Option) (eval.Method, error) {
	if cfg.ollamaModel == "" {
		return nil, nil
	}
	oc := hmpps.OllamaConfig{Host: cfg.ollamaHost, VisionModel: cfg.ollamaModel, RerankCandidates: cfg.ollamaCandidates}
	label += " + " + cfg.ollamaModel
	if cfg.ollamaMode == "completion" {
		oc.RerankMode = rerank.ModeCompletion
		label += " (completion)"
	}
	opts = append(opts, hmpps.WithOllama(oc))
	if !cfg.ollamaSummaries {
		opts = append(opts, hmpps.WithSummarizer(summarize.Extractive{}))
	}
	e, err := s.engine(ctx, d, opts...)
	if err != nil {
		return nil, fmt.Errorf("-ollama-model %q: %w", cfg.ollamaModel, err)
	}
	return &timedMethod{Method: &eval.EngineMethod{Label: label, Engine: e, MeasurePrompt: true}, perTask: cfg.ollamaCandidates}, nil
}

// timedMethod measures a model method's wall time per judged candidate:
// the model makes one call per candidate it judges, at most perTask per
// task (all when perTask is 0).
type timedMethod struct {
	eval.Method
	perTask int

	mu         sync.Mutex
	took       time.Duration
	candidates int
}

// Score scores t with the wrapped method and adds its time.
func (m *timedMethod) Score(ctx context.Context, t eval.Task) (eval.Scored, error) {
	start := time.Now()
	sc, err := m.Method.Score(ctx, t)
	n := len(t.Candidates)
	if m.perTask > 0 {
		n = min(n, m.perTask)
	}
	m.mu.Lock()
	m.took += time.Since(start)
	m.candidates += n
	m.mu.Unlock()
	return sc, err
}

// secondsPerCandidate returns the mean wall seconds per judged candidate
// (searches include the summaries and any prompt measurement), and how many
// were judged.
func (m *timedMethod) secondsPerCandidate() (float64, int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.candidates == 0 {
		return 0, 0
	}
	return m.took.Seconds() / float64(m.candidates), m.candidates
}
