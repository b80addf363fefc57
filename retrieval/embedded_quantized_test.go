package retrieval

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewEmbeddedWith(t *testing.T) {
	tests := []struct {
		name    string
		opts    EmbeddedOptions
		want    EmbeddedOptions
		wantErr bool
	}{
		{"zero value", EmbeddedOptions{}, EmbeddedOptions{}, false},
		{"quantize gets the default rescore", EmbeddedOptions{Quantize: true}, EmbeddedOptions{Quantize: true, Rescore: DefaultRescore}, false},
		{"rescore kept", EmbeddedOptions{Quantize: true, Rescore: 9}, EmbeddedOptions{Quantize: true, Rescore: 9}, false},
		{"rescore ignored without quantize", EmbeddedOptions{Rescore: 9}, EmbeddedOptions{}, false},
		{"parallelism kept", EmbeddedOptions{Parallelism: 3}, EmbeddedOptions{Parallelism: 3}, false},
		{"largest rescore", EmbeddedOptions{Quantize: true, Rescore: MaxRescore}, EmbeddedOptions{Quantize: true, Rescore: MaxRescore}, false},
		{"negative rescore", EmbeddedOptions{Quantize: true, Rescore: -1}, EmbeddedOptions{}, true},
		{"rescore too large", EmbeddedOptions{Quantize: true, Rescore: MaxRescore + 1}, EmbeddedOptions{}, true},
		{"negative parallelism", EmbeddedOptions{Parallelism: -1}, EmbeddedOptions{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := NewEmbeddedWith(8, Cosine, tt.opts)
			if tt.wantErr {
				require.ErrorIs(t, err, ErrInvalidConfig)
				assert.Nil(t, e)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, e.Options())
		})
	}
}

// TestEmbeddedQuantizedRecall measures recall@10 of the default quantized
// index against the exact one on the two kinds of data the benchmarks use,
// at a size where the shortlist is a small fraction of the rows.
func TestEmbeddedQuantizedRecall(t *testing.T) {
	const n, dim, queries = 20_000, 384, 40
	datasets := []struct {
		name    string
		vectors func(rng *rand.Rand) [][]float32
	}{
		{"uniform", func(rng *rand.Rand) [][]float32 { return uniformVectors(rng, n, dim) }},
		{"clustered", func(rng *rand.Rand) [][]float32 { return clusteredVectors(rng, n, dim, 200) }},
	}
	for _, ds := range datasets {
		for _, metric := range []Metric{Cosine, InnerProduct} {
			t.Run(fmt.Sprintf("%s/%s", ds.name, metric), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(11, uint64(metric)))
				vectors := ds.vectors(rng)
				exact := indexOf(t, vectors, metric, EmbeddedOptions{})
				quantized := indexOf(t, vectors, metric, EmbeddedOptions{Quantize: true})
				recall := measureRecall(t, exact, quantized, queriesNear(rng, vectors, queries), 10)
				t.Logf("recall@10: %.4f", recall)
				assert.GreaterOrEqual(t, recall, 0.99)
			})
		}
	}
}

// indexOf builds an index holding vectors under IDs "0", "1", ....
func indexOf(t testing.TB, vectors [][]float32, metric Metric, opts EmbeddedOptions) *Embedded {
	t.Helper()
	e, err := NewEmbeddedWith(len(vectors[0]), metric, opts)
	require.NoError(t, err)
	const batchSize = 4096
	batch := make([]Record, 0, batchSize)
	for i, v := range vectors {
		batch = append(batch, Record{ID: strconv.Itoa(i), Vector: v})
		if len(batch) == batchSize || i == len(vectors)-1 {
			require.NoError(t, e.Upsert(context.Background(), batch...))
			batch = batch[:0]
		}
	}
	return e
}

// measureRecall returns the share of exact's top k that approx also
// returns, over the queries.
func measureRecall(t testing.TB, exact, approx *Embedded, queries [][]float32, k int) float64 {
	t.Helper()
	ctx := context.Background()
	var found, wanted int
	for _, q := range queries {
		want, err := exact.Search(ctx, q, k, nil)
		require.NoError(t, err)
		got, err := approx.Search(ctx, q, k, nil)
		require.NoError(t, err)
		wanted += len(want)
		found += overlap(want, got)
	}
	return float64(found) / float64(wanted)
}
