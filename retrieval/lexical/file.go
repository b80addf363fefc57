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

// Format is the version of the encoding MarshalBinary writes. It changes
// whenever the encoding or the tokenizer does, since the counts it holds are
// the tokenizer's. UnmarshalBinary reads it and format 1, which held each
// document's words with their frequencies rather than each word's
// documents.
const Format = 2

// ErrFormat means encoded lexical statistics were written in another
// Format than this library's: the index must be rebuilt from the
// documents' text.
var ErrFormat = errors.New("lexical: index in another format")

// ErrCorrupt reports encoded statistics that are truncated, have trailing
// bytes or hold impossible content.
var ErrCorrupt = errors.New("lexical: corrupt index")

// MarshalBinary encodes the index's documents: their IDs and field lengths,
// and for each word the documents holding it with its frequency in each
// field, the statistics from which UnmarshalBinary restores the index
// without the text. The parameters are not encoded: they weigh the
// statistics at query time and belong to whoever scores. The encoding is
// deterministic: two indexes holding the same documents encode to the same
// bytes, whatever their history.
//
// The layout is uvarints and length-prefixed strings: Format; the number of
// words, then the words in ascending order; the number of documents, then
// each document in ascending ID order as its ID and its four field lengths;
// then, for each word in order, the number of documents holding it, the
// number of bytes that follow for it, and those bytes: the documents'
// numbers, in the order above, as little-endian uint32s, then the word's
// frequencies in them, four nibbles in a little-endian uint16 as the index
// keeps them (see pack), then the frequencies that do not fit, as a count
// and, for each, its position among the documents and its four
// frequencies, in uvarints. The byte counts let a reader decode the words
// in parallel, and the arrays are copied rather than decoded.
func (l *Index) MarshalBinary() ([]byte, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	// The words some live document holds, in ascending order.
	var words []int32
	for t := range l.words {
		if l.df[t] > 0 {
			words = append(words, int32(t))
		}
	}
	slices.SortFunc(words, func(a, b int32) int { return strings.Compare(l.words[a], l.words[b]) })
	// The live documents in ascending ID order, and each one's number.
	live := make([]int32, 0, len(l.slot))
	for _, slot := range l.slot {
		live = append(live, slot)
	}
	slices.SortFunc(live, func(a, b int32) int { return strings.Compare(l.docs[a].id, l.docs[b].id) })
	number := make([]int32, len(l.docs))
	for n, slot := range live {
		number[slot] = int32(n)
	}

	b := binary.AppendUvarint(nil, Format)
	b = binary.AppendUvarint(b, uint64(len(words)))
	for _, t := range words {
		b = appendString(b, l.words[t])
	}
	b = binary.AppendUvarint(b, uint64(len(live)))
	for _, slot := range live {
		b = appendString(b, l.docs[slot].id)
		for _, n := range l.stats[slot].len {
			b = binary.AppendUvarint(b, uint64(n))
		}
	}
	// Each word's postings, encoded on every CPU into parts that are then
	// appended in order.
	parts := make([][]byte, len(words))
	parallel(len(words), func(lo, hi int) {
		var docs []numbered
		for i := lo; i < hi; i++ {
			ps := &l.postings[words[i]]
			docs = docs[:0]
			for j, slot := range ps.slots {
				if l.stats[slot].live {
					docs = append(docs, numbered{n: number[slot], at: int32(j)})
				}
			}
			slices.SortFunc(docs, func(a, b numbered) int { return int(a.n - b.n) })
			part := make([]byte, 6*len(docs), 6*len(docs)+1)
			var big []byte
			escapes := 0
			for j, d := range docs {
				binary.LittleEndian.PutUint32(part[4*j:], uint32(d.n))
				packed := ps.freqs[d.at]
				binary.LittleEndian.PutUint16(part[4*len(docs)+2*j:], packed)
				if packed == escaped {
					escapes++
					big = binary.AppendUvarint(big, uint64(j))
					for _, f := range ps.freq(int(d.at)) {
						big = binary.AppendUvarint(big, uint64(f))
					}
				}
			}
			part = binary.AppendUvarint(part, uint64(escapes))
			part = append(part, big...)
			parts[i] = part
		}
	})
	for i, t := range words {
		b = binary.AppendUvarint(b, uint64(l.df[t]))
		b = binary.AppendUvarint(b, uint64(len(parts[i])))
		b = append(b, parts[i]...)
	}
	return b, nil
}

// numbered is a posting with its document's number in the encoding.
type numbered struct{ n, at int32 }

// parallel calls work on ranges that split [0, n), on every CPU.
func parallel(n int, work func(lo, hi int)) {
	workers := max(1, min(runtime.GOMAXPROCS(0), n))
	per := (n + workers - 1) / max(1, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*per, min(n, (w+1)*per)
		if lo >= hi {
			break
		}
		wg.Go(func() { work(lo, hi) })
	}
	wg.Wait()
}

// UnmarshalBinary replaces the index's documents with those data encodes
// (see MarshalBinary), keeping its parameters. Data of another Format than
// this one or 1 fails with ErrFormat; malformed data with ErrCorrupt, and
// the index is then left unchanged.
func (l *Index) UnmarshalBinary(data []byte) error {
	r := lexReader{data: data}
	v := r.uvarint()
	if r.err != nil {
		return r.err
	}
	var dec decoded
	switch v {
	case 1:
		dec = decodeFormat1(&r)
	case Format:
		dec = decodeFormat2(&r)
	default:
		return fmt.Errorf("%w: format %d, this library reads 1 and %d", ErrFormat, v, Format)
	}
	if r.err != nil {
		return r.err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.slot, l.docs, l.stats, l.terms, l.dead = dec.slot, dec.docs, dec.stats, dec.terms, 0
	l.term, l.words, l.df, l.postings, l.length = dec.term, dec.words, dec.df, dec.postings, dec.length
	return nil
}

// decoded is an index as a decoder builds it, before it replaces one.
type decoded struct {
	slot     map[string]int32
	docs     []lexDoc
	stats    []lexStats
	terms    []byte
	term     map[string]int32
	words    []string
	df       []int32
	postings []postings
	length   [numFields]int64
}

// decodeWords reads the word count and the words, which must be non-empty
// and strictly ascending.
func decodeWords(r *lexReader) []string {
	words := make([]string, r.count(1))
	for i := range words {
		words[i] = r.string()
		if r.err == nil && (words[i] == "" || i > 0 && words[i] <= words[i-1]) {
			r.fail("words not in strictly ascending order")
		}
	}
	return words
}

// wordMap numbers words.
func wordMap(words []string) map[string]int32 {
	term := make(map[string]int32, len(words))
	for t, w := range words {
		term[w] = int32(t)
	}
	return term
}

// decodeFormat2 decodes MarshalBinary's encoding after its Format.
func decodeFormat2(r *lexReader) decoded {
	var d decoded
	d.words = decodeWords(r)
	d.docs = make([]lexDoc, r.count(5))
	d.stats = make([]lexStats, len(d.docs))
	d.slot = make(map[string]int32, len(d.docs))
	for i := range d.docs {
		id := r.string()
		if _, dup := d.slot[id]; dup && r.err == nil {
			r.fail(fmt.Sprintf("document %q twice", id))
		}
		d.docs[i].id, d.slot[id], d.stats[i].live = id, int32(i), true
		for f := range numFields {
			d.stats[i].len[f] = int32(r.bounded(math.MaxInt32))
			d.length[f] += int64(d.stats[i].len[f])
		}
	}
	// Where each word's postings are, so that they can be decoded in
	// parallel.
	d.df = make([]int32, len(d.words))
	spans := make([][2]int, len(d.words))
	for t := range d.words {
		d.df[t] = int32(r.bounded(uint64(len(d.docs))))
		if r.err == nil && d.df[t] == 0 {
			r.fail("a word no document holds")
		}
		n := r.uvarint()
		if r.err == nil && n > uint64(len(r.data)-r.off) {
			r.fail(fmt.Sprintf("postings of %d bytes, %d left", n, len(r.data)-r.off))
		}
		if r.err != nil {
			return d
		}
		spans[t] = [2]int{r.off, r.off + int(n)}
		r.off += int(n)
	}
	if r.err == nil && r.off != len(r.data) {
		r.fail(fmt.Sprintf("%d bytes after the end", len(r.data)-r.off))
	}
	if r.err != nil {
		return d
	}
	d.postings = make([]postings, len(d.words))
	var mu sync.Mutex // guards r.err
	parallel(len(d.words), func(lo, hi int) {
		for t := lo; t < hi; t++ {
			sub := lexReader{data: r.data[:spans[t][1]], off: spans[t][0]}
			d.postings[t] = decodePostings(&sub, int(d.df[t]), d.stats)
			if p := &d.postings[t]; sub.err == nil && len(p.slots) >= strongFrom(len(d.docs)) {
				p.buildStrong()
			}
			if sub.err == nil && sub.off != spans[t][1] {
				sub.fail("postings longer than their word's bytes")
			}
			if sub.err != nil {
				mu.Lock()
				if r.err == nil {
					r.err = fmt.Errorf("word %q: %w", d.words[t], sub.err)
				}
				mu.Unlock()
				return
			}
		}
	})
	if r.err != nil {
		return d
	}
	d.terms = transpose(&d)
	d.term = wordMap(d.words)
	return d
}

// decodePostings reads df postings of one word (see MarshalBinary),
// checking that the documents ascend, exist and hold the word.
func decodePostings(r *lexReader, df int, stats []lexStats) postings {
	if 6*df > len(r.data)-r.off {
		r.fail("postings longer than their bytes")
		return postings{}
	}
	p := postings{slots: make([]int32, df), freqs: make([]uint16, df)}
	raw := r.data[r.off : r.off+6*df]
	r.off += 6 * df
	prev := int64(-1)
	for i := range p.slots {
		doc := int64(binary.LittleEndian.Uint32(raw[4*i:]))
		if doc <= prev || doc >= int64(len(stats)) {
			r.fail("document number out of order or range")
			return postings{}
		}
		p.slots[i], prev = int32(doc), doc
		p.freqs[i] = binary.LittleEndian.Uint16(raw[4*df+2*i:])
	}
	escapes := int(r.bounded(uint64(df)))
	p.big = make([]bigFreq, 0, escapes)
	for range escapes {
		at := r.bounded(uint64(df - 1))
		var freq termFreq
		for f := range numFields {
			freq[f] = uint16(r.bounded(math.MaxUint16))
		}
		if r.err == nil && (p.freqs[at] != escaped || pack(freq) != escaped || len(p.big) > 0 && int32(at) <= p.big[len(p.big)-1].at) {
			r.fail("an escaped frequency that is not one, or out of order")
		}
		p.big = append(p.big, bigFreq{at: int32(at), freq: freq})
	}
	if r.err != nil {
		return postings{}
	}
	// Every frequency held, every escape listed, and the bounds of a
	// search (see postings.maxFreq).
	escapesSeen := 0
	for i, packed := range p.freqs {
		var freq termFreq
		if packed == escaped {
			if escapesSeen >= len(p.big) || p.big[escapesSeen].at != int32(i) {
				r.fail("an escaped frequency missing")
				return postings{}
			}
			freq = p.big[escapesSeen].freq
			escapesSeen++
		} else {
			freq = termFreq{packed & 15, packed >> 4 & 15, packed >> 8 & 15, packed >> 12}
		}
		if freq == (termFreq{}) {
			r.fail("a document holds a word zero times")
			return postings{}
		}
		p.bound(freq, &stats[p.slots[i]].len)
	}
	return p
}

// transpose builds each document's word list (Index.terms) from the
// postings. The documents are split into ranges, one per CPU, each of which reads its
// part of every word's postings, word by word in ascending order, so each
// document's words come out ascending.
func transpose(d *decoded) []byte {
	n := len(d.docs)
	workers := max(1, min(runtime.GOMAXPROCS(0), n/1024))
	per := (n + workers - 1) / max(1, workers)
	parts := make([][]byte, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*per, min(n, (w+1)*per)
		wg.Go(func() { parts[w] = transposeRange(d, int32(lo), int32(max(lo, hi))) })
	}
	wg.Wait()
	var terms []byte
	for w := range workers {
		base := len(terms)
		for i := w * per; i < min(n, (w+1)*per); i++ {
			d.docs[i].at += base
		}
		terms = append(terms, parts[w]...)
	}
	return terms
}

// transposeRange is transpose for the documents [lo, hi): it sets their
// word counts and offsets into the part it returns.
func transposeRange(d *decoded, lo, hi int32) []byte {
	counts := make([]int32, hi-lo)
	from := make([]int, len(d.postings))
	for t := range d.postings {
		p := &d.postings[t]
		i, _ := slices.BinarySearch(p.slots, lo)
		from[t] = i
		for ; i < len(p.slots) && p.slots[i] < hi; i++ {
			counts[p.slots[i]-lo]++
		}
	}
	start := make([]int, hi-lo+1)
	for i, c := range counts {
		start[i+1] = start[i] + int(c)
		d.docs[lo+int32(i)].n = c
	}
	ids := make([]int32, start[hi-lo])
	next := slices.Clone(start[:hi-lo])
	for t := range d.postings {
		p := &d.postings[t]
		for i := from[t]; i < len(p.slots) && p.slots[i] < hi; i++ {
			doc := p.slots[i] - lo
			ids[next[doc]] = int32(t)
			next[doc]++
		}
	}
	// The gaps' exact size first, so that they are written in place.
	size := 0
	for i := range counts {
		prev := int32(-1)
		for _, t := range ids[start[i]:start[i+1]] {
			size += uvarintLen(uint64(t - prev))
			prev = t
		}
	}
	terms := make([]byte, 0, size)
	for i := range counts {
		d.docs[lo+int32(i)].at = len(terms)
		terms = appendGaps(terms, ids[start[i]:start[i+1]])
	}
	return terms
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// decodeFormat1 decodes the encoding of format 1 after its number: the
// words, then each document in ascending ID order as its ID, its four field
// lengths, its number of distinct words and, for each by ascending word,
// the gap to the previous word's number and its four frequencies.
func decodeFormat1(r *lexReader) decoded {
	var d decoded
	d.words = decodeWords(r)
	d.docs = make([]lexDoc, r.count(6))
	d.stats = make([]lexStats, len(d.docs))
	d.slot = make(map[string]int32, len(d.docs))
	d.df = make([]int32, len(d.words))
	d.postings = make([]postings, len(d.words))
	var ids []int32
	for i := range d.docs {
		doc, st := &d.docs[i], &d.stats[i]
		doc.id, st.live = r.string(), true
		if _, dup := d.slot[doc.id]; dup && r.err == nil {
			r.fail(fmt.Sprintf("document %q twice", doc.id))
		}
		d.slot[doc.id] = int32(i)
		for f := range st.len {
			st.len[f] = int32(r.bounded(math.MaxInt32))
			d.length[f] += int64(st.len[f])
		}
		n := r.count(5)
		ids = slices.Grow(ids[:0], n)[:n]
		var sum [numFields]int64
		t := int64(-1)
		for j := range ids {
			gap := r.bounded(uint64(len(d.words)))
			t += int64(gap)
			if r.err == nil && (gap == 0 || t >= int64(len(d.words))) {
				r.fail("word number out of order or range")
			}
			ids[j] = int32(t)
			var freq termFreq
			var held bool
			for f := range numFields {
				n := r.bounded(math.MaxUint16)
				freq[f] = uint16(n)
				sum[f] += int64(n)
				held = held || n > 0
			}
			if r.err == nil && !held {
				r.fail(fmt.Sprintf("document %q holds a word zero times", doc.id))
			}
			if r.err == nil {
				d.df[t]++
				d.postings[t].add(int32(i), freq, &st.len)
			}
		}
		for f, n := range sum {
			if r.err == nil && n > int64(st.len[f]) {
				r.fail(fmt.Sprintf("document %q: field %d has %d words, its frequencies sum to %d", doc.id, f, st.len[f], n))
			}
		}
		doc.at, doc.n = len(d.terms), int32(len(ids))
		d.terms = appendGaps(d.terms, ids)
	}
	if r.err == nil && r.off != len(r.data) {
		r.fail(fmt.Sprintf("%d bytes after the end", len(r.data)-r.off))
	}
	if r.err == nil && slices.Contains(d.df, 0) {
		r.fail("a word no document holds")
	}
	for t := range d.postings {
		if p := &d.postings[t]; len(p.slots) >= strongFrom(len(d.docs)) {
			p.buildStrong()
		}
	}
	d.term = wordMap(d.words)
	return d
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
