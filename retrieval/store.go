package retrieval

import (
	"context"
	"errors"
)

// ErrChangesLost reports a DocumentStore asked for the changes since a mark
// older than it keeps track of deletes for: the caller must Scan again.
var ErrChangesLost = errors.New("retrieval: changes since this mark are no longer kept; scan again")

// Document is what a DocumentStore keeps of one record beside its vector:
// the caller's own encoding of it.
type Document struct {
	// ID is the record's ID; empty in the result of Documents for an ID
	// the store does not hold.
	ID string
	// Vector is the record's vector; Scan and Changes leave it nil.
	Vector []float32
	// Data is the document as the caller wrote it.
	Data []byte
	// Deleted marks a delete reported by Changes (Data is then nil).
	Deleted bool
}

// Mark is a position in a DocumentStore's history of writes, opaque to the
// caller: what Scan and Changes return, to be passed to the next Changes.
type Mark uint64

// DocumentStore is implemented by an Index that keeps, beside each
// record's vector and metadata, a document (a caller's encoded record), so
// that the index alone holds a catalog, and processes that share it can
// follow each other's writes: the Milvus index configured as a catalog
// does. Documents reads by ID; Scan reads everything; Changes reads what
// was written or deleted since a mark, which a process polls to keep what
// it derives from the documents (a lexical index, a cache) current.
type DocumentStore interface {
	Index
	// UpsertDocuments is Upsert with docs[i] kept beside records[i]; the
	// two slices have the same length.
	UpsertDocuments(ctx context.Context, records []Record, docs [][]byte) error
	// Documents returns the documents of ids, in their order, with their
	// vectors; an ID the store does not hold gets a zero Document.
	Documents(ctx context.Context, ids []string) ([]Document, error)
	// Scan calls fn with every document the store holds, in batches of a
	// few thousand, without vectors, and returns a mark from before the
	// scan: Changes from it reports, at least, every write the scan may
	// have missed.
	Scan(ctx context.Context, fn func([]Document) error) (Mark, error)
	// Changes calls fn with the documents written and deleted since mark
	// (and possibly some written a little before it: applying one twice
	// must be harmless), each in its state when Changes read it, and
	// returns the mark to pass next. A mark older than the store keeps
	// deletes for fails with an error wrapping ErrChangesLost.
	Changes(ctx context.Context, since Mark, fn func([]Document) error) (Mark, error)
}
