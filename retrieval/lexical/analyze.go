package lexical

import (
	"math"

	"hmpps/internal/tokenize"
)

// Analysis is a document split into words and counted by field: what
// UpsertAnalyzed indexes. Making one is the slow part of a write, and needs
// no index, so that a caller writing many documents can analyze them on
// every CPU before taking any lock.
type Analysis struct {
	// lens is each field's length in words.
	lens [numFields]int32
	// words are the document's distinct words, in the order first met, and
	// freqs their frequency in each field.
	words []string
	freqs []termFreq
}

// Analyze splits doc into words with the tokenizer every offline stage
// shares, and counts them by field.
func Analyze(doc Doc) Analysis {
	var a Analysis
	var words []string
	at := make(map[string]int, 64)
	for f, text := range doc.fields() {
		words = tokenize.AppendWords(words[:0], text)
		a.lens[f] = int32(min(len(words), math.MaxInt32))
		for _, w := range words {
			i, ok := at[w]
			if !ok {
				i = len(a.words)
				at[w] = i
				a.words = append(a.words, w)
				a.freqs = append(a.freqs, termFreq{})
			}
			if a.freqs[i][f] < math.MaxUint16 {
				a.freqs[i][f]++
			}
		}
	}
	return a
}
