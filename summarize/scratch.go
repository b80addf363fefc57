package summarize

import (
	"sync"

	"hmpps/internal/tokenize"
)

// scratch holds the buffers one Extractive summary needs; they are pooled,
// so that summarizing a prepared text allocates only the summary.
type scratch struct {
	// words are the query's words; query the hashes of its distinct terms,
	// in the order they first appear, so a term's index is stable.
	words []string
	query []uint64

	scores   []float64
	df       []int
	tf       []int
	matches  []match
	matchEnd []int
	seen     []int
	weights  []float64
	order    []int
	picked   []int
}

// match is one query term of a sentence, by index, with its frequency there.
type match struct{ term, tf int }

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// setQuery sets sc.query to the distinct terms of query.
func (sc *scratch) setQuery(e Extractive, query string) {
	sc.words = tokenize.AppendWords(sc.words[:0], query)
	stop := e.stopwords()
	sc.query = sc.query[:0]
	for _, w := range sc.words {
		if stop[w] {
			continue
		}
		if h := hashTerm(w); !containsHash(sc.query, h) {
			sc.query = append(sc.query, h)
		}
	}
	clear(sc.words) // do not keep the caller's query alive in the pool
}

func containsHash(hs []uint64, h uint64) bool {
	for _, x := range hs {
		if x == h {
			return true
		}
	}
	return false
}

// zeroed returns s resized to n zero elements, reusing its memory.
func zeroed[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	s = s[:n]
	clear(s)
	return s
}
