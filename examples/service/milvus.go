package main

import (
	"context"
	"fmt"

	"hmpps/retrieval"
	"hmpps/retrieval/milvus"
)

// milvusIndex is the service's Milvus collection: the engine makes it
// through index, sized from its own embedders by milvus.Factory, and the
// service keeps it to drop the collection at shutdown.
//
// The catalog file is the source of truth: the engine fills the collection
// from it at every start (an engine needs an empty index), and the service
// drops the collection when it stops. With -milvus-catalog the collection
// is the catalog instead: every replica opens on it, whoever filled it,
// and none drops it.
type milvusIndex struct {
	cfg milvus.Config
	// ix is the index the engine made; nil until then.
	ix *milvus.Index
}

func newMilvusIndex(c config) *milvusIndex {
	return &milvusIndex{cfg: milvus.Config{Address: c.Milvus.Addr, Collection: c.Milvus.Collection,
		Username: c.Milvus.Username, Password: c.Milvus.Password, Catalog: c.Milvus.Catalog}}
}

// factory returns the engine's index factory. A collection that is not
// empty is refused with what to do about it.
func (m *milvusIndex) factory() retrieval.IndexFactory {
	open := milvus.Factory(m.cfg)
	if m.cfg.Catalog {
		return open
	}
	return func(ctx context.Context, spec retrieval.IndexSpec) (retrieval.Index, error) {
		made, err := open(ctx, spec)
		if err != nil {
			return nil, err
		}
		ix, ok := made.(*milvus.Index)
		if !ok {
			made.Close()
			return nil, fmt.Errorf("milvus: factory made a %T, want *milvus.Index", made)
		}
		n, err := ix.Len(ctx)
		if err == nil && n > 0 {
			err = fmt.Errorf("milvus: collection %q holds %d records; the service fills its collection from the catalog file at every start, "+
				"so it must be empty: drop it if an earlier run did not shut down, or name another with -milvus-collection", m.cfg.Collection, n)
		}
		if err != nil {
			ix.Close()
			return nil, err
		}
		m.ix = ix
		return ix, nil
	}
}

// drop deletes the collection the engine made, if it made one.
func (m *milvusIndex) drop(ctx context.Context) error {
	if m.ix == nil {
		return nil
	}
	return m.ix.Drop(ctx)
}
