package milvus_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"hmpps/hmpps"
	"hmpps/internal/benchcatalog"
	"hmpps/internal/milvustest"
	"hmpps/internal/procmem"
	"hmpps/retrieval"
	"hmpps/retrieval/milvus"
)

// BenchmarkMilvusSharedCatalogReplica measures what a replica on a shared
// catalog costs: its catalog of HMPPS_REPLICA_PRODUCTS products (default
// 100,000; BenchmarkSearch's synthetic catalog, images off) is written into
// a catalog collection through one engine, which is then closed; a second
// engine opens on the collection alone. It reports the heap the replica
// keeps per product after opening and after its searches have filled its
// cache, and the growth of the process's resident memory (VmRSS, after
// returning freed memory to the system; Linux only) over the same points,
// the time it took to open (a replica's restart), and the median and 99th
// percentile of its hybrid searches, against an embedded engine on the
// same catalog in the same process, measured afterwards. With
// HMPPS_REPLICA_PROFILE set to a directory, it writes the heap profiles of
// the replica opened and searched there, for
// go tool pprof -top -diff_base replica-opened.heap replica-searched.heap.
//
//	scripts/milvus.sh run go test -run '^$' -bench SharedCatalogReplica -benchtime 1x -timeout 30m ./retrieval/milvus
func BenchmarkMilvusSharedCatalogReplica(b *testing.B) {
	addr := os.Getenv("MILVUS_ADDR")
	if addr == "" {
		b.Skip("set MILVUS_ADDR to a Milvus server (make bench-milvus starts one)")
	}
	n := 100_000
	if s := os.Getenv("HMPPS_REPLICA_PRODUCTS"); s != "" {
		var err error
		n, err = strconv.Atoi(s)
		require.NoError(b, err)
	}
	ctx := context.Background()
	coll := milvustest.Collection(b)
	cfg := milvus.Config{Address: addr, Collection: coll, Catalog: true}
	open := func() *hmpps.Engine {
		e, err := hmpps.New(hmpps.WithImageEmbedder(nil), hmpps.WithIndexFactory(milvus.Factory(cfg)))
		require.NoError(b, err)
		return e
	}
	products := make([]hmpps.Product, n)
	for i, p := range benchcatalog.Catalog(n) {
		products[i] = hmpps.Product{ID: p.ID, Title: p.Title, Brand: p.Brand, Category: p.Category,
			Description: p.Description, Attributes: p.Attributes}
	}
	requests := benchcatalog.Requests(500, n, 50)

	writer := open()
	start := time.Now()
	for batch := range slices.Chunk(products, 1000) {
		require.NoError(b, writer.Upsert(ctx, batch...))
	}
	b.Logf("%d products written through one engine in %v", n, time.Since(start).Round(time.Millisecond))
	require.NoError(b, writer.Close())
	writer = nil
	defer func() {
		ix, err := milvus.NewCatalog(ctx, milvus.Config{Address: addr, Collection: coll, Dimension: retrieval.DefaultTextDimension, Metric: retrieval.InnerProduct})
		if err == nil {
			_ = ix.Drop(ctx)
		}
	}()

	profiles := os.Getenv("HMPPS_REPLICA_PROFILE")
	for range b.N {
		before := heap()
		rssBefore, rssOK := resident()
		start = time.Now()
		replica := open()
		opened := time.Since(start)
		require.Equal(b, n, replica.Len())
		afterOpen := heap()
		rssOpen, _ := resident()
		writeHeapProfile(b, profiles, "replica-opened.heap")
		search := latencies(b, ctx, replica, requests)
		afterSearch := heap()
		rssSearched, _ := resident()
		writeHeapProfile(b, profiles, "replica-searched.heap")
		b.ReportMetric(float64(afterOpen-before)/float64(n), "heap-B/product")
		b.ReportMetric(float64(afterSearch-before)/float64(n), "heap-after-searches-B/product")
		if rssOK {
			b.ReportMetric(float64(int64(rssOpen)-int64(rssBefore))/float64(n), "rss-B/product")
			b.ReportMetric(float64(int64(rssSearched)-int64(rssBefore))/float64(n), "rss-after-searches-B/product")
		}
		b.ReportMetric(opened.Seconds(), "open-s")
		b.ReportMetric(search[0], "p50-ms")
		b.ReportMetric(search[1], "p99-ms")
		require.NoError(b, replica.Close())

		embedded, err := hmpps.New(hmpps.WithImageEmbedder(nil))
		require.NoError(b, err)
		for batch := range slices.Chunk(products, 1000) {
			require.NoError(b, embedded.Upsert(ctx, batch...))
		}
		local := latencies(b, ctx, embedded, requests)
		b.ReportMetric(local[0], "embedded-p50-ms")
		b.ReportMetric(local[1], "embedded-p99-ms")
		require.NoError(b, embedded.Close())
	}
}

// heap returns the live heap after two garbage collections.
func heap() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// resident returns the process's resident memory (VmRSS) after a garbage
// collection that returns what it freed to the operating system, and false
// where /proc/self/status does not say (outside Linux).
func resident() (uint64, bool) {
	debug.FreeOSMemory()
	return procmem.Resident(0)
}

// writeHeapProfile writes the heap profile, as of the last garbage
// collection, to dir/name; it does nothing when dir is blank.
func writeHeapProfile(b *testing.B, dir, name string) {
	if dir == "" {
		return
	}
	require.NoError(b, os.MkdirAll(dir, 0o755))
	f, err := os.Create(filepath.Join(dir, name))
	require.NoError(b, err)
	require.NoError(b, pprof.Lookup("heap").WriteTo(f, 0))
	require.NoError(b, f.Close())
}

// latencies runs the requests one at a time on e (hybrid retrieval, 100
// candidates, 10 results) and returns their median and 99th percentile in
// milliseconds.
func latencies(b *testing.B, ctx context.Context, e *hmpps.Engine, requests []benchcatalog.Request) [2]float64 {
	took := make([]float64, 0, len(requests))
	for _, r := range requests {
		start := time.Now()
		_, err := e.Search(ctx, hmpps.Request{Query: r.Query, HistoryIDs: r.HistoryIDs, TopN: 10})
		require.NoError(b, err)
		took = append(took, float64(time.Since(start).Microseconds())/1000)
	}
	slices.Sort(took)
	return [2]float64{took[len(took)/2], took[len(took)*99/100]}
}
