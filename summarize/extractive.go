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

var _ Preparer = Extractive{}

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
	p := doc.Prepared
	if p == nil || !p.serves(e) {
		p = e.Prepare(doc.Text)
	}
	return Summary{Text: e.summarize(query, p, maxWords)}, nil
}

// summarize is Summarize on a prepared text.
func (e Extractive) summarize(query string, p *Prepared, maxWords int) string {
	if p.words <= maxWords {
		return p.text
	}
	if len(p.sents) == 0 {
		return ""
	}
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	sc.setQuery(e, query)
	weights := e.score(p, sc)

	order := sc.order[:0]
	for i := range p.sents {
		order = append(order, i)
	}
	scores := sc.scores
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Compare(scores[b], scores[a])
	})
	sc.order = order

	picked := sc.picked[:0]
	left, size := maxWords, 0
	for _, i := range order {
		if left == 0 {
			break
		}
		if words := int(p.sents[i].words); words <= left {
			picked = append(picked, i)
			left -= words
			size += p.closedLen(i) + 1
			continue
		}
		if len(picked) == 0 {
			return e.cut(p.sentence(i), maxWords, sc.query, weights)
		}
	}
	slices.Sort(picked)
	sc.picked = picked
	var b strings.Builder
	b.Grow(size)
	for _, i := range picked {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		p.writeClosed(&b, i)
	}
	return b.String()
}

// stopwords returns the stopword set in use.
func (e Extractive) stopwords() map[string]bool {
	if e.Stopwords == nil {
		return englishStopwords
	}
	return e.Stopwords
}

// appendTerms appends the hashes of the stemmed words of words without
// stopwords, in order.
func (e Extractive) appendTerms(dst []uint64, words []string) []uint64 {
	stop := e.stopwords()
	for _, w := range words {
		if !stop[w] {
			dst = append(dst, hashTerm(w))
		}
	}
	return dst
}

// score sets sc.scores[i] to sentence i's score: its BM25 relevance to the
// query terms sc.query, raised by SpecBoost when it carries a number and by
// the position prior; zero when it matches no query term. It returns the
// inverse document frequency of each query term, counting each sentence as a
// document, or nil without query terms. It takes time linear in the number of
// terms.
func (e Extractive) score(p *Prepared, sc *scratch) []float64 {
	n := len(p.sents)
	sc.scores = zeroed(sc.scores, n)
	nq := len(sc.query)
	if nq == 0 {
		return nil
	}
	// matches[matchEnd[i-1]:matchEnd[i]] holds sentence i's query terms with
	// their frequencies, by term index: summing in that fixed order keeps the
	// scores, and so the ties between them, identical from run to run.
	df := zeroed(sc.df, nq)
	tf := zeroed(sc.tf, nq)
	matches := sc.matches[:0]
	matchEnd := zeroed(sc.matchEnd, n)
	seen := sc.seen[:0]
	for i := range n {
		seen = seen[:0]
		for _, t := range p.sentenceTerms(i) {
			if j := slices.Index(sc.query, t); j >= 0 {
				if tf[j] == 0 {
					seen = append(seen, j)
				}
				tf[j]++
			}
		}
		slices.Sort(seen)
		for _, j := range seen {
			matches = append(matches, match{j, tf[j]})
			df[j]++
			tf[j] = 0
		}
		matchEnd[i] = len(matches)
	}
	sc.df, sc.tf, sc.matches, sc.matchEnd, sc.seen = df, tf, matches, matchEnd, seen

	nf := float64(n)
	weights := zeroed(sc.weights, nq)
	for j := range weights {
		// The BM25 idf with 1 added inside the log, so that a term found in
		// every sentence still counts a little instead of going negative.
		weights[j] = math.Log(1 + (nf-float64(df[j])+0.5)/(float64(df[j])+0.5))
	}
	sc.weights = weights
	avg := math.Max(float64(len(p.terms))/nf, 1)
	boost := e.SpecBoost
	if boost == 0 {
		boost = defaultSpecBoost
	}
	from := 0
	for i := range n {
		ms := matches[from:matchEnd[i]]
		from = matchEnd[i]
		if len(ms) == 0 {
			continue
		}
		s := &p.sents[i]
		norm := bm25K1 * (1 - bm25B + bm25B*float64(s.endTerm-s.firstTerm)/avg)
		var rel float64
		for _, m := range ms {
			tf := float64(m.tf)
			rel += weights[m.term] * tf * (bm25K1 + 1) / (tf + norm)
		}
		if s.hasNumber && boost > 0 {
			rel *= 1 + boost
		}
		sc.scores[i] = rel * (1 + positionBoost/float64(i+1))
	}
	return weights
}

// cut returns the maxWords consecutive words of s that hold the most query
// weight (the earliest such run on ties, so the start without a query), with
// the ellipsis attached where words were dropped. weights[j] is the weight
// of query term query[j].
func (e Extractive) cut(s string, maxWords int, query []uint64, weights []float64) string {
	fields := strings.Fields(s)
	if len(fields) <= maxWords {
		return s
	}
	weight := make([]float64, len(fields))
	if len(weights) > 0 {
		var terms []uint64
		for i, f := range fields {
			terms = e.appendTerms(terms[:0], tokenize.Words(f))
			for _, t := range terms {
				if j := slices.Index(query, t); j >= 0 {
					weight[i] += weights[j]
				}
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

// closeSentenceParts returns how a summary ends sentence s: with a period
// added to closed unless s already ends with closing punctuation, in which
// case closed is s; a trailing comma, colon or dash is dropped first.
func closeSentenceParts(s string) (closed string, addPeriod bool) {
	t := strings.TrimRightFunc(s, isCloser)
	if r, _ := utf8.DecodeLastRuneInString(t); isTerminator(r) {
		return s, false
	}
	t = strings.TrimRight(s, ",;:-–— ")
	if t == "" {
		return s, false
	}
	return t, true
}

// stem folds English plurals to their singular ("boots" and "boot", "dresses"
// and "dress", "batteries" and "battery"): a light suffix stripper in the
// manner of Harman's S-stemmer, enough for product words, where plurals are
// most of the inflection a query and a description disagree on. Both sides are
// stemmed alike, so an imperfect stem ("boxes" to "boxe") only costs a match.
func stem(w string) string {
	base, suffix := stemParts(w)
	if suffix == "" {
		return base
	}
	return base + suffix
}

// stemParts returns stem(w) in two parts, a prefix of w and a suffix to
// append, so that hashing a stem needs no new string.
func stemParts(w string) (base, suffix string) {
	if len(w) <= 3 {
		return w, ""
	}
	switch {
	case strings.HasSuffix(w, "sses"):
		return w[:len(w)-2], ""
	case strings.HasSuffix(w, "ies") && !strings.HasSuffix(w, "eies") && !strings.HasSuffix(w, "aies"):
		return w[:len(w)-3], "y"
	case strings.HasSuffix(w, "xes") || strings.HasSuffix(w, "ches") || strings.HasSuffix(w, "shes"):
		return w[:len(w)-2], ""
	case strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") && !strings.HasSuffix(w, "us") && !strings.HasSuffix(w, "is"):
		return w[:len(w)-1], ""
	}
	return w, ""
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
