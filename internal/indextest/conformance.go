// Package indextest holds the conformance suite that every
// retrieval.Index implementation of this module passes, the embedded index
// and the Milvus one alike, so that an engine behaves the same on either:
// Run checks it through a factory of fresh, empty indexes, against a
// brute-force Reference that scores in float64. It also gives the tests of
// those implementations that Reference, RequireSameHits to compare with
// it, and the random records the suite is made of.
package indextest

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/retrieval"
)

// Factory returns a new, empty index of dim and metric; it releases the
// index when t ends.
type Factory func(t *testing.T, dim int, metric retrieval.Metric) retrieval.Index

// Conformance says what search quality an implementation promises.
type Conformance struct {
	// Exact implementations return what brute force returns (up to float32
	// rounding between near ties); the others must reach MinRecall.
	Exact bool
	// MinRecall is the least recall@10 against brute force, over every
	// query and filter of the suite, of an approximate implementation.
	MinRecall float64
	// Metrics are the metrics to run the suite under.
	Metrics []retrieval.Metric
}

// Run runs the suite against the indexes newIndex makes, each subtest on an
// index of its own, in parallel: against a server, most of their time is
// spent waiting for it.
func Run(t *testing.T, newIndex Factory, c Conformance) {
	for _, metric := range c.Metrics {
		t.Run(metric.String(), func(t *testing.T) {
			tests := []struct {
				name string
				run  func(t *testing.T, ctx context.Context, newIndex func(dim int) retrieval.Index)
			}{
				{"Empty", conformEmpty},
				{"GetRoundTrip", conformGetRoundTrip},
				{"SearchMatchesBruteForce", func(t *testing.T, ctx context.Context, newIndex func(int) retrieval.Index) {
					conformSearch(t, ctx, newIndex(24), metric, c)
				}},
				{"UpsertReplaces", conformUpsertReplaces},
				{"Delete", conformDelete},
				{"TiesBreakByID", conformTies},
				{"InvalidBatchChangesNothing", conformInvalidBatch},
				{"InvalidSearch", conformInvalidSearch},
				{"FilterValuesAreData", conformFilterValues},
				{"ContextCancelled", conformCancelled},
				{"Closed", conformClosed},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					// Each subtest has an index of its own; against a server,
					// most of their time is spent waiting for it.
					t.Parallel()
					ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
					defer cancel()
					tt.run(t, ctx, func(dim int) retrieval.Index { return newIndex(t, dim, metric) })
				})
			}
		})
	}
}

func conformEmpty(t *testing.T, ctx context.Context, newIndex func(int) retrieval.Index) {
	ix := newIndex(2)
	n, err := ix.Len(ctx)
	require.NoError(t, err)
	assert.Zero(t, n)
	hits, err := ix.Search(ctx, []float32{1, 0}, 5, nil)
	require.NoError(t, err)
	assert.Empty(t, hits)
	_, err = ix.Get(ctx, "missing")
	require.ErrorIs(t, err, retrieval.ErrNotFound)
	recs, err := ix.Get(ctx)
	require.NoError(t, err)
	assert.Empty(t, recs)
	require.NoError(t, ix.Delete(ctx, "missing"))
	require.NoError(t, ix.Upsert(ctx))
}

// conformRecords are records whose IDs and metadata hold the characters an
// expression language cares about.
var conformRecords = []retrieval.Record{
	{ID: "plain", Vector: []float32{1, 0, 0}, Metadata: map[string]string{"brand": "Acme", "category": "Shoes > Boots", "color": "brown"}},
	{ID: `quote"d`, Vector: []float32{0, 1, 0}, Metadata: map[string]string{"brand": `Say "hi"`, "category": `a\b`}},
	{ID: `back\slash`, Vector: []float32{0, 0, 1}, Metadata: map[string]string{"brand": `C:\dir\`, "we\"ird key": "x\ny"}},
	{ID: "unicodé ☃", Vector: []float32{1, 1, 0}, Metadata: map[string]string{"brand": "Été", "": "empty key", "size": ""}},
	{ID: "empty-brand", Vector: []float32{0, 1, 1}, Metadata: map[string]string{"brand": "", "category": "100% wool_blend"}},
	{ID: "no-metadata", Vector: []float32{1, 0, 1}},
	{ID: "' or 1 == 1 or '", Vector: []float32{1, 1, 1}, Metadata: map[string]string{"brand": "\" or id != \"", "tab": "a\tb"}},
}

func conformGetRoundTrip(t *testing.T, ctx context.Context, newIndex func(int) retrieval.Index) {
	ix := newIndex(3)
	require.NoError(t, ix.Upsert(ctx, conformRecords...))
	n, err := ix.Len(ctx)
	require.NoError(t, err)
	require.Equal(t, len(conformRecords), n)

	ids := []string{conformRecords[3].ID, conformRecords[0].ID, conformRecords[3].ID}
	for _, r := range conformRecords {
		ids = append(ids, r.ID)
	}
	got, err := ix.Get(ctx, ids...)
	require.NoError(t, err)
	require.Len(t, got, len(ids))
	byID := map[string]retrieval.Record{}
	for _, r := range conformRecords {
		byID[r.ID] = r
	}
	for i, id := range ids {
		want := byID[id]
		assert.Equal(t, id, got[i].ID)
		wantVec := slices.Clone(want.Vector)
		if ix.Metric() == retrieval.Cosine {
			require.NoError(t, retrieval.Normalize(wantVec))
		}
		assert.InDeltaSlice(t, wantVec, got[i].Vector, 1e-6, "vector of %q", id)
		if len(want.Metadata) == 0 {
			assert.Empty(t, got[i].Metadata, "metadata of %q", id)
		} else {
			assert.Equal(t, want.Metadata, got[i].Metadata, "metadata of %q", id)
		}
	}
	got[0].Metadata["brand"] = "changed"
	again, err := ix.Get(ctx, ids[0])
	require.NoError(t, err)
	assert.Equal(t, "Été", again[0].Metadata["brand"], "Get returns copies")

	_, err = ix.Get(ctx, "plain", "nobody")
	require.ErrorIs(t, err, retrieval.ErrNotFound)
	assert.Contains(t, err.Error(), `"nobody"`)
}

// conformFilters cover column keys, JSON keys, empty values and missing
// keys, for the records of conformRecord.
var conformFilters = []struct {
	name   string
	filter retrieval.Filter
}{
	{"none", nil},
	{"brand", retrieval.Filter{retrieval.In("brand", "acme", "vale", "acme")}},
	{"category prefix", retrieval.Filter{retrieval.Prefix("category", "Clothing > Shoes")}},
	{"brand and prefix", retrieval.Filter{retrieval.In("brand", "summit"), retrieval.Prefix("category", "Clothing")}},
	{"matches nothing", retrieval.Filter{retrieval.In("brand", "nobody")}},
	{"empty brand", retrieval.Filter{retrieval.In("brand", "")}},
	{"empty or acme", retrieval.Filter{retrieval.In("brand", "", "acme")}},
	{"has brand", retrieval.Filter{retrieval.Prefix("brand", "")}},
	{"color or empty color", retrieval.Filter{retrieval.In("color", "red", "")}},
	{"color prefix", retrieval.Filter{retrieval.Prefix("color", "b")}},
	{"has color", retrieval.Filter{retrieval.Prefix("color", "")}},
	{"nobody has size", retrieval.Filter{retrieval.In("size", "M")}},
}

var conformColors = []string{"red", "blue", "black", "brown", ""}

// conformRecord is randomRecord with a sometimes empty brand and a
// sometimes present color attribute.
func conformRecord(rng *rand.Rand, id string, dim int) retrieval.Record {
	r := RandomRecord(rng, id, dim)
	if r.Metadata == nil {
		return r
	}
	if rng.IntN(8) == 0 {
		r.Metadata["brand"] = ""
	}
	if rng.IntN(2) == 0 {
		r.Metadata["color"] = conformColors[rng.IntN(len(conformColors))]
	}
	return r
}

// flusher is an index that can be told to finish indexing what it holds,
// as Milvus can; the search test flushes half way, so that it searches
// indexed and freshly written records at once.
type flusher interface {
	Flush(ctx context.Context) error
}

func conformSearch(t *testing.T, ctx context.Context, ix retrieval.Index, metric retrieval.Metric, c Conformance) {
	// 2000 records: more than Milvus indexes a sealed segment from.
	const dim, n = 24, 2000
	rng := rand.New(rand.NewPCG(42, uint64(metric)))
	ref := NewReference(metric)
	upsert := func(from, to int) {
		var batch []retrieval.Record
		for i := from; i < to; i++ {
			batch = append(batch, conformRecord(rng, ID(i), dim))
			if len(batch) == 250 || i == to-1 {
				require.NoError(t, ix.Upsert(ctx, batch...))
				ref.Upsert(batch...)
				batch = nil
			}
		}
	}
	upsert(0, 3*n/4)
	if f, ok := ix.(flusher); ok {
		require.NoError(t, f.Flush(ctx))
	}
	upsert(3*n/4, n)
	upsert(0, 100) // replace records, indexed ones under Milvus
	var gone []string
	for i := 100; i < 150; i++ {
		gone = append(gone, ID(i))
	}
	require.NoError(t, ix.Delete(ctx, gone...))
	ref.Delete(gone...)
	count, err := ix.Len(ctx)
	require.NoError(t, err)
	require.Equal(t, ref.Len(), count)

	var found, wanted int
	for q := range 8 {
		query := RandomVector(rng, dim)
		for _, f := range conformFilters {
			ranked, all := ref.Ranked(query, f.filter)
			for _, k := range []int{1, 10, 50} {
				got, err := ix.Search(ctx, query, k, f.filter)
				require.NoError(t, err)
				want := ranked[:min(k, len(ranked))]
				msg := fmt.Sprintf("query %d, k=%d, filter %s", q, k, f.name)
				if c.Exact {
					RequireSameHits(t, want, all, got, msg)
					continue
				}
				require.LessOrEqual(t, len(got), k, msg)
				for i, h := range got {
					score, ok := all[h.ID]
					require.True(t, ok, "%s: unknown id %q", msg, h.ID)
					require.InDelta(t, score, h.Score, ScoreTolerance(score), "%s: score of %q", msg, h.ID)
					rec, _ := ref.Get(h.ID)
					require.True(t, f.filter.Match(rec.Metadata), "%s: %q does not pass the filter", msg, h.ID)
					if i > 0 {
						require.GreaterOrEqual(t, got[i-1].Score, h.Score, "%s: order", msg)
					}
				}
				if k == 10 {
					wanted += len(want)
					found += Overlap(want, got)
				}
			}
		}
	}
	if !c.Exact {
		recall := float64(found) / float64(wanted)
		t.Logf("recall@10 against brute force: %.3f (%d of %d)", recall, found, wanted)
		assert.GreaterOrEqual(t, recall, c.MinRecall)
	}
}

// Overlap counts the hits of want that got has too.
func Overlap(want, got []retrieval.Hit) int {
	ids := map[string]bool{}
	for _, h := range got {
		ids[h.ID] = true
	}
	n := 0
	for _, h := range want {
		if ids[h.ID] {
			n++
		}
	}
	return n
}

func conformUpsertReplaces(t *testing.T, ctx context.Context, newIndex func(int) retrieval.Index) {
	ix := newIndex(2)
	require.NoError(t, ix.Upsert(ctx,
		retrieval.Record{ID: "a", Vector: []float32{1, 0}, Metadata: map[string]string{"brand": "old", "color": "red"}},
		retrieval.Record{ID: "b", Vector: []float32{0, 1}, Metadata: map[string]string{"brand": "other"}},
	))
	require.NoError(t, ix.Upsert(ctx, retrieval.Record{ID: "a", Vector: []float32{0, 2}, Metadata: map[string]string{"brand": "new"}}))
	n, err := ix.Len(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	got, err := ix.Get(ctx, "a")
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"brand": "new"}, got[0].Metadata)
	want := []float32{0, 2}
	if ix.Metric() == retrieval.Cosine {
		want = []float32{0, 1}
	}
	assert.InDeltaSlice(t, want, got[0].Vector, 1e-6)

	for _, tt := range []struct {
		filter retrieval.Filter
		want   []string
	}{
		{retrieval.Filter{retrieval.In("brand", "old")}, nil},
		{retrieval.Filter{retrieval.In("color", "red")}, nil},
		{retrieval.Filter{retrieval.In("brand", "new")}, []string{"a"}},
		{nil, []string{"a", "b"}},
	} {
		hits, err := ix.Search(ctx, []float32{1, 0.5}, 10, tt.filter)
		require.NoError(t, err)
		assert.ElementsMatch(t, tt.want, HitIDs(hits), "filter %v", tt.filter)
	}
}

func conformDelete(t *testing.T, ctx context.Context, newIndex func(int) retrieval.Index) {
	ix := newIndex(2)
	var recs []retrieval.Record
	for i := range 5 {
		recs = append(recs, retrieval.Record{ID: ID(i), Vector: []float32{1, float32(i)}})
	}
	require.NoError(t, ix.Upsert(ctx, recs...))
	require.NoError(t, ix.Delete(ctx, ID(1), "never-existed", ID(3), ID(1)))
	n, err := ix.Len(ctx)
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	_, err = ix.Get(ctx, ID(1))
	require.ErrorIs(t, err, retrieval.ErrNotFound)
	hits, err := ix.Search(ctx, []float32{1, 2}, 10, nil)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{ID(0), ID(2), ID(4)}, HitIDs(hits))
	require.NoError(t, ix.Delete(ctx))

	// A deleted ID can come back.
	require.NoError(t, ix.Upsert(ctx, recs[1]))
	_, err = ix.Get(ctx, ID(1))
	require.NoError(t, err)
}

func conformTies(t *testing.T, ctx context.Context, newIndex func(int) retrieval.Index) {
	ix := newIndex(2)
	for _, id := range []string{"d", "b", "e", "a", "c"} {
		require.NoError(t, ix.Upsert(ctx, retrieval.Record{ID: id, Vector: []float32{1, 1}}))
	}
	require.NoError(t, ix.Upsert(ctx, retrieval.Record{ID: "best", Vector: []float32{2, 0}}))
	query := []float32{1, 0}
	hits, err := ix.Search(ctx, query, 3, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"best", "a", "b"}, HitIDs(hits))
	hits, err = ix.Search(ctx, query, 100, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"best", "a", "b", "c", "d", "e"}, HitIDs(hits))
}

func conformInvalidBatch(t *testing.T, ctx context.Context, newIndex func(int) retrieval.Index) {
	ix := newIndex(2)
	orig := retrieval.Record{ID: "a", Vector: []float32{1, 0}, Metadata: map[string]string{"brand": "kept"}}
	require.NoError(t, ix.Upsert(ctx, orig))
	nan := float32(math.NaN())
	good := retrieval.Record{ID: "new", Vector: []float32{0, 1}}
	tests := []struct {
		name  string
		batch []retrieval.Record
		want  error
	}{
		{"empty id", []retrieval.Record{good, {ID: "", Vector: []float32{1, 1}}}, retrieval.ErrEmptyID},
		{"duplicate id", []retrieval.Record{good, good}, retrieval.ErrDuplicateID},
		{"nan", []retrieval.Record{good, {ID: "a", Vector: []float32{nan, 1}}}, retrieval.ErrInvalidVector},
		{"wrong dimension", []retrieval.Record{good, {ID: "a", Vector: []float32{1, 2, 3}}}, retrieval.ErrDimensionMismatch},
		{"no vector", []retrieval.Record{good, {ID: "a"}}, retrieval.ErrInvalidVector},
	}
	if ix.Metric() == retrieval.Cosine {
		tests = append(tests, struct {
			name  string
			batch []retrieval.Record
			want  error
		}{"zero vector under cosine", []retrieval.Record{good, {ID: "a", Vector: []float32{0, 0}}}, retrieval.ErrInvalidVector})
	}
	for _, tt := range tests {
		err := ix.Upsert(ctx, tt.batch...)
		require.ErrorIs(t, err, tt.want, tt.name)
	}
	n, err := ix.Len(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "a failed batch writes nothing")
	got, err := ix.Get(ctx, "a")
	require.NoError(t, err)
	assert.Equal(t, orig.Metadata, got[0].Metadata)
}

func conformInvalidSearch(t *testing.T, ctx context.Context, newIndex func(int) retrieval.Index) {
	ix := newIndex(2)
	require.NoError(t, ix.Upsert(ctx, retrieval.Record{ID: "a", Vector: []float32{1, 0}}))
	nan := float32(math.NaN())
	for _, tt := range []struct {
		name   string
		query  []float32
		k      int
		filter retrieval.Filter
		want   error
	}{
		{"nan", []float32{1, nan}, 3, nil, retrieval.ErrInvalidVector},
		{"empty", nil, 3, nil, retrieval.ErrInvalidVector},
		{"wrong length", []float32{1, 2, 3}, 3, nil, retrieval.ErrDimensionMismatch},
		{"invalid filter", []float32{1, 0}, 3, retrieval.Filter{{Field: "brand"}}, retrieval.ErrInvalidFilter},
		{"zero k", []float32{1, 0}, 0, nil, nil},
	} {
		hits, err := ix.Search(ctx, tt.query, tt.k, tt.filter)
		require.Error(t, err, tt.name)
		if tt.want != nil {
			require.ErrorIs(t, err, tt.want, tt.name)
		}
		assert.Nil(t, hits, tt.name)
	}
	hits, err := ix.Search(ctx, []float32{0, 0}, 1, nil)
	if ix.Metric() == retrieval.Cosine {
		require.ErrorIs(t, err, retrieval.ErrInvalidVector)
	} else {
		require.NoError(t, err)
		assertHits(t, []retrieval.Hit{{ID: "a", Score: 0}}, hits)
	}
}

// conformFilterValues checks that filter values are matched as data, never
// read as syntax or as wildcards, against the records of conformRecords.
func conformFilterValues(t *testing.T, ctx context.Context, newIndex func(int) retrieval.Index) {
	ix := newIndex(3)
	require.NoError(t, ix.Upsert(ctx, conformRecords...))
	filters := []retrieval.Filter{
		{retrieval.In("brand", `Say "hi"`)},
		{retrieval.In("brand", `C:\dir\`)},
		{retrieval.In("brand", `" or id != "`)},
		{retrieval.In("brand", `' or 1 == 1 or '`)},
		{retrieval.In("brand", `Say \"hi\"`)},
		{retrieval.In("brand", "Été", "Ete")},
		{retrieval.Prefix("brand", `C:\`)},
		{retrieval.Prefix("brand", `Say "`)},
		{retrieval.Prefix("brand", "É")},
		{retrieval.Prefix("category", "100%")},
		{retrieval.Prefix("category", "100% wool_")},
		{retrieval.Prefix("category", "1_0")},
		{retrieval.Prefix("category", "%")},
		{retrieval.Prefix("category", `a\`)},
		{retrieval.Prefix("category", "a")},
		{retrieval.In("we\"ird key", "x\ny")},
		{retrieval.In("we\"ird key", "x\\ny")},
		{retrieval.In("size", "")},
		{retrieval.Prefix("tab", "a\t")},
		{retrieval.In("brand", `"`), retrieval.In("category", `"`)},
		{retrieval.In("brand", "Acme"), retrieval.Prefix("color", "br")},
	}
	for _, f := range filters {
		var want []string
		for _, r := range conformRecords {
			if f.Match(r.Metadata) {
				want = append(want, r.ID)
			}
		}
		hits, err := ix.Search(ctx, []float32{1, 1, 1}, 100, f)
		require.NoError(t, err, "filter %q", f)
		assert.ElementsMatch(t, want, HitIDs(hits), "filter %q", f)
	}
}

func conformCancelled(t *testing.T, _ context.Context, newIndex func(int) retrieval.Index) {
	ix := newIndex(2)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, ix.Upsert(ctx, retrieval.Record{ID: "a", Vector: []float32{1, 0}}), context.Canceled)
	require.ErrorIs(t, ix.Delete(ctx, "a"), context.Canceled)
	_, err := ix.Get(ctx, "a")
	require.ErrorIs(t, err, context.Canceled)
	_, err = ix.Search(ctx, []float32{1, 0}, 1, nil)
	require.ErrorIs(t, err, context.Canceled)
	_, err = ix.Len(ctx)
	require.ErrorIs(t, err, context.Canceled)
}

func conformClosed(t *testing.T, ctx context.Context, newIndex func(int) retrieval.Index) {
	ix := newIndex(2)
	require.NoError(t, ix.Upsert(ctx, retrieval.Record{ID: "a", Vector: []float32{1, 0}}))
	require.NoError(t, ix.Close())
	require.ErrorIs(t, ix.Upsert(ctx, retrieval.Record{ID: "b", Vector: []float32{1, 0}}), retrieval.ErrClosed)
	require.ErrorIs(t, ix.Upsert(ctx, retrieval.Record{ID: ""}), retrieval.ErrClosed, "closed wins over invalid input")
	require.ErrorIs(t, ix.Delete(ctx, "a"), retrieval.ErrClosed)
	_, err := ix.Get(ctx, "a")
	require.ErrorIs(t, err, retrieval.ErrClosed)
	_, err = ix.Search(ctx, []float32{1, 0}, 1, nil)
	require.ErrorIs(t, err, retrieval.ErrClosed)
	_, err = ix.Len(ctx)
	require.ErrorIs(t, err, retrieval.ErrClosed)
	require.ErrorIs(t, ix.Close(), retrieval.ErrClosed)
	assert.Equal(t, 2, ix.Dimension())
}
