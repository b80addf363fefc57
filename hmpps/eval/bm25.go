package eval

import (
	"context"
	"strings"

	"hmpps/hmpps"
	"hmpps/internal/htmltext"
	"hmpps/retrieval/lexical"
)

// bm25Params make lexical.Index score as Okapi BM25: the whole text in
// one field of weight 1, K1 and B at their textbook values (Robertson and
// Zaragoza, 2009).
var bm25Params = lexical.Params{K1: 1.2, B: 0.75, BodyWeight: 1}

// BM25 scores a candidate by the Okapi BM25 relevance of its text (title,
// brand, category path and description) to the query, with document
// frequencies over the whole catalog: the strong lexical baseline, which
// knows the query and nothing about the user. Build it with NewBM25.
//
// It is the engine's lexical scorer, lexical.Index, with all the text
// in one field: the baseline and the engine's lexical signal are one
// implementation, and cannot drift apart.
type BM25 struct {
	lex *lexical.Index
}

// NewBM25 indexes the products' text.
func NewBM25(products []hmpps.Product) *BM25 {
	lex, err := lexical.New(bm25Params)
	if err != nil {
		// bm25Params is a constant that TestBM25Params holds valid.
		panic("eval: " + err.Error())
	}
	for _, p := range products {
		lex.Upsert(p.ID, lexical.Doc{Body: productText(p)})
	}
	return &BM25{lex: lex}
}

// Name returns "bm25".
func (*BM25) Name() string { return "bm25" }

// Score implements Method. A candidate the index does not know scores 0.
func (b *BM25) Score(ctx context.Context, t Task) (Scored, error) {
	if err := ctx.Err(); err != nil {
		return Scored{}, err
	}
	return Scored{Scores: b.lex.Score(t.Query, t.Candidates, make([]float64, 0, len(t.Candidates)))}, nil
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
