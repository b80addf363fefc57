package hmpps

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"hmpps/internal/rankmetric"
	"hmpps/rerank"
	"hmpps/retrieval"
)

// Defaults of CalibrateOptions.
const (
	// DefaultCalibrateL2 is the ridge penalty on the verdict signals'
	// standardized weights: small against the loss of a list, it only
	// keeps a signal that explains nothing near zero.
	DefaultCalibrateL2 = 0.01
	// DefaultCalibrateFolds is how many folds the out-of-fold comparison
	// fits on.
	DefaultCalibrateFolds = 5
	// DefaultCalibrateMaxP is the one-sided sign test's p-value below which
	// the out-of-fold wins are taken as real.
	DefaultCalibrateMaxP = 0.05
)

// CalibrateOptions configures Calibrate. The zero value uses the defaults.
type CalibrateOptions struct {
	// L2 is the ridge penalty on the verdict signals' standardized
	// weights. If zero, DefaultCalibrateL2; negative means none.
	L2 float64
	// Folds is the number of folds of the out-of-fold comparison. If zero,
	// DefaultCalibrateFolds.
	Folds int
	// MaxP is the largest one-sided sign-test p-value of the out-of-fold
	// wins against losses at which the verdicts are trusted. If zero,
	// DefaultCalibrateMaxP.
	MaxP float64
	// Concurrency is how many validation searches run at once; each asks
	// the model about its candidates as a search does (with the model
	// reranker's own concurrency). If zero, 1.
	Concurrency int
	// Progress, if set, gets a line per validation search, each starting
	// with a carriage return, for a terminal.
	Progress io.Writer
}

// Calibrate fits how far a trained model trusts the engine's model
// reranker: on validation purchases, the engine searches as it would (the
// learned score picks the candidates the model judges, see
// OllamaConfig.RerankCandidates), and the judged candidates' learned scores
// and verdicts (the log-odds of yes and the mass of the answer on yes or
// no, see rerank.Verdict) are combined by weights that minimize the listwise
// softmax loss of the products bought. The combination is trusted when,
// fit without them, it ranked the held-out lists' purchases higher by
// NDCG@10 significantly more often than lower (a one-sided sign test at
// MaxP, over Folds folds), and no worse in sample: a model whose answers are
// noise gets a weight near zero and is not trusted. The engine then ranks
// with the learned score alone and does not ask it.
//
// It returns a copy of the engine's model holding the fit (see
// Model.Verdict), tied to the reranker's JudgeID: give it to an engine with
// the same model reranker (WithModel, or Save and Open). A validation
// purchase whose product bought is not among the candidates the model would
// judge is not sent to the model: nothing the model says moves it.
//
// Examples are purchases the model was not trained on and the final
// evaluation does not test on, such as the validation targets Train
// early-stops on. One with Negatives is searched among them (the positive
// and its Negatives as Request.CandidateIDs); one without, over the whole
// catalog with ExcludeHistory, as a shop's search is.
//
// The engine must have a trained model (WithModel) whose stage two is on and
// that was not calibrated (see Model.WithoutVerdict), and a model reranker
// that reports verdicts (rerank.Judge, as WithOllama's does); otherwise,
// or with no examples or bad options, the error wraps ErrInvalidTraining.
// A model the server does not have fails with retrieval.ErrModelNotFound;
// a server that answered none of the candidates it was asked about fails
// with retrieval.ErrModelUnavailable.
func Calibrate(ctx context.Context, e *Engine, validation []TrainingExample, opts CalibrateOptions) (*Model, error) {
	start := time.Now()
	if err := e.checkOpen(); err != nil {
		return nil, err
	}
	m := e.cfg.model
	judge, isJudge := e.cfg.reranker.(rerank.Judge)
	switch {
	case len(validation) == 0:
		return nil, fmt.Errorf("%w: calibrate: no validation examples", ErrInvalidTraining)
	case m == nil:
		return nil, fmt.Errorf("%w: calibrate: the engine has no trained model (WithModel)", ErrInvalidTraining)
	case m.DisableStageTwo:
		return nil, fmt.Errorf("%w: calibrate: the model's stage two is off, so it has no learned score to combine", ErrInvalidTraining)
	case m.verdict != nil:
		return nil, fmt.Errorf("%w: calibrate: the model is calibrated already (for %s); calibrate Model.WithoutVerdict()", ErrInvalidTraining, m.verdict.fit.Judge)
	case !isJudge:
		return nil, fmt.Errorf("%w: calibrate: the engine's reranker reports no verdicts (a rerank.Judge, such as WithOllama's VisionModel)", ErrInvalidTraining)
	}
	opts = opts.withDefaults()
	if opts.Folds < 2 || opts.Concurrency < 0 || !(opts.MaxP > 0 && opts.MaxP <= 1) || math.IsNaN(opts.L2) || math.IsInf(opts.L2, 0) {
		return nil, fmt.Errorf("%w: calibrate: options %+v", ErrInvalidTraining, opts)
	}

	lists := make([]calibrationList, len(validation))
	var mu sync.Mutex
	done := 0
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(opts.Concurrency)
	for i := range validation {
		g.Go(func() error {
			l, err := e.calibrationSearch(gctx, &validation[i])
			if err != nil {
				return fmt.Errorf("hmpps: calibrate: example %d (%q): %w", i, validation[i].Positive, err)
			}
			lists[i] = l
			if opts.Progress != nil {
				mu.Lock()
				done++
				fmt.Fprintf(opts.Progress, "\rcalibration: %d/%d validation searches   ", done, len(validation))
				mu.Unlock()
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	v := fitVerdict(lists, opts)
	v.fit.Judge, v.fit.Took = judge.JudgeID(), time.Since(start)
	if v.fit.Judged > 0 && v.fit.Unanswered == v.fit.Judged {
		return nil, fmt.Errorf("hmpps: calibrate: the model answered none of the %d candidates it was asked about: %w", v.fit.Judged, retrieval.ErrModelUnavailable)
	}
	if opts.Progress != nil {
		fmt.Fprintf(opts.Progress, "\rcalibration: %d searches, %d lists judged, out of fold %d wins / %d losses (p = %.3f), trusted %v, %s\n",
			v.fit.Examples, v.fit.Lists, v.fit.Wins, v.fit.Losses, v.fit.SignP, v.fit.Trusted, v.fit.Took.Round(time.Millisecond))
	}
	out := m.clone()
	out.verdict = v
	return out, nil
}

func (o CalibrateOptions) withDefaults() CalibrateOptions {
	if o.L2 == 0 {
		o.L2 = DefaultCalibrateL2
	}
	o.L2 = max(o.L2, 0)
	if o.Folds == 0 {
		o.Folds = DefaultCalibrateFolds
	}
	if o.MaxP == 0 {
		o.MaxP = DefaultCalibrateMaxP
	}
	if o.Concurrency == 0 {
		o.Concurrency = 1
	}
	return o
}

// calibrationList is one validation search as the fit sees it.
type calibrationList struct {
	// rank is the product bought's rank by the learned score among the
	// search's candidates (0: not among them).
	rank int
	// learned and verdicts are the judged candidates' learned scores and
	// answers (nil: no usable answer); positive is the product bought's
	// index among them, -1 when the model did not judge it.
	learned  []float64
	verdicts []*rerank.Verdict
	positive int
	// asked is the number of candidates the model was asked about,
	// answered or not.
	asked int
	usage retrieval.Usage
}

// calibrationSearch runs ex as Search would (the same stages), but asks the
// model only when the product bought is among the candidates it judges.
func (e *Engine) calibrationSearch(ctx context.Context, ex *TrainingExample) (out calibrationList, err error) {
	out.positive = -1
	req := Request{Query: ex.Query, History: ex.History, HistoryIDs: ex.HistoryIDs}
	if len(ex.Negatives) > 0 {
		req.CandidateIDs = append([]string{ex.Positive}, ex.Negatives...)
	} else {
		req.ExcludeHistory = true
	}
	topN, err := e.validate(&req)
	if err != nil {
		return out, err
	}
	s := &search{e: e, req: &req, resp: &Response{}, topN: topN}
	t := &s.resp.Timings
	s.stage(ctx, &t.Embed, s.embed)
	s.stage(ctx, &t.Retrieve, s.retrieve)
	defer func() { out.usage = s.resp.Usage }()
	if s.err != nil || len(s.candidates) == 0 {
		return out, s.err
	}
	s.stage(ctx, &t.HistoryFilter, s.keepHistory)
	if s.err != nil {
		return out, s.err
	}
	pos := slices.IndexFunc(s.candidates, func(it item) bool { return it.en.product.ID == ex.Positive })
	if pos < 0 {
		return out, nil
	}
	out.rank = rankmetric.Rank(s.learned.scores, pos)
	out.asked = len(s.candidates)
	if sel, ok := s.rr.(rerank.Selective); ok {
		chosen, err := sel.Selected(ctx, s.request())
		if err != nil {
			return out, fmt.Errorf("hmpps: rerank: %w", err)
		}
		if !slices.Contains(chosen, pos) {
			out.asked = 0
			return out, nil
		}
		out.asked = len(chosen)
	}
	s.stage(ctx, &t.Summarize, s.read)
	s.stage(ctx, &t.Rerank, s.rerank)
	if s.err != nil {
		return out, s.err
	}
	for i := range s.candidates {
		sc := s.candidates[i].score
		if !sc.Judged {
			continue
		}
		if i == pos {
			out.positive = len(out.learned)
		}
		out.learned = append(out.learned, s.learned.scores[i])
		out.verdicts = append(out.verdicts, sc.Verdict)
	}
	return out, nil
}
