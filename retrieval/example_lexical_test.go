package retrieval_test

import (
	"fmt"

	"hmpps/retrieval"
)

// A lexical index scores the words of a query against each product's
// fields: a match in the title counts more than one in the description, and
// a word most products share counts little.
func ExampleLexical() {
	lex := retrieval.NewLexical(retrieval.LexicalParams{}) // BM25F with the default weights
	lex.Upsert("B01", retrieval.LexicalDoc{Title: "Waterproof hiking boots", Brand: "Trailmark", Category: "Shoes Boots", Body: "Leather, with a grippy sole."})
	lex.Upsert("B02", retrieval.LexicalDoc{Title: "Rain jacket", Brand: "Trailmark", Category: "Clothing", Body: "Waterproof and breathable, for hiking in the rain."})
	lex.Upsert("B03", retrieval.LexicalDoc{Title: "Saucepan", Category: "Kitchen", Body: "Stainless steel, with a glass lid."})

	for _, h := range lex.Search("waterproof hiking boots", 10, nil) {
		fmt.Printf("%s %.2f\n", h.ID, h.Score)
	}
	// Output:
	// B01 2.96
	// B02 0.85
}
