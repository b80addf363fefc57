package milvus_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/hmpps"
	"hmpps/internal/milvustest"
	"hmpps/retrieval"
	"hmpps/retrieval/milvus"
)

// heldReads is the real catalog collection whose Documents, once armed,
// stops after reading and before answering until it is let go: a read
// that a write overtakes, made to happen every time.
type heldReads struct {
	*milvus.Catalog
	// armed, when it holds a channel, makes the next Documents report on
	// it that it has read, then wait for it to be closed.
	armed chan chan struct{}
}

func (h *heldReads) Documents(ctx context.Context, ids []string) ([]retrieval.Document, error) {
	docs, err := h.Catalog.Documents(ctx, ids)
	select {
	case hold := <-h.armed:
		hold <- struct{}{}
		<-hold
	default:
	}
	return docs, err
}

// A read of the catalog that a write overtakes must not leave what it read
// in the replica's cache: a Get that read a product before its delete
// returns it (the two were concurrent), but every Get after the delete
// finds it gone, and after an upsert, the new version.
func TestMilvusSharedCatalogCacheOvertaken(t *testing.T) {
	addr := milvustest.Addr(t)
	coll := milvustest.Collection(t)
	dropCatalog(t, addr, coll)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// The products are written by another engine, so that this one's
	// cache starts without them and its Gets read the collection.
	writer := newReplica(t, addr, coll)
	require.NoError(t, writer.Upsert(ctx,
		hmpps.Product{ID: "gone", Title: "Canvas boots", Brand: "Old"},
		hmpps.Product{ID: "kept", Title: "Leather boots", Brand: "Old"}))
	require.NoError(t, writer.Close())

	store := &heldReads{armed: make(chan chan struct{}, 1)}
	open := milvus.Factory(milvus.Config{Address: addr, Collection: coll, Catalog: true, Index: milvus.Flat})
	e, err := hmpps.New(hmpps.WithIndexFactory(func(ctx context.Context, spec retrieval.IndexSpec) (retrieval.Index, error) {
		ix, err := open(ctx, spec)
		if err != nil {
			return nil, err
		}
		store.Catalog = ix.(*milvus.Catalog)
		return store, nil
	}), hmpps.WithSharedCatalog(hmpps.SharedCatalog{Refresh: time.Hour}))
	require.NoError(t, err)
	defer e.Close()
	require.Equal(t, 2, e.Len())

	// overtaken runs a Get of id that reads the collection, then write,
	// then lets the Get answer, and returns what it answered.
	overtaken := func(id string, write func() error) (hmpps.Product, error) {
		hold := make(chan struct{})
		store.armed <- hold
		type answer struct {
			p   hmpps.Product
			err error
		}
		got := make(chan answer, 1)
		go func() {
			p, err := e.Get(ctx, id)
			got <- answer{p, err}
		}()
		select {
		case <-hold:
		case <-time.After(time.Minute):
			t.Fatalf("the Get of %s did not read the collection", id)
		}
		require.NoError(t, write())
		close(hold)
		a := <-got
		return a.p, a.err
	}
	_, err = overtaken("gone", func() error { return e.Delete(ctx, "gone") })
	require.NoError(t, err, "the Get read the product before the delete")
	_, err = e.Get(ctx, "gone")
	assert.ErrorIs(t, err, hmpps.ErrNotFound, "a Get after the delete finds the product gone")

	_, err = overtaken("kept", func() error {
		return e.Upsert(ctx, hmpps.Product{ID: "kept", Title: "Leather boots", Brand: "New"})
	})
	require.NoError(t, err)
	p, err := e.Get(ctx, "kept")
	require.NoError(t, err)
	assert.Equal(t, "New", p.Brand, "a Get after the upsert reads the new version")
}
