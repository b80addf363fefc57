package hmpps

import (
	"math"

	"hmpps/internal/ltr"
	"hmpps/internal/rankmetric"
)

// fitVerdict fits the combination of the learned score with the verdict
// signals on the lists whose product bought the model judged, and decides
// whether it is trusted (see Calibrate).
func fitVerdict(lists []calibrationList, opts CalibrateOptions) *verdict {
	n := len(verdictSignals)
	v := &verdict{mean: make([]float64, n), std: make([]float64, n)}
	f := &v.fit
	f.Examples, f.Folds = len(lists), opts.Folds

	// The signals' moments over every answer, for standardizing.
	var count float64
	for _, l := range lists {
		f.Usage = f.Usage.Add(l.usage)
		f.Judged += l.asked
		f.Unanswered += l.asked
		for _, vd := range l.verdicts {
			if vd == nil {
				continue
			}
			f.Unanswered--
			count++
			for k, x := range signals(vd) {
				v.mean[k] += x
			}
		}
	}
	for k := range n {
		v.mean[k] /= max(count, 1)
	}
	for _, l := range lists {
		for _, vd := range l.verdicts {
			if vd != nil {
				for k, x := range signals(vd) {
					v.std[k] += (x - v.mean[k]) * (x - v.mean[k])
				}
			}
		}
	}
	for k := range n {
		// A signal that does not vary is only centered.
		if v.std[k] = math.Sqrt(v.std[k] / max(count, 1)); v.std[k] < 1e-9 {
			v.std[k] = 1
		}
	}

	var judged []ltr.BlendList
	var index []int // judged[j] is lists[index[j]]
	for i, l := range lists {
		if l.positive < 0 {
			continue
		}
		b := ltr.BlendList{C: len(l.learned), Positive: l.positive, X: make([]float64, 0, len(l.learned)*(n+1))}
		for c, s := range l.learned {
			b.X = append(b.X, s)
			z := make([]float64, n)
			if vd := l.verdicts[c]; vd != nil {
				for k, x := range signals(vd) {
					z[k] = (x - v.mean[k]) / v.std[k]
				}
			}
			b.X = append(b.X, z...)
		}
		judged = append(judged, b)
		index = append(index, i)
	}
	f.Lists = len(judged)

	bo := ltr.BlendOptions{L2: opts.L2}
	v.w, _, _ = ltr.FitBlend(judged, n+1, bo) // the lists are well formed
	f.Weights = []FeatureWeight{{Stage: 2, Name: learnedSignal, Weight: v.w[0]}}
	for k, name := range verdictSignals {
		f.Weights = append(f.Weights, FeatureWeight{Stage: 2, Name: name, Weight: v.w[k+1]})
	}

	// In sample, over every example: the lists the model did not judge
	// keep the learned rank under both.
	base := make([]float64, n+1)
	base[0] = 1
	var learnedSum, combinedSum float64
	learned, combined := make([]int, len(lists)), make([]int, len(lists))
	for i, l := range lists {
		learned[i], combined[i] = l.rank, l.rank
	}
	for j, b := range judged {
		// The judged candidates are the learned top: ranks among them are
		// ranks among all.
		learned[index[j]] = rankmetric.Rank(ltr.BlendScores(b, base), b.Positive)
		combined[index[j]] = rankmetric.Rank(ltr.BlendScores(b, v.w), b.Positive)
	}
	for i := range lists {
		learnedSum += rankmetric.NDCG(learned[i], 10)
		combinedSum += rankmetric.NDCG(combined[i], 10)
	}
	if len(lists) > 0 {
		f.LearnedNDCG10, f.CombinedNDCG10 = learnedSum/float64(len(lists)), combinedSum/float64(len(lists))
	}

	// Out of fold: each list ranked by the combination fit without its
	// fold.
	folds := min(opts.Folds, len(judged))
	for fold := range folds {
		var train, held []ltr.BlendList
		for j, b := range judged {
			if j%folds == fold {
				held = append(held, b)
			} else {
				train = append(train, b)
			}
		}
		if len(train) == 0 {
			continue
		}
		w, _, _ := ltr.FitBlend(train, n+1, bo)
		for _, b := range held {
			before := rankmetric.NDCG(rankmetric.Rank(ltr.BlendScores(b, base), b.Positive), 10)
			mixed := rankmetric.NDCG(rankmetric.Rank(ltr.BlendScores(b, w), b.Positive), 10)
			switch {
			case mixed > before:
				f.Wins++
			case mixed < before:
				f.Losses++
			}
		}
	}
	f.SignP = signTestGreater(f.Wins, f.Losses)
	f.Trusted = f.Wins > f.Losses && f.SignP <= opts.MaxP && f.CombinedNDCG10 >= f.LearnedNDCG10
	return v
}

// signTestGreater is the one-sided exact sign test: the chance of at least
// wins successes in wins+losses fair coin tosses; 1 with no tosses.
func signTestGreater(wins, losses int) float64 {
	n := wins + losses
	if n == 0 {
		return 1
	}
	lgN, _ := math.Lgamma(float64(n + 1))
	var tail float64
	for i := wins; i <= n; i++ {
		lgI, _ := math.Lgamma(float64(i + 1))
		lgNI, _ := math.Lgamma(float64(n - i + 1))
		tail += math.Exp(lgN - lgI - lgNI - float64(n)*math.Ln2)
	}
	return math.Min(1, tail)
}
