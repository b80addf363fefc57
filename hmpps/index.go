package hmpps

import (
	"context"
	"errors"
	"fmt"

	"hmpps/retrieval"
)

// WithIndexFactory makes the engine's vector index with f, which New and
// Open call with the dimension and metric the engine stores (the text
// embedder's dimension plus the image embedder's; retrieval.InnerProduct),
// so that the caller cannot get them wrong. It is how an engine runs on
// Milvus without this package linking the Milvus client:
//
//	hmpps.New(hmpps.WithIndexFactory(milvus.Factory(milvus.Config{Address: addr})))
//
// with package hmpps/retrieval/milvus. As with WithIndex, the index must
// be empty, for Open too, which writes the saved catalog into it: a
// restarted program opens a fresh collection, or drops the old one first.
// An index that is a retrieval.DocumentStore (milvus.Config{Catalog: true})
// is the exception: it holds the catalog, New reads it from there, and any
// number of engines share it (see SharedCatalog).
// The engine owns the index and closes it on Close, or when New fails
// after making it. WithIndex and WithIndexFactory exclude each other.
func WithIndexFactory(f retrieval.IndexFactory) Option {
	return func(c *config) { c.indexFactory = f }
}

// indexSpec is what the engine's index must be.
func (c *config) indexSpec() retrieval.IndexSpec {
	return retrieval.IndexSpec{Dimension: c.vectorDim(), Metric: retrieval.InnerProduct}
}

// openIndex returns the index the configuration names (WithIndex's, the
// factory's, or a new Embedded) after checking that it fits the engine's
// vectors and is empty.
func (c *config) openIndex(ctx context.Context) (retrieval.Index, error) {
	ix, owned := c.index, false
	switch {
	case ix != nil && c.indexFactory != nil:
		return nil, errors.New("hmpps: WithIndex and WithIndexFactory both given; pass one")
	case c.indexFactory != nil:
		made, err := c.indexFactory(ctx, c.indexSpec())
		if err != nil {
			return nil, fmt.Errorf("hmpps: index factory: %w", err)
		}
		if made == nil {
			return nil, errors.New("hmpps: index factory returned no index and no error")
		}
		ix, owned = made, true
	case ix == nil:
		// Quantized: a scan of a quarter of the bytes or less, with the
		// exact scan's results (see retrieval.EmbeddedOptions.Quantize).
		spec := c.indexSpec()
		made, err := retrieval.NewEmbeddedWith(spec.Dimension, spec.Metric, retrieval.EmbeddedOptions{Quantize: true})
		if err != nil {
			return nil, fmt.Errorf("hmpps: %w", err)
		}
		ix, owned = made, true
	}
	if err := c.checkIndex(ctx, ix); err != nil {
		if owned {
			_ = ix.Close()
		}
		return nil, err
	}
	return ix, nil
}

// checkIndex refuses an index that does not fit the engine's vectors, or
// that holds records the engine does not know.
func (c *config) checkIndex(ctx context.Context, ix retrieval.Index) error {
	if ix.Dimension() != c.vectorDim() {
		return fmt.Errorf("hmpps: index dimension %d, want %d (text %d + image %d): %w",
			ix.Dimension(), c.vectorDim(), c.textEmbedder.Dimension(), c.imageDim(), retrieval.ErrDimensionMismatch)
	}
	if ix.Metric() != retrieval.InnerProduct {
		return fmt.Errorf("hmpps: index metric is %s, want %s for fused vectors", ix.Metric(), retrieval.InnerProduct)
	}
	if _, ok := ix.(retrieval.DocumentStore); ok {
		// The catalog is the index's: New reads it from there.
		return nil
	}
	n, err := ix.Len(ctx)
	if err != nil {
		return fmt.Errorf("hmpps: index: %w", err)
	}
	if n != 0 {
		return fmt.Errorf("hmpps: index holds %d records the engine does not know; New and Open need an empty index (Open writes the saved catalog into it)", n)
	}
	return nil
}
