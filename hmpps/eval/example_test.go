package eval_test

import (
	"context"
	"fmt"
	"strings"

	"hmpps/hmpps"
	"hmpps/hmpps/eval"
)

// Ranks are pessimistic: a target tied with another candidate ranks after
// it, so a method cannot gain by giving candidates equal scores.
func ExampleRank() {
	scores := []float64{0.2, 0.9, 0.9, 0.4} // the target, index 2, ties with index 1
	rank, err := eval.Rank(scores, 2)
	if err != nil {
		panic(err)
	}
	fmt.Println("rank", rank)
	for _, m := range eval.AllMetrics() {
		fmt.Printf("%s %.3f\n", m, m.Value(rank))
	}
	// Output:
	// rank 2
	// HR@1 0.000
	// HR@5 1.000
	// HR@10 1.000
	// NDCG@5 0.631
	// NDCG@10 0.631
	// MRR 0.500
	// Recall@100 1.000
}

// Bootstrap gives each metric's mean over users with a 95% interval.
func ExampleBootstrap() {
	ranks := []int{1, 3, 12, 2, 1, 50, 7, 1} // the target's rank for each user
	s := eval.Bootstrap(ranks, 1000, 1)
	e := s[eval.HR10]
	fmt.Printf("HR@10 %.3f, interval within [0, 1]: %v\n", e.Mean, e.Low >= 0 && e.High <= 1 && e.Low <= e.Mean && e.Mean <= e.High)
	// Output:
	// HR@10 0.750, interval within [0, 1]: true
}

// A data set in RecBole's atomic files: each .inter row is a window of one
// shopper's sequence; ReadRecBole joins them back.
func ExampleReadRecBole() {
	header := "user_id:token\titem_id_list:token_seq\titem_id:token\n"
	d, err := eval.ReadRecBole(context.Background(), "tiny", eval.RecBoleFiles{
		Text: strings.NewReader("item_id:token\ttext:token_seq\n" +
			"A\tSanding Roll 80 Grit. Industrial & Scientific Abrasives. Acme. \n" +
			"B\tSanding Roll 120 Grit. Industrial & Scientific Abrasives. Acme. \n" +
			"C\tNitrile Gloves. Industrial & Scientific Safety Gloves. Bolt. \n"),
		Train: strings.NewReader(header + "u1\tA\tB\n"),
		Valid: strings.NewReader(header + "u1\tA B\tC\n"),
		Test:  strings.NewReader(header + "u1\tA B C\tA\n"),
	})
	if err != nil {
		panic(err)
	}
	for _, s := range d.Sequences() {
		var ids []string
		for _, p := range s.Purchases {
			ids = append(ids, p.Product)
		}
		fmt.Println(strings.Join(ids, " "))
	}
	c, _ := d.Product("C")
	fmt.Printf("%s | %s | %s\n", c.Title, c.Category[0], c.Brand)
	// Output:
	// A B C A
	// Nitrile Gloves | Industrial & Scientific Safety Gloves | Bolt
}

// The whole-catalog protocol: every product but the shopper's history is a
// candidate, and a target ranked below the depth is a miss.
func ExampleEvaluateCatalog() {
	products := []hmpps.Product{
		{ID: "A", Title: "Sanding roll, 80 grit", Category: []string{"Abrasives"}},
		{ID: "B", Title: "Sanding roll, 120 grit", Category: []string{"Abrasives"}},
		{ID: "C", Title: "Nitrile gloves", Category: []string{"Safety"}},
		{ID: "D", Title: "Sanding block", Category: []string{"Abrasives"}},
	}
	tasks := []eval.Task{
		{User: "u1", Query: "nitrile gloves", History: []string{"A"}, Target: "C"},
		{User: "u2", Query: "sanding roll", History: []string{"A"}, Target: "D"},
	}
	rep, err := eval.EvaluateCatalog(context.Background(), []string{"A", "B", "C", "D"}, tasks,
		[]eval.Method{eval.NewBM25(products)}, eval.Options{Depth: 1, BootstrapSamples: 100})
	if err != nil {
		panic(err)
	}
	fmt.Println("ranks", rep.Methods[0].Ranks)
	fmt.Printf("HR@10 %.2f\n", rep.Methods[0].Metrics[eval.HR10].Mean)
	// Output:
	// ranks [1 0]
	// HR@10 0.50
}
