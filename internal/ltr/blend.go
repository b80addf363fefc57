package ltr

import (
	"fmt"
	"math"
)

// BlendList is one list whose candidates' signals are blended into one
// score: X holds C×K signals, candidate-major, the base score first.
type BlendList struct {
	// X holds the signals of each candidate in turn.
	X []float64
	// C is the number of candidates.
	C int
	// Positive is the index of the purchased candidate.
	Positive int
}

// BlendOptions configure FitBlend.
type BlendOptions struct {
	// L2 is the ridge penalty (λ/2)·Σ w_k² on the weights of the signals
	// after the base score, the signals that must earn their weight; the
	// base score's weight is free. Zero means none.
	L2 float64
	// Iterations bounds Newton's method. If zero, 50.
	Iterations int
}

// FitBlend returns the weights w of K signals whose score Σ_k w_k·x_k
// minimizes the mean listwise softmax cross-entropy of the positives of
// lists plus the L2 penalty, starting from the base score alone (w = 1, 0,
// ..., 0), and the loss there. The problem is convex and has K parameters,
// so Newton's method with step halving solves it in a few iterations.
// Lists whose shape does not fit K fail with an error wrapping
// ErrInvalidList.
func FitBlend(lists []BlendList, k int, opts BlendOptions) ([]float64, float64, error) {
	if k <= 0 {
		return nil, 0, fmt.Errorf("%w: %d signals", ErrInvalidList, k)
	}
	for i, l := range lists {
		if l.C <= 0 || len(l.X) != l.C*k || l.Positive < 0 || l.Positive >= l.C {
			return nil, 0, fmt.Errorf("%w: blend list %d: %d values for %d candidates of %d signals, positive %d",
				ErrInvalidList, i, len(l.X), l.C, k, l.Positive)
		}
		for _, x := range l.X {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, 0, fmt.Errorf("%w: blend list %d: non-finite signal", ErrInvalidList, i)
			}
		}
	}
	iters := opts.Iterations
	if iters <= 0 {
		iters = 50
	}
	w := make([]float64, k)
	w[0] = 1
	if len(lists) == 0 {
		return w, 0, nil
	}
	loss, grad, hess := blendObjective(lists, w, k, opts.L2)
	for range iters {
		step, ok := solve(hess, grad, k)
		if !ok {
			break
		}
		// Step halving keeps every step a descent one.
		t, improved := 1.0, false
		next := make([]float64, k)
		for range 30 {
			for j := range k {
				next[j] = w[j] - t*step[j]
			}
			if l := blendLoss(lists, next, k, opts.L2); l < loss {
				improved = true
				break
			}
			t /= 2
		}
		if !improved {
			break
		}
		prev := loss
		copy(w, next)
		loss, grad, hess = blendObjective(lists, w, k, opts.L2)
		if prev-loss < 1e-12 {
			break
		}
	}
	return w, loss, nil
}

// BlendScores returns w·x for every candidate of l.
func BlendScores(l BlendList, w []float64) []float64 {
	k := len(w)
	out := make([]float64, l.C)
	for i := range l.C {
		for j := range k {
			out[i] += w[j] * l.X[i*k+j]
		}
	}
	return out
}

// blendLoss is the objective alone.
func blendLoss(lists []BlendList, w []float64, k int, l2 float64) float64 {
	var sum float64
	for _, l := range lists {
		s := BlendScores(l, w)
		sum += logSumExp(s) - s[l.Positive]
	}
	return sum/float64(len(lists)) + penalty(w, l2)
}

// blendObjective returns the objective, its gradient and its Hessian
// (k×k, row-major) at w.
func blendObjective(lists []BlendList, w []float64, k int, l2 float64) (float64, []float64, []float64) {
	grad, hess := make([]float64, k), make([]float64, k*k)
	mean := make([]float64, k)
	var loss float64
	for _, l := range lists {
		s := BlendScores(l, w)
		lse := logSumExp(s)
		loss += lse - s[l.Positive]
		clear(mean)
		for i := range l.C {
			p := math.Exp(s[i] - lse)
			x := l.X[i*k : (i+1)*k]
			for a := range k {
				mean[a] += p * x[a]
				for b := range k {
					hess[a*k+b] += p * x[a] * x[b]
				}
			}
		}
		pos := l.X[l.Positive*k : (l.Positive+1)*k]
		for a := range k {
			grad[a] += mean[a] - pos[a]
			for b := range k {
				hess[a*k+b] -= mean[a] * mean[b]
			}
		}
	}
	n := float64(len(lists))
	for a := range k {
		grad[a] /= n
		for b := range k {
			hess[a*k+b] /= n
		}
	}
	for a := 1; a < k; a++ {
		grad[a] += l2 * w[a]
		hess[a*k+a] += l2
	}
	// A base score that does not vary within any list leaves its weight
	// undetermined; a tiny ridge keeps the system solvable.
	hess[0] += 1e-9
	return loss/n + penalty(w, l2), grad, hess
}

func penalty(w []float64, l2 float64) float64 {
	var p float64
	for _, x := range w[1:] {
		p += x * x
	}
	return l2 / 2 * p
}

func logSumExp(s []float64) float64 {
	m := math.Inf(-1)
	for _, x := range s {
		m = max(m, x)
	}
	var sum float64
	for _, x := range s {
		sum += math.Exp(x - m)
	}
	return m + math.Log(sum)
}

// solve returns x with A·x = b for a k×k row-major A by Gaussian
// elimination with partial pivoting; ok is false when A is singular.
func solve(a, b []float64, k int) ([]float64, bool) {
	m := make([]float64, k*(k+1))
	for i := range k {
		copy(m[i*(k+1):], a[i*k:(i+1)*k])
		m[i*(k+1)+k] = b[i]
	}
	for col := range k {
		piv := col
		for r := col + 1; r < k; r++ {
			if math.Abs(m[r*(k+1)+col]) > math.Abs(m[piv*(k+1)+col]) {
				piv = r
			}
		}
		if math.Abs(m[piv*(k+1)+col]) < 1e-15 {
			return nil, false
		}
		for c := range k + 1 {
			m[col*(k+1)+c], m[piv*(k+1)+c] = m[piv*(k+1)+c], m[col*(k+1)+c]
		}
		for r := range k {
			if r == col {
				continue
			}
			f := m[r*(k+1)+col] / m[col*(k+1)+col]
			for c := col; c <= k; c++ {
				m[r*(k+1)+c] -= f * m[col*(k+1)+c]
			}
		}
	}
	x := make([]float64, k)
	for i := range k {
		x[i] = m[i*(k+1)+k] / m[i*(k+1)+i]
	}
	return x, true
}
