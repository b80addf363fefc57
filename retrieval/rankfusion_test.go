package retrieval

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRankFusion(t *testing.T) {
	hits := func(ids ...string) []Hit {
		out := make([]Hit, len(ids))
		for i, id := range ids {
			out[i] = Hit{ID: id, Score: float32(len(ids) - i)}
		}
		return out
	}
	list := func(ids ...string) RankedList { return RankedList{Hits: hits(ids...)} }
	tests := []struct {
		name  string
		lists []RankedList
		n     int
		want  []string
	}{
		{"no lists", nil, 5, []string{}},
		{"both empty", []RankedList{list(), list()}, 5, []string{}},
		{"one list keeps its order", []RankedList{list("c", "a", "b"), list()}, 5, []string{"c", "a", "b"}},
		{"the other list too", []RankedList{list(), list("c", "a", "b")}, 2, []string{"c", "a"}},
		// a = 1/61 + 1/63, b = 1/62 + 1/61, c = 1/63 + 1/62: b > a > c.
		{"in both lists", []RankedList{list("a", "b", "c"), list("b", "c", "a")}, 5, []string{"b", "a", "c"}},
		// x is first in one list only: 1/61; y is second in both: 2/62.
		{"agreement beats one first place", []RankedList{list("x", "y"), list("z", "y")}, 5, []string{"y", "x", "z"}},
		{"exact ties by ID", []RankedList{list("b"), list("a")}, 5, []string{"a", "b"}},
		{"cut at n", []RankedList{list("a", "b", "c"), list("d", "e", "f")}, 2, []string{"a", "d"}},
		// z: 3/61 against x: 1/61 + 1/62.
		{"a weight counts", []RankedList{list("x", "y"), list("x"), {Hits: hits("z"), Weight: 3}}, 5, []string{"z", "x", "y"}},
		{"three lists", []RankedList{list("a", "b"), list("b", "a"), list("b", "c")}, 5, []string{"b", "a", "c"}},
		// A repeat in one list does not add to the first place.
		{"repeated ID counts once", []RankedList{list("a", "b", "a"), list("b")}, 5, []string{"b", "a"}},
		{"negative n", []RankedList{list("a")}, -1, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RankFusion{}.Fuse(tt.n, tt.lists...)
			require.NoError(t, err)
			assert.Equal(t, tt.want, hitIDs(got))
		})
	}
}

func TestRankFusionScores(t *testing.T) {
	got, err := RankFusion{K: 1}.Fuse(3, RankedList{Hits: []Hit{{ID: "a"}, {ID: "b"}}}, RankedList{Hits: []Hit{{ID: "b"}}, Weight: 2})
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, Hit{ID: "b", Score: float32(1.0/3 + 2.0/2)}, got[0])
	assert.Equal(t, Hit{ID: "a", Score: float32(1.0 / 2)}, got[1])
}

func TestRankFusionRejects(t *testing.T) {
	one := RankedList{Hits: []Hit{{ID: "a"}}}
	for name, tt := range map[string]struct {
		f RankFusion
		l RankedList
	}{
		"negative K":      {RankFusion{K: -1}, one},
		"negative weight": {RankFusion{}, RankedList{Hits: one.Hits, Weight: -1}},
		"NaN weight":      {RankFusion{}, RankedList{Hits: one.Hits, Weight: math.NaN()}},
		"infinite weight": {RankFusion{}, RankedList{Hits: one.Hits, Weight: math.Inf(1)}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := tt.f.Fuse(5, one, tt.l)
			assert.ErrorIs(t, err, ErrInvalidFusion)
		})
	}
}
