package hmpps_test

import (
	"context"
	"fmt"
	"log"

	"hmpps/hmpps"
)

// Counts move with every purchase while weights change slowly: Recount
// renews what a model counts (buyers, what shoppers buy together) from
// newer purchases and keeps its learned weights, so a shop can recount
// daily and train weekly.
func ExampleModel_Recount() {
	ctx := context.Background()
	catalog := []hmpps.Product{
		{ID: "boot-1", Title: "Classic Leather Waterproof Boots", Brand: "Heritage", Category: []string{"Shoes", "Boots"}},
		{ID: "boot-2", Title: "Lightweight Trail Waterproof Boots", Brand: "Summit", Category: []string{"Shoes", "Boots"}},
		{ID: "boot-wax", Title: "Leather Boot Wax", Brand: "Heritage", Category: []string{"Shoes", "Care"}},
		{ID: "gaiters", Title: "Trail Gaiters", Brand: "Summit", Category: []string{"Sports", "Hiking"}},
		{ID: "socks", Title: "Wool Hiking Socks", Brand: "Summit", Category: []string{"Sports", "Hiking"}},
		{ID: "polish", Title: "Leather Polish", Brand: "Heritage", Category: []string{"Shoes", "Care"}},
	}
	engine, err := hmpps.New()
	if err != nil {
		log.Fatal(err)
	}
	defer engine.Close()
	if err := engine.Upsert(ctx, catalog...); err != nil {
		log.Fatal(err)
	}
	buy := func(n int, user string, history []string, boot string) []hmpps.TrainingExample {
		var out []hmpps.TrainingExample
		for i := range n {
			out = append(out, hmpps.TrainingExample{User: fmt.Sprint(user, i), Query: "waterproof boots",
				HistoryIDs: history, Positive: boot})
		}
		return out
	}
	purchases := append(buy(15, "leather-", []string{"polish", "boot-wax"}, "boot-1"),
		buy(15, "trail-", []string{"gaiters"}, "boot-2")...)
	model, err := hmpps.Train(ctx, engine, purchases, hmpps.TrainOptions{Negatives: 3, Epochs: 20, Seed: 1})
	if err != nil {
		log.Fatal(err)
	}
	top := func(m *hmpps.Model) string {
		e, err := hmpps.New(hmpps.WithModel(m))
		if err != nil {
			log.Fatal(err)
		}
		defer e.Close()
		if err := e.Upsert(ctx, catalog...); err != nil {
			log.Fatal(err)
		}
		resp, err := e.Search(ctx, hmpps.Request{Query: "waterproof boots", HistoryIDs: []string{"socks"},
			CandidateIDs: []string{"boot-1", "boot-2"}})
		if err != nil {
			log.Fatal(err)
		}
		return resp.Results[0].ID
	}
	fmt.Println("trained, a sock buyer gets", top(model))

	// A week on, sock buyers have been buying the leather boots.
	recounted, err := model.Recount(append(purchases, buy(30, "socks-", []string{"socks"}, "boot-1")...))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("recounted, a sock buyer gets", top(recounted))
	// Output:
	// trained, a sock buyer gets boot-2
	// recounted, a sock buyer gets boot-1
}
