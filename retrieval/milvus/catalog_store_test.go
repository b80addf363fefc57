package milvus

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/internal/milvustest"
	"hmpps/retrieval"
)

// TestMilvusCatalogStore checks the catalog collection as a
// retrieval.DocumentStore on more rows than one read of Scan returns:
// Scan reads every document once; Documents reads by ID, with vectors, and
// gives a zero Document for a missing or deleted one; a delete leaves a
// tombstone that searches, gets and counts pass over and that Changes
// reports; Changes reports writes since its mark; tombstones older than ten
// change windows are removed, and a mark that old is refused.
func TestMilvusCatalogStore(t *testing.T) {
	addr := milvustest.Addr(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	const dim, n = 8, 3*scanRows + 100
	// The bulk load goes through an index with the default change window;
	// the changes are read through one with a short window, so that its
	// tombstones expire within the test.
	window := time.Second
	bulk := newTestIndex(t, addr, Config{Dimension: dim, Metric: retrieval.InnerProduct, Index: Flat, Catalog: true})
	cfg := bulk.cfg
	cfg.ChangeWindow = window
	ix, err := New(ctx, cfg)
	require.NoError(t, err)
	defer ix.Close()
	c := &Catalog{ix}

	require.Error(t, c.Upsert(ctx, retrieval.Record{ID: "x", Vector: make([]float32, dim)}), "a catalog row needs its document")
	records := make([]retrieval.Record, n)
	docs := make([][]byte, n)
	for i := range records {
		v := make([]float32, dim)
		v[i%dim] = 1
		records[i] = retrieval.Record{ID: fmt.Sprintf("p%05d", i), Vector: v, Metadata: map[string]string{"brand": fmt.Sprint(i % 3)}}
		docs[i] = []byte(fmt.Sprintf("document \x00\xff %d", i))
	}
	require.NoError(t, (&Catalog{bulk}).UpsertDocuments(ctx, records, docs))

	seen := map[string][]byte{}
	batches := 0
	mark, err := c.Scan(ctx, func(ds []retrieval.Document) error {
		batches++
		for _, d := range ds {
			if _, ok := seen[d.ID]; ok {
				t.Errorf("%s scanned twice", d.ID)
			}
			seen[d.ID] = d.Data
		}
		return nil
	})
	require.NoError(t, err)
	require.Len(t, seen, n)
	assert.Greater(t, batches, 1)
	for i, r := range records {
		require.Equal(t, docs[i], seen[r.ID])
	}

	got, err := c.Documents(ctx, []string{"p00007", "missing", "p00007"})
	require.NoError(t, err)
	require.Len(t, got, 3)
	assert.Equal(t, docs[7], got[0].Data)
	assert.Equal(t, records[7].Vector, got[0].Vector)
	assert.Equal(t, retrieval.Document{}, got[1])
	assert.Equal(t, "p00007", got[2].ID)

	// Another writer's write and delete after the scan's mark are
	// changes; this index's own are not reported back to it.
	time.Sleep(2 * window)
	other := &Catalog{bulk}
	require.NoError(t, other.UpsertDocuments(ctx, records[:1], [][]byte{[]byte("rewritten")}))
	require.NoError(t, other.Delete(ctx, "p00001", "p00002", "missing"))
	require.NoError(t, c.UpsertDocuments(ctx, records[3:4], [][]byte{[]byte("own write")}))
	changed := map[string]retrieval.Document{}
	mark, err = c.Changes(ctx, mark, func(ds []retrieval.Document) error {
		for _, d := range ds {
			changed[d.ID] = d
		}
		return nil
	})
	require.NoError(t, err)
	again := 0
	mark, err = c.Changes(ctx, mark, func(ds []retrieval.Document) error {
		again += len(ds)
		return nil
	})
	require.NoError(t, err)
	assert.Zero(t, again, "a change is reported once")
	assert.Equal(t, []byte("rewritten"), changed["p00000"].Data)
	assert.True(t, changed["p00001"].Deleted)
	assert.True(t, changed["p00002"].Deleted)
	assert.True(t, changed["missing"].Deleted, "a delete of a missing ID is a tombstone too")
	assert.NotContains(t, changed, "p00003", "an index's own write is not reported back to it")
	// Changes reads a window back from its mark, and no further.
	time.Sleep(2 * window)
	mark, err = c.Changes(ctx, mark, func([]retrieval.Document) error { return nil })
	require.NoError(t, err)
	mark, err = c.Changes(ctx, mark, func(ds []retrieval.Document) error {
		assert.Empty(t, ds, "no write within a window of the last mark")
		return nil
	})
	require.NoError(t, err)

	count, err := c.Len(ctx)
	require.NoError(t, err)
	assert.Equal(t, n-2, count)
	got, err = c.Documents(ctx, []string{"p00001"})
	require.NoError(t, err)
	assert.Equal(t, retrieval.Document{}, got[0])
	_, err = c.Get(ctx, "p00001")
	require.ErrorIs(t, err, retrieval.ErrNotFound)
	hits, err := c.Search(ctx, make([]float32, dim), n, nil)
	require.NoError(t, err)
	for _, h := range hits {
		require.NotEqual(t, "p00001", h.ID, "a tombstone is no hit")
	}
	assert.Len(t, hits, n-2)

	// Tombstones older than ten windows go; a mark that old is refused.
	time.Sleep(retentionWindows*window + 3*window)
	_, err = c.Changes(ctx, mark, func([]retrieval.Document) error { return nil })
	require.ErrorIs(t, err, retrieval.ErrChangesLost)
	mark, err = c.Scan(ctx, func([]retrieval.Document) error { return nil })
	require.NoError(t, err)
	_, err = c.Changes(ctx, mark, func([]retrieval.Document) error { return nil })
	require.NoError(t, err)
	now, err := ix.timestamp(ctx)
	require.NoError(t, err)
	rs, err := ix.queryAt(ctx, "tombstones", deletedField+" == true", []string{idField}, now)
	require.NoError(t, err)
	assert.Equal(t, 0, rs.GetColumn(idField).Len(), "old tombstones removed")
}

// A scan's rows are not reported again by the next Changes, which reads
// the change window before the scan's mark: a replica opened just after a
// bulk load would otherwise decode and index the whole window twice. A row
// written again after the scan still is.
func TestMilvusScanThenChanges(t *testing.T) {
	addr := milvustest.Addr(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const dim, n = 8, 300
	writer := &Catalog{newTestIndex(t, addr, Config{Dimension: dim, Metric: retrieval.InnerProduct, Index: Flat, Catalog: true})}
	records := make([]retrieval.Record, n)
	docs := make([][]byte, n)
	for i := range records {
		v := make([]float32, dim)
		v[i%dim] = 1
		records[i] = retrieval.Record{ID: fmt.Sprintf("p%03d", i), Vector: v}
		docs[i] = fmt.Appendf(nil, "document %d", i)
	}
	require.NoError(t, writer.UpsertDocuments(ctx, records, docs))

	ix, err := New(ctx, writer.cfg)
	require.NoError(t, err)
	defer ix.Close()
	reader := &Catalog{ix}
	scanned := 0
	mark, err := reader.Scan(ctx, func(ds []retrieval.Document) error {
		scanned += len(ds)
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, n, scanned)

	require.NoError(t, writer.UpsertDocuments(ctx, records[5:6], [][]byte{[]byte("rewritten")}))
	changed := map[string][]byte{}
	_, err = reader.Changes(ctx, mark, func(ds []retrieval.Document) error {
		for _, d := range ds {
			changed[d.ID] = d.Data
		}
		return nil
	})
	require.NoError(t, err)
	assert.Len(t, changed, 1, "only the row written after the scan is a change")
	assert.Equal(t, []byte("rewritten"), changed["p005"])
}
