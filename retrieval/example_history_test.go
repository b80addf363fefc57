package retrieval_test

import (
	"context"
	"fmt"
	"log"

	"hmpps/retrieval"
)

// A user's history is mostly unrelated to what they search for now; stage
// one keeps the few items that are relevant to the query, here the outdoor
// gear for a search for hiking boots. History items are fused product
// vectors (text only in this example, so their image block is zero) and the
// query goes through VectorFusion.Query, so each score is the cosine between the
// query and an item's text.
func ExampleHistoryFilter() {
	ctx := context.Background()
	embedder, err := retrieval.NewHashingEmbedder(retrieval.DefaultTextDimension)
	if err != nil {
		log.Fatal(err)
	}
	fusion := retrieval.DefaultVectorFusion
	imageDim := retrieval.ColorLayoutDimension

	bought := []struct{ id, title string }{
		{"B01", "Stainless steel saucepan with glass lid"},
		{"B02", "Merino wool hiking socks, 3 pairs"},
		{"B03", "Wireless noise cancelling headphones"},
		{"B04", "Waterproof rain jacket for hiking and trekking"},
		{"B05", "Children's picture book about dinosaurs"},
		{"B06", "Trekking poles, aluminium, pair"},
	}
	titles := make([]string, len(bought))
	for i, b := range bought {
		titles[i] = b.title
	}
	vectors, err := embedder.Embed(ctx, titles)
	if err != nil {
		log.Fatal(err)
	}
	history := make([]retrieval.HistoryItem, len(bought))
	for i, b := range bought {
		fused, err := fusion.Product(vectors[i], nil, embedder.Dimension(), imageDim)
		if err != nil {
			log.Fatal(err)
		}
		history[i] = retrieval.HistoryItem{ID: b.id, Vector: fused}
	}

	q, err := embedder.Embed(ctx, []string{"waterproof hiking boots"})
	if err != nil {
		log.Fatal(err)
	}
	query, err := fusion.Query(q[0], imageDim)
	if err != nil {
		log.Fatal(err)
	}

	minScore := float32(0.1)
	filter := retrieval.HistoryFilter{K: 3, MinScore: &minScore}
	kept, err := filter.Filter(query, nil, history)
	if err != nil {
		log.Fatal(err)
	}
	// The trekking poles score about 0.02 and miss the threshold: the
	// hashing embedder is lexical and does not know trekking is hiking.
	for _, k := range kept {
		fmt.Println(k.ID, bought[k.Index].title)
	}
	// Output:
	// B04 Waterproof rain jacket for hiking and trekking
	// B02 Merino wool hiking socks, 3 pairs
}
