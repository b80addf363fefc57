package indextest

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/retrieval"
)

// reference is a brute-force index that scores in float64 from the vectors
// as given, against which an implementation's searches are checked.
type reference struct {
	metric  retrieval.Metric
	records map[string]retrieval.Record
}

func newReference(metric retrieval.Metric) *reference {
	return &reference{metric: metric, records: map[string]retrieval.Record{}}
}

func (r *reference) upsert(recs ...retrieval.Record) {
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
	if r.metric == retrieval.Cosine {
		return dot / math.Sqrt(na*nb)
	}
	return dot
}

// ranked returns every record that passes f, best first, and every
// record's score, the latter for judging near-ties.
func (r *reference) ranked(q []float32, f retrieval.Filter) ([]retrieval.Hit, map[string]float64) {
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

// scoreTolerance is the float32 error allowed against the float64
// reference; inner products grow with the vectors, so their allowance does.
func scoreTolerance(s float64) float64 {
	return 1e-5 * max(1, math.Abs(s))
}

// requireSameHits checks got against the reference's want: same length,
// same scores within tolerance, and the same IDs except where two records
// score within tolerance of each other, where float32 rounding may
// legitimately swap them.
func requireSameHits(t *testing.T, want []retrieval.Hit, all map[string]float64, got []retrieval.Hit, msg string) {
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
