package summarize

import (
	"reflect"
	"slices"
	"strings"
	"sync"
	"unicode"

	"hmpps/internal/htmltext"
	"hmpps/internal/tokenize"
)

// Prepared is a document's text made ready for Extractive once: turned into
// plain text, split into sentences and tokenized, with each sentence's terms
// kept as hashes. Summarizing a Prepared text repeats none of that work, so a
// catalog prepared when it is indexed costs only the scoring per query; pass
// it as Document.Prepared. A Prepared is immutable and safe for concurrent
// use.
type Prepared struct {
	// text is the plain text.
	text string
	// words is the number of whitespace-separated words in text.
	words int
	sents []preparedSentence
	// terms holds every sentence's term hashes, back to back.
	terms []uint64
	// stop is the stopword set the terms were made without; a Prepared
	// serves only an Extractive with the same set. defaultStop says it is
	// the default set, the common case, checked without reflection.
	stop        map[string]bool
	defaultStop bool
}

// preparedSentence is one sentence of a Prepared text, as offsets into it,
// kept small because a catalog holds one per sentence of every product.
type preparedSentence struct {
	// text[start:end] is the sentence; text[start:closeEnd], followed by a
	// period when addPeriod is set, is the sentence as a summary writes it
	// (see closeSentence).
	start, end, closeEnd int32
	// terms[firstTerm:endTerm] are its stemmed terms without stopwords.
	firstTerm, endTerm int32
	// words is the sentence's cost against the budget.
	words int32
	// hasNumber marks a likely specification (see Extractive.SpecBoost).
	hasNumber bool
	addPeriod bool
}

// Prepare returns text (which may contain HTML) prepared for Summarize. The
// result serves this Extractive and any other with the same Stopwords map.
func (e Extractive) Prepare(text string) *Prepared {
	plain := htmltext.Plain(text)
	p := &Prepared{text: plain, words: countWords(plain, int(^uint(0)>>1)), stop: e.stopwords(), defaultStop: e.Stopwords == nil}
	if p.words == 0 {
		return p
	}
	sc := preparePool.Get().(*prepareScratch)
	defer preparePool.Put(sc)
	// kept holds each kept sentence's words, to drop a sentence whose words
	// repeat an earlier one's (compared by hash, then word by word).
	kept, words, all, terms, sents := sc.kept[:0], sc.words[:0], sc.all[:0], sc.terms[:0], sc.sents[:0]
	sentences := appendSentences(sc.sentences[:0], plain)
	defer func() {
		// The scratch keeps no text alive.
		clear(all)
		clear(sentences)
		sc.kept, sc.words, sc.all, sc.terms, sc.sents = kept[:0], words[:0], all[:0], terms[:0], sents[:0]
		sc.sentences = sentences[:0]
	}()
	cursor := 0
	for _, s := range sentences {
		// s is a substring of plain: splitSentences only slices it.
		start := strings.Index(plain[cursor:], s) + cursor
		cursor = start + len(s)
		words = tokenize.AppendWords(words[:0], s)
		if len(words) == 0 || repeats(kept, all, words) {
			continue
		}
		kept = append(kept, keptWords{hash: hashWords(words), from: int32(len(all)), to: int32(len(all) + len(words))})
		all = append(all, words...)
		hasNumber := false
		for _, w := range words {
			if strings.ContainsFunc(w, unicode.IsDigit) {
				hasNumber = true
				break
			}
		}
		closed, addPeriod := closeSentenceParts(s)
		first := len(terms)
		terms = e.appendTerms(terms, words)
		sents = append(sents, preparedSentence{
			start: int32(start), end: int32(start + len(s)), closeEnd: int32(start + len(closed)),
			firstTerm: int32(first), endTerm: int32(len(terms)),
			words: int32(countWords(s, int(^uint(0)>>1))), hasNumber: hasNumber, addPeriod: addPeriod,
		})
	}
	// Copied to their exact size: a catalog keeps them for every product.
	p.terms, p.sents = slices.Clone(terms), slices.Clone(sents)
	return p
}

// prepareScratch is what Prepare reuses between texts.
type prepareScratch struct {
	kept       []keptWords
	words, all []string
	sentences  []string
	terms      []uint64
	sents      []preparedSentence
}

var preparePool = sync.Pool{New: func() any { return new(prepareScratch) }}

// keptWords is a sentence Prepare kept: the hash of its words and where
// they are in the list of every kept sentence's words.
type keptWords struct {
	hash     uint64
	from, to int32
}

// hashWords hashes a sentence's words, FNV-1a with a separator.
func hashWords(words []string) uint64 {
	h := uint64(fnvOffset)
	for _, w := range words {
		for i := 0; i < len(w); i++ {
			h = (h ^ uint64(w[i])) * fnvPrime
		}
		h = (h ^ ' ') * fnvPrime
	}
	return h
}

// repeats reports whether a kept sentence has exactly words.
func repeats(kept []keptWords, all, words []string) bool {
	h := hashWords(words)
	for _, k := range kept {
		if k.hash == h && slices.Equal(all[k.from:k.to], words) {
			return true
		}
	}
	return false
}

// Text returns the plain text p was prepared from.
func (p *Prepared) Text() string { return p.text }

// serves reports whether p's terms were made with e's stopwords.
func (p *Prepared) serves(e Extractive) bool {
	if e.Stopwords == nil {
		return p.defaultStop
	}
	return reflect.ValueOf(p.stop).UnsafePointer() == reflect.ValueOf(e.Stopwords).UnsafePointer()
}

// sentence returns the text of sentence i.
func (p *Prepared) sentence(i int) string {
	s := p.sents[i]
	return p.text[s.start:s.end]
}

// sentenceTerms returns the term hashes of sentence i.
func (p *Prepared) sentenceTerms(i int) []uint64 {
	s := p.sents[i]
	return p.terms[s.firstTerm:s.endTerm]
}

// closedLen returns the length of sentence i as a summary writes it.
func (p *Prepared) closedLen(i int) int {
	s := p.sents[i]
	n := int(s.closeEnd - s.start)
	if s.addPeriod {
		n++
	}
	return n
}

// writeClosed writes sentence i as a summary writes it: see closeSentence.
func (p *Prepared) writeClosed(b *strings.Builder, i int) {
	s := p.sents[i]
	b.WriteString(p.text[s.start:s.closeEnd])
	if s.addPeriod {
		b.WriteByte('.')
	}
}

// FNV-1a, 64 bits: term hashes must be the same in every process, since a
// prepared catalog outlives the process that made none of them.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// hashTerm returns the hash of stem(w) without building the stem.
func hashTerm(w string) uint64 {
	base, suffix := stemParts(w)
	h := uint64(fnvOffset)
	for i := 0; i < len(base); i++ {
		h = (h ^ uint64(base[i])) * fnvPrime
	}
	for i := 0; i < len(suffix); i++ {
		h = (h ^ uint64(suffix[i])) * fnvPrime
	}
	return h
}
