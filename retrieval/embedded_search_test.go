package retrieval

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEmbeddedSearchInvalidInput(t *testing.T) {
	ctx := context.Background()
	nan, inf := float32(math.NaN()), float32(math.Inf(-1))
	tests := []struct {
		name   string
		metric Metric
		query  []float32
		k      int
		filter Filter
		want   error
	}{
		{"nan", Cosine, []float32{1, nan}, 3, nil, ErrInvalidVector},
		{"inf", InnerProduct, []float32{inf, 1}, 3, nil, ErrInvalidVector},
		{"empty", Cosine, []float32{}, 3, nil, ErrInvalidVector},
		{"nil", InnerProduct, nil, 3, nil, ErrInvalidVector},
		{"wrong length", Cosine, []float32{1, 2, 3}, 3, nil, ErrDimensionMismatch},
		{"zero under cosine", Cosine, []float32{0, 0}, 3, nil, ErrInvalidVector},
		{"invalid filter", Cosine, []float32{1, 0}, 3, Filter{{Field: "brand"}}, ErrInvalidFilter},
		{"zero k", Cosine, []float32{1, 0}, 0, nil, nil},
		{"negative k", InnerProduct, []float32{1, 0}, -1, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := NewEmbedded(2, tt.metric)
			require.NoError(t, err)
			require.NoError(t, e.Upsert(ctx, Record{ID: "a", Vector: []float32{1, 0}}))
			hits, err := e.Search(ctx, tt.query, tt.k, tt.filter)
			require.Error(t, err)
			if tt.want != nil {
				require.ErrorIs(t, err, tt.want)
			} else {
				assert.Contains(t, err.Error(), "k must be positive")
			}
			assert.Nil(t, hits)
		})
	}

	t.Run("zero query under inner product is fine", func(t *testing.T) {
		e, err := NewEmbedded(2, InnerProduct)
		require.NoError(t, err)
		require.NoError(t, e.Upsert(ctx, Record{ID: "a", Vector: []float32{1, 0}}))
		hits, err := e.Search(ctx, []float32{0, 0}, 1, nil)
		require.NoError(t, err)
		assertHits(t, []Hit{{ID: "a", Score: 0}}, hits)
	})
}

func TestEmbeddedSearchTiesBreakByID(t *testing.T) {
	ctx := context.Background()
	e, err := NewEmbedded(2, Cosine)
	require.NoError(t, err)
	same := []float32{1, 1}
	for _, id := range []string{"d", "b", "e", "a", "c"} {
		require.NoError(t, e.Upsert(ctx, Record{ID: id, Vector: same}))
	}
	require.NoError(t, e.Upsert(ctx, Record{ID: "best", Vector: []float32{1, 0}}))

	query := []float32{1, 0}
	hits, err := e.Search(ctx, query, 3, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"best", "a", "b"}, hitIDs(hits))
	hits, err = e.Search(ctx, query, 100, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"best", "a", "b", "c", "d", "e"}, hitIDs(hits))
}

// TestEmbeddedSearchOverflow checks that inner products overflowing to NaN
// rank last instead of breaking the heap's order.
func TestEmbeddedSearchOverflow(t *testing.T) {
	ctx := context.Background()
	const dim = 32
	vec := func(x0, x1 float32) []float32 {
		v := make([]float32, dim)
		v[0], v[1] = x0, x1
		return v
	}
	e, err := NewEmbedded(dim, InnerProduct)
	require.NoError(t, err)
	require.NoError(t, e.Upsert(ctx,
		Record{ID: "nan", Vector: vec(1e38, 1e38)}, // +Inf + -Inf
		Record{ID: "pos", Vector: vec(1, 0)},
		Record{ID: "neg", Vector: vec(-1, 0)},
	))
	hits, err := e.Search(ctx, vec(1e38, -1e38), 3, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"pos", "neg", "nan"}, hitIDs(hits))
	assert.True(t, math.IsInf(float64(hits[2].Score), -1))
}

// TestEmbeddedSearchAllocations pins the steady-state cost of a search to
// the result slice, at a size where one whole-matrix vek32.MatMul_Into
// would fan out to goroutines and allocate.
func TestEmbeddedSearchAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items")
	}
	ctx := context.Background()
	const dim, n = 384, 2000
	rng := rand.New(rand.NewPCG(5, 5))
	for _, metric := range []Metric{Cosine, InnerProduct} {
		e, err := NewEmbedded(dim, metric)
		require.NoError(t, err)
		var recs []Record
		for i := range n {
			recs = append(recs, randomRecord(rng, testID(i), dim))
		}
		require.NoError(t, e.Upsert(ctx, recs...))
		query := randomVector(rng, dim)
		for _, f := range []Filter{nil, {In("brand", "acme")}} {
			var hits []Hit
			allocs := testing.AllocsPerRun(50, func() {
				hits, err = e.Search(ctx, query, 10, f)
			})
			require.NoError(t, err)
			require.Len(t, hits, 10)
			assert.LessOrEqual(t, allocs, 1.0, "%s, filter %v", metric, f)
		}
	}
}

func hitIDs(hits []Hit) []string {
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = h.ID
	}
	return ids
}
