package eval

import (
	"context"
	"runtime"
	"testing"
)

// BenchmarkAmazonCatalogBytes reports the heap an engine with the default
// configuration keeps per product of the Amazon Magazine catalog
// (bytes/product). Each iteration builds the whole catalog, so run it with
// -benchtime 1x.
func BenchmarkAmazonCatalogBytes(b *testing.B) {
	ctx := context.Background()
	products := loadMagazine(b).Products
	for b.Loop() {
		before := liveHeap()
		e, err := NewEngine(ctx, products)
		if err != nil {
			b.Fatal(err)
		}
		after := liveHeap()
		runtime.KeepAlive(e)
		e.Close()
		b.ReportMetric(float64(after-before)/float64(len(products)), "bytes/product")
	}
}

func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
