package eval

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"hmpps/internal/tokenize"
)

func FuzzParseReview(f *testing.F) {
	f.Add([]byte(`{"overall": 4.0, "reviewerID": "A5QQOOZJOVPSF", "asin": "B00005N7P0", "unixReviewTime": 1393372800}`))
	f.Add([]byte(`{"reviewerID": "u", "asin": "p", "unixReviewTime": 1e3}`))
	f.Add([]byte(`{"reviewerID": "", "asin": "p", "unixReviewTime": 1}`))
	f.Add([]byte(`[1, 2]`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := parseReview(b)
		if err != nil {
			if !errors.Is(err, ErrMalformedRecord) {
				t.Fatalf("error %v does not wrap ErrMalformedRecord", err)
			}
			return
		}
		if r.User == "" || r.ASIN == "" || r.Time < 0 {
			t.Fatalf("accepted an incomplete review %+v", r)
		}
	})
}

func FuzzParseMetadata(f *testing.F) {
	f.Add([]byte(`{"asin": "B1", "title": "<span class=\"a\"", "brand": "A &amp; B", "category": ["X", "Y &amp; Z"], "description": ["<b>Hi</b>. There."], "imageURL": ["https://x/1.jpg"]}`))
	f.Add([]byte(`{"asin": "B1", "description": "one string", "category": null}`))
	f.Add([]byte(`{"asin": "B1", "category": [1]}`))
	f.Add([]byte(`{"asin": ""}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseMetadata(b)
		if err != nil {
			if !errors.Is(err, ErrMalformedRecord) {
				t.Fatalf("error %v does not wrap ErrMalformedRecord", err)
			}
			return
		}
		p, _ := m.product()
		if p.ID == "" || p.Title == "" {
			t.Fatalf("product without ID or title from %q: %+v", b, p)
		}
		if !utf8.ValidString(p.Title) || !utf8.ValidString(p.Description) {
			t.Fatalf("invalid UTF-8 in %+v", p)
		}
		for _, c := range p.Category {
			if strings.TrimSpace(c) == "" {
				t.Fatalf("empty category level in %q", p.Category)
			}
		}
	})
}

func FuzzCategoryQuery(f *testing.F) {
	f.Add("Magazine Subscriptions", "Cooking, Food & Wine", "Recipes & Techniques")
	f.Add("", "", "")
	f.Add("A the", "B b B", "ÉCOLE école")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		q := CategoryQuery([]string{a, b, c}, nil)
		words := strings.Fields(q)
		seen := map[string]bool{}
		for _, w := range words {
			if seen[w] {
				t.Fatalf("word %q twice in %q", w, q)
			}
			seen[w] = true
			if englishStopwords[w] {
				t.Fatalf("stopword %q in %q", w, q)
			}
			if tw := tokenize.Words(w); len(tw) != 1 || tw[0] != w {
				t.Fatalf("%q is not one lowercase token", w)
			}
		}
		if CategoryQuery([]string{a}, nil) != "" {
			t.Fatal("a one-level path gave a query")
		}
	})
}
