package lexical

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSearchMatchesExhaustive holds the pruned Search to scoring every
// document, hit for hit, on catalogs where pruning has work to do: words
// of a Zipf law, and a catalog of a few dozen words where most documents
// tie with many others; with repeated query words, words only in a field
// that does not score, k around the number of ties, and filters.
func TestSearchMatchesExhaustive(t *testing.T) {
	zipf, zipfText := zipfCatalog(3000)
	templ, templText := templateCatalog(3000)
	odd := mustNew(t, Params{BodyWeight: -1, B: -1})
	r := rand.New(rand.NewPCG(8, 8))
	for i := range 800 {
		odd.Upsert(fmt.Sprintf("o%04d", i), randomLexicalDoc(r))
	}
	cases := []struct {
		name string
		l    *Index
		text func(int) string
	}{
		{"zipf", zipf, zipfText},
		{"templates", templ, templText},
		{"body off, no length normalization", odd, func(n int) string {
			return strings.Join(strings.Fields(randomLexicalDoc(r).Body)[:0], " ") + " " + randomLexicalDoc(r).Title + " " + randomLexicalDoc(r).Body
		}},
	}
	keeps := []func(string) bool{
		nil,
		func(id string) bool { return id[len(id)-1]%3 != 0 },
		func(id string) bool { return id[len(id)-1] == '7' },
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			queries := []string{"", "nothing here", c.text(1), c.text(2) + " " + c.text(1)}
			for range 40 {
				q := c.text(1 + r.IntN(4))
				if r.IntN(4) == 0 {
					q += " " + strings.Fields(q)[0] // a repeated word
				}
				queries = append(queries, q)
			}
			for _, q := range queries {
				for _, k := range []int{1, 3, 10, 100, 1000, 5000} {
					for ki, keep := range keeps {
						want := c.l.searchExhaustive(q, k, keep)
						got := c.l.Search(q, k, keep)
						require.Equal(t, want, got, "query %q, k %d, keep %d", q, k, ki)
					}
				}
			}
		})
	}
}

// templateCatalog fills an index with n documents written from a few
// dozen words, as BenchmarkSearch's catalog is: most documents tie exactly
// with many others, and a query word's postings hold a good part of the
// catalog.
func templateCatalog(n int) (*Index, func(words int) string) {
	r := rand.New(rand.NewPCG(6, 7))
	adjectives := []string{"waterproof", "light", "warm", "rugged", "compact", "packable"}
	nouns := []string{"boots", "jacket", "tent", "stove", "gloves"}
	colors := []string{"black", "red", "olive", "navy"}
	pick := func(ws []string) string { return ws[r.IntN(len(ws))] }
	l, err := New(Params{})
	if err != nil {
		panic(err)
	}
	for i := range n {
		body := fmt.Sprintf("A %s design in %s. Made to last. %s and %s.", pick(adjectives), pick(colors), pick(adjectives), pick(adjectives))
		l.Upsert(fmt.Sprintf("t%05d", i), Doc{
			Title:    pick(adjectives) + " " + pick(colors) + " " + pick(nouns),
			Brand:    pick([]string{"Vale", "Summit"}),
			Category: pick([]string{"Clothing Boots", "Outdoor Camping"}),
			Body:     body,
		})
	}
	all := append(append(append([]string{}, adjectives...), nouns...), colors...)
	return l, func(words int) string {
		ws := make([]string, words)
		for i := range ws {
			ws[i] = pick(all)
		}
		return strings.Join(ws, " ")
	}
}

// TestSearchMatchesExhaustiveWhileWriting checks the pruning against dead
// documents and a compacted index: a catalog where half the documents were
// replaced or deleted.
func TestSearchMatchesExhaustiveWhileWriting(t *testing.T) {
	l, text := templateCatalog(2000)
	r := rand.New(rand.NewPCG(2, 2))
	for i := range 1500 {
		id := fmt.Sprintf("t%05d", r.IntN(2000))
		if i%3 == 0 {
			l.Delete(id)
		} else {
			l.Upsert(id, Doc{Title: text(3), Body: text(8)})
		}
		if i%250 == 0 {
			for range 5 {
				q := text(1 + r.IntN(3))
				for _, k := range []int{1, 10, 100} {
					require.Equal(t, l.searchExhaustive(q, k, nil), l.Search(q, k, nil), "query %q, k %d", q, k)
				}
			}
		}
	}
}

// TestUpsertBatchIsUpsertOneByOne checks that a batch written at once leaves
// the index as writing its documents one by one does, replacements and an
// ID given twice included.
func TestUpsertBatchIsUpsertOneByOne(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	one := mustNew(t, Params{})
	batched := mustNew(t, Params{})
	for round := range 6 {
		var ids []string
		var analyses []Analysis
		for range 50 + r.IntN(300) {
			id := fmt.Sprintf("p%03d", r.IntN(400))
			d := randomLexicalDoc(r)
			a := Analyze(d)
			one.UpsertAnalyzed(id, &a)
			ids = append(ids, id)
			analyses = append(analyses, Analyze(d))
		}
		batched.UpsertBatch(ids, analyses)
		var gone []string
		for range r.IntN(100) {
			gone = append(gone, fmt.Sprintf("p%03d", r.IntN(400)))
		}
		one.Delete(gone...)
		batched.Delete(gone...)
		a, err := one.MarshalBinary()
		require.NoError(t, err)
		b, err := batched.MarshalBinary()
		require.NoError(t, err)
		require.Equal(t, a, b, "round %d", round)
		for _, q := range []string{"red shoe", "boot hiking", "silk silk"} {
			require.Equal(t, one.Search(q, 10, nil), batched.Search(q, 10, nil))
		}
	}
}
