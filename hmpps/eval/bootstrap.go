package eval

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// DefaultBootstrapSamples is the number of resamples behind a confidence
// interval when none is given: enough for stable 2.5% and 97.5% percentiles.
const DefaultBootstrapSamples = 1000

// Estimate is a metric's mean over tasks with a 95% confidence interval.
type Estimate struct {
	// Mean is the metric averaged over tasks.
	Mean float64 `json:"mean"`
	// Low and High bound the 95% interval (the 2.5th and 97.5th
	// percentiles of the resampled means).
	Low  float64 `json:"low"`
	High float64 `json:"high"`
}

// Summary holds an Estimate for every metric.
type Summary map[Metric]Estimate

// Bootstrap estimates every metric from the targets' ranks: the mean, and a
// 95% percentile bootstrap interval from resampling the tasks with
// replacement samples times (DefaultBootstrapSamples when samples <= 0) with
// a generator seeded by seed. Tasks are users, so the interval says how much
// the mean would move with other users from the same population.
func Bootstrap(ranks []int, samples int, seed uint64) Summary {
	if samples <= 0 {
		samples = DefaultBootstrapSamples
	}
	out := make(Summary, numMetrics)
	if len(ranks) == 0 {
		nan := math.NaN()
		for _, m := range AllMetrics() {
			out[m] = Estimate{nan, nan, nan}
		}
		return out
	}
	values := make([][]float64, numMetrics)
	for _, m := range AllMetrics() {
		values[m] = make([]float64, len(ranks))
		for i, r := range ranks {
			values[m][i] = m.Value(r)
		}
	}
	means := resampleMeans(values, samples, seed)
	for _, m := range AllMetrics() {
		lo, hi := percentileInterval(means[m])
		out[m] = Estimate{Mean: mean(values[m]), Low: lo, High: hi}
	}
	return out
}

// resampleMeans returns, for each row of values, the means of samples
// resamples; every row is resampled with the same indices, which keeps
// paired rows paired.
func resampleMeans(values [][]float64, samples int, seed uint64) [][]float64 {
	n := len(values[0])
	rng := rand.New(rand.NewPCG(seed, 0x6576616c)) // "eval"
	out := make([][]float64, len(values))
	for i := range out {
		out[i] = make([]float64, samples)
	}
	sums := make([]float64, len(values))
	for s := range samples {
		clear(sums)
		for range n {
			j := rng.IntN(n)
			for i, row := range values {
				sums[i] += row[j]
			}
		}
		for i := range values {
			out[i][s] = sums[i] / float64(n)
		}
	}
	return out
}

// percentileInterval returns the 2.5th and 97.5th percentiles of xs, which it
// sorts.
func percentileInterval(xs []float64) (lo, hi float64) {
	slices.Sort(xs)
	at := func(q float64) float64 {
		pos := q * float64(len(xs)-1)
		i := int(pos)
		if i+1 >= len(xs) {
			return xs[len(xs)-1]
		}
		frac := pos - float64(i)
		return xs[i]*(1-frac) + xs[i+1]*frac
	}
	return at(0.025), at(0.975)
}

func mean(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// Comparison is a paired comparison of methods A and B on one metric over
// the same tasks.
type Comparison struct {
	// Metric is the metric compared.
	Metric Metric `json:"metric"`
	// Diff is the mean of A's value minus B's over tasks, with a 95% paired
	// bootstrap interval (tasks resampled, both methods' values together).
	// An interval that excludes 0 is a difference the task sample supports.
	Diff Estimate `json:"diff"`
	// Wins, Losses and Ties count tasks where A's value is higher, lower or
	// equal.
	Wins   int `json:"wins"`
	Losses int `json:"losses"`
	Ties   int `json:"ties"`
	// SignP is the exact two-sided sign test p-value of Wins against Losses
	// (ties dropped): the chance of a split at least this uneven if neither
	// method were better. It assumes nothing about the size of differences,
	// which suits metrics that are mostly 0 or 1.
	SignP float64 `json:"sign_p"`
}

// Compare compares methods A and B from their ranks on the same tasks, in
// the same order. samples and seed are as for Bootstrap. Rank lists of
// different lengths return an error wrapping ErrInvalidScores.
func Compare(a, b []int, m Metric, samples int, seed uint64) (Comparison, error) {
	if len(a) != len(b) {
		return Comparison{}, fmt.Errorf("%w: paired comparison of %d and %d tasks", ErrInvalidScores, len(a), len(b))
	}
	if samples <= 0 {
		samples = DefaultBootstrapSamples
	}
	c := Comparison{Metric: m}
	if len(a) == 0 {
		nan := math.NaN()
		c.Diff, c.SignP = Estimate{nan, nan, nan}, 1
		return c, nil
	}
	diff := make([]float64, len(a))
	for i := range a {
		diff[i] = m.Value(a[i]) - m.Value(b[i])
		switch {
		case diff[i] > 0:
			c.Wins++
		case diff[i] < 0:
			c.Losses++
		default:
			c.Ties++
		}
	}
	means := resampleMeans([][]float64{diff}, samples, seed)
	lo, hi := percentileInterval(means[0])
	c.Diff = Estimate{Mean: mean(diff), Low: lo, High: hi}
	c.SignP = signTest(c.Wins, c.Losses)
	return c, nil
}

// signTest returns the exact two-sided binomial p-value of k successes out of
// wins+losses trials at p = 1/2.
func signTest(wins, losses int) float64 {
	n := wins + losses
	if n == 0 {
		return 1
	}
	k := min(wins, losses)
	lgN, _ := math.Lgamma(float64(n + 1))
	var tail float64
	for i := 0; i <= k; i++ {
		lgI, _ := math.Lgamma(float64(i + 1))
		lgNI, _ := math.Lgamma(float64(n - i + 1))
		tail += math.Exp(lgN - lgI - lgNI - float64(n)*math.Ln2)
	}
	return math.Min(1, 2*tail)
}
