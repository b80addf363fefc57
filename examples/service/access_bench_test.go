package main

import (
	"log/slog"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"hmpps/internal/democatalog"
)

// BenchmarkServeSearch is searches through the handler, in process, as
// TestLoad's sixteen searchers send them at once: open, as on loopback,
// and with keys and a search rate per key (set high enough never to
// refuse; the searchers share the key, so they share its bucket), as an
// exposed service runs. The time per search is the inverse of the
// throughput; the difference is what authenticating and rate limiting
// cost. Compare the two with benchstat -col /mode.
func BenchmarkServeSearch(b *testing.B) {
	body := mustJSON(b, searchRequest{Query: democatalog.DefaultQuery, HistoryIDs: democatalog.Shoppers()[0].HistoryIDs,
		TopN: 10, ExcludeHistory: true, Filter: []condition{{Field: "category", Op: "prefix", Values: []string{"Footwear"}}}})
	for _, mode := range []string{"open", "keys"} {
		b.Run("mode="+mode, func(b *testing.B) {
			cfg, secret := testConfig(b), ""
			if mode == "keys" {
				cfg, secret = keyedConfig(b), readSecret
				cfg.FairUse.SearchRate, cfg.FairUse.SearchBurst = 1e9, 1e9
			}
			eng := openDemo(b)
			defer eng.Close()
			h := newServer(eng, cfg, slog.New(slog.DiscardHandler))
			b.ReportAllocs()
			b.SetParallelism(16 / max(1, runtime.GOMAXPROCS(0)))
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req := httptest.NewRequest("POST", "/search", strings.NewReader(body))
					if secret != "" {
						req.Header.Set("Authorization", "Bearer "+secret)
					}
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					if rec.Code != 200 {
						b.Errorf("status %d: %s", rec.Code, rec.Body)
						return
					}
				}
			})
		})
	}
}

// BenchmarkKeyCheck is the work keys add to a search, alone: reading the
// Authorization header, hashing the secret and comparing it with every key,
// and taking a search from the key's bucket.
func BenchmarkKeyCheck(b *testing.B) {
	cfg := keyedConfig(b)
	cfg.FairUse.SearchRate, cfg.FairUse.SearchBurst = 1e9, 1e9
	eng := openDemo(b)
	defer eng.Close()
	s := newServer(eng, cfg, slog.New(slog.DiscardHandler))
	req := httptest.NewRequest("POST", "/search", nil)
	req.Header.Set("Authorization", "Bearer "+readSecret)
	b.ReportAllocs()
	for b.Loop() {
		k, err := s.authenticate(req)
		if err != nil || k.role != roleRead {
			b.Fatal(k, err)
		}
		if _, err := s.rates.take(k.name); err != nil {
			b.Fatal(err)
		}
	}
}
