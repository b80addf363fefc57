package lexical

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/internal/tokenize"
	"hmpps/retrieval"
)

// referenceBM25F scores ids for query over docs the plain way: tokenize
// everything, count, and apply the formula of Index's documentation.
func referenceBM25F(p Params, docs map[string]Doc, query string, ids []string) []float64 {
	p = p.resolved()
	weights := []float64{p.TitleWeight, p.BrandWeight, p.CategoryWeight, p.BodyWeight}
	type counted struct {
		tf  []map[string]int
		len []int
	}
	byID := make(map[string]counted, len(docs))
	df := make(map[string]int)
	total := make([]int, 4)
	for id, d := range docs {
		c := counted{}
		inDoc := make(map[string]bool)
		for f, text := range []string{d.Title, d.Brand, d.Category, d.Body} {
			words := tokenize.Words(text)
			tf := make(map[string]int)
			for _, w := range words {
				tf[w]++
				inDoc[w] = true
			}
			c.tf = append(c.tf, tf)
			c.len = append(c.len, len(words))
			total[f] += len(words)
		}
		for w := range inDoc {
			df[w]++
		}
		byID[id] = c
	}
	n := float64(len(docs))
	scores := make([]float64, len(ids))
	for i, id := range ids {
		c, ok := byID[id]
		if !ok {
			continue
		}
		for _, w := range tokenize.Words(query) {
			if df[w] == 0 {
				continue
			}
			idf := math.Log(1 + (n-float64(df[w])+0.5)/(float64(df[w])+0.5))
			var tf float64
			for f := range 4 {
				avg := math.Max(float64(total[f])/n, 1)
				tf += weights[f] * float64(c.tf[f][w]) / (1 - p.B + p.B*float64(c.len[f])/avg)
			}
			if tf > 0 {
				scores[i] += idf * tf * (p.K1 + 1) / (tf + p.K1)
			}
		}
	}
	return scores
}

func newLexicalWith(p Params, docs map[string]Doc) *Index {
	l, err := New(p)
	if err != nil {
		panic(err) // the tests pass valid parameters
	}
	for _, id := range slices.Sorted(maps.Keys(docs)) {
		l.Upsert(id, docs[id])
	}
	return l
}

var lexicalCatalog = map[string]Doc{
	"boots":   {Title: "Waterproof Hiking Boots", Brand: "Trailmark", Category: "Shoes Boots", Body: "Leather boots with a waterproof membrane and a grippy sole for hiking."},
	"sandals": {Title: "Beach Sandals", Brand: "Sunny", Category: "Shoes Sandals", Body: "Light sandals for the beach; not for hiking."},
	"jacket":  {Title: "Rain Jacket", Brand: "Trailmark", Category: "Clothing Jackets", Body: "A waterproof, breathable jacket. Packs into its own pocket."},
	"mag":     {Title: "Hiking Monthly", Brand: "", Category: "Magazines Outdoors", Body: "Trails, boots, maps: hiking hiking hiking."},
	"empty":   {},
	"women":   {Title: "Women's Boots", Body: "WOMENS boots, Größe 38"},
}

func TestLexicalScoreMatchesReference(t *testing.T) {
	ids := append(slices.Sorted(maps.Keys(lexicalCatalog)), "unknown")
	tests := []struct {
		name   string
		params Params
		query  string
	}{
		{"defaults one word", Params{}, "boots"},
		{"defaults several words", Params{}, "waterproof hiking boots"},
		{"repeated query word counts twice", Params{}, "hiking hiking"},
		{"brand only", Params{}, "trailmark"},
		{"possessive and case", Params{}, "womens BOOTS"},
		{"unicode", Params{}, "größe"},
		{"no word in the index", Params{}, "kayak"},
		{"punctuation only", Params{}, "?!"},
		{"custom k1 and b", Params{K1: 2, B: 0.3}, "waterproof boots"},
		{"no length normalization", Params{B: -1}, "hiking"},
		{"equal weights", Params{TitleWeight: 1, BrandWeight: 1, CategoryWeight: 1, BodyWeight: 1}, "boots jacket"},
		{"body switched off", Params{BodyWeight: -1}, "hiking boots"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLexicalWith(tt.params, lexicalCatalog)
			got := l.Score(tt.query, ids, nil)
			want := referenceBM25F(tt.params, lexicalCatalog, tt.query, ids)
			require.Len(t, got, len(want))
			for i := range want {
				assert.InDelta(t, want[i], got[i], 1e-12*math.Max(1, want[i]), "id %s", ids[i])
			}
			assert.Zero(t, got[len(got)-1], "an unknown id scores 0")
		})
	}
}

func TestLexicalScoreSemantics(t *testing.T) {
	l := newLexicalWith(Params{}, lexicalCatalog)
	s := l.Score("boots", []string{"boots", "sandals", "mag"}, nil)
	assert.Greater(t, s[0], s[2], "a word in the title outweighs one in the body")
	assert.Zero(t, s[1])

	dst := []float64{42}
	dst = l.Score("boots", []string{"boots"}, dst)
	assert.Equal(t, []float64{42, s[0]}, dst, "Score appends to dst")

	assert.Empty(t, l.Score("boots", nil, nil))
	assert.Equal(t, len(lexicalCatalog), l.Len())
}

func TestLexicalParamsDefaults(t *testing.T) {
	tests := []struct {
		name string
		in   Params
		want Params
	}{
		{"zero value", Params{}, Params{K1: 1.2, B: 0.75, TitleWeight: 3, BrandWeight: 2, CategoryWeight: 2, BodyWeight: 1}},
		{"kept", Params{K1: 2, B: 0.5, TitleWeight: 1, BrandWeight: 1, CategoryWeight: 1, BodyWeight: 4}, Params{K1: 2, B: 0.5, TitleWeight: 1, BrandWeight: 1, CategoryWeight: 1, BodyWeight: 4}},
		{"switches", Params{B: -0.1, TitleWeight: -2}, Params{K1: 1.2, B: 0, TitleWeight: 0, BrandWeight: 2, CategoryWeight: 2, BodyWeight: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, mustNew(t, tt.in).Params())
		})
	}
}

// TestLexicalParamsRejected checks that values that cannot score are an
// error, not silently replaced.
func TestLexicalParamsRejected(t *testing.T) {
	for name, p := range map[string]Params{
		"negative k1":  {K1: -1},
		"b above 1":    {B: 3},
		"nan k1":       {K1: math.NaN()},
		"nan weight":   {BrandWeight: math.NaN()},
		"inf weight":   {CategoryWeight: math.Inf(1)},
		"huge weight":  {BodyWeight: 1e300},
		"-inf b":       {B: math.Inf(-1)},
		"huge k1":      {K1: math.MaxFloat64},
		"nan b":        {B: math.NaN()},
		"-huge weight": {TitleWeight: -1e300},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := New(p)
			assert.ErrorIs(t, err, ErrInvalidParams)
			assert.ErrorIs(t, p.Validate(), ErrInvalidParams)
		})
	}
}

// mustNew is New for parameters a test knows to be valid.
func mustNew(t testing.TB, p Params) *Index {
	t.Helper()
	l, err := New(p)
	require.NoError(t, err)
	return l
}

// TestLexicalSingleFieldIsOkapiBM25 checks the claim of the documentation:
// one field of weight 1 scores as Okapi BM25 written the usual way.
func TestLexicalSingleFieldIsOkapiBM25(t *testing.T) {
	docs := map[string]string{"a": "red red shoe", "b": "blue shoe with laces and a long text", "c": "a red hat"}
	l := mustNew(t, Params{BodyWeight: 1})
	var total int
	for id, text := range docs {
		l.Upsert(id, Doc{Body: text})
		total += len(tokenize.Words(text))
	}
	n := float64(len(docs))
	avg := float64(total) / n
	const k1, b = 1.2, 0.75
	for _, query := range []string{"red shoe", "laces", "a"} {
		for id, text := range docs {
			words := tokenize.Words(text)
			var want float64
			for _, w := range tokenize.Words(query) {
				var df, tf float64
				for _, other := range docs {
					if slices.Contains(tokenize.Words(other), w) {
						df++
					}
				}
				for _, x := range words {
					if x == w {
						tf++
					}
				}
				if tf > 0 {
					idf := math.Log(1 + (n-df+0.5)/(df+0.5))
					want += idf * tf * (k1 + 1) / (tf + k1*(1-b+b*float64(len(words))/avg))
				}
			}
			got := l.Score(query, []string{id}, nil)[0]
			assert.InDelta(t, want, got, 1e-12, "%q in %s", query, id)
		}
	}
}

func TestLexicalSearch(t *testing.T) {
	l := newLexicalWith(Params{}, lexicalCatalog)
	tests := []struct {
		name  string
		query string
		k     int
		keep  func(string) bool
		want  []string
	}{
		{"ranked by score", "hiking boots", 10, nil, nil},
		{"k cuts", "hiking boots", 2, nil, nil},
		{"keep filters", "hiking boots", 10, func(id string) bool { return id != "boots" }, nil},
		{"no positive score", "kayak", 10, nil, []string{}},
		{"k zero", "boots", 0, nil, []string{}},
		{"k negative", "boots", -1, nil, []string{}},
		{"empty query", "", 3, nil, []string{}},
	}
	all := slices.Sorted(maps.Keys(lexicalCatalog))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hits := l.Search(tt.query, tt.k, tt.keep)
			if tt.want != nil {
				assert.Empty(t, hits)
				return
			}
			// The expected hits: every kept document with a positive score,
			// by score then ID, cut at k.
			scores := l.Score(tt.query, all, nil)
			var want []retrieval.Hit
			for i, id := range all {
				if scores[i] > 0 && (tt.keep == nil || tt.keep(id)) {
					want = append(want, retrieval.Hit{ID: id, Score: float32(scores[i])})
				}
			}
			order := make(map[string]float64)
			for i, id := range all {
				order[id] = scores[i]
			}
			slices.SortFunc(want, func(a, b retrieval.Hit) int {
				if c := cmp.Compare(order[b.ID], order[a.ID]); c != 0 {
					return c
				}
				return cmp.Compare(a.ID, b.ID)
			})
			want = want[:min(tt.k, len(want))]
			require.NotEmpty(t, want)
			assert.Equal(t, want, hits)
		})
	}
}

func TestLexicalSearchTiesByID(t *testing.T) {
	l := mustNew(t, Params{})
	for _, id := range []string{"d", "b", "c", "a"} {
		l.Upsert(id, Doc{Title: "same words"})
	}
	l.Upsert("z", Doc{Title: "other"})
	hits := l.Search("same", 3, nil)
	assert.Equal(t, []string{"a", "b", "c"}, hitIDs(hits))
}

// TestLexicalSearchAgreesWithScoreAcrossLengths ranks documents whose
// descriptions are as long as normsCached and longer, where Search stops
// reading its table of field norms and computes them, two documents of
// each length so that exact ties must come in ID order.
func TestLexicalSearchAgreesWithScoreAcrossLengths(t *testing.T) {
	l := mustNew(t, Params{})
	var ids []string
	for i := range 40 {
		body := strings.Repeat("filler ", normsCached-20+i) + "red shoe"
		for _, prefix := range []string{"a", "b"} {
			id := fmt.Sprintf("%s%02d", prefix, 39-i)
			l.Upsert(id, Doc{Title: "red shoe", Body: body})
			ids = append(ids, id)
		}
	}
	scores := l.Score("red shoe", ids, nil)
	byID := make(map[string]float64, len(ids))
	for i, id := range ids {
		byID[id] = scores[i]
	}
	want := slices.Clone(ids)
	slices.SortFunc(want, func(a, b string) int {
		if c := cmp.Compare(byID[b], byID[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	hits := l.Search("red shoe", len(ids), nil)
	require.Equal(t, want, hitIDs(hits))
	for _, h := range hits {
		require.Equal(t, float32(byID[h.ID]), h.Score, h.ID)
	}
}

// TestLexicalNormTableIsExact checks that a word's tf is the same to the
// last bit whether it is read from a search's table of field norms or
// computed as Score does, at every length in the table and past it.
func TestLexicalNormTableIsExact(t *testing.T) {
	for _, p := range []Params{{}, {B: 1}, {K1: 2, B: 0.3, BrandWeight: -1}} {
		l := newLexicalWith(p, lexicalCatalog)
		var norms lexNorms
		table, direct := l.query("boots", &norms), l.query("boots", nil)
		require.NotEmpty(t, table.terms)
		for _, freq := range []termFreq{{1, 0, 0, 0}, {0, 0, 0, 3}, {1, 2, 3, 4}} {
			for n := range int32(2 * normsCached) {
				st := lexStats{len: [numFields]int32{n, n + 1, n + 2, n + 3}, live: true}
				require.Equal(t, l.tf(&direct, &freq, &st), l.tf(&table, &freq, &st), "%+v, freq %v, length %d", p, freq, n)
			}
		}
	}
}

func TestLexicalUpsertReplacesAndDeleteRemoves(t *testing.T) {
	l := mustNew(t, Params{})
	l.Upsert("a", Doc{Title: "red shoe"})
	l.Upsert("b", Doc{Title: "blue shoe"})
	l.Upsert("a", Doc{Title: "green hat"})
	assert.Equal(t, 2, l.Len())
	assert.Empty(t, l.Search("red", 5, nil), "the replaced text no longer matches")
	assert.Equal(t, []string{"a"}, hitIDs(l.Search("green", 5, nil)))

	assert.True(t, l.Contains("a"))
	l.Delete("a", "unknown", "a")
	assert.Equal(t, 1, l.Len())
	assert.False(t, l.Contains("a"))
	assert.True(t, l.Contains("b"))
	assert.Empty(t, l.Search("green", 5, nil))
	assert.Equal(t, []float64{0}, l.Score("green", []string{"a"}, nil))
	want := referenceBM25F(Params{}, map[string]Doc{"b": {Title: "blue shoe"}}, "blue shoe", []string{"b"})
	assert.Equal(t, want, l.Score("blue shoe", []string{"b"}, nil))
}

// randomLexicalDoc draws a document from a small vocabulary, so that words
// repeat across documents and fields.
func randomLexicalDoc(r *rand.Rand) Doc {
	vocab := []string{"red", "blue", "shoe", "Boot", "hat", "women's", "womens", "größe", "x1", "waterproof", "hiking", "a", "the", "leather", "silk"}
	text := func(maxWords int) string {
		n := r.IntN(maxWords + 1)
		words := make([]string, n)
		for i := range words {
			words[i] = vocab[r.IntN(len(vocab))]
		}
		return strings.Join(words, " ")
	}
	return Doc{Title: text(4), Brand: text(1), Category: text(3), Body: text(20)}
}

// TestLexicalIncrementalMatchesRebuilt drives an index through random
// upserts and deletes (enough for several compactions) and checks, along
// the way, that it scores and searches exactly like an index built from
// scratch from the documents it should hold.
func TestLexicalIncrementalMatchesRebuilt(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	l := mustNew(t, Params{})
	docs := make(map[string]Doc)
	queries := []string{"red shoe", "boot", "womens hiking boots", "größe", "the a", "silk silk leather", "nothing"}
	for step := range 3000 {
		id := fmt.Sprintf("p%03d", r.IntN(300))
		switch r.IntN(3) {
		case 0:
			l.Delete(id)
			delete(docs, id)
		default:
			d := randomLexicalDoc(r)
			l.Upsert(id, d)
			docs[id] = d
		}
		if step%500 != 499 {
			continue
		}
		rebuilt := newLexicalWith(Params{}, docs)
		require.Equal(t, len(docs), l.Len())
		ids := append(slices.Sorted(maps.Keys(docs)), "p999")
		for _, q := range queries {
			require.Equal(t, rebuilt.Score(q, ids, nil), l.Score(q, ids, nil), "step %d, query %q", step, q)
			require.Equal(t, rebuilt.Search(q, 10, nil), l.Search(q, 10, nil), "step %d, query %q", step, q)
			want := referenceBM25F(Params{}, docs, q, ids)
			got := l.Score(q, ids, nil)
			for i := range want {
				require.InDelta(t, want[i], got[i], 1e-12*math.Max(1, want[i]))
			}
		}
	}
	assert.Less(t, len(l.docs), 2*l.Len()+minCompact, "dead documents are compacted away")
}

func TestLexicalConcurrent(t *testing.T) {
	l := newLexicalWith(Params{}, lexicalCatalog)
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for i := range 300 {
				id := fmt.Sprintf("w%d-%d", w, r.IntN(50))
				if i%4 == 0 {
					l.Delete(id)
				} else {
					l.Upsert(id, randomLexicalDoc(r))
				}
			}
		})
	}
	for range 4 {
		wg.Go(func() {
			for range 200 {
				for _, h := range l.Search("red boots", 5, func(id string) bool { return id != "boots" }) {
					if h.Score <= 0 || h.ID == "boots" {
						t.Errorf("bad hit %+v", h)
					}
				}
				s := l.Score("hiking boots", []string{"boots", "mag"}, nil)
				if s[0] <= 0 || s[1] <= 0 {
					t.Errorf("catalog documents lost their score: %v", s)
				}
			}
		})
	}
	wg.Wait()
}

func FuzzLexicalQuery(f *testing.F) {
	for _, q := range []string{"hiking boots", "", "WOMEN'S", "größe 38", "\xff\xfe", "a a a a", "’'"} {
		f.Add(q)
	}
	l := newLexicalWith(Params{}, lexicalCatalog)
	ids := slices.Sorted(maps.Keys(lexicalCatalog))
	f.Fuzz(func(t *testing.T, query string) {
		scores := l.Score(query, ids, nil)
		byID := make(map[string]float64, len(ids))
		for i, s := range scores {
			if s < 0 || math.IsNaN(s) || math.IsInf(s, 0) {
				t.Fatalf("score %v for %s", s, ids[i])
			}
			byID[ids[i]] = s
		}
		hits := l.Search(query, len(ids), nil)
		var positive int
		for _, s := range scores {
			if s > 0 {
				positive++
			}
		}
		if len(hits) != positive {
			t.Fatalf("Search returned %d hits, Score has %d positive", len(hits), positive)
		}
		for i, h := range hits {
			if h.Score != float32(byID[h.ID]) {
				t.Fatalf("hit %+v, Score says %v", h, byID[h.ID])
			}
			if i > 0 && byID[hits[i-1].ID] < byID[h.ID] {
				t.Fatalf("hits out of order: %+v", hits)
			}
		}
	})
}

// zipfCatalog fills a Index with n synthetic documents whose words follow
// a Zipf law, as product text does, so common words have long postings; it
// returns the index and a text generator of the same law.
func zipfCatalog(n int) (*Index, func(words int) string) {
	r := rand.New(rand.NewPCG(3, 4))
	zipf := rand.NewZipf(r, 1.1, 1, 20_000)
	text := func(words int) string {
		var sb strings.Builder
		for range words {
			fmt.Fprintf(&sb, "w%d ", zipf.Uint64())
		}
		return sb.String()
	}
	l, err := New(Params{})
	if err != nil {
		panic(err)
	}
	for i := range n {
		l.Upsert(fmt.Sprint(i), Doc{Title: text(8), Brand: text(1), Category: text(3), Body: text(80)})
	}
	return l, text
}

// BenchmarkLexicalScore scores a search's 100 candidates, as the engine
// does for every search.
func BenchmarkLexicalScore(b *testing.B) {
	l, text := zipfCatalog(10_000)
	ids := make([]string, 100)
	for i := range ids {
		ids[i] = fmt.Sprint(i * 97)
	}
	queries := make([]string, 64)
	for i := range queries {
		queries[i] = text(3)
	}
	dst := make([]float64, 0, len(ids))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		dst = l.Score(queries[i%len(queries)], ids, dst[:0])
	}
}

// BenchmarkLexicalSearch searches synthetic catalogs whose words follow a
// Zipf law, as product text does, so common words have long postings, and
// catalogs written from a few dozen words, as BenchmarkSearch's is, where a
// query word's postings hold a good part of the catalog: the pruned Search
// against scoring every posting.
func BenchmarkLexicalSearch(b *testing.B) {
	impls := []struct {
		name   string
		search func(l *Index, q string, k int) []retrieval.Hit
	}{
		{"pruned", func(l *Index, q string, k int) []retrieval.Hit { return l.Search(q, k, nil) }},
		{"exhaustive", func(l *Index, q string, k int) []retrieval.Hit { return l.searchExhaustive(q, k, nil) }},
	}
	for _, data := range []string{"zipf", "templates"} {
		for _, n := range []int{1_000, 10_000, 100_000} {
			var l *Index
			var text func(int) string
			for _, impl := range impls {
				b.Run(fmt.Sprintf("data=%s/n=%d/impl=%s", data, n, impl.name), func(b *testing.B) {
					if l == nil {
						if data == "zipf" {
							l, text = zipfCatalog(n)
						} else {
							l, text = templateCatalog(n)
						}
					}
					queries := make([]string, 64)
					for i := range queries {
						queries[i] = text(2 + i%2)
					}
					b.ReportAllocs()
					b.ResetTimer()
					for i := 0; b.Loop(); i++ {
						impl.search(l, queries[i%len(queries)], 100)
					}
				})
			}
		}
	}
}

// TestSeekSlot holds seekSlot to a linear search from every start, for
// every target, on postings with gaps.
func TestSeekSlot(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 9))
	for _, n := range []int{0, 1, 2, 7, 64, 300} {
		ps := make([]int32, n)
		slot := int32(0)
		for i := range ps {
			slot += 1 + int32(r.IntN(5))
			ps[i] = slot
		}
		for from := 0; from <= n; from++ {
			for target := int32(0); target <= slot+2; target++ {
				want := from
				for want < n && ps[want] < target {
					want++
				}
				if got := seekSlot(ps, from, target); got != want {
					t.Fatalf("n %d, from %d, target %d: got %d, want %d", n, from, target, got, want)
				}
			}
		}
	}
}

// scoreByLookup is Score as it was written first: per document, per query
// word, a binary search of the word's postings.
func scoreByLookup(l *Index, query, id string) float64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	q := l.query(query, nil)
	slot, ok := l.slot[id]
	if !ok {
		return 0
	}
	var s float64
	for i, t := range q.terms {
		if freq, found := l.freq(t, slot); found {
			s += l.termScore(q.idf[i], l.tf(&q, &freq, &l.stats[slot]))
		}
	}
	return s
}

// TestLexicalScoreOrderOfIDs checks that Score answers in the order asked,
// whatever the slots' order, with repeats and unknown IDs, bit for bit as a
// binary search per document would.
func TestLexicalScoreOrderOfIDs(t *testing.T) {
	l, _ := zipfCatalog(2_000)
	r := rand.New(rand.NewPCG(5, 5))
	ids := []string{"no such id"}
	for range 300 {
		ids = append(ids, fmt.Sprint(r.IntN(2_100)))
	}
	for _, q := range []string{"w1 w2 w3", "w2", "w7 w7 w40 w900", "nothing"} {
		got := l.Score(q, ids, []float64{-1})
		require.Len(t, got, len(ids)+1)
		if q != "nothing" {
			require.Greater(t, slices.Max(got), 0.0, "query %q matches some documents", q)
		}
		assert.Equal(t, -1.0, got[0], "dst's own values are kept")
		for i, id := range ids {
			assert.Equal(t, scoreByLookup(l, q, id), got[i+1], "query %q, id %s", q, id)
		}
	}
}

func hitIDs(hits []retrieval.Hit) []string {
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = h.ID
	}
	return ids
}

func TestLexicalIDs(t *testing.T) {
	l, err := New(Params{})
	require.NoError(t, err)
	assert.Empty(t, l.IDs())
	l.Upsert("a", Doc{Title: "red boot"})
	l.Upsert("b", Doc{Title: "blue tent"})
	l.Upsert("a", Doc{Title: "red boot, again"})
	l.Upsert("c", Doc{})
	l.Delete("b")
	assert.ElementsMatch(t, []string{"a", "c"}, l.IDs())
}
