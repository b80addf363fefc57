package lexical

import (
	"cmp"
	"math"
	"slices"

	"hmpps/internal/tokenize"
	"hmpps/internal/topk"
	"hmpps/retrieval"
)

// Score appends to dst the BM25F score of each id for the query, in order,
// and returns it; an unknown id scores 0, and so does every id for a query
// with no word in the index.
func (l *Index) Score(query string, ids []string, dst []float64) []float64 {
	start := len(dst)
	dst = slices.Grow(dst, len(ids))
	for range ids {
		dst = append(dst, 0)
	}
	out := dst[start:]
	l.mu.RLock()
	defer l.mu.RUnlock()
	q := l.query(query, nil)
	if len(q.terms) == 0 {
		return dst
	}
	// The documents in slot order, so that each word's postings, which are
	// in slot order too, are searched forward from the last document's
	// place: a few steps in memory just read, rather than a binary search
	// of the whole list per document.
	sc := l.scratchFor(0)
	defer l.scratch.Put(sc)
	docs := sc.bySlot[:0]
	defer func() { sc.bySlot = docs[:0] }()
	for i, id := range ids {
		if slot, ok := l.slot[id]; ok {
			docs = append(docs, slotAt{slot: slot, at: int32(i)})
		}
	}
	slices.SortFunc(docs, func(a, b slotAt) int { return cmp.Compare(a.slot, b.slot) })
	for i, t := range q.terms {
		// Term by term in query order, the same sum as Search's, so that
		// the two agree to the last bit.
		ps, from := &l.postings[t], 0
		for _, d := range docs {
			from = seekSlot(ps.slots, from, d.slot)
			if from == len(ps.slots) {
				break
			}
			if ps.slots[from] == d.slot {
				freq := ps.freq(from)
				out[d.at] += l.termScore(q.idf[i], l.tf(&q, &freq, &l.stats[d.slot]))
			}
		}
	}
	return dst
}

// searchExhaustive is Search the plain way: every posting of every query
// word scored into an accumulator per document. Search prunes; the tests
// hold it to this, hit for hit.
func (l *Index) searchExhaustive(query string, k int, keep func(id string) bool) []retrieval.Hit {
	if k <= 0 {
		return nil
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	sc := l.scratchFor(len(l.docs))
	defer l.scratch.Put(sc)
	q := l.query(query, &sc.norms)
	if len(q.terms) == 0 {
		return nil
	}
	acc := sc.acc
	for i, t := range q.terms {
		ps := &l.postings[t]
		for j, slot := range ps.slots {
			st := &l.stats[slot]
			if !st.live {
				continue
			}
			freq := ps.freq(j)
			s := l.termScore(q.idf[i], l.tf(&q, &freq, st))
			if s == 0 {
				continue // the word is only in switched-off fields
			}
			if acc[slot] == 0 {
				sc.touched = append(sc.touched, slot)
			}
			acc[slot] += s
		}
	}
	best := lexTopK{k: k, items: sc.items[:0]}
	defer func() { sc.items = best.items[:0] }()
	for _, slot := range sc.touched {
		score := acc[slot]
		acc[slot] = 0 // leave the scratch clean for the next search
		if !best.admits(score, l.docs, slot) {
			continue
		}
		if id := l.docs[slot].id; keep == nil || keep(id) {
			best.add(lexCandidate{score: score, slot: slot, id: id})
		}
	}
	sc.touched = sc.touched[:0]
	return best.hits()
}

// hits returns t's candidates as hits, best first, and clears them, so
// that the scratch holding them keeps no ID between searches.
func (t *lexTopK) hits() []retrieval.Hit {
	slices.SortFunc(t.items, func(a, b lexCandidate) int {
		switch {
		case a.slot == b.slot:
			return 0
		case t.worse(a, b):
			return 1
		default:
			return -1
		}
	})
	hits := make([]retrieval.Hit, len(t.items))
	for i, c := range t.items {
		hits[i] = retrieval.Hit{ID: c.id, Score: float32(c.score)}
	}
	clear(t.items)
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
	// norms, if not nil, holds fieldNorm by field and length, for the
	// lengths below normsCached. A search sets it: it scores thousands of
	// documents of a few lengths each, and a division per posting and
	// field becomes a load.
	norms *lexNorms
}

// normsCached bounds the field lengths whose fieldNorm a search tabulates:
// it covers the titles and most descriptions of a product catalog, and the
// table stays in the first-level cache of a processor.
const normsCached = 256

// lexNorms is fieldNorm by field and length.
type lexNorms [numFields][normsCached]float64

// query resolves the query's words and, if norms is not nil, fills it in
// for the query's statistics. The caller holds the read lock.
func (l *Index) query(query string, norms *lexNorms) lexQuery {
	q := lexQuery{norms: norms}
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
	if norms != nil && len(q.terms) > 0 {
		for f := range norms {
			for length := range norms[f] {
				norms[f][length] = l.fieldNorm(f, int32(length), q.avg[f])
			}
		}
	}
	return q
}

// idf is Lucene's inverse document frequency of a word held by df of n
// documents.
func idf(n, df float64) float64 {
	return math.Log(1 + (n-df+0.5)/(df+0.5))
}

// tf is the weighted, length-normalized frequency tf(w, d) of Index's
// formula of a word found freq times in each field of a document. It sums
// all the fields, a word's absent ones adding an exact 0, because a branch
// on each frequency costs a search more than the multiplications.
func (l *Index) tf(q *lexQuery, freq *termFreq, st *lexStats) float64 {
	var tf float64
	for f := range numFields {
		n := st.len[f]
		var norm float64
		if q.norms != nil && n < normsCached {
			norm = q.norms[f][n]
		} else {
			norm = l.fieldNorm(f, n, q.avg[f])
		}
		tf += float64(freq[f]) * norm
	}
	return tf
}

// fieldNorm is what one occurrence of a word in field f of n words adds to
// tf(w, d): the field's weight over its length normalization, given the
// field's mean length avg; 0 for an empty field, which holds no word.
func (l *Index) fieldNorm(f int, n int32, avg float64) float64 {
	if n == 0 {
		return 0
	}
	b := l.params.B
	return l.weight[f] / (1 - b + b*float64(n)/avg)
}

// termScore is one word's contribution to a document's score, given its tf
// (see Index).
func (l *Index) termScore(idf, tf float64) float64 {
	if tf == 0 {
		return 0
	}
	k1 := l.params.K1
	return idf * tf * (k1 + 1) / (tf + k1)
}

// lexScratch is what one lexical search needs per document, kept between
// searches: the scores summed so far, which of them are set, the best
// ones, and the table of field norms.
type lexScratch struct {
	acc     []float64
	touched []int32
	items   []lexCandidate
	norms   lexNorms
	// bySlot is Score's list of the documents asked for, in slot order.
	bySlot []slotAt
	// walkers, below and occurrence are Search's (see Index.walkers).
	walkers    []walker
	below      []float64
	occurrence []int
}

// slotAt is a document Score was asked for: its slot, and its place in the
// request.
type slotAt struct{ slot, at int32 }

// scratchFor returns a clean scratch for n documents.
func (l *Index) scratchFor(n int) *lexScratch {
	sc, _ := l.scratch.Get().(*lexScratch)
	if sc == nil {
		sc = &lexScratch{}
	}
	if len(sc.acc) < n {
		sc.acc = make([]float64, n+n/4)
	}
	return sc
}

// lexCandidate is a document's summed score, with its ID: equal scores are
// common (a word's postings hold many documents of the same field lengths),
// and the heap compares their IDs without a trip to the documents.
type lexCandidate struct {
	score float64
	slot  int32
	id    string
}

// lexTopK keeps the k best candidates in a bounded min-heap whose root is
// the worst of them, like topK but on exact float64 scores, so that the
// order never depends on a rounding.
type lexTopK struct {
	k     int
	items []lexCandidate
}

// worse reports whether a ranks below b: a lower score, or an equal score
// and a greater ID.
func (t *lexTopK) worse(a, b lexCandidate) bool {
	if a.score != b.score {
		return a.score < b.score
	}
	return a.id > b.id
}

// admits reports whether the document at slot of docs, with this score,
// would make the cut; it reads the document's ID only on a tie with the
// worst candidate kept.
func (t *lexTopK) admits(score float64, docs []lexDoc, slot int32) bool {
	if len(t.items) < t.k {
		return true
	}
	worst := &t.items[0]
	if score != worst.score {
		return score > worst.score
	}
	return docs[slot].id < worst.id
}

// add inserts c, which admits must have accepted, evicting the worst
// candidate when t is full.
func (t *lexTopK) add(c lexCandidate) {
	t.items = topk.Push(t.items, t.k, c, t.worse)
}
