package retrieval

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewEmbeddedWith(t *testing.T) {
	tests := []struct {
		name    string
		opts    EmbeddedOptions
		want    EmbeddedOptions
		wantErr bool
	}{
		{"zero value", EmbeddedOptions{}, EmbeddedOptions{}, false},
		{"quantize gets the default rescore", EmbeddedOptions{Quantize: true}, EmbeddedOptions{Quantize: true, Rescore: DefaultRescore}, false},
		{"rescore kept", EmbeddedOptions{Quantize: true, Rescore: 9}, EmbeddedOptions{Quantize: true, Rescore: 9}, false},
		{"rescore ignored without quantize", EmbeddedOptions{Rescore: 9}, EmbeddedOptions{}, false},
		{"parallelism kept", EmbeddedOptions{Parallelism: 3}, EmbeddedOptions{Parallelism: 3}, false},
		{"largest rescore", EmbeddedOptions{Quantize: true, Rescore: MaxRescore}, EmbeddedOptions{Quantize: true, Rescore: MaxRescore}, false},
		{"negative rescore", EmbeddedOptions{Quantize: true, Rescore: -1}, EmbeddedOptions{}, true},
		{"rescore too large", EmbeddedOptions{Quantize: true, Rescore: MaxRescore + 1}, EmbeddedOptions{}, true},
		{"negative parallelism", EmbeddedOptions{Parallelism: -1}, EmbeddedOptions{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := NewEmbeddedWith(8, Cosine, tt.opts)
			if tt.wantErr {
				require.ErrorIs(t, err, ErrInvalidConfig)
				assert.Nil(t, e)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, e.Options())
		})
	}
}

func TestShortlist(t *testing.T) {
	o := EmbeddedOptions{Quantize: true, Rescore: 4}
	tests := []struct {
		k, n, want int
	}{
		{10, 100_000, 42}, // k+32 beats 4k for a small k
		{100, 100_000, 400},
		{1, 20, 20},
		{10, 30, 30},
		{50, 10, 10},
		{int(^uint(0) >> 1), 1000, 1000}, // no overflow
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, o.shortlist(tt.k, tt.n), "k=%d n=%d", tt.k, tt.n)
	}
}

// TestEmbeddedQuantizedMatchesReference runs random upserts, deletes and
// re-upserts on a quantized index and compares its searches with brute
// force: every hit must be a true match with its exact score, in order, and
// recall@k must stay at or above 0.99 overall.
func TestEmbeddedQuantizedMatchesReference(t *testing.T) {
	ctx := context.Background()
	filters := []Filter{nil, {In("brand", "acme", "vale")}, {Prefix("category", "Clothing > Shoes")}, {In("brand", "nobody")}}
	for _, metric := range []Metric{Cosine, InnerProduct} {
		for _, dim := range []int{1, 3, 8, 64, 384} {
			t.Run(fmt.Sprintf("%s/dim=%d", metric, dim), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(dim), 7+uint64(metric)))
				e, err := NewEmbeddedWith(dim, metric, EmbeddedOptions{Quantize: true})
				require.NoError(t, err)
				ref := newReference(metric)
				var found, wanted int
				check := func(stage string) {
					t.Helper()
					requireConsistent(t, e)
					for q := range 3 {
						query := randomVector(rng, dim)
						for fi, f := range filters {
							ranked, all := ref.ranked(query, f)
							for _, k := range []int{1, 10, 10_000} {
								got, err := e.Search(ctx, query, k, f)
								require.NoError(t, err)
								want := ranked[:min(k, len(ranked))]
								msg := fmt.Sprintf("%s: query %d, k=%d, filter %d", stage, q, k, fi)
								if k >= len(ranked) {
									// Everything fits in the shortlist: exact.
									requireSameHits(t, want, all, got, msg)
									continue
								}
								requireTrueHits(t, ref, all, f, got, msg)
								wanted += len(want)
								found += foundWithTies(want, all, got)
							}
						}
					}
				}

				churn(t, e, ref, rng, dim, check)

				recall := float64(found) / float64(max(1, wanted))
				t.Logf("recall against brute force: %.4f (%d of %d)", recall, found, wanted)
				assert.GreaterOrEqual(t, recall, 0.99)
			})
		}
	}
}

// foundWithTies counts the hits of got that belong in want: those want
// holds, and those scoring within rounding of want's last, which float32
// rounding may legitimately rank in its place (in one dimension, every
// Cosine score is ±1).
func foundWithTies(want []Hit, all map[string]float64, got []Hit) int {
	if len(want) == 0 {
		return 0
	}
	last := float64(want[len(want)-1].Score)
	threshold := last - 2*scoreTolerance(last)
	n := 0
	for _, h := range got {
		if all[h.ID] >= threshold {
			n++
		}
	}
	return min(n, len(want))
}

// requireTrueHits checks hits that need not be the best: each is a record
// passing f, with its exact score, in descending order.
func requireTrueHits(t *testing.T, ref *reference, all map[string]float64, f Filter, got []Hit, msg string) {
	t.Helper()
	for i, h := range got {
		score, ok := all[h.ID]
		require.True(t, ok, "%s: unknown id %q", msg, h.ID)
		require.InDelta(t, score, h.Score, scoreTolerance(score), "%s: score of %q", msg, h.ID)
		require.True(t, f.Match(ref.records[h.ID].Metadata), "%s: %q does not pass the filter", msg, h.ID)
		if i > 0 {
			require.GreaterOrEqual(t, got[i-1].Score, h.Score, "%s: order", msg)
		}
	}
}

// TestEmbeddedQuantizedRecall measures recall@10 of the default quantized
// index against the exact one on the two kinds of data the benchmarks use,
// at a size where the shortlist is a small fraction of the rows.
func TestEmbeddedQuantizedRecall(t *testing.T) {
	const n, dim, queries = 20_000, 384, 40
	datasets := []struct {
		name    string
		vectors func(rng *rand.Rand) [][]float32
	}{
		{"uniform", func(rng *rand.Rand) [][]float32 { return uniformVectors(rng, n, dim) }},
		{"clustered", func(rng *rand.Rand) [][]float32 { return clusteredVectors(rng, n, dim, 200) }},
	}
	for _, ds := range datasets {
		for _, metric := range []Metric{Cosine, InnerProduct} {
			t.Run(fmt.Sprintf("%s/%s", ds.name, metric), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(11, uint64(metric)))
				vectors := ds.vectors(rng)
				exact := indexOf(t, vectors, metric, EmbeddedOptions{})
				quantized := indexOf(t, vectors, metric, EmbeddedOptions{Quantize: true})
				recall := measureRecall(t, exact, quantized, queriesNear(rng, vectors, queries), 10)
				t.Logf("recall@10: %.4f", recall)
				assert.GreaterOrEqual(t, recall, 0.99)
			})
		}
	}
}

// indexOf builds an index holding vectors under IDs "0", "1", ....
func indexOf(t testing.TB, vectors [][]float32, metric Metric, opts EmbeddedOptions) *Embedded {
	t.Helper()
	e, err := NewEmbeddedWith(len(vectors[0]), metric, opts)
	require.NoError(t, err)
	const batchSize = 4096
	batch := make([]Record, 0, batchSize)
	for i, v := range vectors {
		batch = append(batch, Record{ID: strconv.Itoa(i), Vector: v})
		if len(batch) == batchSize || i == len(vectors)-1 {
			require.NoError(t, e.Upsert(context.Background(), batch...))
			batch = batch[:0]
		}
	}
	return e
}

// measureRecall returns the share of exact's top k that approx also
// returns, over the queries.
func measureRecall(t testing.TB, exact, approx *Embedded, queries [][]float32, k int) float64 {
	t.Helper()
	ctx := context.Background()
	var found, wanted int
	for _, q := range queries {
		want, err := exact.Search(ctx, q, k, nil)
		require.NoError(t, err)
		got, err := approx.Search(ctx, q, k, nil)
		require.NoError(t, err)
		wanted += len(want)
		found += overlap(want, got)
	}
	return float64(found) / float64(wanted)
}
