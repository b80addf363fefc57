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
	packed := pack(f)
	if packed == escaped {
		p.big = append(p.big, bigFreq{at: int32(len(p.slots)), freq: f})
	}
	p.slots = append(p.slots, slot)
	p.freqs = append(p.freqs, packed)
}

// bound widens maxFreq and minLen to cover a document whose fields have
// lens words holding the word f times.
func (p *postings) bound(f termFreq, lens *[numFields]int32) {
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
