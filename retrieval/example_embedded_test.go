package retrieval_test

import (
	"context"
	"fmt"
	"log"

	"hmpps/retrieval"
)

// An embedded index keeps vectors with filterable metadata; a search
// returns the closest records that pass the filter.
func ExampleEmbedded() {
	ctx := context.Background()
	idx, err := retrieval.NewEmbedded(3, retrieval.Cosine)
	if err != nil {
		log.Fatal(err)
	}
	defer idx.Close()

	err = idx.Upsert(ctx,
		retrieval.Record{ID: "boot-trail", Vector: []float32{0.9, 0.1, 0},
			Metadata: map[string]string{"brand": "Trailhead", "category": "Clothing > Shoes > Boots"}},
		retrieval.Record{ID: "boot-city", Vector: []float32{0.7, 0.3, 0.2},
			Metadata: map[string]string{"brand": "Summit", "category": "Clothing > Shoes > Boots"}},
		retrieval.Record{ID: "sandal", Vector: []float32{0.6, 0, 0.8},
			Metadata: map[string]string{"brand": "Trailhead", "category": "Clothing > Shoes > Sandals"}},
		retrieval.Record{ID: "jacket", Vector: []float32{0.95, 0.05, 0},
			Metadata: map[string]string{"brand": "Trailhead", "category": "Clothing > Jackets"}},
	)
	if err != nil {
		log.Fatal(err)
	}

	// The jacket is the closest vector, but the filter asks for shoes.
	shoes := retrieval.Filter{retrieval.Prefix("category", "Clothing > Shoes")}
	hits, err := idx.Search(ctx, []float32{1, 0.1, 0}, 2, shoes)
	if err != nil {
		log.Fatal(err)
	}
	for _, h := range hits {
		fmt.Printf("%s %.3f\n", h.ID, h.Score)
	}
	// Output:
	// boot-trail 1.000
	// boot-city 0.922
}

// A quantized index scans int8 copies of its vectors, a quarter of the
// bytes, and rescores with the float32 vectors every row that quantization
// error leaves in reach of the top k, so it returns what an exact scan
// returns.
func ExampleNewEmbeddedWith() {
	ctx := context.Background()
	idx, err := retrieval.NewEmbeddedWith(4, retrieval.InnerProduct, retrieval.EmbeddedOptions{Quantize: true})
	if err != nil {
		log.Fatal(err)
	}
	defer idx.Close()

	err = idx.Upsert(ctx,
		retrieval.Record{ID: "tent", Vector: []float32{0.5, 0.5, 0.5, 0.5}},
		retrieval.Record{ID: "stove", Vector: []float32{0.9, 0.1, 0, 0.3}},
		retrieval.Record{ID: "lamp", Vector: []float32{0, 0.2, 0.9, 0.1}},
	)
	if err != nil {
		log.Fatal(err)
	}
	hits, err := idx.Search(ctx, []float32{1, 0, 0.2, 0}, 2, nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, h := range hits {
		fmt.Printf("%s %.2f\n", h.ID, h.Score)
	}
	fmt.Println(idx.Options().Quantize)
	// Output:
	// stove 0.90
	// tent 0.60
	// true
}
