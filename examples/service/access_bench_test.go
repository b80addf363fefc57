package main

import (
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"hmpps/internal/democatalog"
)

// BenchmarkServeSearch is one search through the handler, in process, as
// TestLoad's searchers send it: open, as on loopback, and with keys and a
// search rate per key (set high enough never to refuse), as an exposed
// service runs. The difference is what authenticating and rate limiting
// cost a search; compare the two with benchstat.
func BenchmarkServeSearch(b *testing.B) {
	body := mustJSON(b, searchRequest{Query: democatalog.DefaultQuery, HistoryIDs: democatalog.Shoppers()[0].HistoryIDs,
		TopN: 10, ExcludeHistory: true, Filter: []condition{{Field: "category", Op: "prefix", Values: []string{"Footwear"}}}})
	for _, mode := range []string{"open", "keys"} {
		b.Run(mode, func(b *testing.B) {
			cfg, secret := testConfig(b), ""
			if mode == "keys" {
				cfg, secret = keyedConfig(b), readSecret
				cfg.FairUse.SearchRate, cfg.FairUse.SearchBurst = 1e9, 1e9
			}
			eng := openDemo(b)
			defer eng.Close()
			h := newServer(eng, cfg, slog.New(slog.DiscardHandler))
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest("POST", "/search", strings.NewReader(body))
				if secret != "" {
					req.Header.Set("Authorization", "Bearer "+secret)
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
		})
	}
}
