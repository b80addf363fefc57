// Package ltr learns the two stages of a personalized ranker from lists of
// candidates with one purchased item each: a softmax attention over the
// user's history items (stage one) and a linear scoring function over
// candidate features, some of which are attention-weighted sums over the
// history (stage two). Both are trained together by gradient descent on the
// listwise softmax cross-entropy of the purchased item, with L2
// regularization and early stopping on a validation measure.
//
// It works on numbers only; the hmpps package turns products, queries and
// histories into them.
package ltr

import (
	"errors"
	"fmt"
	"math"
)

// ErrInvalidList reports a list whose shape does not match its Dims, or an
// out-of-range positive, or a non-finite feature.
var ErrInvalidList = errors.New("ltr: invalid list")

// Dims are the numbers of features of each kind.
type Dims struct {
	// Cand is the number of per-candidate features.
	Cand int
	// Hist is the number of stage-one features of each history item.
	Hist int
	// Pair is the number of (candidate, history item) features that
	// stage two reads as attention-weighted sums.
	Pair int
	// Units is the number of hidden units of stage two's score beside its
	// linear part (see Weights); 0 makes the score linear.
	Units int
}

// inputs is the width of stage two's input: the candidate's features and
// the attention-weighted sums of its pair features.
func (d Dims) inputs() int { return d.Cand + d.Pair }

// List is one ranking problem: C candidates, H history items.
type List struct {
	// Cand holds C×Dims.Cand features, candidate-major.
	Cand []float64
	// Hist holds H×Dims.Hist features, item-major.
	Hist []float64
	// Pair holds C×H×Dims.Pair features, candidate-major, then item.
	Pair []float64
	// C and H are the numbers of candidates and history items.
	C, H int
	// Positive is the index of the purchased candidate, or -1 for a list
	// that is only scored.
	Positive int
}

// Check returns an error wrapping ErrInvalidList when l does not fit d.
func (l *List) Check(d Dims) error {
	switch {
	case l.C <= 0 || l.H < 0:
		return fmt.Errorf("%w: %d candidates, %d history items", ErrInvalidList, l.C, l.H)
	case len(l.Cand) != l.C*d.Cand || len(l.Hist) != l.H*d.Hist || len(l.Pair) != l.C*l.H*d.Pair:
		return fmt.Errorf("%w: feature lengths %d/%d/%d do not fit %d candidates and %d history items",
			ErrInvalidList, len(l.Cand), len(l.Hist), len(l.Pair), l.C, l.H)
	case l.Positive < -1 || l.Positive >= l.C:
		return fmt.Errorf("%w: positive %d outside %d candidates", ErrInvalidList, l.Positive, l.C)
	}
	for _, xs := range [][]float64{l.Cand, l.Hist, l.Pair} {
		for _, x := range xs {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return fmt.Errorf("%w: non-finite feature", ErrInvalidList)
			}
		}
	}
	return nil
}

// Weights are the learned parameters. Stage two scores a candidate c, whose
// input is x = [its candidate features; Σ_h a_h·(its pair features with
// item h)], a the attention, as
//
//	s(c) = Cand·x_cand + Pair·x_pair + Σ_k V_k · max(0, U_k·x + B_k)
//
// a linear score plus, with Dims.Units > 0, a hidden layer of rectified
// units that lets features count differently in each other's company (a
// co-purchase among products of the query's own category, say).
type Weights struct {
	// Cand weighs the candidate features, Pair the attention-weighted pair
	// features; Attn weighs the stage-one features inside the softmax.
	Cand, Pair, Attn []float64
	// U holds the hidden units' input weights, Units rows of
	// Cand + Pair, row-major; B their biases and V their output weights.
	// All three are empty for a linear score.
	U, B, V []float64 `json:",omitempty"`
}

// NewWeights returns zero weights of dimensions d.
func NewWeights(d Dims) Weights {
	w := Weights{Cand: make([]float64, d.Cand), Pair: make([]float64, d.Pair), Attn: make([]float64, d.Hist)}
	if d.Units > 0 {
		w.U, w.B, w.V = make([]float64, d.Units*d.inputs()), make([]float64, d.Units), make([]float64, d.Units)
	}
	return w
}

// Dims returns the dimensions w was made for.
func (w Weights) Dims() Dims {
	return Dims{Cand: len(w.Cand), Hist: len(w.Attn), Pair: len(w.Pair), Units: len(w.V)}
}

// groups returns the weights as one slice view per group, in a fixed order.
func (w Weights) groups() [][]float64 { return [][]float64{w.Cand, w.Pair, w.Attn, w.U, w.B, w.V} }

// Clone returns a deep copy.
func (w Weights) Clone() Weights {
	c := NewWeights(w.Dims())
	for i, g := range w.groups() {
		copy(c.groups()[i], g)
	}
	return c
}

// Check returns an error wrapping ErrInvalidList when w's blocks do not fit
// together (a hidden layer whose U is not Units rows of Cand + Pair) or
// hold a non-finite weight.
func (w Weights) Check() error {
	d := w.Dims()
	if len(w.B) != d.Units || len(w.U) != d.Units*d.inputs() {
		return fmt.Errorf("%w: hidden layer of %d/%d/%d weights for %d units of %d inputs",
			ErrInvalidList, len(w.U), len(w.B), len(w.V), d.Units, d.inputs())
	}
	for _, g := range w.groups() {
		for _, x := range g {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return fmt.Errorf("%w: a weight is not finite", ErrInvalidList)
			}
		}
	}
	return nil
}

// Attention returns the softmax weights of the history items of l under w,
// into dst (grown as needed). With no history it returns dst[:0].
func (w Weights) Attention(l *List, dst []float64) []float64 {
	dst = grow(dst, l.H)
	if l.H == 0 {
		return dst
	}
	g := len(w.Attn)
	maxLogit := math.Inf(-1)
	for h := range l.H {
		dst[h] = dot(w.Attn, l.Hist[h*g:(h+1)*g])
		maxLogit = math.Max(maxLogit, dst[h])
	}
	var sum float64
	for h := range l.H {
		dst[h] = math.Exp(dst[h] - maxLogit)
		sum += dst[h]
	}
	for h := range l.H {
		dst[h] /= sum
	}
	return dst
}

// Score returns every candidate's score into dst, given the attention a
// (from Attention).
func (w Weights) Score(l *List, a, dst []float64) []float64 {
	dst = grow(dst, l.C)
	if len(w.V) > 0 {
		var x, act []float64
		for c := range l.C {
			x = w.input(l, a, c, x)
			dst[c], act = w.hidden(x, act)
		}
		return dst
	}
	f, p := len(w.Cand), len(w.Pair)
	for c := range l.C {
		s := dot(w.Cand, l.Cand[c*f:(c+1)*f])
		if p > 0 {
			base := c * l.H * p
			for h := range l.H {
				s += a[h] * dot(w.Pair, l.Pair[base+h*p:base+(h+1)*p])
			}
		}
		dst[c] = s
	}
	return dst
}

// input returns candidate c's input x into dst: its features, then the
// attention-weighted sums of its pair features.
func (w Weights) input(l *List, a []float64, c int, dst []float64) []float64 {
	f, p := len(w.Cand), len(w.Pair)
	dst = grow(dst, f+p)
	copy(dst, l.Cand[c*f:(c+1)*f])
	ps := dst[f:]
	clear(ps)
	base := c * l.H * p
	for h := range l.H {
		pair := l.Pair[base+h*p : base+(h+1)*p]
		for j := range p {
			ps[j] += a[h] * pair[j]
		}
	}
	return dst
}

// hidden returns the score of input x, linear part and hidden layer, and
// the units' activations into act.
func (w Weights) hidden(x, act []float64) (float64, []float64) {
	f := len(w.Cand)
	s := dot(w.Cand, x[:f]) + dot(w.Pair, x[f:])
	n := len(x)
	act = grow(act, len(w.V))
	for k := range w.V {
		z := w.B[k] + dot(w.U[k*n:(k+1)*n], x)
		act[k] = max(z, 0)
		s += w.V[k] * act[k]
	}
	return s, act
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func grow(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}
