package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
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

// replicaBound is how long an acknowledged write may take to reach the
// other replica in TestMilvusLoadReplicas: the refresh (1s), a read of
// the changes and a request, with room for a loaded machine.
const replicaBound = 5 * time.Second

// replica is one service replica of TestMilvusLoadReplicas: its own engine
// on the shared collection behind its own HTTP server.
type replica struct {
	eng *hmpps.Engine
	srv *httptest.Server
}

func startReplica(t *testing.T, addr, coll string, cfg config) *replica {
	t.Helper()
	eng, err := hmpps.New(hmpps.WithIndexFactory(milvus.Factory(milvus.Config{Address: addr, Collection: coll, Catalog: true})))
	require.NoError(t, err)
	return &replica{eng: eng, srv: httptest.NewServer(newServer(eng, cfg, slog.New(slog.DiscardHandler)))}
}

func (r *replica) stop() {
	r.srv.Close()
	r.eng.Close()
}

// TestMilvusLoadReplicas is the load test of TestLoad on two replicas of
// the service over one catalog collection, with nothing shared but the
// collection: searchers on both, upserts and deletes through either, each
// acknowledged write polled on the other replica until it shows there
// (the staleness, which must stay within replicaBound), and half way one
// replica killed and started again on the collection, the traffic it
// would have had going to the other meanwhile. At the end both replicas
// hold every acknowledged upsert in its last version, none of the deleted
// products, the same count, and find each batch by a filtered search.
func TestMilvusLoadReplicas(t *testing.T) {
	addr := milvustest.Addr(t)
	coll := milvustest.Collection(t)
	t.Cleanup(func() {
		ctx := context.Background()
		m, err := milvus.NewCatalog(ctx, milvus.Config{Address: addr, Collection: coll,
			Dimension: retrieval.DefaultTextDimension + retrieval.ColorLayoutDimension, Metric: retrieval.InnerProduct})
		if err == nil {
			_ = m.Drop(ctx)
		}
	})
	size := loadSizes["small"]
	ctx, cancel := context.WithTimeout(context.Background(), 3*size.limit)
	defer cancel()
	cfg := testConfig(t)
	cfg.MaxBatch, cfg.MaxBodyBytes = defaultMaxBatch, defaultMaxBodyBytes

	reps := [2]*replica{startReplica(t, addr, coll, cfg)}
	demo := democatalog.Products()
	var seeded []hmpps.Product
	for i := range size.deletes {
		seeded = append(seeded, hmpps.Product{ID: fmt.Sprintf("del-%d", i), Title: "Discontinued canvas boots", Brand: "Gone"})
	}
	require.NoError(t, reps[0].eng.Upsert(ctx, slices.Concat(demo, seeded)...))
	reps[1] = startReplica(t, addr, coll, cfg)
	defer func() {
		for _, r := range reps {
			r.stop()
		}
	}()
	require.Equal(t, reps[0].eng.Len(), reps[1].eng.Len(), "the second replica opens on what the first wrote")

	// bases[i] is where traffic for replica i goes: replica 0 while
	// replica 1 is down.
	var bases [2]atomic.Pointer[string]
	for i, r := range reps {
		bases[i].Store(&r.srv.URL)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	defer client.CloseIdleConnections()
	send := func(i int) sender {
		return func(method, path string, body any) (int, []byte, time.Duration, error) {
			status, b, took, err := sendWith(ctx, client, *bases[i%2].Load(), "", method, path, body)
			if err != nil {
				// The replica went down under this request: sent again, as
				// a load balancer would, to where its traffic goes now
				// (every request here is idempotent).
				status, b, took, err = sendWith(ctx, client, *bases[i%2].Load(), "", method, path, body)
			}
			return status, b, took, err
		}
	}
	var (
		mu               sync.Mutex
		searchLat, stale []time.Duration
		searchEnd        time.Time
		upserted         = map[string]product{}
		deleted          []string
		failures         []string
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		failures = append(failures, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	// seen polls GET id on replica i until it answers want, and records
	// how long that took.
	seen := func(i int, id string, want int) {
		start := time.Now()
		for {
			status, _, _, err := send(i)("GET", "/products/"+id, nil)
			if err == nil && status == want {
				mu.Lock()
				stale = append(stale, time.Since(start))
				mu.Unlock()
				return
			}
			if time.Since(start) > replicaBound {
				fail("%s: replica %d still answers %d (err %v) after %v, want %d", id, i, status, err, replicaBound, want)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	shoppers := democatalog.Shoppers()
	queries := []string{democatalog.DefaultQuery, "leather boots", "trail running shoes", "waterproof jacket"}
	var wg sync.WaitGroup
	start := time.Now()
	for s := range size.searchers {
		wg.Go(func() {
			for i := range size.searches {
				req := searchRequest{Query: queries[(s+i)%len(queries)], HistoryIDs: shoppers[i%2].HistoryIDs, TopN: 10, ExcludeHistory: true}
				status, b, took, err := send(s)("POST", "/search", req)
				if err != nil || status != 200 {
					fail("search %d/%d: status %d err %v: %s", s, i, status, err, b)
					return
				}
				mu.Lock()
				searchLat = append(searchLat, took)
				searchEnd = time.Now()
				mu.Unlock()
			}
		})
	}
	for u := range size.upserters {
		wg.Go(func() {
			for b := range size.batches {
				var batch []product
				for i := range size.batch {
					batch = append(batch, product{ID: fmt.Sprintf("load-%d-%d-%d", u, b, i),
						Title: fmt.Sprintf("Load boots %d %d %d", u, b, i), Brand: fmt.Sprintf("batch-%d-%d", u, b),
						Category: []string{"Footwear", "Boots", "Load"}, Description: "Waterproof boots written by the load test."})
				}
				through := u + b
				status, body, _, err := send(through)("PUT", "/products", upsertRequest{Products: batch})
				if err != nil || status != 200 {
					fail("upsert %d/%d: status %d err %v: %s", u, b, status, err, body)
					return
				}
				mu.Lock()
				for _, p := range batch {
					upserted[p.ID] = p
				}
				mu.Unlock()
				seen(through+1, batch[len(batch)-1].ID, 200)
			}
		})
	}
	wg.Go(func() {
		for i := range size.deletes {
			id := fmt.Sprintf("del-%d", i)
			status, body, _, err := send(i)("DELETE", "/products/"+id, nil)
			if err != nil || status != 204 {
				fail("delete %s: status %d err %v: %s", id, status, err, body)
				return
			}
			mu.Lock()
			deleted = append(deleted, id)
			mu.Unlock()
			seen(i+1, id, 404)
		}
	})
	// Half way, replica 1 is killed and started again.
	wg.Go(func() {
		time.Sleep(time.Second)
		bases[1].Store(&reps[0].srv.URL)
		reps[1].stop()
		restart := time.Now()
		reps[1] = startReplica(t, addr, coll, cfg)
		t.Logf("replica 1 restarted in %v, with %d products", time.Since(restart).Round(time.Millisecond), reps[1].eng.Len())
		bases[1].Store(&reps[1].srv.URL)
	})
	wg.Wait()
	searching := searchEnd.Sub(start)
	require.Empty(t, failures, "every request succeeds and every write reaches the other replica within %v", replicaBound)
	require.Len(t, upserted, size.upserters*size.batches*size.batch)
	require.Len(t, deleted, size.deletes)
	t.Logf("two replicas: %d searches in %v, %.0f searches/s, while writing; search p50 %v, p99 %v; staleness p50 %v, p99 %v, max %v",
		len(searchLat), searching.Round(time.Millisecond), float64(len(searchLat))/searching.Seconds(),
		percentile(searchLat, 50), percentile(searchLat, 99), percentile(stale, 50), percentile(stale, 99), percentile(stale, 100))

	// Both replicas, once caught up, hold the same catalog: every
	// acknowledged upsert as written, no deleted product, the same count,
	// each batch found by its brand.
	want := len(demo) + len(seeded) + len(upserted) - len(deleted)
	for i := range reps {
		require.Eventually(t, func() bool { return reps[i].eng.Len() == want }, replicaBound, 20*time.Millisecond,
			"replica %d holds %d products, want %d", i, reps[i].eng.Len(), want)
		for id, p := range upserted {
			status, b, _, err := send(i)("GET", "/products/"+id, nil)
			require.NoError(t, err)
			require.Equal(t, 200, status, "replica %d: acknowledged upsert %s is missing", i, id)
			var got product
			require.NoError(t, json.Unmarshal(b, &got))
			assert.Equal(t, p, got, id)
		}
		for _, id := range deleted {
			status, _, _, err := send(i)("GET", "/products/"+id, nil)
			require.NoError(t, err)
			assert.Equal(t, 404, status, "replica %d: acknowledged delete %s is still there", i, id)
		}
		for u := range size.upserters {
			for b := range size.batches {
				brand := fmt.Sprintf("batch-%d-%d", u, b)
				ids := searchIDs(t, send(i), searchRequest{Query: "waterproof load boots", TopN: size.batch,
					Filter: []condition{{Field: "brand", Values: []string{brand}}}})
				var want []string
				for k := range size.batch {
					want = append(want, fmt.Sprintf("load-%d-%d-%d", u, b, k))
				}
				slices.Sort(want)
				assert.Equal(t, want, ids, "replica %d finds batch %s", i, brand)
			}
		}
		assert.Empty(t, searchIDs(t, send(i), searchRequest{Query: "discontinued canvas boots",
			Filter: []condition{{Field: "brand", Values: []string{"Gone"}}}}), "replica %d: deleted products are gone", i)
	}
}
