package hmpps_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"

	"hmpps/hmpps"
)

// A service maps the engine's errors to answers for its caller: a request
// over a limit, unknown product IDs (all of them, to fix in one go), and
// results that could not be personalized.
func ExampleUnknownIDsError() {
	ctx := context.Background()
	engine, err := hmpps.New()
	if err != nil {
		log.Fatal(err)
	}
	defer engine.Close()
	err = engine.Upsert(ctx,
		hmpps.Product{ID: "boot-1", Title: "Classic Leather Waterproof Boots"},
		hmpps.Product{ID: "wax-1", Title: "Leather Boot Wax"})
	if err != nil {
		log.Fatal(err)
	}

	requests := []hmpps.Request{
		{Query: strings.Repeat("boots ", 1000)},
		{Query: "waterproof boots", HistoryIDs: []string{"wax-1", "wallet-7", "belt-2"}},
		{Query: "waterproof boots", HistoryIDs: []string{"wax-1"}, ExcludeHistory: true},
		{Query: "waterproof boots"},
	}
	for _, req := range requests {
		resp, err := engine.Search(ctx, req)
		var unknown *hmpps.UnknownIDsError
		switch {
		case errors.Is(err, hmpps.ErrRequestTooLarge):
			fmt.Println("413:", err)
		case errors.As(err, &unknown):
			fmt.Printf("422: unknown %s %q\n", unknown.Field, unknown.IDs)
		case err != nil:
			log.Fatal(err)
		default:
			fmt.Printf("200: %s first, personalized: %v\n", resp.Results[0].ID, resp.Personalized)
		}
	}
	// Output:
	// 413: hmpps: invalid request: over a limit: query is 6000 bytes, at most 4096 (Limits.QueryBytes)
	// 422: unknown history ["wallet-7" "belt-2"]
	// 200: boot-1 first, personalized: true
	// 200: boot-1 first, personalized: false
}
