package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/hmpps"
	"hmpps/internal/democatalog"
)

// faultLog keeps the error records of a logger: the service logs a
// handler's panic, and every server fault, at error level.
type faultLog struct {
	mu      sync.Mutex
	records []string
}

func (h *faultLog) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelError }
func (h *faultLog) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	h.mu.Lock()
	h.records = append(h.records, b.String())
	h.mu.Unlock()
	return nil
}
func (h *faultLog) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *faultLog) WithGroup(string) slog.Handler      { return h }

func (h *faultLog) take() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.records
	h.records = nil
	return r
}

// rawRequest reads the request a client sending these parts would make,
// or returns nil when net/http would not hand it to a handler at all. The
// body's length is the service's to frame, so that one input is one
// request.
func rawRequest(method, target, headers string, body []byte) *http.Request {
	if strings.ContainsAny(method+target, "\r\n") {
		return nil
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: shop.example\r\n", method, target)
	for line := range strings.SplitSeq(headers, "\n") {
		line = strings.TrimSuffix(line, "\r")
		name, _, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "content-length", "transfer-encoding", "host":
			continue
		}
		b.WriteString(line + "\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n", len(body))
	b.Write(body)
	req, err := http.ReadRequest(bufio.NewReader(&b))
	if err != nil {
		return nil
	}
	return req
}

// catalogState is what the catalog holds: every product the test knows of,
// as Get returns it, and the count, so that a product the test does not
// know of shows too.
type catalogState struct {
	n        int
	products map[string]hmpps.Product
}

func stateOf(t testing.TB, eng *hmpps.Engine, ids map[string]bool) catalogState {
	t.Helper()
	s := catalogState{n: eng.Len(), products: map[string]hmpps.Product{}}
	for id := range ids {
		p, err := eng.Get(context.Background(), id)
		if err == nil {
			s.products[id] = p
		}
	}
	return s
}

// FuzzHTTP sends the service any method, path, headers and body, with or
// without a key of each role, and asserts that it never panics or faults
// (no 5xx, nothing logged as an error), that every refusal is a 4xx with a
// JSON error body, and that the catalog changes only when a PUT or DELETE
// succeeds: a refused request leaves it as it was, product for product.
func FuzzHTTP(f *testing.F) {
	auth := func(secret string) string { return "Authorization: Bearer " + secret }
	seeds := []struct {
		method, target, headers, body string
	}{
		{"GET", "/healthz", "", ""},
		{"GET", "/products/boot-01", auth(readSecret), ""},
		{"GET", "/products/B00%2F123", auth(readSecret), ""},
		{"POST", "/search", auth(readSecret) + "\nContent-Type: application/json",
			`{"query":"waterproof boots","history_ids":["shoe-01"],"filter":[{"field":"category","op":"prefix","values":["Footwear"]}],"top_n":3}`},
		{"POST", "/search", auth(readSecret), `{"query":"boots","history":[{"id":"h","title":"shoe","attributes":{"color":"red"}}],"candidate_ids":["boot-01"]}`},
		{"POST", "/search", auth(readSecret), `{"query":"boots","query":"socks"}`},
		{"POST", "/search", auth(readSecret), `{"Query":"boots"}`},
		{"POST", "/search", auth(readSecret), `{"query":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}`},
		{"PUT", "/products", auth(writeSecret), `{"products":[{"id":"f1","title":"Fuzzed boots","brand":"Fuzz","category":["Footwear"],"attributes":{"color":"red"}}]}`},
		{"PUT", "/products", auth(writeSecret), `{"products":[{"id":"boot-01","title":"Replaced boots"},{"id":"boot-01","title":"Twice"}]}`},
		{"PUT", "/products", auth(readSecret), `{"products":[{"id":"boot-01","title":"Not yours to write"}]}`},
		{"PUT", "/products", auth(writeSecret), `{"products":[{"id":"boot-01","title":"A","images":[{"uri":"/etc/passwd"}]}]}`},
		{"DELETE", "/products/boot-02", auth(writeSecret), ""},
		{"DELETE", "/products/boot-02", auth(readSecret), ""},
		{"DELETE", "/products/boot-03", auth(wrongSecret), ""},
		{"DELETE", "/products/boot-03", "Authorization: Basic " + writeSecret, ""},
		{"DELETE", "/products/boot-03", auth(readSecret) + "\n" + auth(writeSecret), ""},
		{"GET", "/metrics", auth(adminSecret), ""},
		{"POST", "/save", auth(adminSecret), ""},
		{"PATCH", "/products", auth(writeSecret), "{}"},
		{"GET", "/products/../healthz", "", ""},
		{"OPTIONS", "*", "", ""},
	}
	for _, s := range seeds {
		f.Add(s.method, s.target, s.headers, []byte(s.body))
	}

	cfg := keyedConfig(f)
	cfg.FairUse.SearchRate, cfg.FairUse.SearchBurst = 50, 5
	faults := &faultLog{}
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	demoIDs := collectIDs(democatalog.Products())
	var (
		eng   *hmpps.Engine
		h     *server
		known map[string]bool
		state catalogState
	)
	reset := func(t testing.TB) {
		if eng != nil {
			require.NoError(t, eng.Close())
		}
		eng = openDemo(t)
		h = newServer(eng, cfg, slog.New(faults))
		h.rates.now = clock.Now
		known = map[string]bool{}
		for _, id := range demoIDs {
			known[id] = true
		}
		state = stateOf(t, eng, known)
		require.Len(t, state.products, state.n, "the test knows every product")
	}
	reset(f)
	f.Cleanup(func() { eng.Close() })

	f.Fuzz(func(t *testing.T, method, target, headers string, body []byte) {
		req := rawRequest(method, target, headers, body)
		if req == nil {
			return
		}
		if len(known) > 300 {
			reset(t) // keep each input's check cheap
		}
		clock.Advance(10 * time.Millisecond)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)

		if logged := faults.take(); len(logged) > 0 {
			t.Fatalf("%s %q answered %d and logged a fault: %s", method, target, rec.Code, logged)
		}
		if rec.Code >= 500 {
			t.Fatalf("%s %q: server fault %d: %s", method, target, rec.Code, rec.Body)
		}
		if rec.Code >= 400 {
			var e errorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
				t.Fatalf("%s %q: %d without a JSON error: %s", method, target, rec.Code, rec.Body)
			}
		}
		wrote := rec.Code < 300 && (req.Method == "PUT" || req.Method == "DELETE")
		if !wrote {
			if now := stateOf(t, eng, known); !reflect.DeepEqual(state, now) {
				t.Fatalf("%s %q answered %d and changed the catalog", method, target, rec.Code)
			}
			return
		}
		// An acknowledged write: learn the products it named.
		var up upsertRequest
		if json.Unmarshal(body, &up) == nil {
			for _, p := range up.Products {
				known[p.ID] = true
			}
		}
		state = stateOf(t, eng, known)
	})
}

// serveHTTP serves h on loopback through the http.Server main runs, with
// cfg's timeouts and limits.
func serveHTTP(t *testing.T, cfg config, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config = newHTTPServer(cfg, h, slog.New(slog.DiscardHandler))
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// trickle writes chunk to conn every interval until a write fails or stop
// is closed.
func trickle(conn net.Conn, chunk string, interval time.Duration, stop <-chan struct{}) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			if _, err := io.WriteString(conn, chunk); err != nil {
				return
			}
		}
	}
}

// A client that sends its request a few bytes at a time, forever, is cut
// off by the server's timeouts: after -read-header-timeout while it
// trickles its headers (slowloris), after -read-timeout while it trickles
// its body.
func TestSlowClients(t *testing.T) {
	cfg := testConfig(t)
	cfg.HTTP.ReadHeaderTimeout, cfg.HTTP.ReadTimeout = 300*time.Millisecond, 600*time.Millisecond
	eng := openDemo(t)
	t.Cleanup(func() { eng.Close() })
	srv := serveHTTP(t, cfg, newServer(eng, cfg, slog.New(slog.DiscardHandler)))
	addr := strings.TrimPrefix(srv.URL, "http://")

	tests := []struct {
		name, head, chunk string
		timeout           time.Duration
	}{
		{"headers", "POST /search HTTP/1.1\r\nHost: shop.example\r\n", "X-Slow: a\r\n", cfg.HTTP.ReadHeaderTimeout},
		{"body", "POST /search HTTP/1.1\r\nHost: shop.example\r\nContent-Length: 100000\r\n\r\n{\"query\":\"", "b", cfg.HTTP.ReadTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			require.NoError(t, err)
			defer conn.Close()
			start := time.Now()
			_, err = io.WriteString(conn, tt.head)
			require.NoError(t, err)
			stop := make(chan struct{})
			defer close(stop)
			go trickle(conn, tt.chunk, 20*time.Millisecond, stop)

			// The client would go on for ever; the test gives the server
			// ten seconds to end it.
			require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
			answer, err := io.ReadAll(conn)
			took := time.Since(start)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("the server kept a slow client for %s", took)
			}
			// Not before the timeout, give or take the timers' slack: it is
			// the timeout that cut the client off, not a refusal.
			assert.GreaterOrEqual(t, took, tt.timeout/2, "cut off by the timeout")
			assert.Less(t, took, 5*time.Second)
			assert.NotContains(t, string(answer), " 200 ", "a request never finished is never served")
			t.Logf("cut off after %s, answered %q", took.Round(time.Millisecond), firstLine(answer))
		})
	}
}

func firstLine(b []byte) string {
	line, _, _ := strings.Cut(string(b), "\r\n")
	return line
}

// Headers over -max-header-bytes are refused before any handler runs; a
// huge key within the limit is only a key the service does not know.
func TestHugeHeaders(t *testing.T) {
	cfg := keyedConfig(t)
	eng := openDemo(t)
	t.Cleanup(func() { eng.Close() })
	srv := serveHTTP(t, cfg, newServer(eng, cfg, slog.New(slog.DiscardHandler)))
	send := func(header http.Header) (int, []byte) {
		req, err := http.NewRequest("GET", srv.URL+"/products/boot-01", nil)
		require.NoError(t, err)
		req.Header = header
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	withKey := func() http.Header {
		return http.Header{"Authorization": {"Bearer " + readSecret}}
	}

	h := withKey()
	h.Set("X-Big", strings.Repeat("a", 2*defaultMaxHeaderBytes))
	status, _ := send(h)
	assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, status, "one huge header")

	h = withKey()
	for i := range 5000 {
		h.Set(fmt.Sprintf("X-Many-%d", i), "0123456789abcdef")
	}
	status, _ = send(h)
	assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, status, "many headers")

	status, b := send(http.Header{"Authorization": {"Bearer " + strings.Repeat("A", defaultMaxHeaderBytes/2)}})
	assert.Equal(t, 401, status)
	assert.Equal(t, "invalid_key", errorCode(t, b))

	status, _ = send(withKey())
	assert.Equal(t, 200, status, "the server still serves")
}
