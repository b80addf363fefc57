package retrieval

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// pairOf returns an exact and a quantized index holding the same records.
func pairOf(t testing.TB, dim int, metric Metric, records []Record) (exact, quantized *Embedded) {
	t.Helper()
	var err error
	exact, err = NewEmbedded(dim, metric)
	require.NoError(t, err)
	quantized, err = NewEmbeddedWith(dim, metric, EmbeddedOptions{Quantize: true})
	require.NoError(t, err)
	ctx := context.Background()
	for lo := 0; lo < len(records); lo += 4096 {
		batch := records[lo:min(lo+4096, len(records))]
		require.NoError(t, exact.Upsert(ctx, batch...))
		require.NoError(t, quantized.Upsert(ctx, batch...))
	}
	return exact, quantized
}

// requireSameSearches checks that the quantized index answers every query,
// for every k and filter, with exactly the exact index's hits: the same
// IDs in the same order with the same scores, bit for bit.
func requireSameSearches(t *testing.T, exact, quantized *Embedded, queries [][]float32, ks []int, filters []Filter) {
	t.Helper()
	ctx := context.Background()
	for qi, q := range queries {
		for _, k := range ks {
			for fi, f := range filters {
				want, err := exact.Search(ctx, q, k, f)
				require.NoError(t, err)
				got, err := quantized.Search(ctx, q, k, f)
				require.NoError(t, err)
				require.Equal(t, want, got, "query %d, k=%d, filter %d", qi, k, fi)
			}
		}
	}
}

// TestQuantizedSearchIsExact checks that a quantized index returns exactly
// what the exact scan returns, on the data of the benchmarks (uniform and
// clustered), on texts embedded by HashingEmbedder (sparse queries), under
// both metrics, with filters, and for a k past the number of rows.
func TestQuantizedSearchIsExact(t *testing.T) {
	filters := []Filter{nil, {In("brand", "acme", "vale")}, {In("brand", "nobody")}}
	ks := []int{1, 10, 100, 5000}
	for _, metric := range []Metric{Cosine, InnerProduct} {
		for _, data := range []string{"uniform", "clustered", "text"} {
			t.Run(fmt.Sprintf("%s/%s", data, metric), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(21, uint64(metric)))
				const n, dim = 3000, 96
				var vectors, queries [][]float32
				switch data {
				case "uniform":
					vectors = uniformVectors(rng, n, dim)
					queries = queriesNear(rng, vectors, 8)
				case "clustered":
					vectors = clusteredVectors(rng, n, dim, 20)
					queries = queriesNear(rng, vectors, 8)
				case "text":
					vectors, queries = textVectors(t, rng, n, dim, 8)
				}
				records := make([]Record, n)
				for i, v := range vectors {
					records[i] = Record{ID: testID(i), Vector: v, Metadata: map[string]string{"brand": testBrands[rng.IntN(len(testBrands))]}}
				}
				exact, quantized := pairOf(t, dim, metric, records)
				requireSameSearches(t, exact, quantized, queries, ks, filters)
			})
		}
	}
}

// textVectors embeds n synthetic product texts and count two-word queries
// with HashingEmbedder: dense rows, and queries zero in most dimensions.
func textVectors(t *testing.T, rng *rand.Rand, n, dim, count int) (rows, queries [][]float32) {
	t.Helper()
	words := strings.Fields("waterproof leather boots trail runner merino socks insulated jacket tent ultralight stove headlamp black navy red olive canvas nylon pack gloves")
	text := func(w int) string {
		var b strings.Builder
		for range w {
			b.WriteString(words[rng.IntN(len(words))])
			b.WriteByte(' ')
		}
		return b.String()
	}
	emb, err := NewHashingEmbedder(dim)
	require.NoError(t, err)
	texts := make([]string, n)
	for i := range texts {
		texts[i] = text(8 + rng.IntN(30))
	}
	rows, err = emb.Embed(context.Background(), texts)
	require.NoError(t, err)
	qs := make([]string, count)
	for i := range qs {
		qs[i] = text(2)
	}
	queries, err = emb.Embed(context.Background(), qs)
	require.NoError(t, err)
	return rows, queries
}

// TestQuantizedSearchIsExactOnNearTies builds rows that quantization cannot
// tell apart: copies of one vector perturbed far below a quantization step,
// some by a single ulp, some not at all (exact ties, broken by ID), with
// components on the half steps where rounding flips, inserted in an order
// unrelated to their IDs. The exact scores differ by less than any bound's
// radius, so every one of them must be rescored.
func TestQuantizedSearchIsExactOnNearTies(t *testing.T) {
	const dim = 64
	rng := rand.New(rand.NewPCG(3, 3))
	base := make([]float32, dim)
	for j := range base {
		// Half steps of the codes: m/127·(c+1/2).
		base[j] = float32((float64(rng.IntN(255)-127) + 0.5) / 127)
	}
	base[0] = 1 // the largest component sets the scale
	var records []Record
	for i, p := range rng.Perm(600) {
		v := append([]float32(nil), base...)
		switch i % 4 {
		case 0: // an exact copy
		case 1: // one component one ulp away
			j := 1 + rng.IntN(dim-1)
			v[j] = math.Nextafter32(v[j], float32(math.Inf(1-2*rng.IntN(2))))
		case 2: // every component moved by a millionth of a step
			for j := 1; j < dim; j++ {
				v[j] += float32(rng.NormFloat64() * 1e-6 / 127)
			}
		case 3: // the other side of the half steps
			for j := 1; j < dim; j++ {
				v[j] = math.Nextafter32(v[j], 0)
			}
		}
		records = append(records, Record{ID: testID(p), Vector: v})
	}
	// And rows that quantize alike but are far apart in exact score.
	for i := range 200 {
		v := randomVector(rng, dim)
		records = append(records, Record{ID: fmt.Sprintf("r%04d", i), Vector: v})
	}
	queries := [][]float32{base, randomVector(rng, dim)}
	queries = append(queries, queriesNear(rng, [][]float32{base}, 4)...)
	for _, metric := range []Metric{Cosine, InnerProduct} {
		exact, quantized := pairOf(t, dim, metric, records)
		requireSameSearches(t, exact, quantized, queries, []int{1, 3, 10, 150, 599, 800, 1000}, []Filter{nil})
	}
}

// TestQuantizedSearchIsExactAfterChurn checks exactness on an index whose
// rows were replaced and deleted, which moves rows between blocks.
func TestQuantizedSearchIsExactAfterChurn(t *testing.T) {
	ctx := context.Background()
	const dim = 40
	rng := rand.New(rand.NewPCG(9, 9))
	exact, err := NewEmbedded(dim, InnerProduct)
	require.NoError(t, err)
	quantized, err := NewEmbeddedWith(dim, InnerProduct, EmbeddedOptions{Quantize: true})
	require.NoError(t, err)
	for round := range 30 {
		var batch []Record
		for range 1 + rng.IntN(200) {
			batch = append(batch, randomRecord(rng, testID(rng.IntN(1500)), dim))
		}
		batch = dedupeRecords(batch)
		require.NoError(t, exact.Upsert(ctx, batch...))
		require.NoError(t, quantized.Upsert(ctx, batch...))
		var gone []string
		for range rng.IntN(150) {
			gone = append(gone, testID(rng.IntN(1500)))
		}
		require.NoError(t, exact.Delete(ctx, gone...))
		require.NoError(t, quantized.Delete(ctx, gone...))
		requireConsistent(t, quantized)
		if round%5 == 4 {
			requireSameSearches(t, exact, quantized, [][]float32{randomVector(rng, dim), randomVector(rng, dim)},
				[]int{1, 10, 100}, []Filter{nil, {In("brand", "acme")}})
		}
	}
}

// dedupeRecords keeps the last record of each ID.
func dedupeRecords(records []Record) []Record {
	last := map[string]int{}
	for i, r := range records {
		last[r.ID] = i
	}
	var out []Record
	for i, r := range records {
		if last[r.ID] == i {
			out = append(out, r)
		}
	}
	return out
}

// TestQuantizedSearchFallsBackOnExtremeScales checks the vectors for which
// the bounds would not hold, huge ones whose scores overflow float32 and
// tiny ones whose scale is not a normal float32: the index scans them
// exactly, and so still returns the exact scan's hits.
func TestQuantizedSearchFallsBackOnExtremeScales(t *testing.T) {
	const dim = 16
	rng := rand.New(rand.NewPCG(4, 4))
	for _, scale := range []float64{1e30, 1e-40, 1e-44} {
		t.Run(fmt.Sprint(scale), func(t *testing.T) {
			var records []Record
			for i := range 300 {
				v := randomVector(rng, dim)
				if i%3 == 0 {
					for j := range v {
						v[j] = float32(float64(v[j]) * scale)
					}
				}
				records = append(records, Record{ID: testID(i), Vector: v})
			}
			exact, quantized := pairOf(t, dim, InnerProduct, records)
			queries := [][]float32{randomVector(rng, dim), records[0].Vector}
			big := randomVector(rng, dim)
			for j := range big {
				big[j] *= 1e20
			}
			queries = append(queries, big)
			requireSameSearches(t, exact, quantized, queries, []int{1, 10, 300}, []Filter{nil})
		})
	}
}

// TestSearchFuncFilters checks that SearchFunc keeps exactly the records
// its function accepts, in both modes, as Search does with metadata.
func TestSearchFuncFilters(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(5, 5))
	var records []Record
	for i := range 2000 {
		records = append(records, randomRecord(rng, testID(i), 32))
	}
	exact, quantized := pairOf(t, 32, Cosine, records)
	brand := map[string]string{}
	for _, r := range records {
		brand[r.ID] = r.Metadata["brand"]
	}
	keep := func(id string) bool { return brand[id] == "acme" }
	for _, e := range []*Embedded{exact, quantized} {
		for range 5 {
			q := randomVector(rng, 32)
			for _, k := range []int{1, 10, 3000} {
				want, err := exact.Search(ctx, q, k, Filter{In("brand", "acme")})
				require.NoError(t, err)
				got, err := e.SearchFunc(ctx, q, k, keep)
				require.NoError(t, err)
				require.Equal(t, want, got)
			}
		}
	}
}

// TestReadVectors checks that ReadVectors copies the stored vectors, in
// the order asked, and names an unknown ID.
func TestReadVectors(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(6, 6))
	e, err := NewEmbeddedWith(8, Cosine, EmbeddedOptions{Quantize: true})
	require.NoError(t, err)
	records := []Record{randomRecord(rng, "a", 8), randomRecord(rng, "b", 8), randomRecord(rng, "c", 8)}
	require.NoError(t, e.Upsert(ctx, records...))
	stored, err := e.Get(ctx, "c", "a")
	require.NoError(t, err)
	dst := make([]float32, 16)
	require.NoError(t, e.ReadVectors([]string{"c", "a"}, dst))
	require.Equal(t, stored[0].Vector, dst[:8])
	require.Equal(t, stored[1].Vector, dst[8:])
	require.ErrorIs(t, e.ReadVectors([]string{"a", "zz"}, dst), ErrNotFound)
	require.ErrorIs(t, e.ReadVectors([]string{"a"}, dst), ErrDimensionMismatch)
	require.NoError(t, e.Close())
	require.ErrorIs(t, e.ReadVectors([]string{"a"}, dst[:8]), ErrClosed)
}

// TestLoad checks that Load fills an index as Upsert would, in both modes,
// and refuses what Upsert refuses, leaving the index empty.
func TestLoad(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 7))
	const n, dim = 700, 24
	for _, opts := range []EmbeddedOptions{{}, {Quantize: true}} {
		for _, metric := range []Metric{Cosine, InnerProduct} {
			t.Run(fmt.Sprintf("%v/%s", opts.Quantize, metric), func(t *testing.T) {
				upserted, err := NewEmbeddedWith(dim, metric, opts)
				require.NoError(t, err)
				loaded, err := NewEmbeddedWith(dim, metric, opts)
				require.NoError(t, err)
				ids := make([]string, n)
				vectors := make([]float32, 0, n*dim)
				var records []Record
				for i := range ids {
					ids[i] = testID(i)
					v := randomVector(rng, dim)
					vectors = append(vectors, v...)
					records = append(records, Record{ID: ids[i], Vector: v})
				}
				require.NoError(t, upserted.Upsert(ctx, records...))
				require.NoError(t, loaded.Load(ctx, ids, vectors))
				requireConsistent(t, loaded)
				for range 5 {
					q := randomVector(rng, dim)
					want, err := upserted.Search(ctx, q, 10, nil)
					require.NoError(t, err)
					got, err := loaded.Search(ctx, q, 10, nil)
					require.NoError(t, err)
					require.Equal(t, want, got)
				}
				require.Error(t, loaded.Load(ctx, ids[:1], vectors[:dim]), "not empty")
			})
		}
	}
	bad := []struct {
		name    string
		ids     []string
		vectors []float32
		err     error
	}{
		{"short vectors", []string{"a", "b"}, make([]float32, 3), ErrDimensionMismatch},
		{"empty id", []string{""}, []float32{1, 2}, ErrEmptyID},
		{"duplicate id", []string{"a", "a"}, []float32{1, 2, 3, 4}, ErrDuplicateID},
		{"NaN", []string{"a", "b"}, []float32{1, 2, float32(math.NaN()), 4}, ErrInvalidVector},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			e, err := NewEmbeddedWith(2, InnerProduct, EmbeddedOptions{Quantize: true})
			require.NoError(t, err)
			require.ErrorIs(t, e.Load(ctx, tt.ids, tt.vectors), tt.err)
			n, err := e.Len(ctx)
			require.NoError(t, err)
			require.Zero(t, n)
		})
	}
}
