package retrieval

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func minScore(v float32) *float32 { return &v }

// items builds history items h0, h1, ... from vectors.
func items(vs ...[]float32) []HistoryItem {
	out := make([]HistoryItem, len(vs))
	for i, v := range vs {
		out[i] = HistoryItem{ID: fmt.Sprintf("h%d", i), Vector: v}
	}
	return out
}

func keptIDs(kept []HistoryHit) []string {
	ids := make([]string, len(kept))
	for i, k := range kept {
		ids[i] = k.ID
	}
	return ids
}

func TestHistoryFilterValidate(t *testing.T) {
	nan := float32(math.NaN())
	tests := []struct {
		name    string
		f       HistoryFilter
		wantErr bool
	}{
		{"zero value", HistoryFilter{}, false},
		{"all set", HistoryFilter{K: 3, MinScore: minScore(-0.5), CandidateWeight: 1}, false},
		{"negative K", HistoryFilter{K: -1}, true},
		{"weight below 0", HistoryFilter{CandidateWeight: -0.01}, true},
		{"weight above 1", HistoryFilter{CandidateWeight: 1.01}, true},
		{"weight NaN", HistoryFilter{CandidateWeight: nan}, true},
		{"min score NaN", HistoryFilter{MinScore: minScore(nan)}, true},
		{"min score -Inf", HistoryFilter{MinScore: minScore(float32(math.Inf(-1)))}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.f.Validate()
			if tt.wantErr {
				require.ErrorIs(t, err, ErrInvalidConfig)
				_, err = tt.f.Filter([]float32{1}, nil, nil)
				require.ErrorIs(t, err, ErrInvalidConfig, "Filter validates too")
			} else {
				require.NoError(t, err)
			}
		})
	}
}

func TestHistoryFilterSelection(t *testing.T) {
	// Unit vectors in the plane at increasing angles from the x axis, so
	// their score against the query (1, 0) falls with the index: h0 is the
	// most similar.
	angle := func(deg float64) []float32 {
		r := deg * math.Pi / 180
		return []float32{float32(math.Cos(r)), float32(math.Sin(r))}
	}
	query := []float32{1, 0}
	history := items(angle(0), angle(30), angle(60), angle(90), angle(120), angle(150), angle(180))
	shuffled := []HistoryItem{history[3], history[0], history[6], history[2], history[5], history[1], history[4]}

	tests := []struct {
		name      string
		f         HistoryFilter
		candidate []float32
		history   []HistoryItem
		want      []string
	}{
		{"default K is 5", HistoryFilter{}, nil, history, []string{"h0", "h1", "h2", "h3", "h4"}},
		{"top K in score order", HistoryFilter{K: 3}, nil, shuffled, []string{"h0", "h1", "h2"}},
		{"K larger than history", HistoryFilter{K: 50}, nil, history[:3], []string{"h0", "h1", "h2"}},
		{"K of one", HistoryFilter{K: 1}, nil, shuffled, []string{"h0"}},
		{"threshold drops weak items", HistoryFilter{K: 5, MinScore: minScore(0.4)}, nil, history, []string{"h0", "h1", "h2"}},
		{"threshold is inclusive", HistoryFilter{K: 5, MinScore: minScore(1)}, nil, history, []string{"h0"}},
		{"threshold can drop everything", HistoryFilter{MinScore: minScore(1.5)}, nil, history, []string{}},
		{"negative threshold keeps opposites", HistoryFilter{K: 10, MinScore: minScore(-0.9)}, nil, history,
			[]string{"h0", "h1", "h2", "h3", "h4", "h5"}},
		// The blended probe points at about 106 degrees.
		{"candidate pulls towards itself", HistoryFilter{K: 2, CandidateWeight: 0.8}, angle(120), history,
			[]string{"h4", "h3"}},
		{"candidate weight 1 ignores the query", HistoryFilter{K: 2, CandidateWeight: 1}, angle(180), history,
			[]string{"h6", "h5"}},
		{"nil candidate ignores the weight", HistoryFilter{K: 2, CandidateWeight: 0.8}, nil, history,
			[]string{"h0", "h1"}},
		{"zero weight ignores the candidate", HistoryFilter{K: 2}, angle(180), history, []string{"h0", "h1"}},
		{"empty history", HistoryFilter{}, nil, nil, []string{}},
		{"ties keep the earlier item", HistoryFilter{K: 2}, nil,
			items([]float32{0, 1}, []float32{1, 0}, []float32{0, 1}, []float32{1, 0}), []string{"h1", "h3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kept, err := tt.f.Filter(query, tt.candidate, tt.history)
			require.NoError(t, err)
			assert.Equal(t, tt.want, keptIDs(kept))
			for i, k := range kept {
				assert.Equal(t, k.ID, tt.history[k.Index].ID, "Index points into the input")
				if i > 0 {
					assert.GreaterOrEqual(t, kept[i-1].Score, k.Score, "descending")
				}
			}
		})
	}
}

func TestHistoryFilterScores(t *testing.T) {
	q := []float32{1, 0, 0}
	c := []float32{0, 1, 0}
	h := items([]float32{0.5, 0.5, 0}, []float32{0, 0, 2})
	kept, err := HistoryFilter{CandidateWeight: 0.25}.Filter(q, c, h)
	require.NoError(t, err)
	require.Len(t, kept, 2)
	assertKept(t, []HistoryHit{{Index: 0, ID: "h0", Score: 0.75*0.5 + 0.25*0.5}, {Index: 1, ID: "h1", Score: 0}}, kept)
}

func TestHistoryFilterInvalidInputs(t *testing.T) {
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	good := []float32{1, 0}
	tests := []struct {
		name      string
		f         HistoryFilter
		query     []float32
		candidate []float32
		history   []HistoryItem
		want      error
		mention   string
	}{
		{"empty query", HistoryFilter{}, nil, nil, items(good), ErrInvalidVector, "query"},
		{"NaN query", HistoryFilter{}, []float32{nan, 1}, nil, items(good), ErrInvalidVector, "query"},
		{"query checked even without history", HistoryFilter{}, []float32{inf}, nil, nil, ErrInvalidVector, "query"},
		{"candidate length", HistoryFilter{CandidateWeight: 0.5}, good, []float32{1}, items(good), ErrDimensionMismatch, "candidate"},
		{"candidate checked at weight zero", HistoryFilter{}, good, []float32{1, 2, 3}, items(good), ErrDimensionMismatch, "candidate"},
		{"NaN candidate", HistoryFilter{CandidateWeight: 0.5}, good, []float32{nan, 0}, items(good), ErrInvalidVector, "candidate"},
		{"item length", HistoryFilter{}, good, nil, []HistoryItem{{ID: "ok", Vector: good}, {ID: "short", Vector: []float32{1}}},
			ErrDimensionMismatch, `"short"`},
		{"item without vector", HistoryFilter{}, good, nil, []HistoryItem{{ID: "none"}}, ErrDimensionMismatch, `"none"`},
		{"NaN item", HistoryFilter{}, good, nil, []HistoryItem{{ID: "bad", Vector: []float32{nan, 0}}}, ErrInvalidVector, `"bad"`},
		{"Inf item where the query is zero", HistoryFilter{}, good, nil, []HistoryItem{{ID: "inf", Vector: []float32{0, inf}}},
			ErrInvalidVector, `"inf"`},
		{"NaN item below threshold", HistoryFilter{MinScore: minScore(0.9)}, good, nil,
			[]HistoryItem{{ID: "nan", Vector: []float32{nan, 0}}}, ErrInvalidVector, `"nan"`},
		{"overflowing score", HistoryFilter{}, []float32{3e38, 3e38}, nil,
			[]HistoryItem{{ID: "big", Vector: []float32{3e38, 3e38}}}, ErrInvalidVector, "overflows"},
		{"invalid config", HistoryFilter{K: -2}, good, nil, items(good), ErrInvalidConfig, "K"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kept, err := tt.f.Filter(tt.query, tt.candidate, tt.history)
			require.ErrorIs(t, err, tt.want)
			assert.Contains(t, err.Error(), tt.mention)
			assert.Empty(t, kept)

			dst := []HistoryHit{{ID: "before"}}
			out, err := tt.f.AppendFilter(dst, tt.query, tt.candidate, tt.history, &HistoryScratch{})
			require.ErrorIs(t, err, tt.want)
			assert.Equal(t, dst, out, "dst comes back unchanged")
		})
	}
}

// referenceFilter is the obvious implementation: score every item in
// float64 with two dot products, sort everything, cut.
func referenceFilter(f HistoryFilter, query, candidate []float32, history []HistoryItem) []HistoryHit {
	dot := func(a, b []float32) float64 {
		var s float64
		for i := range a {
			s += float64(a[i]) * float64(b[i])
		}
		return s
	}
	w := float64(f.CandidateWeight)
	if candidate == nil {
		w = 0
	}
	var all []HistoryHit
	for i, h := range history {
		s := (1-w)*dot(query, h.Vector) + w*dot(nonNil(candidate, query), h.Vector)
		if f.MinScore != nil && float32(s) < *f.MinScore {
			continue
		}
		all = append(all, HistoryHit{Index: i, ID: h.ID, Score: float32(s)})
	}
	slices.SortStableFunc(all, func(a, b HistoryHit) int { return cmp.Compare(b.Score, a.Score) })
	k := f.K
	if k == 0 {
		k = DefaultHistoryK
	}
	return all[:min(k, len(all))]
}

func nonNil(v, fallback []float32) []float32 {
	if v == nil {
		return fallback
	}
	return v
}

func TestHistoryFilterMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	for trial := range 300 {
		dim := 1 + r.IntN(80)
		n := r.IntN(120)
		history := make([]HistoryItem, n)
		for i := range history {
			history[i] = HistoryItem{ID: fmt.Sprintf("item-%d", i), Vector: gaussianVector(r, dim)}
			if i > 0 && r.IntN(10) == 0 {
				history[i].Vector = history[r.IntN(i)].Vector // exact ties
			}
		}
		query := gaussianVector(r, dim)
		var candidate []float32
		if r.IntN(2) == 0 {
			candidate = gaussianVector(r, dim)
		}
		f := HistoryFilter{K: r.IntN(12), CandidateWeight: []float32{0, 0.3, 0.5, 1}[r.IntN(4)]}
		if r.IntN(2) == 0 {
			f.MinScore = minScore(float32(r.NormFloat64() * 3))
		}

		got, err := f.Filter(query, candidate, history)
		require.NoError(t, err)
		want := referenceFilter(f, query, candidate, history)
		msg := fmt.Sprintf("trial %d: %+v", trial, f)

		// Blending the probe once rounds differently from two dot products,
		// so compare scores with a tolerance and check order and indexes
		// exactly only where scores are not near-ties.
		require.Len(t, got, len(want), msg)
		for i := range got {
			assert.InDelta(t, want[i].Score, got[i].Score, 1e-4, msg)
			assert.Equal(t, history[got[i].Index].ID, got[i].ID, msg)
			if i > 0 {
				prev, cur := got[i-1], got[i]
				assert.True(t, prev.Score > cur.Score || (prev.Score == cur.Score && prev.Index < cur.Index), msg)
			}
		}

		// The SIMD and plain loops select the same items.
		plain, err := f.appendFilter(nil, query, candidate, history, nil, plainDot)
		require.NoError(t, err)
		require.Len(t, plain, len(got), msg)
		for i := range plain {
			assert.InDelta(t, plain[i].Score, got[i].Score, 1e-4, msg)
		}
	}
}

func TestHistoryFilterAppendFilterAllocs(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	history := make([]HistoryItem, 200)
	for i := range history {
		history[i] = HistoryItem{ID: fmt.Sprintf("h%d", i), Vector: gaussianVector(r, 64)}
	}
	query, candidate := gaussianVector(r, 64), gaussianVector(r, 64)
	for _, f := range []HistoryFilter{
		{},
		{K: 8, CandidateWeight: 0.4, MinScore: minScore(-1)},
		{K: 3, CandidateWeight: 1},
	} {
		t.Run(fmt.Sprintf("K=%d,w=%v", f.K, f.CandidateWeight), func(t *testing.T) {
			var scratch HistoryScratch
			dst := make([]HistoryHit, 0, 16)
			var err error
			allocs := testing.AllocsPerRun(100, func() {
				dst, err = f.AppendFilter(dst[:0], query, candidate, history, &scratch)
			})
			require.NoError(t, err)
			assert.Zero(t, allocs)
			assert.NotEmpty(t, dst)
		})
	}
}

func TestHistoryFilterAppendKeepsPrefix(t *testing.T) {
	dst := []HistoryHit{{ID: "x", Score: -100}}
	out, err := HistoryFilter{K: 1}.AppendFilter(dst, []float32{1}, nil, items([]float32{2}, []float32{3}), nil)
	require.NoError(t, err)
	assert.Equal(t, HistoryHit{ID: "x", Score: -100}, out[0], "the prefix is left as it was, bit for bit")
	assertKept(t, []HistoryHit{{Index: 1, ID: "h1", Score: 3}}, out[1:])
}

func plainDot(a, b []float32) float32 {
	var s float32
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func benchmarkHistoryFilter(b *testing.B, dot func(a, b []float32) float32) {
	for _, n := range []int{50, 500, 5000} {
		for _, dim := range []int{384, 768} {
			b.Run(fmt.Sprintf("items=%d/dim=%d", n, dim), func(b *testing.B) {
				r := rand.New(rand.NewPCG(uint64(n), uint64(dim)))
				history := make([]HistoryItem, n)
				for i := range history {
					v := gaussianVector(r, dim)
					_ = Normalize(v)
					history[i] = HistoryItem{ID: fmt.Sprintf("item-%d", i), Vector: v}
				}
				query, candidate := gaussianVector(r, dim), gaussianVector(r, dim)
				_, _ = Normalize(query), Normalize(candidate)
				f := HistoryFilter{CandidateWeight: 0.3}
				var scratch HistoryScratch
				dst := make([]HistoryHit, 0, DefaultHistoryK)
				if _, err := f.AppendFilter(dst, query, candidate, history, &scratch); err != nil {
					b.Fatal(err) // also warms up scratch
				}
				b.ReportAllocs()
				b.SetBytes(int64(n * dim * 4))
				for b.Loop() {
					var err error
					if dot == nil {
						dst, err = f.AppendFilter(dst[:0], query, candidate, history, &scratch)
					} else {
						dst, err = f.appendFilter(dst[:0], query, candidate, history, &scratch, dot)
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkHistoryFilter measures AppendFilter (SIMD dot products) with a
// blended candidate, K=5.
func BenchmarkHistoryFilter(b *testing.B) { benchmarkHistoryFilter(b, nil) }

// BenchmarkHistoryFilterPlainGo does the same work with a plain Go loop for
// the dot product, to show what SIMD buys.
func BenchmarkHistoryFilterPlainGo(b *testing.B) { benchmarkHistoryFilter(b, plainDot) }
