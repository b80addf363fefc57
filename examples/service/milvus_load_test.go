package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/internal/democatalog"
	"hmpps/internal/milvustest"
	"hmpps/internal/procmem"
	"hmpps/retrieval"
	"hmpps/retrieval/milvus"
)

// replicaBound is how long an acknowledged write may take to reach the
// other replica in TestMilvusLoadReplicas: the refresh (1s), a read of
// the changes and a request, with room for a loaded machine.
const replicaBound = 5 * time.Second

// replicaStartLimit bounds a replica process's start, from exec to its
// first answer on /healthz.
const replicaStartLimit = time.Minute

// TestMilvusLoadReplicas is the load test of TestLoad on two replicas of
// the service, each its own operating system process built from this
// command and started with -milvus-catalog on one collection of a real
// Milvus, with nothing shared but the collection: searchers on both,
// upserts and deletes through either, each acknowledged write polled on
// the other replica until it shows there (the staleness, which must stay
// within replicaBound). Once a third of the writes are acknowledged,
// replica 1 is killed with SIGKILL, its traffic going to replica 0 as a
// load balancer would send it, and started again on the same port; the
// requests it had in flight are sent again to replica 0. At the end both
// replicas hold every acknowledged upsert in its last version, none of the
// deleted products, the same count, find each batch by a filtered search,
// and rank the demo shoppers' searches alike.
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
	bin := buildService(t)
	size := loadSizes["small"]
	ctx, cancel := context.WithTimeout(context.Background(), 3*size.limit)
	defer cancel()

	var bases [2]string
	var procs [2]*process
	// launch starts replica i on its port and returns how long it took
	// to answer.
	launch := func(i int) (time.Duration, error) {
		p, took, err := startProcess(bin, bases[i], replicaStartLimit, "-addr", strings.TrimPrefix(bases[i], "http://"),
			"-milvus-addr", addr, "-milvus-collection", coll, "-milvus-catalog", "-log-level", "warn")
		if err == nil {
			procs[i] = p
		}
		return took, err
	}
	for i := range bases {
		bases[i] = fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	}
	t.Cleanup(func() {
		for i, p := range procs {
			if p == nil {
				continue
			}
			select {
			case <-p.exited:
				continue
			default:
			}
			if err := p.stop(30 * time.Second); err != nil {
				t.Errorf("replica %d did not shut down cleanly: %v\n%s", i, err, p.log)
			}
		}
	})

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	defer client.CloseIdleConnections()
	// Replica 0 fills the empty collection with the demo catalog; the
	// products to delete are written through it.
	_, err := launch(0)
	require.NoError(t, err)
	demo := democatalog.Products()
	var seeded []product
	for i := range size.deletes {
		seeded = append(seeded, product{ID: fmt.Sprintf("del-%d", i), Title: "Discontinued canvas boots", Brand: "Gone"})
	}
	for batch := range slices.Chunk(seeded, defaultMaxBatch) {
		status, b, _, err := sendWith(ctx, client, bases[0], "", "PUT", "/products", upsertRequest{Products: batch})
		require.NoError(t, err)
		require.Equal(t, 200, status, "%s", b)
	}
	_, err = launch(1)
	require.NoError(t, err)
	n0, err := healthz(ctx, client, bases[0])
	require.NoError(t, err)
	n1, err := healthz(ctx, client, bases[1])
	require.NoError(t, err)
	require.Equal(t, len(demo)+len(seeded), n0)
	require.Equal(t, n0, n1, "the second replica opens on what the first wrote")

	// routes[i] is where traffic for replica i goes: replica 0 while
	// replica 1 is down.
	var routes [2]atomic.Pointer[string]
	for i := range bases {
		routes[i].Store(&bases[i])
	}
	// back is set once replica 1 is serving again after its restart, and
	// served counts the requests it answered since.
	var back atomic.Bool
	var served atomic.Int64
	send := func(i int) sender {
		return func(method, path string, body any) (int, []byte, time.Duration, error) {
			base := routes[i%2].Load()
			status, b, took, err := sendWith(ctx, client, *base, "", method, path, body)
			if err != nil {
				// The replica went down under this request: sent again, as
				// a load balancer would, to where its traffic goes now
				// (every request here is idempotent).
				base = routes[i%2].Load()
				status, b, took, err = sendWith(ctx, client, *base, "", method, path, body)
			}
			if err == nil && base == &bases[1] && back.Load() {
				served.Add(1)
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
	// Replica 1 is killed once a third of the writes are acknowledged.
	writes := size.upserters*size.batches + size.deletes
	var acked atomic.Int64
	killNow := make(chan struct{})
	ack := func() {
		if acked.Add(1) == int64(writes/3) {
			close(killNow)
		}
	}

	shoppers := democatalog.Shoppers()
	queries := []string{democatalog.DefaultQuery, "leather boots", "trail running shoes", "waterproof jacket"}
	// The searchers go on until the writers are done, so that searches
	// run across the kill and the restart.
	var wg, writers sync.WaitGroup
	var written atomic.Bool
	begin := time.Now()
	for s := range size.searchers {
		wg.Go(func() {
			for i := 0; i < size.searches || !written.Load(); i++ {
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
		writers.Go(func() {
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
				ack()
				seen(through+1, batch[len(batch)-1].ID, 200)
			}
		})
	}
	writers.Go(func() {
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
			ack()
			seen(i+1, id, 404)
		}
	})
	var (
		restarted        time.Duration
		killedAt, backAt int64
		killer           sync.WaitGroup
		worked           = make(chan struct{})
	)
	killer.Go(func() {
		select {
		case <-killNow:
		case <-worked: // the writes failed before a third was acknowledged
			return
		}
		routes[1].Store(&bases[0])
		procs[1].kill()
		killedAt = acked.Load()
		var err error
		if restarted, err = launch(1); err != nil {
			fail("restart replica 1: %v", err)
			return
		}
		back.Store(true)
		routes[1].Store(&bases[1])
		backAt = acked.Load()
	})
	writers.Wait()
	written.Store(true)
	wg.Wait()
	close(worked)
	killer.Wait()
	searching := searchEnd.Sub(begin)
	require.Empty(t, failures, "every request succeeds and every write reaches the other replica within %v", replicaBound)
	require.NotZero(t, restarted, "replica 1 was killed and started again")
	require.NotZero(t, served.Load(), "the restarted replica served requests of the run")
	require.Len(t, upserted, size.upserters*size.batches*size.batch)
	require.Len(t, deleted, size.deletes)
	t.Logf("two replica processes: %d searches in %v, %.0f searches/s, while writing; search p50 %v, p99 %v; staleness p50 %v, p99 %v, max %v",
		len(searchLat), searching.Round(time.Millisecond), float64(len(searchLat))/searching.Seconds(),
		percentile(searchLat, 50), percentile(searchLat, 99), percentile(stale, 50), percentile(stale, 99), percentile(stale, 100))
	t.Logf("replica 1 killed (SIGKILL) after %d of %d writes were acknowledged, serving again %v after its start, %d writes later; it then answered %d requests of the run",
		killedAt, writes, restarted.Round(time.Millisecond), backAt-killedAt, served.Load())

	// Both replicas, once caught up, hold the same catalog: every
	// acknowledged upsert as written, no deleted product, the same count,
	// each batch found by its brand, and the same ranking of each search.
	want := len(demo) + len(seeded) + len(upserted) - len(deleted)
	for i := range bases {
		require.Eventually(t, func() bool {
			n, err := healthz(ctx, client, bases[i])
			return err == nil && n == want
		}, replicaBound, 20*time.Millisecond, "replica %d holds the catalog's %d products", i, want)
		send := func(method, path string, body any) (int, []byte, time.Duration, error) {
			return sendWith(ctx, client, bases[i], "", method, path, body)
		}
		for id, p := range upserted {
			status, b, _, err := send("GET", "/products/"+id, nil)
			require.NoError(t, err)
			require.Equal(t, 200, status, "replica %d: acknowledged upsert %s is missing", i, id)
			var got product
			require.NoError(t, json.Unmarshal(b, &got))
			assert.Equal(t, p, got, id)
		}
		for _, id := range deleted {
			status, _, _, err := send("GET", "/products/"+id, nil)
			require.NoError(t, err)
			assert.Equal(t, 404, status, "replica %d: acknowledged delete %s is still there", i, id)
		}
		for u := range size.upserters {
			for b := range size.batches {
				brand := fmt.Sprintf("batch-%d-%d", u, b)
				ids := searchIDs(t, send, searchRequest{Query: "waterproof load boots", TopN: size.batch,
					Filter: []condition{{Field: "brand", Values: []string{brand}}}})
				var want []string
				for k := range size.batch {
					want = append(want, fmt.Sprintf("load-%d-%d-%d", u, b, k))
				}
				slices.Sort(want)
				assert.Equal(t, want, ids, "replica %d finds batch %s", i, brand)
			}
		}
		assert.Empty(t, searchIDs(t, send, searchRequest{Query: "discontinued canvas boots",
			Filter: []condition{{Field: "brand", Values: []string{"Gone"}}}}), "replica %d: deleted products are gone", i)
	}
	for _, q := range queries {
		for _, s := range shoppers {
			req := searchRequest{Query: q, HistoryIDs: s.HistoryIDs, TopN: 10, ExcludeHistory: true}
			assert.Equal(t, ranking(t, ctx, client, bases[0], req), ranking(t, ctx, client, bases[1], req),
				"both replicas rank %q for %s alike", q, s.Name)
		}
	}
	for i, p := range procs {
		if rss, ok := procmem.Resident(p.cmd.Process.Pid); ok {
			t.Logf("replica %d: resident memory %.1f MiB", i, float64(rss)/(1<<20))
		}
	}
}

// ranking returns the IDs of req's results at base, best first.
func ranking(t *testing.T, ctx context.Context, client *http.Client, base string, req searchRequest) []string {
	t.Helper()
	status, b, _, err := sendWith(ctx, client, base, "", "POST", "/search", req)
	require.NoError(t, err)
	require.Equal(t, 200, status, "%s", b)
	var r searchResponse
	require.NoError(t, json.Unmarshal(b, &r))
	ids := make([]string, len(r.Results))
	for i, res := range r.Results {
		ids[i] = res.ID
	}
	return ids
}
