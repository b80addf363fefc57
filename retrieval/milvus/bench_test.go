package milvus

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"hmpps/internal/indextest"
	"hmpps/internal/milvustest"
	"hmpps/retrieval"
)

// BenchmarkMilvus100k upserts 100,000 products of 384 dimensions into a
// Milvus HNSW collection (inner product, the engine's metric; M 16,
// efConstruction 200) and searches it, reporting upsert throughput, the
// time the server takes to seal and index the data, search latency (p50,
// p99) with and without a filter, and recall@10 against brute force. Two
// data sets: "products" are synthetic product titles embedded by the
// hashing embedder (what the engine indexes by default, images aside), and
// "uniform" are uniformly random vectors, the worst case for any graph
// index. It needs a server, MILVUS_ADDR:
//
//	make bench-milvus
//
// which runs, with a server started by scripts/milvus.sh,
//
//	go test -run '^$' -bench Milvus100k -benchtime 1x -timeout 60m ./retrieval/milvus
//
// Each sub-benchmark does the whole measurement once; the figures are the
// custom metrics (ns/op is not meaningful here).
func BenchmarkMilvus100k(b *testing.B) {
	addr := os.Getenv("MILVUS_ADDR")
	if addr == "" {
		b.Skip("set MILVUS_ADDR to a Milvus server (make bench-milvus starts one)")
	}
	const n, dim, queries = 100_000, 384, 500
	b.Run("products", func(b *testing.B) {
		rng := rand.New(rand.NewPCG(100, 1))
		records, qs := syntheticProducts(b, rng, n, queries, dim)
		benchMilvus(b, addr, records, qs)
	})
	b.Run("uniform", func(b *testing.B) {
		rng := rand.New(rand.NewPCG(100, 2))
		records := make([]retrieval.Record, n)
		for i := range records {
			records[i] = indextest.RandomRecord(rng, indextest.ID(i), dim)
		}
		qs := make([][]float32, queries)
		for i := range qs {
			qs[i] = indextest.RandomVector(rng, dim)
		}
		benchMilvus(b, addr, records, qs)
	})
}

// syntheticProducts makes n product titles from a vocabulary with a long
// tail, embeds them with the hashing embedder, and makes queries of two or
// three words taken from random titles.
func syntheticProducts(b *testing.B, rng *rand.Rand, n, queries, dim int) ([]retrieval.Record, [][]float32) {
	syllables := []string{"ka", "lo", "mi", "ter", "van", "os", "ri", "bel", "du", "sen", "ta", "gor", "phi", "ul", "nex", "pra"}
	vocab := make([]string, 4000)
	for i := range vocab {
		var w strings.Builder
		for range 2 + rng.IntN(2) {
			w.WriteString(syllables[rng.IntN(len(syllables))])
		}
		vocab[i] = w.String()
	}
	zipf := rand.NewZipf(rng, 1.1, 4, uint64(len(vocab)-1))
	titles := make([]string, n)
	for i := range titles {
		words := make([]string, 4+rng.IntN(5))
		for j := range words {
			words[j] = vocab[zipf.Uint64()]
		}
		titles[i] = strings.Join(words, " ")
	}
	emb, err := retrieval.NewHashingEmbedder(dim)
	require.NoError(b, err)
	vecs, err := emb.Embed(context.Background(), titles)
	require.NoError(b, err)
	records := make([]retrieval.Record, n)
	for i := range records {
		records[i] = retrieval.Record{ID: indextest.ID(i), Vector: vecs[i], Metadata: map[string]string{
			"brand": indextest.Brands[rng.IntN(len(indextest.Brands))], "category": indextest.Categories[rng.IntN(len(indextest.Categories))],
		}}
	}
	texts := make([]string, queries)
	for i := range texts {
		words := strings.Fields(titles[rng.IntN(n)])
		rng.Shuffle(len(words), func(a, b int) { words[a], words[b] = words[b], words[a] })
		texts[i] = strings.Join(words[:2+rng.IntN(2)], " ")
	}
	qs, err := emb.Embed(context.Background(), texts)
	require.NoError(b, err)
	return records, qs
}

func benchMilvus(b *testing.B, addr string, records []retrieval.Record, qs [][]float32) {
	const k = 10
	ctx := context.Background()
	dim := len(records[0].Vector)
	exact, err := retrieval.NewEmbedded(dim, retrieval.InnerProduct)
	require.NoError(b, err)
	require.NoError(b, exact.Upsert(ctx, records...))

	cfg := Config{Address: addr, Collection: milvustest.Collection(b), Dimension: dim, Metric: retrieval.InnerProduct}
	ix := newTestIndex(b, addr, cfg)
	metrics := map[string]float64{}
	start := time.Now()
	const chunk = 10_000 // Upsert sends these in requests of BatchSize
	for from := 0; from < len(records); from += chunk {
		require.NoError(b, ix.Upsert(ctx, records[from:min(from+chunk, len(records))]...))
	}
	upsert := time.Since(start)
	start = time.Now()
	require.NoError(b, ix.Flush(ctx))
	flush := time.Since(start)
	count, err := ix.Len(ctx)
	require.NoError(b, err)
	require.Equal(b, len(records), count)
	b.Logf("upserted %d records in %v (%.0f/s); flush and index build took %v",
		len(records), upsert.Round(time.Millisecond), float64(len(records))/upsert.Seconds(), flush.Round(time.Millisecond))
	metrics["upserts/s"] = float64(len(records)) / upsert.Seconds()
	metrics["index-build-s"] = flush.Seconds()

	for _, ef := range []int{64, 128} {
		cfg.SearchEf = ef
		m, err := New(ctx, cfg) // the same collection, searched with another ef
		require.NoError(b, err)
		for _, f := range []struct {
			name   string
			filter retrieval.Filter
		}{{"all", nil}, {"brand", retrieval.Filter{retrieval.In("brand", "acme")}}} {
			// A few unmeasured searches warm the connection and the server.
			for _, q := range qs[:10] {
				_, err := m.Search(ctx, q, k, f.filter)
				require.NoError(b, err)
			}
			var lat []time.Duration
			found, wanted := 0, 0
			for _, q := range qs {
				t0 := time.Now()
				got, err := m.Search(ctx, q, k, f.filter)
				lat = append(lat, time.Since(t0))
				require.NoError(b, err)
				want, err := exact.Search(ctx, q, k, f.filter)
				require.NoError(b, err)
				wanted += len(want)
				found += indextest.Overlap(want, got)
			}
			slices.Sort(lat)
			p50, p99 := lat[len(lat)/2], lat[len(lat)*99/100]
			recall := float64(found) / float64(wanted)
			b.Logf("ef=%d, filter %s: search p50 %v, p99 %v, recall@10 %.3f (%d queries)",
				ef, f.name, p50.Round(10*time.Microsecond), p99.Round(10*time.Microsecond), recall, len(lat))
			suffix := fmt.Sprintf("-ef%d-%s", ef, f.name)
			metrics["p50-ms"+suffix] = float64(p50.Microseconds()) / 1000
			metrics["p99-ms"+suffix] = float64(p99.Microseconds()) / 1000
			metrics["recall@10"+suffix] = recall
		}
		require.NoError(b, m.Close())
	}
	for unit, v := range metrics {
		b.ReportMetric(v, unit)
	}
	b.ReportMetric(0, "ns/op")
}
