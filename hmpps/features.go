package hmpps

import (
	"math"
	"slices"

	"hmpps/internal/ltr"
	"hmpps/internal/tokenize"
	"hmpps/retrieval"
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
	}
	// pairFeatures describe a candidate against one history item; stage
	// two reads their sum weighted by stage one's attention.
	pairFeatures = []string{
		"attended text cosine",    // text blocks of the fused vectors
		"attended image cosine",   // image blocks of the fused vectors
		"attended brand match",    // 1 when both have the same non-empty brand
		"attended category share", // shared category prefix as a share of the candidate's path
		"attended same category",  // 1 when the whole category paths are equal
	}
	// historyFeatures describe a history item for the query; stage one's
	// attention is a softmax over their weighted sum.
	historyFeatures = []string{
		"item query cosine",   // query · item in the fused space
		"item lexical share",  // BM25F of the query against the item, over the best item
		"item query category", // share of the query's words in the item's category path
		"item recency",        // exp(-age/3), age 0 for the latest purchase
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
	// popularity maps a product to its number of buyers in the training
	// purchases. The candidate at leaveOut (-1 for none) is counted with
	// one buyer less: a training purchase must not be its own prior.
	popularity map[string]float64
	leaveOut   int
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
	maxLex := maxOr(in.lexCand, 1e-9)
	histCats := make([]map[string]bool, H)
	for i, h := range in.history {
		histCats[i] = categoryWords(h.product.Category)
	}
	for ci, c := range in.candidates {
		p := &c.product
		pop := in.popularity[p.ID]
		if ci == in.leaveOut {
			pop = max(pop-1, 0)
		}
		// The text and image dot products of a pair sum to the fused
		// cosine that "history max" needs.
		hmax, hcat := 0.0, 0.0
		for _, h := range in.history {
			hp := &h.product
			text := retrieval.Dot64(c.vector[:textDim], h.vector[:textDim])
			image := retrieval.Dot64(c.vector[textDim:], h.vector[textDim:])
			share := categoryShare(p.Category, hp.Category)
			hmax = math.Max(hmax, text+image)
			hcat = math.Max(hcat, share)
			l.Pair = append(l.Pair,
				text,
				image,
				indicator(p.Brand != "" && p.Brand == hp.Brand),
				share,
				indicator(len(p.Category) > 0 && slices.Equal(p.Category, hp.Category)),
			)
		}
		l.Cand = append(l.Cand,
			in.lexCand[ci],
			in.lexCand[ci]/maxLex,
			retrieval.Dot64(in.qvec, c.vector),
			wordShare(qwords, categoryWords(p.Category)),
			math.Log1p(pop),
			hmax,
			hcat,
		)
	}
	maxHistLex := maxOr(in.lexHist, 1e-9)
	for i, h := range in.history {
		age := float64(H - 1 - i)
		l.Hist = append(l.Hist,
			retrieval.Dot64(in.qvec, h.vector),
			in.lexHist[i]/maxHistLex,
			wordShare(qwords, histCats[i]),
			math.Exp(-age/3),
		)
	}
	return l
}

// uniqueWords returns the distinct words of s.
func uniqueWords(s string) []string {
	words := tokenize.Words(s)
	slices.Sort(words)
	return slices.Compact(words)
}

// categoryWords returns the set of words of a category path.
func categoryWords(path []string) map[string]bool {
	m := make(map[string]bool)
	for _, level := range path {
		for _, w := range tokenize.Words(level) {
			m[w] = true
		}
	}
	return m
}

// wordShare is the share of words found in set; 0 without words.
func wordShare(words []string, set map[string]bool) float64 {
	if len(words) == 0 {
		return 0
	}
	n := 0
	for _, w := range words {
		if set[w] {
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
		m = math.Max(m, x)
	}
	return m
}
