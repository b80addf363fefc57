package retrieval

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// The random records of the tests inside the package, which cannot import
// indextest (it imports retrieval) and so make their own, the way
// indextest.RandomRecord does. The tests that compare the index with
// indextest's brute-force reference are in package retrieval_test.

var (
	testBrands     = []string{"acme", "summit", "trailhead", "north", "vale"}
	testCategories = []string{
		"Clothing > Shoes > Boots",
		"Clothing > Shoes > Sandals",
		"Clothing > Jackets",
		"Outdoor > Tents",
	}
)

func randomVector(rng *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	for i := range v {
		v[i] = rng.Float32()*2 - 1
	}
	return v
}

func randomRecord(rng *rand.Rand, id string, dim int) Record {
	meta := map[string]string{
		"brand":    testBrands[rng.IntN(len(testBrands))],
		"category": testCategories[rng.IntN(len(testCategories))],
	}
	if rng.IntN(10) == 0 {
		meta = nil
	}
	return Record{ID: id, Vector: randomVector(rng, dim), Metadata: meta}
}

// overlap counts the hits of want that got has too.
func overlap(want, got []Hit) int {
	ids := map[string]bool{}
	for _, h := range got {
		ids[h.ID] = true
	}
	n := 0
	for _, h := range want {
		if ids[h.ID] {
			n++
		}
	}
	return n
}

func testID(i int) string { return fmt.Sprintf("p%05d", i) }

// requireConsistent checks the invariants tying the matrix, the slot
// arrays and the ID map together.
func requireConsistent(t *testing.T, e *Embedded) {
	t.Helper()
	e.mu.RLock()
	defer e.mu.RUnlock()
	n := len(e.ids)
	require.Len(t, e.matrix, n*e.dim)
	require.Len(t, e.meta, n)
	require.Len(t, e.slots, n)
	if e.stride > 0 {
		require.Len(t, e.codes, (n+codeBlockRows-1)/codeBlockRows*blockBytes(e.dim))
	} else {
		require.Empty(t, e.codes)
	}
	for slot, id := range e.ids {
		require.Equal(t, slot, e.slots[id], "slot of %q", id)
	}
	if e.stride == 0 {
		require.Empty(t, e.scales)
		return
	}
	// Every row's codes are the quantization of its vector.
	require.Len(t, e.scales, n)
	codes := make([]int8, e.stride)
	for slot, id := range e.ids {
		scale := quantizeVector(codes, e.row(slot))
		require.Equal(t, codes, e.rowCodes(nil, slot), "codes of %q", id)
		require.Equal(t, scale, e.scales[slot], "scale of %q", id)
		require.LessOrEqual(t, scale, e.maxScale, "scale of %q", id)
	}
	// The padding rows of the last block are zero.
	for slot := n; slot%codeBlockRows != 0; slot++ {
		require.Equal(t, make([]int8, e.stride), e.rowCodes(nil, slot), "padding row %d", slot)
	}
}
