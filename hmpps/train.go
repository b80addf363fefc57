package hmpps

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"time"

	"golang.org/x/sync/errgroup"

	"hmpps/internal/ltr"
	"hmpps/internal/rankmetric"
)

// ErrInvalidTraining reports training input that cannot be learned from: no
// examples, an example without a query or positive, or a negative that is
// the positive.
var ErrInvalidTraining = errors.New("hmpps: invalid training input")

// Defaults of TrainOptions.
const (
	// DefaultTrainNegatives is how many products an example without
	// Negatives is ranked against, drawn at random from the catalog: with
	// the positive, the 100 candidates of the usual evaluation protocol.
	DefaultTrainNegatives = 99
	// DefaultTrainEpochs is the most passes over the examples.
	DefaultTrainEpochs = 60
	// DefaultTrainPatience is how many epochs without a better validation
	// NDCG@10 stop training.
	DefaultTrainPatience = 8
	// DefaultTrainL2 is the ridge penalty on the standardized weights.
	DefaultTrainL2 = 1e-3
	// DefaultTrainLearningRate is Adam's step size.
	DefaultTrainLearningRate = 0.05
)

// TrainOptions configures Train. The zero value trains with the defaults and
// without early stopping.
type TrainOptions struct {
	// Validation are held-out purchases, each with its Negatives (the
	// candidate list it is ranked in): after every epoch the model's
	// NDCG@10 on them is measured, the best epoch's weights are kept, and
	// training stops after Patience epochs without improvement. They must
	// come after the training purchases in time, and must never be the
	// purchases a final evaluation tests on. If empty, training runs all
	// Epochs and keeps the last.
	Validation []TrainingExample
	// Negatives is how many catalog products an example without its own
	// Negatives is ranked against, drawn at random among those that are
	// neither its positive nor in its history. If zero,
	// DefaultTrainNegatives.
	Negatives int
	// Epochs is the most passes over the examples. If zero,
	// DefaultTrainEpochs.
	Epochs int
	// Patience stops training after this many epochs without a better
	// validation NDCG@10. If zero, DefaultTrainPatience.
	Patience int
	// L2 is the ridge penalty. If zero, DefaultTrainL2; negative means
	// none.
	L2 float64
	// LearningRate is Adam's step size. If zero, DefaultTrainLearningRate.
	LearningRate float64
	// Seed fixes the sampled negatives and the order examples are visited
	// in: the same engine, examples and options give the same model.
	Seed uint64
	// HistoryK is the model's HistoryK: how many history items the learned
	// stage one keeps. If zero, retrieval.DefaultHistoryK.
	HistoryK int
	// DisableStageOne trains without the learned history filter: stage two
	// weighs every history item the same, and the model keeps history with
	// the engine's configured filter (the ablation of stage one).
	DisableStageOne bool
	// Progress, if set, gets one line per epoch (loss and validation
	// NDCG@10), each starting with a carriage return, for a terminal.
	Progress io.Writer
}

// Train learns a Model from purchases, with the engine's embedders and
// lexical index computing the features, so the model must be used with an
// engine configured the same way (WithModel checks the dimensions). Every
// example is a list: its positive among its Negatives, or among
// opts.Negatives random catalog products. The popularity prior counts, for
// each product, the distinct users (TrainingExample.User; an example
// without one is its own user) whose examples bought it or hold it in their
// history; in its own list a positive is counted without that purchase.
//
// Examples must be purchases that precede, for each user, anything the
// model is later evaluated on: Train cannot tell, and a model trained on the
// purchases it is tested on is not evaluated, it is remembered.
//
// No examples, an example with an empty query, a positive among its own
// negatives, or an ID the catalog does not hold fail with an error naming
// the example and wrapping ErrInvalidTraining, ErrEmptyQuery or
// ErrNotFound.
func Train(ctx context.Context, e *Engine, examples []TrainingExample, opts TrainOptions) (*Model, error) {
	start := time.Now()
	if err := e.checkOpen(); err != nil {
		return nil, err
	}
	if len(examples) == 0 {
		return nil, fmt.Errorf("%w: no examples", ErrInvalidTraining)
	}
	opts = opts.withDefaults()
	if opts.Negatives < 0 || opts.Epochs < 0 || opts.Patience < 0 || opts.HistoryK < 0 || opts.LearningRate < 0 ||
		math.IsNaN(opts.L2) || math.IsInf(opts.L2, 0) || math.IsNaN(opts.LearningRate) || math.IsInf(opts.LearningRate, 0) {
		return nil, fmt.Errorf("%w: options %+v", ErrInvalidTraining, opts)
	}
	m := &Model{HistoryK: opts.HistoryK, DisableStageOne: opts.DisableStageOne,
		textDim: e.cfg.textEmbedder.Dimension(), imageDim: e.cfg.imageDim()}
	m.popularity = popularity(examples)

	catalog := e.catalogIDs()
	train := make([]ltr.List, len(examples))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i := range examples {
		g.Go(func() error {
			// One generator per example, so the draws do not depend on
			// the order the workers take examples in.
			rng := rand.New(rand.NewPCG(opts.Seed, uint64(i)))
			l, err := e.exampleList(gctx, &examples[i], m.popularity, true, catalog, opts.Negatives, rng)
			if err != nil {
				return fmt.Errorf("hmpps: train: example %d (%q): %w", i, examples[i].Positive, err)
			}
			train[i] = l
			return nil
		})
	}
	val := make([]ltr.List, len(opts.Validation))
	for i := range opts.Validation {
		g.Go(func() error {
			ex := &opts.Validation[i]
			if len(ex.Negatives) == 0 {
				return fmt.Errorf("hmpps: train: validation example %d (%q): %w: no negatives", i, ex.Positive, ErrInvalidTraining)
			}
			l, err := e.exampleList(gctx, ex, m.popularity, false, nil, 0, nil)
			if err != nil {
				return fmt.Errorf("hmpps: train: validation example %d (%q): %w", i, ex.Positive, err)
			}
			val[i] = l
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var negatives int
	for _, l := range train {
		negatives += l.C - 1
	}

	m.scaler = ltr.FitScaler(featureDims, train)
	for i := range train {
		m.scaler.Apply(&train[i])
	}
	for i := range val {
		m.scaler.Apply(&val[i])
	}
	lo := ltr.Options{
		Epochs: opts.Epochs, Patience: opts.Patience, LearningRate: opts.LearningRate, L2: max(opts.L2, 0),
		Seed: opts.Seed, FreezeAttention: opts.DisableStageOne,
	}
	if len(val) > 0 {
		lo.Validate = func(w ltr.Weights) float64 { return meanNDCG10(w, val) }
	}
	if opts.Progress != nil {
		lo.Progress = func(ep ltr.Epoch) {
			fmt.Fprintf(opts.Progress, "\rtraining: epoch %d/%d, loss %.4f, validation NDCG@10 %s   ",
				ep.Epoch, opts.Epochs, ep.Loss, formatNDCG(ep.Validation))
		}
	}
	res, err := ltr.Train(ctx, featureDims, train, lo)
	if err != nil {
		return nil, fmt.Errorf("hmpps: train: %w", err)
	}
	if opts.Progress != nil {
		fmt.Fprintf(opts.Progress, "\rtraining: %d examples, best epoch %d of %d, %s\n",
			len(train), res.Best+1, len(res.Curve), time.Since(start).Round(time.Millisecond))
	}
	m.weights, m.best = res.Weights, res.Best
	for _, ep := range res.Curve {
		m.curve = append(m.curve, TrainingEpoch{Epoch: ep.Epoch, Loss: ep.Loss, ValidationNDCG10: ep.Validation})
	}
	m.stats = TrainingSummary{Examples: len(train), ValidationExamples: len(val),
		Negatives: float64(negatives) / float64(len(train)), Took: time.Since(start)}
	return m, nil
}

func (o TrainOptions) withDefaults() TrainOptions {
	if o.Negatives == 0 {
		o.Negatives = DefaultTrainNegatives
	}
	if o.Epochs == 0 {
		o.Epochs = DefaultTrainEpochs
	}
	if o.Patience == 0 {
		o.Patience = DefaultTrainPatience
	}
	if o.L2 == 0 {
		o.L2 = DefaultTrainL2
	}
	if o.LearningRate == 0 {
		o.LearningRate = DefaultTrainLearningRate
	}
	return o
}

func formatNDCG(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return strconv.FormatFloat(v, 'f', 4, 64)
}

// meanNDCG10 scores w on standardized lists.
func meanNDCG10(w ltr.Weights, lists []ltr.List) float64 {
	var sum float64
	var a, s []float64
	for i := range lists {
		a = w.Attention(&lists[i], a)
		s = w.Score(&lists[i], a, s)
		sum += rankmetric.NDCG(rankmetric.Rank(s, lists[i].Positive), 10)
	}
	return sum / float64(len(lists))
}

// popularity counts, per product, the distinct users whose examples bought
// it or hold it in their history.
func popularity(examples []TrainingExample) map[string]float64 {
	seen := make(map[[2]string]bool)
	out := make(map[string]float64)
	for i, ex := range examples {
		user := ex.User
		if user == "" {
			user = "\x00" + strconv.Itoa(i)
		}
		add := func(id string) {
			if id == "" || seen[[2]string{user, id}] {
				return
			}
			seen[[2]string{user, id}] = true
			out[id]++
		}
		add(ex.Positive)
		for _, id := range ex.HistoryIDs {
			add(id)
		}
		for _, p := range ex.History {
			add(p.ID)
		}
	}
	return out
}

// catalogIDs returns the catalog's IDs, sorted so that draws from it depend
// only on the seed.
func (e *Engine) catalogIDs() []string {
	e.mu.RLock()
	ids := make([]string, 0, len(e.products))
	for id := range e.products {
		ids = append(ids, id)
	}
	e.mu.RUnlock()
	slices.Sort(ids)
	return ids
}

// exampleList builds the list of one example: its positive first, then its
// negatives (its own, or n drawn by rng from catalog). training leaves the
// positive's purchase out of its popularity.
func (e *Engine) exampleList(ctx context.Context, ex *TrainingExample, pop map[string]float64, training bool,
	catalog []string, n int, rng *rand.Rand) (ltr.List, error) {
	if ex.Positive == "" {
		return ltr.List{}, fmt.Errorf("%w: no positive", ErrInvalidTraining)
	}
	if err := checkQuery(ex.Query); err != nil {
		return ltr.List{}, err
	}
	history, _, err := e.history(ctx, ex.History, ex.HistoryIDs)
	if err != nil {
		return ltr.List{}, err
	}
	ids := []string{ex.Positive}
	if len(ex.Negatives) > 0 {
		seen := map[string]bool{ex.Positive: true}
		for _, id := range ex.Negatives {
			if seen[id] {
				return ltr.List{}, fmt.Errorf("%w: negative %q is the positive or given twice", ErrInvalidTraining, id)
			}
			seen[id] = true
			ids = append(ids, id)
		}
	} else {
		exclude := map[string]bool{ex.Positive: true}
		for _, h := range history {
			exclude[h.product.ID] = true
		}
		ids = append(ids, randomNegatives(catalog, exclude, n, rng)...)
	}
	candidates, err := e.lookup("candidates", ids)
	if err != nil {
		return ltr.List{}, err
	}
	qvec, err := e.queryVector(ctx, ex.Query, nil)
	if err != nil {
		return ltr.List{}, err
	}
	in := featureInput{query: ex.Query, qvec: qvec, history: history, candidates: candidates, popularity: pop, leaveOut: -1}
	if training {
		in.leaveOut = 0
	}
	in.lexCand = e.lexicalScores(ex.Query, candidates)
	in.lexHist = e.lexicalScores(ex.Query, history)
	l := features(&in, e.cfg.textEmbedder.Dimension())
	l.Positive = 0
	return l, nil
}
