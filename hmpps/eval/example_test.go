package eval_test

import (
	"fmt"

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
