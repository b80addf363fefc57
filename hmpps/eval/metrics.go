package eval

import (
	"fmt"
	"math"

	"hmpps/internal/rankmetric"
)

// Rank returns the 1-based rank of scores[target] with ties broken
// pessimistically: the target ranks after every other candidate with a score
// greater than or equal to its own. A method that gives every candidate the
// same score therefore ranks the target last, not first. A NaN score, or a
// target outside scores, returns an error wrapping ErrInvalidScores.
func Rank(scores []float64, target int) (int, error) {
	if target < 0 || target >= len(scores) {
		return 0, fmt.Errorf("%w: target index %d outside %d scores", ErrInvalidScores, target, len(scores))
	}
	for i, s := range scores {
		if math.IsNaN(s) {
			return 0, fmt.Errorf("%w: score %d is NaN", ErrInvalidScores, i)
		}
	}
	return rankmetric.Rank(scores, target), nil
}

// HitRate is HR@k for one target at rank: 1 if it is in the top k, else 0.
func HitRate(rank, k int) float64 { return rankmetric.HitRate(rank, k) }

// NDCG is NDCG@k for one relevant item at rank: 1/log2(rank+1) within the top
// k, else 0. With a single relevant item the ideal DCG is 1.
func NDCG(rank, k int) float64 { return rankmetric.NDCG(rank, k) }

// ReciprocalRank is 1/rank, the per-target term of MRR, over the whole list
// (over the first Options.Depth in a whole-catalog evaluation, where a
// target ranked beyond it has rank 0 and counts 0).
func ReciprocalRank(rank int) float64 { return rankmetric.ReciprocalRank(rank) }

// Metric is one of the reported ranking metrics.
type Metric int

// The reported metrics, in report order.
const (
	HR1 Metric = iota
	HR5
	HR10
	NDCG5
	NDCG10
	MRR
	// Recall100 is HR@100: whether the target is among the first 100. For
	// an engine that retrieves 100 candidates from the whole catalog and
	// ranks them, it is the recall of its retrieval.
	Recall100
	numMetrics
)

// AllMetrics returns every Metric in report order.
func AllMetrics() []Metric {
	out := make([]Metric, numMetrics)
	for i := range out {
		out[i] = Metric(i)
	}
	return out
}

var metricNames = [numMetrics]string{"HR@1", "HR@5", "HR@10", "NDCG@5", "NDCG@10", "MRR", "Recall@100"}

// String returns the metric's name as reports print it, e.g. "NDCG@10".
func (m Metric) String() string {
	if m < 0 || m >= numMetrics {
		return fmt.Sprintf("Metric(%d)", int(m))
	}
	return metricNames[m]
}

// MarshalText implements encoding.TextMarshaler, so that metrics can key JSON
// objects.
func (m Metric) MarshalText() ([]byte, error) {
	if m < 0 || m >= numMetrics {
		return nil, fmt.Errorf("eval: unknown metric %d", int(m))
	}
	return []byte(m.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (m *Metric) UnmarshalText(b []byte) error {
	for i, name := range metricNames {
		if string(b) == name {
			*m = Metric(i)
			return nil
		}
	}
	return fmt.Errorf("eval: unknown metric %q", b)
}

// Value is the metric's value for one target at rank.
func (m Metric) Value(rank int) float64 {
	switch m {
	case HR1:
		return HitRate(rank, 1)
	case HR5:
		return HitRate(rank, 5)
	case HR10:
		return HitRate(rank, 10)
	case NDCG5:
		return NDCG(rank, 5)
	case NDCG10:
		return NDCG(rank, 10)
	case MRR:
		return ReciprocalRank(rank)
	case Recall100:
		return HitRate(rank, 100)
	}
	return math.NaN()
}

// Mean is the metric averaged over the targets at ranks.
func (m Metric) Mean(ranks []int) float64 {
	if len(ranks) == 0 {
		return math.NaN()
	}
	var sum float64
	for _, r := range ranks {
		sum += m.Value(r)
	}
	return sum / float64(len(ranks))
}
