package retrieval

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewEmbedded(t *testing.T) {
	tests := []struct {
		name    string
		dim     int
		metric  Metric
		wantErr bool
	}{
		{"cosine", 384, Cosine, false},
		{"inner product", 1, InnerProduct, false},
		{"largest dimension", MaxDimension, Cosine, false},
		{"zero dimension", 0, Cosine, true},
		{"negative dimension", -3, Cosine, true},
		{"dimension too large", MaxDimension + 1, Cosine, true},
		{"unknown metric", 8, Metric(7), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := NewEmbedded(tt.dim, tt.metric)
			if tt.wantErr {
				require.Error(t, err)
				assert.Nil(t, e)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.dim, e.Dimension())
			assert.Equal(t, tt.metric, e.Metric())
			n, err := e.Len(context.Background())
			require.NoError(t, err)
			assert.Zero(t, n)
		})
	}
}

func TestEmbeddedDeleteSwapsLastRowIn(t *testing.T) {
	ctx := context.Background()
	e, err := NewEmbedded(2, InnerProduct)
	require.NoError(t, err)
	require.NoError(t, e.Upsert(ctx,
		Record{ID: "a", Vector: []float32{1, 0}},
		Record{ID: "b", Vector: []float32{2, 0}, Metadata: map[string]string{"k": "b"}},
		Record{ID: "c", Vector: []float32{3, 0}},
		Record{ID: "d", Vector: []float32{4, 0}, Metadata: map[string]string{"k": "d"}},
	))

	require.NoError(t, e.Delete(ctx, "b"))
	requireConsistent(t, e)
	assert.Equal(t, []string{"a", "d", "c"}, e.ids)
	assert.Equal(t, []float32{1, 0, 4, 0, 3, 0}, e.matrix)
	assert.Equal(t, []map[string]string{nil, {"k": "d"}, nil}, e.meta)

	// Deleting the last row moves nothing; a repeated or unknown ID is
	// ignored.
	require.NoError(t, e.Delete(ctx, "c", "c", "zzz"))
	requireConsistent(t, e)
	assert.Equal(t, []string{"a", "d"}, e.ids)
	assert.Equal(t, []float32{1, 0, 4, 0}, e.matrix)

	recs, err := e.Get(ctx, "d", "a")
	require.NoError(t, err)
	assert.Equal(t, []Record{
		{ID: "d", Vector: []float32{4, 0}, Metadata: map[string]string{"k": "d"}},
		{ID: "a", Vector: []float32{1, 0}},
	}, recs)

	require.NoError(t, e.Delete(ctx, "a", "d"))
	requireConsistent(t, e)
	hits, err := e.Search(ctx, []float32{1, 1}, 3, nil)
	require.NoError(t, err)
	assert.Empty(t, hits)
}

func TestEmbeddedDeleteReleasesMemory(t *testing.T) {
	ctx := context.Background()
	e, err := NewEmbedded(4, Cosine)
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(1, 1))
	var recs []Record
	for i := range 2000 {
		recs = append(recs, randomRecord(rng, testID(i), 4))
	}
	require.NoError(t, e.Upsert(ctx, recs...))
	var ids []string
	for i := range 1990 {
		ids = append(ids, testID(i))
	}
	require.NoError(t, e.Delete(ctx, ids...))
	requireConsistent(t, e)
	assert.Less(t, cap(e.ids), 100)
	assert.Less(t, cap(e.meta), 100)
	assert.Less(t, cap(e.matrix), 100*4)

	// The survivors are intact after the reallocation.
	got, err := e.Get(ctx, testID(1995))
	require.NoError(t, err)
	want := slices.Clone(recs[1995].Vector)
	require.NoError(t, Normalize(want))
	assert.InDeltaSlice(t, want, got[0].Vector, 1e-6)
}

func TestEmbeddedUpsertReplaces(t *testing.T) {
	ctx := context.Background()
	e, err := NewEmbedded(2, Cosine)
	require.NoError(t, err)
	require.NoError(t, e.Upsert(ctx, Record{ID: "a", Vector: []float32{1, 0}, Metadata: map[string]string{"brand": "x"}}))
	require.NoError(t, e.Upsert(ctx, Record{ID: "b", Vector: []float32{0, 1}}))
	require.NoError(t, e.Upsert(ctx, Record{ID: "a", Vector: []float32{0, 3}, Metadata: map[string]string{"brand": "y"}}))

	n, err := e.Len(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	recs, err := e.Get(ctx, "a")
	require.NoError(t, err)
	require.Len(t, recs, 1)
	assert.Equal(t, "a", recs[0].ID)
	assert.Equal(t, map[string]string{"brand": "y"}, recs[0].Metadata)
	assert.InDeltaSlice(t, []float32{0, 1}, recs[0].Vector, unitNormTolerance, "[0, 3] normalized")

	hits, err := e.Search(ctx, []float32{0, 1}, 5, Filter{In("brand", "x")})
	require.NoError(t, err)
	assert.Empty(t, hits, "the old metadata is gone")
	hits, err = e.Search(ctx, []float32{0, 1}, 5, nil)
	require.NoError(t, err)
	assertHits(t, []Hit{{ID: "a", Score: 1}, {ID: "b", Score: 1}}, hits, "a tie, broken by ID")
}

// TestEmbeddedUpsertBatchIsAtomic puts a bad record after good ones, one of
// which replaces an existing record, and checks that nothing changed.
func TestEmbeddedUpsertBatchIsAtomic(t *testing.T) {
	ctx := context.Background()
	good := func(id string) Record { return Record{ID: id, Vector: []float32{1, 2, 3}} }
	tooManyFields := map[string]string{}
	for i := range MaxMetadataFields + 1 {
		tooManyFields[fmt.Sprint(i)] = "x"
	}
	tests := []struct {
		name   string
		metric Metric
		bad    Record
		want   error
	}{
		{"empty id", Cosine, Record{Vector: []float32{1, 2, 3}}, ErrEmptyID},
		{"duplicate id", Cosine, good("new-1"), ErrDuplicateID},
		{"nan", Cosine, Record{ID: "bad", Vector: []float32{1, float32(math.NaN()), 3}}, ErrInvalidVector},
		{"inf", InnerProduct, Record{ID: "bad", Vector: []float32{1, float32(math.Inf(1)), 3}}, ErrInvalidVector},
		{"empty vector", Cosine, Record{ID: "bad"}, ErrInvalidVector},
		{"too short", Cosine, Record{ID: "bad", Vector: []float32{1, 2}}, ErrDimensionMismatch},
		{"too long", InnerProduct, Record{ID: "bad", Vector: []float32{1, 2, 3, 4}}, ErrDimensionMismatch},
		{"zero vector under cosine", Cosine, Record{ID: "bad", Vector: []float32{0, 0, 0}}, ErrInvalidVector},
		{"id too long", Cosine, Record{ID: strings.Repeat("x", MaxIDLength+1), Vector: []float32{1, 2, 3}}, ErrRecordTooLarge},
		{"too many fields", Cosine, Record{ID: "bad", Vector: []float32{1, 2, 3}, Metadata: tooManyFields}, ErrRecordTooLarge},
		{"value too long", Cosine, Record{ID: "bad", Vector: []float32{1, 2, 3},
			Metadata: map[string]string{"k": strings.Repeat("v", MaxMetadataLength+1)}}, ErrRecordTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := NewEmbedded(3, tt.metric)
			require.NoError(t, err)
			require.NoError(t, e.Upsert(ctx, Record{ID: "keep", Vector: []float32{0, 0, 1}}))
			before, err := e.Get(ctx, "keep")
			require.NoError(t, err)

			err = e.Upsert(ctx,
				good("new-1"),
				Record{ID: "keep", Vector: []float32{1, 0, 0}},
				tt.bad,
				good("new-2"),
			)
			require.ErrorIs(t, err, tt.want)
			if tt.bad.ID != "" && len(tt.bad.ID) < 100 {
				assert.Contains(t, err.Error(), fmt.Sprintf("%q", tt.bad.ID))
			}

			n, err := e.Len(ctx)
			require.NoError(t, err)
			assert.Equal(t, 1, n)
			recs, err := e.Get(ctx, "keep")
			require.NoError(t, err)
			assert.Equal(t, before[0].Vector, recs[0].Vector, "the stored vector is untouched, bit for bit")
			_, err = e.Get(ctx, "new-1")
			require.ErrorIs(t, err, ErrNotFound)
			requireConsistent(t, e)
		})
	}
}

// TestEmbeddedCosineStoresUnitVectors checks that under Cosine every stored
// vector has norm 1 within float32 rounding (see unitNormTolerance), also for
// components whose squares overflow float32 or underflow to zero, and that a
// one-hot vector is stored exactly, on every machine.
func TestEmbeddedCosineStoresUnitVectors(t *testing.T) {
	ctx := context.Background()
	recs := []Record{
		{ID: "huge", Vector: []float32{3e38, 3e38, -3e38}},
		{ID: "tiny", Vector: []float32{1e-30, -2e-30, 2e-30}},
		{ID: "subnormal", Vector: []float32{1e-40, 0, math.SmallestNonzeroFloat32}},
		{ID: "one-hot", Vector: []float32{0, 3, 0}},
		{ID: "3-4-5", Vector: []float32{3, 0, 4}},
	}
	e, err := NewEmbedded(3, Cosine)
	require.NoError(t, err)
	require.NoError(t, e.Upsert(ctx, recs...))
	got, err := e.Get(ctx, "huge", "tiny", "subnormal", "one-hot", "3-4-5")
	require.NoError(t, err)
	for _, r := range got {
		assert.InDelta(t, 1, norm64(r.Vector), unitNormTolerance, "norm of %q", r.ID)
	}
	assert.Equal(t, []float32{0, 1, 0}, got[3].Vector, "x/√(x²) is exact, so one-hot stays bit-exact")
}

func TestEmbeddedCopiesInAndOut(t *testing.T) {
	ctx := context.Background()
	e, err := NewEmbedded(2, Cosine)
	require.NoError(t, err)
	vec := []float32{3, 4}
	meta := map[string]string{"brand": "acme"}
	require.NoError(t, e.Upsert(ctx, Record{ID: "a", Vector: vec, Metadata: meta}))
	assert.Equal(t, []float32{3, 4}, vec, "the caller's vector is not normalized in place")

	vec[0] = 100
	meta["brand"] = "changed"
	recs, err := e.Get(ctx, "a")
	require.NoError(t, err)
	assert.InDeltaSlice(t, []float32{0.6, 0.8}, recs[0].Vector, 1e-6)
	assert.Equal(t, map[string]string{"brand": "acme"}, recs[0].Metadata)

	recs[0].Vector[0] = 100
	recs[0].Metadata["brand"] = "changed"
	again, err := e.Get(ctx, "a")
	require.NoError(t, err)
	assert.InDeltaSlice(t, []float32{0.6, 0.8}, again[0].Vector, 1e-6)
	assert.Equal(t, map[string]string{"brand": "acme"}, again[0].Metadata)

	query := []float32{0, 2}
	_, err = e.Search(ctx, query, 1, nil)
	require.NoError(t, err)
	assert.Equal(t, []float32{0, 2}, query, "the query is normalized into a copy")
}

func TestEmbeddedGetUnknown(t *testing.T) {
	ctx := context.Background()
	e, err := NewEmbedded(2, Cosine)
	require.NoError(t, err)
	require.NoError(t, e.Upsert(ctx, Record{ID: "a", Vector: []float32{1, 0}}))
	_, err = e.Get(ctx, "a", "missing")
	require.ErrorIs(t, err, ErrNotFound)
	assert.Contains(t, err.Error(), `"missing"`)

	recs, err := e.Get(ctx)
	require.NoError(t, err)
	assert.Empty(t, recs)
}

func TestEmbeddedContextCancelled(t *testing.T) {
	e, err := NewEmbedded(2, Cosine)
	require.NoError(t, err)
	require.NoError(t, e.Upsert(context.Background(), Record{ID: "a", Vector: []float32{1, 0}}))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	_, err = e.Search(ctx, []float32{1, 0}, 1, nil)
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, e.Upsert(ctx, Record{ID: "b", Vector: []float32{1, 0}}), context.Canceled)
	require.ErrorIs(t, e.Delete(ctx, "a"), context.Canceled)
	_, err = e.Get(ctx, "a")
	require.ErrorIs(t, err, context.Canceled)
	_, err = e.Len(ctx)
	require.ErrorIs(t, err, context.Canceled)

	n, err := e.Len(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, n)
}

func TestEmbeddedClosed(t *testing.T) {
	ctx := context.Background()
	e, err := NewEmbedded(2, Cosine)
	require.NoError(t, err)
	require.NoError(t, e.Upsert(ctx, Record{ID: "a", Vector: []float32{1, 0}}))
	require.NoError(t, e.Close())

	require.ErrorIs(t, e.Upsert(ctx, Record{ID: "b", Vector: []float32{1, 0}}), ErrClosed)
	require.ErrorIs(t, e.Upsert(ctx, Record{ID: "", Vector: nil}), ErrClosed, "closed wins over invalid input")
	require.ErrorIs(t, e.Delete(ctx, "a"), ErrClosed)
	_, err = e.Get(ctx, "a")
	require.ErrorIs(t, err, ErrClosed)
	_, err = e.Search(ctx, []float32{1, 0}, 1, nil)
	require.ErrorIs(t, err, ErrClosed)
	_, err = e.Search(ctx, nil, 0, nil)
	require.ErrorIs(t, err, ErrClosed)
	_, err = e.Len(ctx)
	require.ErrorIs(t, err, ErrClosed)
	require.ErrorIs(t, e.Close(), ErrClosed)
	assert.Equal(t, 2, e.Dimension())
	assert.Equal(t, Cosine, e.Metric())
}

// TestEmbeddedConcurrent runs searches, upserts, deletes and reads at once;
// its value is under the race detector.
func TestEmbeddedConcurrent(t *testing.T) {
	ctx := context.Background()
	const dim, ids, rounds = 16, 400, 400
	e, err := NewEmbedded(dim, Cosine)
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(9, 9))
	var initial []Record
	for i := range ids / 2 {
		initial = append(initial, randomRecord(rng, testID(i), dim))
	}
	require.NoError(t, e.Upsert(ctx, initial...))

	var wg sync.WaitGroup
	errs := make(chan error, 16)
	worker := func(seed uint64, work func(rng *rand.Rand) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, seed))
			for range rounds {
				if err := work(rng); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for w := range 4 {
		worker(uint64(10+w), func(rng *rand.Rand) error {
			var f Filter
			if rng.IntN(2) == 0 {
				f = Filter{In("brand", "acme", "north")}
			}
			hits, err := e.Search(ctx, randomVector(rng, dim), 10, f)
			if err != nil {
				return err
			}
			if len(hits) > 10 {
				return fmt.Errorf("%d hits for k=10", len(hits))
			}
			for i := 1; i < len(hits); i++ {
				if hits[i].Score > hits[i-1].Score {
					return fmt.Errorf("hits out of order: %v", hits)
				}
			}
			return nil
		})
	}
	for w := range 2 {
		worker(uint64(20+w), func(rng *rand.Rand) error {
			return e.Upsert(ctx, randomRecord(rng, testID(rng.IntN(ids)), dim),
				randomRecord(rng, fmt.Sprintf("extra-%d", rng.IntN(ids)), dim))
		})
		worker(uint64(30+w), func(rng *rand.Rand) error {
			return e.Delete(ctx, testID(rng.IntN(ids)), fmt.Sprintf("extra-%d", rng.IntN(ids)))
		})
	}
	worker(40, func(rng *rand.Rand) error {
		if _, err := e.Len(ctx); err != nil {
			return err
		}
		_, err := e.Get(ctx, testID(rng.IntN(ids)))
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		return nil
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	requireConsistent(t, e)
}
