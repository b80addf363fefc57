package main

import (
	"context"
	"fmt"

	"hmpps/retrieval"
)

// milvusIndex connects to the Milvus of c and returns the index the engine
// keeps its vectors in.
//
// The collection is the service's own: the catalog file is the source of
// truth, the engine rebuilds the collection from it at every start (an
// engine needs an empty index), and the service drops it at shutdown.
func milvusIndex(ctx context.Context, c config) (*retrieval.Milvus, error) {
	// The engine stores fused text and image vectors compared by inner
	// product; the default image embedder is the colour layout one.
	textDim := retrieval.DefaultTextDimension
	if c.Ollama.EmbedModel != "" {
		if c.Ollama.EmbedDimension == 0 {
			return nil, fmt.Errorf("with -milvus-addr and -ollama-embed, give -ollama-embed-dim too")
		}
		textDim = c.Ollama.EmbedDimension
	}
	m, err := retrieval.NewMilvus(ctx, retrieval.MilvusConfig{
		Address:    c.Milvus.Addr,
		Collection: c.Milvus.Collection,
		Username:   c.Milvus.Username,
		Password:   c.Milvus.Password,
		Dimension:  textDim + retrieval.ColorLayoutDimension,
		Metric:     retrieval.InnerProduct,
	})
	if err != nil {
		return nil, fmt.Errorf("milvus: %w", err)
	}
	n, err := m.Len(ctx)
	if err == nil && n > 0 {
		err = fmt.Errorf("collection %q holds %d records; the service rebuilds its collection from the catalog file at every start, "+
			"so it must be empty: drop it if an earlier run did not shut down, or name another with -milvus-collection", c.Milvus.Collection, n)
	}
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("milvus: %w", err)
	}
	return m, nil
}
