package summarize

import (
	"reflect"
	"slices"
	"strings"
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
	seen := make(map[string]bool)
	var words []string
	var terms []uint64
	var sents []preparedSentence
	var key strings.Builder
	cursor := 0
	for _, s := range splitSentences(plain) {
		// s is a substring of plain: splitSentences only slices it.
		start := strings.Index(plain[cursor:], s) + cursor
		cursor = start + len(s)
		words = tokenize.AppendWords(words[:0], s)
		key.Reset()
		for i, w := range words {
			if i > 0 {
				key.WriteByte(' ')
			}
			key.WriteString(w)
		}
		if key.Len() == 0 || seen[key.String()] {
			continue
		}
		seen[key.String()] = true
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
			words: int32(len(strings.Fields(s))), hasNumber: hasNumber, addPeriod: addPeriod,
		})
	}
	// Copied to their exact size: a catalog keeps them for every product.
	p.terms, p.sents = slices.Clone(terms), slices.Clone(sents)
	return p
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
