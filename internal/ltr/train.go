package ltr

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
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
	// Mask, when set, holds a weight at zero wherever its own entry is
	// zero: a feature switched off without rebuilding the lists. It must
	// have the dimensions of the weights trained.
	Mask *Weights
	// Average, between 0 and 1, makes Train keep an exponential moving
	// average of the weights over its steps (Polyak and Juditsky, 1992),
	// each step weighing 1 − Average, and validate and return the
	// average, which wanders less than the last step's weights. Zero
	// keeps the weights as they are.
	Average float64
	// Workers is how many goroutines compute a batch's gradient, each over
	// a fixed share of it, summed in a fixed order so that the result does
	// not depend on the scheduling. If zero, 1.
	Workers int
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
	if opts.Workers <= 0 {
		opts.Workers = 1
	}
	if opts.Mask != nil && opts.Mask.Dims() != d {
		return Result{}, fmt.Errorf("%w: a mask of %+v for weights of %+v", ErrInvalidList, opts.Mask.Dims(), d)
	}
	w := NewWeights(d)
	// The hidden units start at small random input weights (He et al.,
	// 2015) and zero output weights: the first score is the linear one.
	init := rand.New(rand.NewPCG(opts.Seed, 0x68696464))
	scale := math.Sqrt(2 / float64(max(d.inputs(), 1)))
	for i := range w.U {
		w.U[i] = init.NormFloat64() * scale
	}
	grads := make([]Weights, opts.Workers)
	scratches := make([]scratch, opts.Workers)
	losses := make([]float64, opts.Workers)
	for i := range grads {
		grads[i] = NewWeights(d)
	}
	grad := grads[0]
	adam := newAdam(w)
	avg := w
	if opts.Average > 0 {
		avg = w.Clone()
	}
	rng := rand.New(rand.NewPCG(opts.Seed, 0x6c7472))
	order := make([]int, len(lists))
	for i := range order {
		order[i] = i
	}
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
			var wg sync.WaitGroup
			for k := range opts.Workers {
				part := batch[k*len(batch)/opts.Workers : (k+1)*len(batch)/opts.Workers]
				wg.Go(func() {
					grads[k].zero()
					losses[k] = 0
					for _, i := range part {
						losses[k] += LossGrad(w, &lists[i], &grads[k], &scratches[k])
					}
				})
			}
			wg.Wait()
			for k := range opts.Workers {
				total += losses[k]
				if k > 0 {
					grad.add(grads[k])
				}
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
			if opts.Mask != nil {
				for gi, g := range grad.groups() {
					for j, keep := range opts.Mask.groups()[gi] {
						if keep == 0 {
							g[j] = 0
						}
					}
				}
			}
			adam.step(w, grad, opts.LearningRate)
			if opts.Average > 0 {
				avg.blend(w, 1-opts.Average)
			}
		}
		e := Epoch{Epoch: epoch, Loss: total / float64(len(lists)), Validation: math.NaN()}
		if opts.Validate != nil {
			e.Validation = opts.Validate(avg)
		}
		res.Curve = append(res.Curve, e)
		if opts.Progress != nil {
			opts.Progress(e)
		}
		switch {
		case opts.Validate == nil:
			res.Weights, res.Best = avg.Clone(), epoch-1
		case e.Validation > bestScore:
			bestScore, res.Weights, res.Best = e.Validation, avg.Clone(), epoch-1
		case epoch-1-res.Best >= opts.Patience:
			return res, nil
		}
	}
	return res, nil
}

// scratch holds LossGrad's buffers between calls.
type scratch struct {
	a, scores, g, u []float64
	// x and act hold every candidate's input and hidden activations, e the
	// gradient of the loss by one candidate's pair sums.
	x, act, e []float64
}

// LossGrad returns the softmax cross-entropy of l's positive under w and adds
// its gradient to grad. s may be nil.
func LossGrad(w Weights, l *List, grad *Weights, s *scratch) float64 {
	if s == nil {
		s = new(scratch)
	}
	s.a = w.Attention(l, s.a)
	hidden := len(w.V) > 0
	f, p, q, n, units := len(w.Cand), len(w.Pair), len(w.Attn), len(w.Cand)+len(w.Pair), len(w.V)
	if hidden {
		s.x, s.act = grow(s.x, l.C*n), grow(s.act, l.C*units)
		s.scores = grow(s.scores, l.C)
		for c := range l.C {
			w.input(l, s.a, c, s.x[c*n:(c+1)*n])
			s.scores[c], _ = w.hidden(s.x[c*n:(c+1)*n], s.act[c*units:(c+1)*units])
		}
	} else {
		s.scores = w.Score(l, s.a, s.scores)
	}
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

	s.u = grow(s.u, l.H)
	clear(s.u)
	s.e = grow(s.e, p)
	for c := range l.C {
		gc := s.g[c]
		x := l.Cand[c*f : (c+1)*f]
		for j := range f {
			grad.Cand[j] += gc * x[j]
		}
		if p == 0 {
			continue
		}
		// e = dL/d(pair sums of c): the linear part's, then the hidden
		// units'.
		for j := range p {
			s.e[j] = gc * w.Pair[j]
		}
		if hidden {
			xc, act := s.x[c*n:(c+1)*n], s.act[c*units:(c+1)*units]
			for k := range units {
				grad.V[k] += gc * act[k]
				if act[k] <= 0 {
					continue
				}
				d := gc * w.V[k]
				grad.B[k] += d
				row, gu := w.U[k*n:(k+1)*n], grad.U[k*n:(k+1)*n]
				for j := range n {
					gu[j] += d * xc[j]
				}
				// The candidate features' part of the input is
				// standardized data, not weighted by attention: only
				// the pair sums pass the gradient on to stage one.
				for j := range p {
					s.e[j] += d * row[f+j]
				}
				// grad.Cand is the linear part's alone; the hidden
				// layer's gradient by x_cand is in grad.U.
			}
		}
		base := c * l.H * p
		for h := range l.H {
			pair := l.Pair[base+h*p : base+(h+1)*p]
			ga := gc * s.a[h]
			for j := range p {
				grad.Pair[j] += ga * pair[j]
			}
			// u[h] = dL/da_h.
			s.u[h] += dot(s.e, pair)
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

// blend moves w towards o by the share a: w = (1−a)·w + a·o.
func (w Weights) blend(o Weights, a float64) {
	og := o.groups()
	for gi, g := range w.groups() {
		for j := range g {
			g[j] += a * (og[gi][j] - g[j])
		}
	}
}

// add adds o to w, weight by weight.
func (w Weights) add(o Weights) {
	og := o.groups()
	for gi, g := range w.groups() {
		for j := range g {
			g[j] += og[gi][j]
		}
	}
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
