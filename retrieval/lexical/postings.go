package lexical

import (
	"cmp"
	"slices"
)

// termFreq is a word's frequency in each field, saturated at the largest
// uint16: a field that repeats a word more often than that is degenerate,
// and K1 has long flattened its score.
type termFreq [numFields]uint16

// postings lists the documents holding one word, in ascending slot order,
// since a document written later gets a later slot and compact keeps the
// order: their slots, and the word's frequencies in each field packed into
// one uint16 of four nibbles (see pack). Six bytes a posting, in two arrays
// so that a search seeking through the slots reads four.
type postings struct {
	slots []int32
	freqs []uint16
	// big holds the frequencies pack cannot, by index in slots, ascending:
	// a field repeating the word fifteen times or more, which is rare.
	big []bigFreq
	// maxFreq is the largest frequency of the word in each field over the
	// postings, and minLen the shortest length of the field among the
	// documents holding the word in it: together they bound the word's tf
	// in every document (see Index.tfBound).
	maxFreq termFreq
	minLen  [numFields]int32
	// weakFreq and weakLen are maxFreq and minLen of the body over the
	// documents holding the word in their body alone: what the word adds
	// to a document outside strong is bounded by them (see walker).
	weakFreq uint16
	weakLen  int32
	// strong is a bitset over the slots of the documents that hold the word
	// in a field other than the body (a document written since the bitset
	// grew last is past its end, and holds the word in the body alone if at
	// all), kept for the words of long postings (see strongFrom), nil for
	// the others. A search bounds a document outside it from weakFreq and
	// weakLen without looking for the document in the postings.
	strong []uint64
}

// strongFrom is the fewest postings of a word that keeps a strong bitset in
// an index of docs slots: a bitset costs docs/8 bytes, a sixth of the
// postings' own memory at this length, and spares a search a look-up in
// postings that long.
func strongFrom(docs int) int { return max(1024, docs/48) }

// isStrong reports whether f holds the word in a field other than the body.
func isStrong(f termFreq) bool { return f[fieldTitle]|f[fieldBrand]|f[fieldCategory] != 0 }

// markStrong sets slot's bit in the strong bitset.
func (p *postings) markStrong(slot int32) {
	w := int(slot >> 6)
	if w >= len(p.strong) {
		p.strong = append(p.strong, make([]uint64, w+1-len(p.strong))...)
	}
	p.strong[w] |= 1 << (slot & 63)
}

// holdsStrong reports whether the document at slot may hold the word in a
// field other than the body: its bit in strong, or true without a bitset.
func (p *postings) holdsStrong(slot int32) bool {
	if p.strong == nil {
		return true
	}
	w := int(slot >> 6)
	return w < len(p.strong) && p.strong[w]&(1<<(slot&63)) != 0
}

// buildStrong makes the strong bitset of p from its postings.
func (p *postings) buildStrong() {
	p.strong = make([]uint64, 0, (p.slots[len(p.slots)-1]>>6)+1)
	for i, slot := range p.slots {
		if isStrong(p.freq(i)) {
			p.markStrong(slot)
		}
	}
	if p.strong == nil {
		p.strong = []uint64{}
	}
}

// bigFreq is an escaped frequency of a postings list.
type bigFreq struct {
	at   int32
	freq termFreq
}

// escaped is the packed value of a frequency held in postings.big: four
// nibbles of 15, which pack never writes.
const escaped = 0xffff

// pack returns f in four nibbles, the title's lowest, or escaped when a
// field's frequency is 15 or more.
func pack(f termFreq) uint16 {
	var p uint16
	for i, n := range f {
		if n >= 15 {
			return escaped
		}
		p |= n << (4 * i)
	}
	return p
}

// add appends the document at slot, which must follow every slot in p and
// whose fields have lens words, with frequencies f.
func (p *postings) add(slot int32, f termFreq, lens *[numFields]int32) {
	p.bound(f, lens)
	if p.strong != nil && isStrong(f) {
		p.markStrong(slot)
	}
	packed := pack(f)
	if packed == escaped {
		p.big = append(p.big, bigFreq{at: int32(len(p.slots)), freq: f})
	}
	p.slots = append(p.slots, slot)
	p.freqs = append(p.freqs, packed)
}

// bound widens maxFreq and minLen, and weakFreq and weakLen for a document
// holding the word in the body alone, to cover a document whose fields have
// lens words holding the word f times; it marks a strong one in the bitset.
func (p *postings) bound(f termFreq, lens *[numFields]int32) {
	if !isStrong(f) {
		if p.weakFreq == 0 || lens[fieldBody] < p.weakLen {
			p.weakLen = lens[fieldBody]
		}
		p.weakFreq = max(p.weakFreq, f[fieldBody])
	}
	for i, n := range f {
		if n == 0 {
			continue
		}
		if p.maxFreq[i] == 0 || lens[i] < p.minLen[i] {
			p.minLen[i] = lens[i]
		}
		p.maxFreq[i] = max(p.maxFreq[i], n)
	}
}

// freq returns the frequencies of the i-th posting.
func (p *postings) freq(i int) termFreq {
	packed := p.freqs[i]
	if packed != escaped {
		return termFreq{packed & 15, packed >> 4 & 15, packed >> 8 & 15, packed >> 12}
	}
	j, _ := slices.BinarySearchFunc(p.big, int32(i), func(b bigFreq, at int32) int { return cmp.Compare(b.at, at) })
	return p.big[j].freq
}

// seekSlot returns the first index i >= from of slots whose slot is at least
// slot, or len(slots): steps doubling from from, then a binary search of the
// last step.
func seekSlot(slots []int32, from int, slot int32) int {
	lo, hi := from, from
	for step := 1; hi < len(slots) && slots[hi] < slot; step *= 2 {
		lo, hi = hi+1, hi+step
	}
	hi = min(hi, len(slots))
	i, _ := slices.BinarySearch(slots[lo:hi], slot)
	return lo + i
}
