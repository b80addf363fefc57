package cooccur

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// idsOf returns every non-empty ID of seqs once, sorted, and an ID no
// sequence holds.
func idsOf(seqs [][]string) []string {
	var out []string
	for _, s := range seqs {
		for _, id := range s {
			if id != "" {
				out = append(out, id)
			}
		}
	}
	slices.Sort(out)
	return append(slices.Compact(out), "unknown")
}

// assertViewsAgree checks that got reads, for every product and pair of
// ids, what want reads: weights, strengths under every normalization,
// holders, margins and neighbour lists.
func assertViewsAgree(t *testing.T, want, got View, ids []string) {
	t.Helper()
	for _, a := range ids {
		assert.InDelta(t, want.Holders(a), got.Holders(a), 1e-9, "holders of %s", a)
		wi, wok := want.Index(a)
		gi, gok := got.Index(a)
		assert.InDelta(t, want.Margin(wi, wok), got.Margin(gi, gok), 1e-9, "margin of %s", a)
		for _, b := range ids {
			assert.InDelta(t, want.Weight(a, b), got.Weight(a, b), 1e-9, "weight %s %s", a, b)
			for _, n := range Normalizations() {
				assert.InDelta(t, want.Strength(a, b, n), got.Strength(a, b, n), 1e-9, "%s %s→%s", n, a, b)
			}
		}
	}
	for _, n := range Normalizations() {
		exp, err := want.Related(ids, nil, n)
		require.NoError(t, err)
		res, err := got.Related(ids, nil, n)
		require.NoError(t, err)
		assert.Equal(t, strengths(exp), strengths(res), "%s: neighbours of everything", n)
	}
}

// strengths returns a neighbour list as a map, rounded so that sums that
// differ by rounding compare equal.
func strengths(nbs []Neighbor) map[string]float64 {
	out := make(map[string]float64, len(nbs))
	for _, nb := range nbs {
		out[nb.ID] = math.Round(nb.Strength*1e9) / 1e9
	}
	return out
}

// TestWithoutIsLearnOverTheOtherSequences proves that a table read without
// some of its sequences reads, pair by pair, what a table learned from the
// other sequences only reads: a product bought twice in the left-out
// sequence, a left-out sequence of one product, an empty ID, a product only
// the left-out sequences hold, the same sequence learned twice and left
// out once, and IDs the table never saw.
func TestWithoutIsLearnOverTheOtherSequences(t *testing.T) {
	tests := []struct {
		name string
		seqs [][]string
		// out are the indexes of the sequences left out.
		out []int
	}{
		{"a product bought twice", [][]string{{"a", "b", "a", "c"}, {"b", "c"}, {"c", "d", "a"}}, []int{0}},
		{"a sequence of one", [][]string{{"a"}, {"a", "b"}, {"b", "c", "a"}}, []int{0}},
		{"an empty ID", [][]string{{"a", "", "b", "c"}, {"a", "b"}, {"c", "b"}}, []int{0}},
		{"a product only the left-out hold", [][]string{{"x", "a", "b"}, {"a", "b", "c"}, {"c", "d"}}, []int{0}},
		{"the same sequence twice", [][]string{{"a", "b", "c"}, {"a", "b", "c"}, {"c", "d"}}, []int{1}},
		{"two left out holding one product", [][]string{{"a", "b"}, {"b", "c", "a"}, {"a", "d", "b"}, {"d", "c"}}, []int{0, 2}},
		{"all left out", [][]string{{"a", "b"}, {"b", "c"}}, []int{0, 1}},
		{"none left out", [][]string{{"a", "b"}, {"b", "c"}}, nil},
		{"a longer history", [][]string{{"a", "b", "c", "d", "e", "a", "f"}, {"f", "a", "b"}, {"e", "d"}, {"a"}}, []int{0, 3}},
	}
	for _, opts := range []Options{{Window: 1}, {Window: 2, Decay: 1}, {Window: -1}, {Window: 3, Decay: 0.5}} {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s/window %d decay %v", tt.name, opts.Window, opts.Decay), func(t *testing.T) {
				var left, gone [][]string
				for i, s := range tt.seqs {
					if slices.Contains(tt.out, i) {
						gone = append(gone, s)
					} else {
						left = append(left, s)
					}
				}
				want := Learn(left, opts).Without()
				got := Learn(tt.seqs, opts).Without(gone...)
				assertViewsAgree(t, want, got, idsOf(tt.seqs))
			})
		}
	}
	// A product only the left-out sequence holds is unknown to the view's
	// strengths: no neighbours, no holders.
	v := Learn([][]string{{"x", "a"}, {"a", "b"}}, Options{Window: 1}).Without([]string{"x", "a"})
	assert.Zero(t, v.Holders("x"))
	got, err := v.Related([]string{"x"}, nil, NormIDF)
	require.NoError(t, err)
	assert.Empty(t, got)
}

// bruteRelated is Related computed by its definition: for each product,
// the sum over from of weight times strength, strongest first, equal
// strengths in ID order.
func bruteRelated(v View, ids, from []string, weights []float64, n Normalization) []Neighbor {
	var out []Neighbor
	for _, to := range ids {
		var s float64
		for i, f := range from {
			w := 1.0
			if weights != nil {
				w = weights[i]
			}
			s += w * v.Strength(f, to, n)
		}
		if s > 0 {
			out = append(out, Neighbor{ID: to, Strength: s})
		}
	}
	slices.SortFunc(out, func(a, b Neighbor) int {
		if c := cmp.Compare(b.Strength, a.Strength); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out
}

// TestStrongestIsRelatedCut proves that Strongest returns the k first
// products of Related that keep accepts, in Related's order, for every k
// (0, fewer than there are, exactly as many, more, all), that keep removes
// only what it refuses, and that Related is the brute-force ranking.
func TestStrongestIsRelatedCut(t *testing.T) {
	seqs := [][]string{
		{"a", "b", "c", "a"}, {"b", "c", "d"}, {"c", "e", "f", "a"}, {"f", "g"}, {"a", "g", "b"}, {"h"},
	}
	tb := Learn(seqs, Options{Window: 2, Decay: 1})
	ids := idsOf(seqs)
	views := map[string]View{"table": tb.Without(), "without a shopper": tb.Without(seqs[0])}
	froms := []struct {
		from    []string
		weights []float64
	}{
		{[]string{"a"}, nil},
		{[]string{"a", "c"}, nil},
		{[]string{"a", "c", "a"}, nil},
		{[]string{"b", "unknown", "g"}, []float64{2, 5, 0.5}},
		{[]string{"h"}, nil},
		{[]string{"a", "f"}, []float64{0, 1}},
	}
	keeps := map[string]func(string) bool{
		"all":       nil,
		"not c":     func(id string) bool { return id != "c" },
		"none":      func(string) bool { return false },
		"only a, g": func(id string) bool { return id == "a" || id == "g" },
	}
	for vname, v := range views {
		for _, f := range froms {
			for _, n := range Normalizations() {
				all, err := v.Related(f.from, f.weights, n)
				require.NoError(t, err)
				brute := bruteRelated(v, ids, f.from, f.weights, n)
				require.Len(t, all, len(brute), "%s %v %s", vname, f.from, n)
				for i := range all {
					assert.Equal(t, brute[i].ID, all[i].ID, "%s %v %s: rank %d", vname, f.from, n, i)
					assert.InDelta(t, brute[i].Strength, all[i].Strength, 1e-12)
				}
				for kname, keep := range keeps {
					var kept []Neighbor
					for _, nb := range all {
						if keep == nil || keep(nb.ID) {
							kept = append(kept, nb)
						}
					}
					for _, k := range []int{-1, 0, 1, 2, len(kept), len(kept) + 1, 100} {
						got, err := v.Strongest(f.from, f.weights, n, k, keep)
						require.NoError(t, err)
						want := kept
						if k >= 0 && k < len(want) {
							want = want[:k]
						}
						if len(want) == 0 {
							assert.Empty(t, got, "%s %v %s keep %s k %d", vname, f.from, n, kname, k)
							continue
						}
						assert.Equal(t, want, got, "%s %v %s keep %s k %d", vname, f.from, n, kname, k)
					}
				}
			}
		}
	}
	// Errors come before k: a bad weight fails even when nothing is asked.
	_, err := tb.Without().Strongest([]string{"a"}, []float64{1, 2}, NormRaw, 0, nil)
	assert.Error(t, err)
	_, err = tb.Without().Strongest([]string{"a"}, []float64{math.NaN()}, NormRaw, 3, nil)
	assert.Error(t, err)
}

// TestStrongestTiesAreByID proves that among equal strengths the lower ID
// wins a place in a cut list, whatever the order the products were reached
// in.
func TestStrongestTiesAreByID(t *testing.T) {
	// a co-occurs once with each of e, d, c, b, reached in that order.
	tb := Learn([][]string{{"e", "a"}, {"d", "a"}, {"c", "a"}, {"b", "a"}}, Options{Window: 1})
	for k, want := range map[int][]string{1: {"b"}, 2: {"b", "c"}, 3: {"b", "c", "d"}} {
		got, err := tb.Without().Strongest([]string{"a"}, nil, NormRaw, k, nil)
		require.NoError(t, err)
		gotIDs := make([]string, len(got))
		for i, nb := range got {
			gotIDs[i] = nb.ID
		}
		assert.Equal(t, want, gotIDs, "k %d", k)
	}
}

// bruteTwoSteps is TwoSteps by its definition: Σ over f of from and over
// every product n of P(n | f)·P(t | n), each a conditional strength.
func bruteTwoSteps(v View, ids, from, to []string) []float64 {
	out := make([]float64, len(to))
	for k, t := range to {
		for _, f := range from {
			for _, n := range ids {
				out[k] += v.Strength(f, n, NormConditional) * v.Strength(n, t, NormConditional)
			}
		}
	}
	return out
}

// TestTwoStepsIsTheWalk proves that TwoSteps is the two-step walk computed
// by brute force over every intermediate product, on the table and on a
// view without a shopper, with repeated and unknown products, and that a
// call leaves nothing behind for the next.
func TestTwoStepsIsTheWalk(t *testing.T) {
	seqs := [][]string{
		{"a", "b", "c"}, {"b", "d"}, {"c", "d", "e", "c"}, {"e", "f"}, {"a", "f", "g"}, {"h"},
	}
	ids := idsOf(seqs)
	for _, opts := range []Options{{Window: 1}, {Window: -1, Decay: 1}} {
		tb := Learn(seqs, opts)
		for vname, v := range map[string]View{"table": tb.Without(), "without a shopper": tb.Without(seqs[2])} {
			for _, from := range [][]string{{"a"}, {"a", "d"}, {"a", "a"}, {"unknown", "e"}, {"h"}, nil} {
				want := bruteTwoSteps(v, ids, from, ids)
				got := v.TwoSteps(from, ids)
				require.Len(t, got, len(ids))
				for i := range ids {
					assert.InDelta(t, want[i], got[i], 1e-12, "%s %v: %v → %s", vname, opts, from, ids[i])
				}
				assert.Equal(t, got, v.TwoSteps(from, ids), "the same again")
			}
		}
		// The walk from a reaches d (a–b–d) that a was never bought with.
		assert.Zero(t, tb.Weight("a", "d"))
		assert.Greater(t, tb.Without().TwoSteps([]string{"a"}, []string{"d"})[0], 0.0)
		// b reaches e only through c and d, with the shopper of c–d–e: a
		// view without that shopper does not.
		assert.Greater(t, tb.Without().TwoSteps([]string{"b"}, []string{"e"})[0], 0.0)
		assert.Zero(t, tb.Without(seqs[2]).TwoSteps([]string{"b"}, []string{"e"})[0])
	}
	var zero View
	assert.Equal(t, []float64{0, 0}, zero.TwoSteps([]string{"a"}, []string{"a", "b"}))
}
