package hmpps

import (
	"context"
	"errors"
	"strings"
	"testing"

	"hmpps/retrieval"
)

// FuzzSearch throws arbitrary requests at an engine: each must either
// succeed with a well-formed response or fail with one of the documented
// errors, never panic; a query over the length limit always fails with
// ErrRequestTooLarge.
func FuzzSearch(f *testing.F) {
	e, err := New()
	if err != nil {
		f.Fatal(err)
	}
	if err := e.Upsert(context.Background(), testCatalog()...); err != nil {
		f.Fatal(err)
	}
	f.Add("waterproof boots", "hist-wallet,hist-belt", "", "brand", "Heritage Co", 3, 2)
	f.Add("", "", "boot-trail-1,boot-trail-1", "", "", 0, 0)
	f.Add("\xff\xfe", "nope", "boot-trail-1", "category", "Shoes", -1, 100)
	f.Add(strings.Repeat("boots ", DefaultMaxQueryBytes/6+1), "hist-belt", "", "", "", 0, 0)
	f.Fuzz(func(t *testing.T, query, history, candidates, field, value string, topN, k int) {
		req := Request{Query: query, TopN: topN, HistoryK: k}
		if history != "" {
			req.HistoryIDs = strings.Split(history, ",")
		}
		if candidates != "" {
			req.CandidateIDs = strings.Split(candidates, ",")
		}
		if field != "" || value != "" {
			req.Filter = retrieval.Filter{retrieval.In(field, value)}
		}
		resp, err := e.Search(context.Background(), req)
		if len(query) > DefaultMaxQueryBytes && !errors.Is(err, ErrRequestTooLarge) {
			t.Fatalf("a %d-byte query gave %v, want ErrRequestTooLarge", len(query), err)
		}
		if err != nil {
			if !errors.Is(err, ErrInvalidRequest) && !errors.Is(err, ErrNotFound) && !errors.Is(err, retrieval.ErrInvalidFilter) {
				t.Fatalf("undocumented error: %v", err)
			}
			return
		}
		want := topN
		if want == 0 {
			want = DefaultTopN
		}
		if len(resp.Results) > want {
			t.Fatalf("%d results for TopN %d", len(resp.Results), topN)
		}
		if resp.Personalized != (len(resp.History) > 0) {
			t.Fatalf("Personalized %v with %d kept history items", resp.Personalized, len(resp.History))
		}
	})
}
