package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/hmpps"
	"hmpps/rerank"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// serveWith serves the demo catalog through s's handler after setup has
// changed it.
func serveWith(t *testing.T, cfg config, setup func(*server), opts ...hmpps.Option) *httptest.Server {
	t.Helper()
	eng := openDemo(t, opts...)
	s := newServer(eng, cfg, slog.New(slog.DiscardHandler))
	if setup != nil {
		setup(s)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(func() {
		srv.Close()
		require.NoError(t, eng.Close())
	})
	return srv
}

// Each key has its own bucket of searches: a key over its rate is told
// 429 and when to come back, while other keys and other endpoints are
// served; time refills the bucket. The clock is fake, so nothing sleeps.
func TestSearchRateLimit(t *testing.T) {
	cfg := keyedConfig(t)
	require.NoError(t, cfg.Access.Keys.parseKeyList("reader2:read:"+strings.Repeat("2", 20)))
	cfg.FairUse.SearchRate, cfg.FairUse.SearchBurst = 2, 3
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	srv := serveWith(t, cfg, func(s *server) { s.rates.now = clock.Now })
	search := func(secret string) (int, string, string) {
		status, header, b := callAs(t, srv, secret, "POST", "/search", `{"query":"boots","top_n":1}`)
		code := ""
		if status != 200 {
			code = errorCode(t, b)
		}
		return status, code, header.Get("Retry-After")
	}

	for i := range 3 {
		status, _, _ := search(readSecret)
		require.Equal(t, 200, status, "search %d is within the burst", i)
	}
	status, code, retry := search(readSecret)
	require.Equal(t, 429, status)
	assert.Equal(t, "rate_limited", code)
	assert.Equal(t, "1", retry, "one search comes back in half a second: Retry-After rounds up to 1")
	// A malformed search counts too, and is refused before it is read.
	status, _, _ = callAs(t, srv, readSecret, "POST", "/search", `{"query":`)
	assert.Equal(t, 429, status)

	status, _, _ = search(strings.Repeat("2", 20))
	assert.Equal(t, 200, status, "another key has its own bucket")
	status, _, _ = callAs(t, srv, readSecret, "GET", "/products/boot-01", "")
	assert.Equal(t, 200, status, "only searches are rate limited")

	clock.Advance(499 * time.Millisecond)
	status, _, _ = search(readSecret)
	assert.Equal(t, 429, status, "not yet a whole search")
	clock.Advance(time.Millisecond)
	status, _, _ = search(readSecret)
	assert.Equal(t, 200, status, "half a second refills one search")
	status, _, _ = search(readSecret)
	assert.Equal(t, 429, status)

	clock.Advance(time.Hour)
	for i := range 3 {
		status, _, _ := search(readSecret)
		require.Equal(t, 200, status, "a full bucket holds the burst, no more: search %d", i)
	}
	status, _, _ = search(readSecret)
	assert.Equal(t, 429, status)

	_, _, body := callAs(t, srv, adminSecret, "GET", "/metrics", "")
	fams, err := parseExposition(string(body))
	require.NoError(t, err)
	assert.Equal(t, 5.0, find(t, fams, "hmpps_http_rejections_total", map[string]string{"reason": "rate_limited", "key": "reader"}))
}

// A slow rate says so in Retry-After; without keys, every caller shares
// the anonymous bucket.
func TestSearchRateRetryAfter(t *testing.T) {
	cfg := testConfig(t)
	cfg.FairUse.SearchRate = 0.1 // one search every ten seconds
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	srv := serveWith(t, cfg, func(s *server) { s.rates.now = clock.Now })
	status, _, _ := call(t, srv, "POST", "/search", `{"query":"boots"}`)
	require.Equal(t, 200, status)
	clock.Advance(2500 * time.Millisecond)
	status, header, b := call(t, srv, "POST", "/search", `{"query":"boots"}`)
	require.Equal(t, 429, status)
	assert.Equal(t, "8", header.Get("Retry-After"), "7.5 s to go, rounded up")
	assert.Contains(t, string(b), `key \"anonymous\" may search 0.1 times a second`)
}

// blockingReranker holds the first search inside the engine until release
// is closed, and tells entered when it is there.
type blockingReranker struct {
	once             sync.Once
	entered, release chan struct{}
}

func (b *blockingReranker) Rerank(ctx context.Context, req rerank.Request) (rerank.Result, error) {
	first := false
	b.once.Do(func() { first = true })
	if first {
		close(b.entered)
		select {
		case <-b.release:
		case <-ctx.Done():
			return rerank.Result{}, ctx.Err()
		}
	}
	return rerank.Preference{}.Rerank(ctx, req)
}

// With one search running and one place in the queue, a third search is
// refused at once, a queued one is refused when its wait runs out (503
// with Retry-After), and a queued one that gets its turn is served. The
// wait's timer is fired by the test, so nothing sleeps.
func TestSearchQueue(t *testing.T) {
	cfg := keyedConfig(t)
	cfg.FairUse.MaxSearches, cfg.FairUse.SearchQueue, cfg.FairUse.SearchQueueWait = 1, 1, 7*time.Second
	rr := &blockingReranker{entered: make(chan struct{}), release: make(chan struct{})}
	var g *gate
	// Each wait in the queue announces itself with the channel that ends
	// it.
	waits := make(chan chan time.Time, 4)
	srv := serveWith(t, cfg, func(s *server) {
		g = s.gate
		s.gate.timer = func(d time.Duration) (<-chan time.Time, func()) {
			assert.Equal(t, 7*time.Second, d)
			c := make(chan time.Time, 1)
			waits <- c
			return c, func() {}
		}
	}, hmpps.WithReranker(rr))

	type answer struct {
		status int
		code   string
		retry  string
	}
	search := func() <-chan answer {
		out := make(chan answer, 1)
		go func() {
			status, header, b := callAs(t, srv, readSecret, "POST", "/search", `{"query":"waterproof boots","top_n":2}`)
			a := answer{status: status, retry: header.Get("Retry-After")}
			if status != 200 {
				var e errorBody
				_ = json.Unmarshal(b, &e)
				a.code = e.Error.Code
			}
			out <- a
		}()
		return out
	}

	first := search()
	<-rr.entered // the first search holds the only place
	second := search()
	secondWait := <-waits // the second waits in the queue
	running, waiting := g.load()
	assert.Equal(t, [2]int{1, 1}, [2]int{running, waiting})

	third := <-search()
	assert.Equal(t, answer{503, "busy", "7"}, third, "the queue is full: refused at once")

	secondWait <- time.Now() // the second's wait runs out
	assert.Equal(t, answer{503, "busy", "7"}, <-second)

	fourth := search()
	<-waits // the fourth waits in the queue
	close(rr.release)
	assert.Equal(t, 200, (<-first).status)
	assert.Equal(t, 200, (<-fourth).status, "the queued search got its turn")
	running, waiting = g.load()
	assert.Equal(t, [2]int{0, 0}, [2]int{running, waiting}, "every place was given back")

	_, _, body := callAs(t, srv, adminSecret, "GET", "/metrics", "")
	fams, err := parseExposition(string(body))
	require.NoError(t, err)
	assert.Equal(t, 2.0, find(t, fams, "hmpps_http_rejections_total", map[string]string{"reason": "busy", "key": "reader"}))
}

// A search that leaves the queue because its client gave up gives its
// place back.
func TestGateCancel(t *testing.T) {
	g := newGate(fairUseConfig{MaxSearches: 1, SearchQueue: 1, SearchQueueWait: time.Hour})
	require.NoError(t, g.enter(context.Background()))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.enter(ctx) }()
	require.Eventually(t, func() bool { _, w := g.load(); return w == 1 }, 10*time.Second, time.Millisecond)
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled)
	running, waiting := g.load()
	assert.Equal(t, [2]int{1, 0}, [2]int{running, waiting})
	g.leave()
	require.NoError(t, g.enter(context.Background()), "the place is free again")
	g.leave()
}

// The service's bounds on a search's filter and on its ad-hoc history.
func TestSearchBounds(t *testing.T) {
	cfg := testConfig(t)
	cfg.FairUse.MaxFilterClauses, cfg.FairUse.MaxFilterValues, cfg.FairUse.MaxHistoryText = 3, 5, 100
	srv, _ := newTestServer(t, cfg)
	clause := func(field string, values ...string) condition { return condition{Field: field, Values: values} }
	hist := func(title string) product { return product{ID: "h1", Title: title} }
	tests := []struct {
		name   string
		req    searchRequest
		status int
		code   string
	}{
		{"filter at the bounds", searchRequest{Filter: []condition{clause("brand", "Ashcombe", "Thornbury"), clause("color", "olive", "brown"), clause("material", "leather")}}, 200, ""},
		{"too many conditions", searchRequest{Filter: []condition{clause("brand", "a"), clause("color", "b"), clause("material", "c"), clause("sole", "d")}}, 400, "over_limit"},
		{"too many values", searchRequest{Filter: []condition{clause("brand", "a", "b", "c"), clause("color", "d", "e", "f")}}, 400, "over_limit"},
		{"history text at the bound", searchRequest{History: []product{hist(strings.Repeat("boot ", 19) + "boo")}}, 200, ""},
		{"history text over the bound", searchRequest{History: []product{hist(strings.Repeat("boot ", 20))}}, 413, "too_large"},
		{"history text in attributes", searchRequest{History: []product{{ID: "h1", Title: "boots", Attributes: map[string]string{"note": strings.Repeat("x", 95)}}}}, 413, "too_large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.Query = "boots"
			status, _, b := call(t, srv, "POST", "/search", mustJSON(t, tt.req))
			require.Equal(t, tt.status, status, "%s", b)
			if tt.code != "" {
				assert.Equal(t, tt.code, errorCode(t, b))
				assert.Contains(t, string(b), "(-max-")
			}
		})
	}
	assert.Equal(t, 100, hist(strings.Repeat("boot ", 19)+"boo").textBytes())
}

// A rate so slow that the wait overflows a Duration waits a day instead,
// and a rate so fast that its second's worth overflows an int is capped.
func TestSearchRateExtremes(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var k keyring
	slow := newSearchRates(fairUseConfig{SearchRate: 1e-30}, &k, func() time.Time { return now })
	_, err := slow.take(anonymous)
	require.NoError(t, err)
	wait, err := slow.take(anonymous)
	require.ErrorIs(t, err, errRateLimited)
	assert.Equal(t, 24*time.Hour, wait)
	fast := newSearchRates(fairUseConfig{SearchRate: 1e30}, &k, func() time.Time { return now })
	assert.Equal(t, math.MaxInt32, fast.bucket[anonymous].Burst())
	_, err = fast.take("stranger")
	assert.ErrorIs(t, err, errRateLimited, "a name without a bucket is refused, not let through")
}

func TestRetryAfter(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "1", time.Millisecond: "1", time.Second: "1", 1001 * time.Millisecond: "2", 5 * time.Second: "5"} {
		assert.Equal(t, want, retryAfter(d), fmt.Sprint(d))
	}
}
