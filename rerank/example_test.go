package rerank_test

import (
	"context"
	"fmt"
	"log"

	"hmpps/rerank"
)

func ExamplePreference() {
	// Axis 0 is "hiking boot", axis 1 "leather", axis 2 "synthetic". Both
	// candidates match the query equally, by vector and by its words
	// (Lexical, which the engine sets from its BM25F scores); the user's
	// kept history is leather.
	req := rerank.Request{
		Query:       "hiking boots",
		QueryVector: []float32{1, 0, 0},
		History: []rerank.Item{
			{ID: "old-leather-boot", Vector: []float32{0.6, 0.8, 0}, Relevance: 0.9},
		},
		Candidates: []rerank.Item{
			{ID: "synthetic-boot", Vector: []float32{0.8, 0, 0.6}, Lexical: 1},
			{ID: "leather-boot", Vector: []float32{0.8, 0.6, 0}, Lexical: 1},
		},
	}
	res, err := rerank.Preference{}.Rerank(context.Background(), req)
	if err != nil {
		log.Fatal(err)
	}
	for i, s := range res.Scores {
		pref := rerank.PreferenceScore(req.Candidates[i].Vector, req.History)
		fmt.Printf("%-14s score %.2f  preference %.2f\n", s.ID, s.Score, pref)
	}
	// Output:
	// synthetic-boot score 0.75  preference 0.48
	// leather-boot   score 0.94  preference 0.96
}
