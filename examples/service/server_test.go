package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/hmpps"
	"hmpps/internal/democatalog"
	"hmpps/rerank"
	"hmpps/retrieval"
)

// testConfig is the default configuration with small limits, so that tests
// can cross them cheaply.
func testConfig(t testing.TB) config {
	t.Helper()
	cfg, err := parseConfig([]string{"-max-body", "65536", "-max-batch", "3"}, func(string) string { return "" }, io.Discard)
	require.NoError(t, err)
	return cfg
}

// demoFile is the demo catalog saved as an engine file, made once: opening
// it skips embedding the pictures again, which makes the many small tests
// here fast under -race.
var demoFile struct {
	once sync.Once
	data []byte
	err  error
}

// openDemo returns an engine built with opts holding the demo catalog.
func openDemo(t testing.TB, opts ...hmpps.Option) *hmpps.Engine {
	t.Helper()
	ctx := context.Background()
	demoFile.once.Do(func() {
		eng, err := hmpps.New()
		if err != nil {
			demoFile.err = err
			return
		}
		defer eng.Close()
		if demoFile.err = eng.Upsert(ctx, democatalog.Products()...); demoFile.err != nil {
			return
		}
		path := filepath.Join(t.TempDir(), "demo.hmpps")
		if demoFile.err = eng.Save(ctx, path); demoFile.err != nil {
			return
		}
		demoFile.data, demoFile.err = os.ReadFile(path)
	})
	require.NoError(t, demoFile.err)
	path := filepath.Join(t.TempDir(), "demo.hmpps")
	require.NoError(t, os.WriteFile(path, demoFile.data, 0o644))
	eng, err := hmpps.Open(ctx, path, opts...)
	require.NoError(t, err)
	return eng
}

// newTestServer serves the demo catalog on an engine built with opts.
func newTestServer(t testing.TB, cfg config, opts ...hmpps.Option) (*httptest.Server, *hmpps.Engine) {
	t.Helper()
	eng := openDemo(t, opts...)
	srv := httptest.NewServer(newServer(eng, cfg, slog.New(slog.DiscardHandler)))
	t.Cleanup(func() {
		srv.Close()
		require.NoError(t, eng.Close())
	})
	return srv, eng
}

// call sends one request and returns the status, headers and body.
func call(t testing.TB, srv *httptest.Server, method, path, body string) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, srv.URL+path, rd)
	require.NoError(t, err)
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, b
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

func TestEndpoints(t *testing.T) {
	alex := democatalog.Shoppers()[0]
	newProduct := product{ID: "new-01", Title: "Waterproof Gaiters", Brand: "Ashcombe",
		Category: []string{"Footwear", "Accessories"}, Description: "Waxed cotton gaiters for muddy lanes."}
	tests := []struct {
		name, method, path, body string
		status                   int
		// code is the error code of a failure; blank for success.
		code string
		// check looks at a successful body.
		check func(t *testing.T, body []byte)
	}{
		{name: "healthz", method: "GET", path: "/healthz", status: 200, check: func(t *testing.T, b []byte) {
			assert.JSONEq(t, `{"status":"ok","products":54}`, string(b))
		}},
		{name: "get", method: "GET", path: "/products/boot-01", status: 200, check: func(t *testing.T, b []byte) {
			var p product
			require.NoError(t, json.Unmarshal(b, &p))
			assert.Equal(t, "Heritage Waterproof Leather Boots", p.Title)
			assert.NotEmpty(t, p.Description)
			require.NotEmpty(t, p.Images)
			assert.NotEmpty(t, p.Images[0].Data, "the picture travels as base64")
		}},
		{name: "get unknown", method: "GET", path: "/products/nope", status: 404, code: "not_found"},
		{name: "delete", method: "DELETE", path: "/products/book-01", status: 204},
		{name: "delete unknown is idempotent", method: "DELETE", path: "/products/nope", status: 204},
		{name: "upsert", method: "PUT", path: "/products", body: mustJSON(t, upsertRequest{Products: []product{newProduct}}),
			status: 200, check: func(t *testing.T, b []byte) {
				assert.JSONEq(t, `{"upserted":1,"products":55}`, string(b))
			}},
		{name: "upsert bad JSON", method: "PUT", path: "/products", body: `{"products": [`, status: 400, code: "bad_request"},
		{name: "upsert unknown field", method: "PUT", path: "/products", body: `{"product": []}`, status: 400, code: "bad_request"},
		{name: "upsert trailing data", method: "PUT", path: "/products", body: `{"products": [{"id":"a","title":"A"}]} {}`, status: 400, code: "bad_request"},
		{name: "upsert empty body", method: "PUT", path: "/products", status: 400, code: "bad_request"},
		{name: "upsert no products", method: "PUT", path: "/products", body: `{"products": []}`, status: 400, code: "bad_request"},
		{name: "upsert oversize body", method: "PUT", path: "/products",
			body: `{"products":[{"id":"big","title":"` + strings.Repeat("x", 70000) + `"}]}`, status: 413, code: "too_large"},
		{name: "upsert over batch limit", method: "PUT", path: "/products",
			body: `{"products":[{"id":"a","title":"A"},{"id":"b","title":"B"},{"id":"c","title":"C"},{"id":"d","title":"D"}]}`, status: 413, code: "too_large"},
		{name: "upsert empty ID", method: "PUT", path: "/products", body: `{"products":[{"id":"","title":"A"}]}`, status: 400, code: "invalid_product"},
		{name: "upsert no text", method: "PUT", path: "/products", body: `{"products":[{"id":"a"}]}`, status: 400, code: "invalid_product"},
		{name: "upsert ID twice", method: "PUT", path: "/products", body: `{"products":[{"id":"a","title":"A"},{"id":"a","title":"B"}]}`, status: 400, code: "duplicate_id"},
		{name: "upsert reserved attribute", method: "PUT", path: "/products", body: `{"products":[{"id":"a","title":"A","attributes":{"brand":"x"}}]}`, status: 400, code: "invalid_product"},
		{name: "upsert wrong vector length", method: "PUT", path: "/products", body: `{"products":[{"id":"a","title":"A","text_vector":[1,2,3]}]}`, status: 400, code: "invalid_vector"},
		{name: "upsert undecodable image", method: "PUT", path: "/products", body: `{"products":[{"id":"a","title":"A","images":[{"data":"bm90IGFuIGltYWdl"}]}]}`, status: 400, code: "invalid_image"},
		{name: "upsert local image path", method: "PUT", path: "/products", body: `{"products":[{"id":"a","title":"A","images":[{"uri":"/etc/passwd"}]}]}`, status: 400, code: "bad_request"},
		{name: "search", method: "POST", path: "/search",
			body:   mustJSON(t, searchRequest{Query: "waterproof boots", HistoryIDs: alex.HistoryIDs, TopN: 3, ExcludeHistory: true}),
			status: 200, check: func(t *testing.T, b []byte) {
				var r searchResponse
				require.NoError(t, json.Unmarshal(b, &r))
				require.Len(t, r.Results, 3)
				for _, res := range r.Results {
					assert.NotContains(t, alex.HistoryIDs, res.ID)
					assert.NotZero(t, res.RetrievalScore)
					assert.Positive(t, res.FusedScore, "retrieved, so fused")
					assert.NotEmpty(t, res.Summary)
					assert.Equal(t, res.ID, res.Product.ID)
				}
				assert.NotEmpty(t, r.History, "stage one kept Alex's leather purchases")
				assert.True(t, r.Personalized)
				assert.False(t, r.Degraded)
				assert.Positive(t, r.TimingsMS.Total)
				assert.Positive(t, r.Candidates)
				assert.NotNil(t, r.Notes)
				assert.Contains(t, string(b), `"timings_ms":{"embed":`)
			}},
		{name: "search without history is unpersonalized", method: "POST", path: "/search", body: `{"query":"waterproof boots","top_n":2}`,
			status: 200, check: func(t *testing.T, b []byte) {
				var r searchResponse
				require.NoError(t, json.Unmarshal(b, &r))
				assert.Len(t, r.Results, 2)
				assert.Empty(t, r.History)
				assert.False(t, r.Personalized)
			}},
		{name: "search with history products and a filter", method: "POST", path: "/search",
			body: mustJSON(t, searchRequest{Query: "boots", History: []product{{ID: "h1", Title: "Trail running shoes, lightweight mesh"}},
				Filter: []condition{{Field: "category", Op: "prefix", Values: []string{"Footwear > Boots"}}}}),
			status: 200, check: func(t *testing.T, b []byte) {
				var r searchResponse
				require.NoError(t, json.Unmarshal(b, &r))
				require.NotEmpty(t, r.Results)
				for _, res := range r.Results {
					assert.Equal(t, []string{"Footwear", "Boots"}, res.Product.Category[:2], res.ID)
				}
			}},
		{name: "search empty query", method: "POST", path: "/search", body: `{"query":"  "}`, status: 400, code: "empty_query"},
		{name: "search unknown history ID", method: "POST", path: "/search", body: `{"query":"boots","history_ids":["nope"]}`, status: 404, code: "not_found"},
		{name: "search query over the limit", method: "POST", path: "/search", body: `{"query":"` + strings.Repeat("boots ", 1000) + `"}`, status: 400, code: "over_limit"},
		{name: "search too much history", method: "POST", path: "/search", body: mustJSON(t, searchRequest{Query: "boots", HistoryIDs: manyIDs(hmpps.DefaultMaxHistory + 1)}), status: 400, code: "over_limit"},
		{name: "search negative top_n", method: "POST", path: "/search", body: `{"query":"boots","top_n":-1}`, status: 400, code: "invalid_request"},
		{name: "search unknown filter op", method: "POST", path: "/search", body: `{"query":"boots","filter":[{"field":"brand","op":"like","values":["x"]}]}`, status: 400, code: "bad_request"},
		{name: "search filter without values", method: "POST", path: "/search", body: `{"query":"boots","filter":[{"field":"brand"}]}`, status: 400, code: "invalid_filter"},
		{name: "search candidate twice", method: "POST", path: "/search", body: `{"query":"boots","candidate_ids":["boot-01","boot-01"]}`, status: 400, code: "duplicate_id"},
		{name: "search bad JSON", method: "POST", path: "/search", body: `{"query":`, status: 400, code: "bad_request"},
		{name: "search wrong type", method: "POST", path: "/search", body: `{"query":"boots","top_n":"3"}`, status: 400, code: "bad_request"},
		{name: "wrong method", method: "POST", path: "/products/boot-01", status: 405, code: "method_not_allowed"},
		{name: "wrong method on search", method: "GET", path: "/search", status: 405, code: "method_not_allowed"},
		{name: "no route", method: "GET", path: "/nothing", status: 404, code: "no_route"},
		{name: "metrics", method: "GET", path: "/metrics", status: 200, check: func(t *testing.T, b []byte) {
			assert.Contains(t, string(b), "# TYPE hmpps_http_requests_total counter")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Each case gets a fresh catalog, so that writes do not leak.
			srv, _ := newTestServer(t, testConfig(t))
			status, header, body := call(t, srv, tt.method, tt.path, tt.body)
			require.Equal(t, tt.status, status, "body: %s", body)
			if tt.code != "" {
				var e errorBody
				require.NoError(t, json.Unmarshal(body, &e), "error bodies are JSON: %s", body)
				assert.Equal(t, tt.code, e.Error.Code, "message: %s", e.Error.Message)
				assert.NotEmpty(t, e.Error.Message)
				assert.Equal(t, "application/json", header.Get("Content-Type"))
			}
			if status == http.StatusMethodNotAllowed {
				assert.NotEmpty(t, header.Get("Allow"))
			}
			if tt.check != nil {
				tt.check(t, body)
			}
		})
	}
}

func manyIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("id-%d", i)
	}
	return ids
}

// A search naming unknown products is told every one of them.
func TestUnknownIDsListed(t *testing.T) {
	srv, _ := newTestServer(t, testConfig(t))
	status, _, b := call(t, srv, "POST", "/search", `{"query":"boots","history_ids":["shoe-01","nope","nada"]}`)
	require.Equal(t, 404, status, "%s", b)
	var e errorBody
	require.NoError(t, json.Unmarshal(b, &e))
	assert.Equal(t, "not_found", e.Error.Code)
	assert.Equal(t, []string{"nope", "nada"}, e.Error.IDs)
}

func TestUpsertThenGetAndDelete(t *testing.T) {
	srv, eng := newTestServer(t, testConfig(t))
	body := `{"products":[{"id":"gaiter-01","title":"Waterproof Gaiters","brand":"Ashcombe","attributes":{"color":"olive"}}]}`
	status, _, b := call(t, srv, "PUT", "/products", body)
	require.Equal(t, 200, status, "%s", b)
	status, _, b = call(t, srv, "GET", "/products/gaiter-01", "")
	require.Equal(t, 200, status)
	assert.JSONEq(t, `{"id":"gaiter-01","title":"Waterproof Gaiters","brand":"Ashcombe","attributes":{"color":"olive"}}`, string(b))
	status, _, _ = call(t, srv, "DELETE", "/products/gaiter-01", "")
	require.Equal(t, 204, status)
	_, err := eng.Get(context.Background(), "gaiter-01")
	assert.ErrorIs(t, err, hmpps.ErrNotFound)
}

// An ID with a slash is one path segment when escaped as %2F.
func TestIDWithSlash(t *testing.T) {
	srv, _ := newTestServer(t, testConfig(t))
	status, _, b := call(t, srv, "PUT", "/products", `{"products":[{"id":"B00/123","title":"Slashed"}]}`)
	require.Equal(t, 200, status, "%s", b)
	status, _, b = call(t, srv, "GET", "/products/B00%2F123", "")
	require.Equal(t, 200, status, "%s", b)
	assert.Contains(t, string(b), `"id":"B00/123"`)
	status, _, _ = call(t, srv, "DELETE", "/products/B00%2F123", "")
	require.Equal(t, 204, status)
	status, _, _ = call(t, srv, "GET", "/products/B00%2F123", "")
	assert.Equal(t, 404, status)
}

// An upsert past its deadline fails whole: nothing of the batch is kept.
func TestUpsertDeadline(t *testing.T) {
	cfg := testConfig(t)
	cfg.UpsertTimeout = time.Nanosecond
	srv, eng := newTestServer(t, cfg)
	status, _, b := call(t, srv, "PUT", "/products", `{"products":[{"id":"late-01","title":"Late boots"}]}`)
	assert.Equal(t, http.StatusGatewayTimeout, status, "%s", b)
	_, err := eng.Get(context.Background(), "late-01")
	assert.ErrorIs(t, err, hmpps.ErrNotFound)
}

// A search that outlives the service's deadline is a 504, not a hang.
func TestSearchDeadline(t *testing.T) {
	cfg := testConfig(t)
	cfg.SearchTimeout = 50 * time.Millisecond
	stuck := rerank.Func(func(ctx context.Context, _ rerank.Request) (rerank.Result, error) {
		<-ctx.Done()
		return rerank.Result{}, ctx.Err()
	})
	srv, _ := newTestServer(t, cfg, hmpps.WithReranker(stuck))
	start := time.Now()
	status, _, b := call(t, srv, "POST", "/search", `{"query":"boots"}`)
	assert.Equal(t, http.StatusGatewayTimeout, status, "%s", b)
	assert.Contains(t, string(b), `"code":"timeout"`)
	assert.Less(t, time.Since(start), 5*time.Second)
}

// Faults behind the service are 5xx, while a stage that falls back still
// answers 200 with the degraded flag.
func TestModelFaults(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		status   int
		code     string
		degraded bool
	}{
		{"model missing is a configuration error", fmt.Errorf("rerank: %w", rerank.ErrModelNotFound), 500, "model_not_found", false},
		{"model failing falls back", errors.New("connection reset"), 200, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			failing := rerank.Func(func(context.Context, rerank.Request) (rerank.Result, error) { return rerank.Result{}, tt.err })
			srv, _ := newTestServer(t, testConfig(t), hmpps.WithReranker(failing))
			status, _, b := call(t, srv, "POST", "/search", `{"query":"boots","history_ids":["shoe-01"]}`)
			require.Equal(t, tt.status, status, "%s", b)
			if tt.code != "" {
				var e errorBody
				require.NoError(t, json.Unmarshal(b, &e))
				assert.Equal(t, tt.code, e.Error.Code)
				assert.NotContains(t, e.Error.Message, "rerank:", "server faults are logged, not shown")
				return
			}
			var r searchResponse
			require.NoError(t, json.Unmarshal(b, &r))
			assert.Equal(t, tt.degraded, r.Degraded)
			require.NotEmpty(t, r.Results)
			assert.Contains(t, r.Results[0].DegradedReason, "connection reset")
		})
	}
}

func TestKindOf(t *testing.T) {
	tests := []struct {
		err    error
		status int
	}{
		{fmt.Errorf("hmpps: get %q: %w", "x", hmpps.ErrNotFound), 404},
		{hmpps.ErrEmptyQuery, 400},
		{fmt.Errorf("x: %w", retrieval.ErrInvalidFilter), 400},
		{&http.MaxBytesError{Limit: 1}, 413},
		{hmpps.ErrClosed, 503},
		{fmt.Errorf("embed: %w", retrieval.ErrModelUnavailable), 503},
		{context.DeadlineExceeded, 504},
		{errors.New("disk on fire"), 500},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.status, kindOf(tt.err).status, "%v", tt.err)
	}
}

func TestParseConfig(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	tests := []struct {
		name    string
		args    []string
		env     func(string) string
		check   func(t *testing.T, c config)
		wantErr string
	}{
		{name: "defaults", env: env(), check: func(t *testing.T, c config) {
			assert.Equal(t, "127.0.0.1:8080", c.Addr)
			assert.True(t, c.Demo)
			assert.Empty(t, c.Catalog)
			assert.Empty(t, c.Milvus.Addr)
			_, ok := ollamaOption(c.Ollama)
			assert.False(t, ok, "offline by default")
			assert.True(t, c.Access.Keys.open(), "no keys by default: open on loopback")
			assert.Empty(t, c.Access.TLSCert)
			assert.Equal(t, fairUseConfig{MaxSearches: 16, SearchQueue: 64, SearchQueueWait: 5 * time.Second,
				MaxFilterClauses: 16, MaxFilterValues: 256, MaxHistoryText: 16 << 10}, c.FairUse)
			assert.Equal(t, httpConfig{ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second,
				IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}, c.HTTP)
		}},
		{name: "fair use", args: []string{"-search-rate", "2.5", "-search-burst", "5", "-max-searches", "2"},
			env: env("HMPPS_SEARCH_QUEUE", "0", "HMPPS_MAX_FILTER_VALUES", "9"), check: func(t *testing.T, c config) {
				assert.Equal(t, 2.5, c.FairUse.SearchRate)
				assert.Equal(t, 5, c.FairUse.SearchBurst)
				assert.Equal(t, 2, c.FairUse.MaxSearches)
				assert.Equal(t, 0, c.FairUse.SearchQueue)
				assert.Equal(t, 9, c.FairUse.MaxFilterValues)
			}},
		{name: "negative rate", args: []string{"-search-rate", "-1"}, env: env(), wantErr: "-search-rate"},
		{name: "no searches at once", args: []string{"-max-searches", "0"}, env: env(), wantErr: "-max-searches"},
		{name: "zero header timeout", args: []string{"-read-header-timeout", "0s"}, env: env(), wantErr: "-read-header-timeout"},
		{name: "environment", env: env("HMPPS_CATALOG", "shop.hmpps", "HMPPS_OLLAMA_VISION", "qwen2.5vl:3b", "HMPPS_SEARCH_TIMEOUT", "5s"),
			check: func(t *testing.T, c config) {
				assert.Equal(t, "shop.hmpps", c.Catalog)
				assert.Equal(t, "qwen2.5vl:3b", c.Ollama.VisionModel)
				assert.Equal(t, 5*time.Second, c.SearchTimeout)
				_, ok := ollamaOption(c.Ollama)
				assert.True(t, ok)
			}},
		{name: "flag wins over environment", args: []string{"-addr", "127.0.0.1:9"}, env: env("HMPPS_ADDR", "127.0.0.1:7"),
			check: func(t *testing.T, c config) { assert.Equal(t, "127.0.0.1:9", c.Addr) }},
		{name: "bad environment value", env: env("HMPPS_MAX_BATCH", "many"), wantErr: "HMPPS_MAX_BATCH"},
		{name: "log level", args: []string{"-log-level", "debug"}, env: env(), check: func(t *testing.T, c config) {
			assert.Equal(t, slog.LevelDebug, c.LogLevel)
		}},
		{name: "bad log level", env: env("HMPPS_LOG_LEVEL", "loud"), wantErr: "HMPPS_LOG_LEVEL"},
		{name: "limits", args: []string{"-max-query-bytes", "100", "-max-history", "5"}, env: env("HMPPS_MAX_CANDIDATES", "7"),
			check: func(t *testing.T, c config) {
				assert.Equal(t, hmpps.Limits{QueryBytes: 100, History: 5, Candidates: 7}, c.Limits)
			}},
		{name: "negative limit", args: []string{"-max-history", "-1"}, env: env(), wantErr: "-max-history"},
		{name: "bad mode", args: []string{"-ollama-mode", "shout"}, env: env(), wantErr: "-ollama-mode"},
		{name: "zero timeout", args: []string{"-search-timeout", "0s"}, env: env(), wantErr: "-search-timeout"},
		{name: "stray argument", args: []string{"serve"}, env: env(), wantErr: "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseConfig(tt.args, tt.env, io.Discard)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			tt.check(t, c)
		})
	}
}

// FuzzSearchBody: whatever a client sends to /search, the answer is JSON
// and never a server fault.
func FuzzSearchBody(f *testing.F) {
	f.Add(`{"query":"waterproof boots","history_ids":["acc-01"],"top_n":3}`)
	f.Add(`{"query":"boots","filter":[{"field":"category","op":"prefix","values":["Footwear"]}]}`)
	f.Add(`{"query":"boots","history":[{"id":"h","title":"shoe","images":[{"data":"AAAA"}]}]}`)
	f.Add(`{"query":""}`)
	f.Add(`[]`)
	eng, err := hmpps.New()
	require.NoError(f, err)
	defer eng.Close()
	require.NoError(f, eng.Upsert(context.Background(), democatalog.Products()...))
	h := newServer(eng, testConfig(f), slog.New(slog.DiscardHandler))
	f.Fuzz(func(t *testing.T, body string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/search", strings.NewReader(body)))
		if rec.Code >= 500 {
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body)
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("answer is not JSON for %q: %s", body, rec.Body)
		}
	})
}
