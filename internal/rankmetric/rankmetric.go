// Package rankmetric scores the rank of the one relevant item of a ranked
// list: the metrics the learner validates with (internal/ltr) and the ones
// the evaluation reports (hmpps/eval), computed in one place so that the two
// cannot disagree.
package rankmetric

import "math"

// Rank returns the 1-based rank of scores[target] with ties broken
// pessimistically: the target ranks after every other item with a score
// greater than or equal to its own, so a method that scores every item
// alike ranks the target last. The caller checks that target is in range
// and that no score is NaN.
func Rank(scores []float64, target int) int {
	t := scores[target]
	rank := 1
	for i, s := range scores {
		if i != target && s >= t {
			rank++
		}
	}
	return rank
}

// HitRate is HR@k for one relevant item at rank: 1 in the top k, else 0.
func HitRate(rank, k int) float64 {
	if rank >= 1 && rank <= k {
		return 1
	}
	return 0
}

// NDCG is NDCG@k for one relevant item at rank: 1/log2(rank+1) within the
// top k, else 0. With a single relevant item the ideal DCG is 1.
func NDCG(rank, k int) float64 {
	if rank < 1 || rank > k {
		return 0
	}
	return 1 / math.Log2(float64(rank)+1)
}

// ReciprocalRank is 1/rank, the per-item term of MRR; 0 for a miss (rank
// 0).
func ReciprocalRank(rank int) float64 {
	if rank < 1 {
		return 0
	}
	return 1 / float64(rank)
}
