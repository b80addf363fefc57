package lexical

import (
	"cmp"
	"slices"

	"hmpps/retrieval"
)

// Search returns the k documents with the best positive scores for the
// query, best first; equal scores come in ascending ID order. A document
// that keep rejects is skipped (keep may be nil to keep all). keep is called
// with the index's read lock held, only for documents that would make the
// cut, so it must be quick and must not write to the index.
//
// A Hit's Score is the document's score rounded to float32; the order is
// that of the exact scores, which Score returns.
//
// It does not score every document holding a query word. It walks the
// postings of the query's words together, document by document (MaxScore,
// Turtle and Flood, 1995): each word has an upper bound on what it adds to
// any score (see walker), and once the k-th best score exceeds what the
// words of lowest bounds could add together, a document holding only those
// cannot make the cut, so only the other words' postings are walked, and
// the low ones are looked up for the documents found there. A document is
// first bounded from its words' frequencies alone, without reading its
// field lengths, and scored only if that bound reaches the k-th score. It is
// passed over only when its bound, widened well past float64's rounding, is
// strictly below the k-th score, so the hits are exactly those of scoring
// every document, ties included; each score is summed word by word in query
// order, as Score sums it.
func (l *Index) Search(query string, k int, keep func(id string) bool) []retrieval.Hit {
	if k <= 0 {
		return nil
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	sc := l.scratchFor(0)
	defer l.scratch.Put(sc)
	q := l.query(query, &sc.norms)
	if len(q.terms) == 0 {
		return nil
	}
	best := lexTopK{k: k, items: sc.items[:0]}
	defer func() { sc.items = best.items[:0] }()
	s := searcher{l: l, q: &q, sc: sc, w: l.walkers(&q, sc), best: &best, keep: keep}
	w := s.w
	for s.first < len(w) {
		if s.first == len(w)-1 {
			// One essential walker, the common case once the k-th score
			// has risen: its postings in a loop of their own.
			s.walkOne()
			break
		}
		// The next document of the essential walkers.
		doc := int32(-1)
		for i := s.first; i < len(w); i++ {
			if p := w[i].pos; p < len(w[i].ps.slots) {
				if d := w[i].ps.slots[p]; doc < 0 || d < doc {
					doc = d
				}
			}
		}
		if doc < 0 {
			break
		}
		bound := 0.0
		for i := s.first; i < len(w); i++ {
			wk := &w[i]
			wk.found = false
			if p := wk.pos; p < len(wk.ps.slots) && wk.ps.slots[p] == doc {
				wk.pos++
				wk.found, wk.freq = true, wk.ps.freq(p)
				bound += wk.freqBound(l)
			}
		}
		s.consider(doc, bound)
	}
	return best.hits()
}

// searcher is one Search's state.
type searcher struct {
	l    *Index
	q    *lexQuery
	sc   *lexScratch
	w    []walker
	best *lexTopK
	keep func(string) bool
	// theta is the k-th best score once k documents are kept, and first
	// the first essential walker: the ones before it are the low ones.
	theta float64
	first int
}

// walkOne walks the postings of the last walker, the only essential one.
func (s *searcher) walkOne() {
	wk := &s.w[len(s.w)-1]
	wk.found = true
	for wk.pos < len(wk.ps.slots) && s.first < len(s.w) {
		p := wk.pos
		wk.pos++
		wk.freq = wk.ps.freq(p)
		s.consider(wk.ps.slots[p], wk.freqBound(s.l))
	}
}

// consider finishes the document doc, whose essential walkers are on it or
// past it (found says which hold it) and whose frequency bounds add up to
// bound: it looks up the low walkers, highest bound first, while the
// document can still make the cut; then it scores the document exactly and
// keeps it if it makes the cut.
func (s *searcher) consider(doc int32, bound float64) {
	l, w, below := s.l, s.w, s.sc.below
	if widen(bound+below[s.first]) < s.theta {
		return
	}
	for i := s.first - 1; i >= 0; i-- {
		wk := &w[i]
		wk.found = false
		if !wk.ps.holdsStrong(doc) && widen(bound+wk.weak+below[i]) < s.theta {
			// The document holds the word in its body alone, if at all,
			// and cannot make the cut even so: no need to find it.
			return
		}
		wk.pos = seekSlot(wk.ps.slots, wk.pos, doc)
		if p := wk.pos; p < len(wk.ps.slots) && wk.ps.slots[p] == doc {
			wk.found, wk.freq = true, wk.ps.freq(p)
			bound += wk.freqBound(l)
		}
		if widen(bound+below[i]) < s.theta {
			return
		}
	}
	st := &l.stats[doc]
	if !st.live {
		return
	}
	for i := range w {
		wk := &w[i]
		wk.score = 0
		if wk.found {
			wk.score = l.termScore(wk.idf, l.tf(s.q, &wk.freq, st))
		}
	}
	// The exact score, word by word in query order.
	score := 0.0
	for _, i := range s.sc.occurrence {
		score += w[i].score
	}
	if score == 0 || !s.best.admits(score, l.docs, doc) {
		return
	}
	id := l.docs[doc].id
	if s.keep != nil && !s.keep(id) {
		return
	}
	s.best.add(lexCandidate{score: score, slot: doc, id: id})
	if len(s.best.items) == s.best.k {
		s.theta = s.best.items[0].score
		for s.first < len(w) && widen(below[s.first+1]) < s.theta {
			s.first++
		}
	}
}

// walker is one distinct word of a query on its way through its postings.
type walker struct {
	ps *postings
	// pos is the next posting to read.
	pos int
	idf float64
	// count is how many times the word is in the query.
	count int
	// norm is, for each field, what one occurrence adds to tf in the
	// shortest field holding the word: a tf bound per occurrence.
	norm [numFields]float64
	// bound is the most the word adds to any score: count occurrences of
	// its largest tf bound; weak the most it adds to a document that holds
	// it in the body alone (see postings.weakFreq).
	bound, weak float64
	// found says whether the current document holds the word, freq how
	// often, and score what one occurrence adds to its score.
	found bool
	freq  termFreq
	score float64
}

// freqBound bounds what the word adds to the score of the document whose
// frequencies wk.freq holds, from them alone: tf grows with the frequency
// and shrinks with the field's length, and so does its float64
// computation, so the shortest length bounds it to the last bit.
func (wk *walker) freqBound(l *Index) float64 {
	var tf float64
	for f := range numFields {
		tf += float64(wk.freq[f]) * wk.norm[f]
	}
	return float64(wk.count) * l.termScore(wk.idf, tf)
}

// walkers returns a walker for each distinct word of q, lowest bound
// first, and fills sc.below, the sum of the bounds of the walkers before
// each, and sc.occurrence, each query word's walker in query order.
func (l *Index) walkers(q *lexQuery, sc *lexScratch) []walker {
	w := sc.walkers[:0]
	for i, t := range q.terms {
		found := false
		for j := range w {
			if w[j].ps == &l.postings[t] {
				w[j].count++
				found = true
			}
		}
		if !found {
			w = append(w, walker{ps: &l.postings[t], idf: q.idf[i], count: 1})
		}
	}
	for i := range w {
		wk := &w[i]
		for f := range numFields {
			if wk.ps.maxFreq[f] > 0 {
				wk.norm[f] = l.fieldNorm(f, wk.ps.minLen[f], q.avg[f])
			}
		}
		wk.freq = wk.ps.maxFreq
		wk.bound = wk.freqBound(l)
		if wk.ps.weakFreq > 0 {
			wk.freq = termFreq{fieldBody: wk.ps.weakFreq}
			wk.norm[fieldBody] = l.fieldNorm(fieldBody, wk.ps.weakLen, q.avg[fieldBody])
			wk.weak = wk.freqBound(l)
			wk.norm[fieldBody] = 0
			if wk.ps.maxFreq[fieldBody] > 0 {
				wk.norm[fieldBody] = l.fieldNorm(fieldBody, wk.ps.minLen[fieldBody], q.avg[fieldBody])
			}
		}
	}
	slices.SortStableFunc(w, func(a, b walker) int { return cmp.Compare(a.bound, b.bound) })
	sc.below = append(sc.below[:0], 0)
	for _, wk := range w {
		sc.below = append(sc.below, sc.below[len(sc.below)-1]+wk.bound)
	}
	sc.occurrence = sc.occurrence[:0]
	for _, t := range q.terms {
		for j := range w {
			if w[j].ps == &l.postings[t] {
				sc.occurrence = append(sc.occurrence, j)
				break
			}
		}
	}
	sc.walkers = w
	return w
}

// widen raises a bound on a sum of scores past what float64's rounding can
// add to the sum, or to a term score computed at a lower tf (its quotient is
// not monotone in float64, only within a few ulps of it): a relative 1e-9,
// for queries of any reasonable length.
func widen(bound float64) float64 { return bound * (1 + 1e-9) }
