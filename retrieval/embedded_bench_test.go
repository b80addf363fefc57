package retrieval

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/viterin/vek/vek32"
)

const benchDim = 384

var benchSizes = []int{10_000, 100_000}

// benchIndexes caches one index per size across benchmarks, since building
// the 100k one takes far longer than searching it.
var benchIndexes struct {
	sync.Mutex
	bySize map[int]*Embedded
}

// benchIndex returns a Cosine index of n random records whose "brand" takes
// ten values, so that a filter on one of them passes about 10%.
func benchIndex(b *testing.B, n int) *Embedded {
	b.Helper()
	benchIndexes.Lock()
	defer benchIndexes.Unlock()
	if e, ok := benchIndexes.bySize[n]; ok {
		return e
	}
	e, err := NewEmbedded(benchDim, Cosine)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(uint64(n), 1))
	const batchSize = 1000
	batch := make([]Record, 0, batchSize)
	for i := range n {
		batch = append(batch, Record{
			ID:       fmt.Sprintf("p%07d", i),
			Vector:   randomVector(rng, benchDim),
			Metadata: map[string]string{"brand": fmt.Sprintf("brand-%d", i%10)},
		})
		if len(batch) == batchSize || i == n-1 {
			if err := e.Upsert(context.Background(), batch...); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if benchIndexes.bySize == nil {
		benchIndexes.bySize = map[int]*Embedded{}
	}
	benchIndexes.bySize[n] = e
	return e
}

func BenchmarkEmbeddedSearch(b *testing.B) {
	ctx := context.Background()
	filters := []struct {
		name   string
		filter Filter
	}{
		{"none", nil},
		{"10pct", Filter{In("brand", "brand-3")}},
	}
	for _, n := range benchSizes {
		for _, f := range filters {
			b.Run(fmt.Sprintf("n=%d/filter=%s", n, f.name), func(b *testing.B) {
				e := benchIndex(b, n)
				query := randomVector(rand.New(rand.NewPCG(2, 2)), benchDim)
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					hits, err := e.Search(ctx, query, 10, f.filter)
					if err != nil || len(hits) != 10 {
						b.Fatalf("search: %d hits, %v", len(hits), err)
					}
				}
			})
		}
	}
}

// BenchmarkMatMulBaseline scores the same matrices with the bare kernel, so
// that Search's overhead over it is visible: "whole" is one
// vek32.MatMul_Into over the matrix, which vek splits across the CPUs;
// "blocked" is the single-goroutine block loop Search runs.
func BenchmarkMatMulBaseline(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("n=%d/whole", n), func(b *testing.B) {
			e := benchIndex(b, n)
			query := randomVector(rand.New(rand.NewPCG(2, 2)), benchDim)
			scores := make([]float32, n)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				vek32.MatMul_Into(scores, e.matrix, query, benchDim)
			}
		})
		b.Run(fmt.Sprintf("n=%d/blocked", n), func(b *testing.B) {
			e := benchIndex(b, n)
			query := randomVector(rand.New(rand.NewPCG(2, 2)), benchDim)
			scores := make([]float32, e.blockRows)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				for start := 0; start < n; start += e.blockRows {
					end := min(start+e.blockRows, n)
					vek32.MatMul_Into(scores, e.matrix[start*benchDim:end*benchDim], query, benchDim)
				}
			}
		})
	}
}
