package milvus_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/hmpps"
	"hmpps/internal/democatalog"
	"hmpps/internal/milvustest"
	"hmpps/retrieval"
	"hmpps/retrieval/milvus"
)

// refresh is how often the replicas of these tests read each other's
// writes; bound is what the tests allow a write to take to reach the other
// replica: the refresh, one read of the changes, and a search, with room
// for a loaded machine.
const (
	refresh = 200 * time.Millisecond
	bound   = refresh + 3*time.Second
)

// newReplica opens an engine on the catalog collection coll of the server at
// addr, as a replica of a service would.
func newReplica(t *testing.T, addr, coll string) *hmpps.Engine {
	t.Helper()
	e, err := hmpps.New(
		hmpps.WithIndexFactory(milvus.Factory(milvus.Config{Address: addr, Collection: coll, Catalog: true, Index: milvus.Flat})),
		hmpps.WithSharedCatalog(hmpps.SharedCatalog{Refresh: refresh}))
	require.NoError(t, err)
	t.Cleanup(func() { e.Close() })
	return e
}

// dropCatalog drops coll when t ends.
func dropCatalog(t *testing.T, addr, coll string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		ix, err := milvus.NewCatalog(ctx, milvus.Config{Address: addr, Collection: coll,
			Dimension: retrieval.DefaultTextDimension + retrieval.ColorLayoutDimension, Metric: retrieval.InnerProduct})
		if err != nil {
			t.Logf("open %s to drop it: %v", coll, err)
			return
		}
		if err := ix.Drop(ctx); err != nil {
			t.Logf("drop %s: %v", coll, err)
		}
	})
}

// within polls check until it returns nil or bound passes, and returns how
// long it took.
func within(t *testing.T, what string, check func() error) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		err := check()
		if err == nil {
			took := time.Since(start)
			t.Logf("%s: seen after %v", what, took.Round(time.Millisecond))
			return took
		}
		if time.Since(start) > bound {
			t.Fatalf("%s: not seen within %v: %v", what, bound, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// found returns nil when a search of e for query returns id first, and
// wantGet when Get finds id (an error otherwise).
func found(ctx context.Context, e *hmpps.Engine, query, id, title string) error {
	p, err := e.Get(ctx, id)
	if err != nil {
		return err
	}
	if p.Title != title {
		return fmt.Errorf("get %q: title %q, want %q", id, p.Title, title)
	}
	resp, err := e.Search(ctx, hmpps.Request{Query: query, TopN: 3})
	if err != nil {
		return err
	}
	if len(resp.Results) == 0 || resp.Results[0].ID != id {
		return fmt.Errorf("search %q: %v does not start with %q", query, resp.Candidates, id)
	}
	return nil
}

// wantLen returns nil when e counts n products.
func wantLen(e *hmpps.Engine, n int) error {
	if got := e.Len(); got != n {
		return fmt.Errorf("%d products, want %d", got, n)
	}
	return nil
}

// gone returns nil when neither Get nor a search of e for query finds id.
func gone(ctx context.Context, e *hmpps.Engine, query, id string) error {
	if _, err := e.Get(ctx, id); !errors.Is(err, hmpps.ErrNotFound) {
		return fmt.Errorf("get %q: %v, want ErrNotFound", id, err)
	}
	resp, err := e.Search(ctx, hmpps.Request{Query: query, TopN: 50})
	if err != nil {
		return err
	}
	for _, r := range resp.Results {
		if r.ID == id {
			return fmt.Errorf("search %q still returns %q", query, id)
		}
	}
	return nil
}

// sameRankings checks that two engines rank the demo shoppers' searches
// alike, with and without a filter.
func sameRankings(t *testing.T, ctx context.Context, want, got *hmpps.Engine) {
	t.Helper()
	for _, u := range democatalog.Shoppers() {
		for _, f := range []retrieval.Filter{nil, {retrieval.Prefix("category", "Footwear")}} {
			req := hmpps.Request{Query: democatalog.DefaultQuery, HistoryIDs: u.HistoryIDs, TopN: 10, Filter: f}
			w, err := want.Search(ctx, req)
			require.NoError(t, err)
			g, err := got.Search(ctx, req)
			require.NoError(t, err)
			require.Equal(t, w.Candidates, g.Candidates, "%s, filter %v", u.Name, f)
			require.Len(t, g.Results, len(w.Results))
			for i := range w.Results {
				assert.Equal(t, w.Results[i].ID, g.Results[i].ID, "%s, filter %v, rank %d", u.Name, f, i)
				assert.InDelta(t, w.Results[i].Score, g.Results[i].Score, 1e-5)
			}
		}
	}
}

// TestMilvusSharedCatalogReplicas runs two engines over one catalog
// collection, as two replicas of a service, with nothing shared but the
// collection: the second opens from what the first wrote, each one's
// writes and deletes reach the other's Get and search within the bound,
// the last of two writes of a product wins on both, and an engine opened
// afterwards serves the same catalog. The rankings match an embedded
// engine's on the same catalog.
func TestMilvusSharedCatalogReplicas(t *testing.T) {
	addr := milvustest.Addr(t)
	ctx := context.Background()
	coll := milvustest.Collection(t)
	dropCatalog(t, addr, coll)

	a := newReplica(t, addr, coll)
	require.Equal(t, 0, a.Len())
	catalog := democatalog.Products()
	require.NoError(t, a.Upsert(ctx, catalog...))
	require.Equal(t, len(catalog), a.Len())

	// A replica opens from the collection alone.
	b := newReplica(t, addr, coll)
	require.Equal(t, len(catalog), b.Len())
	for _, p := range catalog[:5] {
		got, err := b.Get(ctx, p.ID)
		require.NoError(t, err)
		assert.Equal(t, p.Title, got.Title)
		assert.Equal(t, p.Attributes, got.Attributes)
	}
	embedded, err := hmpps.New()
	require.NoError(t, err)
	defer embedded.Close()
	require.NoError(t, embedded.Upsert(ctx, catalog...))
	sameRankings(t, ctx, embedded, a)
	sameRankings(t, ctx, embedded, b)
	_, err = b.Get(ctx, "no-such-product")
	require.ErrorIs(t, err, hmpps.ErrNotFound)

	// A write through one is seen by the other.
	kayak := hmpps.Product{ID: "kayak-1", Title: "Inflatable sea kayak", Brand: "Paddleco",
		Category: []string{"Water Sports", "Kayaks"}, Description: "A two-seat inflatable kayak for calm sea."}
	require.NoError(t, b.Upsert(ctx, kayak))
	require.NoError(t, found(ctx, b, "inflatable kayak", kayak.ID, kayak.Title), "the writer sees its own write at once")
	within(t, "upsert through b, on a", func() error { return found(ctx, a, "inflatable kayak", kayak.ID, kayak.Title) })
	within(t, "upsert through b, in a's count", func() error { return wantLen(a, len(catalog)+1) })

	// Two writes of one product: the later wins, everywhere.
	v2, v3 := kayak, kayak
	v2.Title, v3.Title = "Inflatable sea kayak, red", "Inflatable sea kayak, yellow"
	require.NoError(t, a.Upsert(ctx, v2))
	require.NoError(t, b.Upsert(ctx, v3))
	for name, e := range map[string]*hmpps.Engine{"a": a, "b": b} {
		within(t, "last write on "+name, func() error {
			if err := found(ctx, e, "yellow kayak", kayak.ID, v3.Title); err != nil {
				return err
			}
			resp, err := e.Search(ctx, hmpps.Request{Query: "red", TopN: 50})
			if err != nil {
				return err
			}
			for _, r := range resp.Results {
				if r.ID == kayak.ID && r.LexicalScore > 0 {
					return fmt.Errorf("the overwritten title still matches %q", "red")
				}
			}
			return nil
		})
	}

	// A delete through one is seen by the other.
	require.NoError(t, a.Delete(ctx, kayak.ID, catalog[0].ID))
	require.NoError(t, gone(ctx, a, "inflatable kayak", kayak.ID))
	within(t, "delete through a, on b", func() error {
		if err := gone(ctx, b, "inflatable kayak", kayak.ID); err != nil {
			return err
		}
		return gone(ctx, b, catalog[0].Title, catalog[0].ID)
	})
	within(t, "delete through a, in b's count", func() error { return wantLen(b, len(catalog)-1) })

	// Both write the same products at once: one version of each ends
	// everywhere, the one an engine opened afterwards reads.
	var wg sync.WaitGroup
	for i, e := range []*hmpps.Engine{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := range 5 {
				batch := make([]hmpps.Product, 0, 3)
				for _, p := range catalog[1:4] {
					p.Title = fmt.Sprintf("%s (writer %d, round %d)", p.Title, i, round)
					batch = append(batch, p)
				}
				assert.NoError(t, e.Upsert(ctx, batch...))
			}
		}()
	}
	wg.Wait()
	c := newReplica(t, addr, coll)
	require.Equal(t, len(catalog)-1, c.Len())
	for _, p := range catalog[1:4] {
		want, err := c.Get(ctx, p.ID)
		require.NoError(t, err)
		for name, e := range map[string]*hmpps.Engine{"a": a, "b": b} {
			within(t, fmt.Sprintf("one version of %s on %s", p.ID, name), func() error {
				got, err := e.Get(ctx, p.ID)
				if err != nil {
					return err
				}
				if got.Title != want.Title {
					return fmt.Errorf("title %q, the collection holds %q", got.Title, want.Title)
				}
				return nil
			})
		}
	}
	// The engines agree on every search once they have caught up.
	within(t, "same rankings on a, b and c", func() error {
		for _, u := range democatalog.Shoppers() {
			req := hmpps.Request{Query: democatalog.DefaultQuery, HistoryIDs: u.HistoryIDs, TopN: 10}
			var first []string
			for _, e := range []*hmpps.Engine{a, b, c} {
				resp, err := e.Search(ctx, req)
				if err != nil {
					return err
				}
				ids := make([]string, len(resp.Results))
				for i, r := range resp.Results {
					ids[i] = r.ID
				}
				if first == nil {
					first = ids
				} else if fmt.Sprint(ids) != fmt.Sprint(first) {
					return fmt.Errorf("%s: %v and %v", u.Name, first, ids)
				}
			}
		}
		return nil
	})

	// Each replica has read the others' writes within the refresh.
	for _, e := range []*hmpps.Engine{a, b, c} {
		at, err := e.CaughtUp()
		require.NoError(t, err)
		assert.WithinDuration(t, time.Now(), at, bound)
	}

	// What needs the whole catalog in process says why it cannot.
	require.ErrorIs(t, c.Save(ctx, t.TempDir()+"/engine.hmpps"), hmpps.ErrSharedCatalog)
}
