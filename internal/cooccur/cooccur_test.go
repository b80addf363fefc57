package cooccur

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLearnCountsWithinTheWindow(t *testing.T) {
	seqs := [][]string{
		{"a", "b", "c", "d"},
		{"b", "a", "", "e"},
		{"c", "c", "a"},
	}
	tests := []struct {
		name string
		opts Options
		want map[[2]string]float64
	}{
		{"neighbours only", Options{Window: 1}, map[[2]string]float64{
			{"a", "b"}: 2, {"b", "c"}: 1, {"c", "d"}: 1, {"a", "e"}: 1, {"c", "a"}: 1, {"a", "d"}: 0, {"c", "c"}: 0,
		}},
		{"two apart, decayed", Options{Window: 2, Decay: 1}, map[[2]string]float64{
			{"a", "b"}: 2, {"a", "c"}: 0.5 + 1 + 0.5, {"b", "d"}: 0.5, {"a", "d"}: 0, {"b", "e"}: 0.5,
		}},
		{"whole sequence", Options{Window: -1}, map[[2]string]float64{
			{"a", "d"}: 1, {"a", "c"}: 1 + 2, {"b", "e"}: 1, {"d", "e"}: 0,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := Learn(seqs, tt.opts)
			assert.Equal(t, 5, tb.Len())
			for pair, w := range tt.want {
				assert.InDelta(t, w, tb.Weight(pair[0], pair[1]), 1e-12, "%v", pair)
				assert.InDelta(t, w, tb.Weight(pair[1], pair[0]), 1e-12, "%v reversed", pair)
			}
		})
	}
	tb := Learn(seqs, Options{})
	assert.Equal(t, Options{Window: DefaultWindow}, tb.Options())
	assert.Zero(t, tb.Weight("a", "unknown"))
	assert.Zero(t, tb.Weight("unknown", "a"))
}

func TestStrengths(t *testing.T) {
	// a and b are bought together twice; c is everywhere.
	seqs := [][]string{{"a", "b"}, {"a", "b"}, {"c", "a"}, {"c", "d"}, {"c", "e"}}
	tb := Learn(seqs, Options{Window: 1})
	// Margins: a 3, b 2, c 3, d 1, e 1; total 10; sequences: a 3, b 2, c 3.
	tests := []struct {
		n        Normalization
		from, to string
		want     float64
	}{
		{NormRaw, "a", "b", 2},
		{NormConditional, "a", "b", 2.0 / 3},
		{NormConditional, "b", "a", 1},
		{NormCosine, "a", "b", 2 / math.Sqrt(6)},
		{NormPMI, "a", "b", math.Log(2 * 10 / 6.0)},
		{NormPMI, "a", "c", 0}, // log(10/9) > 0
		{NormIDF, "a", "b", 2 * math.Log(1+5/2.0)},
		{NormIDF, "b", "a", 2 * math.Log(1+5/3.0)},
		{NormCosine, "a", "d", 0},
		{NormCosine, "a", "x", 0},
	}
	tests[5].want = math.Log(10 / 9.0)
	for _, tt := range tests {
		assert.InDelta(t, tt.want, tb.Strength(tt.from, tt.to, tt.n), 1e-12, "%s %s→%s", tt.n, tt.from, tt.to)
	}
	// PMI is positive: a pair rarer than chance has no strength.
	rare := Learn([][]string{{"x", "y"}, {"x", "z"}, {"x", "z"}, {"y", "w"}, {"y", "w"}, {"y", "w"}}, Options{Window: 1})
	assert.Zero(t, rare.Strength("x", "y", NormPMI))
}

func TestRelated(t *testing.T) {
	seqs := [][]string{{"a", "b"}, {"a", "b"}, {"a", "c"}, {"d", "c"}, {"d", "e"}}
	tb := Learn(seqs, Options{Window: 1})
	got, err := tb.Related([]string{"a", "d"}, nil, NormRaw)
	require.NoError(t, err)
	assert.Equal(t, []Neighbor{{"b", 2}, {"c", 2}, {"e", 1}}, got, "c sums its ties to a and d; ties in ID order")

	got, err = tb.Related([]string{"a", "d", "unknown"}, []float64{1, 3, 5}, NormRaw)
	require.NoError(t, err)
	assert.Equal(t, []Neighbor{{"c", 4}, {"e", 3}, {"b", 2}}, got)

	got, err = tb.Related([]string{"a", "b"}, nil, NormRaw)
	require.NoError(t, err)
	assert.Equal(t, []Neighbor{{"a", 2}, {"b", 2}, {"c", 1}}, got, "products of from that co-occur with each other")

	got, err = tb.Related(nil, nil, NormCosine)
	require.NoError(t, err)
	assert.Empty(t, got)

	for _, w := range [][]float64{{1}, {-1, 1}, {math.NaN(), 1}, {math.Inf(1), 0}} {
		_, err := tb.Related([]string{"a", "d"}, w, NormRaw)
		assert.Error(t, err, "%v", w)
	}
}

func TestNormalizationNames(t *testing.T) {
	for _, n := range Normalizations() {
		b, err := n.MarshalText()
		require.NoError(t, err)
		var back Normalization
		require.NoError(t, back.UnmarshalText(b))
		assert.Equal(t, n, back)
	}
	assert.Equal(t, "Normalization(9)", Normalization(9).String())
	_, err := Normalization(-1).MarshalText()
	assert.Error(t, err)
	var n Normalization
	assert.Error(t, n.UnmarshalText([]byte("lift")))
}

// randomSequences are n shoppers' purchases of 1 to 12 of items products.
func randomSequences(n, items int, seed uint64) [][]string {
	rng := rand.New(rand.NewPCG(seed, 1))
	out := make([][]string, n)
	for i := range out {
		for range 1 + rng.IntN(12) {
			out[i] = append(out[i], fmt.Sprintf("p%d", rng.IntN(items)))
		}
	}
	return out
}

// TestTableProperties checks, on random sequences, what every table must
// satisfy: symmetric weights, margins that are row sums, strengths that are
// finite and non-negative, and the same table from the same sequences.
func TestTableProperties(t *testing.T) {
	seqs := randomSequences(300, 60, 7)
	tb := Learn(seqs, Options{Window: 4, Decay: 0.5})
	again := Learn(seqs, Options{Window: 4, Decay: 0.5})
	assert.Equal(t, tb, again, "learning is deterministic")
	for i := range tb.ids {
		var sum float64
		for _, c := range tb.rows[i] {
			sum += c.weight
			assert.Equal(t, c.weight, tb.weight(c.item, int32(i)), "symmetric")
		}
		assert.InDelta(t, tb.margin[i], sum, 1e-9)
		for _, n := range Normalizations() {
			for _, c := range tb.rows[i] {
				s := tb.Strength(tb.ids[i], tb.ids[c.item], n)
				assert.False(t, math.IsNaN(s) || math.IsInf(s, 0) || s < 0, "%s %v", n, s)
			}
		}
	}
	// Related with one product is its row, normalized.
	for _, n := range Normalizations() {
		got, err := tb.Related([]string{"p3"}, nil, n)
		require.NoError(t, err)
		for _, nb := range got {
			assert.InDelta(t, tb.Strength("p3", nb.ID, n), nb.Strength, 1e-12)
		}
	}
}

func BenchmarkLearn(b *testing.B) {
	// About the size of the Amazon Scientific training purchases: 8,442
	// shoppers, 4,385 products.
	seqs := randomSequences(8442, 4385, 1)
	b.ReportAllocs()
	for b.Loop() {
		Learn(seqs, Options{})
	}
}

func BenchmarkRelated(b *testing.B) {
	tb := Learn(randomSequences(8442, 4385, 1), Options{})
	history := []string{"p1", "p20", "p300", "p4000", "p42"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tb.Related(history, nil, NormCosine); err != nil {
			b.Fatal(err)
		}
	}
}
