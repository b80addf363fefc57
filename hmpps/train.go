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
	"strings"
	"sync"
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
	// DefaultTrainNegatives is how many products at most an example
	// without Negatives is ranked against, drawn at random from the
	// engine's candidates for its query (or from the catalog, see
	// TrainCandidates). On the Amazon Scientific data, 49 ranked the
	// validation purchases as well as 99 at half the cost.
	DefaultTrainNegatives = 49
	// DefaultTrainHiddenUnits is the number of hidden units of stage
	// two's score beside its linear part (see TrainOptions.HiddenUnits).
	DefaultTrainHiddenUnits = 16
	// DefaultTrainEpochs is the most passes over the examples.
	DefaultTrainEpochs = 60
	// DefaultTrainPatience is how many epochs without a better validation
	// NDCG@10 stop training.
	DefaultTrainPatience = 4
	// DefaultTrainL2 is the ridge penalty on the standardized weights.
	DefaultTrainL2 = 1e-3
	// DefaultTrainLearningRate is Adam's step size.
	DefaultTrainLearningRate = 0.003
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
	// Negatives is how many products at most an example without its own
	// Negatives is ranked against, drawn at random from what Candidates
	// says, none of them its positive or in its history. If zero,
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
	// Candidates is what an example without Negatives is ranked among:
	// the engine's own candidates for its query (TrainRetrieved, the zero
	// value) or random catalog products (TrainRandom).
	Candidates TrainCandidates
	// CoPurchaseWindow is how many places apart two purchases of one
	// shopper may be and still count as bought together in the model's
	// co-purchase table. If zero, DefaultCoPurchaseWindow; negative means
	// the whole sequence.
	CoPurchaseWindow int
	// Neighbors is the model's Neighbors: how many products bought with
	// the history a search adds to its retrieved candidates. If zero,
	// DefaultNeighbors; negative adds none.
	Neighbors int
	// HiddenUnits is the number of rectified units of stage two's score
	// beside its linear part: they let the features count differently in
	// each other's company (a co-purchase among products of the query's
	// own category, say). If zero, DefaultTrainHiddenUnits; negative
	// trains a linear score.
	HiddenUnits int
	// DisableCollaborative trains without the co-purchase features (every
	// feature named "co-purchase", in both stages and the hidden units):
	// the ablation of what the co-purchase table adds to the ranking. The
	// popularity priors (buyers, recent popularity, lateness) stay, and
	// the model still adds the co-purchase neighbours to a search's
	// candidates (see Neighbors).
	DisableCollaborative bool
	// Refit, after training early-stopped on Validation, trains the model
	// again from the start on the examples and the validation purchases
	// together, for the best epoch's number of passes, and returns that
	// model: the purchases nearest in time to what the model will rank,
	// which early stopping had to hold out, then count in its co-purchase
	// table and popularity and teach its weights. The model keeps the
	// first training's validation curve and best epoch; the second
	// training has no held-out purchases, so nothing measures it but a
	// later evaluation on purchases after all of these. Refit without
	// Validation fails with ErrInvalidTraining. It costs a second
	// training.
	Refit bool
}

// TrainCandidates says what Train ranks a purchase among when its example
// names no Negatives.
type TrainCandidates int

const (
	// TrainRetrieved ranks it among the candidates the engine would
	// retrieve for its query, with its history left out (a Search without
	// CandidateIDs, with ExcludeHistory), and the products the model adds
	// as bought with the history (Model.Neighbors): what the model will
	// rank at search time, TrainOptions.Negatives of them drawn at random
	// when there are more. The purchase is added when retrieval misses
	// it. A validation example without Negatives is ranked among all of
	// them, and counts as a miss when retrieval misses it, so that early
	// stopping measures the ranking of a search over the whole catalog.
	TrainRetrieved TrainCandidates = iota
	// TrainRandom ranks it among TrainOptions.Negatives random catalog
	// products that are neither it nor in its history.
	TrainRandom
)

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
	if e.shared != nil {
		return nil, fmt.Errorf("hmpps: train: %w: train on an engine that holds the catalog, and give the model to this one", ErrSharedCatalog)
	}
	if len(examples) == 0 {
		return nil, fmt.Errorf("%w: no examples", ErrInvalidTraining)
	}
	if opts.Refit && len(opts.Validation) == 0 {
		return nil, fmt.Errorf("%w: refit needs validation purchases to choose the number of epochs", ErrInvalidTraining)
	}
	opts = opts.withDefaults()
	if opts.Negatives < 0 || opts.Epochs < 0 || opts.Patience < 0 || opts.HistoryK < 0 || opts.LearningRate < 0 ||
		opts.Candidates < TrainRetrieved || opts.Candidates > TrainRandom ||
		math.IsNaN(opts.L2) || math.IsInf(opts.L2, 0) || math.IsNaN(opts.LearningRate) || math.IsInf(opts.LearningRate, 0) {
		return nil, fmt.Errorf("%w: options %+v", ErrInvalidTraining, opts)
	}
	m, train, val, err := buildLists(ctx, e, examples, opts)
	if err != nil {
		return nil, err
	}
	var negatives int
	for _, l := range train {
		negatives += l.C - 1
	}
	dims := featureDims
	dims.Units = max(opts.HiddenUnits, 0)
	lo := ltr.Options{
		Epochs: opts.Epochs, Patience: opts.Patience, LearningRate: opts.LearningRate, L2: max(opts.L2, 0),
		Seed: opts.Seed, FreezeAttention: opts.DisableStageOne, Workers: runtime.GOMAXPROCS(0),
	}
	if opts.DisableCollaborative {
		mask := collaborativeMask(dims)
		lo.Mask = &mask
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
	res, err := ltr.Train(ctx, dims, train, lo)
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
	if opts.Refit {
		return refit(ctx, e, examples, opts, m, start)
	}
	return m, nil
}

// refit trains again on the examples and opts.Validation together for the
// best epoch of first, the model early-stopped on the validation purchases,
// and returns the new model with first's curve and best epoch.
func refit(ctx context.Context, e *Engine, examples []TrainingExample, opts TrainOptions, first *Model, start time.Time) (*Model, error) {
	all := make([]TrainingExample, 0, len(examples)+len(opts.Validation))
	all = append(append(all, examples...), opts.Validation...)
	again := opts
	again.Validation, again.Refit, again.Epochs = nil, false, first.BestEpoch()
	m, err := Train(ctx, e, all, again)
	if err != nil {
		return nil, fmt.Errorf("hmpps: refit: %w", err)
	}
	m.curve, m.best = first.curve, first.best
	m.stats.ValidationExamples, m.stats.Refit, m.stats.Took = first.stats.ValidationExamples, true, time.Since(start)
	return m, nil
}

// buildLists learns what the model counts (popularity, the collaborative
// signal) and builds the standardized lists of the training and validation
// examples; the model it returns has its scaler, not its weights.
func buildLists(ctx context.Context, e *Engine, examples []TrainingExample, opts TrainOptions) (*Model, []ltr.List, []ltr.List, error) {
	m := &Model{HistoryK: opts.HistoryK, DisableStageOne: opts.DisableStageOne, Neighbors: opts.Neighbors,
		textDim: e.cfg.textEmbedder.Dimension(), imageDim: e.cfg.imageDim(), cats: &categoryCache{}}
	m.popularity = popularity(examples)
	seqs, of := shopperSequences(examples)
	m.collab = learnCollaborative(seqs, opts.CoPurchaseWindow)

	// The words of every product's title and category, decoded once: the
	// features read them for every candidate of every list.
	m.cats.fill(e.decodedEntries())
	b := newListBuilder(e, m, opts, examples)
	// Each shopper's view of the signal, without their own purchases, is
	// made once for all their examples.
	views := make([]*shopper, len(seqs))
	var viewOnce = make([]sync.Once, len(seqs))
	viewOf := func(k int) *shopper {
		viewOnce[k].Do(func() { views[k] = m.collab.without(seqs[k], m.popularity) })
		return views[k]
	}
	train := make([]ltr.List, len(examples))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i := range examples {
		g.Go(func() error {
			// One generator per example, so the draws do not depend on
			// the order the workers take examples in.
			rng := rand.New(rand.NewPCG(opts.Seed, uint64(i)))
			l, err := b.list(gctx, &examples[i], viewOf(of[i]), true, rng)
			if err != nil {
				return fmt.Errorf("hmpps: train: example %d (%q): %w", i, examples[i].Positive, err)
			}
			train[i] = l
			return nil
		})
	}
	val := make([]ltr.List, len(opts.Validation))
	search := m.collab.view(m.popularity)
	for i := range opts.Validation {
		g.Go(func() error {
			ex := &opts.Validation[i]
			if len(ex.Negatives) == 0 && opts.Candidates != TrainRetrieved {
				return fmt.Errorf("hmpps: train: validation example %d (%q): %w: no negatives", i, ex.Positive, ErrInvalidTraining)
			}
			l, err := b.list(gctx, ex, search, false, nil)
			if err != nil {
				return fmt.Errorf("hmpps: train: validation example %d (%q): %w", i, ex.Positive, err)
			}
			val[i] = l
			return nil
		})
	}
	err := g.Wait()
	// The model keeps no pointer into this engine's catalog.
	m.cats.byID = nil
	if err != nil {
		return nil, nil, nil, err
	}
	m.scaler = ltr.FitScaler(featureDims, train)
	for i := range train {
		m.scaler.Apply(&train[i])
	}
	for i := range val {
		m.scaler.Apply(&val[i])
	}
	return m, train, val, nil
}

// newListBuilder returns the builder of m's lists of the examples and
// opts.Validation.
func newListBuilder(e *Engine, m *Model, opts TrainOptions, examples []TrainingExample) *listBuilder {
	b := &listBuilder{e: e, m: m, opts: opts, catalog: e.catalogIDs()}
	if opts.Candidates == TrainRetrieved {
		b.depth = e.cfg.retrieveK + maxHistory(examples, opts.Validation)
	}
	return b
}

// decodedEntries returns an entry of every product of the catalog, its
// record decoded.
func (e *Engine) decodedEntries() []*entry {
	e.mu.RLock()
	defer e.mu.RUnlock()
	entries := make([]*entry, 0, len(e.products))
	for _, rec := range e.products {
		en := &entry{rec: rec}
		en.view(nil)
		entries = append(entries, en)
	}
	return entries
}

// maxHistory is the longest history of the examples.
func maxHistory(sets ...[]TrainingExample) int {
	n := 0
	for _, examples := range sets {
		for i := range examples {
			n = max(n, len(examples[i].History)+len(examples[i].HistoryIDs))
		}
	}
	return n
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
	if o.HiddenUnits == 0 {
		o.HiddenUnits = DefaultTrainHiddenUnits
	}
	if o.CoPurchaseWindow == 0 {
		o.CoPurchaseWindow = DefaultCoPurchaseWindow
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
		if lists[i].Positive < 0 {
			continue // a purchase retrieval missed: a miss whatever the weights
		}
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

// listBuilder builds the training and validation lists of one Train call.
type listBuilder struct {
	e    *Engine
	m    *Model
	opts TrainOptions
	// catalog is the engine's IDs, sorted, for random negatives.
	catalog []string
	// depth is how deep the indexes are asked for an example's query when
	// the engine's candidates are its list (0 otherwise): retrieveK, plus
	// the longest history, which is left out before the lists are fused.
	depth int
	// queries caches each query's vector and, with depth, its retrieved
	// lists: many purchases share a query.
	queries sync.Map // string → *queryLists
}

// queryLists is what one query retrieves, computed once.
type queryLists struct {
	once  sync.Once
	qvec  []float32
	lists retrievedLists
	err   error
}

// query returns the query's vector and, with depth, its retrieved lists.
func (b *listBuilder) query(ctx context.Context, query string) (*queryLists, error) {
	v, _ := b.queries.LoadOrStore(query, &queryLists{})
	q := v.(*queryLists)
	q.once.Do(func() {
		q.qvec, q.err = b.e.queryVector(ctx, query, nil)
		if q.err == nil && b.depth > 0 {
			q.lists, q.err = b.e.retrieveLists(ctx, q.qvec, &Request{Query: query}, b.depth)
		}
	})
	return q, q.err
}

// list builds the list of one example: its positive first (when it is
// among the candidates), then its negatives: its own, or, in training, n
// drawn at random from the catalog or the engine's retrieved candidates
// (see TrainCandidates). sh is what the list reads of the collaborative
// signal.
func (b *listBuilder) list(ctx context.Context, ex *TrainingExample, sh *shopper, training bool, rng *rand.Rand) (ltr.List, error) {
	e := b.e
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
	q, err := b.query(ctx, ex.Query)
	if err != nil {
		return ltr.List{}, err
	}
	positive, err := e.lookupContext(ctx, "candidates", []string{ex.Positive})
	if err != nil {
		return ltr.List{}, err
	}
	candidates := positive
	var lexMax float64
	switch {
	case len(ex.Negatives) > 0:
		seen := map[string]bool{ex.Positive: true}
		for _, id := range ex.Negatives {
			if seen[id] {
				return ltr.List{}, fmt.Errorf("%w: negative %q is the positive or given twice", ErrInvalidTraining, id)
			}
			seen[id] = true
		}
		negatives, err := e.lookupContext(ctx, "candidates", ex.Negatives)
		if err != nil {
			return ltr.List{}, err
		}
		candidates = append(candidates, negatives...)
	case b.opts.Candidates == TrainRetrieved:
		retrieved, _, err := e.fuse(ctx, q.lists, idSet(history), e.cfg.retrieveK)
		if err != nil {
			return ltr.List{}, err
		}
		retrieved, err = e.addNeighbors(ctx, sh.co, history, retrieved, nil, b.m.neighbors())
		if err != nil {
			return ltr.List{}, err
		}
		found := slices.IndexFunc(retrieved, func(en *entry) bool { return en.product.ID == ex.Positive })
		switch {
		case found >= 0:
			retrieved = slices.Delete(retrieved, found, found+1)
		case !training:
			// Retrieval missed the purchase: the search would not show
			// it, and the list ranks no positive.
			candidates = nil
		}
		if training && len(retrieved) > b.opts.Negatives {
			lexMax = maxOr(e.lexicalScores(ex.Query, retrieved), 0)
			// A random share of them, so that a list costs what
			// Negatives says: the softmax over a uniform sample of the
			// negatives estimates the one over all of them.
			rng.Shuffle(len(retrieved), func(i, j int) { retrieved[i], retrieved[j] = retrieved[j], retrieved[i] })
			retrieved = retrieved[:b.opts.Negatives]
		}
		candidates = append(candidates, retrieved...)
	default:
		exclude := idSet(history)
		exclude[ex.Positive] = true
		negatives, err := e.lookupContext(ctx, "candidates", randomNegatives(b.catalog, exclude, b.opts.Negatives, rng))
		if err != nil {
			return ltr.List{}, err
		}
		candidates = append(candidates, negatives...)
	}
	if len(candidates) == 0 {
		return ltr.List{C: 0}, nil
	}
	in := featureInput{query: ex.Query, qvec: q.qvec, history: history, candidates: candidates, shopper: sh, cats: b.m.cats, lexMax: lexMax}
	in.lexCand = e.lexicalScores(ex.Query, candidates)
	in.lexHist = e.lexicalScores(ex.Query, history)
	l := features(&in, e.cfg.textEmbedder.Dimension())
	if candidates[0].product.ID == ex.Positive {
		l.Positive = 0
	}
	return l, nil
}

// collaborativeMask holds at zero the weights of the features read from who
// bought what together, and the hidden units' inputs from them.
func collaborativeMask(d ltr.Dims) ltr.Weights {
	m := ltr.NewWeights(d)
	keep := func(names []string, w []float64) {
		for i, n := range names {
			w[i] = indicator(!strings.Contains(n, "co-purchase"))
		}
	}
	keep(candidateFeatures, m.Cand)
	keep(pairFeatures, m.Pair)
	keep(historyFeatures, m.Attn)
	in := d.Cand + d.Pair
	for k := range d.Units {
		copy(m.U[k*in:], m.Cand)
		copy(m.U[k*in+d.Cand:], m.Pair)
		m.B[k], m.V[k] = 1, 1
	}
	return m
}
