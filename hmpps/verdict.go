package hmpps

import (
	"fmt"
	"math"
	"slices"
	"time"

	"hmpps/rerank"
	"hmpps/retrieval"
)

// verdictSignals name what a calibrated model combines with its learned
// score, in the order of VerdictFit.Weights after the learned score.
var verdictSignals = []string{"verdict log-odds", "verdict yes+no mass"}

// learnedSignal names the learned score in VerdictFit.Weights.
const learnedSignal = "learned score"

// signals returns v's signals, in the order of verdictSignals.
func signals(v *rerank.Verdict) []float64 { return []float64{v.LogOdds, v.Mass} }

// VerdictFit is what Calibrate learned about a model reranker's yes/no
// verdicts on validation purchases: how to combine them with the learned
// score, and whether the combination earned its place.
//
// With a trusted fit, the engine scores each judged candidate
//
//	w₀·learned + Σ wₖ·(signalₖ − mean)/std
//
// and keeps the candidates the model did not judge below, in the learned
// order; a judged candidate without a usable answer gets its signals' means.
// With a fit that is not trusted, the learned score ranks alone and the
// model is not asked at all: its verdicts did not pay for their cost.
type VerdictFit struct {
	// Judge names the model reranker whose verdicts were fit (see
	// rerank.Judge): its model, mode and prompt. The engine refuses a
	// model whose fit names another judge than its reranker.
	Judge string `json:"judge"`
	// Weights are the learned score's weight (on the score's own scale),
	// then each verdict signal's, on the signal standardized over the
	// judged candidates of the calibration, all with Stage 2. Fit on every
	// list, they are reported whether trusted or not: a verdict that
	// carries no information gets a weight near zero.
	Weights []FeatureWeight `json:"weights"`
	// Trusted says the combination ranked the validation purchases better
	// than the learned score, significantly, out of fold (Wins, Losses,
	// SignP), and no worse in sample (CombinedNDCG10 ≥ LearnedNDCG10).
	Trusted bool `json:"trusted"`
	// Examples is the number of validation purchases searched; Lists the
	// ones whose product bought was among the candidates the model judged,
	// the only ones the model can move (the others were not sent to it);
	// Judged the candidates it was asked about, Unanswered those it gave
	// no usable answer on.
	Examples   int `json:"examples"`
	Lists      int `json:"lists"`
	Judged     int `json:"judged"`
	Unanswered int `json:"unanswered"`
	// Wins and Losses count the lists whose purchase the combination,
	// fit without them (Folds-fold cross-fitting), ranked higher or lower
	// by NDCG@10 than the learned score; SignP is the one-sided exact sign
	// test of Wins against Losses.
	Wins   int     `json:"wins"`
	Losses int     `json:"losses"`
	Folds  int     `json:"folds"`
	SignP  float64 `json:"sign_p"`
	// LearnedNDCG10 and CombinedNDCG10 are the mean NDCG@10 of every
	// validation purchase ranked by the learned score and by the fitted
	// combination (in sample).
	LearnedNDCG10  float64 `json:"learned_ndcg10"`
	CombinedNDCG10 float64 `json:"combined_ndcg10"`
	// Usage is the model work of the calibration's searches.
	Usage retrieval.Usage `json:"usage"`
	// Took is the wall time of Calibrate.
	Took time.Duration `json:"took"`
}

// verdict is a calibrated combination ready to score with.
type verdict struct {
	fit VerdictFit
	// w are the weights in the order of fit.Weights; mean and std
	// standardize the verdict signals.
	w, mean, std []float64
}

// score combines a judged candidate's learned score and verdict (nil: no
// usable answer, scored at the signals' means).
func (v *verdict) score(learned float64, vd *rerank.Verdict) float64 {
	s := v.w[0] * learned
	if vd == nil {
		return s
	}
	for k, x := range signals(vd) {
		s += v.w[k+1] * (x - v.mean[k]) / v.std[k]
	}
	return s
}

// Verdict returns what Calibrate learned about the verdicts of the model
// reranker the model was calibrated with, and false for a model that was
// not calibrated.
func (m *Model) Verdict() (VerdictFit, bool) {
	if m.verdict == nil {
		return VerdictFit{}, false
	}
	f := m.verdict.fit
	f.Weights = slices.Clone(f.Weights)
	return f, true
}

// WithoutVerdict returns a copy of m without its calibration, for an
// engine with another model reranker, or to calibrate again.
func (m *Model) WithoutVerdict() *Model {
	c := m.clone()
	c.verdict = nil
	return c
}

// verdictDocVersion is the version of the model file's "verdict" part. A
// file without it is a model that was not calibrated; one of another
// version is refused.
const verdictDocVersion = 1

// verdictDoc is the model file's "verdict" part.
type verdictDoc struct {
	Version int        `json:"version"`
	Mean    []float64  `json:"mean"`
	Std     []float64  `json:"std"`
	Fit     VerdictFit `json:"fit"`
}

// doc returns v as the model file's part; nil for nil.
func (v *verdict) doc() *verdictDoc {
	if v == nil {
		return nil
	}
	return &verdictDoc{Version: verdictDocVersion, Mean: v.mean, Std: v.std, Fit: v.fit}
}

// verdict checks and returns the part as a combination; nil for nil.
func (d *verdictDoc) verdict() (*verdict, error) {
	if d == nil {
		return nil, nil
	}
	if d.Version != verdictDocVersion {
		return nil, fmt.Errorf("%w: verdict part version %d, this library reads %d", ErrInvalidModel, d.Version, verdictDocVersion)
	}
	n := len(verdictSignals)
	if len(d.Mean) != n || len(d.Std) != n || len(d.Fit.Weights) != n+1 {
		return nil, fmt.Errorf("%w: verdict part has %d means, %d deviations and %d weights for %d signals",
			ErrInvalidModel, len(d.Mean), len(d.Std), len(d.Fit.Weights), n)
	}
	v := &verdict{fit: d.Fit, mean: d.Mean, std: d.Std, w: make([]float64, n+1)}
	for i, fw := range d.Fit.Weights {
		want := learnedSignal
		if i > 0 {
			want = verdictSignals[i-1]
		}
		if fw.Name != want || math.IsNaN(fw.Weight) || math.IsInf(fw.Weight, 0) {
			return nil, fmt.Errorf("%w: verdict weight %d is %q = %v, want a finite %q", ErrInvalidModel, i, fw.Name, fw.Weight, want)
		}
		v.w[i] = fw.Weight
	}
	for k := range n {
		if m, s := d.Mean[k], d.Std[k]; math.IsNaN(m) || math.IsInf(m, 0) || !(s > 0) || math.IsInf(s, 0) {
			return nil, fmt.Errorf("%w: verdict signal %q has mean %v and deviation %v", ErrInvalidModel, verdictSignals[k], m, s)
		}
	}
	if d.Fit.Judge == "" {
		return nil, fmt.Errorf("%w: verdict part names no judge", ErrInvalidModel)
	}
	return v, nil
}

// checkVerdict refuses a model calibrated for another judge than the
// configured reranker: its weights would be read against answers they were
// not fit on. A reranker that gives no verdicts (the offline one) leaves
// the calibration unused.
func (c *config) checkVerdict() error {
	m := c.model
	if m == nil || m.verdict == nil {
		return nil
	}
	j, ok := c.reranker.(rerank.Judge)
	if !ok {
		return nil
	}
	if id := j.JudgeID(); id != m.verdict.fit.Judge {
		return fmt.Errorf("%w: its verdict weights were fit for the judge %q, the engine's reranker is %q: calibrate the model again (Calibrate, after Model.WithoutVerdict)",
			ErrInvalidModel, m.verdict.fit.Judge, id)
	}
	return nil
}

// planVerdict settles what p does with a calibrated model's judge: with a
// trusted fit, combine; without, rank by the learned score alone and ask
// no model. checkVerdict has refused a fit for another judge.
func (p *plan) planVerdict(c *config) {
	m := c.model
	if m == nil || m.verdict == nil || m.DisableStageTwo || !p.readsContent {
		return
	}
	if _, ok := c.reranker.(rerank.Judge); !ok {
		return
	}
	if m.verdict.fit.Trusted {
		p.verdict = m.verdict
		return
	}
	p.learnedRanks, p.readsContent = true, false
	p.notes = append(p.notes, fmt.Sprintf("the model reranker %s was not asked: calibrated on %d validation purchases, its verdicts did not rank better than the learned score, which ranks alone",
		m.verdict.fit.Judge, m.verdict.fit.Examples))
}

// combineVerdicts rescores the candidates with the calibrated combination:
// the judged ones by it, the others below them in the learned order. A
// search whose reranker failed as a whole (no candidate judged) keeps the
// fallback's learned scores.
func (s *search) combineVerdicts() {
	v := s.e.cfg.plan.verdict
	if v == nil || s.learned == nil {
		return
	}
	judged := false
	low, restTop := math.Inf(1), math.Inf(-1)
	for i := range s.candidates {
		c := &s.candidates[i]
		if !c.score.Judged {
			restTop = max(restTop, s.learned.scores[i])
			continue
		}
		judged = true
		c.score.Score = v.score(s.learned.scores[i], c.score.Verdict)
		low = min(low, c.score.Score)
	}
	if !judged {
		return
	}
	for i := range s.candidates {
		c := &s.candidates[i]
		if !c.score.Judged {
			c.score.Score = low - 1 - (restTop - s.learned.scores[i])
		}
	}
}
