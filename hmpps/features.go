package hmpps

import (
	"math"
	"slices"
	"strings"
	"sync"

	"hmpps/internal/cooccur"
	"hmpps/internal/ltr"
	"hmpps/internal/tokenize"
	"hmpps/retrieval"
	"hmpps/summarize"
)

// The features a Model reads, by kind. Their names are what
// Model.FeatureWeights reports; their order is the order of the weights in
// a model file, so it only ever grows at the end, with the model version.
var (
	// candidateFeatures describe one candidate for the query and the
	// history as a whole.
	candidateFeatures = []string{
		"lexical",          // BM25F of the query against the candidate's text
		"lexical share",    // the same, over the best in the list
		"query cosine",     // query · candidate in the fused space
		"query category",   // share of the query's words in the candidate's category path
		"popularity",       // log(1 + users who bought it in the training purchases)
		"history max",      // the best cosine between the candidate and a history item
		"history category", // the longest category prefix shared with a history item, as a share of the path
		// Version 2.
		"category coverage",       // share of the candidate's category words (stopwords aside) in the query
		"category exact",          // 1 when the query and the category path hold the same words
		"recent popularity",       // log(1 + purchases weighed by how late in their shopper's sequence)
		"co-purchase",             // log(1 + co-purchases with the history)
		"co-purchase idf",         // the same, each damped by how common the candidate is
		"co-purchase conditional", // Σ over the history of P(candidate | history item)
		"co-purchase cosine",      // Σ over the history of the cosine-normalized co-purchases
		"co-purchase last",        // log(1 + co-purchases with the latest purchase)
		"exact × popularity",      // category exact times popularity
		"exact × co-purchase",     // category exact times co-purchase
		"co-purchase two steps",   // Σ over the history of P(n | item)·P(candidate | n), over every n
		"lateness",                // mean place in its shoppers' sequences, 0 first, 1 last
		"co-purchase recent",      // log(1 + co-purchases with the history, each weighed by its item's recency)
		"history brand",           // 1 when a history item has the candidate's (non-empty) brand
		"history size",            // log(1 + history items)
		"title match",             // the most words of the title shared with a history item's, as a Jaccard index
	}
	// pairFeatures describe a candidate against one history item; stage
	// two reads their sum weighted by stage one's attention.
	pairFeatures = []string{
		"attended text cosine",    // text blocks of the fused vectors
		"attended image cosine",   // image blocks of the fused vectors
		"attended brand match",    // 1 when both have the same non-empty brand
		"attended category share", // shared category prefix as a share of the candidate's path
		"attended same category",  // 1 when the whole category paths are equal
		// Version 2.
		"attended co-purchase",             // log(1 + co-purchases of the pair)
		"attended co-purchase conditional", // P(candidate | history item)
		"attended title match",             // Jaccard index of the two titles' words
	}
	// historyFeatures describe a history item for the query; stage one's
	// attention is a softmax over their weighted sum.
	historyFeatures = []string{
		"item query cosine",   // query · item in the fused space
		"item lexical share",  // BM25F of the query against the item, over the best item
		"item query category", // share of the query's words in the item's category path
		"item recency",        // exp(-age/3), age 0 for the latest purchase
		// Version 2.
		"item co-purchases", // log(1 + the item's co-purchases with any product)
	}
)

// featureDims are the shapes of the learner's lists.
var featureDims = ltr.Dims{Cand: len(candidateFeatures), Hist: len(historyFeatures), Pair: len(pairFeatures)}

// featureInput is one ranking problem as the engine sees it.
type featureInput struct {
	query string
	qvec  []float32
	// history is oldest first, as requests list it.
	history    []*entry
	candidates []*entry
	// lexCand and lexHist are the lexical scores of the query against the
	// candidates and the history items.
	lexCand, lexHist []float64
	// lexMax, when above the candidates' best lexical score, stands for
	// it: a training list that keeps a sample of a search's candidates
	// reads their shares of the whole list's best.
	lexMax float64
	// shopper is what the list reads of the collaborative signal: buyer
	// counts, recent popularity and co-purchases, the shopper's own
	// purchases left out in training.
	shopper *shopper
	// cats caches the words of category paths.
	cats *categoryCache
}

// features builds the learner's list for in; textDim splits fused vectors
// into their text and image blocks. The list is not standardized.
func features(in *featureInput, textDim int) ltr.List {
	C, H := len(in.candidates), len(in.history)
	l := ltr.List{C: C, H: H, Positive: -1,
		Cand: make([]float64, 0, C*featureDims.Cand),
		Hist: make([]float64, 0, H*featureDims.Hist),
		Pair: make([]float64, 0, C*H*featureDims.Pair)}
	qwords := uniqueWords(in.query)
	maxLex := max(maxOr(in.lexCand, 1e-9), in.lexMax)
	histCats := make([]*categoryWords, H)
	histTitles := make([][]uint64, H)
	histIDs := make([]string, H)
	for i, h := range in.history {
		histCats[i] = in.cats.get(h)
		histTitles[i] = in.cats.title(h)
		histIDs[i] = h.product.ID
	}
	sh := in.shopper
	// recency[i] weighs history item i's co-purchases by how recent it is.
	recency := make([]float64, H)
	for i := range recency {
		recency[i] = math.Exp(-float64(H-1-i) / recencyScale)
	}
	// The co-purchase table's indexes of the history items, looked up
	// once; hasCo[i] is false for one the table does not know.
	histIdx := make([]int32, H)
	hasCo := make([]bool, H)
	for i, id := range histIDs {
		histIdx[i], hasCo[i] = sh.co.Index(id)
	}
	// byCategory holds the query's match with each category path of the
	// list, which many candidates share.
	byCategory := make(map[*categoryWords][3]float64)
	candIDs := make([]string, C)
	for i, c := range in.candidates {
		candIDs[i] = c.product.ID
	}
	twoSteps := sh.co.TwoSteps(histIDs, candIDs)
	for ci, c := range in.candidates {
		p := &c.product
		pop := sh.buyers(p.ID)
		cw := in.cats.get(c)
		cIdx, cKnown := sh.co.Index(p.ID)
		// The text and image dot products of a pair sum to the fused
		// cosine that "history max" needs.
		hmax, hcat, hbrand, htitle := 0.0, 0.0, 0.0, 0.0
		title := in.cats.title(c)
		var coRaw, coIDF, coCond, coCos, coLast, coRecent float64
		for hi, h := range in.history {
			hp := &h.product
			text := retrieval.Dot64(c.vector[:textDim], h.vector[:textDim])
			image := retrieval.Dot64(c.vector[textDim:], h.vector[textDim:])
			share := categoryShare(p.Category, hp.Category)
			hmax = max(hmax, text+image)
			hcat = max(hcat, share)
			brand := indicator(p.Brand != "" && p.Brand == hp.Brand)
			hbrand = max(hbrand, brand)
			titleMatch := jaccard(title, histTitles[hi])
			htitle = max(htitle, titleMatch)
			var raw, cond float64
			if cKnown && hasCo[hi] {
				i, j := histIdx[hi], cIdx
				if raw = sh.co.WeightAt(i, j); raw > 0 {
					cond = sh.co.StrengthAt(i, j, raw, cooccur.NormConditional)
					coIDF += sh.co.StrengthAt(i, j, raw, cooccur.NormIDF)
					coCos += sh.co.StrengthAt(i, j, raw, cooccur.NormCosine)
				}
			}
			if hi == H-1 {
				coLast = raw
			}
			coRaw += raw
			coRecent += raw * recency[hi]
			coCond += cond
			l.Pair = append(l.Pair,
				text,
				image,
				brand,
				share,
				indicator(len(p.Category) > 0 && slices.Equal(p.Category, hp.Category)),
				math.Log1p(raw),
				cond,
				titleMatch,
			)
		}
		qc, ok := byCategory[cw]
		if !ok {
			qc = queryCategory(qwords, cw)
			byCategory[cw] = qc
		}
		queryShare, coverage, exact := qc[0], qc[1], qc[2]
		l.Cand = append(l.Cand,
			in.lexCand[ci],
			in.lexCand[ci]/maxLex,
			retrieval.Dot64(in.qvec, c.vector),
			queryShare,
			math.Log1p(pop),
			hmax,
			hcat,
			coverage,
			exact,
			math.Log1p(sh.recent(p.ID)),
			math.Log1p(coRaw),
			math.Log1p(coIDF),
			coCond,
			coCos,
			math.Log1p(coLast),
			exact*math.Log1p(pop),
			exact*math.Log1p(coRaw),
			twoSteps[ci],
			sh.late(p.ID),
			math.Log1p(coRecent),
			hbrand,
			math.Log1p(float64(H)),
			htitle,
		)
	}
	maxHistLex := maxOr(in.lexHist, 1e-9)
	for i, h := range in.history {
		age := float64(H - 1 - i)
		l.Hist = append(l.Hist,
			retrieval.Dot64(in.qvec, h.vector),
			in.lexHist[i]/maxHistLex,
			wordShare(qwords, histCats[i].words),
			math.Exp(-age/3),
			math.Log1p(sh.co.Margin(histIdx[i], hasCo[i])),
		)
	}
	return l
}

// queryCategory returns how the query's words (sorted, distinct) match a
// category path: the share of them in the path, the share of the path's
// content words in them, and 1 when both are whole.
func queryCategory(qwords []string, cw *categoryWords) [3]float64 {
	share, coverage := wordShare(qwords, cw.words), cw.coverage(qwords)
	return [3]float64{share, coverage, indicator(share == 1 && coverage == 1)}
}

// categoryWords are the words of a category path: all of them, sorted and
// distinct, and those that are not stopwords.
type categoryWords struct {
	words, content []string
}

// coverage is the share of the category's content words that words
// (sorted) holds; 0 for a category without any.
func (c *categoryWords) coverage(words []string) float64 {
	return wordShare(c.content, words)
}

// categoryCache holds the words of each category path once: a catalog has
// far fewer paths than products, and a training list would otherwise
// tokenize every candidate's path again. It is safe for concurrent use.
type categoryCache struct {
	// byID holds the words of a catalog's products: Train fills it once,
	// before the lists are built, and empties it after.
	byID map[string]*productWords
	m    sync.Map // the path's levels joined by categorySep → *categoryWords
}

// categorySep joins the levels of a category path into a cache key; no
// level holds it.
const categorySep = "\x00"

// productWords are the words the features read of one product.
type productWords struct {
	category *categoryWords
	// title holds the hashes of the title's distinct words, sorted.
	title []uint64
}

// fill puts the words of every entry in byID.
func (c *categoryCache) fill(entries []*entry) {
	byID := make(map[string]*productWords, len(entries))
	for _, en := range entries {
		byID[en.product.ID] = &productWords{category: c.get(en), title: c.title(en)}
	}
	c.byID = byID
}

// title returns the hashes of the distinct words of en's title, sorted.
// Titles are nearly unique, so outside training they are not cached.
func (c *categoryCache) title(en *entry) []uint64 {
	if c != nil {
		if w, ok := c.byID[en.product.ID]; ok {
			return w.title
		}
	}
	return wordHashes(en.product.Title)
}

// wordHashes returns the 64-bit FNV-1a hashes of the distinct words of s,
// sorted: comparing two titles' words is then comparing integers. Two
// words share a hash with odds of about one in 10^19 per pair.
func wordHashes(s string) []uint64 {
	words := tokenize.Words(s)
	out := make([]uint64, len(words))
	for i, w := range words {
		h := uint64(14695981039346656037)
		for j := 0; j < len(w); j++ {
			h = (h ^ uint64(w[j])) * 1099511628211
		}
		out[i] = h
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// jaccard is the Jaccard index of two sorted sets of word hashes: 0 when
// both are empty.
func jaccard(a, b []uint64) float64 {
	n, i, j := 0, 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			n++
			i++
			j++
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	if u := len(a) + len(b) - n; u > 0 {
		return float64(n) / float64(u)
	}
	return 0
}

// stopwords are the words that say nothing of a category.
var stopwords = summarize.EnglishStopwords()

// get returns the words of en's category path.
func (c *categoryCache) get(en *entry) *categoryWords {
	if c != nil {
		if w, ok := c.byID[en.product.ID]; ok {
			return w.category
		}
	}
	key := strings.Join(en.product.Category, categorySep)
	if c != nil {
		if w, ok := c.m.Load(key); ok {
			return w.(*categoryWords)
		}
	}
	cw := wordsOf(en.product.Category)
	if c != nil {
		c.m.Store(key, cw)
	}
	return cw
}

// wordsOf returns the words of a category path.
func wordsOf(path []string) *categoryWords {
	cw := &categoryWords{}
	for _, level := range path {
		cw.words = append(cw.words, tokenize.Words(level)...)
	}
	slices.Sort(cw.words)
	cw.words = slices.Compact(cw.words)
	for _, w := range cw.words {
		if !stopwords[w] {
			cw.content = append(cw.content, w)
		}
	}
	return cw
}

// uniqueWords returns the distinct words of s, sorted.
func uniqueWords(s string) []string {
	words := tokenize.Words(s)
	slices.Sort(words)
	return slices.Compact(words)
}

// wordShare is the share of words found in set (sorted); 0 without words.
func wordShare(words []string, set []string) float64 {
	if len(words) == 0 {
		return 0
	}
	n := 0
	for _, w := range words {
		if _, ok := slices.BinarySearch(set, w); ok {
			n++
		}
	}
	return float64(n) / float64(len(words))
}

// categoryShare is the number of leading levels of path that other shares,
// over the length of path; 0 for an empty path.
func categoryShare(path, other []string) float64 {
	if len(path) == 0 {
		return 0
	}
	n := 0
	for n < len(path) && n < len(other) && path[n] == other[n] {
		n++
	}
	return float64(n) / float64(len(path))
}

func indicator(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// maxOr returns the largest of xs, or floor when that is larger.
func maxOr(xs []float64, floor float64) float64 {
	m := floor
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}
