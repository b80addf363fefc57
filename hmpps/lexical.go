package hmpps

import (
	"strings"

	"hmpps/internal/htmltext"
	"hmpps/retrieval"
)

// lexicalDoc is what the lexical index reads of a product: its plain title,
// brand, category path and description, as the BM25 baseline of hmpps/eval
// reads them.
func lexicalDoc(p *Product) retrieval.LexicalDoc {
	return retrieval.LexicalDoc{
		Title:    htmltext.Plain(p.Title),
		Brand:    p.Brand,
		Category: strings.Join(p.Category, " "),
		Body:     htmltext.Plain(p.Description),
	}
}

// indexLexical adds the entries to the lexical index; the caller holds the
// write lock.
func (e *Engine) indexLexical(entries []*entry) {
	for _, en := range entries {
		e.lexical.Upsert(en.product.ID, lexicalDoc(&en.product))
	}
}

// lexicalScores returns the BM25F score of each entry's text for the query.
// A product given only in a request (ad-hoc history) is not in the index and
// scores 0.
func (e *Engine) lexicalScores(query string, ens []*entry) []float64 {
	ids := make([]string, len(ens))
	for i, en := range ens {
		ids[i] = en.product.ID
	}
	return e.lexical.Score(query, ids, make([]float64, 0, len(ids)))
}
