package main

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/internal/milvustest"
	"hmpps/retrieval"
	"hmpps/retrieval/milvus"
)

func TestMain(m *testing.M) { milvustest.Main(m) }

// With -milvus-addr the service keeps its vectors in a real Milvus: it
// fills the collection from the catalog at start, serves writes and
// filtered searches from it, saves the file and drops the collection at
// shutdown, and a restart rebuilds the collection from the file.
func TestMilvusService(t *testing.T) {
	addr := milvustest.Addr(t)
	coll := milvustest.Collection(t)
	path := filepath.Join(t.TempDir(), "shop.hmpps")
	args := []string{"-catalog", path, "-milvus-addr", addr, "-milvus-collection", coll}

	base, stop, done := startRun(t, args...)
	require.Equal(t, 200, do(t, "PUT", base+"/products", `{"products":[{"id":"gaiter-01","title":"Waterproof Gaiters","brand":"Ashcombe"}]}`))
	require.Equal(t, 204, do(t, "DELETE", base+"/products/boot-04", ""))
	send := httpSender(base)
	ids := searchIDs(t, send, searchRequest{Query: "waterproof", Filter: []condition{{Field: "brand", Values: []string{"Ashcombe"}}}})
	assert.Contains(t, ids, "gaiter-01", "Milvus found the new product")
	assert.NotContains(t, ids, "boot-04", "Milvus forgot the deleted one")
	stop()
	require.NoError(t, <-done)

	// The collection is gone: opening it again creates an empty one.
	m, err := milvus.New(context.Background(), milvus.Config{Address: addr, Collection: coll,
		Dimension: retrieval.DefaultTextDimension + retrieval.ColorLayoutDimension, Metric: retrieval.InnerProduct})
	require.NoError(t, err)
	n, err := m.Len(context.Background())
	require.NoError(t, err)
	assert.Zero(t, n, "the service dropped its collection at shutdown")

	// A collection that is not empty is refused with the way out.
	require.NoError(t, m.Upsert(context.Background(), retrieval.Record{ID: "stale",
		Vector: unitVector(retrieval.DefaultTextDimension + retrieval.ColorLayoutDimension)}))
	// The service's own client reads with session consistency, which does
	// not wait for another client's write: wait until a new client sees it.
	require.Eventually(t, func() bool {
		probe, err := milvus.New(context.Background(), milvus.Config{Address: addr, Collection: coll,
			Dimension: retrieval.DefaultTextDimension + retrieval.ColorLayoutDimension, Metric: retrieval.InnerProduct})
		if err != nil {
			return false
		}
		defer probe.Close()
		n, err := probe.Len(context.Background())
		return err == nil && n > 0
	}, time.Minute, 250*time.Millisecond, "the stale record never became visible to a new client")
	cfg, err := parseConfig(append([]string{"-addr", "127.0.0.1:0"}, args...), func(string) string { return "" }, io.Discard)
	require.NoError(t, err)
	// Bounded, so that a service that starts instead of refusing ends the
	// test with a failure rather than hanging it.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = run(ctx, cfg, slog.New(slog.DiscardHandler), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "must be empty")
	require.NoError(t, m.Drop(context.Background()))

	// A restart rebuilds the collection from the saved file.
	base, stop, done = startRun(t, args...)
	ids = searchIDs(t, httpSender(base), searchRequest{Query: "waterproof", Filter: []condition{{Field: "brand", Values: []string{"Ashcombe"}}}})
	assert.Contains(t, ids, "gaiter-01")
	assert.NotContains(t, ids, "boot-04")
	stop()
	require.NoError(t, <-done)
}

func unitVector(n int) []float32 {
	v := make([]float32, n)
	v[0] = 1
	return v
}
