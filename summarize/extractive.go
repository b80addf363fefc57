package summarize

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"hmpps/internal/htmltext"
	"hmpps/internal/tokenize"
)

// DefaultMaxWords is the word budget Extractive uses when maxWords <= 0: about
// three product sentences, enough for the facts a query asks about while
// keeping a reranker prompt with dozens of candidates short.
const DefaultMaxWords = 60

// Defaults of the Extractive fields and the fixed constants of its scorer.
const (
	defaultSpecBoost = 0.2
	defaultEllipsis  = "…"

	// BM25 parameters at their textbook values: k1 saturates repeated terms,
	// b normalizes for sentence length.
	bm25K1 = 1.2
	bm25B  = 0.75

	// positionBoost is the extra weight of the first sentence; sentence i
	// gets positionBoost/(i+1). Product text front-loads its key facts, so
	// among near-equal matches the earlier one is the safer pick.
	positionBoost = 0.1
)

// Extractive is the offline Summarizer: it keeps the sentences of a product's
// text that best match the query, in their original order, within the word
// budget. Matching is lexical (BM25 over the document's own sentences, with
// stopwords dropped and plurals folded): it finds "waterproof" for a query
// about waterproof boots but not "keeps feet dry"; a model-backed summarizer
// is needed for that.
//
// The zero value is ready to use. An Extractive is safe for concurrent use as
// long as its fields are not modified.
type Extractive struct {
	// Stopwords are dropped from the query and the sentences before scoring,
	// so that "for" or "the" cannot make a sentence look relevant. Keys are
	// lowercase tokens as tokenize.Words returns them. If nil, the list
	// EnglishStopwords returns is used; an empty non-nil map keeps every word.
	Stopwords map[string]bool
	// SpecBoost is the fraction by which a matching sentence that carries a
	// number outranks one that does not. Among sentences that match the query
	// equally, the one with a number is usually a specification ("waterproof
	// to 20 m, 1.1 kg") rather than marketing ("waterproof and built for
	// adventure"), and specifications are what shoppers and rerankers compare.
	// The boost is small enough that matching one more query term still wins
	// in most documents. If zero, 0.2; negative turns it off.
	SpecBoost float64
	// Ellipsis marks where a sentence too long for the whole budget was cut.
	// It is attached to the word next to the cut, so it costs no word of the
	// budget. If blank, "…".
	Ellipsis string
}

var _ Summarizer = Extractive{}

// Summarize returns the sentences of doc.Text that best match query, within
// maxWords words (whitespace-separated runs; DefaultMaxWords when
// maxWords <= 0), in their original order.
//
// The text is first turned into plain text. If it already fits the budget it
// is returned whole, with its line breaks. Otherwise sentences are ranked by
// lexical relevance to the query (query terms first, then numbers, then
// position) and picked greedily while they fit; a picked sentence without
// closing punctuation gets a period, so that list items do not run together.
// If the best sentence alone exceeds the budget, the budget's worth of its
// words holding the most query terms is returned, marked with Ellipsis. With
// an empty query the lead sentences win. An empty text gives an empty Summary
// and no error, so the caller can fall back to the title. Usage is always
// zero.
func (e Extractive) Summarize(ctx context.Context, query string, doc Document, maxWords int) (Summary, error) {
	if err := ctx.Err(); err != nil {
		return Summary{}, fmt.Errorf("summarize: extractive %q: %w", doc.ID, err)
	}
	if maxWords <= 0 {
		maxWords = DefaultMaxWords
	}
	text := htmltext.Plain(doc.Text)
	if countWords(text, maxWords+1) <= maxWords {
		return Summary{Text: text}, nil
	}
	sents := e.sentences(text)
	if len(sents) == 0 {
		return Summary{}, nil
	}
	terms := e.terms(tokenize.Words(query))
	idf := e.score(sents, terms)

	order := make([]int, len(sents))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Compare(sents[b].score, sents[a].score)
	})

	var picked []int
	left := maxWords
	for _, i := range order {
		if left == 0 {
			break
		}
		if sents[i].words <= left {
			picked = append(picked, i)
			left -= sents[i].words
			continue
		}
		if len(picked) == 0 {
			return Summary{Text: e.cut(sents[i].text, maxWords, idf)}, nil
		}
	}
	slices.Sort(picked)
	var b strings.Builder
	for _, i := range picked {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(closeSentence(sents[i].text))
	}
	return Summary{Text: b.String()}, nil
}

// sentence is one candidate sentence of a document.
type sentence struct {
	text string
	// words is the sentence's cost against the budget.
	words int
	// terms are its stemmed tokens without stopwords, for scoring.
	terms []string
	// hasNumber marks a likely specification (see Extractive.SpecBoost).
	hasNumber bool
	// score ranks the sentence; zero when it matches no query term.
	score float64
}

// sentences splits text into sentences, dropping those without words and
// repeats of an earlier sentence (descriptions often restate a bullet in the
// prose).
func (e Extractive) sentences(text string) []sentence {
	var out []sentence
	seen := make(map[string]bool)
	for _, s := range splitSentences(text) {
		words := tokenize.Words(s)
		key := strings.Join(words, " ")
		if key == "" || seen[key] {
			continue
		}
		seen[key] = true
		hasNumber := false
		for _, w := range words {
			if strings.ContainsFunc(w, unicode.IsDigit) {
				hasNumber = true
				break
			}
		}
		out = append(out, sentence{
			text:      s,
			words:     len(strings.Fields(s)),
			terms:     e.terms(words),
			hasNumber: hasNumber,
		})
	}
	return out
}

// terms returns the stemmed words of words without stopwords, in order.
func (e Extractive) terms(words []string) []string {
	stop := e.Stopwords
	if stop == nil {
		stop = englishStopwords
	}
	out := words[:0:0]
	for _, w := range words {
		if !stop[w] {
			out = append(out, stem(w))
		}
	}
	return out
}

// score sets each sentence's score: its BM25 relevance to the query terms,
// raised by SpecBoost when it carries a number and by the position prior. It
// returns the inverse document frequency of each distinct query term, counting
// each sentence as a document. It takes time linear in the number of terms.
func (e Extractive) score(sents []sentence, query []string) map[string]float64 {
	index := make(map[string]int, len(query))
	for _, q := range query {
		if _, ok := index[q]; !ok {
			index[q] = len(index)
		}
	}
	if len(index) == 0 {
		return nil
	}
	// matches[i] holds sentence i's query terms with their frequencies, by
	// term index: summing in that fixed order keeps the scores, and so the
	// ties between them, identical from run to run.
	type match struct{ term, tf int }
	matches := make([][]match, len(sents))
	df := make([]float64, len(index))
	tf := make([]int, len(index))
	var total int
	for i, s := range sents {
		total += len(s.terms)
		var seen []int
		for _, t := range s.terms {
			if j, ok := index[t]; ok {
				if tf[j] == 0 {
					seen = append(seen, j)
				}
				tf[j]++
			}
		}
		slices.Sort(seen)
		for _, j := range seen {
			matches[i] = append(matches[i], match{j, tf[j]})
			df[j]++
			tf[j] = 0
		}
	}
	n := float64(len(sents))
	idf := make(map[string]float64, len(index))
	weights := make([]float64, len(index))
	for q, j := range index {
		// The BM25 idf with 1 added inside the log, so that a term found in
		// every sentence still counts a little instead of going negative.
		weights[j] = math.Log(1 + (n-df[j]+0.5)/(df[j]+0.5))
		idf[q] = weights[j]
	}
	avg := math.Max(float64(total)/n, 1)
	boost := e.SpecBoost
	if boost == 0 {
		boost = defaultSpecBoost
	}
	for i := range sents {
		if len(matches[i]) == 0 {
			continue
		}
		s := &sents[i]
		norm := bm25K1 * (1 - bm25B + bm25B*float64(len(s.terms))/avg)
		var rel float64
		for _, m := range matches[i] {
			tf := float64(m.tf)
			rel += weights[m.term] * tf * (bm25K1 + 1) / (tf + norm)
		}
		if s.hasNumber && boost > 0 {
			rel *= 1 + boost
		}
		s.score = rel * (1 + positionBoost/float64(i+1))
	}
	return idf
}

// cut returns the maxWords consecutive words of s that hold the most query
// weight (the earliest such run on ties, so the start without a query), with
// the ellipsis attached where words were dropped.
func (e Extractive) cut(s string, maxWords int, idf map[string]float64) string {
	fields := strings.Fields(s)
	if len(fields) <= maxWords {
		return s
	}
	weight := make([]float64, len(fields))
	if len(idf) > 0 {
		for i, f := range fields {
			for _, t := range e.terms(tokenize.Words(f)) {
				weight[i] += idf[t]
			}
		}
	}
	var sum float64
	for _, w := range weight[:maxWords] {
		sum += w
	}
	best, bestSum := 0, sum
	for start := 1; start+maxWords <= len(fields); start++ {
		sum += weight[start+maxWords-1] - weight[start-1]
		// A margin keeps float drift from moving an equal run later.
		if sum > bestSum+1e-9 {
			best, bestSum = start, sum
		}
	}
	ellipsis := e.Ellipsis
	if ellipsis == "" {
		ellipsis = defaultEllipsis
	}
	kept := slices.Clone(fields[best : best+maxWords])
	if best > 0 {
		kept[0] = ellipsis + kept[0]
	}
	if best+maxWords < len(fields) {
		last := len(kept) - 1
		kept[last] = strings.TrimRight(kept[last], ",;:") + ellipsis
	}
	return strings.Join(kept, " ")
}

// closeSentence ends s with a period unless it already ends with closing
// punctuation, replacing a trailing comma, colon or dash.
func closeSentence(s string) string {
	t := strings.TrimRightFunc(s, isCloser)
	if r, _ := utf8.DecodeLastRuneInString(t); isTerminator(r) {
		return s
	}
	t = strings.TrimRight(s, ",;:-–— ")
	if t == "" {
		return s
	}
	return t + "."
}

// stem folds English plurals to their singular ("boots" and "boot", "dresses"
// and "dress", "batteries" and "battery"): a light suffix stripper in the
// manner of Harman's S-stemmer, enough for product words, where plurals are
// most of the inflection a query and a description disagree on. Both sides are
// stemmed alike, so an imperfect stem ("boxes" to "boxe") only costs a match.
func stem(w string) string {
	if len(w) <= 3 {
		return w
	}
	switch {
	case strings.HasSuffix(w, "sses"):
		return w[:len(w)-2]
	case strings.HasSuffix(w, "ies") && !strings.HasSuffix(w, "eies") && !strings.HasSuffix(w, "aies"):
		return w[:len(w)-3] + "y"
	case strings.HasSuffix(w, "xes") || strings.HasSuffix(w, "ches") || strings.HasSuffix(w, "shes"):
		return w[:len(w)-2]
	case strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") && !strings.HasSuffix(w, "us") && !strings.HasSuffix(w, "is"):
		return w[:len(w)-1]
	}
	return w
}

// countWords returns the number of whitespace-separated words in s, counting
// no further than limit.
func countWords(s string, limit int) int {
	n, inWord := 0, false
	for _, r := range s {
		space := unicode.IsSpace(r)
		if !space && !inWord {
			n++
			if n >= limit {
				return n
			}
		}
		inWord = !space
	}
	return n
}
