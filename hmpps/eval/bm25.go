package eval

import (
	"context"
	"math"
	"strings"

	"hmpps/hmpps"
	"hmpps/internal/htmltext"
	"hmpps/internal/tokenize"
)

// BM25 parameters at their textbook values (Robertson and Zaragoza, 2009).
const (
	bm25K1 = 1.2
	bm25B  = 0.75
)

// BM25 scores a candidate by the Okapi BM25 relevance of its text (title,
// brand, category path and description) to the query, with document
// frequencies over the whole catalog: the strong lexical baseline, which
// knows the query and nothing about the user. Build it with NewBM25.
type BM25 struct {
	docs map[string]bm25Doc
	idf  map[string]float64
	// avgLen is the mean document length in words.
	avgLen float64
}

type bm25Doc struct {
	tf  map[string]int
	len int
}

// NewBM25 indexes the products' text.
func NewBM25(products []hmpps.Product) *BM25 {
	b := &BM25{docs: make(map[string]bm25Doc, len(products)), idf: make(map[string]float64)}
	df := make(map[string]int)
	var total int
	for _, p := range products {
		words := tokenize.Words(productText(p))
		d := bm25Doc{tf: make(map[string]int), len: len(words)}
		for _, w := range words {
			if d.tf[w] == 0 {
				df[w]++
			}
			d.tf[w]++
		}
		b.docs[p.ID] = d
		total += len(words)
	}
	n := float64(len(products))
	for w, f := range df {
		// The +1 inside the log keeps the weight of a word found in most
		// documents positive, as Lucene does.
		b.idf[w] = math.Log(1 + (n-float64(f)+0.5)/(float64(f)+0.5))
	}
	if len(products) > 0 {
		b.avgLen = math.Max(float64(total)/n, 1)
	}
	return b
}

// Name returns "bm25".
func (*BM25) Name() string { return "bm25" }

// Score implements Method. A candidate the index does not know scores 0.
func (b *BM25) Score(ctx context.Context, t Task) (Scored, error) {
	if err := ctx.Err(); err != nil {
		return Scored{}, err
	}
	query := tokenize.Words(t.Query)
	scores := make([]float64, len(t.Candidates))
	for i, id := range t.Candidates {
		d, ok := b.docs[id]
		if !ok {
			continue
		}
		norm := bm25K1 * (1 - bm25B + bm25B*float64(d.len)/b.avgLen)
		for _, w := range query {
			tf := float64(d.tf[w])
			if tf > 0 {
				scores[i] += b.idf[w] * tf * (bm25K1 + 1) / (tf + norm)
			}
		}
	}
	return Scored{Scores: scores}, nil
}

// productText is the text the lexical baselines read: what the engine embeds
// for a product without attributes.
func productText(p hmpps.Product) string {
	parts := []string{htmltext.Plain(p.Title), p.Brand, strings.Join(p.Category, " "), htmltext.Plain(p.Description)}
	var nonEmpty []string
	for _, s := range parts {
		if s = strings.TrimSpace(s); s != "" {
			nonEmpty = append(nonEmpty, s)
		}
	}
	return strings.Join(nonEmpty, ". ")
}
