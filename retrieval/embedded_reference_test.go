package retrieval_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/internal/indextest"
	"hmpps/retrieval"
)

// TestEmbeddedMatchesReference runs random upserts, deletes and re-upserts
// and compares every search with a brute-force reference.
func TestEmbeddedMatchesReference(t *testing.T) {
	ctx := context.Background()
	filters := []struct {
		name   string
		filter retrieval.Filter
	}{
		{"none", nil},
		{"brand", retrieval.Filter{retrieval.In("brand", "acme", "vale")}},
		{"category prefix", retrieval.Filter{retrieval.Prefix("category", "Clothing > Shoes")}},
		{"brand and prefix", retrieval.Filter{retrieval.In("brand", "summit"), retrieval.Prefix("category", "Clothing")}},
		{"matches nothing", retrieval.Filter{retrieval.In("brand", "nobody")}},
	}
	for _, metric := range []retrieval.Metric{retrieval.Cosine, retrieval.InnerProduct} {
		for _, dim := range []int{1, 3, 8, 64, 384} {
			t.Run(fmt.Sprintf("%s/dim=%d", metric, dim), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(dim), uint64(metric)))
				e, err := retrieval.NewEmbedded(dim, metric)
				require.NoError(t, err)
				ref := indextest.NewReference(metric)

				check := func(stage string) {
					t.Helper()
					retrieval.RequireConsistent(t, e)
					n, err := e.Len(ctx)
					require.NoError(t, err)
					require.Equal(t, ref.Len(), n, stage)
					for q := range 3 {
						query := indextest.RandomVector(rng, dim)
						for _, f := range filters {
							ranked, all := ref.Ranked(query, f.filter)
							for _, k := range []int{1, 7, 50, 10_000} {
								got, err := e.Search(ctx, query, k, f.filter)
								require.NoError(t, err)
								indextest.RequireSameHits(t, ranked[:min(k, len(ranked))], all, got,
									fmt.Sprintf("%s: query %d, k=%d, filter %s", stage, q, k, f.name))
							}
						}
					}
				}

				churn(t, e, ref, rng, dim, check, "never-existed")
			})
		}
	}
}

// TestEmbeddedQuantizedMatchesReference runs random upserts, deletes and
// re-upserts on a quantized index and compares its searches with brute
// force: every hit must be a true match with its exact score, in order, and
// recall@k must stay at or above 0.99 overall.
func TestEmbeddedQuantizedMatchesReference(t *testing.T) {
	ctx := context.Background()
	filters := []retrieval.Filter{nil, {retrieval.In("brand", "acme", "vale")}, {retrieval.Prefix("category", "Clothing > Shoes")}, {retrieval.In("brand", "nobody")}}
	for _, metric := range []retrieval.Metric{retrieval.Cosine, retrieval.InnerProduct} {
		for _, dim := range []int{1, 3, 8, 64, 384} {
			t.Run(fmt.Sprintf("%s/dim=%d", metric, dim), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(dim), 7+uint64(metric)))
				e, err := retrieval.NewEmbeddedWith(dim, metric, retrieval.EmbeddedOptions{Quantize: true})
				require.NoError(t, err)
				ref := indextest.NewReference(metric)
				var found, wanted int
				check := func(stage string) {
					t.Helper()
					retrieval.RequireConsistent(t, e)
					for q := range 3 {
						query := indextest.RandomVector(rng, dim)
						for fi, f := range filters {
							ranked, all := ref.Ranked(query, f)
							for _, k := range []int{1, 10, 10_000} {
								got, err := e.Search(ctx, query, k, f)
								require.NoError(t, err)
								want := ranked[:min(k, len(ranked))]
								msg := fmt.Sprintf("%s: query %d, k=%d, filter %d", stage, q, k, fi)
								if k >= len(ranked) {
									// Everything fits in the shortlist: exact.
									indextest.RequireSameHits(t, want, all, got, msg)
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
// retrieval.Cosine score is ±1).
func foundWithTies(want []retrieval.Hit, all map[string]float64, got []retrieval.Hit) int {
	if len(want) == 0 {
		return 0
	}
	last := float64(want[len(want)-1].Score)
	threshold := last - 2*indextest.ScoreTolerance(last)
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
func requireTrueHits(t *testing.T, ref *indextest.Reference, all map[string]float64, f retrieval.Filter, got []retrieval.Hit, msg string) {
	t.Helper()
	for i, h := range got {
		score, ok := all[h.ID]
		require.True(t, ok, "%s: unknown id %q", msg, h.ID)
		require.InDelta(t, score, h.Score, indextest.ScoreTolerance(score), "%s: score of %q", msg, h.ID)
		rec, _ := ref.Get(h.ID)
		require.True(t, f.Match(rec.Metadata), "%s: %q does not pass the filter", msg, h.ID)
		if i > 0 {
			require.GreaterOrEqual(t, got[i-1].Score, h.Score, "%s: order", msg)
		}
	}
}

// churn drives e and ref through the same writes, calling check after each
// stage: 600 rows inserted in batches (spanning several scoring blocks at
// every dimension), 250 of them deleted along with the extra IDs, then 100
// of those re-inserted and 80 live ones replaced.
func churn(t *testing.T, e *retrieval.Embedded, ref *indextest.Reference, rng *rand.Rand, dim int, check func(stage string), extra ...string) {
	t.Helper()
	ctx := context.Background()
	const n = 600
	var batch []retrieval.Record
	for i := range n {
		batch = append(batch, indextest.RandomRecord(rng, indextest.ID(i), dim))
		if len(batch) == 97 || i == n-1 {
			require.NoError(t, e.Upsert(ctx, batch...))
			ref.Upsert(batch...)
			batch = nil
		}
	}
	check("after insert")

	var deleted []string
	for _, i := range rng.Perm(n)[:250] {
		deleted = append(deleted, indextest.ID(i))
	}
	deleted = append(deleted, extra...)
	require.NoError(t, e.Delete(ctx, deleted...))
	ref.Delete(deleted...)
	check("after delete")

	batch = nil
	for _, id := range deleted[:100] {
		batch = append(batch, indextest.RandomRecord(rng, id, dim))
	}
	live := ref.IDs()
	for _, i := range rng.Perm(len(live))[:80] {
		batch = append(batch, indextest.RandomRecord(rng, live[i], dim))
	}
	require.NoError(t, e.Upsert(ctx, batch...))
	ref.Upsert(batch...)
	check("after re-upsert and replace")
}
