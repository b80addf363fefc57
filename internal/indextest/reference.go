package indextest

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/retrieval"
)

// Reference is a brute-force index that scores in float64 from the vectors
// as given: the ground truth an implementation's searches are checked
// against, by Run and by the tests of the implementations themselves.
type Reference struct {
	metric  retrieval.Metric
	records map[string]retrieval.Record
}

// NewReference returns an empty reference scoring with metric.
func NewReference(metric retrieval.Metric) *Reference {
	return &Reference{metric: metric, records: map[string]retrieval.Record{}}
}

// Upsert adds the records, replacing those with the same IDs.
func (r *Reference) Upsert(recs ...retrieval.Record) {
	for _, rec := range recs {
		r.records[rec.ID] = rec
	}
}

// Delete removes the records with these IDs; unknown IDs are ignored.
func (r *Reference) Delete(ids ...string) {
	for _, id := range ids {
		delete(r.records, id)
	}
}

// Len returns the number of records.
func (r *Reference) Len() int { return len(r.records) }

// Get returns the record with this ID, and whether there is one.
func (r *Reference) Get(id string) (retrieval.Record, bool) {
	rec, ok := r.records[id]
	return rec, ok
}

// IDs returns the records' IDs in ascending order.
func (r *Reference) IDs() []string {
	return slices.Sorted(maps.Keys(r.records))
}

func (r *Reference) score(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	if r.metric == retrieval.Cosine {
		return dot / math.Sqrt(na*nb)
	}
	return dot
}

// Ranked returns every record that passes f, best first (equal float32
// scores in ascending ID order), and every record's score whether it passes
// or not, the latter for judging near-ties with RequireSameHits.
func (r *Reference) Ranked(q []float32, f retrieval.Filter) ([]retrieval.Hit, map[string]float64) {
	all := make(map[string]float64, len(r.records))
	var hits []retrieval.Hit
	for id, rec := range r.records {
		s := r.score(rec.Vector, q)
		all[id] = s
		if f.Match(rec.Metadata) {
			hits = append(hits, retrieval.Hit{ID: id, Score: float32(s)})
		}
	}
	slices.SortFunc(hits, func(a, b retrieval.Hit) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return hits, all
}

// ScoreTolerance is the error allowed a float32 score s against the float64
// reference; inner products grow with the vectors, so their allowance does.
func ScoreTolerance(s float64) float64 {
	return 1e-5 * max(1, math.Abs(s))
}

// RequireSameHits checks got against want, the Reference's Ranked hits cut
// at k, and all, its scores: the same length, the same scores within
// ScoreTolerance, and the same IDs except where two records score within
// tolerance of each other, where float32 rounding may legitimately swap
// them. msg says which search failed.
func RequireSameHits(t *testing.T, want []retrieval.Hit, all map[string]float64, got []retrieval.Hit, msg string) {
	t.Helper()
	require.Len(t, got, len(want), msg)
	seen := map[string]bool{}
	for i := range want {
		require.False(t, seen[got[i].ID], "%s: %q returned twice", msg, got[i].ID)
		seen[got[i].ID] = true
		tol := ScoreTolerance(float64(want[i].Score))
		require.InDelta(t, want[i].Score, got[i].Score, tol, "%s: score at rank %d", msg, i)
		if got[i].ID != want[i].ID {
			ref, ok := all[got[i].ID]
			require.True(t, ok, "%s: unknown id %q", msg, got[i].ID)
			require.InDelta(t, float64(want[i].Score), ref, 2*tol,
				"%s: rank %d is %q, want %q", msg, i, got[i].ID, want[i].ID)
		}
	}
}

// handScoreTolerance is how far a score may be from one worked out by hand:
// a few float32 ulps of 1, which SIMD kernels of different summation order
// may differ by, and still enough to tell 0.6 from 0.61.
const handScoreTolerance = 1e-6

// assertHits checks that got holds exactly want's IDs in want's order, with
// every score within handScoreTolerance of want's.
func assertHits(t *testing.T, want, got []retrieval.Hit) {
	t.Helper()
	if !assert.Equal(t, HitIDs(want), HitIDs(got)) {
		return
	}
	for i := range want {
		assert.InDelta(t, want[i].Score, got[i].Score, handScoreTolerance, "score of %q", want[i].ID)
	}
}

// Brands and Categories are the metadata values of RandomRecord.
var (
	Brands     = []string{"acme", "summit", "trailhead", "north", "vale"}
	Categories = []string{
		"Clothing > Shoes > Boots",
		"Clothing > Shoes > Sandals",
		"Clothing > Jackets",
		"Outdoor > Tents",
	}
)

// RandomVector returns a vector of dim components uniform in [-1, 1).
func RandomVector(rng *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	for i := range v {
		v[i] = rng.Float32()*2 - 1
	}
	return v
}

// RandomRecord returns a record with a RandomVector, a brand and a
// category, or one time in ten no metadata.
func RandomRecord(rng *rand.Rand, id string, dim int) retrieval.Record {
	meta := map[string]string{
		"brand":    Brands[rng.IntN(len(Brands))],
		"category": Categories[rng.IntN(len(Categories))],
	}
	if rng.IntN(10) == 0 {
		meta = nil
	}
	return retrieval.Record{ID: id, Vector: RandomVector(rng, dim), Metadata: meta}
}

// ID returns the i-th test ID; IDs sort as their numbers do.
func ID(i int) string { return fmt.Sprintf("p%05d", i) }

// HitIDs returns the IDs of hits, in order.
func HitIDs(hits []retrieval.Hit) []string {
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = h.ID
	}
	return ids
}
