package hmpps_test

import (
	"bytes"
	"context"
	"fmt"
	"log"

	"hmpps/hmpps"
)

// ExampleTrain learns the two stages from past purchases, loads the model
// into an engine and saves it as a file of its own.
func ExampleTrain() {
	ctx := context.Background()
	catalog := []hmpps.Product{
		{ID: "boot-1", Title: "Classic Leather Waterproof Boots", Brand: "Heritage", Category: []string{"Shoes", "Boots"},
			Description: "Brown full-grain waxed leather. Waterproof."},
		{ID: "boot-2", Title: "Lightweight Trail Waterproof Boots", Brand: "Summit", Category: []string{"Shoes", "Boots"},
			Description: "Breathable synthetic mesh. Waterproof membrane."},
		{ID: "boot-wax", Title: "Leather Boot Wax", Brand: "Heritage", Category: []string{"Shoes", "Care"},
			Description: "Keeps brown full-grain leather boots waterproof."},
		{ID: "gaiters", Title: "Trail Gaiters", Brand: "Summit", Category: []string{"Sports", "Hiking"},
			Description: "Breathable synthetic mesh gaiters, waterproof, for boots."},
		{ID: "socks", Title: "Wool Hiking Socks", Brand: "Summit", Category: []string{"Sports", "Hiking"},
			Description: "Merino wool socks for long trails."},
		{ID: "polish", Title: "Leather Polish", Brand: "Heritage", Category: []string{"Shoes", "Care"},
			Description: "Brown polish for leather shoes and boots."},
	}
	engine, err := hmpps.New()
	if err != nil {
		log.Fatal(err)
	}
	defer engine.Close()
	if err := engine.Upsert(ctx, catalog...); err != nil {
		log.Fatal(err)
	}

	// Each purchase: who, what they searched for, what they had bought
	// before (oldest first), and what they bought.
	var purchases []hmpps.TrainingExample
	for i := range 30 {
		ex := hmpps.TrainingExample{User: fmt.Sprint("leather-", i), Query: "waterproof boots",
			HistoryIDs: []string{"polish", "boot-wax"}, Positive: "boot-1"}
		if i%2 == 1 {
			ex = hmpps.TrainingExample{User: fmt.Sprint("trail-", i), Query: "waterproof boots",
				HistoryIDs: []string{"socks", "gaiters"}, Positive: "boot-2"}
		}
		purchases = append(purchases, ex)
	}
	model, err := hmpps.Train(ctx, engine, purchases, hmpps.TrainOptions{Negatives: 3, Epochs: 20, Seed: 1})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("trained on %d examples for %d epochs\n", model.Summary().Examples, len(model.Curve()))

	trained, err := hmpps.New(hmpps.WithModel(model))
	if err != nil {
		log.Fatal(err)
	}
	defer trained.Close()
	if err := trained.Upsert(ctx, catalog...); err != nil {
		log.Fatal(err)
	}
	for _, history := range [][]string{{"boot-wax"}, {"gaiters"}} {
		resp, err := trained.Search(ctx, hmpps.Request{Query: "waterproof boots", HistoryIDs: history,
			CandidateIDs: []string{"boot-1", "boot-2"}})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("history %v -> %s\n", history, resp.Results[0].ID)
	}

	// A model file of its own (Engine.Save also keeps it in the engine
	// file).
	var file bytes.Buffer
	if _, err := model.WriteTo(&file); err != nil {
		log.Fatal(err)
	}
	again, err := hmpps.ReadModel(&file)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("weights read back:", len(again.FeatureWeights()))
	// Output:
	// trained on 30 examples for 20 epochs
	// history [boot-wax] -> boot-1
	// history [gaiters] -> boot-2
	// weights read back: 36
}
