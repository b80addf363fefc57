package retrieval

import (
	"math"
	"slices"

	"hmpps/internal/tokenize"
)

// Score appends to dst the BM25F score of each id for the query, in order,
// and returns it; an unknown id scores 0, and so does every id for a query
// with no word in the index.
func (l *Lexical) Score(query string, ids []string, dst []float64) []float64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	q := l.query(query)
	for _, id := range ids {
		var s float64
		if slot, ok := l.slot[id]; ok {
			d := &l.docs[slot]
			for i, t := range q.terms {
				// The same sum, term by term in query order, as Search's,
				// so that the two agree to the last bit.
				if freq, found := l.freq(t, slot); found {
					s += l.termScore(q.idf[i], &freq, &d.len, &q.avg)
				}
			}
		}
		dst = append(dst, s)
	}
	return dst
}

// Search returns the k documents with the best positive scores for the
// query, best first; equal scores come in ascending ID order. A document
// that keep rejects is skipped (keep may be nil to keep all). keep is called
// with the index's read lock held, only for documents that would make the
// cut, so it must be quick and must not write to the index.
//
// A Hit's Score is the document's score rounded to float32; the order is
// that of the exact scores, which Score returns.
func (l *Lexical) Search(query string, k int, keep func(id string) bool) []Hit {
	if k <= 0 {
		return nil
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	q := l.query(query)
	if len(q.terms) == 0 {
		return nil
	}
	sc := l.scratchFor(len(l.docs))
	defer l.scratch.Put(sc)
	acc := sc.acc
	for i, t := range q.terms {
		for j := range l.postings[t] {
			p := &l.postings[t][j]
			d := &l.docs[p.slot]
			if !d.live {
				continue
			}
			s := l.termScore(q.idf[i], &p.freq, &d.len, &q.avg)
			if s == 0 {
				continue // the word is only in switched-off fields
			}
			if acc[p.slot] == 0 {
				sc.touched = append(sc.touched, p.slot)
			}
			acc[p.slot] += s
		}
	}
	best := lexTopK{docs: l.docs, k: k, items: sc.items[:0]}
	for _, slot := range sc.touched {
		c := lexCandidate{score: acc[slot], slot: slot}
		acc[slot] = 0 // leave the scratch clean for the next search
		if best.admits(c) && (keep == nil || keep(l.docs[slot].id)) {
			best.add(c)
		}
	}
	sc.touched = sc.touched[:0]
	sc.items = best.items[:0]
	slices.SortFunc(best.items, func(a, b lexCandidate) int {
		switch {
		case a.slot == b.slot:
			return 0
		case best.worse(a, b):
			return 1
		default:
			return -1
		}
	})
	hits := make([]Hit, len(best.items))
	for i, c := range best.items {
		hits[i] = Hit{ID: l.docs[c.slot].id, Score: float32(c.score)}
	}
	return hits
}

// lexQuery is a query resolved against the index's current statistics.
type lexQuery struct {
	// terms are the IDs of the query's words that some live document holds,
	// in query order, repeats included; idf holds their weights.
	terms []int32
	idf   []float64
	// avg is each field's mean length, at least 1.
	avg [numFields]float64
}

// query resolves the query's words. The caller holds the read lock.
func (l *Lexical) query(query string) lexQuery {
	var q lexQuery
	n := float64(len(l.slot))
	for _, w := range tokenize.Words(query) {
		t, ok := l.term[w]
		if !ok || l.df[t] == 0 {
			continue
		}
		df := float64(l.df[t])
		q.terms = append(q.terms, t)
		q.idf = append(q.idf, idf(n, df))
	}
	for f := range q.avg {
		q.avg[f] = 1
		if n > 0 {
			q.avg[f] = max(float64(l.length[f])/n, 1)
		}
	}
	return q
}

// idf is Lucene's inverse document frequency of a word held by df of n
// documents.
func idf(n, df float64) float64 {
	return math.Log(1 + (n-df+0.5)/(df+0.5))
}

// termScore is one word's contribution to a document's score (see Lexical).
func (l *Lexical) termScore(idf float64, freq *termFreq, lens *[numFields]int32, avg *[numFields]float64) float64 {
	k1, b := l.params.K1, l.params.B
	var tf float64
	for f := range numFields {
		if freq[f] == 0 || l.weight[f] == 0 {
			continue
		}
		tf += l.weight[f] * float64(freq[f]) / (1 - b + b*float64(lens[f])/avg[f])
	}
	if tf == 0 {
		return 0
	}
	return idf * tf * (k1 + 1) / (tf + k1)
}

// lexScratch is what one lexical search needs per document, kept between
// searches: the scores summed so far, and which of them are set.
type lexScratch struct {
	acc     []float64
	touched []int32
	items   []lexCandidate
}

// scratchFor returns a clean scratch for n documents.
func (l *Lexical) scratchFor(n int) *lexScratch {
	sc, _ := l.scratch.Get().(*lexScratch)
	if sc == nil {
		sc = &lexScratch{}
	}
	if len(sc.acc) < n {
		sc.acc = make([]float64, n+n/4)
	}
	return sc
}

// lexCandidate is a document's summed score.
type lexCandidate struct {
	score float64
	slot  int32
}

// lexTopK keeps the k best candidates in a bounded min-heap whose root is
// the worst of them, like topK but on exact float64 scores, so that the
// order never depends on a rounding.
type lexTopK struct {
	docs  []lexDoc
	k     int
	items []lexCandidate
}

// worse reports whether a ranks below b: a lower score, or an equal score
// and a greater ID.
func (t *lexTopK) worse(a, b lexCandidate) bool {
	if a.score != b.score {
		return a.score < b.score
	}
	return t.docs[a.slot].id > t.docs[b.slot].id
}

func (t *lexTopK) admits(c lexCandidate) bool {
	return len(t.items) < t.k || t.worse(t.items[0], c)
}

func (t *lexTopK) add(c lexCandidate) {
	if len(t.items) < t.k {
		t.items = append(t.items, c)
		for i := len(t.items) - 1; i > 0; {
			parent := (i - 1) / 2
			if !t.worse(t.items[i], t.items[parent]) {
				break
			}
			t.items[i], t.items[parent] = t.items[parent], t.items[i]
			i = parent
		}
		return
	}
	t.items[0] = c
	for i, n := 0, len(t.items); ; {
		worst := i
		if l := 2*i + 1; l < n && t.worse(t.items[l], t.items[worst]) {
			worst = l
		}
		if r := 2*i + 2; r < n && t.worse(t.items[r], t.items[worst]) {
			worst = r
		}
		if worst == i {
			return
		}
		t.items[i], t.items[worst] = t.items[worst], t.items[i]
		i = worst
	}
}
