package lexical_test

import (
	"fmt"
	"log"

	"hmpps/retrieval/lexical"
)

// A lexical index scores the words of a query against each product's
// fields: a match in the title counts more than one in the description, and
// a word most products share counts little.
func ExampleIndex() {
	lex, err := lexical.New(lexical.Params{}) // BM25F with the default weights
	if err != nil {
		log.Fatal(err)
	}
	lex.Upsert("B01", lexical.Doc{Title: "Waterproof hiking boots", Brand: "Trailmark", Category: "Shoes Boots", Body: "Leather, with a grippy sole."})
	lex.Upsert("B02", lexical.Doc{Title: "Rain jacket", Brand: "Trailmark", Category: "Clothing", Body: "Waterproof and breathable, for hiking in the rain."})
	lex.Upsert("B03", lexical.Doc{Title: "Saucepan", Category: "Kitchen", Body: "Stainless steel, with a glass lid."})

	for _, h := range lex.Search("waterproof hiking boots", 10, nil) {
		fmt.Printf("%s %.2f\n", h.ID, h.Score)
	}
	// Output:
	// B01 2.96
	// B02 0.85
}
