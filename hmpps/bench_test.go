package hmpps

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime/pprof"
	"slices"
	"sync"
	"testing"
	"time"

	"hmpps/internal/benchcatalog"
)

// The whole offline Search over a synthetic catalog: 10,000 products with
// titles, brands, category paths, attributes and descriptions of six to
// nine sentences, text vectors of 384 dimensions (images off), 100
// candidates from the index, 50 history items per user, extractive
// summaries of 60 words and the preference reranker.

const (
	benchCatalogSize = 10_000
	benchHistory     = 50
)

// benchProduct returns catalog product i (see internal/benchcatalog).
func benchProduct(rng *rand.Rand, i int) Product {
	p := benchcatalog.NewProduct(rng, i)
	return Product{ID: p.ID, Title: p.Title, Brand: p.Brand, Category: p.Category,
		Description: p.Description, Attributes: p.Attributes}
}

// benchEngines caches the engines across benchmarks, since embedding the
// catalog takes longer than the benchmark.
var benchEngines struct {
	sync.Mutex
	byName map[string]*Engine
}

func benchEngine(b *testing.B, name string, opts ...Option) *Engine {
	b.Helper()
	benchEngines.Lock()
	defer benchEngines.Unlock()
	if e, ok := benchEngines.byName[name]; ok {
		return e
	}
	e, err := New(append([]Option{WithImageEmbedder(nil)}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	products := make([]Product, benchCatalogSize)
	for i := range products {
		products[i] = benchProduct(rng, i)
	}
	if err := e.Upsert(context.Background(), products...); err != nil {
		b.Fatal(err)
	}
	if benchEngines.byName == nil {
		benchEngines.byName = map[string]*Engine{}
	}
	benchEngines.byName[name] = e
	return e
}

// benchRequests returns requests of two- and three-word queries, each
// with the history of a different user.
func benchRequests(count int) []Request {
	out := make([]Request, count)
	for i, r := range benchcatalog.Requests(count, benchCatalogSize, benchHistory) {
		out[i] = Request{Query: r.Query, HistoryIDs: r.HistoryIDs}
	}
	return out
}

// BenchmarkSearch reports, besides the mean, the median and 99th
// percentile of single searches, and the mean time of each stage from
// Response.Timings. Its searches, and the goroutines they start, carry the
// profiler label phase=search, so that a CPU profile can leave out
// building the catalog: go tool pprof -tagfocus phase=search. Candidates
// come from the default, hybrid retrieval.
func BenchmarkSearch(b *testing.B) {
	benchSearch(b, benchEngine(b, "default"))
}

// BenchmarkSearchVector is BenchmarkSearch with candidates from the vector
// index alone (WithRetrieval(RetrieveVector)), to show what hybrid
// retrieval costs.
func BenchmarkSearchVector(b *testing.B) {
	benchSearch(b, benchEngine(b, "vector", WithRetrieval(RetrieveVector)))
}

// BenchmarkSearchWithModel is BenchmarkSearch with a trained model
// (WithModel): the learned stage one and the learned ranker instead of the
// fixed filter and the preference reranker, to show what the model costs.
// The model is trained briefly on made-up purchases; its weights do not
// change the work a search does.
func BenchmarkSearchWithModel(b *testing.B) {
	m := benchModel(b)
	benchSearch(b, benchEngine(b, "model", WithModel(m)))
}

// BenchmarkSearchWithModelDeep is BenchmarkSearchWithModel with 200
// candidates from each index, the depth of the whole-catalog evaluation's
// trained engine: what the deeper retrieval costs a search.
func BenchmarkSearchWithModelDeep(b *testing.B) {
	m := benchModel(b)
	benchSearch(b, benchEngine(b, "model-deep", WithModel(m), WithRetrieveK(2*DefaultRetrieveK)))
}

// benchModel is a model trained on made-up purchases of the default
// benchmark catalog.
func benchModel(b *testing.B) *Model {
	b.Helper()
	base := benchEngine(b, "default")
	var examples []TrainingExample
	for i, r := range benchRequests(64) {
		examples = append(examples, TrainingExample{User: fmt.Sprint(i), Query: r.Query, HistoryIDs: r.HistoryIDs,
			Positive: fmt.Sprintf("p%05d", (i*7919)%benchCatalogSize)})
	}
	m, err := Train(context.Background(), base, examples, TrainOptions{Negatives: 20, Epochs: 3, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	return m
}

func benchSearch(b *testing.B, e *Engine) {
	ctx := context.Background()
	reqs := benchRequests(64)
	defer pprof.SetGoroutineLabels(ctx)
	pprof.SetGoroutineLabels(pprof.WithLabels(ctx, pprof.Labels("phase", "search")))
	durations := make([]time.Duration, 0, 1<<16)
	var stages Timings
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		start := time.Now()
		resp, err := e.Search(ctx, reqs[i%len(reqs)])
		durations = append(durations, time.Since(start))
		// A trained model adds co-purchase neighbours to the 100 retrieved.
		if err != nil || len(resp.Results) != 10 || resp.Candidates < 100 {
			b.Fatalf("search: %v, %d results of %d candidates", err, len(resp.Results), resp.Candidates)
		}
		stages.Embed += resp.Timings.Embed
		stages.Retrieve += resp.Timings.Retrieve
		stages.HistoryFilter += resp.Timings.HistoryFilter
		stages.Summarize += resp.Timings.Summarize
		stages.Rerank += resp.Timings.Rerank
		i++
	}
	slices.Sort(durations)
	pct := func(p float64) float64 { return float64(durations[int(p*float64(len(durations)-1))].Nanoseconds()) }
	b.ReportMetric(pct(0.50), "p50-ns")
	b.ReportMetric(pct(0.99), "p99-ns")
	n := float64(len(durations))
	b.ReportMetric(float64(stages.Embed.Nanoseconds())/n, "embed-ns")
	b.ReportMetric(float64(stages.Retrieve.Nanoseconds())/n, "retrieve-ns")
	b.ReportMetric(float64(stages.HistoryFilter.Nanoseconds())/n, "filter-ns")
	b.ReportMetric(float64(stages.Summarize.Nanoseconds())/n, "summarize-ns")
	b.ReportMetric(float64(stages.Rerank.Nanoseconds())/n, "rerank-ns")
}

// benchRNG returns the generator of the benchmark catalog, seeded as
// benchEngine seeds it.
func benchRNG() *rand.Rand { return rand.New(rand.NewPCG(1, 2)) }
