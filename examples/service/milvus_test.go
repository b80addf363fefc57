package main

import (
	"context"
	"fmt"
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

// TestMilvusServiceReplicas runs two service replicas over one catalog
// collection (-milvus-catalog), with nothing shared but the collection:
// writes and deletes through either are seen by both, by GET and by
// search, within the bound; a replica stopped and started again mid-run
// serves the same catalog, the writes made meanwhile included.
func TestMilvusServiceReplicas(t *testing.T) {
	addr := milvustest.Addr(t)
	coll := milvustest.Collection(t)
	args := []string{"-milvus-addr", addr, "-milvus-collection", coll, "-milvus-catalog", "-demo"}
	t.Cleanup(func() {
		ctx := context.Background()
		m, err := milvus.NewCatalog(ctx, milvus.Config{Address: addr, Collection: coll,
			Dimension: retrieval.DefaultTextDimension + retrieval.ColorLayoutDimension, Metric: retrieval.InnerProduct})
		if err == nil {
			_ = m.Drop(ctx)
		}
	})
	// The refresh (1s), a read of the changes and a search, with room for
	// a loaded machine.
	const bound = 5 * time.Second
	visible := func(base, id string, want int) time.Duration {
		t.Helper()
		start := time.Now()
		require.Eventually(t, func() bool { return do(t, "GET", base+"/products/"+id, "") == want },
			bound, 20*time.Millisecond, "GET %s on %s never answered %d", id, base, want)
		return time.Since(start)
	}

	a, stopA, doneA := startRun(t, args...)
	b, stopB, doneB := startRun(t, args...)
	require.Equal(t, 200, do(t, "GET", b+"/products/boot-04", ""), "the second replica serves the demo catalog the first loaded")
	require.Equal(t, 409, do(t, "POST", a+"/save", ""), "no catalog file to save")

	var worst time.Duration
	for i := range 10 {
		writer, reader := a, b
		if i%2 == 1 {
			writer, reader = b, a
		}
		id := fmt.Sprintf("gaiter-%02d", i)
		require.Equal(t, 200, do(t, "PUT", writer+"/products",
			fmt.Sprintf(`{"products":[{"id":%q,"title":"Waterproof Gaiters %d","brand":"Ashcombe"}]}`, id, i)))
		worst = max(worst, visible(reader, id, 200))
		ids := searchIDs(t, httpSender(reader), searchRequest{Query: "waterproof gaiters", TopN: 50, Filter: []condition{{Field: "brand", Values: []string{"Ashcombe"}}}})
		assert.Contains(t, ids, id, "the other replica's search finds %s", id)
	}
	require.Equal(t, 204, do(t, "DELETE", b+"/products/gaiter-00", ""))
	worst = max(worst, visible(a, "gaiter-00", 404))
	t.Logf("the slowest write took %v to reach the other replica", worst.Round(time.Millisecond))

	// One replica stops; the other takes writes; the first comes back on
	// the collection alone.
	stopB()
	require.NoError(t, <-doneB)
	require.Equal(t, 200, do(t, "PUT", a+"/products", `{"products":[{"id":"gaiter-99","title":"Waterproof Gaiters 99","brand":"Ashcombe"}]}`))
	require.Equal(t, 204, do(t, "DELETE", a+"/products/gaiter-01", ""))
	start := time.Now()
	b, stopB, doneB = startRun(t, args...)
	t.Logf("the replica restarted in %v", time.Since(start).Round(time.Millisecond))
	assert.Equal(t, 200, do(t, "GET", b+"/products/gaiter-99", ""))
	assert.Equal(t, 404, do(t, "GET", b+"/products/gaiter-01", ""))
	want := searchIDs(t, httpSender(a), searchRequest{Query: "waterproof"})
	assert.Equal(t, want, searchIDs(t, httpSender(b), searchRequest{Query: "waterproof"}), "both replicas serve the same catalog")

	stopA()
	stopB()
	require.NoError(t, <-doneA)
	require.NoError(t, <-doneB)
}
