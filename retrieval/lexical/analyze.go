package lexical

import (
	"math"
	"slices"
	"strings"

	"hmpps/internal/tokenize"
)

// Analysis is a document split into words and counted by field: what
// UpsertAnalyzed indexes. Making one is the slow part of a write, and needs
// no index, so that a caller writing many documents can analyze them on
// every CPU before taking any lock.
type Analysis struct {
	// lens is each field's length in words.
	lens [numFields]int32
	// words are the document's distinct words, ascending, and freqs their
	// frequency in each field.
	words []string
	freqs []termFreq
}

// fieldWord is one occurrence of a word in a field.
type fieldWord struct {
	word  string
	field int
}

// Analyze splits doc into words with the tokenizer every offline stage
// shares, and counts them by field.
func Analyze(doc Doc) Analysis {
	var a Analysis
	var words []string
	var all []fieldWord
	for f, text := range doc.fields() {
		words = tokenize.AppendWords(words[:0], text)
		a.lens[f] = int32(min(len(words), math.MaxInt32))
		for _, w := range words {
			all = append(all, fieldWord{word: w, field: f})
		}
	}
	// Sorted, equal words are neighbours: counted without a map.
	slices.SortFunc(all, func(a, b fieldWord) int { return strings.Compare(a.word, b.word) })
	for i, fw := range all {
		if i == 0 || fw.word != all[i-1].word {
			a.words = append(a.words, fw.word)
			a.freqs = append(a.freqs, termFreq{})
		}
		if f := &a.freqs[len(a.freqs)-1][fw.field]; *f < math.MaxUint16 {
			*f++
		}
	}
	return a
}
