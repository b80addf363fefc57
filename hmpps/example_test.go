package hmpps_test

import (
	"context"
	"fmt"
	"log"

	"hmpps/hmpps"
)

func ExampleEngine_Search() {
	ctx := context.Background()
	engine, err := hmpps.New() // offline: no server, no network
	if err != nil {
		log.Fatal(err)
	}
	defer engine.Close()

	err = engine.Upsert(ctx,
		hmpps.Product{ID: "boot-1", Title: "Classic Leather Waterproof Boots", Brand: "Heritage",
			Category: []string{"Shoes", "Boots"}, Description: "Brown full-grain waxed leather. Waterproof."},
		hmpps.Product{ID: "boot-2", Title: "Lightweight Trail Waterproof Boots", Brand: "Summit",
			Category: []string{"Shoes", "Boots"}, Description: "Breathable synthetic mesh. Waterproof membrane."},
		hmpps.Product{ID: "boot-wax", Title: "Leather Boot Wax", Brand: "Heritage",
			Category: []string{"Shoe Care"}, Description: "Keeps brown full-grain leather boots waterproof."},
		hmpps.Product{ID: "gaiters", Title: "Trail Gaiters", Brand: "Summit",
			Category: []string{"Hiking"}, Description: "Breathable synthetic mesh gaiters, waterproof, for boots."},
	)
	if err != nil {
		log.Fatal(err)
	}

	for _, history := range [][]string{{"boot-wax"}, {"gaiters"}} {
		resp, err := engine.Search(ctx, hmpps.Request{
			Query:        "waterproof boots",
			HistoryIDs:   history,
			CandidateIDs: []string{"boot-1", "boot-2"},
		})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("history %v -> %s, then %s\n", history, resp.Results[0].ID, resp.Results[1].ID)
	}
	// Output:
	// history [boot-wax] -> boot-1, then boot-2
	// history [gaiters] -> boot-2, then boot-1
}

// Without CandidateIDs the engine retrieves candidates itself. With
// lexical retrieval only products holding a query word are candidates,
// ranked by BM25F (Result.LexicalScore); the default, hybrid retrieval,
// fuses that list with the vector index's.
func ExampleWithRetrieval() {
	ctx := context.Background()
	engine, err := hmpps.New(hmpps.WithRetrieval(hmpps.RetrieveLexical))
	if err != nil {
		log.Fatal(err)
	}
	defer engine.Close()
	err = engine.Upsert(ctx,
		hmpps.Product{ID: "boot-1", Title: "Leather Boots", Description: "Waxed leather, waterproof."},
		hmpps.Product{ID: "jacket", Title: "Rain Jacket", Description: "Waterproof and breathable."},
		hmpps.Product{ID: "pan", Title: "Saucepan", Description: "Stainless steel."},
	)
	if err != nil {
		log.Fatal(err)
	}
	resp, err := engine.Search(ctx, hmpps.Request{Query: "waterproof boots"})
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range resp.Results {
		fmt.Printf("%s %.2f\n", r.ID, r.LexicalScore)
	}
	// Output:
	// boot-1 1.93
	// jacket 0.45
}
