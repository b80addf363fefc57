package retrieval

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// reference is a brute-force index that scores in float64 from the vectors
// as given, against which Embedded is checked.
type reference struct {
	metric  Metric
	records map[string]Record
}

func newReference(metric Metric) *reference {
	return &reference{metric: metric, records: map[string]Record{}}
}

func (r *reference) upsert(recs ...Record) {
	for _, rec := range recs {
		r.records[rec.ID] = rec
	}
}

func (r *reference) delete(ids ...string) {
	for _, id := range ids {
		delete(r.records, id)
	}
}

func (r *reference) score(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	if r.metric == Cosine {
		return dot / math.Sqrt(na*nb)
	}
	return dot
}

// ranked returns every record that passes f, best first, and every
// record's score, the latter for judging near-ties.
func (r *reference) ranked(q []float32, f Filter) ([]Hit, map[string]float64) {
	all := make(map[string]float64, len(r.records))
	var hits []Hit
	for id, rec := range r.records {
		s := r.score(rec.Vector, q)
		all[id] = s
		if f.Match(rec.Metadata) {
			hits = append(hits, Hit{ID: id, Score: float32(s)})
		}
	}
	slices.SortFunc(hits, func(a, b Hit) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return hits, all
}

// scoreTolerance is the float32 error allowed against the float64
// reference; inner products grow with the vectors, so their allowance does.
func scoreTolerance(s float64) float64 {
	return 1e-5 * max(1, math.Abs(s))
}

// requireSameHits checks got against the reference's want: same length,
// same scores within tolerance, and the same IDs except where two records
// score within tolerance of each other, where float32 rounding may
// legitimately swap them.
func requireSameHits(t *testing.T, want []Hit, all map[string]float64, got []Hit, msg string) {
	t.Helper()
	require.Len(t, got, len(want), msg)
	seen := map[string]bool{}
	for i := range want {
		require.False(t, seen[got[i].ID], "%s: %q returned twice", msg, got[i].ID)
		seen[got[i].ID] = true
		tol := scoreTolerance(float64(want[i].Score))
		require.InDelta(t, want[i].Score, got[i].Score, tol, "%s: score at rank %d", msg, i)
		if got[i].ID != want[i].ID {
			ref, ok := all[got[i].ID]
			require.True(t, ok, "%s: unknown id %q", msg, got[i].ID)
			require.InDelta(t, float64(want[i].Score), ref, 2*tol,
				"%s: rank %d is %q, want %q", msg, i, got[i].ID, want[i].ID)
		}
	}
}

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
	require.Len(t, e.codes, n*e.stride)
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
		require.Equal(t, codes, e.codeRow(slot), "codes of %q", id)
		require.Equal(t, scale, e.scales[slot], "scale of %q", id)
	}
}
