package hmpps

import (
	"context"
	"math/rand/v2"
	"runtime"
	"testing"
)

// BenchmarkCatalogBytes reports the heap the engine keeps per product of
// the BenchmarkSearch catalog (bytes/product): the products, their
// vectors, the index and what the engine prepares for searching. Each
// iteration builds the whole catalog, so run it with -benchtime 1x.
func BenchmarkCatalogBytes(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	products := make([]Product, benchCatalogSize)
	for i := range products {
		products[i] = benchProduct(rng, i)
	}
	for b.Loop() {
		perProduct := heapBytesPerProduct(b, products, WithImageEmbedder(nil))
		b.ReportMetric(perProduct, "bytes/product")
	}
}

// heapBytesPerProduct returns the live heap an engine configured by opts
// adds per product of products, measured after a garbage collection.
func heapBytesPerProduct(tb testing.TB, products []Product, opts ...Option) float64 {
	tb.Helper()
	ctx := context.Background()
	before := liveHeap()
	e, err := New(opts...)
	if err != nil {
		tb.Fatal(err)
	}
	defer e.Close()
	if err := e.Upsert(ctx, products...); err != nil {
		tb.Fatal(err)
	}
	after := liveHeap()
	runtime.KeepAlive(e)
	return float64(after-before) / float64(len(products))
}

func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
