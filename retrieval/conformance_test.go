package retrieval

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
)

// The conformance suite: what every Index implementation must do, checked
// the same way for each. runIndexConformance runs it against one
// implementation, through a factory of fresh, empty indexes.

// indexFactory returns a new, empty index of dim and metric; the factory
// releases it when t ends.
type indexFactory func(t *testing.T, dim int, metric Metric) Index

// conformance says what search quality an implementation promises.
type conformance struct {
	// exact implementations return what brute force returns (up to float32
	// rounding between near ties); the others must reach minRecall.
	exact bool
	// minRecall is the least recall@10 against brute force, over every
	// query and filter of the suite, of an approximate implementation.
	minRecall float64
	// metrics are the metrics to run the suite under.
	metrics []Metric
}

// TestEmbeddedConformance holds the embedded index to the suite; the same
// suite runs against Milvus in TestMilvusConformance.
func TestEmbeddedConformance(t *testing.T) {
	runIndexConformance(t, func(t *testing.T, dim int, metric Metric) Index {
		e, err := NewEmbedded(dim, metric)
		require.NoError(t, err)
		t.Cleanup(func() { _ = e.Close() })
		return e
	}, conformance{exact: true, metrics: []Metric{Cosine, InnerProduct}})
}

func runIndexConformance(t *testing.T, newIndex indexFactory, c conformance) {
	for _, metric := range c.metrics {
		t.Run(metric.String(), func(t *testing.T) {
			tests := []struct {
				name string
				run  func(t *testing.T, ctx context.Context, newIndex func(dim int) Index)
			}{
				{"Empty", conformEmpty},
				{"GetRoundTrip", conformGetRoundTrip},
				{"SearchMatchesBruteForce", func(t *testing.T, ctx context.Context, newIndex func(int) Index) {
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
					tt.run(t, ctx, func(dim int) Index { return newIndex(t, dim, metric) })
				})
			}
		})
	}
}

func conformEmpty(t *testing.T, ctx context.Context, newIndex func(int) Index) {
	ix := newIndex(2)
	n, err := ix.Len(ctx)
	require.NoError(t, err)
	assert.Zero(t, n)
	hits, err := ix.Search(ctx, []float32{1, 0}, 5, nil)
	require.NoError(t, err)
	assert.Empty(t, hits)
	_, err = ix.Get(ctx, "missing")
	require.ErrorIs(t, err, ErrNotFound)
	recs, err := ix.Get(ctx)
	require.NoError(t, err)
	assert.Empty(t, recs)
	require.NoError(t, ix.Delete(ctx, "missing"))
	require.NoError(t, ix.Upsert(ctx))
}

// conformRecords are records whose IDs and metadata hold the characters an
// expression language cares about.
var conformRecords = []Record{
	{ID: "plain", Vector: []float32{1, 0, 0}, Metadata: map[string]string{"brand": "Acme", "category": "Shoes > Boots", "color": "brown"}},
	{ID: `quote"d`, Vector: []float32{0, 1, 0}, Metadata: map[string]string{"brand": `Say "hi"`, "category": `a\b`}},
	{ID: `back\slash`, Vector: []float32{0, 0, 1}, Metadata: map[string]string{"brand": `C:\dir\`, "we\"ird key": "x\ny"}},
	{ID: "unicodé ☃", Vector: []float32{1, 1, 0}, Metadata: map[string]string{"brand": "Été", "": "empty key", "size": ""}},
	{ID: "empty-brand", Vector: []float32{0, 1, 1}, Metadata: map[string]string{"brand": "", "category": "100% wool_blend"}},
	{ID: "no-metadata", Vector: []float32{1, 0, 1}},
	{ID: "' or 1 == 1 or '", Vector: []float32{1, 1, 1}, Metadata: map[string]string{"brand": "\" or id != \"", "tab": "a\tb"}},
}

func conformGetRoundTrip(t *testing.T, ctx context.Context, newIndex func(int) Index) {
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
	byID := map[string]Record{}
	for _, r := range conformRecords {
		byID[r.ID] = r
	}
	for i, id := range ids {
		want := byID[id]
		assert.Equal(t, id, got[i].ID)
		wantVec := slices.Clone(want.Vector)
		if ix.Metric() == Cosine {
			require.NoError(t, Normalize(wantVec))
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
	require.ErrorIs(t, err, ErrNotFound)
	assert.Contains(t, err.Error(), `"nobody"`)
}

// conformFilters cover column keys, JSON keys, empty values and missing
// keys, for the records of conformRecord.
var conformFilters = []struct {
	name   string
	filter Filter
}{
	{"none", nil},
	{"brand", Filter{In("brand", "acme", "vale", "acme")}},
	{"category prefix", Filter{Prefix("category", "Clothing > Shoes")}},
	{"brand and prefix", Filter{In("brand", "summit"), Prefix("category", "Clothing")}},
	{"matches nothing", Filter{In("brand", "nobody")}},
	{"empty brand", Filter{In("brand", "")}},
	{"empty or acme", Filter{In("brand", "", "acme")}},
	{"has brand", Filter{Prefix("brand", "")}},
	{"color or empty color", Filter{In("color", "red", "")}},
	{"color prefix", Filter{Prefix("color", "b")}},
	{"has color", Filter{Prefix("color", "")}},
	{"nobody has size", Filter{In("size", "M")}},
}

var conformColors = []string{"red", "blue", "black", "brown", ""}

// conformRecord is randomRecord with a sometimes empty brand and a
// sometimes present color attribute.
func conformRecord(rng *rand.Rand, id string, dim int) Record {
	r := randomRecord(rng, id, dim)
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

func conformSearch(t *testing.T, ctx context.Context, ix Index, metric Metric, c conformance) {
	// 2000 records: more than Milvus indexes a sealed segment from.
	const dim, n = 24, 2000
	rng := rand.New(rand.NewPCG(42, uint64(metric)))
	ref := newReference(metric)
	upsert := func(from, to int) {
		var batch []Record
		for i := from; i < to; i++ {
			batch = append(batch, conformRecord(rng, testID(i), dim))
			if len(batch) == 250 || i == to-1 {
				require.NoError(t, ix.Upsert(ctx, batch...))
				ref.upsert(batch...)
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
		gone = append(gone, testID(i))
	}
	require.NoError(t, ix.Delete(ctx, gone...))
	ref.delete(gone...)
	count, err := ix.Len(ctx)
	require.NoError(t, err)
	require.Equal(t, len(ref.records), count)

	var found, wanted int
	for q := range 8 {
		query := randomVector(rng, dim)
		for _, f := range conformFilters {
			ranked, all := ref.ranked(query, f.filter)
			for _, k := range []int{1, 10, 50} {
				got, err := ix.Search(ctx, query, k, f.filter)
				require.NoError(t, err)
				want := ranked[:min(k, len(ranked))]
				msg := fmt.Sprintf("query %d, k=%d, filter %s", q, k, f.name)
				if c.exact {
					requireSameHits(t, want, all, got, msg)
					continue
				}
				require.LessOrEqual(t, len(got), k, msg)
				for i, h := range got {
					score, ok := all[h.ID]
					require.True(t, ok, "%s: unknown id %q", msg, h.ID)
					require.InDelta(t, score, h.Score, scoreTolerance(score), "%s: score of %q", msg, h.ID)
					require.True(t, f.filter.Match(ref.records[h.ID].Metadata), "%s: %q does not pass the filter", msg, h.ID)
					if i > 0 {
						require.GreaterOrEqual(t, got[i-1].Score, h.Score, "%s: order", msg)
					}
				}
				if k == 10 {
					wanted += len(want)
					found += overlap(want, got)
				}
			}
		}
	}
	if !c.exact {
		recall := float64(found) / float64(wanted)
		t.Logf("recall@10 against brute force: %.3f (%d of %d)", recall, found, wanted)
		assert.GreaterOrEqual(t, recall, c.minRecall)
	}
}

// overlap counts the hits of want that got has too.
func overlap(want, got []Hit) int {
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

func conformUpsertReplaces(t *testing.T, ctx context.Context, newIndex func(int) Index) {
	ix := newIndex(2)
	require.NoError(t, ix.Upsert(ctx,
		Record{ID: "a", Vector: []float32{1, 0}, Metadata: map[string]string{"brand": "old", "color": "red"}},
		Record{ID: "b", Vector: []float32{0, 1}, Metadata: map[string]string{"brand": "other"}},
	))
	require.NoError(t, ix.Upsert(ctx, Record{ID: "a", Vector: []float32{0, 2}, Metadata: map[string]string{"brand": "new"}}))
	n, err := ix.Len(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	got, err := ix.Get(ctx, "a")
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"brand": "new"}, got[0].Metadata)
	want := []float32{0, 2}
	if ix.Metric() == Cosine {
		want = []float32{0, 1}
	}
	assert.InDeltaSlice(t, want, got[0].Vector, 1e-6)

	for _, tt := range []struct {
		filter Filter
		want   []string
	}{
		{Filter{In("brand", "old")}, nil},
		{Filter{In("color", "red")}, nil},
		{Filter{In("brand", "new")}, []string{"a"}},
		{nil, []string{"a", "b"}},
	} {
		hits, err := ix.Search(ctx, []float32{1, 0.5}, 10, tt.filter)
		require.NoError(t, err)
		assert.ElementsMatch(t, tt.want, hitIDs(hits), "filter %v", tt.filter)
	}
}

func conformDelete(t *testing.T, ctx context.Context, newIndex func(int) Index) {
	ix := newIndex(2)
	var recs []Record
	for i := range 5 {
		recs = append(recs, Record{ID: testID(i), Vector: []float32{1, float32(i)}})
	}
	require.NoError(t, ix.Upsert(ctx, recs...))
	require.NoError(t, ix.Delete(ctx, testID(1), "never-existed", testID(3), testID(1)))
	n, err := ix.Len(ctx)
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	_, err = ix.Get(ctx, testID(1))
	require.ErrorIs(t, err, ErrNotFound)
	hits, err := ix.Search(ctx, []float32{1, 2}, 10, nil)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{testID(0), testID(2), testID(4)}, hitIDs(hits))
	require.NoError(t, ix.Delete(ctx))

	// A deleted ID can come back.
	require.NoError(t, ix.Upsert(ctx, recs[1]))
	_, err = ix.Get(ctx, testID(1))
	require.NoError(t, err)
}

func conformTies(t *testing.T, ctx context.Context, newIndex func(int) Index) {
	ix := newIndex(2)
	for _, id := range []string{"d", "b", "e", "a", "c"} {
		require.NoError(t, ix.Upsert(ctx, Record{ID: id, Vector: []float32{1, 1}}))
	}
	require.NoError(t, ix.Upsert(ctx, Record{ID: "best", Vector: []float32{2, 0}}))
	query := []float32{1, 0}
	hits, err := ix.Search(ctx, query, 3, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"best", "a", "b"}, hitIDs(hits))
	hits, err = ix.Search(ctx, query, 100, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"best", "a", "b", "c", "d", "e"}, hitIDs(hits))
}

func conformInvalidBatch(t *testing.T, ctx context.Context, newIndex func(int) Index) {
	ix := newIndex(2)
	orig := Record{ID: "a", Vector: []float32{1, 0}, Metadata: map[string]string{"brand": "kept"}}
	require.NoError(t, ix.Upsert(ctx, orig))
	nan := float32(math.NaN())
	good := Record{ID: "new", Vector: []float32{0, 1}}
	tests := []struct {
		name  string
		batch []Record
		want  error
	}{
		{"empty id", []Record{good, {ID: "", Vector: []float32{1, 1}}}, ErrEmptyID},
		{"duplicate id", []Record{good, good}, ErrDuplicateID},
		{"nan", []Record{good, {ID: "a", Vector: []float32{nan, 1}}}, ErrInvalidVector},
		{"wrong dimension", []Record{good, {ID: "a", Vector: []float32{1, 2, 3}}}, ErrDimensionMismatch},
		{"no vector", []Record{good, {ID: "a"}}, ErrInvalidVector},
	}
	if ix.Metric() == Cosine {
		tests = append(tests, struct {
			name  string
			batch []Record
			want  error
		}{"zero vector under cosine", []Record{good, {ID: "a", Vector: []float32{0, 0}}}, ErrInvalidVector})
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

func conformInvalidSearch(t *testing.T, ctx context.Context, newIndex func(int) Index) {
	ix := newIndex(2)
	require.NoError(t, ix.Upsert(ctx, Record{ID: "a", Vector: []float32{1, 0}}))
	nan := float32(math.NaN())
	for _, tt := range []struct {
		name   string
		query  []float32
		k      int
		filter Filter
		want   error
	}{
		{"nan", []float32{1, nan}, 3, nil, ErrInvalidVector},
		{"empty", nil, 3, nil, ErrInvalidVector},
		{"wrong length", []float32{1, 2, 3}, 3, nil, ErrDimensionMismatch},
		{"invalid filter", []float32{1, 0}, 3, Filter{{Field: "brand"}}, ErrInvalidFilter},
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
	if ix.Metric() == Cosine {
		require.ErrorIs(t, err, ErrInvalidVector)
	} else {
		require.NoError(t, err)
		assertHits(t, []Hit{{ID: "a", Score: 0}}, hits)
	}
}

// conformFilterValues checks that filter values are matched as data, never
// read as syntax or as wildcards, against the records of conformRecords.
func conformFilterValues(t *testing.T, ctx context.Context, newIndex func(int) Index) {
	ix := newIndex(3)
	require.NoError(t, ix.Upsert(ctx, conformRecords...))
	filters := []Filter{
		{In("brand", `Say "hi"`)},
		{In("brand", `C:\dir\`)},
		{In("brand", `" or id != "`)},
		{In("brand", `' or 1 == 1 or '`)},
		{In("brand", `Say \"hi\"`)},
		{In("brand", "Été", "Ete")},
		{Prefix("brand", `C:\`)},
		{Prefix("brand", `Say "`)},
		{Prefix("brand", "É")},
		{Prefix("category", "100%")},
		{Prefix("category", "100% wool_")},
		{Prefix("category", "1_0")},
		{Prefix("category", "%")},
		{Prefix("category", `a\`)},
		{Prefix("category", "a")},
		{In("we\"ird key", "x\ny")},
		{In("we\"ird key", "x\\ny")},
		{In("size", "")},
		{Prefix("tab", "a\t")},
		{In("brand", `"`), In("category", `"`)},
		{In("brand", "Acme"), Prefix("color", "br")},
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
		assert.ElementsMatch(t, want, hitIDs(hits), "filter %q", f)
	}
}

func conformCancelled(t *testing.T, _ context.Context, newIndex func(int) Index) {
	ix := newIndex(2)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, ix.Upsert(ctx, Record{ID: "a", Vector: []float32{1, 0}}), context.Canceled)
	require.ErrorIs(t, ix.Delete(ctx, "a"), context.Canceled)
	_, err := ix.Get(ctx, "a")
	require.ErrorIs(t, err, context.Canceled)
	_, err = ix.Search(ctx, []float32{1, 0}, 1, nil)
	require.ErrorIs(t, err, context.Canceled)
	_, err = ix.Len(ctx)
	require.ErrorIs(t, err, context.Canceled)
}

func conformClosed(t *testing.T, ctx context.Context, newIndex func(int) Index) {
	ix := newIndex(2)
	require.NoError(t, ix.Upsert(ctx, Record{ID: "a", Vector: []float32{1, 0}}))
	require.NoError(t, ix.Close())
	require.ErrorIs(t, ix.Upsert(ctx, Record{ID: "b", Vector: []float32{1, 0}}), ErrClosed)
	require.ErrorIs(t, ix.Upsert(ctx, Record{ID: ""}), ErrClosed, "closed wins over invalid input")
	require.ErrorIs(t, ix.Delete(ctx, "a"), ErrClosed)
	_, err := ix.Get(ctx, "a")
	require.ErrorIs(t, err, ErrClosed)
	_, err = ix.Search(ctx, []float32{1, 0}, 1, nil)
	require.ErrorIs(t, err, ErrClosed)
	_, err = ix.Len(ctx)
	require.ErrorIs(t, err, ErrClosed)
	require.ErrorIs(t, ix.Close(), ErrClosed)
	assert.Equal(t, 2, ix.Dimension())
}
