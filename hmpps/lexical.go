package hmpps

// lexicalScores returns the BM25F score of each entry's text for the query
// (see WithLexical). A product given only in a request (ad-hoc history) is
// not in the index and scores 0.
func (e *Engine) lexicalScores(query string, ens []*entry) []float64 {
	ids := make([]string, len(ens))
	for i, en := range ens {
		ids[i] = en.product.ID
	}
	return e.lex.Score(query, ids, make([]float64, 0, len(ids)))
}
