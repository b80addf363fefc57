package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/hmpps"
	"hmpps/internal/democatalog"
)

// loadSize is one size of the load test.
type loadSize struct {
	// searchers each send searches requests, one after the other.
	searchers, searches int
	// upserters each send batches PUT /products of batch new products,
	// plus a new version of one product they own.
	upserters, batches, batch int
	// deleters each delete deletes seeded products, one request each.
	deleters, deletes int
	// limit bounds the whole run.
	limit time.Duration
}

// loadSizes: small runs in make test under -race in a few seconds; large is
// make bench-service (HMPPS_SERVICE_LOAD=large).
var loadSizes = map[string]loadSize{
	"small": {searchers: 4, searches: 50, upserters: 2, batches: 10, batch: 5, deleters: 1, deletes: 30, limit: time.Minute},
	"large": {searchers: 16, searches: 500, upserters: 4, batches: 100, batch: 20, deleters: 2, deletes: 500, limit: 5 * time.Minute},
}

// loadEnv selects the size of TestLoad.
const loadEnv = "HMPPS_SERVICE_LOAD"

// TestLoad runs concurrent searchers against concurrent upserts and
// deletes over loopback, then proves nothing was lost: every acknowledged
// upsert is there (count, fetch, and found by a filtered search), every
// acknowledged delete is gone from the catalog and from the index, each
// product's last acknowledged version is the one kept, and the saved file
// reopens with the same catalog. Throughput and latency are logged, never
// asserted.
//
// It runs twice: with keys, as an exposed service runs (searchers with a
// read key, writers with a write key, each key with a search rate limit
// set high enough never to refuse, so that its cost is measured but not
// its refusals), and open, without keys, as on loopback. The two logs
// compare what authenticating costs.
func TestLoad(t *testing.T) {
	name := os.Getenv(loadEnv)
	if name == "" {
		name = "small"
	}
	size, ok := loadSizes[name]
	require.True(t, ok, "%s=%q: want small or large", loadEnv, name)
	t.Run("keys", func(t *testing.T) { runLoad(t, name, size, true) })
	t.Run("open", func(t *testing.T) { runLoad(t, name, size, false) })
}

func runLoad(t *testing.T, name string, size loadSize, keyed bool) {
	ctx, cancel := context.WithTimeout(context.Background(), size.limit)
	defer cancel()

	cfg := testConfig(t)
	cfg.MaxBatch, cfg.MaxBodyBytes = defaultMaxBatch, defaultMaxBodyBytes
	// Each role's secret; blank sends no key.
	var reader, writer string
	if keyed {
		reader, writer = readSecret, writeSecret
		require.NoError(t, cfg.Access.Keys.parseKeyList("shop-web:read:"+reader+",catalog-feed:write:"+writer))
		cfg.FairUse.SearchRate, cfg.FairUse.SearchBurst = 1e6, 1e6
	}
	eng, err := hmpps.New()
	require.NoError(t, err)
	defer eng.Close()
	demo := democatalog.Products()
	require.NoError(t, eng.Upsert(ctx, demo...))
	// Products the deleters remove, and products each upserter owns and
	// keeps replacing with a new version.
	var seeded []hmpps.Product
	for d := range size.deleters {
		for i := range size.deletes {
			seeded = append(seeded, hmpps.Product{ID: fmt.Sprintf("del-%d-%d", d, i), Title: "Discontinued canvas boots", Brand: "Gone"})
		}
	}
	for u := range size.upserters {
		seeded = append(seeded, hmpps.Product{ID: fmt.Sprintf("own-%d", u), Title: "Owned boots version 0", Brand: "Owned"})
	}
	require.NoError(t, eng.Upsert(ctx, seeded...))

	srv := httptest.NewServer(newServer(eng, cfg, slog.New(slog.DiscardHandler)))
	defer srv.Close()
	workers := size.searchers + size.upserters + size.deleters
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	defer client.CloseIdleConnections()

	var (
		mu                sync.Mutex
		searchLat, upsLat []time.Duration
		upserted          = map[string]product{} // acknowledged
		deleted           []string               // acknowledged
		lastVersion       = map[string]string{}  // own-* ID: last acknowledged title
		failures          []string
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		failures = append(failures, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	sendAs := func(secret string) sender {
		return func(method, path string, body any) (int, []byte, time.Duration, error) {
			return sendWith(ctx, client, srv.URL, secret, method, path, body)
		}
	}
	search, write := sendAs(reader), sendAs(writer)

	shoppers := democatalog.Shoppers()
	queries := []string{democatalog.DefaultQuery, "leather boots", "trail running shoes", "waterproof jacket", "coffee grinder"}
	var wg sync.WaitGroup
	start, startCPU := time.Now(), processCPU()
	for s := range size.searchers {
		wg.Go(func() {
			for i := range size.searches {
				req := searchRequest{Query: queries[(s+i)%len(queries)], HistoryIDs: shoppers[i%2].HistoryIDs, TopN: 10, ExcludeHistory: true}
				if i%3 == 0 {
					req.Filter = []condition{{Field: "category", Op: "prefix", Values: []string{"Footwear"}}}
				}
				status, b, took, err := search("POST", "/search", req)
				if err != nil || status != 200 {
					fail("search %d/%d: status %d err %v: %s", s, i, status, err, b)
					return
				}
				mu.Lock()
				searchLat = append(searchLat, took)
				mu.Unlock()
			}
		})
	}
	for u := range size.upserters {
		wg.Go(func() {
			for b := range size.batches {
				var batch []product
				for i := range size.batch {
					im := demo[(u+b+i)%len(demo)].Images
					batch = append(batch, product{ID: fmt.Sprintf("load-%d-%d-%d", u, b, i),
						Title: fmt.Sprintf("Load boots %d %d %d", u, b, i), Brand: fmt.Sprintf("batch-%d-%d", u, b),
						Category: []string{"Footwear", "Boots", "Load"}, Description: "Waterproof boots written by the load test.",
						Images: []image{{Data: im[0].Data}}})
				}
				own := product{ID: fmt.Sprintf("own-%d", u), Title: fmt.Sprintf("Owned boots version %d", b+1), Brand: "Owned"}
				batch = append(batch, own)
				status, body, took, err := write("PUT", "/products", upsertRequest{Products: batch})
				if err != nil || status != 200 {
					fail("upsert %d/%d: status %d err %v: %s", u, b, status, err, body)
					return
				}
				mu.Lock()
				upsLat = append(upsLat, took)
				for _, p := range batch[:len(batch)-1] {
					upserted[p.ID] = p
				}
				lastVersion[own.ID] = own.Title
				mu.Unlock()
			}
		})
	}
	for d := range size.deleters {
		wg.Go(func() {
			for i := range size.deletes {
				id := fmt.Sprintf("del-%d-%d", d, i)
				status, body, _, err := write("DELETE", "/products/"+id, nil)
				if err != nil || status != 204 {
					fail("delete %s: status %d err %v: %s", id, status, err, body)
					return
				}
				mu.Lock()
				deleted = append(deleted, id)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	elapsed, cpu := time.Since(start), processCPU()-startCPU
	require.Empty(t, failures, "every request must succeed")

	requests := len(searchLat) + len(upsLat) + len(deleted)
	mode := "open"
	if keyed {
		mode = "keys"
	}
	t.Logf("load %s, %s: %d searchers x %d searches, %d upserters x %d batches of %d (+1 replaced), %d deleters x %d deletes, in %v",
		name, mode, size.searchers, size.searches, size.upserters, size.batches, size.batch, size.deleters, size.deletes, elapsed.Round(time.Millisecond))
	t.Logf("throughput: %.0f searches/s, %.0f requests/s in all", float64(len(searchLat))/elapsed.Seconds(), float64(requests)/elapsed.Seconds())
	if cpu > 0 {
		// Server and clients share the process; on a shared machine the
		// CPU time per request varies far less than the wall time.
		t.Logf("process CPU: %v, %v per request", cpu.Round(time.Millisecond), (cpu / time.Duration(requests)).Round(time.Microsecond))
	}
	t.Logf("search latency: p50 %v, p99 %v, max %v", percentile(searchLat, 50), percentile(searchLat, 99), percentile(searchLat, 100))
	t.Logf("upsert batch latency: p50 %v, p99 %v; catalog grew from %d to %d products",
		percentile(upsLat, 50), percentile(upsLat, 99), len(demo)+len(seeded), eng.Len())

	// Counts: the demo, the seeds, every acknowledged upsert, less every
	// acknowledged delete.
	want := len(demo) + len(seeded) + len(upserted) - len(deleted)
	require.Len(t, upserted, size.upserters*size.batches*size.batch)
	require.Len(t, deleted, size.deleters*size.deletes)
	assert.Equal(t, want, eng.Len())
	status, b, _, err := search("GET", "/healthz", nil)
	require.NoError(t, err)
	require.Equal(t, 200, status)
	assert.JSONEq(t, fmt.Sprintf(`{"status":"ok","products":%d}`, want), string(b))

	// Every acknowledged upsert can be fetched, as written.
	for id, p := range upserted {
		status, b, _, err := search("GET", "/products/"+id, nil)
		require.NoError(t, err)
		require.Equal(t, 200, status, "acknowledged upsert %s is missing", id)
		var got product
		require.NoError(t, json.Unmarshal(b, &got))
		assert.Equal(t, p, got, id)
	}
	for id, title := range lastVersion {
		got, err := eng.Get(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, title, got.Title, "%s keeps its last acknowledged version", id)
	}
	for _, id := range deleted {
		status, _, _, err := search("GET", "/products/"+id, nil)
		require.NoError(t, err)
		assert.Equal(t, 404, status, "acknowledged delete %s is still there", id)
	}
	// The index agrees with the catalog: a search restricted to a batch's
	// brand finds exactly that batch, and deleted products are not found.
	for u := range size.upserters {
		for b := 0; b < size.batches; b += max(1, size.batches/10) {
			brand := fmt.Sprintf("batch-%d-%d", u, b)
			ids := searchIDs(t, search, searchRequest{Query: "waterproof load boots", TopN: size.batch,
				Filter: []condition{{Field: "brand", Values: []string{brand}}}})
			var want []string
			for i := range size.batch {
				want = append(want, fmt.Sprintf("load-%d-%d-%d", u, b, i))
			}
			slices.Sort(want)
			assert.Equal(t, want, ids, "the index holds batch %s", brand)
		}
	}
	assert.Empty(t, searchIDs(t, search, searchRequest{Query: "discontinued canvas boots",
		Filter: []condition{{Field: "brand", Values: []string{"Gone"}}}}), "deleted products are gone from the index")

	// The saved file reopens with the same catalog, product for product,
	// and answers a search the same way.
	path := filepath.Join(t.TempDir(), "catalog.hmpps")
	require.NoError(t, eng.Save(ctx, path))
	reopened, err := hmpps.Open(ctx, path)
	require.NoError(t, err)
	defer reopened.Close()
	require.Equal(t, eng.Len(), reopened.Len())
	ids := slices.Concat(collectIDs(demo), collectIDs(seeded), slices.Collect(func(yield func(string) bool) {
		for id := range upserted {
			if !yield(id) {
				return
			}
		}
	}))
	for _, id := range ids {
		a, errA := eng.Get(ctx, id)
		b, errB := reopened.Get(ctx, id)
		require.Equal(t, errA == nil, errB == nil, id)
		assert.Equal(t, a, b, id)
	}
	req := hmpps.Request{Query: democatalog.DefaultQuery, HistoryIDs: shoppers[0].HistoryIDs, TopN: 20}
	r1, err := eng.Search(ctx, req)
	require.NoError(t, err)
	r2, err := reopened.Search(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, resultIDs(r1), resultIDs(r2))
}

type sender func(method, path string, body any) (int, []byte, time.Duration, error)

// sendWith sends body as JSON to base+path with client, with an
// Authorization: Bearer header unless secret is blank, and returns the
// status, the answer and how long it took.
func sendWith(ctx context.Context, client *http.Client, base, secret, method, path string, body any) (int, []byte, time.Duration, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
	if err != nil {
		return 0, nil, 0, err
	}
	if secret != "" {
		req.Header.Set("Authorization", "Bearer "+secret)
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, time.Since(start), err
}

// searchIDs returns the sorted IDs a search answers.
func searchIDs(t *testing.T, send sender, req searchRequest) []string {
	t.Helper()
	status, b, _, err := send("POST", "/search", req)
	require.NoError(t, err)
	require.Equal(t, 200, status, "%s", b)
	var r searchResponse
	require.NoError(t, json.Unmarshal(b, &r))
	var ids []string
	for _, res := range r.Results {
		ids = append(ids, res.ID)
	}
	slices.Sort(ids)
	return ids
}

func collectIDs(ps []hmpps.Product) []string {
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = p.ID
	}
	return ids
}

func resultIDs(r *hmpps.Response) []string {
	ids := make([]string, len(r.Results))
	for i, res := range r.Results {
		ids[i] = res.ID
	}
	return ids
}

// percentile returns the p-th percentile of ds (nearest rank); 100 is the
// maximum.
func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p+99)/100 - 1
	return s[min(max(i, 0), len(s)-1)]
}
