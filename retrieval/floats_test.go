package retrieval

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

// handScoreTolerance is how far a score from a search or a filter may be from
// the value worked out by hand in these tests. The scores are float32 dot
// products of a few components of unit scale, computed by SIMD kernels
// whose summation order and rounding depend on the processor and the
// architecture, so they are exact only up to a few float32 ulps of 1
// (about 1.2e-7 each); 1e-6 allows that and still tells 0.6 from 0.61.
const handScoreTolerance = 1e-6

// assertHits checks that got holds exactly want's IDs in want's order and
// that every score is within handScoreTolerance of want's: the order is what the
// index promises bit for bit (ties broken by ID), the scores only up to
// rounding.
func assertHits(t *testing.T, want, got []Hit, msgAndArgs ...any) bool {
	t.Helper()
	if !assert.Equal(t, hitIDs(want), hitIDs(got), msgAndArgs...) {
		return false
	}
	ok := true
	for i := range want {
		ok = assert.InDelta(t, want[i].Score, got[i].Score, handScoreTolerance,
			"score of %q %s", want[i].ID, message(msgAndArgs)) && ok
	}
	return ok
}

// assertKept is assertHits for a HistoryFilter's result: indexes and IDs
// exactly, scores within handScoreTolerance.
func assertKept(t *testing.T, want, got []HistoryHit, msgAndArgs ...any) bool {
	t.Helper()
	key := func(items []HistoryHit) []HistoryHit {
		out := make([]HistoryHit, len(items))
		for i, it := range items {
			out[i] = HistoryHit{Index: it.Index, ID: it.ID}
		}
		return out
	}
	if !assert.Equal(t, key(want), key(got), msgAndArgs...) {
		return false
	}
	ok := true
	for i := range want {
		ok = assert.InDelta(t, want[i].Score, got[i].Score, handScoreTolerance,
			"score of %q %s", want[i].ID, message(msgAndArgs)) && ok
	}
	return ok
}

// message formats testify-style msgAndArgs (a format and its arguments).
func message(msgAndArgs []any) string {
	if len(msgAndArgs) == 0 {
		return ""
	}
	if format, ok := msgAndArgs[0].(string); ok {
		return fmt.Sprintf(format, msgAndArgs[1:]...)
	}
	return fmt.Sprint(msgAndArgs...)
}
