package milvus

import (
	"context"
	"fmt"

	"hmpps/retrieval"
)

// Factory returns a retrieval.IndexFactory that opens the collection cfg
// names with the dimension and metric the caller asks for, so that an
// engine configured with hmpps.WithIndexFactory(milvus.Factory(cfg)) sizes
// its collection from its own embedders and fusion. Leave cfg.Dimension
// and cfg.Metric zero: a non-zero Dimension that differs from the asked
// one fails with an error wrapping retrieval.ErrDimensionMismatch before
// any connection, as does the InnerProduct metric when Cosine is asked
// (the zero Metric, Cosine, means "not set"). With cfg.Catalog the index
// is a *Catalog: the engine then keeps its catalog in the collection, and
// New opens it from what the collection holds.
func Factory(cfg Config) retrieval.IndexFactory {
	return func(ctx context.Context, spec retrieval.IndexSpec) (retrieval.Index, error) {
		if cfg.Dimension != 0 && cfg.Dimension != spec.Dimension {
			return nil, fmt.Errorf("milvus: configured for dimension %d, the engine stores %d: %w (leave Config.Dimension zero)",
				cfg.Dimension, spec.Dimension, retrieval.ErrDimensionMismatch)
		}
		if cfg.Metric != retrieval.Cosine && cfg.Metric != spec.Metric {
			return nil, fmt.Errorf("milvus: configured for metric %s, the engine needs %s (leave Config.Metric zero)", cfg.Metric, spec.Metric)
		}
		c := cfg
		c.Dimension, c.Metric = spec.Dimension, spec.Metric
		ix, err := New(ctx, c)
		if err != nil {
			return nil, err
		}
		if c.Catalog {
			return &Catalog{ix}, nil
		}
		return ix, nil
	}
}
