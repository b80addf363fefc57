package retrieval

import "hmpps/internal/topk"

// candidate is a scored row of the matrix. It holds the slot rather than the
// ID so that the heap moves small values; the ID is looked up only to break
// exact ties and to build the result.
type candidate struct {
	score float32
	slot  int
}

// topK keeps the k best candidates seen so far in a bounded min-heap whose
// root is the worst of them, so that deciding whether a new row gets in costs
// one comparison and a full sort of every score is never needed.
//
// "Better" means a higher score, then the lexically smaller ID, which makes
// the order of equal scores deterministic.
type topK struct {
	// ids resolves slots to IDs for tie-breaking.
	ids []string
	// k is the capacity; items never grows past it.
	k     int
	items []candidate
}

// reset empties t for a new query, reusing its buffer when it is big enough.
func (t *topK) reset(ids []string, k int) {
	t.ids = ids
	t.k = k
	if cap(t.items) < k {
		t.items = make([]candidate, 0, k)
	}
	t.items = t.items[:0]
}

// worse reports whether a ranks below b.
func (t *topK) worse(a, b candidate) bool {
	if a.score != b.score {
		return a.score < b.score
	}
	return t.ids[a.slot] > t.ids[b.slot]
}

// admits reports whether c would enter t. Callers use it to skip costlier
// checks, such as a metadata filter, for rows that could not make the cut.
func (t *topK) admits(c candidate) bool {
	if len(t.items) < t.k {
		return true
	}
	root := t.items[0]
	// The score test settles almost every row without touching the IDs.
	if c.score != root.score {
		return c.score > root.score
	}
	return t.ids[c.slot] < t.ids[root.slot]
}

// add inserts c, which admits must have accepted, evicting the worst
// candidate when t is full.
func (t *topK) add(c candidate) {
	t.items = topk.Push(t.items, t.k, c, t.worse)
}

// drain moves the candidates into hits, best first, and empties t. The pops
// come out worst first, so they fill hits from the back.
func (t *topK) drain(hits []Hit) []Hit {
	for i := len(t.items) - 1; i >= 0; i-- {
		c := t.items[0]
		last := len(t.items) - 1
		t.items[0] = t.items[last]
		t.items = t.items[:last]
		if last > 0 {
			topk.SiftDown(t.items, 0, t.worse)
		}
		hits[i] = Hit{ID: t.ids[c.slot], Score: c.score}
	}
	return hits
}
