package retrieval

import "context"

// IndexSpec is what an index must be to hold a caller's vectors: the
// caller, not the person configuring the index, knows both.
type IndexSpec struct {
	// Dimension is the length of every vector the index will hold.
	Dimension int
	// Metric is how the index must score.
	Metric Metric
}

// IndexFactory makes an empty or existing index that fits spec. It lets a
// program choose an index implementation (an Embedded, a Milvus collection
// in package retrieval/milvus, one of its own) while the code that stores
// the vectors decides their dimension and metric, so that the two cannot
// disagree; hmpps.WithIndexFactory takes one. ctx bounds making the index
// (connecting to a server, say), not its later use.
type IndexFactory func(ctx context.Context, spec IndexSpec) (Index, error)

// EmbeddedFactory returns an IndexFactory of Embedded indexes with opts.
func EmbeddedFactory(opts EmbeddedOptions) IndexFactory {
	return func(ctx context.Context, spec IndexSpec) (Index, error) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return NewEmbeddedWith(spec.Dimension, spec.Metric, opts)
	}
}
