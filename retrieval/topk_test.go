package retrieval

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestTopKMatchesSort feeds random scores, with many exact ties, through the
// heap and compares the result with a full sort.
func TestTopKMatchesSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 2, 5, 100, 1000} {
		for _, k := range []int{1, 2, 3, 10, 999, 5000} {
			t.Run(fmt.Sprintf("n=%d/k=%d", n, k), func(t *testing.T) {
				ids := make([]string, n)
				scores := make([]float32, n)
				for i := range ids {
					ids[i] = fmt.Sprintf("id-%04d", rng.IntN(10_000))
					ids[i] += fmt.Sprint(i) // unique
					scores[i] = float32(rng.IntN(20)) / 4
				}
				var top topK
				top.reset(ids, min(k, n))
				for slot, s := range scores {
					c := candidate{score: s, slot: slot}
					if top.admits(c) {
						top.add(c)
					}
				}
				got := top.drain(make([]Hit, len(top.items)))
				assert.Empty(t, top.items)

				want := make([]Hit, n)
				for i := range want {
					want[i] = Hit{ID: ids[i], Score: scores[i]}
				}
				slices.SortFunc(want, func(a, b Hit) int {
					if c := cmp.Compare(b.Score, a.Score); c != 0 {
						return c
					}
					return cmp.Compare(a.ID, b.ID)
				})
				assert.Equal(t, want[:min(k, n)], got)
			})
		}
	}
}

func TestTopKResetReusesBuffer(t *testing.T) {
	var top topK
	top.reset([]string{"a", "b"}, 2)
	top.add(candidate{score: 1, slot: 0})
	buf := top.items[:cap(top.items)]
	top.reset([]string{"a", "b"}, 1)
	assert.Empty(t, top.items)
	assert.Same(t, &buf[0], &top.items[:1][0])
}
