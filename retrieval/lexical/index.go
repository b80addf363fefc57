package lexical

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
)

// Doc is one product's text, by field (plain text, no HTML). Each
// field is split into words by the same tokenizer as the hashing embedder,
// so a query word matches a document word exactly when the embedder would
// hash them alike.
type Doc struct {
	Title, Brand, Category, Body string
}

// The fields of a Doc, in the order of the arrays indexed by field.
const (
	fieldTitle = iota
	fieldBrand
	fieldCategory
	fieldBody
	numFields
)

// fields returns doc's fields in field order.
func (d *Doc) fields() [numFields]string {
	return [numFields]string{d.Title, d.Brand, d.Category, d.Body}
}

// The default BM25F parameters. K1 and B are the textbook values (Robertson
// and Zaragoza, 2009). The field weights count a word of the title as three
// words of the description and a word of the brand or category path as two:
// those short fields name what the product is, the description also says what
// it goes with.
const (
	DefaultK1             = 1.2
	DefaultB              = 0.75
	DefaultTitleWeight    = 3
	DefaultBrandWeight    = 2
	DefaultCategoryWeight = 2
	DefaultBodyWeight     = 1
)

// ErrInvalidParams reports Params that cannot score: a NaN value, one
// beyond float32's range, a negative K1 or a B above 1.
var ErrInvalidParams = errors.New("lexical: invalid parameters")

// Params sets the BM25F scoring of an Index. Every field left at zero takes
// its default (the Default constants), so the zero value is the recommended
// setting.
type Params struct {
	// K1 is the term-frequency saturation: how fast repeating a word stops
	// adding to the score. If zero, DefaultK1; it must not be negative.
	K1 float64
	// B is the length normalization, at most 1: 1 divides a field's term
	// frequency by its length relative to the field's average, 0 ignores
	// length. If zero, DefaultB; a negative B means no length normalization.
	B float64
	// TitleWeight, BrandWeight, CategoryWeight and BodyWeight scale a word's
	// frequency in each field before saturation (BM25F). If zero, the
	// field's default; a negative weight switches the field off (it is
	// indexed but never scores).
	TitleWeight, BrandWeight, CategoryWeight, BodyWeight float64
}

// Validate returns an error wrapping ErrInvalidParams for a NaN value, one
// beyond float32's range, a negative K1 or a B above 1.
func (p Params) Validate() error {
	for _, f := range []struct {
		name string
		v    float64
	}{{"K1", p.K1}, {"B", p.B}, {"TitleWeight", p.TitleWeight}, {"BrandWeight", p.BrandWeight},
		{"CategoryWeight", p.CategoryWeight}, {"BodyWeight", p.BodyWeight}} {
		// A value past float32's range would overflow a score to
		// infinity and every comparison with it to NaN.
		if math.IsNaN(f.v) || math.Abs(f.v) > math.MaxFloat32 {
			return fmt.Errorf("%w: %s is %v", ErrInvalidParams, f.name, f.v)
		}
	}
	switch {
	case p.K1 < 0:
		return fmt.Errorf("%w: K1 is %v, must not be negative", ErrInvalidParams, p.K1)
	case p.B > 1:
		return fmt.Errorf("%w: B is %v, at most 1", ErrInvalidParams, p.B)
	}
	return nil
}

// resolved returns valid p with its defaults filled in and its switches
// (a negative B or weight) turned into the values they stand for.
func (p Params) resolved() Params {
	orDefault := func(v, def float64) float64 {
		if v == 0 {
			return def
		}
		return max(v, 0)
	}
	p.K1 = orDefault(p.K1, DefaultK1)
	p.B = orDefault(p.B, DefaultB)
	p.TitleWeight = orDefault(p.TitleWeight, DefaultTitleWeight)
	p.BrandWeight = orDefault(p.BrandWeight, DefaultBrandWeight)
	p.CategoryWeight = orDefault(p.CategoryWeight, DefaultCategoryWeight)
	p.BodyWeight = orDefault(p.BodyWeight, DefaultBodyWeight)
	return p
}

// Index is an in-memory BM25F index over product text: the lexical
// relevance signal beside the vectors. A word's frequency in each field is
// weighted and normalized by the field's length, the fields are summed, and
// the sum is saturated once (Robertson and Zaragoza, 2009, §3.8):
//
//	tf(w, d)    = Σ_f weight_f · freq_f(w, d) / (1 − B + B · len_f(d) / avglen_f)
//	score(q, d) = Σ_{w ∈ q} idf(w) · tf(w, d) · (K1 + 1) / (tf(w, d) + K1)
//	idf(w)      = ln(1 + (N − df(w) + 0.5) / (df(w) + 0.5))
//
// where N is the number of documents, df(w) the number holding w in any
// field, avglen_f the mean length of field f in words (at least 1), and a
// word repeated in the query counts once per repetition. The idf is
// Lucene's, whose +1 keeps the weight of a word found in most documents
// positive. With one field of weight 1 this is Okapi BM25 exactly.
//
// The statistics are maintained incrementally: Upsert and Delete update the
// document frequencies and field lengths, so a score always reflects the
// documents in the index at the time of the call. A Index is safe for
// concurrent use: scoring runs in parallel, writes take turns.
type Index struct {
	// params are resolved: every value is in range.
	params Params
	// weight holds the field weights, indexed by field.
	weight [numFields]float64

	mu sync.RWMutex
	// slot maps a live document's ID to its place in docs.
	slot map[string]int32
	// docs holds the documents in the order they were written, and stats
	// what a score reads of each, by the same slot. A replaced or deleted
	// document stays, dead, until compact drops the dead ones, so that a
	// slot never names two documents between compactions and the postings
	// need no deletions.
	docs  []lexDoc
	stats []lexStats
	dead  int
	// terms holds every document's word IDs, ascending, as uvarint gaps
	// (see lexDoc): what Delete needs to take a document out of df. A dead
	// document's stay until compact.
	terms []byte
	// term maps a word to its ID, the index of words, df and postings.
	term  map[string]int32
	words []string
	// df counts the live documents holding each word.
	df []int32
	// postings lists, for each word, the documents holding it (dead ones
	// included) with the word's frequency in each field.
	postings []postings
	// length sums the field lengths of the live documents.
	length [numFields]int64
	// scratch holds lexScratch values, so a search allocates nothing
	// that scales with the catalog.
	scratch sync.Pool
}

// lexDoc is one document as the index holds it, apart from its lexStats:
// its ID, and where its word IDs are in Index.terms.
type lexDoc struct {
	id string
	// terms[at:at+n] are the document's word IDs; n is 0 once it is dead.
	at int
	n  int32
}

// lexStats is what a score reads of a document besides its words'
// frequencies. It is kept out of lexDoc, in an array of its own, so that a
// search walking the postings of a common word, which name most of the
// slots, reads 20 bytes a document from a compact array rather than a
// lexDoc and its ID.
type lexStats struct {
	// len is each field's length in words.
	len  [numFields]int32
	live bool
}

// freq returns the frequencies of word t in the document at slot, and
// whether the document holds it. The caller holds a lock.
func (l *Index) freq(t, slot int32) (termFreq, bool) {
	p := &l.postings[t]
	i, found := slices.BinarySearch(p.slots, slot)
	if !found {
		return termFreq{}, false
	}
	return p.freq(i), true
}

// appendTerms appends the word IDs of the document at slot to dst.
func (l *Index) appendTerms(dst []int32, slot int32) []int32 {
	d := &l.docs[slot]
	b := l.terms[d.at:]
	t := int64(-1)
	for range d.n {
		gap, n := binary.Uvarint(b)
		b = b[n:]
		t += int64(gap)
		dst = append(dst, int32(t))
	}
	return dst
}

// minCompact is the fewest dead documents worth a compaction: below it,
// holding them costs less than rebuilding the postings.
const minCompact = 64

// New returns an empty index scoring with p (see Params for the defaults),
// or an error wrapping ErrInvalidParams.
func New(p Params) (*Index, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	p = p.resolved()
	return &Index{
		params: p,
		weight: [numFields]float64{p.TitleWeight, p.BrandWeight, p.CategoryWeight, p.BodyWeight},
		slot:   make(map[string]int32),
		term:   make(map[string]int32),
	}, nil
}

// Params returns the parameters the index scores with, defaults filled in.
func (l *Index) Params() Params { return l.params }

// Len returns the number of documents in the index.
func (l *Index) Len() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.slot)
}

// Contains reports whether the index holds a document with this ID.
func (l *Index) Contains(id string) bool {
	l.mu.RLock()
	defer l.mu.RUnlock()
	_, ok := l.slot[id]
	return ok
}

// IDs returns the IDs of the documents in the index, in no order.
func (l *Index) IDs() []string {
	l.mu.RLock()
	defer l.mu.RUnlock()
	ids := make([]string, 0, len(l.slot))
	for id := range l.slot {
		ids = append(ids, id)
	}
	return ids
}

// Upsert indexes doc under id, replacing the document with the same ID if
// there is one. Every ID is valid, the empty one included; a document with
// no words still counts in N and in the average lengths.
func (l *Index) Upsert(id string, doc Doc) {
	a := Analyze(doc)
	l.UpsertAnalyzed(id, &a)
}

// UpsertAnalyzed is Upsert of the document a was made from: tokenizing,
// the slow part, is Analyze's, so that a caller writing many documents can
// do it beforehand, on every CPU and without a lock.
func (l *Index) UpsertAnalyzed(id string, a *Analysis) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.remove(id)
	slot := int32(len(l.docs))
	ids := make([]int32, 0, len(a.words))
	for i, w := range a.words {
		t, ok := l.term[w]
		if !ok {
			// The word may be a substring of the document's text: a copy
			// keeps the text collectable.
			w = strings.Clone(w)
			t = int32(len(l.words))
			l.term[w] = t
			l.words = append(l.words, w)
			l.df = append(l.df, 0)
			l.postings = append(l.postings, postings{})
		}
		l.df[t]++
		p := &l.postings[t]
		p.add(slot, a.freqs[i], &a.lens)
		if p.strong == nil && len(p.slots) >= strongFrom(len(l.docs)+1) {
			p.buildStrong()
		}
		ids = append(ids, t)
	}
	slices.Sort(ids)
	for f, n := range a.lens {
		l.length[f] += int64(n)
	}
	d := lexDoc{id: id, at: len(l.terms), n: int32(len(ids))}
	l.terms = appendGaps(l.terms, ids)
	l.docs = append(l.docs, d)
	l.stats = append(l.stats, lexStats{len: a.lens, live: true})
	l.slot[id] = slot
	l.compactIfWorth()
}

// UpsertBatch is UpsertAnalyzed of each document of a batch, ids[i] being
// analyses[i]'s ID, under one lock, its work spread over the CPUs: the
// words are looked up in parallel and each word's postings appended by one
// goroutine. An ID given twice is written twice, the second replacing the
// first.
func (l *Index) UpsertBatch(ids []string, analyses []Analysis) {
	if len(ids) < minBatch {
		for i := range ids {
			l.UpsertAnalyzed(ids[i], &analyses[i])
		}
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	// The word IDs of every document; words new to the index are added
	// afterwards, in the batch's order, so that they are numbered alike
	// whatever the parallelism.
	terms := make([][]int32, len(ids))
	parallel(len(ids), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			a := &analyses[i]
			ts := make([]int32, len(a.words))
			for j, w := range a.words {
				t, ok := l.term[w]
				if !ok {
					t = -1
				}
				ts[j] = t
			}
			terms[i] = ts
		}
	})
	for i := range ids {
		for j, t := range terms[i] {
			if t >= 0 {
				continue
			}
			w := analyses[i].words[j]
			t, ok := l.term[w]
			if !ok {
				w = strings.Clone(w)
				t = int32(len(l.words))
				l.term[w] = t
				l.words = append(l.words, w)
				l.df = append(l.df, 0)
				l.postings = append(l.postings, postings{})
			}
			terms[i][j] = t
		}
	}
	// The documents, in order: a replaced one dies before its new slot.
	first := int32(len(l.docs))
	var sorted []int32
	for i, id := range ids {
		l.remove(id)
		slot := int32(len(l.docs))
		a := &analyses[i]
		sorted = append(sorted[:0], terms[i]...)
		slices.Sort(sorted)
		for _, t := range sorted {
			l.df[t]++
		}
		for f, n := range a.lens {
			l.length[f] += int64(n)
		}
		l.docs = append(l.docs, lexDoc{id: id, at: len(l.terms), n: int32(len(sorted))})
		l.terms = appendGaps(l.terms, sorted)
		l.stats = append(l.stats, lexStats{len: a.lens, live: true})
		l.slot[id] = slot
	}
	// The postings, each word's by one goroutine, in slot order.
	workers := max(1, min(runtime.GOMAXPROCS(0), len(ids)/minBatch))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range ids {
				slot := first + int32(i)
				a := &analyses[i]
				for j, t := range terms[i] {
					if int(t)%workers == w {
						l.postings[t].add(slot, a.freqs[j], &a.lens)
					}
				}
			}
			for t := w; t < len(l.postings); t += workers {
				if p := &l.postings[t]; p.strong == nil && len(p.slots) >= strongFrom(len(l.docs)) {
					p.buildStrong()
				}
			}
		})
	}
	wg.Wait()
	l.compactIfWorth()
}

// minBatch is the smallest batch UpsertBatch spreads over the CPUs.
const minBatch = 64

// appendGaps appends ascending word IDs to b as uvarint gaps, the first
// from -1.
func appendGaps(b []byte, ids []int32) []byte {
	prev := int32(-1)
	for _, t := range ids {
		b = binary.AppendUvarint(b, uint64(t-prev))
		prev = t
	}
	return b
}

// Delete removes the documents with these IDs; unknown IDs are ignored.
func (l *Index) Delete(ids ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, id := range ids {
		l.remove(id)
	}
	l.compactIfWorth()
}

// remove takes the document with this ID, if any, out of the statistics and
// marks it dead. The caller holds the write lock.
func (l *Index) remove(id string) {
	slot, ok := l.slot[id]
	if !ok {
		return
	}
	delete(l.slot, id)
	var buf [64]int32
	for _, t := range l.appendTerms(buf[:0], slot) {
		l.df[t]--
	}
	st := &l.stats[slot]
	for f, n := range st.len {
		l.length[f] -= int64(n)
	}
	st.live = false
	l.docs[slot].n = 0
	l.dead++
}

// compactIfWorth drops the dead documents once they are at least half of
// the slots (and minCompact), renumbering the live ones and the words still
// in use. Each compaction costs the size of the index and follows at least
// as many writes as there are live documents, so writes stay amortized
// constant time per word. The caller holds the write lock.
func (l *Index) compactIfWorth() {
	if l.dead < minCompact || 2*l.dead < len(l.docs) {
		return
	}
	// Word IDs are renumbered in their old order, so each document's terms
	// stay sorted.
	renumber := make([]int32, len(l.words))
	words := make([]string, 0, len(l.words))
	df := make([]int32, 0, len(l.words))
	for t, w := range l.words {
		if l.df[t] == 0 {
			renumber[t] = -1
			delete(l.term, w)
			continue
		}
		renumber[t] = int32(len(words))
		l.term[w] = int32(len(words))
		words = append(words, w)
		df = append(df, l.df[t])
	}
	// Slots are renumbered in their old order too, so postings stay
	// sorted.
	newSlot := make([]int32, len(l.docs))
	docs := make([]lexDoc, 0, len(l.slot))
	stats := make([]lexStats, 0, len(l.slot))
	var terms []byte
	var ids []int32
	for i, d := range l.docs {
		if !l.stats[i].live {
			continue
		}
		ids = l.appendTerms(ids[:0], int32(i))
		for j, t := range ids {
			ids[j] = renumber[t]
		}
		newSlot[i] = int32(len(docs))
		l.slot[d.id] = int32(len(docs))
		docs = append(docs, lexDoc{id: d.id, at: len(terms), n: d.n})
		terms = appendGaps(terms, ids)
		stats = append(stats, l.stats[i])
	}
	lists := make([]postings, len(words))
	for t := range l.postings {
		nt := renumber[t]
		if nt < 0 {
			continue
		}
		old := &l.postings[t]
		p := postings{slots: make([]int32, 0, df[nt]), freqs: make([]uint16, 0, df[nt])}
		for i, slot := range old.slots {
			if l.stats[slot].live {
				p.add(newSlot[slot], old.freq(i), &l.stats[slot].len)
			}
		}
		if len(p.slots) >= strongFrom(len(docs)) {
			p.buildStrong()
		}
		lists[nt] = p
	}
	l.docs, l.stats, l.terms, l.dead = docs, stats, terms, 0
	l.words, l.df, l.postings = words, df, lists
}
