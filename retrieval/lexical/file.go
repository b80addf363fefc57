package lexical

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
)

// Format is the version of the encoding MarshalBinary writes. It
// changes whenever the encoding or the tokenizer does, since the counts it
// holds are the tokenizer's.
const Format = 1

// ErrFormat means encoded lexical statistics were written in another
// Format than this library's: the index must be rebuilt from the
// documents' text.
var ErrFormat = errors.New("lexical: index in another format")

// ErrCorrupt reports encoded statistics that are truncated, have trailing
// bytes or hold impossible content.
var ErrCorrupt = errors.New("lexical: corrupt index")

// MarshalBinary encodes the index's documents: for each one its ID, field
// lengths and word frequencies, the statistics from which UnmarshalBinary
// restores the index without the text. The parameters are not encoded: they
// weigh the statistics at query time and belong to whoever scores. The
// encoding is deterministic: two indexes holding the same documents encode
// to the same bytes, whatever their history.
//
// The layout is uvarints and length-prefixed strings: Format; the
// number of words, then the words in ascending order; the number of
// documents, then each document in ascending ID order as its ID, its four
// field lengths, its number of distinct words and, for each by ascending
// word, the gap to the previous word's number and its four frequencies.
func (l *Index) MarshalBinary() ([]byte, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	// The words some live document holds, numbered in ascending order.
	var words []string
	for t, w := range l.words {
		if l.df[t] > 0 {
			words = append(words, w)
		}
	}
	slices.Sort(words)
	number := make([]int, len(l.words))
	for i, w := range words {
		number[l.term[w]] = i
	}
	ids := make([]string, 0, len(l.slot))
	for id := range l.slot {
		ids = append(ids, id)
	}
	slices.Sort(ids)

	b := binary.AppendUvarint(nil, Format)
	b = binary.AppendUvarint(b, uint64(len(words)))
	for _, w := range words {
		b = appendString(b, w)
	}
	b = binary.AppendUvarint(b, uint64(len(ids)))
	type numbered struct {
		n    int
		freq termFreq
	}
	var terms []numbered
	for _, id := range ids {
		slot := l.slot[id]
		d := &l.docs[slot]
		b = appendString(b, id)
		for _, n := range l.stats[slot].len {
			b = binary.AppendUvarint(b, uint64(n))
		}
		terms = terms[:0]
		for _, t := range d.terms {
			freq, _ := l.freq(t, slot)
			terms = append(terms, numbered{n: number[t], freq: freq})
		}
		slices.SortFunc(terms, func(a, b numbered) int { return a.n - b.n })
		b = binary.AppendUvarint(b, uint64(len(terms)))
		prev := -1
		for _, t := range terms {
			b = binary.AppendUvarint(b, uint64(t.n-prev))
			prev = t.n
			for _, f := range t.freq {
				b = binary.AppendUvarint(b, uint64(f))
			}
		}
	}
	return b, nil
}

// UnmarshalBinary replaces the index's documents with those data encodes
// (see MarshalBinary), keeping its parameters. Data of another
// Format fails with ErrFormat; malformed data with
// ErrCorrupt, and the index is then left unchanged.
func (l *Index) UnmarshalBinary(data []byte) error {
	r := lexReader{data: data}
	if v := r.uvarint(); r.err == nil && v != Format {
		return fmt.Errorf("%w: format %d, this library reads %d", ErrFormat, v, Format)
	}
	// Every count is bounded by the bytes left, so corrupt counts cannot
	// make the decoder allocate more than the input justifies.
	words := make([]string, r.count(1))
	for i := range words {
		words[i] = r.string()
		if r.err == nil && (words[i] == "" || i > 0 && words[i] <= words[i-1]) {
			r.fail("words not in strictly ascending order")
		}
	}
	docs := make([]lexDoc, r.count(6))
	stats := make([]lexStats, len(docs))
	slot := make(map[string]int32, len(docs))
	df := make([]int32, len(words))
	postings := make([][]posting, len(words))
	var length [numFields]int64
	for i := range docs {
		d, st := &docs[i], &stats[i]
		d.id, st.live = r.string(), true
		if _, dup := slot[d.id]; dup && r.err == nil {
			r.fail(fmt.Sprintf("document %q twice", d.id))
		}
		slot[d.id] = int32(i)
		for f := range st.len {
			st.len[f] = int32(r.bounded(math.MaxInt32))
			length[f] += int64(st.len[f])
		}
		d.terms = make([]int32, r.count(5))
		var sum [numFields]int64
		t := int64(-1)
		for j := range d.terms {
			gap := r.bounded(uint64(len(words)))
			t += int64(gap)
			if r.err == nil && (gap == 0 || t >= int64(len(words))) {
				r.fail("word number out of order or range")
			}
			d.terms[j] = int32(t)
			var freq termFreq
			var held bool
			for f := range numFields {
				n := r.bounded(math.MaxUint16)
				freq[f] = uint16(n)
				sum[f] += int64(n)
				held = held || n > 0
			}
			if r.err == nil && !held {
				r.fail(fmt.Sprintf("document %q holds a word zero times", d.id))
			}
			if r.err == nil {
				df[t]++
				postings[t] = append(postings[t], posting{slot: int32(i), freq: freq})
			}
		}
		for f, n := range sum {
			if r.err == nil && n > int64(st.len[f]) {
				r.fail(fmt.Sprintf("document %q: field %d has %d words, its frequencies sum to %d", d.id, f, st.len[f], n))
			}
		}
	}
	if r.err == nil && r.off != len(data) {
		r.fail(fmt.Sprintf("%d bytes after the end", len(data)-r.off))
	}
	if r.err == nil && slices.Contains(df, 0) {
		r.fail("a word no document holds")
	}
	if r.err != nil {
		return r.err
	}

	term := make(map[string]int32, len(words))
	for t, w := range words {
		term[w] = int32(t)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.slot, l.docs, l.stats, l.dead = slot, docs, stats, 0
	l.term, l.words, l.df, l.postings, l.length = term, words, df, postings, length
	return nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// lexReader decodes MarshalBinary's encoding; its first error sticks, and
// after it every read returns zero values.
type lexReader struct {
	data []byte
	off  int
	err  error
}

func (r *lexReader) fail(why string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: lexical statistics at byte %d: %s", ErrCorrupt, r.off, why)
	}
}

func (r *lexReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.data[r.off:])
	if n <= 0 {
		r.fail("bad or truncated number")
		return 0
	}
	r.off += n
	return v
}

// bounded reads a number that must not exceed max.
func (r *lexReader) bounded(max uint64) uint64 {
	v := r.uvarint()
	if v > max {
		r.fail(fmt.Sprintf("number %d over %d", v, max))
		return 0
	}
	return v
}

// count reads the number of items that follow, each at least minBytes long.
func (r *lexReader) count(minBytes int) int {
	n := r.uvarint()
	if left := uint64((len(r.data) - r.off) / minBytes); n > left {
		r.fail(fmt.Sprintf("%d items, room for %d", n, left))
		return 0
	}
	return int(n)
}

func (r *lexReader) string() string {
	n := r.uvarint()
	if r.err == nil && n > uint64(len(r.data)-r.off) {
		r.fail(fmt.Sprintf("string of %d bytes, %d left", n, len(r.data)-r.off))
	}
	if r.err != nil {
		return ""
	}
	s := string(r.data[r.off : r.off+int(n)])
	r.off += int(n)
	return s
}
