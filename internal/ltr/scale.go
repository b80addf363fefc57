package ltr

import "math"

// Scaler standardizes features to zero mean and unit variance over the
// training lists, so that one learning rate and one L2 weight suit features
// of every scale. A feature with no variance is only centered.
type Scaler struct {
	// Mean and Std per feature, for each kind (same order as Dims).
	CandMean, CandStd, HistMean, HistStd, PairMean, PairStd []float64
}

// FitScaler measures the features of lists.
func FitScaler(d Dims, lists []List) Scaler {
	var s Scaler
	s.CandMean, s.CandStd = moments(d.Cand, lists, func(l *List) []float64 { return l.Cand })
	s.HistMean, s.HistStd = moments(d.Hist, lists, func(l *List) []float64 { return l.Hist })
	s.PairMean, s.PairStd = moments(d.Pair, lists, func(l *List) []float64 { return l.Pair })
	return s
}

// Apply standardizes l's features in place.
func (s Scaler) Apply(l *List) {
	apply(l.Cand, s.CandMean, s.CandStd)
	apply(l.Hist, s.HistMean, s.HistStd)
	apply(l.Pair, s.PairMean, s.PairStd)
}

func moments(n int, lists []List, get func(*List) []float64) (mean, std []float64) {
	mean, std = make([]float64, n), make([]float64, n)
	if n == 0 {
		return mean, std
	}
	var count float64
	for i := range lists {
		xs := get(&lists[i])
		for k := 0; k+n <= len(xs); k += n {
			for j := range n {
				mean[j] += xs[k+j]
			}
			count++
		}
	}
	if count == 0 {
		for j := range std {
			std[j] = 1
		}
		return mean, std
	}
	for j := range mean {
		mean[j] /= count
	}
	for i := range lists {
		xs := get(&lists[i])
		for k := 0; k+n <= len(xs); k += n {
			for j := range n {
				d := xs[k+j] - mean[j]
				std[j] += d * d
			}
		}
	}
	for j := range std {
		std[j] = math.Sqrt(std[j] / count)
		if std[j] < 1e-9 {
			std[j] = 1
		}
	}
	return mean, std
}

func apply(xs, mean, std []float64) {
	n := len(mean)
	if n == 0 {
		return
	}
	for k := 0; k+n <= len(xs); k += n {
		for j := range n {
			xs[k+j] = (xs[k+j] - mean[j]) / std[j]
		}
	}
}
