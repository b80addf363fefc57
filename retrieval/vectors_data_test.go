package retrieval

import (
	"math"
	"math/rand/v2"
)

// Synthetic vector collections for the recall tests and the benchmarks.
// Uniform random vectors are the easy case for quantization: every row is
// about equally far from the query, and the top ten stand out. Real
// embeddings are clustered, and uneven across dimensions: a query's nearest
// rows sit in one cluster with close scores, where quantization error can
// swap them. clusteredSource imitates that.

// vectorSource fills one vector per call, so that a million rows can be
// generated batch by batch instead of all at once.
type vectorSource func(dst []float32)

// uniformSource draws components uniformly from [-1, 1).
func uniformSource(rng *rand.Rand) vectorSource {
	return func(dst []float32) {
		for j := range dst {
			dst[j] = rng.Float32()*2 - 1
		}
	}
}

// clusteredSource draws unit vectors around clusters centres whose
// dimensions have spreads falling off as a power law, as in the spectrum of
// text embeddings; each vector is its centre plus noise of the same shape,
// normalized.
func clusteredSource(rng *rand.Rand, dim, clusters int) vectorSource {
	spread := make([]float64, dim)
	for j := range spread {
		spread[j] = 1 / math.Sqrt(float64(j+1))
	}
	rng.Shuffle(dim, func(a, b int) { spread[a], spread[b] = spread[b], spread[a] })
	centres := make([][]float64, clusters)
	for c := range centres {
		centres[c] = make([]float64, dim)
		for j := range dim {
			centres[c][j] = rng.NormFloat64() * spread[j]
		}
	}
	return func(dst []float32) {
		centre := centres[rng.IntN(clusters)]
		var norm float64
		for j := range dst {
			x := centre[j] + 0.6*rng.NormFloat64()*spread[j]
			dst[j] = float32(x)
			norm += x * x
		}
		inv := 1 / math.Sqrt(norm)
		for j := range dst {
			dst[j] = float32(float64(dst[j]) * inv)
		}
	}
}

// vectorsFrom returns n vectors from src, in one backing array.
func vectorsFrom(src vectorSource, n, dim int) [][]float32 {
	backing := make([]float32, n*dim)
	out := make([][]float32, n)
	for i := range out {
		out[i] = backing[i*dim : (i+1)*dim : (i+1)*dim]
		src(out[i])
	}
	return out
}

func uniformVectors(rng *rand.Rand, n, dim int) [][]float32 {
	return vectorsFrom(uniformSource(rng), n, dim)
}

func clusteredVectors(rng *rand.Rand, n, dim, clusters int) [][]float32 {
	return vectorsFrom(clusteredSource(rng, dim, clusters), n, dim)
}

// queriesNear returns count queries for a collection: perturbed copies of
// random rows, so that, as with real traffic, a query lands among the data
// rather than in empty space.
func queriesNear(rng *rand.Rand, vectors [][]float32, count int) [][]float32 {
	out := make([][]float32, count)
	for i := range out {
		src := vectors[rng.IntN(len(vectors))]
		q := make([]float32, len(src))
		for j, x := range src {
			q[j] = x + float32(rng.NormFloat64())*0.05*abs32(x)
		}
		out[i] = q
	}
	return out
}
