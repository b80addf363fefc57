package retrieval

import "context"

// Record is one entry of an Index: a product's ID, its vector and the
// metadata a Filter can select on.
type Record struct {
	// ID identifies the record; it must be non-empty and unique in its index.
	ID string
	// Vector has the index's dimension and only finite components.
	Vector []float32
	// Metadata holds filterable fields such as "brand" and "category". A
	// missing key never matches a condition on it.
	Metadata map[string]string
}

// Hit is one search result: a record's ID and its similarity to the query
// under the index's Metric (higher is more similar).
type Hit struct {
	ID    string
	Score float32
}

// Metric says how an index scores a query against a stored vector.
type Metric int

const (
	// Cosine normalizes stored and query vectors to unit length, so the
	// score is their cosine similarity in [-1, 1]. Zero vectors are rejected.
	Cosine Metric = iota
	// InnerProduct scores with the plain dot product of the vectors as given.
	// The engine uses it for fused multimodal vectors, whose norm carries
	// meaning (see VectorFusion).
	InnerProduct
)

// String returns "cosine" or "inner_product".
func (m Metric) String() string {
	switch m {
	case Cosine:
		return "cosine"
	case InnerProduct:
		return "inner_product"
	default:
		return "unknown"
	}
}

// Index stores vectors by ID and finds the ones most similar to a query.
// Implementations are safe for concurrent use.
type Index interface {
	// Upsert inserts the records, replacing any with the same ID. A batch is
	// validated as a whole before anything is written: an empty or duplicate
	// ID, or an invalid vector, fails the batch and changes nothing.
	Upsert(ctx context.Context, records ...Record) error
	// Delete removes the records with these IDs; unknown IDs are ignored.
	Delete(ctx context.Context, ids ...string) error
	// Get returns the records with these IDs, in the order asked. An unknown
	// ID fails the call with an error wrapping ErrNotFound.
	Get(ctx context.Context, ids ...string) ([]Record, error)
	// Search returns up to k records that pass filter, most similar to query
	// first; equal scores are ordered by ascending ID, so the order of exact
	// ties, and which of them make the cut at k, is deterministic.
	Search(ctx context.Context, query []float32, k int, filter Filter) ([]Hit, error)
	// Len returns the number of records.
	Len(ctx context.Context) (int, error)
	// Dimension returns the length every vector must have.
	Dimension() int
	// Metric returns how Search scores.
	Metric() Metric
	// Close releases the index's resources; later calls fail with ErrClosed.
	Close() error
}

// VectorReader is implemented by an Index that copies its stored vectors
// into the caller's memory cheaply, in process, as Embedded does: a caller
// that needs the vectors of a few hundred records per query, as the engine
// does, reads them there rather than keeping a copy of every vector. An
// unknown ID fails ReadVectors with an error wrapping ErrNotFound.
type VectorReader interface {
	ReadVectors(ids []string, dst []float32) error
}

// FuncSearcher is implemented by an Index that filters a search with a
// function of the record's ID rather than its metadata, as Embedded does
// (see Embedded.SearchFunc): a caller that holds what it filters on can
// give the index no metadata at all.
type FuncSearcher interface {
	SearchFunc(ctx context.Context, query []float32, k int, keep func(id string) bool) ([]Hit, error)
}

// Loader is implemented by an Index that an empty one can be filled at
// once, faster than by Upsert, as Embedded is (see Embedded.Load): records
// without metadata, ids[i]'s vector row i of vectors, which the index may
// keep.
type Loader interface {
	Load(ctx context.Context, ids []string, vectors []float32) error
}

var (
	_ VectorReader = (*Embedded)(nil)
	_ FuncSearcher = (*Embedded)(nil)
	_ Loader       = (*Embedded)(nil)
)
