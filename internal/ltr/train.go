package ltr

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
)

// Options configure Train. Zero fields take the documented defaults.
type Options struct {
	// Epochs is the most passes over the training lists. If zero, 60.
	Epochs int
	// Patience stops training after this many epochs without a better
	// validation score. If zero, 8.
	Patience int
	// LearningRate is Adam's step size. If zero, 0.05.
	LearningRate float64
	// L2 is the weight of the ridge penalty (λ/2)·‖w‖². Zero means none.
	L2 float64
	// BatchSize is the number of lists per step. If zero, 32.
	BatchSize int
	// Seed fixes the order lists are visited in.
	Seed uint64
	// FreezeAttention keeps the stage-one weights at zero: the attention is
	// then uniform over the history, which is the ablation of stage one.
	FreezeAttention bool
	// Validate, if set, scores weights on held-out data (higher is better,
	// e.g. NDCG@10); the best epoch's weights are returned. Without it the
	// last epoch's are.
	Validate func(Weights) float64
	// Progress, if set, is called after every epoch.
	Progress func(Epoch)
}

// Epoch is one point of the training curve.
type Epoch struct {
	// Epoch counts from 1.
	Epoch int
	// Loss is the mean training loss over the epoch's lists, before the
	// penalty.
	Loss float64
	// Validation is Options.Validate's score after the epoch (NaN without
	// Validate).
	Validation float64
}

// Result is what Train learned.
type Result struct {
	// Weights are the best epoch's weights.
	Weights Weights
	// Curve has one entry per epoch run.
	Curve []Epoch
	// Best is the index in Curve of the epoch whose weights were kept.
	Best int
}

// Train fits weights of dimensions d on lists (each with a Positive) by
// mini-batch Adam on the mean softmax cross-entropy plus the L2 penalty.
func Train(ctx context.Context, d Dims, lists []List, opts Options) (Result, error) {
	if len(lists) == 0 {
		return Result{}, fmt.Errorf("%w: no training lists", ErrInvalidList)
	}
	for i := range lists {
		if err := lists[i].Check(d); err != nil {
			return Result{}, fmt.Errorf("list %d: %w", i, err)
		}
		if lists[i].Positive < 0 {
			return Result{}, fmt.Errorf("%w: training list %d has no positive", ErrInvalidList, i)
		}
	}
	if opts.Epochs <= 0 {
		opts.Epochs = 60
	}
	if opts.Patience <= 0 {
		opts.Patience = 8
	}
	if opts.LearningRate <= 0 {
		opts.LearningRate = 0.05
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 32
	}
	w := NewWeights(d)
	grad := NewWeights(d)
	adam := newAdam(w)
	rng := rand.New(rand.NewPCG(opts.Seed, 0x6c7472))
	order := make([]int, len(lists))
	for i := range order {
		order[i] = i
	}
	var s scratch
	res := Result{Weights: w.Clone(), Best: -1}
	bestScore := math.Inf(-1)
	for epoch := 1; epoch <= opts.Epochs; epoch++ {
		if err := ctx.Err(); err != nil {
			return Result{}, err
		}
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		var total float64
		for start := 0; start < len(order); start += opts.BatchSize {
			batch := order[start:min(start+opts.BatchSize, len(order))]
			grad.zero()
			for _, i := range batch {
				total += LossGrad(w, &lists[i], &grad, &s)
			}
			n := float64(len(batch))
			for gi, g := range grad.groups() {
				ws := w.groups()[gi]
				for j := range g {
					g[j] = g[j]/n + opts.L2*ws[j]
				}
			}
			if opts.FreezeAttention {
				clear(grad.Attn)
			}
			adam.step(w, grad, opts.LearningRate)
		}
		e := Epoch{Epoch: epoch, Loss: total / float64(len(lists)), Validation: math.NaN()}
		if opts.Validate != nil {
			e.Validation = opts.Validate(w)
		}
		res.Curve = append(res.Curve, e)
		if opts.Progress != nil {
			opts.Progress(e)
		}
		switch {
		case opts.Validate == nil:
			res.Weights, res.Best = w.Clone(), epoch-1
		case e.Validation > bestScore:
			bestScore, res.Weights, res.Best = e.Validation, w.Clone(), epoch-1
		case epoch-1-res.Best >= opts.Patience:
			return res, nil
		}
	}
	return res, nil
}

// scratch holds LossGrad's buffers between calls.
type scratch struct {
	a, scores, g, u []float64
}

// LossGrad returns the softmax cross-entropy of l's positive under w and adds
// its gradient to grad. s may be nil.
func LossGrad(w Weights, l *List, grad *Weights, s *scratch) float64 {
	if s == nil {
		s = new(scratch)
	}
	s.a = w.Attention(l, s.a)
	s.scores = w.Score(l, s.a, s.scores)
	maxS := math.Inf(-1)
	for _, v := range s.scores {
		maxS = math.Max(maxS, v)
	}
	var z float64
	for _, v := range s.scores {
		z += math.Exp(v - maxS)
	}
	loss := maxS + math.Log(z) - s.scores[l.Positive]
	// g[c] = dL/ds_c = softmax_c − [c = positive].
	s.g = grow(s.g, l.C)
	for c, v := range s.scores {
		s.g[c] = math.Exp(v-maxS) / z
	}
	s.g[l.Positive]--

	f, p, q := len(w.Cand), len(w.Pair), len(w.Attn)
	s.u = grow(s.u, l.H)
	clear(s.u)
	for c := range l.C {
		gc := s.g[c]
		x := l.Cand[c*f : (c+1)*f]
		for j := range f {
			grad.Cand[j] += gc * x[j]
		}
		if p == 0 {
			continue
		}
		base := c * l.H * p
		for h := range l.H {
			pair := l.Pair[base+h*p : base+(h+1)*p]
			ga := gc * s.a[h]
			for j := range p {
				grad.Pair[j] += ga * pair[j]
			}
			// u[h] = dL/da_h.
			s.u[h] += gc * dot(w.Pair, pair)
		}
	}
	if l.H > 0 && q > 0 {
		var mean float64
		for h := range l.H {
			mean += s.a[h] * s.u[h]
		}
		for h := range l.H {
			dz := s.a[h] * (s.u[h] - mean)
			phi := l.Hist[h*q : (h+1)*q]
			for j := range q {
				grad.Attn[j] += dz * phi[j]
			}
		}
	}
	return loss
}

func (w Weights) zero() {
	for _, g := range w.groups() {
		clear(g)
	}
}

// adam is the Adam optimizer (Kingma and Ba, 2015) with its usual betas.
type adam struct {
	m, v Weights
	t    int
}

func newAdam(w Weights) *adam {
	return &adam{m: NewWeights(w.Dims()), v: NewWeights(w.Dims())}
}

func (o *adam) step(w, grad Weights, lr float64) {
	const b1, b2, eps = 0.9, 0.999, 1e-8
	o.t++
	c1 := 1 - math.Pow(b1, float64(o.t))
	c2 := 1 - math.Pow(b2, float64(o.t))
	ws, gs, ms, vs := w.groups(), grad.groups(), o.m.groups(), o.v.groups()
	for i := range ws {
		for j := range ws[i] {
			g := gs[i][j]
			ms[i][j] = b1*ms[i][j] + (1-b1)*g
			vs[i][j] = b2*vs[i][j] + (1-b2)*g*g
			ws[i][j] -= lr * (ms[i][j] / c1) / (math.Sqrt(vs[i][j]/c2) + eps)
		}
	}
}
