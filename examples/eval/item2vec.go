package main

import (
	"math"
	"math/rand/v2"
)

// item2vec are product embeddings learned from purchase sequences by
// skip-gram with negative sampling (Barkan and Koenigstein, 2016; the
// word2vec of Mikolov et al., 2013, with purchases for words): two products
// bought close together get close vectors. The validation study (-study)
// compares them with co-occurrence counts as a collaborative signal.
type item2vec struct {
	index map[string]int
	ids   []string
	// vec holds each product's unit-length input vector.
	vec [][]float32
}

// item2vecOptions set the training.
type item2vecOptions struct {
	Dim, Window, Negatives, Epochs int
	Seed                           uint64
}

// trainItem2Vec learns embeddings from seqs, single-threaded and so
// deterministic for a seed: for each purchase and each other purchase at
// most Window places away, one step of logistic loss on the pair and on
// Negatives products drawn by frequency^0.75, with a learning rate falling
// linearly from 0.025.
func trainItem2Vec(seqs [][]string, o item2vecOptions) *item2vec {
	m := &item2vec{index: make(map[string]int)}
	var counts []float64
	encoded := make([][]int, len(seqs))
	for i, s := range seqs {
		for _, id := range s {
			j, ok := m.index[id]
			if !ok {
				j = len(m.ids)
				m.index[id] = j
				m.ids = append(m.ids, id)
				counts = append(counts, 0)
			}
			counts[j]++
			encoded[i] = append(encoded[i], j)
		}
	}
	n := len(m.ids)
	// The unigram^0.75 table of word2vec, as a cumulative distribution.
	cdf := make([]float64, n)
	var sum float64
	for i, c := range counts {
		sum += math.Pow(c, 0.75)
		cdf[i] = sum
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x69746d32))
	draw := func() int {
		x := rng.Float64() * sum
		lo, hi := 0, n-1
		for lo < hi {
			mid := (lo + hi) / 2
			if cdf[mid] < x {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		return lo
	}
	in, out := make([][]float32, n), make([][]float32, n)
	for i := range in {
		in[i], out[i] = make([]float32, o.Dim), make([]float32, o.Dim)
		for k := range in[i] {
			in[i][k] = (rng.Float32() - 0.5) / float32(o.Dim)
		}
	}
	var pairs int
	for _, s := range encoded {
		for a := range s {
			for b := max(0, a-o.Window); b <= min(len(s)-1, a+o.Window); b++ {
				if b != a {
					pairs++
				}
			}
		}
	}
	total, done := float64(pairs*o.Epochs), 0.0
	grad := make([]float32, o.Dim)
	step := func(v, u []float32, label, lr float32) {
		var dot float32
		for k := range v {
			dot += v[k] * u[k]
		}
		g := lr * (label - sigmoid(dot))
		for k := range v {
			grad[k] += g * u[k]
			u[k] += g * v[k]
		}
	}
	for range o.Epochs {
		for _, s := range encoded {
			for a, x := range s {
				for b := max(0, a-o.Window); b <= min(len(s)-1, a+o.Window); b++ {
					if b == a || s[b] == x {
						continue
					}
					lr := float32(0.025 * max(1e-4, 1-done/total))
					done++
					clear(grad)
					step(in[x], out[s[b]], 1, lr)
					for range o.Negatives {
						if y := draw(); y != s[b] && y != x {
							step(in[x], out[y], 0, lr)
						}
					}
					for k := range grad {
						in[x][k] += grad[k]
					}
				}
			}
		}
	}
	for _, v := range in {
		var norm float64
		for _, x := range v {
			norm += float64(x) * float64(x)
		}
		if norm = math.Sqrt(norm); norm > 0 {
			for k := range v {
				v[k] /= float32(norm)
			}
		}
	}
	m.vec = in
	return m
}

func sigmoid(x float32) float32 {
	return float32(1 / (1 + math.Exp(-float64(x))))
}

// similar returns, for the products of from that the model knows, the sum
// of each product's positive cosine with them, for the k products of the
// highest sum (from included when they score).
func (m *item2vec) similar(from []string, k int) map[string]float64 {
	var known [][]float32
	for _, id := range from {
		if i, ok := m.index[id]; ok {
			known = append(known, m.vec[i])
		}
	}
	if len(known) == 0 {
		return nil
	}
	scores := make([]float64, len(m.ids))
	for j, v := range m.vec {
		for _, h := range known {
			var dot float32
			for k := range v {
				dot += v[k] * h[k]
			}
			if dot > 0 {
				scores[j] += float64(dot)
			}
		}
	}
	return topScores(m.ids, scores, k)
}

// topScores returns the k entries of the highest positive scores, ties by
// ID.
func topScores(ids []string, scores []float64, k int) map[string]float64 {
	order := make([]int, 0, len(ids))
	for i, s := range scores {
		if s > 0 {
			order = append(order, i)
		}
	}
	sortByScore(order, ids, scores)
	out := make(map[string]float64, min(k, len(order)))
	for _, i := range order[:min(k, len(order))] {
		out[ids[i]] = scores[i]
	}
	return out
}
