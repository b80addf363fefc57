package milvus

// The catalog side of the index (Config.Catalog): documents beside the
// vectors, tombstones for deletes, and the reads a replica follows the
// collection by. Like index.go, this file uses the Milvus Go SDK.

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-sdk-go/v2/client"
	"github.com/milvus-io/milvus-sdk-go/v2/entity"

	"hmpps/retrieval"
)

// Catalog is an Index on a catalog collection (Config.Catalog): besides
// the vectors it keeps each record's document, and it implements
// retrieval.DocumentStore, so that engines given it by Factory share the
// collection as their catalog. Its Upsert refuses records without
// documents; Delete leaves tombstones, which searches, gets and counts
// pass over.
type Catalog struct {
	*Index
}

var _ retrieval.DocumentStore = (*Catalog)(nil)

// NewCatalog is New for a catalog collection: cfg.Catalog is set.
func NewCatalog(ctx context.Context, cfg Config) (*Catalog, error) {
	cfg.Catalog = true
	ix, err := New(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &Catalog{ix}, nil
}

// scanRows is about how many rows one read of Scan returns.
const scanRows = 4096

// physicalShift is where the milliseconds start in a Milvus hybrid
// timestamp: the low 18 bits are a logical counter.
const physicalShift = 18

// tsDuration returns d as a span of hybrid timestamps.
func tsDuration(d time.Duration) uint64 { return uint64(d.Milliseconds()) << physicalShift }

// retentionWindows is how many change windows a tombstone is kept.
const retentionWindows = 10

// live returns expr restricted, in a catalog collection, to rows that are
// not tombstones.
func (m *Index) live(expr string) string {
	if !m.cfg.Catalog {
		return expr
	}
	if expr == "" {
		return deletedField + " == false"
	}
	return "(" + expr + ") and " + deletedField + " == false"
}

// timestamp returns a fresh hybrid timestamp from the server's clock, the
// one that orders every write.
func (m *Index) timestamp(ctx context.Context) (uint64, error) {
	g, ok := m.cl.(*client.GrpcClient)
	if !ok {
		return 0, errors.New("milvus: timestamp: the client cannot allocate one")
	}
	var ts uint64
	err := m.call(ctx, "timestamp", func(ctx context.Context) error {
		resp, err := g.Service.AllocTimestamp(ctx, &milvuspb.AllocTimestampRequest{})
		if err == nil && resp.GetTimestamp() == 0 {
			err = fmt.Errorf("no timestamp: %s", resp.GetStatus().GetReason())
		}
		ts = resp.GetTimestamp()
		return err
	})
	return ts, err
}

// sendBatch upserts one batch. In a catalog collection the rows are
// stamped with a timestamp taken just before; a write that took more than
// half the change window is sent again with a fresh one, so that no
// replica's Changes, which reads a window back from its mark, misses it.
func (m *Index) sendBatch(ctx context.Context, b *rowBatch) error {
	for try := 0; ; try++ {
		var stamp uint64
		start := time.Now()
		if m.cfg.Catalog {
			var err error
			if stamp, err = m.timestamp(ctx); err != nil {
				return err
			}
		}
		cols := m.entityColumns(b, stamp)
		if err := m.call(ctx, "upsert into "+m.cfg.Collection, func(ctx context.Context) error {
			_, err := m.cl.Upsert(ctx, m.cfg.Collection, "", cols...)
			return err
		}); err != nil {
			return err
		}
		if !m.cfg.Catalog {
			return nil
		}
		if time.Since(start) < m.cfg.ChangeWindow/2 {
			m.remember(b.ids, stamp)
			return nil
		}
		if try == 2 {
			return fmt.Errorf("%w: upserts into %q take longer than half the change window (%v): other replicas may see this write only when they scan again",
				ErrUnavailable, m.cfg.Collection, m.cfg.ChangeWindow)
		}
	}
}

// UpsertDocuments is Upsert for a catalog collection: docs[i] is kept
// beside records[i], base64-encoded, so at most 49,149 bytes each
// (retrieval.ErrRecordTooLarge beyond).
func (c *Catalog) UpsertDocuments(ctx context.Context, records []retrieval.Record, docs [][]byte) error {
	m := c.Index
	ctx, end, err := m.begin(ctx)
	if err != nil {
		return err
	}
	defer end()
	if docs == nil {
		docs = make([][]byte, len(records))
	}
	batches, err := splitBatches(records, docs, m.cfg, m.columns)
	if err != nil {
		return err
	}
	return m.upsertBatches(ctx, batches, len(records))
}

// Documents returns the documents of ids, with their vectors, in their
// order; an ID the collection does not hold, or holds a tombstone for,
// gets a zero Document.
func (c *Catalog) Documents(ctx context.Context, ids []string) ([]retrieval.Document, error) {
	m := c.Index
	ctx, end, err := m.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer end()
	found := make(map[string]retrieval.Document, len(ids))
	for chunk := range slices.Chunk(storableIDs(ids), m.cfg.BatchSize) {
		var rs client.ResultSet
		if err := m.read(ctx, "documents from "+m.cfg.Collection, func(ctx context.Context) (err error) {
			rs, err = m.cl.Query(ctx, m.cfg.Collection, nil, m.live(idsExpr(chunk)),
				[]string{idField, vectorField, docField}, m.readOptions()...)
			return err
		}); err != nil {
			return nil, err
		}
		docs, err := readDocuments(rs, true, false)
		if err != nil {
			return nil, err
		}
		for _, d := range docs {
			found[d.ID] = d
		}
	}
	out := make([]retrieval.Document, len(ids))
	for i, id := range ids {
		out[i] = found[id]
	}
	return out, nil
}

// readDocuments decodes a query's rows: id and doc, and the vector or the
// tombstone flag when asked.
func readDocuments(rs client.ResultSet, vectors, deleted bool) ([]retrieval.Document, error) {
	bad := func(field string) error {
		return fmt.Errorf("milvus: documents: result field %q is missing or of an unexpected type", field)
	}
	idCol, ok := rs.GetColumn(idField).(*entity.ColumnVarChar)
	if !ok {
		return nil, bad(idField)
	}
	docCol, ok := rs.GetColumn(docField).(*entity.ColumnVarChar)
	if !ok {
		return nil, bad(docField)
	}
	ids, docs := idCol.Data(), docCol.Data()
	var vecs [][]float32
	if vectors {
		col, ok := rs.GetColumn(vectorField).(*entity.ColumnFloatVector)
		if !ok {
			return nil, bad(vectorField)
		}
		vecs = col.Data()
	}
	var dels []bool
	if deleted {
		col, ok := rs.GetColumn(deletedField).(*entity.ColumnBool)
		if !ok {
			return nil, bad(deletedField)
		}
		dels = col.Data()
	}
	if len(docs) != len(ids) || (vectors && len(vecs) != len(ids)) || (deleted && len(dels) != len(ids)) {
		return nil, errors.New("milvus: documents: result fields differ in length")
	}
	out := make([]retrieval.Document, len(ids))
	for i, id := range ids {
		d := retrieval.Document{ID: id}
		if deleted && dels[i] {
			d.Deleted = true
		} else {
			data, err := base64.StdEncoding.DecodeString(docs[i])
			if err != nil {
				return nil, fmt.Errorf("milvus: document %q: %w", id, err)
			}
			d.Data = data
		}
		if vectors {
			d.Vector = vecs[i]
		}
		out[i] = d
	}
	return out, nil
}

// queryAt runs a query that sees every write acknowledged before ts.
func (m *Index) queryAt(ctx context.Context, op, expr string, output []string, ts uint64) (client.ResultSet, error) {
	var rs client.ResultSet
	err := m.read(ctx, op+" "+m.cfg.Collection, func(ctx context.Context) (err error) {
		rs, err = m.cl.Query(ctx, m.cfg.Collection, nil, expr, output,
			client.WithSearchQueryConsistencyLevel(entity.ClCustomized), client.WithGuaranteeTimestamp(ts))
		return err
	})
	return rs, err
}

// Scan calls fn with every document of the collection, without vectors,
// reading it by ranges of the ID hash of about 4,096 rows, and returns a
// mark from before the scan. Reads after it see at least what the scan saw.
func (c *Catalog) Scan(ctx context.Context, fn func([]retrieval.Document) error) (retrieval.Mark, error) {
	m := c.Index
	ctx, end, err := m.begin(ctx)
	if err != nil {
		return 0, err
	}
	defer end()
	mark, err := m.timestamp(ctx)
	if err != nil {
		return 0, err
	}
	rs, err := m.queryAt(ctx, "count", m.live(""), []string{"count(*)"}, mark)
	if err != nil {
		return 0, err
	}
	col, ok := rs.GetColumn("count(*)").(*entity.ColumnInt64)
	if !ok || col.Len() != 1 {
		return 0, errors.New("milvus: scan: unexpected count")
	}
	total := max(col.Data()[0], 1)
	step := max(1, min(buckets, buckets*scanRows/total))
	// The next Changes reads the rows written a change window before the
	// mark again: those the scan read are remembered with their stamps,
	// so that it reports only the ones written again since, instead of
	// having the caller decode and index the whole window a second time.
	recent := mark - min(mark, tsDuration(m.cfg.ChangeWindow))
	for lo := int64(0); lo < buckets; lo += step {
		expr := fmt.Sprintf("%s >= %d and %s < %d", bucketField, lo, bucketField, min(lo+step, buckets))
		rs, err := m.queryAt(ctx, "scan", m.live(expr), []string{idField, docField, writtenField}, mark)
		if err != nil {
			return 0, err
		}
		docs, err := readDocuments(rs, false, false)
		if err != nil {
			return 0, err
		}
		if err := m.rememberScanned(rs, recent); err != nil {
			return 0, err
		}
		if len(docs) > 0 {
			if err := fn(docs); err != nil {
				return 0, err
			}
		}
	}
	m.observeWrite(mark)
	return retrieval.Mark(mark), nil
}

// Changes calls fn with the rows written since a change window before
// since (documents, and tombstones as deleted Documents), as they are now,
// and returns a fresh mark. A row this index wrote, scanned or already
// reported with the same stamp is not reported again: Changes first reads the
// stamps of the window, then the documents of the rows it has not seen, so
// that re-reading the window costs a few bytes a row. Later reads of this index see at least what
// Changes saw. Now and then it also removes the tombstones older than ten
// change windows; a mark older than that fails with an error wrapping
// retrieval.ErrChangesLost.
func (c *Catalog) Changes(ctx context.Context, since retrieval.Mark, fn func([]retrieval.Document) error) (retrieval.Mark, error) {
	m := c.Index
	ctx, end, err := m.begin(ctx)
	if err != nil {
		return 0, err
	}
	defer end()
	now, err := m.timestamp(ctx)
	if err != nil {
		return 0, err
	}
	window, retention := tsDuration(m.cfg.ChangeWindow), retentionWindows*tsDuration(m.cfg.ChangeWindow)
	if uint64(since)+retention < now {
		return 0, fmt.Errorf("milvus: changes of %q: %w", m.cfg.Collection, retrieval.ErrChangesLost)
	}
	from := uint64(since) - min(uint64(since), window)
	rs, err := m.queryAt(ctx, "changes", fmt.Sprintf("%s >= %d", writtenField, from),
		[]string{idField, writtenField, deletedField}, now)
	if err != nil {
		return 0, err
	}
	stamps, err := readStamps(rs)
	if err != nil {
		return 0, err
	}
	fresh := m.unseen(stamps)
	var live []string
	for _, st := range fresh {
		if !st.deleted {
			live = append(live, st.id)
		}
	}
	docs := make([]retrieval.Document, 0, len(fresh))
	for _, st := range fresh {
		if st.deleted {
			docs = append(docs, retrieval.Document{ID: st.id, Deleted: true})
		}
	}
	for chunk := range slices.Chunk(live, m.cfg.BatchSize) {
		// The rows as they are now: one may have been deleted or written
		// again since its stamp was read.
		rs, err := m.queryAt(ctx, "changed documents", idsExpr(chunk), []string{idField, docField, deletedField}, now)
		if err != nil {
			return 0, err
		}
		got, err := readDocuments(rs, false, true)
		if err != nil {
			return 0, err
		}
		docs = append(docs, got...)
	}
	if len(docs) > 0 {
		if err := fn(docs); err != nil {
			return 0, err
		}
	}
	m.forget(fresh, from)
	m.observeWrite(now)
	if now > retention && m.lastPurge.Load()+window < now {
		m.lastPurge.Store(now)
		m.purge(ctx, now-retention)
	}
	return retrieval.Mark(now), nil
}

// stamp is a row's ID, written stamp and tombstone flag.
type stamp struct {
	id      string
	written uint64
	deleted bool
}

// readStamps decodes a query's id, written and deleted fields.
func readStamps(rs client.ResultSet) ([]stamp, error) {
	idCol, ok1 := rs.GetColumn(idField).(*entity.ColumnVarChar)
	wCol, ok2 := rs.GetColumn(writtenField).(*entity.ColumnInt64)
	dCol, ok3 := rs.GetColumn(deletedField).(*entity.ColumnBool)
	if !ok1 || !ok2 || !ok3 {
		return nil, errors.New("milvus: changes: result fields missing or of an unexpected type")
	}
	ids, ws, ds := idCol.Data(), wCol.Data(), dCol.Data()
	if len(ws) != len(ids) || len(ds) != len(ids) {
		return nil, errors.New("milvus: changes: result fields differ in length")
	}
	out := make([]stamp, len(ids))
	for i := range ids {
		out[i] = stamp{id: ids[i], written: uint64(ws[i]), deleted: ds[i]}
	}
	return out, nil
}

// remember records rows this index wrote, so that Changes does not report
// them back to it.
func (m *Index) remember(ids []string, written uint64) {
	m.seenMu.Lock()
	defer m.seenMu.Unlock()
	if m.seen == nil {
		m.seen = make(map[string]uint64)
	}
	for _, id := range ids {
		m.seen[id] = written
	}
}

// rememberScanned remembers the rows of a scan's result written at or
// after from, with their stamps.
func (m *Index) rememberScanned(rs client.ResultSet, from uint64) error {
	idCol, ok1 := rs.GetColumn(idField).(*entity.ColumnVarChar)
	wCol, ok2 := rs.GetColumn(writtenField).(*entity.ColumnInt64)
	if !ok1 || !ok2 || wCol.Len() != idCol.Len() {
		return errors.New("milvus: scan: result fields missing, of an unexpected type or of different lengths")
	}
	ids, ws := idCol.Data(), wCol.Data()
	m.seenMu.Lock()
	defer m.seenMu.Unlock()
	for i, w := range ws {
		if uint64(w) < from {
			continue
		}
		if m.seen == nil {
			m.seen = make(map[string]uint64)
		}
		m.seen[ids[i]] = uint64(w)
	}
	return nil
}

// unseen returns the rows of stamps that this index has not written or
// reported with the same stamp.
func (m *Index) unseen(stamps []stamp) []stamp {
	m.seenMu.Lock()
	defer m.seenMu.Unlock()
	out := stamps[:0:0]
	for _, st := range stamps {
		if w, ok := m.seen[st.id]; !ok || w != st.written {
			out = append(out, st)
		}
	}
	return out
}

// forget records the rows just reported and drops the ones stamped before
// from, which no later Changes reads again.
func (m *Index) forget(reported []stamp, from uint64) {
	m.seenMu.Lock()
	defer m.seenMu.Unlock()
	if m.seen == nil {
		m.seen = make(map[string]uint64)
	}
	for _, st := range reported {
		m.seen[st.id] = st.written
	}
	for id, w := range m.seen {
		if w < from {
			delete(m.seen, id)
		}
	}
}

// purge removes the tombstones written before ts. It is housekeeping: a
// failure leaves them for the next time.
func (m *Index) purge(ctx context.Context, ts uint64) {
	expr := fmt.Sprintf("%s == true and %s < %d", deletedField, writtenField, ts)
	rs, err := m.queryAt(ctx, "old tombstones", expr, []string{idField}, ts)
	if err != nil {
		return
	}
	col, ok := rs.GetColumn(idField).(*entity.ColumnVarChar)
	if !ok {
		return
	}
	for chunk := range slices.Chunk(col.Data(), m.cfg.BatchSize) {
		// Only rows still tombstones older than ts: one written again
		// meanwhile is kept.
		del := fmt.Sprintf("(%s) and %s", idsExpr(chunk), expr)
		if m.call(ctx, "purge tombstones of "+m.cfg.Collection, func(ctx context.Context) error {
			return m.cl.Delete(ctx, m.cfg.Collection, "", del)
		}) != nil {
			return
		}
	}
}
