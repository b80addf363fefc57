package retrieval

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/viterin/vek/vek32"
)

const benchDim = 384

// benchSet is a cached benchmark index and queries drawn like its rows.
type benchSet struct {
	e       *Embedded
	queries [][]float32
}

// benchKey names a benchSet: the same data and n give the same vectors,
// quantized or not, so that the two can be compared row for row.
type benchKey struct {
	// data is "uniform", "clustered", or "sparse": uniform rows with
	// queries zero in all but 48 of the 384 dimensions, as a query of a few
	// words embedded by HashingEmbedder is.
	data     string
	n        int
	quantize bool
}

// benchSets caches indexes across benchmarks, since building the large ones
// takes far longer than searching them.
var benchSets struct {
	sync.Mutex
	byKey map[benchKey]benchSet
}

// benchIndex returns the Cosine index for key, whose "brand" takes ten
// values so that a filter on one of them passes about 10%. Rows are
// generated and upserted 4096 at a time, so that a million of them cost
// the index's memory and little more.
func benchIndex(b *testing.B, key benchKey) benchSet {
	b.Helper()
	benchSets.Lock()
	defer benchSets.Unlock()
	if s, ok := benchSets.byKey[key]; ok {
		return s
	}
	e, err := NewEmbeddedWith(benchDim, Cosine, EmbeddedOptions{Quantize: key.quantize})
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(uint64(key.n), 1))
	src := uniformSource(rng)
	if key.data == "clustered" {
		src = clusteredSource(rng, benchDim, 1000)
	}
	brands := make([]map[string]string, 10)
	for i := range brands {
		brands[i] = map[string]string{"brand": fmt.Sprintf("brand-%d", i)}
	}
	const batchSize = 4096
	backing := make([]float32, batchSize*benchDim)
	batch := make([]Record, 0, batchSize)
	for i := range key.n {
		v := backing[len(batch)*benchDim : (len(batch)+1)*benchDim]
		src(v)
		batch = append(batch, Record{ID: fmt.Sprintf("p%07d", i), Vector: v, Metadata: brands[i%10]})
		if len(batch) == batchSize || i == key.n-1 {
			if err := e.Upsert(context.Background(), batch...); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	s := benchSet{e: e, queries: vectorsFrom(src, 64, benchDim)}
	if key.data == "sparse" {
		for _, q := range s.queries {
			keep := rng.Perm(benchDim)[:48]
			kept := make([]float32, len(keep))
			for i, j := range keep {
				kept[i] = q[j]
			}
			clear(q)
			for i, j := range keep {
				q[j] = kept[i]
			}
		}
	}
	if benchSets.byKey == nil {
		benchSets.byKey = map[benchKey]benchSet{}
	}
	benchSets.byKey[key] = s
	return s
}

// scanImpls are the ways BenchmarkEmbeddedScan scores a whole index: the
// bare vek kernel, which is the floor for an exact scan, and Search in each
// mode. "serial" runs with Parallelism 1, on the caller's goroutine only.
var scanImpls = []struct {
	name     string
	quantize bool
	// parallelism is set on the index for the run; -1 runs the bare kernel.
	parallelism int
	whole       bool
}{
	{"vek-whole", false, -1, true},
	{"vek-blocked", false, -1, false},
	{"exact", false, 0, false},
	{"exact-serial", false, 1, false},
	{"int8", true, 0, false},
	{"int8-serial", true, 1, false},
}

// BenchmarkEmbeddedScan is the scale curve of an unfiltered top-10 search,
// 384 dims, against the bare vek matrix-vector product over the same
// matrix: "vek-whole" is one vek32.MatMul_Into, which vek splits across a
// new goroutine per CPU (and allocates); "vek-blocked" is the same product
// in blocks on one goroutine. MB/s counts the bytes each scan streams:
// dim×4 per row exact, dim per row quantized. Recall@10 of the quantized
// index against the exact one is reported alongside. The million-row
// sizes are skipped under -short.
func BenchmarkEmbeddedScan(b *testing.B) {
	ctx := context.Background()
	cases := []struct {
		data string
		n    int
	}{
		{"uniform", 10_000}, {"uniform", 100_000}, {"uniform", 1_000_000}, {"clustered", 100_000},
		{"sparse", 100_000}, {"sparse", 1_000_000},
	}
	for _, c := range cases {
		for _, impl := range scanImpls {
			name := fmt.Sprintf("data=%s/n=%d/impl=%s", c.data, c.n, impl.name)
			b.Run(name, func(b *testing.B) {
				if c.n > 100_000 && testing.Short() {
					b.Skip("large index skipped in -short mode")
				}
				set := benchIndex(b, benchKey{c.data, c.n, impl.quantize})
				e := set.e
				if impl.parallelism < 0 {
					benchBareKernel(b, e, set.queries, impl.whole)
					return
				}
				recall := -1.0
				if impl.quantize {
					exact := benchIndex(b, benchKey{c.data, c.n, false})
					recall = measureRecall(b, exact.e, e, set.queries, 10)
				}
				e.opts.Parallelism = impl.parallelism
				defer func() { e.opts.Parallelism = 0 }()
				rowBytes := 4 * e.dim
				if e.stride > 0 {
					rowBytes = e.stride
				}
				b.SetBytes(int64(c.n * rowBytes))
				b.ReportAllocs()
				b.ResetTimer()
				i := 0
				for b.Loop() {
					hits, err := e.Search(ctx, set.queries[i%len(set.queries)], 10, nil)
					if err != nil || len(hits) != 10 {
						b.Fatalf("search: %d hits, %v", len(hits), err)
					}
					i++
				}
				if recall >= 0 {
					// After the loop: resetting the timer drops metrics.
					b.ReportMetric(recall, "recall@10")
				}
			})
		}
	}
}

// benchBareKernel times vek32.MatMul_Into over e's matrix, whole or in
// Search's blocks, with no top-k, filter or result.
func benchBareKernel(b *testing.B, e *Embedded, queries [][]float32, whole bool) {
	n := len(e.ids)
	scores := make([]float32, n)
	b.SetBytes(int64(n * 4 * e.dim))
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		q := queries[i%len(queries)]
		if whole {
			vek32.MatMul_Into(scores, e.matrix, q, e.dim)
		} else {
			for start := 0; start < n; start += e.blockRows {
				end := min(start+e.blockRows, n)
				vek32.MatMul_Into(scores[start:end], e.matrix[start*e.dim:end*e.dim], q, e.dim)
			}
		}
		i++
	}
}

// BenchmarkEmbeddedSearch measures filtered searches: a filter passing
// about 10% of the rows is checked only for rows that would enter the top k.
func BenchmarkEmbeddedSearch(b *testing.B) {
	ctx := context.Background()
	filters := []struct {
		name   string
		filter Filter
	}{
		{"none", nil},
		{"10pct", Filter{In("brand", "brand-3")}},
	}
	for _, n := range []int{10_000, 100_000} {
		for _, quantize := range []bool{false, true} {
			for _, f := range filters {
				mode := map[bool]string{false: "exact", true: "int8"}[quantize]
				b.Run(fmt.Sprintf("n=%d/mode=%s/filter=%s", n, mode, f.name), func(b *testing.B) {
					set := benchIndex(b, benchKey{"uniform", n, quantize})
					b.ReportAllocs()
					b.ResetTimer()
					i := 0
					for b.Loop() {
						hits, err := set.e.Search(ctx, set.queries[i%len(set.queries)], 10, f.filter)
						if err != nil || len(hits) != 10 {
							b.Fatalf("search: %d hits, %v", len(hits), err)
						}
						i++
					}
				})
			}
		}
	}
}

// BenchmarkEmbeddedSearchThroughput runs searches from GOMAXPROCS
// goroutines at once, the load of a busy service, to show that lending
// helpers costs nothing in throughput: once every CPU is searching, no
// helper is idle and each scan runs on its own goroutine.
func BenchmarkEmbeddedSearchThroughput(b *testing.B) {
	ctx := context.Background()
	for _, impl := range []struct {
		name        string
		quantize    bool
		parallelism int
	}{{"exact", false, 0}, {"exact-serial", false, 1}, {"int8", true, 0}} {
		b.Run(fmt.Sprintf("n=100000/impl=%s", impl.name), func(b *testing.B) {
			set := benchIndex(b, benchKey{"uniform", 100_000, impl.quantize})
			set.e.opts.Parallelism = impl.parallelism
			defer func() { set.e.opts.Parallelism = 0 }()
			var next atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					q := set.queries[int(next.Add(1))%len(set.queries)]
					if _, err := set.e.Search(ctx, q, 10, nil); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
